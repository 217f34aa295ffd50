//! The devices the host knows, as plugins see them through `host/devices`, `host/config` and
//! `host/call`.

use std::collections::HashMap;
use std::sync::RwLock;

use tokio::sync::broadcast;
use vitro_protocol::session::SessionConfig;
use vitro_protocol::types::{ConsoleData, DeviceDescription, DeviceQuery};
use vitro_rpc::PeerHandle;

use crate::console_logs::ConsoleLogs;

/// How many console chunks a slow viewer may fall behind before it misses some (the plugin's
/// console log still has every byte).
const CONSOLE_BACKLOG: usize = 4096;

/// Registered devices, shared by every plugin connection, and the console output plugins stream.
#[derive(Debug)]
pub struct Registry {
    devices: RwLock<Vec<DeviceDescription>>,
    /// The connection to each device's plugin, by device name.
    owners: RwLock<HashMap<String, PeerHandle>>,
    config: RwLock<Option<SessionConfig>>,
    consoles: broadcast::Sender<ConsoleData>,
    /// The console logs written here (devices on exporters).
    pub console_logs: ConsoleLogs,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            devices: RwLock::default(),
            owners: RwLock::default(),
            config: RwLock::default(),
            consoles: broadcast::channel(CONSOLE_BACKLOG).0,
            console_logs: ConsoleLogs::default(),
        }
    }
}

impl Registry {
    /// Hands console output from a plugin to every viewer.
    pub fn publish_console(&self, data: ConsoleData) {
        self.console_logs.write(&data);
        let _ = self.consoles.send(data);
    }

    /// Console output of every opened console from now on.
    pub fn console_output(&self) -> broadcast::Receiver<ConsoleData> {
        self.consoles.subscribe()
    }

    /// Records the deployment's parsed config, which `host/config` answers from then on.
    pub fn set_config(&self, config: SessionConfig) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Some(config);
    }

    /// The deployment's config, once it is parsed.
    pub fn config(&self) -> Option<SessionConfig> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The connection to the plugin that owns device `name`.
    pub fn owner(&self, name: &str) -> Option<PeerHandle> {
        self.owners.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// Adds (or replaces, by name) a device, owned by the plugin at the other end of `owner`.
    pub fn insert(&self, device: DeviceDescription, owner: Option<PeerHandle>) {
        if let Some(owner) = owner {
            self.owners.write().unwrap_or_else(|p| p.into_inner()).insert(device.name.clone(), owner);
        }
        let mut devices = self.devices.write().unwrap_or_else(|p| p.into_inner());
        devices.retain(|d| d.name != device.name);
        let at = devices.partition_point(|d| d.name < device.name);
        devices.insert(at, device);
    }

    /// Devices matching every field given in `query`, sorted by name.
    pub fn find(&self, query: &DeviceQuery) -> Vec<DeviceDescription> {
        let devices = self.devices.read().unwrap_or_else(|p| p.into_inner());
        devices
            .iter()
            .filter(|d| query.name.as_ref().is_none_or(|n| *n == d.name))
            .filter(|d| query.type_name.as_ref().is_none_or(|t| *t == d.type_name))
            .filter(|d| query.role.is_none_or(|r| r == d.role))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitro_protocol::types::Role;

    fn device(name: &str, type_name: &str, role: Role) -> DeviceDescription {
        DeviceDescription {
            name: name.into(),
            type_name: type_name.into(),
            role,
            plugin: "p".into(),
            config: serde_json::json!({ "name": name }),
            classes: Vec::new(),
            methods: Vec::new(),
            implements: Vec::new(),
        }
    }

    #[test]
    fn finds_by_name_type_and_role_in_name_order() {
        let registry = Registry::default();
        registry.insert(device("wan", "linux_server", Role::Server), None);
        registry.insert(device("board", "qemu_board", Role::Device), None);
        registry.insert(device("lan", "linux_server", Role::Attached), None);
        let names = |q: DeviceQuery| registry.find(&q).into_iter().map(|d| d.name).collect::<Vec<_>>();
        assert_eq!(names(DeviceQuery::default()), ["board", "lan", "wan"]);
        assert_eq!(
            names(DeviceQuery { type_name: Some("linux_server".into()), ..Default::default() }),
            ["lan", "wan"]
        );
        assert_eq!(
            names(DeviceQuery {
                type_name: Some("linux_server".into()),
                role: Some(Role::Server),
                ..Default::default()
            }),
            ["wan"]
        );
        assert!(names(DeviceQuery { name: Some("nope".into()), ..Default::default() }).is_empty());
    }
}
