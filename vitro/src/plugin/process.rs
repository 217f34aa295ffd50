//! One running plugin: handshake, calls, supervision and the shutdown ladder.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::process::Child;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::{
    ConsoleOutput, Exit, HostDevices, Initialize, Initialized, Log, Progress, Shutdown,
};
use vitro_protocol::types::{
    DeviceList, Empty, HostInfo, InitializeParams, InitializeResult, Limits, LogLevel, LogParams,
    ProgressParams,
};
use vitro_protocol::{
    negotiate, ErrorKind, NotificationMethod, ProtocolVersion, RequestMethod, RpcError, PROTOCOL_VERSION,
};
use vitro_rpc::{to_raw, BoxFuture, CallError, Handler, IncomingRequest, PeerConfig, PeerHandle};

use super::spawn::{signal_group, spawn};
use super::stderr::{capture, StderrTail};
use super::PluginCommand;
use crate::registry::Registry;

/// Deadlines and limits of plugin connections.
#[derive(Debug, Clone)]
pub struct PluginOptions {
    /// How long a plugin may take to answer `initialize`.
    pub handshake_timeout: Duration,
    /// How often a plugin is pinged.
    pub ping_interval: Duration,
    /// How long a ping may take before the plugin counts as hung and is killed.
    pub ping_timeout: Duration,
    /// How long each stage of the shutdown ladder waits.
    pub grace: Duration,
    /// Log level asked of plugins.
    pub log_level: LogLevel,
    /// Largest message either side may send.
    pub max_message_size: u64,
    /// Protocol versions the host offers (tests change it to provoke version skew).
    pub protocol_versions: Vec<ProtocolVersion>,
}

impl Default for PluginOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(5),
            ping_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(2),
            log_level: LogLevel::Info,
            max_message_size: vitro_protocol::types::DEFAULT_MAX_MESSAGE_SIZE,
            protocol_versions: vec![PROTOCOL_VERSION],
        }
    }
}

/// Something a plugin told the host without being asked.
#[derive(Debug, Clone)]
pub enum PluginEvent {
    /// A `$/log` record (also written to `tracing`).
    Log {
        /// Plugin name.
        plugin: String,
        /// The record.
        record: LogParams,
    },
    /// A `$/progress` report.
    Progress {
        /// Plugin name.
        plugin: String,
        /// The report.
        progress: ProgressParams,
    },
}

/// Where plugins' events go: a bounded queue that never blocks a protocol reader. An event that
/// finds the queue full is dropped and counted, so no flood can grow `vitro`'s memory.
/// Log records always go to `tracing` as well (filtered by its level at no cost).
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::Sender<PluginEvent>,
    dropped: Arc<AtomicU64>,
    logs: bool,
}

impl EventSink {
    /// A sink holding at most `capacity` undelivered events, and the receiving end.
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<PluginEvent>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx, dropped: Arc::new(AtomicU64::new(0)), logs: true }, rx)
    }

    /// Leaves log records out of the queue (for a receiver that reads them through `tracing`).
    pub fn without_logs(mut self) -> Self {
        self.logs = false;
        self
    }

    fn send(&self, event: PluginEvent) {
        if matches!(event, PluginEvent::Log { .. }) && !self.logs {
            return;
        }
        if self.tx.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many events were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// How a plugin process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitInfo {
    /// Exit status, when it exited.
    pub code: Option<i32>,
    /// Signal, when a signal ended it.
    pub signal: Option<i32>,
    /// Its last stderr lines.
    pub stderr: Vec<String>,
    /// One line: what happened.
    pub summary: String,
}

/// A running plugin process and its connection. Stop it with [`PluginProcess::shutdown`];
/// dropping it kills its whole process group.
pub struct PluginProcess {
    command: PluginCommand,
    info: InitializeResult,
    peer: PeerHandle,
    pgid: i32,
    exit: watch::Receiver<Option<ExitInfo>>,
    stopping: CancellationToken,
    options: PluginOptions,
    stopped: bool,
}

