//! The consoles a plugin's devices registered, as the host reaches them: listing, streaming
//! output as `$/console/output`, writing, and log markers.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use base64::Engine;
use vitro_protocol::methods::ConsoleOutput;
use vitro_protocol::types::{ConsoleData, ConsoleRef};
use vitro_protocol::{ErrorKind, RpcError};

use crate::console::Console;
use crate::peer::PeerHandle;

type Key = (String, String);

/// Registered consoles and their open streams.
#[derive(Default)]
pub(crate) struct Consoles {
    consoles: Mutex<HashMap<Key, Arc<Console>>>,
    streams: Mutex<HashMap<Key, tokio::task::AbortHandle>>,
    /// Devices whose consoles stream to the host from the moment they are added, for the
    /// host's console logs (`console_log_stream`); `console/close` leaves those streams open.
    streamed: Mutex<HashMap<String, PeerHandle>>,
}

impl Consoles {
    pub(crate) fn add(&self, device: &str, name: &str, console: Arc<Console>) {
        self.consoles.lock().insert((device.to_owned(), name.to_owned()), console);
        let streamed = self.streamed.lock().get(device).cloned();
        if let Some(peer) = streamed {
            let target = ConsoleRef { device: device.to_owned(), console: name.to_owned() };
            let _ = self.open(&target, &peer);
        }
    }

    /// Streams every console of `device` to the host behind `peer`, from the moment it is added.
    pub(crate) fn stream_all(&self, device: &str, peer: PeerHandle) {
        self.streamed.lock().insert(device.to_owned(), peer);
    }

    pub(crate) fn names(&self, device: &str) -> Vec<String> {
        let mut names: Vec<String> =
            self.consoles.lock().keys().filter(|(d, _)| d == device).map(|(_, c)| c.clone()).collect();
        names.sort();
        names
    }

    fn get(&self, device: &str, console: &str) -> Result<Arc<Console>, RpcError> {
        self.consoles.lock().get(&(device.to_owned(), console.to_owned())).cloned().ok_or_else(|| {
            RpcError::new(ErrorKind::UnknownDevice, format!("device {device} has no console {console:?}"))
        })
    }

    pub(crate) fn open(&self, target: &ConsoleRef, peer: &PeerHandle) -> Result<(), RpcError> {
        let console = self.get(&target.device, &target.console)?;
        let key = (target.device.clone(), target.console.clone());
        if self.streamed.lock().contains_key(&target.device) && self.streams.lock().contains_key(&key) {
            // Streaming since it was added; a second stream would send every byte twice.
            return Ok(());
        }
        let mut output = console.subscribe();
        let (peer, target2) = (peer.clone(), target.clone());
        let task = tokio::spawn(async move {
            while let Some(chunk) = output.recv().await {
                let params = ConsoleData {
                    device: target2.device.clone(),
                    console: target2.console.clone(),
                    data: base64::engine::general_purpose::STANDARD.encode(&chunk),
                };
                if peer.notify::<ConsoleOutput>(&params).await.is_err() {
                    break;
                }
            }
        });
        if let Some(old) =
            self.streams.lock().insert((target.device.clone(), target.console.clone()), task.abort_handle())
        {
            old.abort();
        }
        Ok(())
    }

    pub(crate) fn close(&self, target: &ConsoleRef) {
        if self.streamed.lock().contains_key(&target.device) {
            return;
        }
        if let Some(stream) = self.streams.lock().remove(&(target.device.clone(), target.console.clone())) {
            stream.abort();
        }
    }

    pub(crate) async fn write(&self, data: &ConsoleData) -> Result<(), RpcError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(&data.data).map_err(|e| {
            RpcError::new(ErrorKind::InvalidParams, format!("console data is not base64: {e}"))
        })?;
        let console = self.get(&data.device, &data.console)?;
        console.send(bytes).await.map_err(|e| RpcError::new(ErrorKind::DeviceError, e.to_string()))
    }

    pub(crate) fn marker(&self, text: &str) {
        for console in self.consoles.lock().values() {
            console.mark(text);
        }
    }
}
