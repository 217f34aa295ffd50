//! Every method of protocol v1: its name, direction, kind, params and result types.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::types::*;
use crate::version::ProtocolVersion;

/// Who sends a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The host (`vitro`) sends it; the plugin answers.
    HostToPlugin,
    /// The plugin sends it; the host answers.
    PluginToHost,
    /// Either side may send it.
    Both,
}

/// A method answered with a response.
pub trait RequestMethod {
    /// Wire name.
    const METHOD: &'static str;
    /// Who sends it.
    const DIRECTION: Direction;
    /// First protocol version that has it.
    const SINCE: ProtocolVersion;
    /// Params type.
    type Params: Serialize + DeserializeOwned + JsonSchema + Send + 'static;
    /// Result type.
    type Result: Serialize + DeserializeOwned + JsonSchema + Send + 'static;
}

/// A method that is never answered.
pub trait NotificationMethod {
    /// Wire name.
    const METHOD: &'static str;
    /// Who sends it.
    const DIRECTION: Direction;
    /// First protocol version that has it.
    const SINCE: ProtocolVersion;
    /// Params type.
    type Params: Serialize + DeserializeOwned + JsonSchema + Send + 'static;
}

/// Whether a method is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MethodKind {
    /// Answered with a response.
    Request,
    /// Never answered.
    Notification,
}

/// One entry of `protocol/schema/methods.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MethodDescriptor {
    /// Wire name.
    pub name: String,
    /// Who sends it.
    pub direction: Direction,
    /// Request or notification.
    pub kind: MethodKind,
    /// Name of the params type under `$defs` of `protocol.schema.json`.
    pub params: String,
    /// Name of the result type under `$defs` (requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// First protocol version that has it.
    pub since: ProtocolVersion,
    /// What it does.
    pub description: String,
}

const V1_0: ProtocolVersion = ProtocolVersion::new(1, 0);

macro_rules! requests {
    ($($(#[doc = $doc:literal])* $ty:ident = $name:literal, $dir:ident, $params:ty => $result:ty;)*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug)]
            pub enum $ty {}
            impl RequestMethod for $ty {
                const METHOD: &'static str = $name;
                const DIRECTION: Direction = Direction::$dir;
                const SINCE: ProtocolVersion = V1_0;
                type Params = $params;
                type Result = $result;
            }
        )*
        fn request_descriptors() -> Vec<MethodDescriptor> {
            vec![$(MethodDescriptor {
                name: $name.into(),
                direction: Direction::$dir,
                kind: MethodKind::Request,
                params: <$params as JsonSchema>::schema_name().into(),
                result: Some(<$result as JsonSchema>::schema_name().into()),
                since: V1_0,
                description: concat!($($doc),*).trim().into(),
            }),*]
        }
        /// Registers every request's params and result type with a schema generator.
        pub(crate) fn add_request_schemas(generator: &mut schemars::SchemaGenerator) {
            $(
                generator.subschema_for::<$params>();
                generator.subschema_for::<$result>();
            )*
        }
    };
}

macro_rules! notifications {
    ($($(#[doc = $doc:literal])* $ty:ident = $name:literal, $dir:ident, $params:ty;)*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug)]
            pub enum $ty {}
            impl NotificationMethod for $ty {
                const METHOD: &'static str = $name;
                const DIRECTION: Direction = Direction::$dir;
                const SINCE: ProtocolVersion = V1_0;
                type Params = $params;
            }
        )*
        fn notification_descriptors() -> Vec<MethodDescriptor> {
            vec![$(MethodDescriptor {
                name: $name.into(),
                direction: Direction::$dir,
                kind: MethodKind::Notification,
                params: <$params as JsonSchema>::schema_name().into(),
                result: None,
                since: V1_0,
                description: concat!($($doc),*).trim().into(),
            }),*]
        }
        /// Registers every notification's params type with a schema generator.
        pub(crate) fn add_notification_schemas(generator: &mut schemars::SchemaGenerator) {
            $( generator.subschema_for::<$params>(); )*
        }
    };
}

requests! {
    /// First message: versions, host, limits and log level in; chosen version, plugin, device types and capabilities out.
    Initialize = "initialize", HostToPlugin, InitializeParams => InitializeResult;
    /// Orderly stop: finish or cancel work, then answer; `exit` follows.
    Shutdown = "shutdown", HostToPlugin, Empty => Empty;
    /// Liveness check; answered at once, even while handlers run.
    Ping = "$/ping", Both, Empty => Empty;
    /// Create a device instance of one of the plugin's types with its merged config.
    DeviceCreate = "device/create", HostToPlugin, DeviceCreateParams => Empty;
    /// Run one lifecycle hook on a device.
    DeviceHook = "device/hook", HostToPlugin, DeviceHookParams => Empty;
    /// Call a custom device method; its result is returned unchanged.
    DeviceCall = "device/call", HostToPlugin, DeviceCallParams => DeviceCallResult;
    /// Reservation hook: return the inventory for a board.
    PluginReserve = "plugin/reserve", HostToPlugin, ReserveParams => ReserveResult;
    /// Config-parsing hook: return an RFC 6902 patch against the merged device list.
    PluginParseConfig = "plugin/parseConfig", HostToPlugin, ParseConfigParams => ParseConfigResult;
    /// Env-setup hook: runs after registration, before the boot phases.
    PluginSetupEnv = "plugin/setupEnv", HostToPlugin, SetupParams => Empty;
    /// Post-setup hook: runs after the configure phases.
    PluginPostSetup = "plugin/postSetup", HostToPlugin, SetupParams => Empty;
    /// Release hook: runs after every device was shut down, whatever the outcome.
    PluginRelease = "plugin/release", HostToPlugin, ReleaseParams => Empty;
    /// Look up registered devices by name, type or role, with their merged configs.
    HostDevices = "host/devices", PluginToHost, DeviceQuery => DeviceList;
    /// The names of a device's consoles.
    DeviceConsoles = "device/consoles", HostToPlugin, DeviceRef => ConsoleList;
    /// Start streaming a console's output as `$/console/output` (every byte from now on).
    ConsoleOpen = "console/open", HostToPlugin, ConsoleRef => Empty;
    /// Stop streaming a console's output.
    ConsoleClose = "console/close", HostToPlugin, ConsoleRef => Empty;
    /// Write bytes to a console.
    ConsoleWrite = "console/write", HostToPlugin, ConsoleData => Empty;
    /// Write a marker line into every console log of the plugin.
    ConsoleMarker = "console/marker", HostToPlugin, MarkerParams => Empty;
}

notifications! {
    /// Sent by the host after a successful `initialize` reply.
    Initialized = "initialized", HostToPlugin, Empty;
    /// Sent by the host after `shutdown`: the plugin exits with status 0.
    Exit = "exit", HostToPlugin, Empty;
    /// Cancel a request in flight; it is answered with a `cancelled` error.
    CancelRequest = "$/cancelRequest", Both, CancelParams;
    /// A structured log record.
    Log = "$/log", PluginToHost, LogParams;
    /// Progress of a device's current hook.
    Progress = "$/progress", PluginToHost, ProgressParams;
    /// Output of an opened console.
    ConsoleOutput = "$/console/output", PluginToHost, ConsoleData;
    /// An opened console's stream ended; no more output will come.
    ConsoleClosedNotice = "$/console/closed", Both, ConsoleClosed;
}

/// Every method of the protocol, requests first.
pub fn all() -> Vec<MethodDescriptor> {
    let mut methods = request_descriptors();
    methods.extend(notification_descriptors());
    methods
}
