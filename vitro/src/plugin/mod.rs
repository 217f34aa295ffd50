//! Plugin processes: finding them, starting them, talking to them, and stopping them.

pub mod discover;
mod events;
mod process;
pub mod reaper;
pub mod spawn;
pub mod stderr;
mod supervise;

use std::path::Path;

pub use events::{EventSink, PluginEvent};
pub use process::{ExitInfo, PluginOptions, PluginProcess};

/// How to start one plugin: any command line (so `ssh HOST VITRO_PLUGIN=1 vitro-plugin-x` runs
/// one on another machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginCommand {
    /// Name the host knows it by until the handshake tells its own.
    pub name: String,
    /// Program to run.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

impl PluginCommand {
    /// A plugin executable found on PATH or given by path; named after `vitro-plugin-<name>`.
    pub fn executable(path: &Path) -> Self {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("plugin");
        let name = file.strip_prefix(discover::PREFIX).unwrap_or(file);
        Self { name: name.to_owned(), program: path.display().to_string(), args: Vec::new() }
    }

    /// Whether the name comes from a `vitro-plugin-NAME` file among the command's words.
    pub fn names_its_file(&self) -> bool {
        let file = format!("{}{}", discover::PREFIX, self.name);
        std::iter::once(&self.program)
            .chain(&self.args)
            .any(|w| Path::new(w).file_name().and_then(|f| f.to_str()) == Some(file.as_str()))
    }

    /// Parses a shell-style command line (`ssh -p 2222 host VITRO_PLUGIN=1 vitro-plugin-x`).
    pub fn parse(line: &str) -> Result<Self, String> {
        let words =
            shlex::split(line).ok_or_else(|| format!("unbalanced quotes in plugin command `{line}`"))?;
        let (program, args) = words.split_first().ok_or_else(|| "empty plugin command".to_owned())?;
        let last = words.iter().rev().find(|w| w.contains(discover::PREFIX)).unwrap_or(program);
        let file = Path::new(last).file_name().and_then(|f| f.to_str()).unwrap_or(last);
        let name = file.strip_prefix(discover::PREFIX).unwrap_or(file);
        Ok(Self { name: name.to_owned(), program: program.clone(), args: args.to_vec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_named_after_their_plugin_executable() {
        let c = PluginCommand::parse("ssh -p 2222 'root@127.0.0.1' VITRO_PLUGIN=1 /opt/vitro-plugin-linux")
            .unwrap();
        assert_eq!(c.name, "linux");
        assert_eq!(c.program, "ssh");
        assert_eq!(c.args.last().unwrap(), "/opt/vitro-plugin-linux");
        assert_eq!(PluginCommand::executable(Path::new("/bin/vitro-plugin-x")).name, "x");
        assert!(PluginCommand::parse("  ").is_err());
        assert!(PluginCommand::parse("a 'b").is_err());
    }
}
