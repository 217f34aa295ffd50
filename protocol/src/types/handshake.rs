//! The handshake: what the host offers in `initialize` and what a plugin declares in return.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DEFAULT_MAX_MESSAGE_SIZE;
use crate::version::ProtocolVersion;

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
    /// Configure the booted device (its role decides in which phase).
    Configure,
    /// Boot in the server boot phase, whatever the type's role (since 1.1).
    ServerBoot,
    /// Configure in the server configure phase, whatever the type's role (since 1.1).
    ServerConfigure,
    /// Boot in the device boot phase, whatever the type's role (since 1.1).
    DeviceBoot,
    /// Configure in the device configure phase, whatever the type's role (since 1.1).
    DeviceConfigure,
    /// Boot in the attached boot phase, whatever the type's role (since 1.1).
    AttachedBoot,
    /// Configure in the attached configure phase, whatever the type's role (since 1.1).
    AttachedConfigure,
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

impl Hook {
    /// Every hook this version knows, in lifecycle order (a test checks it against the enum).
    pub const ALL: [Hook; 12] = [
        Hook::Validate,
        Hook::Boot,
        Hook::Configure,
        Hook::ServerBoot,
        Hook::ServerConfigure,
        Hook::DeviceBoot,
        Hook::DeviceConfigure,
        Hook::AttachedBoot,
        Hook::AttachedConfigure,
        Hook::SkipBoot,
        Hook::ContingencyCheck,
        Hook::Shutdown,
    ];

    /// The first protocol version that has this hook: a plugin that declares it needs a host of
    /// that version (its phase hooks came with 1.1).
    pub fn since(self) -> ProtocolVersion {
        match self {
            Hook::ServerBoot
            | Hook::ServerConfigure
            | Hook::DeviceBoot
            | Hook::DeviceConfigure
            | Hook::AttachedBoot
            | Hook::AttachedConfigure => ProtocolVersion::new(1, 1),
            _ => ProtocolVersion::new(1, 0),
        }
    }

    /// The kebab-case wire name.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_is_listed_once_with_its_wire_name() {
        let schema = serde_json::to_value(schemars::schema_for!(Hook)).unwrap();
        let wire: Vec<&str> = schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["const"].as_str())
            .filter(|c| *c != "unknown")
            .collect();
        let listed: Vec<String> = Hook::ALL.iter().map(|h| h.name()).collect();
        assert_eq!(listed, wire);
    }
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

/// What a device member is: a method to call, or a property to read (since 1.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MemberKind {
    /// Called with arguments: `device/call` runs it.
    #[default]
    Method,
    /// Read without arguments: `device/call` with no params returns its value.
    Property,
    /// A kind this version does not know.
    #[serde(other)]
    Unknown,
}

impl MemberKind {
    fn is_method(&self) -> bool {
        *self == MemberKind::Method
    }
}

/// A custom device method a type offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MethodInfo {
    /// Method name, e.g. `execute_command`; a dotted path (`sw.version`) names a member of a
    /// member (since 1.1).
    pub name: String,
    /// One line for `--help` style listings.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Method or property (since 1.1; absent: method).
    #[serde(default, skip_serializing_if = "MemberKind::is_method")]
    pub kind: MemberKind,
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
    /// Qualified names of the implementing class and its bases (`pkg.module.Class`), for
    /// lookups by class in test code (since 1.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Templates the type implements, `name@major` (`lan@1`): every required method of each is
    /// among `methods`, which the host checks at start (since 1.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implements: Vec<String>,
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
    /// Answers `plugin/configure` with `vitro`'s own flags, before reservation (since 1.1).
    Configure,
    /// A capability this version does not know.
    #[serde(other)]
    Unknown,
}

impl Capability {
    /// The plugin-level method a plugin with this capability answers, if it is one.
    pub fn method(self) -> Option<&'static str> {
        use crate::methods::{
            PluginConfigure, PluginParseConfig, PluginPostSetup, PluginRelease, PluginReserve, PluginSetupEnv,
        };
        use crate::RequestMethod;
        match self {
            Capability::Configure => Some(PluginConfigure::METHOD),
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