impl PluginProcess {
    /// Spawns `command`, handshakes, and starts supervising it. `events` receives its logs and
    /// progress (drain it); `registry` answers its device lookups.
    pub async fn start(
        command: PluginCommand,
        registry: Arc<Registry>,
        events: Option<EventSink>,
        options: PluginOptions,
    ) -> Result<Self, RpcError> {
        let label = format!("plugin {}", command.name);
        let mut child = spawn(&command).map_err(|e| {
            RpcError::new(ErrorKind::PeerGone, format!("cannot start {label}: `{}`: {e}", command.program))
        })?;
        let pgid = child.id().map_or(0, |pid| pid as i32);
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            signal_group(pgid, libc::SIGKILL);
            return Err(RpcError::new(ErrorKind::Internal, format!("{label}: stdio was not piped")));
        };
        let tail = capture(command.name.clone(), stderr);
        let handler = Arc::new(HostHandler { plugin: command.name.clone(), registry, events });
        let mut config = PeerConfig::new(label.clone());
        config.max_message_size = options.max_message_size as usize;
        config.close_on_disconnect = false;
        let peer = vitro_rpc::start(stdout, stdin, handler, config);
        let (exit_tx, exit) = watch::channel(None);
        let stopping = CancellationToken::new();
        tokio::spawn(supervise(Supervised {
            child,
            peer: peer.clone(),
            tail,
            pgid,
            stopping: stopping.clone(),
            exit: exit_tx,
            options: options.clone(),
        }));
        let mut process =
            Self { command, info: placeholder_info(), peer, pgid, exit, stopping, options, stopped: false };
        match process.handshake().await {
            Ok(info) => {
                process.peer.set_name(format!("plugin {}", info.plugin.name));
                process.info = info;
                Ok(process)
            }
            Err(err) => {
                process.shutdown().await;
                Err(err)
            }
        }
    }

    async fn handshake(&self) -> Result<InitializeResult, RpcError> {
        let label = self.peer.name().to_owned();
        let params = InitializeParams {
            protocol_versions: self.options.protocol_versions.clone(),
            host: HostInfo { name: "vitro".into(), version: env!("CARGO_PKG_VERSION").into() },
            limits: Limits { max_message_size: self.options.max_message_size },
            log_level: self.options.log_level,
        };
        let info =
            self.peer.request::<Initialize>(&params, Some(self.options.handshake_timeout)).await.map_err(
                |e| match e {
                    CallError::Local(e) if e.kind() == ErrorKind::Timeout => RpcError::new(
                        ErrorKind::Timeout,
                        format!(
                            "{label} did not answer `initialize` within {:?}",
                            self.options.handshake_timeout
                        ),
                    ),
                    CallError::Local(e) => e,
                    CallError::Remote(mut e) => {
                        e.message = format!("{label} refused `initialize`: {}", e.message);
                        e
                    }
                },
            )?;
        let chosen = info.protocol_version;
        if negotiate(&self.options.protocol_versions, &[chosen]) != Ok(chosen) {
            let offered: Vec<String> =
                self.options.protocol_versions.iter().map(ToString::to_string).collect();
            return Err(RpcError::new(
                ErrorKind::VersionMismatch,
                format!(
                    "{label} chose protocol {chosen}, but the host speaks {}; upgrade {}",
                    offered.join(", "),
                    if chosen.major > PROTOCOL_VERSION.major { "vitro" } else { "the plugin (its SDK)" }
                ),
            ));
        }
        self.peer.notify::<Initialized>(&Empty {}).await.map_err(CallError::into_rpc)?;
        Ok(info)
    }

    /// What the plugin said in its handshake.
    pub fn info(&self) -> &InitializeResult {
        &self.info
    }

    /// The command it was started with.
    pub fn command(&self) -> &PluginCommand {
        &self.command
    }

    /// Its process group id (its pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The connection.
    pub fn peer(&self) -> &PeerHandle {
        &self.peer
    }

    /// How it ended, once it has.
    pub fn exit_info(&self) -> Option<ExitInfo> {
        self.exit.borrow().clone()
    }

    /// Calls method `M` on the plugin. `Err(CallError::Remote)` is the plugin saying no;
    /// `Err(CallError::Local)` is a timeout or the plugin being gone (with its exit status and
    /// last stderr lines).
    pub async fn request<M: RequestMethod>(
        &self,
        params: &M::Params,
        timeout: Option<Duration>,
    ) -> Result<M::Result, CallError> {
        self.peer.request::<M>(params, timeout).await
    }

    /// Sends a notification to the plugin.
    pub async fn notify<M: NotificationMethod>(&self, params: &M::Params) -> Result<(), CallError> {
        self.peer.notify::<M>(params).await
    }

    /// Stops the plugin: `shutdown`, `exit`, close stdin, grace, SIGTERM to its group, grace,
    /// SIGKILL, reap. Every stage waits at most [`PluginOptions::grace`]. Idempotent.
    pub async fn shutdown(&mut self) -> ExitInfo {
        if !self.stopped {
            self.stopped = true;
            self.stopping.cancel();
            self.ladder().await;
        }
        self.wait_exit(None).await.unwrap_or_else(|| unreachable_exit(&self.peer.name()))
    }

    async fn ladder(&mut self) {
        let grace = self.options.grace;
        if self.exit_info().is_none() {
            let _ = self.peer.request::<Shutdown>(&Empty {}, Some(grace)).await;
            let _ = tokio::time::timeout(grace, self.peer.notify::<Exit>(&Empty {})).await;
        }
        let reason = format!("{} was shut down by the host", self.peer.name());
        self.peer.close(RpcError::new(ErrorKind::PeerGone, reason));
        if self.wait_exit(Some(grace)).await.is_some() {
            return;
        }
        tracing::warn!(
            "{} did not exit after `exit`; sending SIGTERM to its process group",
            self.peer.name()
        );
        signal_group(self.pgid, libc::SIGTERM);
        if self.wait_exit(Some(grace)).await.is_some() {
            return;
        }
        tracing::warn!("{} ignored SIGTERM; sending SIGKILL to its process group", self.peer.name());
        signal_group(self.pgid, libc::SIGKILL);
    }

    async fn wait_exit(&mut self, limit: Option<Duration>) -> Option<ExitInfo> {
        let wait = self.exit.wait_for(Option::is_some);
        let found = match limit {
            Some(limit) => tokio::time::timeout(limit, wait).await.ok()?,
            None => wait.await,
        };
        found.ok().and_then(|info| info.clone())
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        if !self.stopped || self.exit.borrow().is_none() {
            signal_group(self.pgid, libc::SIGKILL);
        }
    }
}

