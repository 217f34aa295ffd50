//! A deployment from the command line: start the plugins, parse the flags (theirs included),
//! deploy, hold, release, report.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::CommandFactory;
use tokio_util::sync::CancellationToken;
use vitro_protocol::names::{printable, printable_lines};
use vitro_protocol::types::Capability;

use super::args::{parse, plugin_source, Cli, Command};
use super::hold::hold_bed;
use super::plugin_flags::{flag_values, with_plugin_flags};
use super::plugins::{plugin_commands, plugin_options, start_plugins, stop_all};
use super::{Error, EXIT_FAILURE};
use crate::lifecycle::report::{Outcome, PluginReport};
use crate::lifecycle::{DeployOptions, Deployment};
use crate::plugin::{EventSink, PluginEvent, PluginOptions, PluginProcess};
use crate::progress::Progress;
use crate::registry::Registry;
use crate::session::SessionState;
use crate::session_dir::PrivateDir;

/// Progress reports waiting to be printed, at most; more are dropped and counted.
const EVENT_QUEUE: usize = 4096;

/// A deployment (`vitro [flags]`, `vitro run ... -- CMD`): the plugins are stopped whatever
/// happens.
pub(super) async fn deploy(argv: Vec<String>, cancel: CancellationToken) -> Result<ExitCode, Error> {
    let source = plugin_source(&argv).map_err(Error::Usage)?;
    let commands = plugin_commands(&source).map_err(Error::Usage)?;
    let registry = Arc::new(Registry::default());
    let (events_tx, mut events) = EventSink::channel(EVENT_QUEUE);
    let events_tx = events_tx.without_logs();
    let dropped = events_tx.clone();
    let progress = Progress::new();
    let shown = progress.clone();
    let printer = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let PluginEvent::Progress { progress: p, .. } = event {
                shown.note(p.device.as_deref(), "", &p.message);
            }
        }
    });
    let starting = std::time::Instant::now();
    let remote_start = (Some(events_tx.clone()), plugin_options(&source));
    let started = tokio::select! {
        started = start_plugins(&commands, &registry, Some(events_tx), &source) => started,
        () = cancel.cancelled() => return Ok(ExitCode::from(EXIT_FAILURE)),
    };
    let mut plugins = Vec::new();
    let mut broken = Vec::new();
    for result in started {
        match result {
            Ok(plugin) => plugins.push(plugin),
            Err(e) => {
                // Only a bed that needs a type no working plugin provides fails for it (and names it).
                eprintln!("warning: {}", printable_lines(&e.chain()));
                broken.push(e.chain());
            }
        }
    }
    let startup =
        Startup { took: starting.elapsed(), broken, events: remote_start.0, plugin_options: remote_start.1 };
    let code = deploy_with(&argv, &mut plugins, registry, progress, startup, &cancel).await;
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

/// How the plugins started, and how to start more (on exporters) the same way.
struct Startup {
    took: Duration,
    /// Why each plugin that could not start failed.
    broken: Vec<String>,
    events: Option<EventSink>,
    plugin_options: PluginOptions,
}

/// Writes the report, off the runtime's thread, so that signals are heard meanwhile. A FIFO or
/// a device can block for good (nobody reads): the first signal stops waiting for it (after an
/// interrupted run, the second quits at once as ever). A file is always written whole (a
/// signal then changes only the exit status).
async fn write_report(report: &crate::lifecycle::report::Report, path: &Path, cancel: &CancellationToken) {
    let shown = printable(&path.display().to_string()).into_owned();
    let text = match super::report::text(report, path) {
        Ok(text) => text,
        Err(e) => return eprintln!("warning: cannot write the report to {shown}: {e}"),
    };
    let (done_tx, done) = tokio::sync::oneshot::channel();
    let target = path.to_owned();
    // A thread of its own, not the runtime's blocking pool: one blocked for good must not keep
    // the process from exiting.
    std::thread::spawn(move || {
        let _ = done_tx.send(super::report::write_whole(&target, text.as_bytes()));
    });
    let interruptible = async {
        if super::report::is_special(path) && !cancel.is_cancelled() {
            cancel.cancelled().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        written = done => match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: cannot write the report to {shown}: {e}"),
            Err(_) => eprintln!("warning: the report to {shown} was not written"),
        },
        () = interruptible => eprintln!("warning: the report to {shown} was not written: interrupted"),
    }
}

