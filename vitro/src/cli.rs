//! The command line: clap types, and `main` that maps them onto the library.
//!
//! `vitro [run flags]` deploys a test bed; `vitro config` prints the merged device list;
//! `vitro plugins list` shows the plugins. Plugins may add run flags (declared in their
//! handshake): for a run or `--help`, the plugins are started first and their flags join the
//! command line before it is parsed.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vitro_protocol::RpcError;

use crate::config::{board_inventory, merge_devices, ClientTypes, JsonFile};
use crate::lifecycle::report::{Outcome, PluginReport};
use crate::lifecycle::{DeployOptions, Deployment, Progress};
use crate::plugin::discover::discover;
use crate::plugin::{EventSink, PluginCommand, PluginEvent, PluginOptions, PluginProcess};
use crate::registry::Registry;
use crate::session::{SessionServer, SessionState};

/// Progress reports waiting to be printed, at most; more are dropped and counted.
const EVENT_QUEUE: usize = 4096;

/// Exit status for failures (a plugin or the deployment failed).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit status after SIGINT.
pub const EXIT_SIGINT: u8 = 130;
/// Exit status after SIGTERM.
pub const EXIT_SIGTERM: u8 = 143;

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
    /// Print the merged device list as JSON (needs no plugin).
    Config(ConfigArgs),
    /// Work with plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
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
    /// Expose devices the legacy way (`devices.<name>`) in the interactive shell.
    #[arg(long)]
    pub legacy: bool,
    /// Write what happened (devices, plugins, phase durations, result, error) to this JSON file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Seconds each plugin-level hook (reservation, config parsing, env setup, post-setup,
    /// release) and each device creation may take.
    #[arg(long, default_value = "300", value_name = "SECONDS", value_parser = parse_seconds)]
    pub plugin_hook_timeout: Duration,
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
}

/// `vitro plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Start every plugin, show what it provides, and stop it again.
    List(PluginSource),
    /// Run a plugin through the protocol conformance cases (nothing real is booted).
    Check(CheckArgs),
}

/// Arguments of `vitro plugins check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plugin: an executable, or a whole command line (`python3 my_plugin.py`).
    #[arg(value_name = "EXECUTABLE")]
    pub plugin: String,
}

