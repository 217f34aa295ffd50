//! Plugin-level hooks: reservation, config parsing, env setup, post-setup and release.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `plugin/reserve` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReserveParams {
    /// `--board-name`.
    pub board_name: String,
    /// Values of the plugin's own flags, by name.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// `plugin/reserve` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReserveResult {
    /// The inventory object for the board (as one board's entry of an inventory file).
    pub inventory: serde_json::Value,
}

/// One RFC 6902 operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatchOperation {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: String,
    /// JSON Pointer the operation applies to.
    pub path: String,
    /// Value for `add`, `replace` and `test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// Source pointer for `move` and `copy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// `plugin/parseConfig` params: the merged device list, before devices are registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParseConfigParams {
    /// The merged device configs, as `vitro config` prints them.
    pub devices: Vec<serde_json::Value>,
    /// Values of the plugin's own flags, by name.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// `plugin/parseConfig` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParseConfigResult {
    /// RFC 6902 patch against `devices`; empty leaves the config unchanged.
    #[serde(default)]
    pub patch: Vec<PatchOperation>,
}

/// `plugin/setupEnv` and `plugin/postSetup` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SetupParams {
    /// Values of the plugin's own flags, by name.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
    /// Directory for console logs (`--save-console-logs`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_log_dir: Option<String>,
}

/// How the deployment ended, told to `plugin/release`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DeploymentStatus {
    /// Every phase passed.
    Success,
    /// A phase failed.
    Failed,
    /// SIGINT or SIGTERM stopped it.
    Interrupted,
    /// A status this version does not know.
    #[serde(other)]
    Unknown,
}

/// `plugin/release` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReleaseParams {
    /// How the deployment ended.
    pub status: DeploymentStatus,
    /// One-line cause when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