async fn deploy_with(
    argv: &[String],
    plugins: &mut [PluginProcess],
    registry: Arc<Registry>,
    progress: Progress,
    startup: Startup,
    cancel: &CancellationToken,
) -> Result<ExitCode, Error> {
    let Startup { took: plugin_start, broken: broken_plugins, events, plugin_options } = startup;
    let (command, added) = with_plugin_flags(Cli::command(), plugins);
    let (cli, matches) = parse(command, argv)?;
    let (args, user_command, matches) = match (cli.command, matches.subcommand()) {
        (Some(Command::Run(run)), Some(("run", sub))) => (run.run, Some(run.command), sub.clone()),
        _ => (cli.run, None, matches),
    };
    if args.legacy {
        return Err(Error::Usage(
            "--legacy is not needed: `devices.<name>` always works in vitro's Python shell and pytest \
             bridge; drop the flag"
                .into(),
        ));
    }
    let Some(env_config) = args.env_config.clone() else {
        return Err(Error::Usage("--env-config is required to deploy (see vitro --help)".into()));
    };
    if let Some(path) = &args.report {
        super::report::check_writable(path).map_err(Error::Usage)?;
    }
    let reserves = plugins.iter().any(|p| p.info().capabilities.contains(&Capability::Reservation));
    if !reserves && (args.board_name.is_none() || args.inventory_config.is_none()) {
        return Err(Error::Usage(
            "no plugin reserves boards, so --board-name and --inventory-config are needed; give both".into(),
        ));
    }
    let templates = vitro_protocol::templates::Templates::builtin();
    let broken: Vec<String> = plugins
        .iter()
        .flat_map(|p| crate::templates::check_declarations(templates, p.info()))
        .map(|e| e.to_string())
        .collect();
    if !broken.is_empty() {
        return Err(Error::Failed(broken.join("\nerror: ")));
    }
    if plugins.is_empty() {
        eprintln!(
            "warning: no plugins found: put vitro-plugin-<name> executables on PATH or pass --plugin COMMAND"
        );
    }
    // A report shows a failed device's last console lines: without logs of the user's, they are
    // logged in a private directory for the report alone.
    let report_logs = match (&args.report, &args.save_console_logs) {
        (Some(_), None) => {
            match PrivateDir::create() {
                Ok(logs) => Some(logs),
                Err(e) => {
                    eprintln!("warning: the report will have no console lines: cannot make a directory for them: {e}");
                    None
                }
            }
        }
        _ => None,
    };
    let options = DeployOptions {
        board_name: args.board_name.clone(),
        env_config,
        inventory_config: args.inventory_config.clone(),
        skip_boot: args.skip_boot,
        skip_contingency_checks: args.skip_contingency_checks,
        ignore_devices: args.ignore_devices.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        console_log_dir: args.save_console_logs.clone(),
        report_log_dir: report_logs.as_ref().map(|dir| dir.path().display().to_string()),
        flag_values: flag_values(&matches, &added),
        plugin_hook_timeout: args.plugin_hook_timeout,
        broken_plugins,
        plugin_options,
        events,
    };
    let mut command_status: Option<u8> = None;
    let hold = args.hold;
    let status = &mut command_status;
    let command = user_command.as_deref();
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    progress.show(args.progress, args.quiet);
    let held_progress = progress.clone();
    let (mut report, secrets) = Deployment::new(plugins, registry, options, progress.clone())
        .run(cancel, move |state: Arc<SessionState>| {
            hold_bed(state, command, (hold, interactive), held_progress, status)
        })
        .await;
    stop_all(plugins).await;
    // The processes have ended now: report how.
    // The local plugins come first in the report; now that they stopped, with how they ended.
    let local = PluginReport::of_all(plugins.iter().map(|p| (p.info().plugin.name.as_str(), p)));
    report.plugins.splice(..local.len().min(report.plugins.len()), local);
    report.durations.insert("plugin start".into(), plugin_start.as_secs_f64());
    let log_dir =
        args.save_console_logs.as_deref().map(Path::new).or(report_logs.as_ref().map(PrivateDir::path));
    if let Some(dir) = log_dir {
        report.read_console_logs(dir);
    }
    drop(report_logs);
    report.hide(&secrets);
    if let Some(path) = &args.report {
        write_report(&report, path, cancel).await;
    }
    if !progress.is_quiet() {
        eprint!("{}", report.durations_table());
    }
    match report.result {
        Outcome::Success => {
            eprintln!(
                "vitro: deployed {} devices in {:.2}s and released them",
                report.devices.len(),
                report.durations.get("setup").copied().unwrap_or_default()
            );
            Ok(ExitCode::from(command_status.unwrap_or(0)))
        }
        Outcome::Failed | Outcome::Interrupted => {
            let phase = report.failed_phase.as_deref().unwrap_or("setup");
            let what = if report.result == Outcome::Interrupted { "interrupted" } else { "failed" };
            eprintln!(
                "error: deployment {what} in {phase}: {}",
                printable_lines(report.error.as_deref().unwrap_or("unknown cause"))
            );
            // A failure while live (a plugin died) keeps a failing command's own status.
            Ok(ExitCode::from(command_status.filter(|s| *s != 0).unwrap_or(EXIT_FAILURE)))
        }
    }
}
