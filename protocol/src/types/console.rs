//! Consoles: listing, streaming, typing into them and marking their logs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Names one device (`device/consoles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceRef {
    /// Device name.
    pub device: String,
}

/// `device/consoles` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsoleList {
    /// Console names of the device, e.g. `console`, `ssh`.
    pub consoles: Vec<String>,
}

/// Names one console of one device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ConsoleRef {
    /// Device name.
    pub device: String,
    /// Console name.
    pub console: String,
}

/// Bytes read from or to be written to a console, base64-encoded (standard alphabet, padded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsoleData {
    /// Device name.
    pub device: String,
    /// Console name.
    pub console: String,
    /// The bytes, base64.
    pub data: String,
}

/// A marker line for every console log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MarkerParams {
    /// The marker text.
    pub text: String,
}

/// A console stream ended (its plugin is gone, or the console closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConsoleClosed {
    /// Device name.
    pub device: String,
    /// Console name.
    pub console: String,
    /// Why, in one line.
    pub reason: String,
}
