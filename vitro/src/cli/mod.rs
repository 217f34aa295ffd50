//! The command line: `run` maps the parsed arguments onto the library and says how `vitro` ends.
//!
//! `vitro [run flags]` deploys a test bed; `vitro config` prints the merged device list;
//! `vitro plugins list|check` shows or checks the plugins; `vitro report` renders a JSON report as
//! HTML; `vitro templates list|show|check`
//! shows the device templates and checks a held bed against them. Plugins may add run flags (declared
//! in their handshake): for a run or `--help`, the plugins are started first and their flags
//! join the command line before it is parsed.

mod args;
mod config;
mod deploy;
pub mod external;
mod hold;
mod plugin_flags;
mod plugins;
mod report;
mod templates;

use std::process::ExitCode;

use clap::CommandFactory;
use tokio_util::sync::CancellationToken;
use vitro_protocol::names::printable_lines;

pub use args::{
    CheckArgs, Cli, Command, ConfigArgs, Format, ListArgs, PluginSource, PluginsCommand, RunArgs, RunCommand,
    SessionArg, TemplatesCommand,
};

/// Exit status for failures (a plugin or the deployment failed).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit status after SIGINT.
pub const EXIT_SIGINT: u8 = 130;
/// Exit status after SIGTERM.
pub const EXIT_SIGTERM: u8 = 143;

/// Why `vitro` stops short: what it prints, and the exit status that goes with it.
#[derive(Debug)]
pub enum Error {
    /// Bad usage (exit 2).
    Usage(String),
    /// clap's own answer: a usage error (exit 2), or `--help` / `--version` (exit 0).
    Clap(clap::Error),
    /// The command failed (exit 1).
    Failed(String),
}

impl Error {
    /// Prints the error once and returns the exit status it stands for.
    pub fn report(self) -> ExitCode {
        match self {
            Error::Usage(message) => {
                eprintln!("error: {}", printable_lines(&message));
                ExitCode::from(EXIT_USAGE)
            }
            Error::Clap(e) => {
                let _ = e.print();
                ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 })
            }
            Error::Failed(message) => {
                eprintln!("error: {}", printable_lines(&message));
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

impl From<clap::Error> for Error {
    fn from(e: clap::Error) -> Self {
        Error::Clap(e)
    }
}

/// Runs `vitro` with `argv`; `cancel` fires on SIGINT/SIGTERM.
pub async fn run(argv: Vec<String>, cancel: CancellationToken) -> Result<ExitCode, Error> {
    if !args::wants_plugins(&argv) {
        let (cli, _) = args::parse(Cli::command(), &argv)?;
        return match cli.command {
            Some(Command::Config(args)) => tokio::select! {
                result = config::print_config(&args) => result,
                () = cancel.cancelled() => Ok(ExitCode::from(EXIT_FAILURE)),
            },
            Some(Command::Plugins(PluginsCommand::List(args))) => plugins::list(&args, &cancel).await,
            Some(Command::Plugins(PluginsCommand::Check(args))) => plugins::check_plugin(&args).await,
            Some(Command::Templates(command)) => tokio::select! {
                result = templates::run(command) => result,
                () = cancel.cancelled() => Ok(ExitCode::from(EXIT_FAILURE)),
            },
            Some(Command::Completions { shell }) => {
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "vitro", &mut script);
                print_all(&script)
            }
            Some(Command::Man) => {
                let mut page = Vec::new();
                clap_mangen::Man::new(Cli::command())
                    .render(&mut page)
                    .map_err(|e| Error::Failed(format!("cannot render the manual page: {e}")))?;
                print_all(&page)
            }
            Some(Command::Report { input, output }) => report::render(&input, output.as_deref()),
            Some(Command::Run(_)) | None => Err(Error::Usage("nothing to do; see vitro --help".into())),
        };
    }
    deploy::deploy(argv, cancel).await
}

/// Writes generated text (a completion script, the manual page) to stdout.
fn print_all(bytes: &[u8]) -> Result<ExitCode, Error> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    // A reader that went away (`vitro man | head`) wants no more: no error.
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
    Ok(ExitCode::SUCCESS)
}

/// Prints one line on stdout. A reader that went away (`vitro config | head`) is no error: the
/// output is no longer wanted, so `vitro` exits quietly, with status 0, at the first failed write.
/// [`out`] for text that may quote a plugin, an inventory or the store: control characters and
/// format controls are escaped (JSON output needs no such care: its strings escape them).
fn say(text: &str) {
    out(&printable_lines(text));
}

fn out(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the output: {e}");
            std::process::exit(EXIT_FAILURE.into());
        }
        std::process::exit(0);
    }
}
