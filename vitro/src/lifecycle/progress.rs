//! Progress lines on stderr: one per device and phase event, with the time since the start.

use std::time::{Duration, Instant};

/// Prints one progress line per event to stderr, with the time since the start.
#[derive(Clone, Copy)]
pub struct Progress {
    start: Instant,
}

impl Progress {
    /// Starts the clock.
    pub fn new() -> Self {
        Self { start: Instant::now() }
    }

    /// Prints `[   1.23s] device  phase  message`.
    pub fn line(&self, device: &str, phase: &str, message: &str) {
        use std::io::Write;
        // One write per line: `eprintln!` would make one system call per formatted piece.
        let line = format_line(self.start.elapsed(), device, phase, message);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// One progress line. Plugins choose device names and messages, so control characters in them
/// are escaped: no line can be forged and no escape sequence reaches the terminal.
fn format_line(elapsed: Duration, device: &str, phase: &str, message: &str) -> String {
    use vitro_protocol::names::printable;
    let (device, message) = (printable(device), printable(message));
    format!("[{:>8.2}s] {device:<16} {phase:<18} {message}\n", elapsed.as_secs_f64())
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
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
