"""Generated from protocol/schema/session.schema.json by sdk-python/tools/gen_messages.py; do not edit."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias, TypedDict

from typing_extensions import NotRequired

VitroLiveSession13: TypeAlias = Any
"""
Requests a client sends to the Unix socket named by VITRO_SESSION (same framing as the plugin protocol); types under $defs.
"""


class Empty(TypedDict):
    """
    Params or result of a method that carries nothing: `{}`.
    """


Role: TypeAlias = Literal["server", "device", "attached", "unknown"]
"""
Where a device type sits in the boot order.
"""


MemberKind: TypeAlias = Literal["method", "property", "unknown"]
"""
What a device member is: a method to call, or a property to read (since 1.1).
"""


DeviceState: TypeAlias = Literal["ready", "failed", "unknown"]
"""
What state a device is in.
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


class SessionCallParams(TypedDict):
    """
    `session/call` params: a device's custom method, forwarded to its plugin.
    """

    device: str
    """
    Device name.
    """
    method: str
    """
    Method name.
    """
    params: NotRequired[Any]
    """
    Its arguments.
    """
    kwargs: NotRequired[dict[str, Any] | None]
    """
    Keyword arguments that go with an array of positional `params` (since 1.1).
    """
    timeout: NotRequired[float | None]
    """
    Seconds the call may take (default 600).
    """


DeviceCallResult: TypeAlias = Any
"""
`device/call` result: whatever the method returns.
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


class EnvReqParams(TypedDict):
    """
    A test's environment requirement (pytest-vitro's `env_req` marker argument).
    """

    env_req: Any
    """
    The requirement, matched against the environment file.
    """


class EnvReqMatch(TypedDict):
    """
    `session/envReq` result.
    """

    matches: bool
    """
    Whether the environment satisfies the requirement (pytest-vitro 0.5's rules).
    """


class ContingencyResult(TypedDict):
    """
    `session/contingencyCheck` result.
    """

    checked: list[str]
    """
    Devices whose contingency check ran and passed, sorted.
    """


class TemplateCheckParams(TypedDict):
    """
    `session/checkTemplates` params.
    """

    device: NotRequired[str | None]
    """
    Only this device (all that declare templates when absent).
    """


CheckOutcome: TypeAlias = Literal["passed", "failed", "error", "unknown"]
"""
How one checked call went.
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


class TemplateCheckResult(TypedDict):
    """
    One template method called on one device with one side-effect-free example.
    """

    device: str
    """
    Device name.
    """
    template: str
    """
    The template as the device's type declares it (`lan@1`).
    """
    method: str
    """
    Method name.
    """
    params: Any
    """
    The example's params it was called with.
    """
    outcome: CheckOutcome
    """
    How it went.
    """
    message: NotRequired[str | None]
    """
    Why it failed or errored.
    """
    schema_path: NotRequired[str | None]
    """
    Where in the result schema the check failed (a JSON Pointer).
    """
    instance_path: NotRequired[str | None]
    """
    Where in the result the offending value is (a JSON Pointer).
    """
    value: NotRequired[Any]
    """
    The offending value.
    """


class SessionDevice(TypedDict):
    """
    A device of the held test bed.
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
    state: DeviceState
    """
    Whether it can be used.
    """


class TemplateCheckReport(TypedDict):
    """
    `session/checkTemplates` result.
    """

    results: list[TemplateCheckResult]
    """
    Every call made, by device, template and method.
    """


class SessionDevices(TypedDict):
    """
    `session/devices` result.
    """

    devices: list[SessionDevice]
    """
    Every registered device, sorted by name.
    """
