//! The one place that starts plugin processes.
//!
//! A plugin runs in its own process group (so the host can signal everything it started), dies
//! with the host on Linux (`PR_SET_PDEATHSIG`), and gets the environment of
//! [`vitro_protocol::env::ALL`].

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::Stdio;

use tokio::process::{Child, Command};

use super::reaper::Held;
use super::PluginCommand;

/// Starts `command` with piped stdio in a new process group.
#[allow(clippy::disallowed_methods)]
pub fn spawn(command: &PluginCommand) -> io::Result<Child> {
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.args)
        .env(vitro_protocol::env::PLUGIN, "1")
        .env(vitro_protocol::env::PROTOCOL, vitro_protocol::PROTOCOL_VERSION.to_string())
        .env(vitro_protocol::env::HOST_VERSION, env!("CARGO_PKG_VERSION"))
        .env(vitro_protocol::env::PLUGIN_NAME, &command.name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid, _exit).
    unsafe {
        let host = libc::getpid();
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != host {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    if let Some(pid) = child.id() {
        super::reaper::hold(&Held::Group(pid as i32));
    }
    Ok(child)
}

/// Runs `command` as a person would by hand: without `VITRO_PLUGIN`, stdin closed, its output
/// collected (`vitro plugins check` expects it to say what it is and exit with status 2).
#[allow(clippy::disallowed_methods)]
pub async fn run_by_hand(command: &PluginCommand) -> io::Result<std::process::Output> {
    Command::new(&command.program)
        .args(&command.args)
        .env_remove(vitro_protocol::env::PLUGIN)
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .output()
        .await
}

/// Starts the reaper (`vitro` itself, see [`super::reaper`]) in a process group of its own, with
/// no stdio but the pipe it reads. Returns that pipe.
#[allow(clippy::disallowed_methods)]
pub fn spawn_reaper(exe: &std::path::Path) -> io::Result<std::process::ChildStdin> {
    let mut child = std::process::Command::new(exe)
        .arg(super::reaper::REAPER_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    child.stdin.take().ok_or_else(|| io::Error::other("the reaper's stdin was not piped"))
}

/// Sends `signal` to every process of the group `pgid`; `false` when none is left.
pub fn signal_group(pgid: i32, signal: i32) -> bool {
    // SAFETY: killpg only sends a signal.
    pgid > 0 && unsafe { libc::killpg(pgid, signal) } == 0
}

/// Whether any process of group `pgid` still exists.
pub fn group_alive(pgid: i32) -> bool {
    signal_group(pgid, 0)
}

/// The user's command of `vitro run -- CMD`. Dropping it kills it and everything it started
/// that is still below it; if `vitro` dies first, the reaper does.
pub struct UserCommand {
    child: Child,
    pid: i32,
}

impl UserCommand {
    /// Waits for the command to end.
    pub async fn wait(&mut self) -> io::Result<std::process::ExitStatus> {
        self.child.wait().await
    }
}

impl Drop for UserCommand {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            super::reaper::kill_tree(self.pid, libc::SIGKILL);
        }
        super::reaper::release(&Held::Tree(self.pid));
    }
}

/// Starts the user's command of `vitro run -- CMD` (not a plugin): it inherits stdio and the
/// process group, so a terminal's Ctrl-C reaches it, and gets `VITRO_SESSION` and `VITRO_BOARD`.
#[allow(clippy::disallowed_methods)]
pub fn spawn_user_command(
    argv: &[String],
    session: &std::path::Path,
    board: Option<&str>,
) -> io::Result<UserCommand> {
    let (program, args) = argv.split_first().ok_or_else(|| io::Error::other("no command given after --"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .env(vitro_protocol::session::SESSION_ENV, session)
        .env_remove(vitro_protocol::env::PLUGIN)
        .env_remove(vitro_protocol::env::BOARD)
        .kill_on_drop(true);
    if let Some(board) = board {
        command.env(vitro_protocol::env::BOARD, board);
    }
    let child = command.spawn()?;
    let pid = child.id().map_or(0, |pid| pid as i32);
    super::reaper::hold(&Held::Tree(pid));
    Ok(UserCommand { child, pid })
}

/// Replaces this process with `program` and `args` (`vitro X` running `vitro-X`); returns only
/// the error when that fails.
#[allow(clippy::disallowed_methods)]
pub fn exec_program(program: &std::path::Path, args: &[String]) -> io::Error {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(program).args(args).exec()
}
