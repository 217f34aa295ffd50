//! `vitro plugins list|check`, and starting and stopping the plugins of any command.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use vitro_protocol::types::InitializeResult;
use vitro_protocol::RpcError;

use super::args::{CheckArgs, Format, ListArgs, PluginSource};
use super::{out, say, Error, EXIT_FAILURE};
use crate::plugin::discover::discover;
use crate::plugin::{EventSink, PluginCommand, PluginOptions, PluginProcess};
use crate::registry::Registry;

pub(super) fn plugin_commands(source: &PluginSource) -> Result<Vec<PluginCommand>, String> {
    let given = source
        .plugins
        .iter()
        .map(|line| PluginCommand::parse(line).map_err(|e| format!("--plugin: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut commands = Vec::new();
    if !source.no_path {
        let found = discover(&std::env::var_os("PATH").unwrap_or_default());
        for warning in found.warnings() {
            eprintln!("warning: {}", vitro_protocol::names::printable_lines(&warning.to_string()));
        }
        // A `--plugin` command that runs a PATH plugin's program (by its file name, e.g. with
        // other arguments) replaces it.
        let file_name = |program: &str| Path::new(program).file_name().map(|f| f.to_owned());
        let replaced: Vec<_> = given.iter().filter_map(|c| file_name(&c.program)).collect();
        commands.extend(
            found
                .plugins
                .iter()
                .filter(|p| !p.path.file_name().is_some_and(|f| replaced.iter().any(|r| r == f)))
                .map(|p| PluginCommand::executable(&p.path)),
        );
    }
    commands.extend(given);
    Ok(commands)
}

/// Starts every plugin at once; results keep the order of `commands`.
pub(super) async fn start_plugins(
    commands: &[PluginCommand],
    registry: &Arc<Registry>,
    events: Option<EventSink>,
    source: &PluginSource,
) -> Vec<Result<PluginProcess, RpcError>> {
    let options = plugin_options(source);
    let starts = commands.iter().map(|command| {
        PluginProcess::start(command.clone(), registry.clone(), events.clone(), options.clone())
    });
    futures_util::future::join_all(starts).await
}

/// How plugins are started and watched, from the command line.
pub(super) fn plugin_options(source: &PluginSource) -> PluginOptions {
    PluginOptions { handshake_timeout: source.handshake_timeout, ..PluginOptions::default() }
}

pub(super) async fn stop_all(plugins: &mut [PluginProcess]) {
    futures_util::future::join_all(plugins.iter_mut().map(PluginProcess::shutdown)).await;
}

/// `vitro plugins list`: starts every plugin, prints what each provides, stops it again.
pub(super) async fn list(args: &ListArgs, cancel: &CancellationToken) -> Result<ExitCode, Error> {
    let source = &args.source;
    let commands = plugin_commands(source).map_err(Error::Usage)?;
    if commands.is_empty() && args.format == Format::Text {
        eprintln!("no plugins: put executables named vitro-plugin-<name> on PATH, or give --plugin COMMAND");
        return Ok(ExitCode::SUCCESS);
    }
    let registry = Arc::new(Registry::default());
    let results = tokio::select! {
        results = start_plugins(&commands, &registry, None, source) => results,
        () = cancel.cancelled() => return Ok(ExitCode::from(EXIT_FAILURE)),
    };
    let mut listed = Vec::new();
    let mut failed = false;
    for (command, result) in commands.iter().zip(results) {
        let shown = std::iter::once(command.program.as_str())
            .chain(command.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        match result {
            Ok(mut plugin) => {
                listed.push((shown, plugin.info().clone()));
                plugin.shutdown().await;
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {}", vitro_protocol::names::printable_lines(&e.chain()));
            }
        }
    }
    match args.format {
        Format::Text => print_table(&listed),
        Format::Json => {
            let plugins: Vec<_> = listed
                .iter()
                .map(|(command, info)| {
                    serde_json::json!({
                        "name": info.plugin.name,
                        "version": info.plugin.version,
                        "sdk": info.plugin.sdk,
                        "protocol_version": info.protocol_version.to_string(),
                        "command": command,
                        "capabilities": info.capabilities,
                        "device_types": info.device_types.iter().map(|t| serde_json::json!({
                            "type": t.type_name,
                            "role": crate::lifecycle::role_name(t.role),
                            "implements": t.implements,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            out(&serde_json::to_string_pretty(&serde_json::json!({ "plugins": plugins })).unwrap_or_default());
        }
    }
    Ok(ExitCode::from(if failed { EXIT_FAILURE } else { 0 }))
}

/// `vitro plugins check`: the conformance cases, each passed or failed with the reason.
pub(super) async fn check_plugin(args: &CheckArgs) -> Result<ExitCode, Error> {
    let command = PluginCommand::parse(&args.plugin).map_err(Error::Usage)?;
    let outcomes = crate::check::check(&command).await;
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    for outcome in &outcomes {
        match &outcome.result {
            Ok(()) => say(&format!("passed  {}", outcome.case)),
            Err(reason) => say(&format!("FAILED  {}: {reason}", outcome.case)),
        }
    }
    out(&format!("{} passed, {failed} failed", outcomes.len() - failed));
    Ok(ExitCode::from(if failed == 0 { 0 } else { EXIT_FAILURE }))
}

/// The plugins as an aligned table, one row each.
fn print_table(listed: &[(String, InitializeResult)]) {
    let mut rows = vec![["NAME", "VERSION", "PROTOCOL", "SDK", "COMMAND", "DEVICE TYPES"].map(String::from)];
    for (command, info) in listed {
        let types = info
            .device_types
            .iter()
            .map(|t| format!("{} ({})", t.type_name, crate::lifecycle::role_name(t.role)))
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(
            [
                info.plugin.name.clone(),
                info.plugin.version.clone(),
                info.protocol_version.to_string(),
                info.plugin.sdk.clone(),
                command.clone(),
                if types.is_empty() { "-".into() } else { types },
            ]
            .map(|cell| vitro_protocol::names::printable(&cell).into_owned()),
        );
    }
    let widths: Vec<usize> =
        (0..6).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out(cells.join("  ").trim_end());
    }
}
