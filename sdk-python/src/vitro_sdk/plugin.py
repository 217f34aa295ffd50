"""The plugin runtime: handshake and version negotiation, the lifecycle state machine, dispatch of
hooks and device methods (plain ``def`` in worker threads, ``async def`` on the event loop),
``$/ping`` answered while handlers run, ``$/cancelRequest``, ``logging`` records forwarded as
``$/log``, and a protocol stream that stray ``print``s and C-level writes to fd 1 cannot reach.
Lines have no length ceiling below the negotiated message size.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

PROTOCOL_VERSION = (1, 0)

#: What a hook returns: nothing (a plain ``def``) or an awaitable of nothing (an ``async def``).
MaybeAwaitable = None | Awaitable[None]
SDK = "vitro-sdk-python 0.1.0"
PLUGIN_ENV_MARKER = "VITRO_PLUGIN"

#: Wire hook name -> Device method name.
HOOKS = {
    "validate": "validate",
    "boot": "boot",
    "configure": "configure",
    "skip-boot": "skip_boot",
    "contingency-check": "contingency_check",
    "shutdown": "shutdown",
}

#: Error kind -> JSON-RPC code (protocol/README.md).
CODES = {
    "parse-error": -32700,
    "invalid-request": -32600,
    "method-not-found": -32601,
    "invalid-params": -32602,
    "internal": -32603,
    "device-error": -32000,
    "timeout": -32001,
    "peer-gone": -32002,
    "invalid-state": -32003,
    "version-mismatch": -32004,
    "message-too-large": -32005,
    "unknown-device": -32006,
    "unknown-device-type": -32007,
    "panic": -32008,
    "cancelled": -32800,
}

LEVELS = {
    "trace": 5,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


class DeviceError(Exception):
    """A hook or device method failed; sent to the host as an error of ``kind``."""

    def __init__(self, message: str, kind: str = "device-error", causes: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.causes = causes or []


def method(func: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a Device method as a custom device method callable through ``device/call``."""
    func._vitro_method = True  # type: ignore[attr-defined]
    return func


class Host:
    """The plugin's handle back to the host: device lookups and progress."""

    def __init__(self, runtime: _Runtime) -> None:
        self._runtime = runtime

    async def devices(
        self, name: str | None = None, type: str | None = None, role: str | None = None
    ) -> list[Any]:
        """Registered devices matching every given field, with their merged configs."""
        query = {k: v for k, v in {"name": name, "type": type, "role": role}.items() if v is not None}
        result = await self._runtime.request("host/devices", query, timeout=30)
        devices: list[Any] = result["devices"]
        return devices

    def devices_sync(
        self, name: str | None = None, type: str | None = None, role: str | None = None
    ) -> list[Any]:
        """:meth:`devices` for plain ``def`` hooks, which run in worker threads."""
        future = asyncio.run_coroutine_threadsafe(self.devices(name, type, role), self._runtime.loop)
        return future.result()

    def progress(self, device: str, message: str, percent: float | None = None) -> None:
        """Tells the host what ``device`` is doing now; callable from any thread."""
        params: dict[str, Any] = {"device": device, "message": message}
        if percent is not None:
            params["percent"] = percent
        self._runtime.notify("$/progress", params)


class Device:
    """One device instance. Override the hooks the type implements; only overridden hooks are
    declared to the host. Hooks and ``@method``s may be ``def`` (run in a worker thread) or
    ``async def`` (run on the event loop)."""

    #: Boot-order role of the type: ``server``, ``device`` or ``attached``.
    role: ClassVar[str] = "device"
    #: ``lan`` or ``wifi`` when devices of the type are LAN or Wi-Fi clients.
    client: ClassVar[str | None] = None

    def __init__(self, name: str, config: dict[str, Any], host: Host) -> None:
        self.name = name
        self.config = config
        self.host = host

    def validate(self) -> MaybeAwaitable:
        """``validate``: check requirements before anything boots."""

    def boot(self) -> MaybeAwaitable:
        """``boot``: bring the device up."""

    def configure(self) -> MaybeAwaitable:
        """``configure``: apply the config to the booted device."""

    def skip_boot(self) -> MaybeAwaitable:
        """``skip-boot``: connect to the running device without booting it."""

    def contingency_check(self, env_req: Any) -> MaybeAwaitable:  # noqa: ANN401
        """``contingency-check``: raise DeviceError when unfit for ``env_req``."""

    def shutdown(self) -> MaybeAwaitable:
        """``shutdown``: release the device's connections."""

    @classmethod
    def implemented_hooks(cls) -> list[str]:
        """Wire names of the hooks this class overrides."""
        return [wire for wire, attr in HOOKS.items() if getattr(cls, attr) is not getattr(Device, attr)]

    @classmethod
    def device_methods(cls) -> dict[str, Callable[..., Any]]:
        """Custom methods marked with ``@method``, by name."""
        return {
            name: fn for name, fn in inspect.getmembers(cls, callable) if getattr(fn, "_vitro_method", False)
        }


