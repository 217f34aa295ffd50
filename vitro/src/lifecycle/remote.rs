//! Drivers on exporter hosts: a device whose config names `vitro_plugin_host` is created in a
//! second process of its plugin, started over OpenSSH on that host (one per host and plugin),
//! supervised like any plugin. Its devices' consoles are streamed back for the console logs.

use std::ops::Deref;

use serde_json::Value;
use vitro_protocol::files::PLUGIN_HOST_KEY;

use super::{Deployment, Failure};
use crate::plugin::{PluginCommand, PluginProcess};

/// A plugin of a deployment: one of those `vitro` started, or one it started on an exporter.
pub(super) enum Plugin<'a> {
    Local(&'a PluginProcess),
    /// Started on `host` for the devices there of the local plugin at index `local`; named
    /// `plugin@host`.
    Remote {
        process: Box<PluginProcess>,
        host: String,
        local: usize,
        name: String,
    },
}

impl Deref for Plugin<'_> {
    type Target = PluginProcess;

    fn deref(&self) -> &PluginProcess {
        match self {
            Self::Local(process) => process,
            Self::Remote { process, .. } => process,
        }
    }
}

impl Plugin<'_> {
    /// The plugin's name; `name@host` for one on an exporter.
    pub(super) fn name(&self) -> &str {
        match self {
            Self::Local(process) => &process.info().plugin.name,
            Self::Remote { name, .. } => name,
        }
    }

    /// Whether `vitro` started it on an exporter (it then gets device hooks only: plugin-level
    /// hooks go to the local process of the same plugin).
    pub(super) fn is_remote(&self) -> bool {
        matches!(self, Self::Remote { .. })
    }
}

impl Deployment<'_> {
    /// The index of the process of local plugin `local` on `host`, started (and checked to
    /// provide `type_name`) on first use.
    pub(super) async fn remote_plugin(
        &mut self,
        host: &str,
        local: usize,
        type_name: &str,
    ) -> Result<usize, Failure> {
        let found = self
            .plugins
            .iter()
            .position(|p| matches!(p, Plugin::Remote { host: h, local: l, .. } if h == host && *l == local));
        if let Some(index) = found {
            return Ok(index);
        }
        let local_name = self.plugins[local].info().plugin.name.clone();
        let command = command(host, &local_name).map_err(|e| Failure::new("registration", e))?;
        let name = command.name.clone();
        let shown =
            std::iter::once(&command.program).chain(&command.args).cloned().collect::<Vec<_>>().join(" ");
        self.progress.note(None, "registration", &format!("starting plugin {name}: {shown}"));
        let process = PluginProcess::start(
            command,
            self.registry.clone(),
            self.options.events.clone(),
            self.options.plugin_options.clone(),
        )
        .await
        .map_err(|e| Failure::new("registration", format!("cannot start plugin {name}: {}", e.chain())))?;
        if !process.info().device_types.iter().any(|t| t.type_name == type_name) {
            let types: Vec<&str> = process.info().device_types.iter().map(|t| t.type_name.as_str()).collect();
            return Err(Failure::new(
                "registration",
                format!(
                    "plugin {name} does not provide device type {type_name} (it provides: {}); install the same \
                     plugin on the exporter as here",
                    if types.is_empty() { "none".to_owned() } else { types.join(", ") }
                ),
            ));
        }
        self.plugins.push(Plugin::Remote { process: Box::new(process), host: host.to_owned(), local, name });
        Ok(self.plugins.len() - 1)
    }

    /// Stops the plugins started on exporters (the shutdown ladder, as for local ones).
    pub(super) async fn stop_remote(&mut self) {
        let stops = self.plugins.iter_mut().filter_map(|p| match p {
            Plugin::Remote { process, .. } => Some(process.shutdown()),
            Plugin::Local(_) => None,
        });
        futures_util::future::join_all(stops).await;
    }
}

