//! The live session: a Unix socket (mode 0600, in a private per-run directory) on which clients
//! list the held test bed's devices, read its config, call device methods (forwarded to the
//! owning plugin, answers unchanged) and release it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::Value;
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;
use vitro_protocol::methods::{
    ConsoleClosedNotice, ConsoleOutput, ConsoleWrite, DeviceCall, DeviceHook, RequestMethod as _,
};
use vitro_protocol::session::{
    ContingencyResult, DeviceState, EnvReqMatch, SessionCall, SessionCheckTemplates, SessionConfig,
    SessionConfigMethod, SessionConsoleOpen, SessionConsoleWrite, SessionConsoles, SessionContingencyCheck,
    SessionDevice, SessionDevices, SessionDevicesMethod, SessionEnvReq, SessionMarker, SessionRelease,
    TemplateCheckReport,
};
use vitro_protocol::types::{
    ConsoleClosed, ConsoleList, DeviceCallParams, DeviceDescription, DeviceHookParams, Empty, Hook,
};

use crate::consoles::ConsoleHub;
use crate::session_dir::PrivateDir;
use vitro_protocol::{ErrorKind, RpcError};
use vitro_rpc::{to_raw, BoxFuture, CallError, Handler, IncomingRequest, PeerConfig, PeerHandle};

/// Default deadline of a forwarded device call.
const CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// What a session serves: the registered devices with their plugins' connections, and the config.
pub struct SessionState {
    /// Devices and the connection to the plugin that owns each.
    pub devices: Vec<(DeviceDescription, PeerHandle)>,
    /// Merged device configs.
    pub merged: Vec<Value>,
    /// The environment file.
    pub env: Value,
    /// The board's inventory entry.
    pub inventory: Value,
    /// The board's name, when there is one.
    pub board: Option<String>,
    /// Fired by `session/release`.
    pub release: CancellationToken,
    /// Every plugin's connection.
    pub plugins: Vec<PeerHandle>,
    /// Console streams.
    pub consoles: Arc<ConsoleHub>,
    /// Devices whose type implements the contingency-check hook.
    pub contingency: Vec<String>,
}

impl SessionState {
    /// The device of that name and its plugin's connection, or an error listing the devices.
    pub fn device(&self, name: &str) -> Result<&(DeviceDescription, PeerHandle), RpcError> {
        self.devices.iter().find(|(d, _)| d.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.devices.iter().map(|(d, _)| d.name.as_str()).collect();
            RpcError::new(
                ErrorKind::UnknownDevice,
                format!("no device {name:?} in this test bed (it has: {})", names.join(", ")),
            )
        })
    }
}

/// A running session server. [`SessionServer::stop`] (or dropping it) stops serving at once:
/// the socket and its directory are removed, calls still running are answered `released`, and
/// every client is disconnected.
pub struct SessionServer {
    /// Removed (the socket with it) when taken.
    dir: Option<PrivateDir>,
    path: PathBuf,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SessionServer {
    /// Listens on `session.sock` in a fresh private directory (see [`crate::session_dir`]).
    pub fn start(state: Arc<SessionState>) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let dir = PrivateDir::create()?;
        let path = dir.path().join("session.sock");
        let stop = CancellationToken::new();
        let mut server = Self { dir: Some(dir), path, stop: stop.clone(), task: None };
        let listener = UnixListener::bind(&server.path)?;
        std::fs::set_permissions(&server.path, std::fs::Permissions::from_mode(0o600))?;
        server.task = Some(tokio::spawn(serve(listener, state, stop)));
        Ok(server)
    }