fn unreachable_exit(label: &str) -> ExitInfo {
    ExitInfo {
        code: None,
        signal: None,
        stderr: Vec::new(),
        summary: format!("{label}: its supervisor stopped"),
    }
}

fn placeholder_info() -> InitializeResult {
    InitializeResult {
        protocol_version: PROTOCOL_VERSION,
        plugin: vitro_protocol::types::PluginInfo {
            name: String::new(),
            version: String::new(),
            sdk: String::new(),
        },
        device_types: Vec::new(),
        capabilities: Vec::new(),
        cli_args: Vec::new(),
        max_concurrency: None,
    }
}

struct Supervised {
    child: Child,
    peer: PeerHandle,
    tail: StderrTail,
    pgid: i32,
    stopping: CancellationToken,
    exit: watch::Sender<Option<ExitInfo>>,
    options: PluginOptions,
}

/// Waits for the process to end (or kills it when it hangs), then fails every call in flight
/// with an error naming how it ended, and kills what is left of its process group.
async fn supervise(mut s: Supervised) {
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

/// Answers a plugin's calls to the host and takes its notifications.
struct HostHandler {
    plugin: String,
    registry: Arc<Registry>,
    events: Option<EventSink>,
}

impl Handler for HostHandler {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let reply = match request.method.as_str() {
            HostDevices::METHOD => request
                .params::<HostDevices>()
                .and_then(|query| to_raw(&DeviceList { devices: self.registry.find(&query) })),
            other => {
                Err(RpcError::new(ErrorKind::MethodNotFound, format!("the host has no method `{other}`")))
            }
        };
        Box::pin(async move { reply })
    }

    fn notification(&self, _peer: &PeerHandle, method: &str, params: Box<RawValue>) {
        let plugin = self.plugin.clone();
        let event = match method {
            Log::METHOD => match serde_json::from_str::<LogParams>(params.get()) {
                Ok(record) => {
                    emit_log(&plugin, &record);
                    PluginEvent::Log { plugin, record }
                }
                Err(e) => return tracing::warn!(plugin = %plugin, "malformed `$/log`: {e}"),
            },
            Progress::METHOD => match serde_json::from_str::<ProgressParams>(params.get()) {
                Ok(progress) => {
                    tracing::debug!(plugin = %plugin, device = ?progress.device, "{}", progress.message);
                    PluginEvent::Progress { plugin, progress }
                }
                Err(e) => return tracing::warn!(plugin = %plugin, "malformed `$/progress`: {e}"),
            },
            ConsoleOutput::METHOD => {
                match serde_json::from_str(params.get()) {
                    Ok(data) => self.registry.publish_console(data),
                    Err(e) => tracing::warn!(plugin = %plugin, "malformed `$/console/output`: {e}"),
                }
                return;
            }
            other => return tracing::debug!(plugin = %plugin, "ignored notification `{other}`"),
        };
        if let Some(events) = &self.events {
            events.send(event);
        }
    }
}

/// A `$/log` record's message with its structured fields appended as `key=value`.
fn log_text(record: &LogParams) -> String {
    let mut text = record.message.clone();
    for (key, value) in &record.fields {
        match value {
            serde_json::Value::String(s) => text.push_str(&format!(" {key}={s:?}")),
            other => text.push_str(&format!(" {key}={other}")),
        }
    }
    text
}

fn emit_log(plugin: &str, record: &LogParams) {
    let device = record.device.as_deref().unwrap_or("");
    let target = record.target.as_str();
    let message = log_text(record);
    match record.level {
        LogLevel::Error => {
            tracing::error!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        LogLevel::Warn => {
            tracing::warn!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        LogLevel::Debug => {
            tracing::debug!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        LogLevel::Trace => {
            tracing::trace!(target: "vitro::plugin", plugin, device, source = target, "{message}")
        }
        _ => tracing::info!(target: "vitro::plugin", plugin, device, source = target, "{message}"),
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

    #[test]
    fn log_fields_are_shown_after_the_message() {
        let record: LogParams = serde_json::from_value(serde_json::json!({
            "level": "warn", "message": "link down", "fields": {"answer": 42, "port": "eth0"}
        }))
        .unwrap();
        assert_eq!(log_text(&record), r#"link down answer=42 port="eth0""#);
    }
}
