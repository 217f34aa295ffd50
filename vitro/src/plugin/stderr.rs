//! Drains a plugin's stderr line by line into `tracing`, keeping the last lines for error reports.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio_util::sync::CancellationToken;

/// How many of the last stderr lines an error report carries.
pub const TAIL_LINES: usize = 20;
/// Longer stderr lines are cut to this many bytes (the rest is dropped, not buffered).
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

/// Spawns the task that drains `stderr`, tagging each line with `plugin`'s name as it is then.
pub(super) fn capture<R: AsyncRead + Unpin + Send + 'static>(
    plugin: super::process::PluginName,
    stderr: R,
) -> StderrTail {
    let tail = StderrTail::default();
    let task_tail = tail.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        let mut overlong = false;
        while let Ok(available) = reader.fill_buf().await {
            if available.is_empty() {
                break;
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            let room = MAX_LINE.saturating_sub(line.len());
            overlong |= chunk.len() > room;
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = newline.map_or(available.len(), |i| i + 1);
            reader.consume(used);
            if newline.is_some() {
                let mut text = String::from_utf8_lossy(&line).trim_end().to_owned();
                if overlong {
                    text.push_str(" [...]");
                }
                tracing::info!(target: "vitro::plugin::stderr", plugin = %plugin.read(), "{text}");
                task_tail.push(text);
                line.clear();
                overlong = false;
            }
        }
        if !line.is_empty() {
            task_tail.push(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        task_tail.ended.cancel();
    });
    tail
}
