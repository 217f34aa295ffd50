//! The command line's clap types, its parser, and the raw look at argv that must come before
//! parsing (plugins are started first, because their flags join the command line).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

/// Sets up test beds through device-driver plugins.
///
/// Without a subcommand, deploys the board: reserve, register, boot, configure, then release.
#[derive(Debug, Parser)]
#[command(name = "vitro", version, about)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do instead of deploying.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Deployment flags (the same as Python Vitro's).
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy, run CMD with VITRO_SESSION set to the live session, release, exit with CMD's status.
    Run(RunCommand),
    /// Print the merged device list as JSON (the plugins on PATH, or given with --plugin, are
    /// asked which of their device types are LAN and Wi-Fi clients).
    Config(ConfigArgs),
    /// Work with plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Device templates: the shared contracts device types implement.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Print a completion script for a shell: `source <(vitro completions bash)`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `vitro man | man -l -`.
    Man,
    /// Render a JSON deployment report (`--report FILE.json`) as an HTML page.
    Report {
        /// The JSON report.
        #[arg(value_name = "FILE.json")]
        input: PathBuf,
        /// Write the page here (default: stdout).
        #[arg(short, long, value_name = "FILE.html")]
        output: Option<PathBuf>,
    },
}

/// Text for people, or JSON for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// The live session a command looks at.
#[derive(Debug, Clone, Args)]
pub struct SessionArg {
    /// The held bed's session socket (default: $VITRO_SESSION, set under `vitro run` and printed
    /// by `vitro --hold`).
    #[arg(long, value_name = "PATH")]
    pub session: Option<PathBuf>,
}

/// `vitro templates ...`
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// The templates vitro knows; on a held bed also which device implements which.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The held bed.
        #[command(flatten)]
        session: SessionArg,
    },
    /// One template's methods (NAME or NAME@MAJOR); on a held bed also its devices.
    Show {
        /// The template, e.g. `lan` or `lan@1`.
        #[arg(value_name = "NAME")]
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The held bed.
        #[command(flatten)]
        session: SessionArg,
    },
    /// On a held bed: call each side-effect-free template example on each device that declares
    /// the template and check every result against the template's schema.
    Check {
        /// Only this device.
        #[arg(long, value_name = "NAME")]
        device: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The held bed.
        #[command(flatten)]
        session: SessionArg,
    },
}

/// Where plugins come from.
#[derive(Debug, Clone, Args)]
pub struct PluginSource {
    /// Also run this plugin command line (repeatable), e.g. `ssh host VITRO_PLUGIN=1 vitro-plugin-x`.
    #[arg(long = "plugin", value_name = "COMMAND")]
    pub plugins: Vec<String>,
    /// Only the plugins given with --plugin, not those on PATH.
    #[arg(long)]
    pub no_path: bool,
    /// Seconds a plugin may take to answer `initialize`.
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_seconds)]
    pub handshake_timeout: Duration,
}

/// Flags of a deployment.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Board name: its key in the inventory.
    #[arg(long, value_name = "NAME")]
    pub board_name: Option<String>,
    /// Environment JSON (path or http(s) URL).
    #[arg(long, value_name = "FILE")]
    pub env_config: Option<String>,
    /// Inventory JSON (path or http(s) URL); not needed when a plugin reserves boards.
    #[arg(long, value_name = "FILE")]
    pub inventory_config: Option<String>,
    /// Use the devices as they are: run only their skip-boot hook.
    #[arg(long)]
    pub skip_boot: bool,
    /// Skip contingency checks while running tests.
    #[arg(long)]
    pub skip_contingency_checks: bool,
    /// Save console logs in this directory.
    #[arg(long, value_name = "DIR")]
    pub save_console_logs: Option<String>,
    /// Ignore these devices (comma-separated names).
    #[arg(long, value_name = "NAMES", default_value = "")]
    pub ignore_devices: String,
    /// Python Vitro's switch for `devices.<name>` in the shell; refused with an explanation,
    /// because `devices.<name>` always works here.
    #[arg(long, hide = true)]
    pub legacy: bool,
    /// Write what happened (devices and their hooks, plugins, phase durations, result, error) to
    /// this file: HTML for a name ending in `.html` or `.htm` (a page to look at), JSON otherwise.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// How progress is shown on stderr: a live board on a terminal (auto, the default, falls back
    /// to plain lines without a terminal, with NO_COLOR or TERM=dumb) or one line per event.
    #[arg(long, value_enum, value_name = "HOW", default_value_t)]
    pub progress: crate::progress::Mode,
    /// No progress and no duration table: only warnings, errors and the closing line.
    #[arg(short, long)]
    pub quiet: bool,
    /// Seconds each plugin-level hook (config parsing, env setup, post-setup, release) and each
    /// device creation may take [default: 300]. Reservation waits for a board as long as its
    /// plugin allows, unless this is given.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub plugin_hook_timeout: Option<Duration>,
    /// After setup, serve the live session (path printed, also as VITRO_SESSION) until SIGINT,
    /// SIGTERM or a client's `session/release`.
    #[arg(long)]
    pub hold: bool,
    /// Plugins.
    #[command(flatten)]
    pub source: PluginSource,
}

