//! What a driver implements: one [`Device`] per device instance, and optional [`PluginHooks`].

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use vitro_protocol::types::{
    Hook, ParseConfigParams, ParseConfigResult, ReleaseParams, ReserveParams, ReserveResult, SetupParams,
};
use vitro_protocol::ErrorKind;

use crate::error::{DriverError, DriverResult};
use crate::host::Host;

/// What a hook or method gets besides its arguments.
#[derive(Clone)]
pub struct Context {
    /// The device's name.
    pub device: String,
    /// Handle back to the host.
    pub host: Host,
    /// Cancelled when the host cancels the call (timeout, Ctrl-C) or goes away.
    pub cancel: CancellationToken,
    #[cfg(feature = "console")]
    pub(crate) consoles: std::sync::Arc<crate::console_host::Consoles>,
}

impl Context {
    /// Makes `console` reachable by the host under `name`: people attach to it from `vitro`'s
    /// menu and session clients stream it. Register each console once it is connected.
    #[cfg(feature = "console")]
    pub fn add_console(&self, name: &str, console: std::sync::Arc<crate::console::Console>) {
        self.consoles.add(&self.device, name, console);
    }
}

/// What the factory of a device type gets to build an instance (answers `device/create`).
pub struct DeviceSpec {
    /// Unique device name.
    pub name: String,
    /// Merged config entry of the device.
    pub config: Value,
    /// Handle back to the host.
    pub host: Host,
    /// Where the device's console logs go (`--save-console-logs`), if given: pass it to
    /// `console::ConnectOptions::log_dir`.
    pub console_log_dir: Option<std::path::PathBuf>,
}

/// One device instance. Every hook has a no-op default; the host calls only the hooks
/// [`Device::hooks`] names. Implement the trait with `#[vitro_sdk::device]` instead of
/// `#[async_trait]`: it writes `hooks` from the hook methods the impl defines. Each hook answers
/// one `device/hook` request.
#[async_trait]
pub trait Device: Send + Sync + 'static {
    /// The hooks this type implements, declared to the host in the handshake.
    /// `#[vitro_sdk::device]` writes it: the hook methods the impl block defines.
    fn hooks() -> &'static [Hook]
    where
        Self: Sized;
    /// `validate`: check requirements before anything boots.
    async fn validate(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `boot`: bring the device up (in its role's boot phase).
    async fn boot(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `configure`: apply the config to the booted device.
    async fn configure(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `server-boot` (protocol 1.1): boot in the server boot phase, whatever the type's role. The
    /// phase hooks below let one type boot as a server and configure as a device.
    async fn server_boot(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `server-configure` (1.1): configure in the server configure phase.
    async fn server_configure(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `device-boot` (1.1): boot in the device boot phase.
    async fn device_boot(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `device-configure` (1.1): configure in the device configure phase.
    async fn device_configure(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `attached-boot` (1.1): boot in the attached boot phase.
    async fn attached_boot(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `attached-configure` (1.1): configure in the attached configure phase.
    async fn attached_configure(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `skip-boot`: connect to the running device without booting it.
    async fn skip_boot(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `contingency-check`: fail when the device is not fit for `env_req`.
    async fn contingency_check(&self, _ctx: &Context, _env_req: &Value) -> DriverResult<()> {
        Ok(())
    }
    /// `shutdown`: release the device's connections and resources.
    async fn shutdown(&self, _ctx: &Context) -> DriverResult<()> {
        Ok(())
    }
    /// `device/call`: a custom method listed with [`crate::DeviceType::method`].
    async fn call(&self, _ctx: &Context, method: &str, _params: Value) -> DriverResult<Value> {
        Err(DriverError::new(ErrorKind::MethodNotFound, format!("no device method `{method}`")))
    }
}

/// Plugin-level hooks (Python Vitro's core hooks). Declare the ones you implement with
/// [`crate::Plugin::hooks`]; the host calls only those.
#[async_trait]
pub trait PluginHooks: Send + Sync + 'static {
    /// `plugin/reserve`: the inventory for a board.
    async fn reserve(&self, _host: &Host, params: ReserveParams) -> DriverResult<ReserveResult> {
        Err(DriverError::new(
            ErrorKind::MethodNotFound,
            format!("this plugin cannot reserve board {}", params.board_name),
        ))
    }
    /// `plugin/parseConfig`: a JSON Patch against the merged device list (none by default).
    async fn parse_config(
        &self,
        _host: &Host,
        _params: ParseConfigParams,
    ) -> DriverResult<ParseConfigResult> {
        Ok(ParseConfigResult::default())
    }
    /// `plugin/setupEnv`: before the boot phases.
    async fn setup_env(&self, _host: &Host, _params: SetupParams) -> DriverResult<()> {
        Ok(())
    }
    /// `plugin/postSetup`: after the configure phases.
    async fn post_setup(&self, _host: &Host, _params: SetupParams) -> DriverResult<()> {
        Ok(())
    }
    /// `plugin/release`: after every device was shut down.
    async fn release(&self, _host: &Host, _params: ReleaseParams) -> DriverResult<()> {
        Ok(())
    }
}

/// Hooks of a plugin that has no plugin-level hooks.
pub(crate) struct NoHooks;

impl PluginHooks for NoHooks {}
