//! Why a console operation failed.

use std::fmt;
use std::time::Duration;

/// Why a console operation failed.
#[derive(Debug)]
pub enum ConsoleError {
    /// Nothing matched in time.
    Timeout {
        /// Console name.
        console: String,
        /// What was awaited.
        patterns: Vec<String>,
        /// How long.
        waited: Duration,
        /// The last output seen (up to 500 bytes).
        last: String,
    },
    /// The far side closed the console.
    Closed {
        /// Console name.
        console: String,
        /// The last output seen.
        last: String,
    },
    /// A command did not give the prompt back.
    NoPrompt {
        /// The command.
        command: String,
        /// How long it had.
        waited: Duration,
        /// Whether the prompt came back after Ctrl-C.
        recovered: bool,
    },
    /// A pattern that does not compile.
    BadPattern(String),
    /// The connection could not be made or failed.
    Io(String),
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsoleError::Timeout { console, patterns, waited, last } => write!(
                f,
                "{console}: none of {} appeared within {waited:?}; last output: {last:?}",
                patterns.join(", ")
            ),
            ConsoleError::Closed { console, last } => {
                write!(f, "{console}: the console was closed by the far side; last output: {last:?}")
            }
            ConsoleError::NoPrompt { command, waited, recovered } => write!(
                f,
                "`{command}` did not finish within {waited:?}; sent Ctrl-C{}",
                if *recovered { " and the prompt came back" } else { " but the prompt did not come back" }
            ),
            ConsoleError::BadPattern(what) => write!(f, "bad expect pattern {what}"),
            ConsoleError::Io(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for ConsoleError {}
