//! What a plugin reports unasked: log records and progress.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::LogLevel;

/// `$/log` params: one structured log record from a plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogParams {
    /// Severity.
    pub level: LogLevel,
    /// The message.
    pub message: String,
    /// Where it comes from (module path, logger name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// The device it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Structured fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// `$/progress` params: what a device is doing now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProgressParams {
    /// The device it concerns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Short text, e.g. `waiting for login prompt`.
    pub message: String,
    /// Completion in percent, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f32>,
}
