//! What a deployment shows on stderr while it runs: a live board on a terminal (one row per
//! device, updated in place), or plain lines (one per device and phase event, with the time
//! since the start) where output is read later, or nothing with `-q`.

mod board;
mod live;

pub use live::{say, stderr_writer, AboveBoard};

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vitro_protocol::names::printable;
use vitro_protocol::secrets::Secrets;

/// How progress is shown (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// The board on a terminal that can show it; plain lines otherwise (not a terminal,
    /// `NO_COLOR`, `TERM=dumb`).
    #[default]
    Auto,
    /// The live board on any terminal (whatever `NO_COLOR` and `TERM` say); plain lines
    /// without one.
    Board,
    /// One line per device and phase event.
    Plain,
}

enum View {
    Plain,
    Quiet,
    Board(live::Live),
}

/// Where a deployment's progress goes; clones show on the same view.
#[derive(Clone)]
pub struct Progress {
    start: Instant,
    view: Arc<Mutex<View>>,
    /// What plugins' messages may quote and must not show.
    secrets: Arc<Mutex<Secrets>>,
    /// Plain lines kept back while a command owns the terminal ([`Progress::hold_lines`]).
    held: Arc<Mutex<Option<HeldLines>>>,
}

/// Lines kept back, and how many did not fit.
#[derive(Default)]
struct HeldLines {
    lines: Vec<String>,
    dropped: usize,
}

/// The most lines kept back while a command runs; later ones are counted.
const MOST_HELD: usize = 10_000;

/// Keeps progress lines back while it lives ([`Progress::hold_lines`]); prints them when dropped.
pub struct Holding(Progress);

impl Drop for Holding {
    fn drop(&mut self) {
        let held = self.0.held.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_default();
        let mut out = std::io::stderr().lock();
        for line in &held.lines {
            let _ = out.write_all(line.as_bytes());
        }
        if held.dropped > 0 {
            let _ = writeln!(out, "vitro: {} more progress lines came while the command ran", held.dropped);
        }
    }
}

impl Progress {
    /// Starts the clock; plain lines until [`Progress::show`] says otherwise.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            view: Arc::new(Mutex::new(View::Plain)),
            secrets: Arc::default(),
            held: Arc::default(),
        }
    }

    /// From now on, each of `secrets` is masked in what plugins say.
    pub fn hide(&self, secrets: Secrets) {
        *self.secrets.lock().unwrap_or_else(|p| p.into_inner()) = secrets;
    }

    fn scrub(&self, text: &str) -> String {
        self.secrets.lock().unwrap_or_else(|p| p.into_inner()).scrub(text)
    }

    /// Shows progress as `mode` asks (`quiet`: not at all).
    pub fn show(&self, mode: Mode, quiet: bool) {
        let view = match mode {
            _ if quiet => View::Quiet,
            Mode::Board if std::io::stderr().is_terminal() => View::Board(live::Live::start(self.start)),
            Mode::Auto if board_fits() => View::Board(live::Live::start(self.start)),
            Mode::Auto | Mode::Board | Mode::Plain => View::Plain,
        };
        *self.view() = view;
    }

    /// When the clock started (`vitro`'s start): progress lines and reports count from it.
    pub fn started(&self) -> Instant {
        self.start
    }

    /// Whether progress is silenced (`-q`).
    pub fn is_quiet(&self) -> bool {
        matches!(*self.view(), View::Quiet)
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A message about `device` (or the whole bed) during `phase`.
    pub fn note(&self, device: Option<&str>, phase: &str, message: &str) {
        let message = &self.scrub(message);
        match &*self.view() {
            View::Plain => self.print(device.unwrap_or("-"), phase, message),
            View::Quiet => {}
            View::Board(live) => match device {
                Some(_) => live.board().note(device, message),
                None => say(format_line(self.start.elapsed(), "-", phase, message).trim_end()),
            },
        }
    }

    /// A device was registered.
    pub fn device(&self, name: &str, type_name: &str, plugin: &str) {
        self.on_board(|board| board.add_device(name, type_name, plugin));
    }

    /// The deployment enters `stage`: a phase with `hooks` hooks to run, or another stage (0).
    pub fn stage(&self, stage: &str, hooks: usize) {
        self.on_board(|board| board.stage(stage, hooks));
    }

    /// `device`'s hook of `phase` starts.
    pub fn hook_started(&self, device: &str, phase: &str) {
        match &*self.view() {
            View::Plain => self.print(device, phase, "started"),
            View::Quiet => {}
            View::Board(live) => live.board().started(device, phase, Instant::now()),
        }
    }

    /// `device`'s hook of `phase` ended after `took`, failed with `error` if it is there.
    pub fn hook_finished(&self, device: &str, phase: &str, took: Duration, error: Option<&str>) {
        let error = error.map(|e| self.scrub(e));
        let error = error.as_deref();
        match &*self.view() {
            View::Plain => {
                let message = match error {
                    None => format!("done in {:.2}s", took.as_secs_f64()),
                    Some(e) => format!("FAILED after {:.2}s: {e}", took.as_secs_f64()),
                };
                self.print(device, phase, &message);
            }
            View::Quiet => {}
            View::Board(live) => live.board().finished(device, phase, took, error),
        }
    }

    /// Setup is over (`ok`: it succeeded): a board is drawn a last time and left on the
    /// screen; later events (the release's failures) come as plain lines.
    pub fn finish(&self, ok: bool) {
        let mut view = self.view();
        if matches!(*view, View::Board(_)) {
            if let View::Board(live) = std::mem::replace(&mut *view, View::Plain) {
                live.board().end(ok, Instant::now());
                live.finish();
            }
        }
    }

    fn on_board(&self, change: impl FnOnce(&mut board::Board)) {
        if let View::Board(live) = &*self.view() {
            change(&mut live.board());
        }
    }

    /// Keeps plain progress lines back until the returned guard is dropped, then prints them:
    /// a command run on the bed owns the terminal meanwhile, and a line in the middle of its
    /// output (pytest's dots) would cut it.
    pub fn hold_lines(&self) -> Holding {
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(HeldLines::default());
        Holding(self.clone())
    }

    /// Prints `[   1.23s] device  phase  message`, or keeps it back while lines are held.
    fn print(&self, device: &str, phase: &str, message: &str) {
        let line = format_line(self.start.elapsed(), device, phase, message);
        if let Some(held) = self.held.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            if held.lines.len() < MOST_HELD {
                held.lines.push(line);
            } else {
                held.dropped += 1;
            }
            return;
        }
        // One write per line: `eprintln!` would make one system call per formatted piece.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether stderr is a terminal that can show the board: not `TERM=dumb`, and no `NO_COLOR`
/// (which people also set to keep programs from drawing).
fn board_fits() -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal()
        && !set("NO_COLOR")
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// One progress line. Plugins choose device names and messages, so control characters in them
/// are escaped: no line can be forged and no escape sequence reaches the terminal.
fn format_line(elapsed: Duration, device: &str, phase: &str, message: &str) -> String {
    let (device, message) = (printable(device), printable(message));
    format!("[{:>8.2}s] {device:<16} {phase:<18} {message}\n", elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_escape_what_plugins_send() {
        let line =
            format_line(Duration::from_millis(1500), "x\n[    0.00s] forged", "boot", "\u{1b}]0;pwned\u{7}");
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(!line.contains('\u{1b}'), "{line}");
        assert!(line.starts_with("[    1.50s] x\\n[    0.00s] forged boot"), "{line}");
    }
}
