//! The live-session protocol: what a client (a test run, a person's shell) asks of a held test
//! bed over the Unix socket named by `VITRO_SESSION`. Same framing as the plugin protocol; the
//! client only sends requests, `vitro` only answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::{DeviceDescription, Empty};

/// Environment variable holding the session socket's path.
pub const SESSION_ENV: &str = "VITRO_SESSION";

/// What state a device is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DeviceState {
    /// Set up and usable.
    Ready,
    /// Its plugin is gone; calls fail with `peer-gone`.
    Failed,
    /// A state this version does not know.
    #[serde(other)]
    Unknown,
}

/// A device of the held test bed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionDevice {
    /// Name, type, role, plugin and merged config.
    #[serde(flatten)]
    pub device: DeviceDescription,
    /// Whether it can be used.
    pub state: DeviceState,
}

/// `session/devices` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionDevices {
    /// Every registered device, sorted by name.
    pub devices: Vec<SessionDevice>,
}

/// `session/config` result: the merged device list and the raw files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionConfig {
    /// The merged device configs, as `vitro config` prints them (after config-parsing hooks).
    pub devices: Vec<serde_json::Value>,
    /// The environment file as read.
    pub env: serde_json::Value,
    /// The board's inventory entry as read (or as reserved).
    pub inventory: serde_json::Value,
}

/// `session/call` params: a device's custom method, forwarded to its plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionCallParams {
    /// Device name.
    pub device: String,
    /// Method name.
    pub method: String,
    /// Its arguments.
    #[serde(default)]
    pub params: serde_json::Value,
    /// Keyword arguments that go with an array of positional `params` (since 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kwargs: Option<serde_json::Map<String, serde_json::Value>>,
    /// Seconds the call may take (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

/// A test's environment requirement (pytest-vitro's `env_req` marker argument).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnvReqParams {
    /// The requirement, matched against the environment file.
    pub env_req: serde_json::Value,
}

/// `session/envReq` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvReqMatch {
    /// Whether the environment satisfies the requirement (pytest-vitro 0.5's rules).
    pub matches: bool,
}

/// `session/contingencyCheck` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ContingencyResult {
    /// Devices whose contingency check ran and passed, sorted.
    pub checked: Vec<String>,
}

/// `session/checkTemplates` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateCheckParams {
    /// Only this device (all that declare templates when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// How one checked call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The result fits the method's result schema.
    Passed,
    /// The result breaks the schema (`schema_path`, `instance_path` and `value` say where).
    Failed,
    /// The call itself failed (`message` says why).
    Error,
    /// An outcome this version does not know.
    #[serde(other)]
    Unknown,
}

/// One template method called on one device with one side-effect-free example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateCheckResult {
    /// Device name.
    pub device: String,
    /// The template as the device's type declares it (`lan@1`).
    pub template: String,
    /// Method name.
    pub method: String,
    /// The example's params it was called with.
    pub params: serde_json::Value,
    /// How it went.
    pub outcome: CheckOutcome,
    /// Why it failed or errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where in the result schema the check failed (a JSON Pointer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    /// Where in the result the offending value is (a JSON Pointer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_path: Option<String>,
    /// The offending value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// `session/checkTemplates` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateCheckReport {
    /// Every call made, by device, template and method.
    pub results: Vec<TemplateCheckResult>,
}

crate::methods::requests! {
    pub fn descriptors;
    pub(crate) fn add_schemas;
    /// List the devices with name, type, role, plugin, state and merged config.
    SessionDevicesMethod = "session/devices", PluginToHost, Empty => SessionDevices;
    /// The merged device list and the raw environment and inventory.
    SessionConfigMethod = "session/config", PluginToHost, Empty => SessionConfig;
    /// Call a device's custom method in its plugin; the result or the plugin's error comes back unchanged.
    SessionCall = "session/call", PluginToHost, SessionCallParams => crate::types::DeviceCallResult;
    /// Release the test bed and end the session (`vitro` then exits).
    SessionRelease = "session/release", PluginToHost, Empty => Empty;
    /// The names of a device's consoles.
    SessionConsoles = "session/consoles", PluginToHost, crate::types::DeviceRef => crate::types::ConsoleList;
    /// Stream a console's output to this client as `$/console/output` notifications.
    SessionConsoleOpen = "session/console/open", PluginToHost, crate::types::ConsoleRef => Empty;
    /// Write bytes to a console.
    SessionConsoleWrite = "session/console/write", PluginToHost, crate::types::ConsoleData => Empty;
    /// Write a marker line into every console log.
    SessionMarker = "session/marker", PluginToHost, crate::types::MarkerParams => Empty;
    /// Whether the environment satisfies an `env_req` (pytest-vitro 0.5's matching rules).
    SessionEnvReq = "session/envReq", PluginToHost, EnvReqParams => EnvReqMatch;
    /// Run every device's contingency check for an `env_req`; the first failure is the error.
    SessionContingencyCheck = "session/contingencyCheck", PluginToHost, EnvReqParams => ContingencyResult;
    /// Call each side-effect-free template example on each device that declares the template, and check each result against the template's result schema.
    SessionCheckTemplates = "session/checkTemplates", PluginToHost since(1, 2), TemplateCheckParams => TemplateCheckReport;
}

#[cfg(test)]
mod since_tests {
    use super::*;
    use crate::{ProtocolVersion, RequestMethod};

    #[test]
    fn session_methods_say_the_version_they_came_with() {
        assert_eq!(SessionCheckTemplates::SINCE, ProtocolVersion::new(1, 2));
        assert_eq!(SessionCall::SINCE, ProtocolVersion::new(1, 0));
        let described = descriptors();
        let check = described.iter().find(|m| m.name == "session/checkTemplates").unwrap();
        assert_eq!(check.since, ProtocolVersion::new(1, 2));
    }
}