/// The exporter a device's config names, if any; an error for a value that is not a non-empty
/// string, and for a bare host that ssh would read as an option (a `-oProxyCommand=...` would
/// run its command on this machine).
pub(super) fn host_of(config: &Value) -> Result<Option<String>, String> {
    match config.get(PLUGIN_HOST_KEY) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(host)) if host.trim().starts_with('-') => Err(format!(
            "{PLUGIN_HOST_KEY} {:?} starts with '-', which ssh would read as an option: give a host name \
             (\"exporter-1\", \"lab@exporter-1\") or a whole command prefix (\"ssh -p 2222 lab@exporter-1\")",
            vitro_protocol::names::printable(host.trim())
        )),
        Some(Value::String(host)) if !host.trim().is_empty() => Ok(Some(host.trim().to_owned())),
        Some(other) => Err(format!(
            "{PLUGIN_HOST_KEY} must be a host name (\"exporter-1\") or a command prefix (\"ssh -p 2222 lab@exporter-1\"), not {other}"
        )),
    }
}

/// The command that runs plugin `name` on `host`: `ssh -T -o BatchMode=yes -- HOST` for a bare
/// host, the prefix itself when it has words of its own; then `env VITRO_PLUGIN=1
/// vitro-plugin-NAME`.
pub(super) fn command(host: &str, name: &str) -> Result<PluginCommand, String> {
    let mut words = if host.split_whitespace().nth(1).is_some() {
        shlex::split(host).ok_or_else(|| format!("{PLUGIN_HOST_KEY} {host:?}: unbalanced quotes"))?
    } else {
        ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "--", host]
            .map(String::from)
            .to_vec()
    };
    words.extend([
        "env".to_owned(),
        format!("{}=1", vitro_protocol::env::PLUGIN),
        format!("vitro-plugin-{name}"),
    ]);
    let program = words.remove(0);
    Ok(PluginCommand { name: format!("{name}@{}", short_host(host)), program, args: words })
}

/// The host part of a prefix, for names: the last word with an `@` or that is no option.
fn short_host(host: &str) -> String {
    let words: Vec<&str> = host.split_whitespace().collect();
    let found =
        words.iter().rev().find(|w| w.contains('@')).or_else(|| words.last()).copied().unwrap_or(host);
    found.rsplit('@').next().unwrap_or(found).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bare_host_runs_the_plugin_over_ssh_and_a_prefix_is_used_as_given() {
        let cmd = command("exporter-1", "serialboard").unwrap();
        assert_eq!(cmd.name, "serialboard@exporter-1");
        assert_eq!(cmd.program, "ssh");
        assert_eq!(
            cmd.args,
            [
                "-T",
                "-o",
                "BatchMode=yes",
                "-o",
                "ServerAliveInterval=5",
                "--",
                "exporter-1",
                "env",
                "VITRO_PLUGIN=1",
                "vitro-plugin-serialboard"
            ]
        );
        let cmd = command("ssh -p 2222 -i 'my key' lab@10.0.0.5", "x").unwrap();
        assert_eq!(cmd.name, "x@10.0.0.5");
        assert_eq!(
            cmd.args,
            ["-p", "2222", "-i", "my key", "lab@10.0.0.5", "env", "VITRO_PLUGIN=1", "vitro-plugin-x"]
        );
        assert!(command("ssh 'open", "x").unwrap_err().contains("unbalanced quotes"));
    }

    #[test]
    fn a_bare_host_that_ssh_would_read_as_an_option_is_refused() {
        for host in ["-oProxyCommand=touch${IFS}pwned", " -F/dev/null"] {
            let error = host_of(&json!({"vitro_plugin_host": host})).unwrap_err();
            assert!(error.contains("starts with '-'") && error.contains("give a host name"), "{error}");
        }
    }

    #[test]
    fn the_host_key_must_be_a_string() {
        assert_eq!(host_of(&json!({"vitro_plugin_host": "e1"})).unwrap().as_deref(), Some("e1"));
        assert_eq!(host_of(&json!({})).unwrap(), None);
        assert!(host_of(&json!({"vitro_plugin_host": 3})).unwrap_err().contains("not 3"));
    }
}