/// Whether `argv` asks for a deployment (or its help), which needs the plugins first.
fn wants_plugins(argv: &[String]) -> bool {
    let words: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let subcommand = words.iter().find(|w| !w.starts_with('-')).copied();
    let is_subcommand = matches!(subcommand, Some("config" | "plugins" | "help"));
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
fn plugin_source(argv: &[String]) -> Result<PluginSource, String> {
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

fn plugin_commands(source: &PluginSource) -> Result<Vec<PluginCommand>, String> {
    let mut commands = Vec::new();
    if !source.no_path {
        let found = discover(&std::env::var_os("PATH").unwrap_or_default());
        for warning in found.warnings() {
            eprintln!("warning: {warning}");
        }
        commands.extend(found.plugins.iter().map(|p| PluginCommand::executable(&p.path)));
    }
    for line in &source.plugins {
        commands.push(PluginCommand::parse(line).map_err(|e| format!("--plugin: {e}"))?);
    }
    Ok(commands)
}

/// Starts every plugin at once; results keep the order of `commands`.
async fn start_plugins(
    commands: &[PluginCommand],
    registry: &Arc<Registry>,
    events: Option<EventSink>,
    source: &PluginSource,
) -> Vec<Result<PluginProcess, RpcError>> {
    let options = PluginOptions { handshake_timeout: source.handshake_timeout, ..PluginOptions::default() };
    let starts = commands.iter().map(|command| {
        PluginProcess::start(command.clone(), registry.clone(), events.clone(), options.clone())
    });
    futures_util::future::join_all(starts).await
}

async fn stop_all(plugins: &mut [PluginProcess]) {
    futures_util::future::join_all(plugins.iter_mut().map(PluginProcess::shutdown)).await;
}

/// Runs `vitro` with `argv`; `cancel` fires on SIGINT/SIGTERM.
pub async fn main(argv: Vec<String>, cancel: CancellationToken) -> ExitCode {
    if !wants_plugins(&argv) {
        let cli = match parse(Cli::command(), &argv) {
            Ok((cli, _)) => cli,
            Err(e) => return usage_error(e),
        };
        return match cli.command {
            Some(Command::Config(args)) => tokio::select! {
                code = print_config(&args) => code,
                () = cancel.cancelled() => ExitCode::from(EXIT_FAILURE),
            },
            Some(Command::Plugins(PluginsCommand::List(source))) => list(&source, &cancel).await,
            Some(Command::Plugins(PluginsCommand::Check(args))) => check_plugin(&args).await,
            Some(Command::Run(_)) | None => ExitCode::from(EXIT_USAGE),
        };
    }
    deploy(argv, cancel).await
}

/// Parses `argv` with `command` (the CLI, perhaps with plugin flags). Global flags (`-v`) may
/// stand anywhere; deployment flags before a subcommand are refused, as they would be ignored.
fn parse(mut command: clap::Command, argv: &[String]) -> Result<(Cli, ArgMatches), clap::Error> {
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

fn usage_error(e: clap::Error) -> ExitCode {
    let _ = e.print();
    ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 })
}

async fn print_config(args: &ConfigArgs) -> ExitCode {
    let merged = async {
        let inventory = JsonFile::load(&args.inventory_config).await?;
        let env = JsonFile::load(&args.env_config).await?;
        let board = board_inventory(&inventory, &args.board_name)?;
        merge_devices(&board, &inventory, &env, &ClientTypes::default())
    }
    .await;
    match merged {
        Ok(devices) => {
            let devices = Value::Array(devices);
            let shown = if args.show_secrets { devices } else { vitro_protocol::secrets::masked(&devices) };
            out(&serde_json::to_string_pretty(&shown).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn list(source: &PluginSource, cancel: &CancellationToken) -> ExitCode {
    let commands = match plugin_commands(source) {
        Ok(commands) => commands,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if commands.is_empty() {
        eprintln!("no plugins: put executables named vitro-plugin-<name> on PATH, or give --plugin COMMAND");
        return ExitCode::SUCCESS;
    }
    let registry = Arc::new(Registry::default());
    let results = tokio::select! {
        results = start_plugins(&commands, &registry, None, source) => results,
        () = cancel.cancelled() => return ExitCode::from(EXIT_FAILURE),
    };
    let mut rows = vec![["NAME", "VERSION", "PROTOCOL", "SDK", "COMMAND", "DEVICE TYPES"].map(String::from)];
    let mut failed = false;
    for (command, result) in commands.iter().zip(results) {
        let shown = std::iter::once(command.program.as_str())
            .chain(command.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        match result {
            Ok(mut plugin) => {
                let info = plugin.info().clone();
                let types = info
                    .device_types
                    .iter()
                    .map(|t| format!("{} ({})", t.type_name, crate::lifecycle::role_name(t.role)))
                    .collect::<Vec<_>>()
                    .join(", ");
                rows.push([
                    info.plugin.name,
                    info.plugin.version,
                    info.protocol_version.to_string(),
                    info.plugin.sdk,
                    shown,
                    if types.is_empty() { "-".into() } else { types },
                ]);
                plugin.shutdown().await;
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {}", e.chain());
            }
        }
    }
    print_table(&rows);
    ExitCode::from(if failed { EXIT_FAILURE } else { 0 })
}

async fn check_plugin(args: &CheckArgs) -> ExitCode {
    let command = match PluginCommand::parse(&args.plugin) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let outcomes = crate::check::check(&command).await;
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    for outcome in &outcomes {
        match &outcome.result {
            Ok(()) => out(&format!("passed  {}", outcome.case)),
            Err(reason) => out(&format!("FAILED  {}: {reason}", outcome.case)),
        }
    }
    out(&format!("{} passed, {failed} failed", outcomes.len() - failed));
    ExitCode::from(if failed == 0 { 0 } else { EXIT_FAILURE })
}

/// Prints one line on stdout. A reader that went away (`vitro config | head`) is no error: the
/// output is no longer wanted, so `vitro` exits quietly, with status 0, at the first failed write.
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

fn print_table(rows: &[[String; 6]]) {
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out(cells.join("  ").trim_end());
    }
}

/// Adds each plugin's declared flags to the command line; returns their names.
fn with_plugin_flags(
    mut command: clap::Command,
    plugins: &[PluginProcess],
) -> (clap::Command, Vec<(String, bool)>) {
    let mut added = Vec::new();
    for plugin in plugins {
        for arg in &plugin.info().cli_args {
            let taken = command.get_arguments().any(|a| a.get_long() == Some(arg.name.as_str()));
            if taken || arg.name.is_empty() {
                tracing::warn!(
                    "plugin {} declares --{}, which is taken; ignored",
                    plugin.info().plugin.name,
                    arg.name
                );
                continue;
            }
            let help = format!("{} [plugin {}]", arg.help, plugin.info().plugin.name);
            let mut flag = Arg::new(arg.name.clone()).long(arg.name.clone()).help(help);
            flag = if arg.takes_value {
                let flag = flag.value_name("VALUE").action(ArgAction::Set);
                match &arg.default {
                    Some(default) => flag.default_value(default.clone()),
                    None => flag,
                }
            } else {
                flag.action(ArgAction::SetTrue)
            };
            command = command.arg(flag);
            added.push((arg.name.clone(), arg.takes_value));
        }
    }
    (command, added)
}

fn flag_values(matches: &ArgMatches, added: &[(String, bool)]) -> BTreeMap<String, Value> {
    let mut values = BTreeMap::new();
    for (name, takes_value) in added {
        if *takes_value {
            if let Some(value) = matches.get_one::<String>(name) {
                values.insert(name.clone(), Value::String(value.clone()));
            }
        } else {
            values.insert(name.clone(), Value::Bool(matches.get_flag(name)));
        }
    }
    values
}

async fn deploy(argv: Vec<String>, cancel: CancellationToken) -> ExitCode {
    let (commands, source) =
        match plugin_source(&argv).and_then(|source| Ok((plugin_commands(&source)?, source))) {
            Ok(found) => found,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
    let registry = Arc::new(Registry::default());
    let (events_tx, mut events) = EventSink::channel(EVENT_QUEUE);
    let events_tx = events_tx.without_logs();
    let dropped = events_tx.clone();
    let progress = Progress::new();
    let printer = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let PluginEvent::Progress { progress: p, .. } = event {
                progress.line(p.device.as_deref().unwrap_or("-"), "", &p.message);
            }
        }
    });
    let starting = std::time::Instant::now();
    let started = tokio::select! {
        started = start_plugins(&commands, &registry, Some(events_tx), &source) => started,
        () = cancel.cancelled() => return ExitCode::from(EXIT_FAILURE),
    };
    let mut plugins = Vec::new();
    let mut broken = Vec::new();
    for result in started {
        match result {
            Ok(plugin) => plugins.push(plugin),
            Err(e) => {
                // Only a bed that needs a type no working plugin provides fails for it (and names it).
                eprintln!("warning: {}", e.chain());
                broken.push(e.chain());
            }
        }
    }
    let plugin_start = starting.elapsed();
    let code = deploy_with(&argv, &mut plugins, registry, progress, plugin_start, broken, &cancel).await;
    stop_all(&mut plugins).await;
    drop(plugins);
    printer.abort();
    if dropped.dropped() > 0 {
        eprintln!(
            "warning: {} progress reports of plugins were not shown: they came faster than they could be printed",
            dropped.dropped()
        );
    }
    code
}

async fn deploy_with(
    argv: &[String],
    plugins: &mut [PluginProcess],
    registry: Arc<Registry>,
    progress: Progress,
    plugin_start: Duration,
    broken_plugins: Vec<String>,
    cancel: &CancellationToken,
) -> ExitCode {
    let (command, added) = with_plugin_flags(Cli::command(), plugins);
    let (cli, matches) = match parse(command, argv) {
        Ok(parsed) => parsed,
        Err(e) => return usage_error(e),
    };
    let (args, user_command, matches) = match (cli.command, matches.subcommand()) {
        (Some(Command::Run(run)), Some(("run", sub))) => (run.run, Some(run.command), sub.clone()),
        _ => (cli.run, None, matches),
    };
    let Some(env_config) = args.env_config.clone() else {
        eprintln!("error: --env-config is required to deploy (see vitro --help)");
        return ExitCode::from(EXIT_USAGE);
    };
    if plugins.is_empty() {
        eprintln!(
            "warning: no plugins found: put vitro-plugin-<name> executables on PATH or pass --plugin COMMAND"
        );
    }
    let options = DeployOptions {
        board_name: args.board_name.clone(),
        env_config,
        inventory_config: args.inventory_config.clone(),
        skip_boot: args.skip_boot,
        ignore_devices: args.ignore_devices.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        console_log_dir: args.save_console_logs.clone(),
        flag_values: flag_values(&matches, &added),
        plugin_hook_timeout: Some(args.plugin_hook_timeout),
        broken_plugins,
    };
    let mut command_status: Option<u8> = None;
    let hold = args.hold;
    let status = &mut command_status;
    let command = user_command.as_deref();
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let mut report = Deployment::new(plugins, registry, options, progress)
        .run(cancel, move |state: Arc<SessionState>| hold_bed(state, command, hold, interactive, status))
        .await;
    stop_all(plugins).await;
    // The processes have ended now: report how.
    report.plugins = PluginReport::of_all(plugins);
    report.durations.insert("plugin start".into(), plugin_start.as_secs_f64());
    if let Some(path) = &args.report {
        let written = serde_json::to_string_pretty(&report)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, text + "\n").map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("warning: cannot write the report to {}: {e}", path.display());
        }
    }
    eprint!("{}", report.durations_table());
    match report.result {
        Outcome::Success => {
            eprintln!(
                "vitro: deployed {} devices in {:.2}s and released them",
                report.devices.len(),
                report.durations.get("setup").copied().unwrap_or_default()
            );
            ExitCode::from(command_status.unwrap_or(0))
        }
        Outcome::Failed | Outcome::Interrupted => {
            let phase = report.failed_phase.as_deref().unwrap_or("setup");
            let what = if report.result == Outcome::Interrupted { "interrupted" } else { "failed" };
            eprintln!(
                "error: deployment {what} in {phase}: {}",
                report.error.as_deref().unwrap_or("unknown cause")
            );
            // A failure while live (a plugin died) keeps a failing command's own status.
            ExitCode::from(command_status.filter(|s| *s != 0).unwrap_or(EXIT_FAILURE))
        }
    }
}

/// Holds a set-up bed: serves the live session, and runs the user's command against it
/// (`vitro run -- CMD`), waits for a release (`--hold`), or shows the menu on a terminal.
/// Without any of them it returns at once (the bed is released). Records the command's status.
async fn hold_bed(
    state: Arc<SessionState>,
    command: Option<&[String]>,
    hold: bool,
    interactive: bool,
    status: &mut Option<u8>,
) {
    if command.is_none() && !hold && !interactive {
        return;
    }
    let server = match SessionServer::start(state.clone()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot serve the live session: {e}");
            *status = Some(EXIT_FAILURE);
            return;
        }
    };
    match command {
        Some(argv) => match crate::plugin::spawn::spawn_user_command(argv, server.path()) {
            Ok(mut child) => {
                tokio::select! {
                    exit = child.wait() => {
                        *status = Some(exit.ok().map_or(EXIT_FAILURE, exit_status_byte));
                    }
                    () = state.release.cancelled() => {
                        eprintln!("vitro: a session client released the test bed; stopping {}", argv[0]);
                        drop(child);
                        *status = Some(EXIT_FAILURE);
                    }
                }
            }
            Err(e) => {
                eprintln!("error: cannot run {}: {e}", argv[0]);
                *status = Some(127);
            }
        },
        None if hold => {
            eprintln!(
                "vitro: holding the test bed; {}={}",
                vitro_protocol::session::SESSION_ENV,
                server.path().display()
            );
            state.release.cancelled().await;
        }
        None => crate::menu::run(state.clone(), server.path()).await,
    }
    server.stop().await;
}

/// An exit status as a shell reports it: the code, or 128 + the signal.
fn exit_status_byte(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code.clamp(0, 255) as u8,
        (None, Some(signal)) => (128 + signal).clamp(0, 255) as u8,
        _ => EXIT_FAILURE,
    }
}
