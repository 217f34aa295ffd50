//! What happened, for `--report FILE.json` and the closing summary.

use std::collections::BTreeMap;

use serde::Serialize;

/// The outcome of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every phase passed.
    Success,
    /// Something failed.
    Failed,
    /// SIGINT or SIGTERM stopped it.
    Interrupted,
}

/// One device in the report.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    /// Device name.
    pub name: String,
    /// Device type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Owning plugin.
    pub plugin: String,
    /// Seconds each phase took for it, by phase name.
    pub phases: BTreeMap<String, f64>,
    /// The error of its failed hook, if one failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One plugin in the report.
#[derive(Debug, Clone, Serialize)]
pub struct PluginReport {
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// How its process ended.
    pub exit: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Success, failed or interrupted.
    pub result: Outcome,
    /// The one-line cause when it did not succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The phase that failed, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<String>,
    /// `--board-name`.
    pub board: Option<String>,
    /// Registered devices, in deployment order.
    pub devices: Vec<DeviceReport>,
    /// Plugins, in start order.
    pub plugins: Vec<PluginReport>,
    /// Seconds spent setting up and releasing.
    pub durations: BTreeMap<String, f64>,
}
