//! Watching a plugin process: pings, its exit, and the error every pending call then receives
//! (how it ended, its last telling stderr line).

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use tokio::process::Child;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use vitro_protocol::{ErrorKind, RpcError};
use vitro_rpc::PeerHandle;

use super::process::{ExitInfo, PluginOptions};
use super::spawn::signal_group;
use super::stderr::StderrTail;

pub(super) struct Supervised {
    pub(super) child: Child,
    pub(super) peer: PeerHandle,
    pub(super) tail: StderrTail,
    pub(super) pgid: i32,
    pub(super) stopping: CancellationToken,
    pub(super) exit: watch::Sender<Option<ExitInfo>>,
    pub(super) options: PluginOptions,
}

/// Waits for the process to end (or kills it when it hangs), then fails every call in flight
/// with an error naming how it ended, and kills what is left of its process group.
pub(super) async fn supervise(mut s: Supervised) {
    let mut ticker = tokio::time::interval(s.options.ping_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut killed_because: Option<String> = None;
    let mut input_done = false;
    let status = loop {
        tokio::select! {
            status = s.child.wait() => break status.ok(),
            () = s.peer.disconnected(), if !input_done => {
                input_done = true;
                if s.stopping.is_cancelled() {
                    // The shutdown ladder is in charge of the rest.
                    continue;
                }
                match tokio::time::timeout(s.options.grace, s.child.wait()).await {
                    Ok(status) => break status.ok(),
                    Err(_) => {
                        killed_because = Some("closed its stdout but kept running".into());
                        signal_group(s.pgid, libc::SIGKILL);
                        break s.child.wait().await.ok();
                    }
                }
            }
            _ = ticker.tick(), if !s.stopping.is_cancelled() => {
                tokio::select! {
                    status = s.child.wait() => break status.ok(),
                    answer = s.peer.ping(s.options.ping_timeout) => {
                        if matches!(&answer, Err(e) if e.kind() == ErrorKind::Timeout) && !s.stopping.is_cancelled() {
                            killed_because = Some(format!("missed a ping (no answer within {:?})", s.options.ping_timeout));
                            signal_group(s.pgid, libc::SIGKILL);
                            break s.child.wait().await.ok();
                        }
                    }
                }
            }
        }
    };
    signal_group(s.pgid, libc::SIGKILL);
    super::reaper::release(&super::reaper::Held::Group(s.pgid));
    let _ = tokio::time::timeout(Duration::from_millis(500), s.tail.ended()).await;
    let info = describe(&s.peer.name(), status, killed_because, s.tail.lines());
    let mut error =
        RpcError::new(ErrorKind::PeerGone, info.summary.clone()).with_details(serde_json::json!({
            "exit": info.code,
            "signal": info.signal,
            "stderr": info.stderr,
        }));
    if let Some(last) = telling_line(&info.stderr) {
        error = error.with_causes(vec![format!("last stderr line: {last}")]);
    }
    s.peer.close(error);
    let _ = s.exit.send(Some(info));
}

/// The last stderr line that says something: not blank, and not the Rust runtime's hint about
/// `RUST_BACKTRACE` that follows a panic's message.
fn telling_line(lines: &[String]) -> Option<&str> {
    lines.iter().rev().map(|line| line.trim()).find(|line| {
        !line.is_empty()
            && !line.starts_with("note: run with `RUST_BACKTRACE=")
            && !line.starts_with("stack backtrace:")
    })
}

fn describe(
    label: &str,
    status: Option<ExitStatus>,
    killed_because: Option<String>,
    stderr: Vec<String>,
) -> ExitInfo {
    let code = status.and_then(|s| s.code());
    let signal = status.and_then(|s| s.signal());
    let summary = match (&killed_because, code, signal) {
        (Some(why), _, _) => format!("{label} {why}; it was killed"),
        (None, Some(code), _) => format!("{label} exited with status {code}"),
        (None, None, Some(signal)) => {
            format!("{label} was killed by signal {signal} ({})", signal_name(signal))
        }
        (None, None, None) => format!("{label} ended; its status is unknown"),
    };
    ExitInfo { code, signal, stderr, summary }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGHUP => "SIGHUP",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_telling_stderr_line_of_a_rust_panic_is_its_message() {
        let lines: Vec<String> = [
            "thread 'main' panicked at src/main.rs:3:5:",
            "the board caught fire",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            "",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(telling_line(&lines), Some("the board caught fire"));
        assert_eq!(telling_line(&[]), None);
    }
}