/// Arguments of `vitro run`.
#[derive(Debug, Args)]
pub struct RunCommand {
    /// Deployment flags.
    #[command(flatten)]
    pub run: RunArgs,
    /// The command to run against the live test bed, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Arguments of `vitro config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Board name: its key in the inventory.
    #[arg(long, value_name = "NAME")]
    pub board_name: String,
    /// Environment JSON (path or http(s) URL).
    #[arg(long, value_name = "FILE")]
    pub env_config: String,
    /// Inventory JSON (path or http(s) URL).
    #[arg(long, value_name = "FILE")]
    pub inventory_config: String,
    /// Print values whose keys look secret (`password`, `passphrase`, `token`, `key`...) instead
    /// of `********`.
    #[arg(long)]
    pub show_secrets: bool,
    /// Plugins, asked which of their device types are LAN and Wi-Fi clients (as a deployment does).
    #[command(flatten)]
    pub source: PluginSource,
}

/// `vitro plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Start every plugin, show what it provides, and stop it again.
    List(ListArgs),
    /// Run a plugin through the protocol conformance cases (nothing real is booted).
    Check(CheckArgs),
}

/// Arguments of `vitro plugins list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Plugins.
    #[command(flatten)]
    pub source: PluginSource,
}

/// Arguments of `vitro plugins check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plugin: an executable, or a whole command line (`python3 my_plugin.py`).
    #[arg(value_name = "EXECUTABLE")]
    pub plugin: String,
}

/// Whether `argv` asks for a deployment (or its help), which needs the plugins first.
pub(super) fn wants_plugins(argv: &[String]) -> bool {
    let words: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let subcommand = words.iter().find(|w| !w.starts_with('-')).copied();
    let is_subcommand = matches!(
        subcommand,
        Some("config" | "plugins" | "templates" | "completions" | "man" | "report" | "help")
    );
    // `vitro run -- CMD` deploys too. This looks at the first word that is not a flag, so a flag
    // value spelled `config` or `plugins` is misread; clap then reports the usage error.
    let version = words.iter().any(|w| *w == "--version" || *w == "-V");
    !is_subcommand && !version
}

/// A number of seconds from the command line, within `vitro_protocol::seconds`' limits.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let number: f64 = text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    vitro_protocol::seconds::seconds(number)
}

/// `--plugin` values and `--no-path` / `--handshake-timeout` from a raw argv.
pub(super) fn plugin_source(argv: &[String]) -> Result<PluginSource, String> {
    let mut source =
        PluginSource { plugins: Vec::new(), no_path: false, handshake_timeout: Duration::from_secs(10) };
    let mut words = argv.iter().skip(1);
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (word.as_str(), None),
        };
        match flag {
            "--plugin" => source.plugins.extend(inline.or_else(|| words.next().cloned())),
            "--handshake-timeout" => {
                let value = inline.or_else(|| words.next().cloned()).unwrap_or_default();
                source.handshake_timeout = parse_seconds(&value)
                    .map_err(|e| format!("invalid value for --handshake-timeout: {e}"))?;
            }
            "--no-path" => source.no_path = true,
            _ => {}
        }
    }
    Ok(source)
}

/// Parses `argv` with `command` (the CLI, perhaps with plugin flags). Global flags (`-v`) may
/// stand anywhere; deployment flags before a subcommand are refused, as they would be ignored.
pub(super) fn parse(mut command: clap::Command, argv: &[String]) -> Result<(Cli, ArgMatches), clap::Error> {
    let matches = command.try_get_matches_from_mut(argv)?;
    let cli = Cli::from_arg_matches(&matches)?;
    if let Some((name, _)) = matches.subcommand() {
        let run_flags = RunArgs::augment_args(clap::Command::new("run"));
        let misplaced = run_flags.get_arguments().find(|arg| {
            matches.value_source(arg.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine)
        });
        if let Some(flag) = misplaced.and_then(|arg| arg.get_long()) {
            let message = format!("--{flag} belongs after the subcommand: vitro {name} --{flag} ...");
            return Err(command.error(clap::error::ErrorKind::ArgumentConflict, message));
        }
    }
    Ok((cli, matches))
}
