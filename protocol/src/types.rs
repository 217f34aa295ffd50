//! Parameters and results of every method. Wire enums are kebab-case with an `unknown` fallback,
//! so an older peer reads a newer peer's additions instead of failing.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::message::RequestId;
use crate::version::ProtocolVersion;

/// Default ceiling for one message (one line), in bytes: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 16 * 1024 * 1024;

/// Params or result of a method that carries nothing: `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

/// Name and version of one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostInfo {
    /// Program name, `vitro` for the reference host.
    pub name: String,
    /// Program version (semver of the host, not the protocol).
    pub version: String,
}

/// Limits the host imposes on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Limits {
    /// Largest message (one line, without its newline) either side may send, in bytes.
    pub max_message_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_message_size: DEFAULT_MAX_MESSAGE_SIZE }
    }
}

/// Severity of a log record, and the host's wanted verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LogLevel {
    /// Most verbose.
    Trace,
    /// Diagnostics for driver authors.
    Debug,
    /// Normal progress.
    Info,
    /// Something odd that did not fail.
    Warn,
    /// A failure.
    Error,
    /// A level this version does not know.
    #[serde(other)]
    Unknown,
}

/// `initialize` params (host -> plugin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InitializeParams {
    /// Every protocol version the host speaks (one entry per major, its highest minor).
    pub protocol_versions: Vec<ProtocolVersion>,
    /// The host program.
    pub host: HostInfo,
    /// Connection limits.
    #[serde(default)]
    pub limits: Limits,
    /// Log records below this level need not be sent.
    pub log_level: LogLevel,
}

/// Name, version and SDK of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PluginInfo {
    /// Plugin name, `hello` for `vitro-plugin-hello`.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// SDK and its version, e.g. `vitro-sdk-rust 0.1.0`, `vitro-sdk-python 0.1.0`, `none`.
    pub sdk: String,
}

/// Where a device type sits in the boot order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Role {
    /// Booted first (WAN, DHCP, ACS servers).
    Server,
    /// The device under test (a CPE, a board).
    Device,
    /// Booted last, attached to a device (LAN and Wi-Fi clients).
    Attached,
    /// A role this version does not know.
    #[serde(other)]
    Unknown,
}

/// A per-device lifecycle hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Hook {
    /// Check the device's requirements before anything boots.
    Validate,
    /// Boot the device (its role decides in which phase).
    Boot,
    /// Configure the booted device.
    Configure,
    /// Connect to an already running device instead of booting it (`--skip-boot`).
    SkipBoot,
    /// Check that the device is fit for a test's `env_req`.
    ContingencyCheck,
    /// Release the device's resources.
    Shutdown,
    /// A hook this version does not know.
    #[serde(other)]
    Unknown,
}

/// Which kind of client device a type is, for pairing with `lan_clients` / `wifi_clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ClientKind {
    /// Paired with the environment's `lan_clients`.
    Lan,
    /// Matched to the environment's `wifi_clients` by band.
    Wifi,
    /// A kind this version does not know.
    #[serde(other)]
    Unknown,
}

/// A custom device method a type offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MethodInfo {
    /// Method name, e.g. `execute_command`.
    pub name: String,
    /// One line for `--help` style listings.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A device type a plugin provides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceTypeInfo {
    /// The `type` string of inventory entries, e.g. `linux_server`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Boot-order role.
    pub role: Role,
    /// Hooks this type implements; others are skipped by the host.
    pub hooks: Vec<Hook>,
    /// Custom methods callable through `device/call`.
    #[serde(default)]
    pub methods: Vec<MethodInfo>,
    /// JSON Schema of the device's config entry, if the plugin publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<serde_json::Value>,
    /// Set when devices of this type are LAN or Wi-Fi clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientKind>,
}

/// A plugin-level hook (the core hooks of Python Vitro).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Capability {
    /// Answers `plugin/reserve`: returns the inventory for a board.
    Reservation,
    /// Declares command-line flags in `InitializeResult::cli_args`.
    CliArgs,
    /// Answers `plugin/parseConfig` with a JSON Patch.
    ConfigParsing,
    /// Answers `plugin/setupEnv` before the boot phases.
    EnvSetup,
    /// Answers `plugin/postSetup` after the configure phases.
    PostSetup,
    /// Answers `plugin/release` after the devices are shut down.
    Release,
    /// Its device types implement the `shutdown` hook.
    DeviceShutdown,
    /// A capability this version does not know.
    #[serde(other)]
    Unknown,
}

impl Capability {
    /// The plugin-level method a plugin with this capability answers, if it is one.
    pub fn method(self) -> Option<&'static str> {
        use crate::methods::{
            PluginParseConfig, PluginPostSetup, PluginRelease, PluginReserve, PluginSetupEnv,
        };
        use crate::RequestMethod;
        match self {
            Capability::Reservation => Some(PluginReserve::METHOD),
            Capability::ConfigParsing => Some(PluginParseConfig::METHOD),
            Capability::EnvSetup => Some(PluginSetupEnv::METHOD),
            Capability::PostSetup => Some(PluginPostSetup::METHOD),
            Capability::Release => Some(PluginRelease::METHOD),
            _ => None,
        }
    }
}

/// A command-line flag a plugin adds to `vitro`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CliArg {
    /// Long flag without dashes, e.g. `acs-url` for `--acs-url`.
    pub name: String,
    /// Help line shown by `vitro --help`.
    pub help: String,
    /// `true` for `--flag VALUE`, `false` for a switch.
    #[serde(default)]
    pub takes_value: bool,
    /// Default value when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// `initialize` result (plugin -> host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InitializeResult {
    /// The version chosen from the host's list (see `negotiate`).
    pub protocol_version: ProtocolVersion,
    /// The plugin itself.
    pub plugin: PluginInfo,
    /// Device types it provides.
    #[serde(default)]
    pub device_types: Vec<DeviceTypeInfo>,
    /// Plugin-level hooks it implements.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Flags it adds to the command line.
    #[serde(default)]
    pub cli_args: Vec<CliArg>,
    /// At most this many of its hooks run at once (none: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
}

/// `$/cancelRequest` params (either direction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelParams {
    /// Id of the request to cancel.
    pub id: RequestId,
}

/// `device/create` params: make a device instance inside the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceCreateParams {
    /// Unique device name from the inventory.
    pub name: String,
    /// One of the plugin's device types.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The device's merged config entry (inventory merged with environment).
    pub config: serde_json::Value,
    /// Directory for the device's console logs (`--save-console-logs`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_log_dir: Option<String>,
}

/// `device/hook` params: run one lifecycle hook on a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceHookParams {
    /// Device name.
    pub device: String,
    /// Which hook.
    pub hook: Hook,
    /// The test's environment requirement, for `contingency-check`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_req: Option<serde_json::Value>,
}

/// `device/call` params: call a custom device method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceCallParams {
    /// Device name.
    pub device: String,
    /// One of the type's `methods`.
    pub method: String,
    /// Method arguments; their shape is the method's own.
    #[serde(default)]
    pub params: serde_json::Value,
}

/// `device/call` result: whatever the method returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct DeviceCallResult(pub serde_json::Value);

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

/// `host/devices` params: find devices; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceQuery {
    /// Exact device name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exact device type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Role of the device's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A registered device, as the host knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceDescription {
    /// Device name.
    pub name: String,
    /// Device type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Role of its type.
    pub role: Role,
    /// Name of the plugin that owns it.
    pub plugin: String,
    /// Its merged config.
    pub config: serde_json::Value,
}

/// `host/devices` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceList {
    /// Matching devices, sorted by name.
    pub devices: Vec<DeviceDescription>,
}

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