class _Forward(logging.Handler):
    """Sends log records to the host as ``$/log`` notifications."""

    def __init__(self, runtime: _Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    def emit(self, record: logging.LogRecord) -> None:
        level = next(
            (name for name, no in sorted(LEVELS.items(), key=lambda i: -i[1]) if record.levelno >= no),
            "trace",
        )
        params: dict[str, Any] = {"level": level, "message": record.getMessage(), "target": record.name}
        device = getattr(record, "device", None)
        if isinstance(device, str):
            params["device"] = device
        self.runtime.notify("$/log", params)


async def _invoke(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
    if inspect.iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


class _Runtime:
    def __init__(self, plugin: Plugin, out_fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self.plugin = plugin
        self.out_fd = out_fd
        self.loop = loop
        self.write_lock = threading.Lock()
        self.state = "uninitialized"
        self.devices: dict[str, Device] = {}
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 1
        self.done = asyncio.Event()
        self.exit_clean = False
        self.max_message = 16 * 1024 * 1024
        self.host = Host(self)

    # -- output --
    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        with self.write_lock:
            view = memoryview(data)
            while view:
                written = os.write(self.out_fd, view)
                view = view[written:]

    def notify(self, method_name: str, params: dict[str, Any]) -> None:
        try:
            self.send({"jsonrpc": "2.0", "method": method_name, "params": params})
        except OSError:
            pass

    def respond(self, request_id: Any, result: Any = None, error: dict[str, Any] | None = None) -> None:  # noqa: ANN401
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if error is None:
            message["result"] = result
        else:
            message["error"] = error
        try:
            self.send(message)
        except OSError:
            self.done.set()

    async def request(self, method_name: str, params: dict[str, Any], timeout: float) -> Any:  # noqa: ANN401
        request_id = self.next_id
        self.next_id += 1
        future: asyncio.Future[Any] = self.loop.create_future()
        self.pending[request_id] = future
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method_name, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.pending.pop(request_id, None)

    # -- input --
    def feed_line(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            print(f"vitro-sdk: skipped a line that is not JSON: {line[:200]!r}", file=sys.stderr)
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            print(f"vitro-sdk: skipped a message that is not JSON-RPC 2.0: {line[:200]!r}", file=sys.stderr)
            return
        name = message.get("method")
        params = message.get("params") or {}
        if isinstance(name, str) and "id" in message:
            if name == "$/ping":
                self.respond(message["id"], {})
                return
            task = self.loop.create_task(self.handle(message["id"], name, params))
            self.tasks[message["id"]] = task
        elif isinstance(name, str):
            self.notification(name, params)
        elif "id" in message:
            future = self.pending.get(message["id"])
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(DeviceError(message["error"].get("message", ""), "peer-gone"))
                else:
                    future.set_result(message.get("result"))

    def notification(self, name: str, params: dict[str, Any]) -> None:
        if name == "$/cancelRequest":
            task = self.tasks.get(params.get("id"))
            if task is not None:
                task.cancel()
        elif name == "exit":
            self.exit_clean = self.state == "shutdown"
            self.done.set()

    async def handle(self, request_id: Any, name: str, params: dict[str, Any]) -> None:  # noqa: ANN401
        try:
            result = await self.route(name, params)
        except asyncio.CancelledError:
            self.respond(request_id, error=_error("cancelled", "the request was cancelled"))
        except DeviceError as e:
            self.respond(request_id, error=_error(e.kind, str(e), e.causes))
        except Exception as e:
            lines = traceback.format_exception(type(e), e, e.__traceback__)
            causes = [line.rstrip() for line in "".join(lines).splitlines()[-6:]]
            self.respond(
                request_id, error=_error("panic", f"the handler raised {type(e).__name__}: {e}", causes)
            )
        else:
            self.respond(request_id, result)
        finally:
            self.tasks.pop(request_id, None)

    async def route(self, name: str, params: dict[str, Any]) -> Any:  # noqa: ANN401
        if self.state == "uninitialized" and name != "initialize":
            raise DeviceError(f"`{name}` before `initialize`", "invalid-state")
        if self.state != "uninitialized" and name == "initialize":
            raise DeviceError("`initialize` was already answered", "invalid-state")
        if self.state == "shutdown":
            raise DeviceError(f"`{name}` after `shutdown`", "invalid-state")
        if name == "initialize":
            return self.initialize(params)
        if name == "shutdown":
            self.state = "shutdown"
            return {}
        if name == "device/create":
            return self.create(params)
        if name == "device/hook":
            device = self.device(params.get("device"))
            hook = HOOKS.get(params.get("hook", ""))
            if hook is None:
                raise DeviceError(f"unknown hook {params.get('hook')!r}", "method-not-found")
            args = [params.get("env_req")] if hook == "contingency_check" else []
            await _invoke(getattr(device, hook), *args)
            return {}
        if name == "device/call":
            device = self.device(params.get("device"))
            fn = type(device).device_methods().get(params.get("method", ""))
            if fn is None:
                raise DeviceError(f"{device.name} has no method {params.get('method')!r}", "method-not-found")
            bound = getattr(device, fn.__name__)
            given = params.get("params")
            if isinstance(given, list):
                return await _invoke(bound, *given)
            if isinstance(given, dict):
                return await _invoke(bound, **given)
            return await _invoke(bound) if given is None else await _invoke(bound, given)
        if name == "device/consoles":
            return {"consoles": []}
        raise DeviceError(f"no method `{name}`", "method-not-found")

    def initialize(self, params: dict[str, Any]) -> dict[str, Any]:
        offered = [(v["major"], v["minor"]) for v in params.get("protocol_versions", [])]
        speaks = self.plugin.protocol_versions
        common = [
            (major, min(minor, max(m for M, m in speaks if M == major)))
            for major, minor in offered
            if any(M == major for M, _ in speaks)
        ]
        if not common:
            host = ", ".join(f"{a}.{b}" for a, b in offered) or "nothing"
            ours = ", ".join(f"{a}.{b}" for a, b in speaks)
            newer_host = max((a for a, _ in offered), default=0) > max(a for a, _ in speaks)
            advice = (
                (f"upgrade the plugin (its SDK) to one that speaks protocol {max(a for a, _ in offered)}.x")
                if newer_host
                else (f"upgrade vitro to a release that speaks protocol {max(a for a, _ in speaks)}.x")
            )
            raise DeviceError(
                f"no common protocol version: the host speaks {host}, the plugin speaks {ours}; {advice}",
                "version-mismatch",
            )
        major, minor = max(common)
        self.max_message = int(params.get("limits", {}).get("max_message_size", self.max_message))
        forward = _Forward(self)
        root = logging.getLogger()
        root.addHandler(forward)
        root.setLevel(LEVELS.get(params.get("log_level", "info"), logging.INFO))
        self.state = "running"
        types = []
        for type_name, cls in self.plugin.types.items():
            entry: dict[str, Any] = {
                "type": type_name,
                "role": cls.role,
                "hooks": cls.implemented_hooks(),
                "methods": [
                    {
                        "name": n,
                        "description": (inspect.getdoc(fn) or "").splitlines()[0]
                        if inspect.getdoc(fn)
                        else "",
                    }
                    for n, fn in cls.device_methods().items()
                ],
            }
            if cls.client:
                entry["client"] = cls.client
            types.append(entry)
        shutdown = any("shutdown" in t["hooks"] for t in types)
        return {
            "protocol_version": {"major": major, "minor": minor},
            "plugin": {"name": self.plugin.name, "version": self.plugin.version, "sdk": SDK},
            "device_types": types,
            "capabilities": ["device-shutdown"] if shutdown else [],
            "cli_args": [],
        }

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        name, type_name = params.get("name"), params.get("type")
        cls = self.plugin.types.get(str(type_name))
        if cls is None:
            known = ", ".join(self.plugin.types)
            raise DeviceError(
                f"plugin {self.plugin.name} has no device type `{type_name}` (it has: {known})",
                "unknown-device-type",
            )
        if name in self.devices:
            raise DeviceError(f"device {name} already exists", "invalid-state")
        self.devices[str(name)] = cls(str(name), params.get("config") or {}, self.host)
        return {}

    def device(self, name: Any) -> Device:  # noqa: ANN401
        device = self.devices.get(str(name))
        if device is None:
            raise DeviceError(f"no device named {name} in this plugin", "unknown-device")
        return device


def _error(kind: str, message: str, causes: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": kind}
    if causes:
        data["causes"] = causes
    return {"code": CODES.get(kind, -32603), "message": message, "data": data}


def _reader(fd: int, runtime: _Runtime) -> None:
    """Reads the protocol stream in a thread and hands whole lines to the event loop."""
    buffer = bytearray()
    skipping = False
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                if len(buffer) > runtime.max_message:
                    skipping = True
                    buffer.clear()
                break
            line = bytes(buffer[:end]).rstrip(b"\r")
            del buffer[: end + 1]
            if skipping:
                skipping = False
                print("vitro-sdk: skipped a message over the size limit", file=sys.stderr)
            elif line:
                runtime.loop.call_soon_threadsafe(runtime.feed_line, line)
    runtime.loop.call_soon_threadsafe(runtime.done.set)


class Plugin:
    """A plugin: its name, version and device types. Build one, then :meth:`run` it."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version
        self.types: dict[str, type[Device]] = {}
        self.protocol_versions = [PROTOCOL_VERSION]

    def device_type(self, type_name: str, cls: type[Device]) -> Plugin:
        """Registers ``cls`` as the device type ``type_name`` (the inventory's ``type``)."""
        self.types[type_name] = cls
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
        out_fd = os.dup(1)
        os.set_inheritable(out_fd, False)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        sys.exit(asyncio.run(self.serve(0, out_fd)))

    async def serve(self, in_fd: int, out_fd: int) -> int:
        """Serves the protocol on raw file descriptors; returns the exit status."""
        runtime = _Runtime(self, out_fd, asyncio.get_running_loop())
        threading.Thread(target=_reader, args=(in_fd, runtime), daemon=True, name="vitro-reader").start()
        await runtime.done.wait()
        for task in list(runtime.tasks.values()):
            task.cancel()
        return 0 if runtime.exit_clean else 1
