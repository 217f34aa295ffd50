//! Write Vitro device-driver plugins in Rust.
//!
//! A plugin is a standalone executable (`vitro-plugin-<name>`) that the `vitro` host spawns and
//! talks to with the protocol of [`vitro_protocol`] over stdin/stdout. Implement [`Device`] for
//! each device type, register the types on a [`Plugin`], and call [`Plugin::run`] from `main`:
//!
//! ```no_run
//! use vitro_sdk::{Context, Device, DeviceType, DriverResult, Plugin, protocol::types::Role};
//!
//! struct Server;
//!
//! #[vitro_sdk::device]
//! impl Device for Server {
//!     async fn boot(&self, ctx: &Context) -> DriverResult<()> {
//!         tracing::info!(device = %ctx.device, "booted");
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Plugin::new("hello", env!("CARGO_PKG_VERSION"))
//!         .device_type(DeviceType::new("hello_server", Role::Server, |_spec| Ok(Server)))
//!         .run()
//! }
//! ```
//!
//! `#[vitro_sdk::device]` implements [`Device`] and declares the hooks the impl defines (here
//! `boot`), so the declaration cannot drift from the code. The module [`peer`] is the JSON-RPC
//! duplex connection both sides use (the `vitro-rpc` crate, which the `vitro` host uses too).

#[cfg(feature = "console")]
pub mod console;
#[cfg(feature = "console")]
mod console_host;
mod device;
mod error;
mod host;
mod logging;
pub use vitro_rpc as peer;
mod plugin;
mod runtime;
pub mod session;
mod stdio;
pub mod templates;
pub use vitro_rpc::terminal;

pub use async_trait::async_trait;
pub use device::{Context, Device, DeviceSpec, PluginHooks};
pub use error::{DriverError, DriverResult};
pub use host::Host;
pub use plugin::{DeviceType, Plugin};
/// The `serde_json` of the SDK's types (device params and results are its `Value`s).
pub use serde_json;
pub use vitro_protocol as protocol;
pub use vitro_sdk_macros::device;
