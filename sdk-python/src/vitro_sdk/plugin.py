"""What a driver author writes: a :class:`Device` subclass per device type, optional
:class:`PluginHooks`, and a :class:`Plugin` that registers them and runs.

Hooks and ``@method``s may be plain ``def`` (run in worker threads) or ``async def`` (run on the
event loop). The runtime (:mod:`vitro_sdk._runtime`) speaks the protocol.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from .errors import DeviceError
from .messages import names

if TYPE_CHECKING:
    from ._runtime import Runtime
    from .connections import Connection
    from .messages.protocol import (
        Capability,
        CliArg,
        ClientKind,
        DeploymentStatus,
        DeviceDescription,
        Hook,
        HostArgs,
        MethodInfo,
        PatchOperation,
        Role,
    )
    from .messages.session import SessionConfig

T = TypeVar("T")

PROTOCOL_VERSION = names.PROTOCOL_VERSION


def _sdk_version() -> str:
    """This package's version, from its installed metadata: the name of its ``.dist-info``
    directory (much cheaper than ``importlib.metadata``, which costs a plugin 50 ms at start)."""
    for entry in sys.path:
        for info in Path(entry or ".").glob("vitro_sdk-*.dist-info"):
            return info.name[len("vitro_sdk-") : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vitro-sdk")
    except PackageNotFoundError:
        return "unknown"


SDK = f"vitro-sdk-python {_sdk_version()}"
PLUGIN_ENV_MARKER = names.ENV_PLUGIN

#: What a hook returns: nothing (a plain ``def``) or an awaitable of nothing (an ``async def``).
MaybeAwaitable = None | Awaitable[None]

#: Wire hook name -> Device method name.
HOOKS: dict[Hook, str] = {cast("Hook", hook): hook.replace("-", "_") for hook in names.HOOKS}

#: Capability -> PluginHooks method name: the snake_case of the method it answers
#: (``plugin/parseConfig`` -> ``parse_config``).
CAPABILITIES: dict[Capability, str] = {
    cast("Capability", capability): re.sub(r"(?<!^)([A-Z])", r"_\1", method.split("/", 1)[1]).lower()
    for capability, method in names.CAPABILITY_METHODS.items()
}


async def invoke(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
    """Runs a hook or method: an ``async def`` on the event loop, a plain ``def`` in a worker thread."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


def method(func: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a Device method as a custom device method callable through ``device/call``."""
    func._vitro_method = True  # type: ignore[attr-defined]
    return func


class Host:
    """The plugin's handle back to the host: device lookups and progress."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def devices(
        self, name: str | None = None, type: str | None = None, role: Role | None = None
    ) -> list[DeviceDescription]:
        """Registered devices matching every given field, with their merged configs."""
        query = {k: v for k, v in {"name": name, "type": type, "role": role}.items() if v is not None}
        result = await self._runtime.request("host/devices", query, timeout=30)
        devices: list[DeviceDescription] = result["devices"]
        return devices

    def devices_sync(
        self, name: str | None = None, type: str | None = None, role: Role | None = None
    ) -> list[DeviceDescription]:
        """:meth:`devices` for plain ``def`` hooks, which run in worker threads."""
        return self.sync(self.devices(name, type, role))

    async def config(self) -> SessionConfig:
        """The deployment's config once it is parsed (from ``plugin/setupEnv`` on): the merged
        devices, the environment and the board's inventory entry."""
        result: SessionConfig = await self._runtime.request(names.HOST_CONFIG, {}, timeout=30)
        return result

    async def call(
        self,
        device: str,
        method: str,
        params: Any = None,  # noqa: ANN401
        timeout: float = 600,
        kwargs: dict[str, Any] | None = None,
    ) -> Any:  # noqa: ANN401
        """Runs ``method`` of ``device``, whichever plugin owns it, through the host (``kwargs``
        go with an array of positional ``params``)."""
        body: dict[str, Any] = {"device": device, "method": method, "params": params}
        if kwargs:
            body["kwargs"] = kwargs
        return await self._runtime.request(names.HOST_CALL, body, timeout=timeout)

    def sync(self, call: Awaitable[T]) -> T:
        """Runs one of these calls from a worker thread (plain ``def`` hooks run in those)."""

        async def wrapped() -> T:
            return await call

        return asyncio.run_coroutine_threadsafe(wrapped(), self._runtime.loop).result()

    def progress(self, device: str | None, message: str, percent: float | None = None) -> None:
        """Tells the host what ``device`` (``None``: the plugin itself, e.g. waiting in a plugin
        hook) is doing now; callable from any thread."""
        params: dict[str, Any] = {"message": message}
        if device is not None:
            params["device"] = device
        if percent is not None:
            params["percent"] = percent
        self._runtime.notify(names.PROGRESS, params)


