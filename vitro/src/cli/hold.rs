//! Holding a set-up bed: the live session, and the user's command, `--hold` or the menu on it.

use std::sync::Arc;

use super::EXIT_FAILURE;
use crate::session::{SessionServer, SessionState};

/// Holds a set-up bed: serves the live session, and runs the user's command against it
/// (`vitro run -- CMD`), waits for a release (`--hold`), or shows the menu on a terminal.
/// Without any of them it says so and returns at once (the bed is released). Records the
/// command's status.
pub(super) async fn hold_bed(
    state: Arc<SessionState>,
    command: Option<&[String]>,
    (hold, interactive): (bool, bool),
    progress: crate::progress::Progress,
    status: &mut Option<u8>,
) {
    if command.is_none() && !hold && !interactive {
        eprintln!(
            "vitro: no terminal for the menu (stdin and stdout must both be one): releasing the test bed; \
             use --hold to keep it, or `vitro run -- CMD` to run a command on it"
        );
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
        Some(argv) => {
            // The command's output is not cut by progress lines: they come after it.
            let _held = progress.hold_lines();
            match crate::plugin::spawn::spawn_user_command(argv, server.path(), state.board.as_deref()) {
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
            }
        }
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
