//! Device consoles: one API (`send`, `sendline`, `sendcontrol`, `expect`, `execute_command`,
//! `check_output`, `login_to_server`) over every transport, with console logs.
//!
//! A console has one reader task that hands every byte to every subscriber (the driver's expect
//! buffer, the console log, later viewers) through unbounded queues, so no reader slows another
//! down and none loses bytes; writes go through one lock, so there is one writer at a time.
//!
//! Transports, named as Python Vitro's `connection_type`: `local_cmd` (a command in a real PTY,
//! feature `pty`), `serial` (feature `serial`), `ser2net` (a raw TCP port) and `telnet` (with
//! option negotiation; both feature `telnet`), `ssh_connection` and `authenticated_ssh` (feature
//! `ssh`).

pub use vitro_console_log::clean;
mod connect;
mod error;
pub use vitro_console_log::log;
mod pattern;
#[cfg(feature = "ssh")]
pub mod ssh;
#[cfg(feature = "telnet")]
mod telnet;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

pub use connect::{connect, ConnectOptions, SUPPORTED};
pub use error::ConsoleError;
pub use pattern::{Match, Pattern};

/// Bytes of already-searched output that `expect` searches again, so a match split across reads
/// is found. Patterns whose matches are longer than this can be missed.
pub const SEARCH_OVERLAP: usize = 8 * 1024;

/// How a console behaves.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Console name, used in logs and errors (e.g. `board.console`).
    pub name: String,
    /// Patterns of the shell prompt, for `execute_command`.
    pub prompt: Vec<Pattern>,
    /// Line ending `sendline` appends.
    pub linesep: String,
    /// Write a console log here.
    pub log: Option<PathBuf>,
}

impl ConsoleOptions {
    /// Options with a prompt of `prompt` (a regex), `\n` line endings and no log.
    pub fn new(name: &str, prompt: &str) -> Result<Self, ConsoleError> {
        Ok(Self {
            name: name.to_owned(),
            prompt: vec![Pattern::regex(prompt)?],
            linesep: "\n".into(),
            log: None,
        })
    }
}

type Subscribers = Arc<Mutex<Vec<mpsc::UnboundedSender<Bytes>>>>;

struct ExpectBuffer {
    rx: mpsc::UnboundedReceiver<Bytes>,
    buffer: Vec<u8>,
    search_from: usize,
    closed: bool,
}

/// A device console.
pub struct Console {
    options: ConsoleOptions,
    writer: tokio::sync::Mutex<Option<Box<dyn AsyncWrite + Send + Unpin>>>,
    reader: tokio::sync::Mutex<ExpectBuffer>,
    subscribers: Subscribers,
    last_output: Mutex<String>,
    on_close: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    log: Option<log::Log>,
}

