//! The reaper: a small process that outlives `vitro` only to clean up after it.
//!
//! `PR_SET_PDEATHSIG` kills a plugin when `vitro` dies, but not what the plugin started (still in
//! the plugin's process group), nor the command of `vitro run -- CMD`, nor the session directory.
//! The reaper holds those. `vitro` tells it over a pipe which process groups, process trees and
//! directories it owns, and tells it again once it has stopped or removed them itself. When the
//! pipe closes (`vitro` exited, or was killed, even with SIGKILL), the reaper sends SIGTERM to every
//! group and tree it still holds, SIGKILL to what is left after a grace period, removes the
//! directories, and exits.
//!
//! What it cannot reach: a process that left its group and tree on purpose (`setsid` and a double
//! fork, or a daemon a driver started) before `vitro` died.
//!
//! The reaper is `vitro` itself, started with [`REAPER_ARG`] as its only argument, in a process
//! group of its own (so a terminal's Ctrl-C does not end it first) and with SIGINT, SIGTERM and
//! SIGHUP ignored: it ends when its pipe does. Only the `vitro` binary turns it on
//! ([`enable`]); a library user holds nothing.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ExitCode};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The argument that makes the `vitro` binary run as the reaper.
pub const REAPER_ARG: &str = "__vitro_reaper";

/// How long the reaper waits after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// Something the reaper stops or removes when `vitro` dies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// A process group (a plugin and everything it started).
    Group(i32),
    /// A process and all its descendants (the user's command).
    Tree(i32),
    /// A directory (the session's).
    Dir(PathBuf),
}

impl Held {
    fn line(&self, hold: bool) -> String {
        let sign = if hold { '+' } else { '-' };
        match self {
            Held::Group(pgid) => format!("{sign}group {pgid}\n"),
            Held::Tree(pid) => format!("{sign}tree {pid}\n"),
            Held::Dir(path) => format!("{sign}dir {}\n", path.display()),
        }
    }

    fn parse(line: &str) -> Option<(bool, Held)> {
        let hold = match line.as_bytes().first()? {
            b'+' => true,
            b'-' => false,
            _ => return None,
        };
        let (kind, value) = line[1..].split_once(' ')?;
        let held = match kind {
            "group" => Held::Group(value.parse().ok().filter(|p| *p > 1)?),
            "tree" => Held::Tree(value.parse().ok().filter(|p| *p > 1)?),
            "dir" => Held::Dir(PathBuf::from(value)),
            _ => return None,
        };
        Some((hold, held))
    }
}

enum State {
    Off,
    Enabled(PathBuf),
    Running(ChildStdin),
    Failed,
}

fn state() -> &'static Mutex<State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE.get_or_init(|| Mutex::new(State::Off))
}

/// Turns the reaper on: it is started (from `exe`, the `vitro` binary) when first needed.
pub fn enable(exe: PathBuf) {
    let mut state = state().lock().unwrap_or_else(|p| p.into_inner());
    if matches!(*state, State::Off) {
        *state = State::Enabled(exe);
    }
}

/// Asks the reaper to stop or remove `held` should `vitro` die.
pub fn hold(held: &Held) {
    send(&held.line(true));
}

/// `vitro` has dealt with `held` itself: the reaper forgets it.
pub fn release(held: &Held) {
    send(&held.line(false));
}

fn send(line: &str) {
    let mut state = state().lock().unwrap_or_else(|p| p.into_inner());
    if let State::Enabled(exe) = &*state {
        *state = match super::spawn::spawn_reaper(exe) {
            Ok(stdin) => State::Running(stdin),
            Err(e) => {
                tracing::warn!("cannot start the reaper ({e}); if vitro is killed, what its plugins started may be left running");
                State::Failed
            }
        };
    }
    if let State::Running(stdin) = &mut *state {
        if let Err(e) = stdin.write_all(line.as_bytes()) {
            tracing::warn!(
                "the reaper is gone ({e}); if vitro is killed, what its plugins started may be left running"
            );
            *state = State::Failed;
        }
    }
}

