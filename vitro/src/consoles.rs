//! Device consoles as the host sees them: owned by plugins, streamed once per console, and
//! shared by every viewer (the interactive menu, session clients).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::sync::broadcast;
use vitro_protocol::methods::{ConsoleMarker, ConsoleOpen, ConsoleWrite, DeviceConsoles};
use vitro_protocol::types::{ConsoleData, ConsoleRef, DeviceRef, MarkerParams};
use vitro_rpc::{CallError, PeerHandle};

use crate::registry::Registry;

const TIMEOUT: Option<Duration> = Some(Duration::from_secs(30));

/// Opens plugin console streams (once each) and hands their output to viewers.
pub struct ConsoleHub {
    registry: Arc<Registry>,
    opened: Mutex<HashSet<ConsoleRef>>,
}

impl ConsoleHub {
    /// A hub over the registry that receives the plugins' console output.
    pub fn new(registry: Arc<Registry>) -> Self {
        Self { registry, opened: Mutex::default() }
    }

    /// The registry it reads console output from.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The console names of `device`, owned by the plugin behind `peer`.
    pub async fn names(peer: &PeerHandle, device: &str) -> Result<Vec<String>, CallError> {
        let params = DeviceRef { device: device.to_owned() };
        Ok(peer.request::<DeviceConsoles>(&params, TIMEOUT).await?.consoles)
    }

    /// The output of `target` from now on, after making sure its plugin streams it.
    pub async fn open(&self, peer: &PeerHandle, target: &ConsoleRef) -> Result<ConsoleStream, CallError> {
        let output = ConsoleStream { output: self.registry.console_output(), target: target.clone() };
        let first = self.opened.lock().unwrap_or_else(|p| p.into_inner()).insert(target.clone());
        if first {
            if let Err(e) = peer.request::<ConsoleOpen>(target, TIMEOUT).await {
                self.opened.lock().unwrap_or_else(|p| p.into_inner()).remove(target);
                return Err(e);
            }
        }
        Ok(output)
    }

    /// Writes `bytes` to a console.
    pub async fn write(peer: &PeerHandle, target: &ConsoleRef, bytes: &[u8]) -> Result<(), CallError> {
        let data = ConsoleData {
            device: target.device.clone(),
            console: target.console.clone(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        };
        peer.request::<ConsoleWrite>(&data, TIMEOUT).await.map(|_| ())
    }

    /// Writes a marker line into every console log of every plugin.
    pub async fn marker(plugins: &[PeerHandle], text: &str) -> Result<(), CallError> {
        let params = MarkerParams { text: text.to_owned() };
        for peer in plugins {
            peer.request::<ConsoleMarker>(&params, TIMEOUT).await?;
        }
        Ok(())
    }
}

/// One console's output, as a viewer receives it.
pub struct ConsoleStream {
    output: broadcast::Receiver<ConsoleData>,
    target: ConsoleRef,
}

impl ConsoleStream {
    /// The next chunk of this console; `None` once no more can come. A viewer that fell behind
    /// skips what it missed (the plugin's console log has every byte).
    pub async fn next(&mut self) -> Option<ConsoleData> {
        loop {
            match self.output.recv().await {
                Ok(data) if data.device == self.target.device && data.console == self.target.console => {
                    return Some(data)
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// The bytes of a console chunk.
pub fn decode(data: &ConsoleData) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(&data.data).unwrap_or_default()
}