class Device:
    """One device instance. Override the hooks the type implements; only overridden hooks are
    declared to the host."""

    #: Boot-order role of the type: ``server``, ``device`` or ``attached``.
    role: ClassVar[Role] = "device"
    #: ``lan`` or ``wifi`` when devices of the type are LAN or Wi-Fi clients.
    client: ClassVar[ClientKind | None] = None
    #: Qualified class names test code may look the type up by (protocol 1.1); empty: none.
    classes: ClassVar[list[str]] = []
    #: Templates the type implements besides the template protocols it inherits
    #: (``vitro_sdk.templates``), ``name@major`` (``"lan@1"``; protocol 1.2). ``vitro`` checks at
    #: start that every required method of each is among the type's methods.
    implements: ClassVar[list[str]] = []

    def __init__(
        self, name: str, config: dict[str, Any], host: Host, console_log_dir: Path | None = None
    ) -> None:
        self.name = name
        self.config = config
        self.host = host
        #: Where console logs go (``--save-console-logs``), if given: pass it to ``connect``.
        self.console_log_dir = console_log_dir
        self.consoles: dict[str, Connection] = {}
        #: Set by the runtime when the host keeps this device's console logs
        #: (``console_log_stream``): hears each console as it is added.
        self.on_console_added: Callable[[str, Connection], None] | None = None

    def add_console(self, name: str, connection: Connection) -> None:
        """Makes ``connection`` reachable by the host under ``name``: people attach to it from
        ``vitro``'s menu and session clients stream it. Register each console once connected."""
        self.consoles[name] = connection
        if self.on_console_added is not None:
            self.on_console_added(name, connection)

    def progress(self, message: str, percent: float | None = None) -> None:
        """Tells the host what this device is doing now."""
        self.host.progress(self.name, message, percent)

    def validate(self) -> MaybeAwaitable:
        """``validate``: check requirements before anything boots."""

    def boot(self) -> MaybeAwaitable:
        """``boot``: bring the device up."""

    def configure(self) -> MaybeAwaitable:
        """``configure``: apply the config to the booted device."""

    # A phase's own hooks (protocol 1.1): a type that overrides one takes part in that phase
    # whatever its role.
    def server_boot(self) -> MaybeAwaitable:
        """``server-boot``: boot in the server boot phase."""

    def server_configure(self) -> MaybeAwaitable:
        """``server-configure``: configure in the server configure phase."""

    def device_boot(self) -> MaybeAwaitable:
        """``device-boot``: boot in the device boot phase."""

    def device_configure(self) -> MaybeAwaitable:
        """``device-configure``: configure in the device configure phase."""

    def attached_boot(self) -> MaybeAwaitable:
        """``attached-boot``: boot in the attached boot phase."""

    def attached_configure(self) -> MaybeAwaitable:
        """``attached-configure``: configure in the attached configure phase."""

    def skip_boot(self) -> MaybeAwaitable:
        """``skip-boot``: connect to the running device without booting it."""

    def contingency_check(self, env_req: Any) -> MaybeAwaitable:  # noqa: ANN401
        """``contingency-check``: raise DeviceError when unfit for ``env_req``."""

    def shutdown(self) -> MaybeAwaitable:
        """``shutdown``: release the device's resources. Consoles given to :meth:`add_console` are
        closed after it (or when the plugin shuts down) by the runtime."""

    def close_consoles(self) -> None:
        """Closes every console given to :meth:`add_console`."""
        for connection in self.consoles.values():
            connection.close()

    @classmethod
    def type_members(cls) -> list[MethodInfo]:
        """The members the type declares in the handshake: :meth:`device_methods`."""
        return [
            {"name": n, "description": (inspect.getdoc(fn) or "").split("\n")[0]}
            for n, fn in cls.device_methods().items()
        ]

    def members(self) -> list[MethodInfo] | None:
        """This instance's callable members, when they differ from its type's ``@method``s
        (reported in ``device/create``'s answer); ``None``: the type's."""
        return None

    async def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:  # noqa: ANN401
        """Runs member ``name`` for ``device/call`` (an array of params is its positional
        arguments, an object its keyword arguments, ``null`` none, anything else the one
        argument; ``kwargs`` go with an array)."""
        fn = type(self).device_methods().get(name)
        if fn is None:
            raise DeviceError(f"{self.name} has no method {name!r}", "method-not-found")
        return await invoke(getattr(self, fn.__name__), *args, **kwargs)

    @classmethod
    def implemented_hooks(cls) -> list[Hook]:
        """Wire names of the hooks this class overrides."""
        return [wire for wire, attr in HOOKS.items() if getattr(cls, attr) is not getattr(Device, attr)]

    @classmethod
    def device_methods(cls) -> dict[str, Callable[..., Any]]:
        """Custom methods: those marked with ``@method`` and those of the inherited template
        protocols that the class implements, by name."""
        found = {
            name: fn for name, fn in inspect.getmembers(cls, callable) if getattr(fn, "_vitro_method", False)
        }
        for template in cls._template_protocols():
            for name in template.__dict__.get("PARAMS", {}):
                owner = next(c for c in cls.__mro__ if name in vars(c))
                if "TEMPLATE" not in vars(owner):  # not the protocol's own stub
                    found.setdefault(name, getattr(cls, name))
        return found

    @classmethod
    def _template_protocols(cls) -> list[type]:
        """The template protocols among the class's bases (``vitro_sdk.templates``)."""
        return [c for c in cls.__mro__ if "TEMPLATE" in vars(c)]

    @classmethod
    def declared_templates(cls) -> list[str]:
        """The templates the type declares: those of its template protocols (a template that
        another of them extends is implied) and :attr:`implements`."""
        protocols = cls._template_protocols()
        extended = {vars(c).get("EXTENDS") for c in protocols}
        inherited = [str(vars(c)["TEMPLATE"]) for c in protocols if vars(c)["TEMPLATE"] not in extended]
        return sorted(set(inherited) | set(cls.implements))