/// The reaper's own main: collects what it holds from stdin until it ends, then cleans up.
pub fn run() -> ExitCode {
    // SAFETY: setting signal dispositions before any thread starts.
    unsafe {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    let mut held: Vec<Held> = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match Held::parse(&line) {
            Some((true, item)) => held.push(item),
            Some((false, item)) => held.retain(|h| *h != item),
            None => {}
        }
    }
    clean_up(&held);
    ExitCode::SUCCESS
}

fn clean_up(held: &[Held]) {
    let mut trees: Vec<i32> = Vec::new();
    for item in held {
        if let Held::Tree(pid) = item {
            trees.extend(descendants(*pid));
        }
    }
    let groups: Vec<i32> =
        held.iter().filter_map(|h| if let Held::Group(pgid) = h { Some(*pgid) } else { None }).collect();
    let signal_all = |signal: i32| {
        let mut any = false;
        for &pgid in &groups {
            // SAFETY: only sends a signal.
            any |= unsafe { libc::killpg(pgid, signal) } == 0;
        }
        for &pid in &trees {
            // SAFETY: only sends a signal.
            any |= unsafe { libc::kill(pid, signal) } == 0;
        }
        any
    };
    if signal_all(libc::SIGTERM) {
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline && any_alive(&groups, &trees) {
            std::thread::sleep(Duration::from_millis(20));
        }
        signal_all(libc::SIGKILL);
    }
    for item in held {
        if let Held::Dir(path) = item {
            remove_dir(path);
        }
    }
}

/// Sends `signal` to `pid` and every process below it.
pub fn kill_tree(pid: i32, signal: i32) {
    if pid <= 1 {
        return;
    }
    for member in descendants(pid) {
        // SAFETY: only sends a signal.
        unsafe { libc::kill(member, signal) };
    }
}

fn remove_dir(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
}

/// Whether any process of `groups` or `trees` is still running (zombies do not count).
fn any_alive(groups: &[i32], trees: &[i32]) -> bool {
    processes().iter().any(|p| !p.zombie && (groups.contains(&p.pgid) || trees.contains(&p.pid)))
}

/// `pid` and every process below it, found through `/proc`.
fn descendants(pid: i32) -> Vec<i32> {
    let all = processes();
    let mut found = vec![pid];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        found.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        index += 1;
    }
    found
}

struct Process {
    pid: i32,
    ppid: i32,
    pgid: i32,
    zombie: bool,
}

fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // After the command name, which may hold spaces and parentheses: state ppid pgrp ...
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some(Process {
                pid,
                ppid: fields.get(1)?.parse().ok()?,
                pgid: fields.get(2)?.parse().ok()?,
                zombie: fields.first() == Some(&"Z"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_items_travel_as_lines() {
        for item in [Held::Group(42), Held::Tree(7), Held::Dir(PathBuf::from("/run/user/0/vitro-x"))] {
            for hold in [true, false] {
                let line = item.line(hold);
                assert_eq!(Held::parse(line.trim_end()), Some((hold, item.clone())), "{line}");
            }
        }
        for bad in ["", "+group", "+group 1", "+group -5", "*dir /x", "+what 3"] {
            assert_eq!(Held::parse(bad), None, "{bad}");
        }
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a test's own child, not a plugin
    fn descendants_include_the_process_itself_its_children_and_theirs() {
        // A child that starts a grandchild; both are found under this process, and no
        // process that is not below it.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 60 & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
            .unwrap();
        let grandchild: i32 = line.trim().parse().unwrap();
        let me = std::process::id() as i32;
        let tree = descendants(me);
        // SAFETY: signalling the grandchild this test started.
        unsafe { libc::kill(grandchild, libc::SIGTERM) };
        let _ = child.wait();
        assert_eq!(tree[0], me);
        assert!(tree.contains(&(child.id() as i32)), "the child: {tree:?}");
        assert!(tree.contains(&grandchild), "the grandchild: {tree:?}");
        assert!(!tree.contains(&1), "init is no descendant: {tree:?}");
    }
}
