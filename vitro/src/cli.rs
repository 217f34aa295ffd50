//! The command line: clap types, and `run` that maps them onto the library.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::plugin::discover::discover;
use crate::plugin::{PluginCommand, PluginOptions, PluginProcess};
use crate::registry::Registry;

/// Exit status for failures (a plugin or setup failed).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad usage (clap's own).
pub const EXIT_USAGE: u8 = 2;
/// Exit status after SIGINT.
pub const EXIT_SIGINT: u8 = 130;
/// Exit status after SIGTERM.
pub const EXIT_SIGTERM: u8 = 143;

/// Sets up test beds through device-driver plugins.
#[derive(Debug, Parser)]
#[command(name = "vitro", version, about)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
}

/// `vitro plugins ...`
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Start every plugin, show what it provides, and stop it again.
    List(ListArgs),
}

/// Arguments of `vitro plugins list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also run this plugin command line (repeatable), e.g. `ssh host VITRO_PLUGIN=1 vitro-plugin-x`.
    #[arg(long = "plugin", value_name = "COMMAND")]
    pub plugins: Vec<String>,
    /// Only the plugins given with --plugin, not those on PATH.
    #[arg(long)]
    pub no_path: bool,
    /// Seconds a plugin may take to answer `initialize`.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub handshake_timeout: f64,
}

/// Runs a parsed command line; errors are printed here, once.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Plugins(PluginsCommand::List(args)) => list(args).await,
    }
}

async fn list(args: ListArgs) -> ExitCode {
    let mut commands = Vec::new();
    if !args.no_path {
        let found = discover(&std::env::var_os("PATH").unwrap_or_default());
        for warning in found.warnings() {
            eprintln!("warning: {warning}");
        }
        commands.extend(found.plugins.iter().map(|p| PluginCommand::executable(&p.path)));
    }
    for line in &args.plugins {
        match PluginCommand::parse(line) {
            Ok(command) => commands.push(command),
            Err(e) => {
                eprintln!("error: --plugin: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    if commands.is_empty() {
        eprintln!("no plugins: put executables named vitro-plugin-<name> on PATH, or give --plugin COMMAND");
        return ExitCode::SUCCESS;
    }
    let options = PluginOptions {
        handshake_timeout: Duration::from_secs_f64(args.handshake_timeout.max(0.001)),
        ..PluginOptions::default()
    };
    let registry = Arc::new(Registry::default());
    let mut starts = tokio::task::JoinSet::new();
    for (index, command) in commands.iter().cloned().enumerate() {
        let (registry, options) = (registry.clone(), options.clone());
        starts.spawn(async move { (index, PluginProcess::start(command, registry, None, options).await) });
    }
    let mut results: Vec<_> = starts.join_all().await;
    results.sort_by_key(|(index, _)| *index);
    let mut rows = vec![["NAME", "VERSION", "PROTOCOL", "SDK", "COMMAND", "DEVICE TYPES"].map(String::from)];
    let mut failed = false;
    for (index, result) in results {
        let command = &commands[index];
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
                    .map(|t| {
                        format!(
                            "{} ({})",
                            t.type_name,
                            serde_json::to_value(t.role).unwrap_or_default().as_str().unwrap_or("?")
                        )
                    })
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
    if failed {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_table(rows: &[[String; 6]]) {
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
}
