//! Parameters and results of every method. Wire enums are kebab-case with an `unknown` fallback,
//! so an older peer reads a newer peer's additions instead of failing.

mod console;
mod device;
mod handshake;
mod plugin_hooks;
mod reports;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use console::*;
pub use device::*;
pub use handshake::*;
pub use plugin_hooks::*;
pub use reports::*;

use crate::message::RequestId;

/// Default ceiling for one message (one line), in bytes: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 16 * 1024 * 1024;

/// Params or result of a method that carries nothing: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

/// `$/cancelRequest` params (either direction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelParams {
    /// Id of the request to cancel.
    pub id: RequestId,
}