class PluginHooks:
    """Plugin-level hooks (Python Vitro's core hooks). Override the ones the plugin implements;
    only overridden ones are declared to the host. Each may be ``def`` or ``async def``; ``options``
    holds the values of the plugin's own flags (:attr:`cli_args`) by name."""

    #: Flags the plugin adds to ``vitro``'s command line.
    cli_args: ClassVar[list[CliArg]] = []

    def __init__(self) -> None:
        #: The host; set before the first hook runs.
        self.host: Host | None = None

    def configure(self, args: HostArgs, options: dict[str, Any]) -> MaybeAwaitable:
        """``plugin/configure``: ``vitro``'s own flags, once, before reservation."""

    def reserve(self, board_name: str, options: dict[str, Any]) -> Any:  # noqa: ANN401
        """``plugin/reserve``: the inventory entry of ``board_name``."""
        raise DeviceError("this plugin does not reserve boards", "method-not-found")

    def parse_config(
        self, devices: list[Any], options: dict[str, Any]
    ) -> list[PatchOperation] | Awaitable[list[PatchOperation] | None] | None:
        """``plugin/parseConfig``: an RFC 6902 patch against the merged device list. An override
        that takes ``env`` and ``inventory`` keyword arguments also gets the raw environment and
        the board's inventory entry."""
        return None

    def setup_env(self, options: dict[str, Any], console_log_dir: str | None) -> MaybeAwaitable:
        """``plugin/setupEnv``: before the boot phases."""

    def post_setup(self, options: dict[str, Any], console_log_dir: str | None) -> MaybeAwaitable:
        """``plugin/postSetup``: after the configure phases."""

    def release(self, status: DeploymentStatus, error: str | None) -> MaybeAwaitable:
        """``plugin/release``: after every device was shut down, however the deployment ended."""

    def capabilities(self) -> list[Capability]:
        """The capabilities this object implements."""
        found: list[Capability] = [
            cap
            for cap, attr in CAPABILITIES.items()
            if getattr(type(self), attr) is not getattr(PluginHooks, attr)
        ]
        if self.cli_args:
            found.append("cli-args")
        return found


_PROTOCOL_OUT: int | None = None


def claim_stdout() -> int:
    """Takes standard output for the protocol and answers its file descriptor; from then on
    file descriptor 1 and ``sys.stdout`` are standard error, so nothing a driver prints (at
    import time, in a hook, in a child process) can reach the protocol stream. Call it before
    importing code you did not write; later calls answer the same descriptor."""
    global _PROTOCOL_OUT
    if _PROTOCOL_OUT is None:
        sys.stdout.flush()
        out_fd = os.dup(1)
        os.set_inheritable(out_fd, False)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        _PROTOCOL_OUT = out_fd
    return _PROTOCOL_OUT


class Plugin:
    """A plugin: its name, version, device types and hooks. Build one, then :meth:`run` it."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version
        self.types: dict[str, type[Device]] = {}
        self.plugin_hooks = PluginHooks()
        self.protocol_versions = [PROTOCOL_VERSION]
        #: The oldest version the plugin can work with (``None``: any it speaks).
        self.min_protocol_version: tuple[int, int] | None = None
        #: At most this many hooks run at once (``None``: no limit).
        self.max_concurrency: int | None = None

    def device_type(self, type_name: str, cls: type[Device]) -> Plugin:
        """Registers ``cls`` as the device type ``type_name`` (the inventory's ``type``)."""
        self.types[type_name] = cls
        return self

    def hooks(self, hooks: PluginHooks) -> Plugin:
        """Sets the plugin-level hooks."""
        self.plugin_hooks = hooks
        return self

    def run(self) -> None:
        """Serves the host on stdin/stdout until ``exit`` or the host goes away, then exits."""
        if PLUGIN_ENV_MARKER not in os.environ:
            print(
                f"vitro-plugin-{self.name} {self.version} is a Vitro plugin: the `vitro` command starts it "
                "and talks to it over stdin/stdout (JSON-RPC, see protocol/README.md). Put it on PATH, run "
                f"`vitro plugins list`; to start it by hand anyway, set {PLUGIN_ENV_MARKER}=1.",
                file=sys.stderr,
            )
            sys.exit(2)
        sys.exit(asyncio.run(self.serve(0, claim_stdout())))

    async def serve(self, in_fd: int, out_fd: int) -> int:
        """Serves the protocol on raw file descriptors; returns the exit status."""
        from ._runtime import serve

        return await serve(self, in_fd, out_fd)
