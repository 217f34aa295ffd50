//! The `vitro` binary: set up logging, run, map the outcome to an exit status, turn signals
//! into an orderly release (a second signal quits at once).

use std::io::IsTerminal;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use vitro::cli;

/// The log level `-v`s ask for; arguments after `--` belong to the user's command.
fn verbosity(argv: &[String]) -> &'static str {
    let own = argv.iter().skip(1).take_while(|a| *a != "--");
    let count: usize = own
        .clone()
        .filter(|a| a.starts_with('-') && !a.starts_with("--") && a[1..].chars().all(|c| c == 'v'))
        .map(|a| a.len() - 1)
        .sum::<usize>()
        + own.filter(|a| *a == "--verbose").count();
    match count {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(vitro::plugin::reaper::REAPER_ARG) {
        return vitro::plugin::reaper::run();
    }
    if let Some(program) =
        cli::external::external_command(&argv, &std::env::var_os("PATH").unwrap_or_default())
    {
        return cli::external::exec(&program, &argv);
    }
    if let Ok(exe) = std::env::current_exe() {
        vitro::plugin::reaper::enable(exe);
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(verbosity(&argv)));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(vitro::progress::stderr_writer)
        .with_ansi(
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .init();
    // One thread: the host only waits on plugins, and a multi-thread runtime's worker wake-ups
    // cost 2.5x in round-trip latency (scripts/bench-rpc: 21 µs against 8.5 µs pinned).
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_FAILURE);
        }
    };
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            eprintln!("error: cannot install signal handlers");
            return ExitCode::from(cli::EXIT_FAILURE);
        };
        let cancel = CancellationToken::new();
        let work = cli::run(argv, cancel.clone());
        tokio::pin!(work);
        let mut signalled: Option<u8> = None;
        loop {
            let code = tokio::select! {
                // Signals first: one that came while the work blocked still counts.
                biased;
                _ = int.recv() => cli::EXIT_SIGINT,
                _ = term.recv() => cli::EXIT_SIGTERM,
                result = &mut work => {
                    let code = result.unwrap_or_else(cli::Error::report);
                    return signalled.map_or(code, ExitCode::from);
                }
            };
            if signalled.is_some() {
                // A second signal: give up on the orderly release. Dropping `work` kills every
                // plugin's process group.
                vitro::progress::say("vitro: quitting at once");
                return ExitCode::from(code);
            }
            vitro::progress::say(
                "vitro: stopping: releasing everything (send the signal again to quit at once)",
            );
            signalled = Some(code);
            cancel.cancel();
        }
    })
}
