//! A client of a live test bed: the Unix socket `vitro` serves while it holds the bed
//! (`vitro run -- CMD` exports its path as `VITRO_SESSION`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::Value;
use vitro_protocol::session::{
    SessionCall, SessionCallParams, SessionConfig, SessionConfigMethod, SessionDevice, SessionDevicesMethod,
    SessionRelease, SESSION_ENV,
};
use vitro_protocol::types::Empty;
use vitro_protocol::{ErrorKind, RpcError};

use crate::peer::{self, BoxFuture, CallError, Handler, IncomingRequest, PeerConfig, PeerHandle};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to a live session.
#[derive(Clone)]
pub struct Session {
    peer: PeerHandle,
}

struct NoRequests;

impl Handler for NoRequests {
    fn request(&self, request: IncomingRequest) -> BoxFuture<Result<Box<RawValue>, RpcError>> {
        let method = request.method;
        Box::pin(async move {
            Err(RpcError::new(ErrorKind::MethodNotFound, format!("a session client has no `{method}`")))
        })
    }
    fn notification(&self, _peer: &PeerHandle, _method: &str, _params: Box<RawValue>) {}
}

impl Session {
    /// Connects to the socket at `path`.
    pub async fn connect(path: &Path) -> std::io::Result<Self> {
        let stream = tokio::net::UnixStream::connect(path).await?;
        let (read, write) = stream.into_split();
        let peer = peer::start(read, write, Arc::new(NoRequests), PeerConfig::new("vitro session"));
        Ok(Self { peer })
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
            timeout: Some(timeout.as_secs_f64()),
        };
        let slack = timeout + Duration::from_secs(5);
        Ok(self.peer.request::<SessionCall>(&params, Some(slack)).await?.0)
    }

    /// Asks `vitro` to release the bed and end the session.
    pub async fn release(&self) -> Result<(), CallError> {
        self.peer.request::<SessionRelease>(&Empty {}, Some(TIMEOUT)).await.map(|_| ())
    }
}
