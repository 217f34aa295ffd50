//! The environment and inventory files users write, in Python Vitro's format. Only what Vitro
//! itself reads is described; device entries stay open, because drivers add their own keys.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A device in an inventory: `name` and `type`, plus whatever its driver reads.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InventoryDevice {
    /// Unique name; `board` is the device under test (it gets `resource_name`).
    pub name: String,
    /// Device type; a plugin must provide it.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Per-hook deadlines in seconds, e.g. `{"boot": 900}` (read by `vitro`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vitro_timeouts: Option<BTreeMap<String, f64>>,
    /// Where the device's driver runs (read by `vitro`): an exporter host that `ssh` reaches
    /// (`exporter-1`, `lab@10.0.0.5`), or a whole command prefix (`ssh -p 2222 lab@exporter-1`);
    /// the plugin is started as `PREFIX env VITRO_PLUGIN=1 vitro-plugin-NAME`, one process per
    /// (host, plugin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vitro_plugin_host: Option<String>,
    /// Driver-specific keys.
    #[serde(flatten)]
    pub driver: Map<String, Value>,
}

/// One board of an inventory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InventoryBoard {
    /// Its devices.
    pub devices: Vec<InventoryDevice>,
    /// A key of the top-level `locations`, whose devices are appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Other keys (kept, not read by `vitro`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Devices shared by every board at a location.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InventoryLocation {
    /// Devices appended to a board that names this location.
    #[serde(default)]
    pub devices: Vec<InventoryDevice>,
}

/// An inventory file: one key per board (`--board-name` picks one), and optionally `locations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InventoryFile {
    /// Shared devices by location name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<BTreeMap<String, InventoryLocation>>,
    /// Boards by name.
    #[serde(flatten)]
    pub boards: BTreeMap<String, InventoryBoard>,
}

/// The environment's requirements: an entry per device name merged into that device, and
/// optionally `lan_clients` / `wifi_clients` (found at any depth). Where both sides give a key,
/// the environment's value wins. LAN and Wi-Fi client devices take their config from
/// `lan_clients` / `wifi_clients` only (not from an entry under their name), and only as many of
/// them are deployed as those lists ask for; `vitro`, `vitro config` and the report name every
/// inventory device left out and every entry that matches no deployed device (Python Vitro
/// 0.8.1 drops them the same way, without a word).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EnvironmentDef {
    /// LAN clients, paired by index with the inventory's LAN devices (the client's keys win over
    /// the device's); LAN devices beyond this list's length are not deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan_clients: Option<Vec<Map<String, Value>>>,
    /// Wi-Fi clients, matched to Wi-Fi devices by `band` (a device of band `dual` matches any;
    /// the client's keys win); Wi-Fi devices no client matched are not deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wifi_clients: Option<Vec<Map<String, Value>>>,
    /// Per device name: keys merged into that device (objects merge key by key, any other
    /// value of the environment replaces the inventory's).
    #[serde(flatten)]
    pub devices: BTreeMap<String, Value>,
}

/// An environment file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EnvironmentFile {
    /// Required.
    pub environment_def: EnvironmentDef,
    /// Other keys (kept, not read by `vitro`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The device config key that names where the device's driver runs ([`InventoryDevice::vitro_plugin_host`]).
pub const PLUGIN_HOST_KEY: &str = "vitro_plugin_host";