impl Console {
    /// Starts a console over a reader and a writer; `on_close` runs once at [`Console::close`]
    /// (to stop a local process, say).
    pub fn start<R, W>(
        reader: R,
        writer: W,
        options: ConsoleOptions,
        on_close: Option<Box<dyn FnOnce() + Send>>,
    ) -> Self
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut subscribers = vec![tx];
        let log = options.log.as_ref().map(|path| log::spawn_writer(path.clone(), log::ROTATE_BYTES));
        subscribers.extend(log.as_ref().map(log::Log::sender));
        let subscribers: Subscribers = Arc::new(Mutex::new(subscribers));
        tokio::spawn(pump(reader, subscribers.clone()));
        Self {
            options,
            writer: tokio::sync::Mutex::new(Some(Box::new(writer))),
            reader: tokio::sync::Mutex::new(ExpectBuffer {
                rx,
                buffer: Vec::new(),
                search_from: 0,
                closed: false,
            }),
            subscribers,
            last_output: Mutex::new(String::new()),
            on_close: Mutex::new(on_close),
            log,
        }
    }

    /// Console name.
    pub fn name(&self) -> &str {
        &self.options.name
    }

    /// Every byte read from now on (for a viewer or a second reader).
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
        rx
    }

    /// Writes a marker line into the console log (if it has one), on a line of its own.
    pub fn mark(&self, text: &str) {
        if let Some(log) = &self.log {
            log.send(Bytes::from(format!("\n##### {text}\n")));
        }
    }

    /// Writes raw bytes.
    pub async fn send(&self, data: impl AsRef<[u8]>) -> Result<(), ConsoleError> {
        let mut writer = self.writer.lock().await;
        let Some(writer) = writer.as_mut() else {
            return Err(ConsoleError::Io(format!("{}: the console is closed", self.options.name)));
        };
        let io = |e: std::io::Error| ConsoleError::Io(format!("{}: writing failed: {e}", self.options.name));
        writer.write_all(data.as_ref()).await.map_err(io)?;
        writer.flush().await.map_err(io)
    }

    /// Writes `line` and the line ending.
    pub async fn sendline(&self, line: &str) -> Result<(), ConsoleError> {
        self.send(format!("{line}{}", self.options.linesep)).await
    }

    /// Sends a control character: `sendcontrol('c')` is Ctrl-C.
    pub async fn sendcontrol(&self, key: char) -> Result<(), ConsoleError> {
        self.send([(key.to_ascii_lowercase() as u8) & 0x1f]).await
    }

    /// Drops the output read so far that no `expect` has consumed.
    pub async fn discard_unread(&self) {
        let mut r = self.reader.lock().await;
        while let Ok(chunk) = r.rx.try_recv() {
            drop(chunk);
        }
        r.buffer.clear();
        r.search_from = 0;
    }

    /// Waits until one of `patterns` appears, at most `timeout`; consumes the output up to the
    /// end of the match.
    pub async fn expect(&self, patterns: &[Pattern], timeout: Duration) -> Result<Match, ConsoleError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut r = self.reader.lock().await;
        loop {
            let found = patterns
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.find(&r.buffer, r.search_from).map(|(s, e)| (s, i, e)))
                .min();
            if let Some((start, index, end)) = found {
                let before = String::from_utf8_lossy(&r.buffer[..start]).into_owned();
                let matched = String::from_utf8_lossy(&r.buffer[start..end]).into_owned();
                r.buffer.drain(..end);
                r.search_from = 0;
                *self.last_output.lock().unwrap_or_else(|p| p.into_inner()) = before.clone();
                return Ok(Match { index, before, matched });
            }
            r.search_from = r.buffer.len().saturating_sub(SEARCH_OVERLAP);
            if r.closed {
                return Err(ConsoleError::Closed {
                    console: self.options.name.clone(),
                    last: tail(&r.buffer),
                });
            }
            match tokio::time::timeout_at(deadline, r.rx.recv()).await {
                Ok(Some(chunk)) => {
                    r.buffer.extend_from_slice(&chunk);
                    while let Ok(more) = r.rx.try_recv() {
                        r.buffer.extend_from_slice(&more);
                    }
                }
                Ok(None) => r.closed = true,
                Err(_) => {
                    return Err(ConsoleError::Timeout {
                        console: self.options.name.clone(),
                        patterns: patterns.iter().map(Pattern::describe).collect(),
                        waited: timeout,
                        last: tail(&r.buffer),
                    })
                }
            }
        }
    }

    /// `expect` for exact strings.
    pub async fn expect_exact(&self, texts: &[&str], timeout: Duration) -> Result<Match, ConsoleError> {
        let patterns: Vec<Pattern> = texts.iter().map(|t| Pattern::exact(t)).collect();
        self.expect(&patterns, timeout).await
    }

    /// Waits for the shell prompt (e.g. the first one after connecting, before the first command).
    pub async fn expect_prompt(&self, timeout: Duration) -> Result<Match, ConsoleError> {
        self.expect(&self.options.prompt, timeout).await
    }

    /// Runs `command` at the prompt and returns its output, without the echoed command, the
    /// prompt, escape sequences and carriage returns.
    /// Output that came while no `expect` ran (a person typing at an attached console, a late
    /// prompt) is discarded first, so an old prompt cannot end the command early; the console
    /// log has it.
    pub async fn execute_command(&self, command: &str, timeout: Duration) -> Result<String, ConsoleError> {
        self.discard_unread().await;
        self.sendline(command).await?;
        let found = self.expect(&self.options.prompt, timeout).await?;
        Ok(command_output(&found.before, command))
    }

    /// Like `execute_command`, but when the prompt does not come back in time it sends Ctrl-C,
    /// waits up to 5 s for the prompt, and fails naming the command.
    pub async fn check_output(&self, command: &str, timeout: Duration) -> Result<String, ConsoleError> {
        match self.execute_command(command, timeout).await {
            Err(ConsoleError::Timeout { .. }) => {
                self.sendcontrol('c').await?;
                let recovered = self.expect(&self.options.prompt, Duration::from_secs(5)).await.is_ok();
                Err(ConsoleError::NoPrompt { command: command.to_owned(), waited: timeout, recovered })
            }
            other => other,
        }
    }

    /// Answers a password prompt, if one comes, and waits for the shell prompt.
    pub async fn login_to_server(&self, password: &str, timeout: Duration) -> Result<(), ConsoleError> {
        let mut patterns = vec![Pattern::regex("(?i)password:")?];
        patterns.extend(self.options.prompt.iter().cloned());
        if self.expect(&patterns, timeout).await?.index == 0 {
            self.sendline(password).await?;
            self.expect(&self.options.prompt, timeout).await?;
        }
        Ok(())
    }

    /// Raw passthrough: bytes from `input` go to the console and console output goes to
    /// `output` (first what `expect` has not consumed) until `input` sends Ctrl-] (0x1d) or ends.
    /// Other readers (the console log) keep seeing everything meanwhile.
    pub async fn interact<I, O>(&self, mut input: I, mut output: O) -> Result<(), ConsoleError>
    where
        I: AsyncRead + Unpin,
        O: AsyncWrite + Unpin,
    {
        const DETACH: u8 = 0x1d;
        let io = |e: std::io::Error| ConsoleError::Io(format!("interact: {e}"));
        let mut r = self.reader.lock().await;
        let pending = std::mem::take(&mut r.buffer);
        r.search_from = 0;
        output.write_all(&pending).await.map_err(io)?;
        output.flush().await.map_err(io)?;
        let mut buf = vec![0u8; 4096];
        loop {
            tokio::select! {
                chunk = r.rx.recv(), if !r.closed => match chunk {
                    Some(chunk) => {
                        output.write_all(&chunk).await.map_err(io)?;
                        output.flush().await.map_err(io)?;
                    }
                    None => r.closed = true,
                },
                read = input.read(&mut buf) => {
                    let n = read.map_err(io)?;
                    let typed = &buf[..n];
                    let end = typed.iter().position(|&b| b == DETACH);
                    self.send(&typed[..end.unwrap_or(n)]).await?;
                    if n == 0 || end.is_some() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// [`Console::interact`] on this process's terminal, in raw mode, until Ctrl-].
    pub async fn interact_terminal(&self) -> Result<(), ConsoleError> {
        let raw = crate::terminal::RawTerminal::enter()
            .map_err(|e| ConsoleError::Io(format!("interact: the terminal: {e}")))?;
        let result = self.interact(tokio::io::stdin(), tokio::io::stdout()).await;
        drop(raw);
        result
    }

    /// The output before the last match.
    pub fn get_last_output(&self) -> String {
        self.last_output.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Closes the console: no more writes, and the transport's own close runs (once).
    pub async fn close(&self) {
        if let Some(mut writer) = self.writer.lock().await.take() {
            let _ = writer.shutdown().await;
        }
        if let Some(close) = self.on_close.lock().unwrap_or_else(|p| p.into_inner()).take() {
            close();
        }
    }
}

impl Drop for Console {
    /// A console dropped without [`Console::close`] still ends what runs behind it (a local
    /// process), so its blocking reader returns and the runtime can shut down.
    fn drop(&mut self) {
        if let Some(close) = self.on_close.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            close();
        }
    }
}

fn tail(buffer: &[u8]) -> String {
    String::from_utf8_lossy(&buffer[buffer.len().saturating_sub(500)..]).into_owned()
}

/// The output of a command: cleaned lines, the echoed command line dropped.
fn command_output(before: &str, command: &str) -> String {
    let mut cleaner = clean::Cleaner::default();
    let mut line = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    cleaner.feed(before.as_bytes(), &mut line, |l| lines.push(String::from_utf8_lossy(l).into_owned()));
    if !line.is_empty() {
        lines.push(String::from_utf8_lossy(&line).into_owned());
    }
    // A terminal may wrap or scroll a long echo over several lines: the echo ends at the first of
    // its lines that ends like the command.
    let command = command.trim();
    let tail = &command[command.char_indices().rev().nth(7).map_or(0, |(i, _)| i)..];
    let echo_lines = command.len() / 40 + 2;
    if let Some(end) = lines.iter().take(echo_lines).position(|line| line.trim_end().ends_with(tail)) {
        lines.drain(..=end);
    }
    lines.join("\n")
}

async fn pump<R: AsyncRead + Unpin>(mut reader: R, subscribers: Subscribers) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = Bytes::copy_from_slice(&buf[..n]);
        subscribers.lock().unwrap_or_else(|p| p.into_inner()).retain(|s| s.send(chunk.clone()).is_ok());
    }
    subscribers.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

/// The console cases both SDKs replay, from `tests/fixtures/console/<name>.json`.
#[cfg(test)]
pub(crate) fn shared_cases(name: &str) -> Vec<serde_json::Value> {
    let path = format!("{}/../tests/fixtures/console/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the shared cases")).expect("JSON");
    assert!(!cases.is_empty(), "{path} has no cases");
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The echo cases both SDKs replay: `tests/fixtures/console/echo.json`.
    #[test]
    fn command_output_drops_the_echo_in_the_shared_cases() {
        for case in shared_cases("echo") {
            let output = command_output(case["before"].as_str().unwrap(), case["command"].as_str().unwrap());
            assert_eq!(output, case["output"].as_str().unwrap(), "{}", case["case"]);
        }
    }
}
