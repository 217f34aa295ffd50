//! Write Vitro device-driver plugins in Rust.
//!
//! A plugin is a standalone executable (`vitro-plugin-<name>`) that the `vitro` host spawns and
//! talks to with the protocol of [`vitro_protocol`] over stdin/stdout. Implement [`Device`] for
//! each device type, register the types on a [`Plugin`], and call [`Plugin::run`] from `main`:
//!
//! ```no_run
//! use vitro_sdk::{Context, Device, DeviceType, DriverResult, Plugin, protocol::types::{Hook, Role}};
//!
//! struct Server;
//!
//! #[vitro_sdk::async_trait]
//! impl Device for Server {
//!     async fn boot(&self, ctx: &Context) -> DriverResult<()> {
//!         tracing::info!(device = %ctx.device, "booted");
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Plugin::new("hello", env!("CARGO_PKG_VERSION"))
//!         .device_type(DeviceType::new("hello_server", Role::Server, |_spec| Ok(Server)).hooks(&[Hook::Boot]))
//!         .run()
//! }
//! ```
//!
//! The module [`peer`] is the JSON-RPC duplex connection both sides use; the `vitro` host uses it too.

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
pub mod session;
mod stdio;
pub use vitro_rpc::terminal;

pub use async_trait::async_trait;
pub use device::{Context, Device, DeviceSpec, PluginHooks};
pub use error::{DriverError, DriverResult};
pub use host::Host;
pub use plugin::{DeviceType, Plugin};
pub use vitro_protocol as protocol;