    /// The socket's path (exported as `VITRO_SESSION`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops serving and waits until every client has its answer and is disconnected.
    pub async fn stop(mut self) {
        self.stop.cancel();
        drop(self.dir.take());
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SessionServer {
    fn drop(&mut self) {
        self.stop.cancel();
        drop(self.dir.take());
    }
}

/// How long a stopping session waits for calls in flight to be answered `released`.
const DRAIN: Duration = Duration::from_secs(2);

/// Read and write buffers of a session connection: its messages are small, and a test may
/// open thousands at once.
const CLIENT_BUFFER: usize = 4 * 1024;

/// How often the session forgets the clients that left, and gives their memory back.
const SWEEP: Duration = Duration::from_secs(1);

async fn serve(listener: UnixListener, state: Arc<SessionState>, stop: CancellationToken) {
    let mut clients: Vec<PeerHandle> = Vec::new();
    let mut sweep = tokio::time::interval(SWEEP);
    // Sweeps left that give memory back: a client's tasks and buffers are freed a little after
    // its connection is seen closed, so the sweep after that gives back what they held too.
    let mut trims_due = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (read, write) = stream.into_split();
                let handler = Arc::new(SessionHandler { state: state.clone(), stop: stop.clone() });
                let mut config = PeerConfig::new("session client");
                config.buffer_size = CLIENT_BUFFER;
                clients.push(vitro_rpc::start(read, write, handler, config));
            }
            _ = sweep.tick() => {
                let before = clients.len();
                clients.retain(|c| c.closed_reason().is_none());
                if clients.len() < before {
                    clients.shrink_to_fit();
                    trims_due = 2;
                }
                if trims_due > 0 {
                    trims_due -= 1;
                    give_memory_back();
                }
            }
        }
    }
    drop(listener);
    // Calls in flight see `stop` and answer `released`; give their answers time to go out.
    let deadline = tokio::time::Instant::now() + DRAIN;
    while clients.iter().any(|c| c.handling_count() > 0) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for client in clients {
        client.close(released());
    }
}

/// Returns the heap's free memory to the system: glibc keeps what many connections freed
/// (their tasks and buffers) in its arenas otherwise.
fn give_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn released() -> RpcError {
    RpcError::new(ErrorKind::Released, "the test bed is being released; the session serves no more calls")
}

struct SessionHandler {
    state: Arc<SessionState>,
    /// Fired when the session stops serving: calls in flight and new ones answer `released`.
    stop: CancellationToken,
}

impl Handler for SessionHandler {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let stop = self.stop.clone();
        let work = handle(self.state.clone(), request);
        Box::pin(async move {
            if stop.is_cancelled() {
                return Err(released());
            }
            tokio::select! {
                result = work => result,
                () = stop.cancelled() => Err(released()),
            }
        })
    }

    fn notification(&self, _peer: &PeerHandle, _method: &str, _params: Box<RawValue>) {}
}

