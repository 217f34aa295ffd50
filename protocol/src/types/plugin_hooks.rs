//! Plugin-level hooks: reservation, config parsing, env setup, post-setup and release.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `vitro`'s own deployment flags (Python Vitro's core flags), as given on its command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostArgs {
    /// `--board-name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_name: Option<String>,
    /// `--env-config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_config: Option<String>,
    /// `--inventory-config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_config: Option<String>,
    /// `--skip-boot`.
    #[serde(default)]
    pub skip_boot: bool,
    /// `--skip-contingency-checks`.
    #[serde(default)]
    pub skip_contingency_checks: bool,
    /// `--save-console-logs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_console_logs: Option<String>,
    /// `--ignore-devices`, split at commas.
    #[serde(default)]
    pub ignore_devices: Vec<String>,
}

/// `plugin/configure` params: sent once, after the command line is parsed and before
/// reservation, to plugins with the `configure` capability (since 1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigureParams {
    /// `vitro`'s own flags.
    pub args: HostArgs,
    /// Values of the plugin's own flags, by name.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
}

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
    /// The board reserved, when it is not the one asked for by name (`--board-name any`, or a
    /// filter of the plugin's own); since 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_name: Option<String>,
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
    /// The environment file as read (since 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<serde_json::Value>,
    /// The board's inventory entry as read or reserved (since 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<serde_json::Value>,
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
