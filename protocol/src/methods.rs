//! Every method of protocol v1: its name, direction, kind, params and result types.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::session::SessionConfig;
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

/// The version a method came with: 1.0 unless it says `since(major, minor)`.
macro_rules! since {
    () => {
        $crate::ProtocolVersion::new(1, 0)
    };
    ($major:literal, $minor:literal) => {
        $crate::ProtocolVersion::new($major, $minor)
    };
}
pub(crate) use since;

/// Request types and, in `$descriptors`, the descriptor of each; `$schemas` registers their
/// params and result types with a schema generator. Used for the plugin protocol here and for
/// the live session's methods (`crate::session`).
macro_rules! requests {
    ($descriptors_vis:vis fn $descriptors:ident; $schemas_vis:vis fn $schemas:ident;
     $($(#[doc = $doc:literal])* $ty:ident = $name:literal, $dir:ident $(since($maj:literal, $min:literal))?, $params:ty => $result:ty;)*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug)]
            pub enum $ty {}
            impl $crate::methods::RequestMethod for $ty {
                const METHOD: &'static str = $name;
                const DIRECTION: $crate::methods::Direction = $crate::methods::Direction::$dir;
                const SINCE: $crate::ProtocolVersion = $crate::methods::since!($($maj, $min)?);
                type Params = $params;
                type Result = $result;
            }
        )*
        /// Every request's descriptor.
        $descriptors_vis fn $descriptors() -> Vec<$crate::methods::MethodDescriptor> {
            use schemars::JsonSchema as _;
            vec![$($crate::methods::MethodDescriptor {
                name: $name.into(),
                direction: $crate::methods::Direction::$dir,
                kind: $crate::methods::MethodKind::Request,
                params: <$params>::schema_name().into(),
                result: Some(<$result>::schema_name().into()),
                since: $crate::methods::since!($($maj, $min)?),
                description: concat!($($doc),*).trim().into(),
            }),*]
        }
        /// Registers every request's params and result type with a schema generator.
        $schemas_vis fn $schemas(generator: &mut schemars::SchemaGenerator) {
            $(
                generator.subschema_for::<$params>();
                generator.subschema_for::<$result>();
            )*
        }
    };
}
pub(crate) use requests;

macro_rules! notifications {
    ($($(#[doc = $doc:literal])* $ty:ident = $name:literal, $dir:ident $(since($maj:literal, $min:literal))?, $params:ty;)*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug)]
            pub enum $ty {}
            impl NotificationMethod for $ty {
                const METHOD: &'static str = $name;
                const DIRECTION: Direction = Direction::$dir;
                const SINCE: ProtocolVersion = since!($($maj, $min)?);
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
                since: since!($($maj, $min)?),
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
    fn request_descriptors;
    pub(crate) fn add_request_schemas;
    /// Handshake: versions, host, limits and log level in; chosen version, plugin, device types and capabilities out.
    Initialize = "initialize", HostToPlugin, InitializeParams => InitializeResult;
    /// Stop working: finish or give up work, then answer; `exit` follows.
    Shutdown = "shutdown", HostToPlugin, Empty => Empty;
    /// Liveness: answer at once, at any time, even while handlers run.
    Ping = "$/ping", Both, Empty => Empty;
    /// Make a device instance with its merged config (and where its console logs go, with `--save-console-logs`).
    DeviceCreate = "device/create", HostToPlugin, DeviceCreateParams => DeviceCreateResult;
    /// Run one hook: `validate`, `boot`, `configure` (or a phase's own, such as `server-boot`), `skip-boot`, `contingency-check`, `shutdown`.
    DeviceHook = "device/hook", HostToPlugin, DeviceHookParams => Empty;
    /// A custom device method; the result goes back unchanged. `params` is any JSON: an array is a Python method's positional arguments, an object its keyword arguments, `null` or absent no argument, anything else the one argument. A method that returns nothing answers `null`.
    DeviceCall = "device/call", HostToPlugin, DeviceCallParams => DeviceCallResult;
    /// `vitro`'s own flags, once, before reservation (capability `configure`, since 1.1).
    PluginConfigure = "plugin/configure", HostToPlugin since(1, 1), ConfigureParams => Empty;
    /// The inventory for a board.
    PluginReserve = "plugin/reserve", HostToPlugin, ReserveParams => ReserveResult;
    /// An RFC 6902 patch against the merged device list.
    PluginParseConfig = "plugin/parseConfig", HostToPlugin, ParseConfigParams => ParseConfigResult;
    /// After registration, before the boot phases.
    PluginSetupEnv = "plugin/setupEnv", HostToPlugin, SetupParams => Empty;
    /// After the configure phases.
    PluginPostSetup = "plugin/postSetup", HostToPlugin, SetupParams => Empty;
    /// After every device was shut down, whatever happened.
    PluginRelease = "plugin/release", HostToPlugin, ReleaseParams => Empty;
    /// Find registered devices and their merged configs.
    HostDevices = "host/devices", PluginToHost, DeviceQuery => DeviceList;
    /// The deployment's config: merged devices, environment, inventory (since 1.1); `invalid-state` until it is parsed.
    HostConfig = "host/config", PluginToHost since(1, 1), Empty => SessionConfig;
    /// Call a method of a device of any plugin; the host forwards it as `device/call` (since 1.1).
    HostCall = "host/call", PluginToHost since(1, 1), DeviceCallParams => DeviceCallResult;
    /// The names of a device's consoles.
    DeviceConsoles = "device/consoles", HostToPlugin, DeviceRef => ConsoleList;
    /// Stream the console's output from now on as `$/console/output`.
    ConsoleOpen = "console/open", HostToPlugin, ConsoleRef => Empty;
    /// Stop that stream.
    ConsoleClose = "console/close", HostToPlugin, ConsoleRef => Empty;
    /// Type into a console (`data` is base64).
    ConsoleWrite = "console/write", HostToPlugin, ConsoleData => Empty;
    /// Write a marker line into every console log.
    ConsoleMarker = "console/marker", HostToPlugin, MarkerParams => Empty;
}

notifications! {
    /// Handshake done.
    Initialized = "initialized", HostToPlugin, Empty;
    /// Exit now, with status 0.
    Exit = "exit", HostToPlugin, Empty;
    /// Cancel a request in flight; it is answered with `cancelled` (or not at all if it already finished).
    CancelRequest = "$/cancelRequest", Both, CancelParams;
    /// A structured log record; `target` defaults to `""`, `fields` (any JSON values, shown as `key=value` after the message) to `{}`.
    Log = "$/log", PluginToHost, LogParams;
    /// What a device is doing now.
    Progress = "$/progress", PluginToHost, ProgressParams;
    /// Bytes an opened console read, base64.
    ConsoleOutput = "$/console/output", PluginToHost, ConsoleData;
    /// An opened console's stream ended (the host tells session clients when a plugin dies).
    ConsoleClosedNotice = "$/console/closed", Both, ConsoleClosed;
}

/// Every method of the protocol, requests first.
pub fn all() -> Vec<MethodDescriptor> {
    let mut methods = request_descriptors();
    methods.extend(notification_descriptors());
    methods
}