/// Answers one session request.
fn handle(state: Arc<SessionState>, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
    Box::pin(async move {
        match request.method.as_str() {
            SessionDevicesMethod::METHOD => {
                let mut devices: Vec<SessionDevice> = state
                    .devices
                    .iter()
                    .map(|(device, peer)| SessionDevice {
                        device: device.clone(),
                        state: if peer.closed_reason().is_some() {
                            DeviceState::Failed
                        } else {
                            DeviceState::Ready
                        },
                    })
                    .collect();
                devices.sort_by(|a, b| a.device.name.cmp(&b.device.name));
                to_raw(&SessionDevices { devices })
            }
            SessionConfigMethod::METHOD => to_raw(&SessionConfig {
                devices: state.merged.clone(),
                env: state.env.clone(),
                inventory: state.inventory.clone(),
            }),
            SessionCall::METHOD => {
                let params = request.params::<SessionCall>()?;
                let Some((description, peer)) = state.devices.iter().find(|(d, _)| d.name == params.device)
                else {
                    let names: Vec<&str> = state.devices.iter().map(|(d, _)| d.name.as_str()).collect();
                    return Err(RpcError::new(
                        ErrorKind::UnknownDevice,
                        format!(
                            "no device {:?} in this test bed (it has: {})",
                            params.device,
                            names.join(", ")
                        ),
                    ));
                };
                let timeout = match params.timeout {
                    None => CALL_TIMEOUT,
                    Some(t) => vitro_protocol::seconds::seconds(t).map_err(|why| {
                        RpcError::new(ErrorKind::InvalidParams, format!("`timeout`: {why}"))
                    })?,
                };
                let call = DeviceCallParams {
                    device: params.device,
                    method: params.method,
                    params: params.params,
                    kwargs: params.kwargs,
                };
                crate::templates::check_call_params(description, &call)?;
                let forwarded = tokio::select! {
                    result = peer.request_raw(DeviceCall::METHOD, &call, Some(timeout)) => result,
                    () = request.cancel.cancelled() => return Err(RpcError::new(ErrorKind::Cancelled, "the client went away")),
                };
                forwarded.map_err(CallError::into_rpc)
            }
            SessionCheckTemplates::METHOD => {
                let wanted = request.params::<SessionCheckTemplates>()?.device;
                if let Some(name) = &wanted {
                    state.device(name)?;
                }
                let devices: Vec<_> = state
                    .devices
                    .iter()
                    .filter(|(d, _)| wanted.as_ref().is_none_or(|name| *name == d.name))
                    .cloned()
                    .collect();
                let templates = vitro_protocol::templates::Templates::builtin();
                let results = tokio::select! {
                    results = crate::templates::live_check(templates, &devices) => results,
                    () = request.cancel.cancelled() => return Err(RpcError::new(ErrorKind::Cancelled, "the client went away")),
                };
                to_raw(&TemplateCheckReport { results })
            }
            SessionRelease::METHOD => {
                state.release.cancel();
                to_raw(&Empty {})
            }
            SessionConsoles::METHOD => {
                let device = request.params::<SessionConsoles>()?.device;
                let (_, peer) = state.device(&device)?;
                let consoles = ConsoleHub::names(peer, &device).await.map_err(CallError::into_rpc)?;
                to_raw(&ConsoleList { consoles })
            }
            SessionConsoleOpen::METHOD => {
                let target = request.params::<SessionConsoleOpen>()?;
                let (_, peer) = state.device(&target.device)?;
                let mut output = state.consoles.open(peer, &target).await.map_err(CallError::into_rpc)?;
                let client = request.peer.clone();
                let plugin = peer.clone();
                tokio::spawn(async move {
                    let reason = loop {
                        tokio::select! {
                            data = output.next() => match data {
                                Some(data) => {
                                    if client.notify::<ConsoleOutput>(&data).await.is_err() {
                                        return;
                                    }
                                }
                                None => break "the session ended".to_owned(),
                            },
                            gone = plugin.closed() => break format!("its plugin is gone: {}", gone.chain()),
                            _ = client.closed() => return,
                        }
                    };
                    let closed = ConsoleClosed { device: target.device, console: target.console, reason };
                    let _ = client.notify::<ConsoleClosedNotice>(&closed).await;
                });
                to_raw(&Empty {})
            }
            SessionConsoleWrite::METHOD => {
                let data = request.params::<SessionConsoleWrite>()?;
                let (_, peer) = state.device(&data.device)?;
                let forwarded =
                    peer.request_raw(ConsoleWrite::METHOD, &data, Some(Duration::from_secs(30))).await;
                forwarded.map_err(CallError::into_rpc)
            }
            SessionEnvReq::METHOD => {
                let env_req = request.params::<SessionEnvReq>()?.env_req;
                let matches = crate::env_req::is_env_matching(&env_req, &state.env)
                    .map_err(|e| RpcError::new(ErrorKind::InvalidParams, e))?;
                to_raw(&EnvReqMatch { matches })
            }
            SessionContingencyCheck::METHOD => {
                let env_req = request.params::<SessionContingencyCheck>()?.env_req;
                let checks = state.contingency.iter().map(|name| {
                    let env_req = env_req.clone();
                    let state = &state;
                    async move {
                        let (_, peer) = state.device(name)?;
                        let params = DeviceHookParams {
                            device: name.clone(),
                            hook: Hook::ContingencyCheck,
                            env_req: Some(env_req),
                        };
                        peer.request::<DeviceHook>(&params, Some(CALL_TIMEOUT)).await.map_err(|e| {
                            let mut e = e.into_rpc();
                            e.message = format!("contingency check of {name} failed: {}", e.message);
                            e
                        })
                    }
                });
                for result in futures_util::future::join_all(checks).await {
                    result?;
                }
                let mut checked = state.contingency.clone();
                checked.sort();
                to_raw(&ContingencyResult { checked })
            }
            SessionMarker::METHOD => {
                let text = request.params::<SessionMarker>()?.text;
                state.consoles.registry().console_logs.mark(&text);
                ConsoleHub::marker(&state.plugins, &text).await.map_err(CallError::into_rpc)?;
                to_raw(&Empty {})
            }
            other => {
                Err(RpcError::new(ErrorKind::MethodNotFound, format!("the session has no method `{other}`")))
            }
        }
    })
}
