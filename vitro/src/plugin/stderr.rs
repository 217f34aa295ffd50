//! Drains a plugin's stderr line by line into `tracing`, keeping the last lines for error reports.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio_util::sync::CancellationToken;

/// How many of the last stderr lines an error report carries.
pub const TAIL_LINES: usize = 20;
/// Longer stderr lines are cut to this many bytes.
const MAX_LINE: usize = 4096;

/// The last lines a plugin wrote to stderr, and whether its stderr has ended.
#[derive(Clone, Default)]
pub struct StderrTail {
    lines: Arc<Mutex<VecDeque<String>>>,
    ended: CancellationToken,
}

impl StderrTail {
    /// The last lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// Waits until stderr ended.
    pub async fn ended(&self) {
        self.ended.cancelled().await;
    }

    fn push(&self, line: String) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }
}

/// Spawns the task that drains `stderr`, tagging each line with `plugin`.
pub fn capture<R: AsyncRead + Unpin + Send + 'static>(plugin: String, stderr: R) -> StderrTail {
    let tail = StderrTail::default();
    let task_tail = tail.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        loop {
            line.clear();
            let Ok(available) = reader.fill_buf().await else { break };
            if available.is_empty() {
                break;
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let used = newline.map_or(available.len(), |i| i + 1);
            line.extend_from_slice(&available[..newline.unwrap_or(available.len()).min(MAX_LINE)]);
            reader.consume(used);
            if newline.is_none() {
                // Skip the rest of an overlong line.
                loop {
                    let Ok(rest) = reader.fill_buf().await else { break };
                    if rest.is_empty() {
                        break;
                    }
                    let nl = rest.iter().position(|&b| b == b'\n');
                    let used = nl.map_or(rest.len(), |i| i + 1);
                    reader.consume(used);
                    if nl.is_some() {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&line).trim_end().to_owned();
            tracing::info!(target: "vitro::plugin::stderr", plugin = %plugin, "{text}");
            task_tail.push(text);
        }
        task_tail.ended.cancel();
    });
    tail
}
