//! A client of a live test bed: the Unix socket `vitro` serves while it holds the bed
//! (`vitro run -- CMD` exports its path as `VITRO_SESSION`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::mpsc;
use vitro_protocol::methods::{ConsoleClosedNotice, ConsoleOutput};
use vitro_protocol::session::{
    EnvReqParams, SessionCall, SessionCallParams, SessionConfig, SessionConfigMethod, SessionConsoleOpen,
    SessionConsoleWrite, SessionConsoles, SessionContingencyCheck, SessionDevice, SessionDevicesMethod,
    SessionEnvReq, SessionMarker, SessionRelease, SESSION_ENV,
};
use vitro_protocol::types::{ConsoleClosed, ConsoleData, ConsoleRef, DeviceRef, Empty, MarkerParams};
use vitro_protocol::NotificationMethod;
use vitro_protocol::{ErrorKind, RpcError};

use crate::peer::{self, BoxFuture, CallError, Handler, IncomingRequest, PeerConfig, PeerHandle};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to a live session.
#[derive(Clone)]
pub struct Session {
    peer: PeerHandle,
    viewers: Viewers,
}

type Viewers = Arc<Mutex<Vec<(ConsoleRef, mpsc::UnboundedSender<ConsoleEvent>)>>>;

/// What a console stream delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleEvent {
    /// Bytes the console read.
    Output(Vec<u8>),
    /// The stream ended, and why (e.g. the device's plugin is gone).
    Closed(String),
}

/// Hands `$/console/output` to the receivers of [`Session::open_console`].
struct Client {
    viewers: Viewers,
}

impl Handler for Client {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let method = request.method;
        Box::pin(async move {
            Err(RpcError::new(ErrorKind::MethodNotFound, format!("a session client has no `{method}`")))
        })
    }

    fn notification(&self, _peer: &PeerHandle, method: &str, params: Box<RawValue>) {
        let (device, console, event) = match method {
            ConsoleOutput::METHOD => {
                let Ok(data) = serde_json::from_str::<ConsoleData>(params.get()) else { return };
                let Ok(bytes) = BASE64.decode(&data.data) else { return };
                (data.device, data.console, ConsoleEvent::Output(bytes))
            }
            ConsoleClosedNotice::METHOD => {
                let Ok(closed) = serde_json::from_str::<ConsoleClosed>(params.get()) else { return };
                (closed.device, closed.console, ConsoleEvent::Closed(closed.reason))
            }
            _ => return,
        };
        let mut viewers = self.viewers.lock().unwrap_or_else(|p| p.into_inner());
        viewers.retain(|(target, tx)| {
            target.device != device || target.console != console || tx.send(event.clone()).is_ok()
        });
    }
}

impl Session {
    /// Connects to the socket at `path`.
    pub async fn connect(path: &Path) -> std::io::Result<Self> {
        let stream = tokio::net::UnixStream::connect(path).await?;
        let (read, write) = stream.into_split();
        let viewers = Viewers::default();
        let client = Arc::new(Client { viewers: viewers.clone() });
        let peer = peer::start(read, write, client, PeerConfig::new("vitro session"));
        Ok(Self { peer, viewers })
    }

    /// Connects to the session named by `VITRO_SESSION`.
    pub async fn from_env() -> std::io::Result<Self> {
        let path = std::env::var_os(SESSION_ENV).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{SESSION_ENV} is not set: run under `vitro run -- ...`"),
            )
        })?;
        Self::connect(Path::new(&path)).await
    }

    /// Every device of the bed, sorted by name.
    pub async fn devices(&self) -> Result<Vec<SessionDevice>, CallError> {
        Ok(self.peer.request::<SessionDevicesMethod>(&Empty {}, Some(TIMEOUT)).await?.devices)
    }

    /// The merged configs and the raw files.
    pub async fn config(&self) -> Result<SessionConfig, CallError> {
        self.peer.request::<SessionConfigMethod>(&Empty {}, Some(TIMEOUT)).await
    }

    /// Calls `method` of `device` in its plugin, waiting at most `timeout`.
    pub async fn call(
        &self,
        device: &str,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CallError> {
        let params = SessionCallParams {
            device: device.to_owned(),
            method: method.to_owned(),
            params,
            kwargs: None,
            timeout: Some(timeout.as_secs_f64()),
        };
        let slack = timeout + Duration::from_secs(5);
        Ok(self.peer.request::<SessionCall>(&params, Some(slack)).await?.0)
    }

    /// The console names of `device`.
    pub async fn consoles(&self, device: &str) -> Result<Vec<String>, CallError> {
        let params = DeviceRef { device: device.to_owned() };
        Ok(self.peer.request::<SessionConsoles>(&params, Some(TIMEOUT)).await?.consoles)
    }

    /// Streams a console's output from now on; the last event tells why a stream ended.
    pub async fn open_console(
        &self,
        device: &str,
        console: &str,
    ) -> Result<mpsc::UnboundedReceiver<ConsoleEvent>, CallError> {
        let target = ConsoleRef { device: device.to_owned(), console: console.to_owned() };
        let (tx, rx) = mpsc::unbounded_channel();
        self.viewers.lock().unwrap_or_else(|p| p.into_inner()).push((target.clone(), tx));
        self.peer.request::<SessionConsoleOpen>(&target, Some(TIMEOUT)).await?;
        Ok(rx)
    }

    /// Types `bytes` into a console.
    pub async fn write_console(&self, device: &str, console: &str, bytes: &[u8]) -> Result<(), CallError> {
        let data = ConsoleData {
            device: device.to_owned(),
            console: console.to_owned(),
            data: BASE64.encode(bytes),
        };
        self.peer.request::<SessionConsoleWrite>(&data, Some(TIMEOUT)).await.map(|_| ())
    }

    /// Writes a marker line into every console log.
    pub async fn marker(&self, text: &str) -> Result<(), CallError> {
        self.peer
            .request::<SessionMarker>(&MarkerParams { text: text.to_owned() }, Some(TIMEOUT))
            .await
            .map(|_| ())
    }

    /// Whether the environment satisfies `env_req` (pytest-vitro 0.5's rules, decided by `vitro`).
    pub async fn env_req_matches(&self, env_req: Value) -> Result<bool, CallError> {
        Ok(self.peer.request::<SessionEnvReq>(&EnvReqParams { env_req }, Some(TIMEOUT)).await?.matches)
    }

    /// Runs every device's contingency check for `env_req`; returns the devices checked.
    pub async fn contingency_check(&self, env_req: Value) -> Result<Vec<String>, CallError> {
        let params = EnvReqParams { env_req };
        Ok(self
            .peer
            .request::<SessionContingencyCheck>(&params, Some(Duration::from_secs(600)))
            .await?
            .checked)
    }

    /// Asks `vitro` to release the bed and end the session.
    pub async fn release(&self) -> Result<(), CallError> {
        self.peer.request::<SessionRelease>(&Empty {}, Some(TIMEOUT)).await.map(|_| ())
    }
}
