//! Devices: creating them, running their hooks and methods, finding them through the host.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Hook, Role};

/// `device/create` params: make a device instance inside the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceCreateParams {
    /// Unique device name from the inventory.
    pub name: String,
    /// One of the plugin's device types.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The device's merged config entry (inventory merged with environment).
    pub config: serde_json::Value,
    /// Directory for the device's console logs (`--save-console-logs`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_log_dir: Option<String>,
    /// Since 1.3: stream every console of this device as `$/console/output` from the moment it
    /// is added, until the device is gone, whoever opens or closes it: the host keeps the logs
    /// (the plugin runs on an exporter host). `console_log_dir` is then absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub console_log_stream: bool,
}

/// `device/create` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceCreateResult {
    /// The members of this very device, when they differ from what its type declares (for
    /// drivers whose members are only known once the instance exists); since 1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<super::MethodInfo>>,
}

/// `device/hook` params: run one lifecycle hook on a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceHookParams {
    /// Device name.
    pub device: String,
    /// Which hook.
    pub hook: Hook,
    /// The test's environment requirement, for `contingency-check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_req: Option<serde_json::Value>,
}

/// `device/call` params: call a custom device method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceCallParams {
    /// Device name.
    pub device: String,
    /// One of the type's `methods`.
    pub method: String,
    /// Method arguments; their shape is the method's own.
    #[serde(default)]
    pub params: serde_json::Value,
    /// Keyword arguments that go with an array of positional `params` (since 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `device/call` result: whatever the method returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct DeviceCallResult(pub serde_json::Value);

/// `host/devices` params: find devices; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceQuery {
    /// Exact device name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exact device type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Role of the device's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A registered device, as the host knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceDescription {
    /// Device name.
    pub name: String,
    /// Device type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Role of its type.
    pub role: Role,
    /// Name of the plugin that owns it.
    pub plugin: String,
    /// Its merged config.
    pub config: serde_json::Value,
    /// Qualified class names its type reports (since 1.1; see `DeviceTypeInfo::classes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Its custom methods (and, since 1.1, properties): what its type declares, or what
    /// `device/create` answered for this device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<super::MethodInfo>,
    /// The templates its type implements (since 1.2; see `DeviceTypeInfo::implements`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<String>,
}

/// `host/devices` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceList {
    /// Matching devices, sorted by name.
    pub devices: Vec<DeviceDescription>,
}
