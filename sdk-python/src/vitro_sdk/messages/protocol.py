"""Generated from protocol/schema/protocol.schema.json by sdk-python/tools/gen_messages.py; do not edit."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias, TypedDict

from typing_extensions import NotRequired

VitroPluginProtocol13: TypeAlias = Any
"""
Every type of the Vitro plugin protocol, under $defs. methods.json names the params and result type of each method.
"""


RequestId: TypeAlias = int | str
"""
A request id: a number or a string, as JSON-RPC allows.
"""


class NotificationEnvelope(TypedDict):
    """
    Shape of a notification on the wire.
    """

    jsonrpc: str
    """
    Always `"2.0"`.
    """
    method: str
    """
    Method name (see `methods.json`).
    """
    params: Any
    """
    The method's params object.
    """


ErrorKind: TypeAlias = Literal[
    "parse-error",
    "invalid-request",
    "method-not-found",
    "invalid-params",
    "internal",
    "device-error",
    "timeout",
    "peer-gone",
    "invalid-state",
    "version-mismatch",
    "message-too-large",
    "unknown-device",
    "unknown-device-type",
    "panic",
    "released",
    "cancelled",
    "unknown",
]
"""
What went wrong, for machines: callers match on this, never on message text.
"""


class ProtocolVersion(TypedDict):
    """
    A protocol version. A peer that speaks `1.3` also speaks `1.0`..=`1.2`.
    """

    major: int
    """
    Incompatible changes bump the major.
    """
    minor: int
    """
    Compatible additions bump the minor.
    """


class HostInfo(TypedDict):
    """
    Name and version of one side.
    """

    name: str
    """
    Program name, `vitro` for the reference host.
    """
    version: str
    """
    Program version (semver of the host, not the protocol).
    """


class Limits(TypedDict):
    """
    Limits the host imposes on the connection.
    """

    max_message_size: int
    """
    Largest message (one line, without its newline) either side may send, in bytes.
    """


LogLevel: TypeAlias = Literal["trace", "debug", "info", "warn", "error", "unknown"]
"""
Severity of a log record, and the host's wanted verbosity.
"""


class PluginInfo(TypedDict):
    """
    Name, version and SDK of a plugin.
    """

    name: str
    """
    Plugin name, `hello` for `vitro-plugin-hello`.
    """
    version: str
    """
    Plugin version.
    """
    sdk: str
    """
    SDK and its version, e.g. `vitro-sdk-rust 0.1.0`, `vitro-sdk-python 0.1.0`, `none`.
    """


Role: TypeAlias = Literal["server", "device", "attached", "unknown"]
"""
Where a device type sits in the boot order.
"""


Hook: TypeAlias = Literal[
    "validate",
    "boot",
    "configure",
    "server-boot",
    "server-configure",
    "device-boot",
    "device-configure",
    "attached-boot",
    "attached-configure",
    "skip-boot",
    "contingency-check",
    "shutdown",
    "unknown",
]
"""
A per-device lifecycle hook.
"""


MemberKind: TypeAlias = Literal["method", "property", "unknown"]
"""
What a device member is: a method to call, or a property to read (since 1.1).
"""


ClientKind: TypeAlias = Literal["lan", "wifi", "unknown"]
"""
Which kind of client device a type is, for pairing with `lan_clients` / `wifi_clients`.
"""


Capability: TypeAlias = Literal[
    "reservation",
    "cli-args",
    "config-parsing",
    "env-setup",
    "post-setup",
    "release",
    "device-shutdown",
    "configure",
    "unknown",
]
"""
A plugin-level hook (the core hooks of Python Vitro).
"""


class CliArg(TypedDict):
    """
    A command-line flag a plugin adds to `vitro`.
    """

    name: str
    """
    Long flag without dashes, e.g. `acs-url` for `--acs-url`.
    """
    help: str
    """
    Help line shown by `vitro --help`.
    """
    takes_value: NotRequired[bool]
    """
    `true` for `--flag VALUE`, `false` for a switch.
    """
    default: NotRequired[str | None]
    """
    Default value when not given.
    """


class Empty(TypedDict):
    """
    Params or result of a method that carries nothing: `{}`.
    """


class DeviceCreateParams(TypedDict):
    """
    `device/create` params: make a device instance inside the plugin.
    """

    name: str
    """
    Unique device name from the inventory.
    """
    type: str
    """
    One of the plugin's device types.
    """
    config: Any
    """
    The device's merged config entry (inventory merged with environment).
    """
    console_log_dir: NotRequired[str | None]
    """
    Directory for the device's console logs (`--save-console-logs`), if given.
    """
    console_log_stream: NotRequired[bool]
    """
    Since 1.3: stream every console of this device as `$/console/output` from the moment it
    is added, until the device is gone, whoever opens or closes it: the host keeps the logs
    (the plugin runs on an exporter host). `console_log_dir` is then absent.
    """


class DeviceHookParams(TypedDict):
    """
    `device/hook` params: run one lifecycle hook on a device.
    """

    device: str
    """
    Device name.
    """
    hook: Hook
    """
    Which hook.
    """
    env_req: NotRequired[Any]
    """
    The test's environment requirement, for `contingency-check`.
    """


class DeviceCallParams(TypedDict):
    """
    `device/call` params: call a custom device method.
    """

    device: str
    """
    Device name.
    """
    method: str
    """
    One of the type's `methods`.
    """
    params: NotRequired[Any]
    """
    Method arguments; their shape is the method's own.
    """
    kwargs: NotRequired[dict[str, Any] | None]
    """
    Keyword arguments that go with an array of positional `params` (since 1.1).
    """


DeviceCallResult: TypeAlias = Any
"""
`device/call` result: whatever the method returns.
"""


class HostArgs(TypedDict):
    """
    `vitro`'s own deployment flags (Python Vitro's core flags), as given on its command line.
    """

    board_name: NotRequired[str | None]
    """
    `--board-name`.
    """
    env_config: NotRequired[str | None]
    """
    `--env-config`.
    """
    inventory_config: NotRequired[str | None]
    """
    `--inventory-config`.
    """
    skip_boot: NotRequired[bool]
    """
    `--skip-boot`.
    """
    skip_contingency_checks: NotRequired[bool]
    """
    `--skip-contingency-checks`.
    """
    save_console_logs: NotRequired[str | None]
    """
    `--save-console-logs`.
    """
    ignore_devices: NotRequired[list[str]]
    """
    `--ignore-devices`, split at commas.
    """


class ReserveParams(TypedDict):
    """
    `plugin/reserve` params.
    """

    board_name: str
    """
    `--board-name`.
    """
    options: NotRequired[dict[str, Any]]
    """
    Values of the plugin's own flags, by name.
    """


class ReserveResult(TypedDict):
    """
    `plugin/reserve` result.
    """

    inventory: Any
    """
    The inventory object for the board (as one board's entry of an inventory file).
    """
    board_name: NotRequired[str | None]
    """
    The board reserved, when it is not the one asked for by name (`--board-name any`, or a
    filter of the plugin's own); since 1.3.
    """


class ParseConfigParams(TypedDict):
    """
    `plugin/parseConfig` params: the merged device list, before devices are registered.
    """

    devices: list[Any]
    """
    The merged device configs, as `vitro config` prints them.
    """
    options: NotRequired[dict[str, Any]]
    """
    Values of the plugin's own flags, by name.
    """
    env: NotRequired[Any]
    """
    The environment file as read (since 1.1).
    """
    inventory: NotRequired[Any]
    """
    The board's inventory entry as read or reserved (since 1.1).
    """


PatchOperation = TypedDict(
    "PatchOperation",
    {
        "op": str,
        "path": str,
        "value": NotRequired[Any],
        "from": NotRequired[str | None],
    },
)


class SetupParams(TypedDict):
    """
    `plugin/setupEnv` and `plugin/postSetup` params.
    """

    options: NotRequired[dict[str, Any]]
    """
    Values of the plugin's own flags, by name.
    """
    console_log_dir: NotRequired[str | None]
    """
    Directory for console logs (`--save-console-logs`), if given.
    """


DeploymentStatus: TypeAlias = Literal["success", "failed", "interrupted", "unknown"]
"""
How the deployment ended, told to `plugin/release`.
"""


class DeviceQuery(TypedDict):
    """
    `host/devices` params: find devices; every given field must match.
    """

    name: NotRequired[str | None]
    """
    Exact device name.
    """
    type: NotRequired[str | None]
    """
    Exact device type.
    """
    role: NotRequired[Role | None]
    """
    Role of the device's type.
    """


class SessionConfig(TypedDict):
    """
    `session/config` result: the merged device list and the raw files.
    """

    devices: list[Any]
    """
    The merged device configs, as `vitro config` prints them (after config-parsing hooks).
    """
    env: Any
    """
    The environment file as read.
    """
    inventory: Any
    """
    The board's inventory entry as read (or as reserved).
    """


class DeviceRef(TypedDict):
    """
    Names one device (`device/consoles`).
    """

    device: str
    """
    Device name.
    """


class ConsoleList(TypedDict):
    """
    `device/consoles` result.
    """

    consoles: list[str]
    """
    Console names of the device, e.g. `console`, `ssh`.
    """


class ConsoleRef(TypedDict):
    """
    Names one console of one device.
    """

    device: str
    """
    Device name.
    """
    console: str
    """
    Console name.
    """


class ConsoleData(TypedDict):
    """
    Bytes read from or to be written to a console, base64-encoded (standard alphabet, padded).
    """

    device: str
    """
    Device name.
    """
    console: str
    """
    Console name.
    """
    data: str
    """
    The bytes, base64.
    """


class MarkerParams(TypedDict):
    """
    A marker line for every console log.
    """

    text: str
    """
    The marker text.
    """


class CancelParams(TypedDict):
    """
    `$/cancelRequest` params (either direction).
    """

    id: RequestId
    """
    Id of the request to cancel.
    """


class LogParams(TypedDict):
    """
    `$/log` params: one structured log record from a plugin.
    """

    level: LogLevel
    """
    Severity.
    """
    message: str
    """
    The message.
    """
    target: NotRequired[str]
    """
    Where it comes from (module path, logger name).
    """
    device: NotRequired[str | None]
    """
    The device it concerns, if any.
    """
    fields: NotRequired[dict[str, Any]]
    """
    Structured fields.
    """


class ProgressParams(TypedDict):
    """
    `$/progress` params: what a device is doing now.
    """

    device: NotRequired[str | None]
    """
    The device it concerns, if any.
    """
    message: str
    """
    Short text, e.g. `waiting for login prompt`.
    """
    percent: NotRequired[float | None]
    """
    Completion in percent, when known.
    """


class ConsoleClosed(TypedDict):
    """
    A console stream ended (its plugin is gone, or the console closed).
    """

    device: str
    """
    Device name.
    """
    console: str
    """
    Console name.
    """
    reason: str
    """
    Why, in one line.
    """


class RequestEnvelope(TypedDict):
    """
    Shape of a request on the wire (documentation only; decoding uses [`crate::decode`]).
    """

    jsonrpc: str
    """
    Always `"2.0"`.
    """
    id: RequestId
    """
    Unique among the sender's requests in flight.
    """
    method: str
    """
    Method name (see `methods.json`).
    """
    params: Any
    """
    The method's params object.
    """


class ErrorData(TypedDict):
    """
    The `data` member of a Vitro error object.
    """

    kind: ErrorKind
    """
    Machine-readable kind.
    """
    causes: NotRequired[list[str]]
    """
    Causes, outermost first (the error's source chain), as text.
    """
    details: NotRequired[Any]
    """
    Kind-specific details (for `peer-gone`: `exit`, `signal`, `stderr`).
    """


class InitializeParams(TypedDict):
    """
    `initialize` params (host -> plugin).
    """

    protocol_versions: list[ProtocolVersion]
    """
    Every protocol version the host speaks (one entry per major, its highest minor).
    """
    host: HostInfo
    """
    The host program.
    """
    limits: NotRequired[Limits]
    """
    Connection limits.
    """
    log_level: LogLevel
    """
    Log records below this level need not be sent.
    """


class MethodInfo(TypedDict):
    """
    A custom device method a type offers.
    """

    name: str
    """
    Method name, e.g. `execute_command`; a dotted path (`sw.version`) names a member of a
    member (since 1.1).
    """
    description: NotRequired[str]
    """
    One line for `--help` style listings.
    """
    kind: NotRequired[MemberKind]
    """
    Method or property (since 1.1; absent: method).
    """


class DeviceCreateResult(TypedDict):
    """
    `device/create` result.
    """

    methods: NotRequired[list[MethodInfo] | None]
    """
    The members of this very device, when they differ from what its type declares (for
    drivers whose members are only known once the instance exists); since 1.1.
    """


class ConfigureParams(TypedDict):
    """
    `plugin/configure` params: sent once, after the command line is parsed and before
    reservation, to plugins with the `configure` capability (since 1.1).
    """

    args: HostArgs
    """
    `vitro`'s own flags.
    """
    options: NotRequired[dict[str, Any]]
    """
    Values of the plugin's own flags, by name.
    """


class ParseConfigResult(TypedDict):
    """
    `plugin/parseConfig` result.
    """

    patch: NotRequired[list[PatchOperation]]
    """
    RFC 6902 patch against `devices`; empty leaves the config unchanged.
    """


class ReleaseParams(TypedDict):
    """
    `plugin/release` params.
    """

    status: DeploymentStatus
    """
    How the deployment ended.
    """
    error: NotRequired[str | None]
    """
    One-line cause when it did not succeed.
    """


class DeviceDescription(TypedDict):
    """
    A registered device, as the host knows it.
    """

    name: str
    """
    Device name.
    """
    type: str
    """
    Device type.
    """
    role: Role
    """
    Role of its type.
    """
    plugin: str
    """
    Name of the plugin that owns it.
    """
    config: Any
    """
    Its merged config.
    """
    classes: NotRequired[list[str]]
    """
    Qualified class names its type reports (since 1.1; see `DeviceTypeInfo::classes`).
    """
    methods: NotRequired[list[MethodInfo]]
    """
    Its custom methods (and, since 1.1, properties): what its type declares, or what
    `device/create` answered for this device.
    """
    implements: NotRequired[list[str]]
    """
    The templates its type implements (since 1.2; see `DeviceTypeInfo::implements`).
    """


class RpcError(TypedDict):
    """
    A JSON-RPC error object as Vitro sends it.
    """

    code: int
    """
    JSON-RPC error code (see [`codes`]).
    """
    message: str
    """
    Human-readable, one line.
    """
    data: NotRequired[ErrorData | None]
    """
    Machine-readable part; absent or foreign-shaped `data` from other peers reads as `None`.
    """


class DeviceTypeInfo(TypedDict):
    """
    A device type a plugin provides.
    """

    type: str
    """
    The `type` string of inventory entries, e.g. `linux_server`.
    """
    role: Role
    """
    Boot-order role.
    """
    hooks: list[Hook]
    """
    Hooks this type implements; others are skipped by the host.
    """
    methods: NotRequired[list[MethodInfo]]
    """
    Custom methods callable through `device/call`.
    """
    config_schema: NotRequired[Any]
    """
    JSON Schema of the device's config entry, if the plugin publishes one.
    """
    client: NotRequired[ClientKind | None]
    """
    Set when devices of this type are LAN or Wi-Fi clients.
    """
    classes: NotRequired[list[str]]
    """
    Qualified names of the implementing class and its bases (`pkg.module.Class`), for
    lookups by class in test code (since 1.1).
    """
    implements: NotRequired[list[str]]
    """
    Templates the type implements, `name@major` (`lan@1`): every required method of each is
    among `methods`, which the host checks at start (since 1.2).
    """


class DeviceList(TypedDict):
    """
    `host/devices` result.
    """

    devices: list[DeviceDescription]
    """
    Matching devices, sorted by name.
    """


class ResponseEnvelope(TypedDict):
    """
    Shape of a response on the wire: exactly one of `result` and `error`.
    """

    jsonrpc: str
    """
    Always `"2.0"`.
    """
    id: NotRequired[RequestId | None]
    """
    Id of the request answered; `null` only for unparseable requests.
    """
    result: NotRequired[Any]
    """
    The method's result, on success.
    """
    error: NotRequired[RpcError | None]
    """
    The error, on failure.
    """


class InitializeResult(TypedDict):
    """
    `initialize` result (plugin -> host).
    """

    protocol_version: ProtocolVersion
    """
    The version chosen from the host's list (see `negotiate`).
    """
    plugin: PluginInfo
    """
    The plugin itself.
    """
    device_types: NotRequired[list[DeviceTypeInfo]]
    """
    Device types it provides.
    """
    capabilities: NotRequired[list[Capability]]
    """
    Plugin-level hooks it implements.
    """
    cli_args: NotRequired[list[CliArg]]
    """
    Flags it adds to the command line.
    """
    max_concurrency: NotRequired[int | None]
    """
    At most this many of its hooks run at once (none: no limit).
    """
