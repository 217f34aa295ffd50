//! The plugin's handle back to the host: device lookups and progress.

use std::time::Duration;

use vitro_protocol::methods::{HostDevices, Progress};
use vitro_protocol::types::{DeviceDescription, DeviceQuery, ProgressParams, Role};

use crate::peer::{CallError, PeerHandle};

/// How long a lookup may take before it fails.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A cheap, cloneable handle to the host that spawned this plugin.
#[derive(Clone)]
pub struct Host {
    peer: PeerHandle,
}

impl Host {
    pub(crate) fn new(peer: PeerHandle) -> Self {
        Self { peer }
    }

    /// Registered devices matching every field given in `query`, sorted by name.
    pub async fn devices(&self, query: DeviceQuery) -> Result<Vec<DeviceDescription>, CallError> {
        Ok(self.peer.request::<HostDevices>(&query, Some(LOOKUP_TIMEOUT)).await?.devices)
    }

    /// The device of that name, if one is registered.
    pub async fn device(&self, name: &str) -> Result<Option<DeviceDescription>, CallError> {
        let query = DeviceQuery { name: Some(name.to_owned()), ..DeviceQuery::default() };
        Ok(self.devices(query).await?.into_iter().next())
    }

    /// Devices whose type has this role.
    pub async fn devices_with_role(&self, role: Role) -> Result<Vec<DeviceDescription>, CallError> {
        self.devices(DeviceQuery { role: Some(role), ..DeviceQuery::default() }).await
    }

    /// Tells the host what `device` is doing now (shown live by `vitro`).
    pub async fn progress(&self, device: &str, message: impl Into<String>, percent: Option<f32>) {
        let params = ProgressParams { device: Some(device.to_owned()), message: message.into(), percent };
        let _ = self.peer.notify::<Progress>(&params).await;
    }

    /// Tells the host what the plugin itself is doing (waiting for a board, say), shown live.
    pub async fn plugin_progress(&self, message: impl Into<String>) {
        let params = ProgressParams { device: None, message: message.into(), percent: None };
        let _ = self.peer.notify::<Progress>(&params).await;
    }

    /// The raw connection, for methods this SDK has no helper for.
    pub fn peer(&self) -> &PeerHandle {
        &self.peer
    }
}
