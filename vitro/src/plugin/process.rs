//! One running plugin: handshake, calls, supervision and the shutdown ladder.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::{Exit, Initialize, Initialized, Shutdown};
use vitro_protocol::types::{Empty, HostInfo, InitializeParams, InitializeResult, Limits, LogLevel};
use vitro_protocol::{
    negotiate, ErrorKind, NotificationMethod, ProtocolVersion, RequestMethod, RpcError, PROTOCOL_VERSION,
};
use vitro_rpc::{CallError, PeerConfig, PeerHandle};

use super::events::{EventSink, HostHandler};
use super::spawn::{signal_group, spawn};
use super::stderr::capture;
use super::supervise::{supervise, Supervised};
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
    /// Log level asked of plugins: by default the most verbose one that `vitro`'s own log shows
    /// (`-v` info, `-vv` debug, `RUST_LOG`), so that a plugin sends no record that would be
    /// dropped.
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
            log_level: shown_log_level(),
            max_message_size: vitro_protocol::types::DEFAULT_MAX_MESSAGE_SIZE,
            protocol_versions: vec![PROTOCOL_VERSION],
        }
    }
}

/// A plugin's name as its log lines and stderr lines show it: its file's until the handshake,
/// then its own.
pub(super) type PluginName = Arc<parking_lot::RwLock<String>>;

/// The most verbose level `vitro`'s log shows.
fn shown_log_level() -> LogLevel {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current() {
        LevelFilter::TRACE => LogLevel::Trace,
        LevelFilter::DEBUG => LogLevel::Debug,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::WARN => LogLevel::Warn,
        _ => LogLevel::Error,
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
        // Named after its file until the handshake says its own name, which is used from then on.
        let name: PluginName = Arc::new(parking_lot::RwLock::new(command.name.clone()));
        let tail = capture(name.clone(), stderr);
        let handler = Arc::new(HostHandler { plugin: name.clone(), registry, events });
        let mut config = PeerConfig::new(label.clone());
        config.max_message_size = options.max_message_size as usize;
        config.close_on_disconnect = false;
        config.answer_unreadable = false;
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
                if info.plugin.name != process.command.name && process.command.names_its_file() {
                    tracing::warn!(
                        "plugin file {}{} calls itself {} in its handshake: vitro names it {} everywhere",
                        super::discover::PREFIX,
                        process.command.name,
                        info.plugin.name,
                        info.plugin.name
                    );
                }
                *name.write() = info.plugin.name.clone();
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
