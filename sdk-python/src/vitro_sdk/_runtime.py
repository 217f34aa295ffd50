"""The plugin runtime: handshake and version negotiation, the lifecycle state machine, dispatch of
hooks, plugin hooks, device methods and console requests, ``$/ping`` answered while handlers run,
``$/cancelRequest``, ``logging`` records forwarded as ``$/log``. A reader thread hands whole lines
to the event loop; lines have no length ceiling below the negotiated message size.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .errors import CODES, DeviceError
from .messages import names
from .plugin import CAPABILITIES, HOOKS, SDK, Device, Host, Plugin, invoke

if TYPE_CHECKING:
    from .connections import Connection
    from .messages.protocol import (
        Capability,
        ConfigureParams,
        ConsoleData,
        ConsoleRef,
        DeviceCallParams,
        DeviceCreateParams,
        DeviceHookParams,
        DeviceTypeInfo,
        ErrorKind,
        InitializeParams,
        InitializeResult,
        LogLevel,
        MarkerParams,
        ParseConfigParams,
        ParseConfigResult,
        ReleaseParams,
        ReserveParams,
        SetupParams,
    )

_LOGGER = logging.getLogger("vitro_sdk.runtime")

LEVELS: dict[LogLevel, int] = {
    "trace": 5,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}

#: Plugin-level method -> the capability that declares it.
PLUGIN_METHODS: dict[str, Capability] = {
    method: cast("Capability", capability) for capability, method in names.CAPABILITY_METHODS.items()
}


class _Forward(logging.Handler):
    """Sends log records to the host as ``$/log`` notifications."""

    def __init__(self, runtime: Runtime) -> None:
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
        self.runtime.notify(names.LOG, params)


#: The id of a message, from its first bytes (a number or a string).
_ID = re.compile(r'"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


def _error(
    kind: ErrorKind,
    message: str,
    causes: list[str] | None = None,
    details: Any = None,  # noqa: ANN401
) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": kind}
    if causes:
        data["causes"] = causes
    if details is not None:
        data["details"] = details
    return {"code": CODES.get(kind, -32603), "message": message, "data": data}


class Runtime:
    """One plugin's connection to the host."""

    def __init__(self, plugin: Plugin, out_fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self.plugin = plugin
        self.out_fd = out_fd
        self.loop = loop
        self.write_lock = threading.Lock()
        self.state = "uninitialized"
        self.devices: dict[str, Device] = {}
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.streams: dict[tuple[str, str], Callable[[bytes | None], None]] = {}
        #: Devices whose consoles stream from the start, for the host's console logs.
        self.streamed: set[str] = set()
        self.next_id = 1
        self.done = asyncio.Event()
        self.exit_clean = False
        self.max_message = 16 * 1024 * 1024
        self.host = Host(self)
        self.limit = asyncio.Semaphore(plugin.max_concurrency or 1 << 30)
        plugin.plugin_hooks.host = self.host

    # -- output --
    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        if len(data) - 1 > self.max_message and "id" in message and "method" not in message:
            # The host would skip an answer this long: it gets the error instead.
            text = (
                f"the answer is {len(data) - 1} bytes, over the limit of {self.max_message} bytes that "
                "the host skips; ask for less at a time"
            )
            _LOGGER.warning("%s", text)
            refused = {"jsonrpc": "2.0", "id": message["id"], "error": _error("message-too-large", text)}
            data = (json.dumps(refused, separators=(",", ":")) + "\n").encode()
        with self.write_lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self.out_fd, view) :]

    def notify(self, method_name: str, params: Any) -> None:  # noqa: ANN401
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

    async def request(self, method_name: str, params: Any, timeout: float) -> Any:  # noqa: ANN401
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
        # JSON-RPC 2.0: what cannot be read is answered with `id: null`.
        try:
            message = json.loads(line)
        except ValueError:
            print(f"vitro-sdk: skipped a line that is not JSON: {line[:200]!r}", file=sys.stderr)
            self.respond(None, error=_error("parse-error", "a line that is not JSON was skipped"))
            return
        if isinstance(message, list):
            text = "batch arrays are not supported: send one message per line"
            self.respond(None, error=_error("invalid-request", text))
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            print(f"vitro-sdk: skipped a message that is not JSON-RPC 2.0: {line[:200]!r}", file=sys.stderr)
            text = "a message that is not JSON-RPC 2.0 was skipped"
            self.respond(None, error=_error("invalid-request", text))
            return
        name = message.get("method")
        params = message.get("params") or {}
        if isinstance(name, str) and "id" in message:
            if name == names.PING:
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
                    error = message["error"]
                    kind = (error.get("data") or {}).get("kind", "internal")
                    future.set_exception(DeviceError(error.get("message", ""), kind))
                else:
                    future.set_result(message.get("result"))

    def oversized(self, head: bytes, length: int) -> None:
        """A message over the size limit was skipped; a request among them is answered
        ``message-too-large``, an answer fails the call that waits for it."""
        text = f"a message of {length} bytes is over the limit of {self.max_message} bytes; it was skipped"
        print(f"vitro-sdk: {text}", file=sys.stderr)
        found = _ID.search(head.decode(errors="replace"))
        if found is None:
            return
        request_id: Any = json.loads(found.group(1))
        if b'"method"' in head:
            self.respond(request_id, error=_error("message-too-large", text))
        else:
            future = self.pending.get(request_id)
            if future is not None and not future.done():
                future.set_exception(DeviceError(text, "message-too-large"))

    def notification(self, name: str, params: dict[str, Any]) -> None:
        if name == names.CANCEL_REQUEST:
            task = self.tasks.get(params.get("id"))
            if task is not None:
                task.cancel()
        elif name == names.EXIT:
            self.exit_clean = self.state == "shutdown"
            self.done.set()

    async def handle(self, request_id: Any, name: str, params: dict[str, Any]) -> None:  # noqa: ANN401
        try:
            result = await self.route(name, params)
        except asyncio.CancelledError:
            self.respond(request_id, error=_error("cancelled", "the request was cancelled"))
        except DeviceError as e:
            self.respond(request_id, error=_error(e.kind, e.message, e.causes, e.details))
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
        if self.state == "uninitialized" and name != names.INITIALIZE:
            raise DeviceError(f"`{name}` before `initialize`", "invalid-state")
        if self.state != "uninitialized" and name == names.INITIALIZE:
            raise DeviceError("`initialize` was already answered", "invalid-state")
        if self.state == "shutdown":
            raise DeviceError(f"`{name}` after `shutdown`", "invalid-state")
        if name == names.INITIALIZE:
            return self.initialize(cast("InitializeParams", params))
        if name == names.SHUTDOWN:
            self.state = "shutdown"
            for device in self.devices.values():
                await asyncio.to_thread(device.close_consoles)
            return {}
        if name == names.DEVICE_CREATE:
            return self.create(cast("DeviceCreateParams", params))
        if name == names.DEVICE_HOOK:
            async with self.limit:
                return await self.hook(cast("DeviceHookParams", params))
        if name == names.DEVICE_CALL:
            return await self.call(cast("DeviceCallParams", params))
        if name.startswith("plugin/"):
            async with self.limit:
                return await self.plugin_hook(name, params)
        if name.startswith((names.DEVICE_CONSOLES, "console/")):
            return self.console(name, params)
        raise DeviceError(f"no method `{name}`", "method-not-found")

    # -- the handshake --
    def initialize(self, params: InitializeParams) -> InitializeResult:
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
                details={
                    "host": [{"major": a, "minor": b} for a, b in offered],
                    "plugin": [{"major": a, "minor": b} for a, b in speaks],
                },
            )
        major, minor = max(common)
        needs, why = self.plugin.min_protocol_version or (1, 0), ""
        for cls in self.plugin.types.values():
            for hook in cls.implemented_hooks():
                if names.HOOKS_SINCE.get(hook, (1, 0)) > needs:
                    needs, why = names.HOOKS_SINCE[hook], f" (its device types use the `{hook}` hook)"
        if (major, minor) < needs:
            raise DeviceError(
                f"plugin {self.plugin.name} needs protocol {needs[0]}.{needs[1]}{why}, and the host speaks "
                f"{major}.{minor} at most; upgrade vitro",
                "version-mismatch",
            )
        self.max_message = int(params.get("limits", {}).get("max_message_size", self.max_message))
        root = logging.getLogger()
        root.addHandler(_Forward(self))
        root.setLevel(LEVELS.get(params.get("log_level", "info"), logging.INFO))
        self.state = "running"
        types: list[DeviceTypeInfo] = []
        for type_name, cls in self.plugin.types.items():
            entry: DeviceTypeInfo = {
                "type": type_name,
                "role": cls.role,
                "hooks": cls.implemented_hooks(),
                "methods": cls.type_members(),
            }
            if cls.client:
                entry["client"] = cls.client
            if cls.classes:
                entry["classes"] = list(cls.classes)
            if templates := cls.declared_templates():
                entry["implements"] = templates
            types.append(entry)
        capabilities: list[Capability] = self.plugin.plugin_hooks.capabilities()
        if any("shutdown" in t["hooks"] for t in types):
            capabilities.append("device-shutdown")
        result: InitializeResult = {
            "protocol_version": {"major": major, "minor": minor},
            "plugin": {"name": self.plugin.name, "version": self.plugin.version, "sdk": SDK},
            "device_types": types,
            "capabilities": capabilities,
            "cli_args": list(self.plugin.plugin_hooks.cli_args),
        }
        if self.plugin.max_concurrency is not None:
            result["max_concurrency"] = self.plugin.max_concurrency
        return result

    # -- devices --
    def create(self, params: DeviceCreateParams) -> dict[str, Any]:
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
        log_dir = params.get("console_log_dir")
        device = cls(str(name), params.get("config") or {}, self.host, Path(log_dir) if log_dir else None)
        if params.get("console_log_stream"):
            # The host keeps this device's console logs: every console streams from the start.
            self.streamed.add(str(name))
            device.on_console_added = lambda console, connection: self._open(str(name), console, connection)
        self.devices[str(name)] = device
        members = device.members()
        return {} if members is None else {"methods": members}

    def device(self, name: Any) -> Device:  # noqa: ANN401
        device = self.devices.get(str(name))
        if device is None:
            raise DeviceError(f"no device named {name} in this plugin", "unknown-device")
        return device

    async def hook(self, params: DeviceHookParams) -> dict[str, Any]:
        device = self.device(params.get("device"))
        hook = HOOKS.get(params.get("hook", "unknown"))
        if hook is None:
            raise DeviceError(f"unknown hook {params.get('hook')!r}", "method-not-found")
        args = [params.get("env_req")] if hook == "contingency_check" else []
        try:
            await invoke(getattr(device, hook), *args)
        finally:
            if hook == "shutdown":
                await asyncio.to_thread(device.close_consoles)
        return {}

    async def call(self, params: DeviceCallParams) -> Any:  # noqa: ANN401
        device = self.device(params.get("device"))
        given = params.get("params")
        if isinstance(given, list):
            args, kwargs = given, {}
        elif isinstance(given, dict):
            args, kwargs = [], given
        else:
            args, kwargs = ([] if given is None else [given]), {}
        return await device.call(params.get("method", ""), args, {**kwargs, **(params.get("kwargs") or {})})

    async def plugin_hook(self, name: str, params: dict[str, Any]) -> Any:  # noqa: ANN401
        hooks = self.plugin.plugin_hooks
        capability = PLUGIN_METHODS.get(name)
        if capability is None or capability not in hooks.capabilities():
            raise DeviceError(f"no method `{name}`", "method-not-found")
        fn = getattr(hooks, CAPABILITIES[capability])
        options = params.get("options") or {}
        if name == names.PLUGIN_CONFIGURE:
            await invoke(fn, cast("ConfigureParams", params)["args"], options)
            return {}
        if name == names.PLUGIN_RESERVE:
            reserve = cast("ReserveParams", params)
            return {"inventory": await invoke(fn, reserve["board_name"], options)}
        if name == names.PLUGIN_PARSE_CONFIG:
            parse = cast("ParseConfigParams", params)
            accepted = inspect.signature(fn).parameters
            raw = {key: parse.get(key) for key in ("env", "inventory") if key in accepted}
            result: ParseConfigResult = {"patch": await invoke(fn, parse["devices"], options, **raw) or []}
            return result
        if name == names.PLUGIN_RELEASE:
            release = cast("ReleaseParams", params)
            await invoke(fn, release["status"], release.get("error"))
            return {}
        setup = cast("SetupParams", params)
        await invoke(fn, options, setup.get("console_log_dir"))
        return {}

    # -- consoles --
    def console(self, name: str, params: dict[str, Any]) -> Any:  # noqa: ANN401
        if name == names.DEVICE_CONSOLES:
            return {"consoles": sorted(self.device(params.get("device")).consoles)}
        if name == "console/marker":
            text = cast("MarkerParams", params)["text"]
            for device in self.devices.values():
                for each in device.consoles.values():
                    each.mark(text)
            return {}
        ref = cast("ConsoleRef", params)
        device = self.device(ref.get("device"))
        connection = device.consoles.get(ref.get("console", ""))
        if connection is None:
            known = ", ".join(sorted(device.consoles)) or "none"
            raise DeviceError(
                f"{device.name} has no console {ref.get('console')!r} (it has: {known})", "unknown-device"
            )
        key = (device.name, ref["console"])
        if name == "console/open":
            self._open(device.name, ref["console"], connection)
            return {}
        if name == "console/close":
            if device.name in self.streamed:
                return {}  # the host's console log needs the stream
            listener = self.streams.pop(key, None)
            if listener is not None:
                connection.remove_listener(listener)
            return {}
        if name == "console/write":
            connection.write(base64.b64decode(cast("ConsoleData", params)["data"]))
            return {}
        raise DeviceError(f"no method `{name}`", "method-not-found")

    def _open(self, device: str, console: str, connection: Connection) -> None:
        """Streams ``console`` of ``device`` to the host (once)."""
        key = (device, console)
        if key not in self.streams:
            self.streams[key] = self._stream(device, console)
            connection.add_listener(self.streams[key])

    def _stream(self, device: str, console: str) -> Callable[[bytes | None], None]:
        def forward(data: bytes | None) -> None:
            if data is None:
                self.streams.pop((device, console), None)
                reason = "the console closed"
                self.notify(names.CONSOLE_CLOSED, {"device": device, "console": console, "reason": reason})
            else:
                encoded = base64.b64encode(data).decode()
                self.notify(names.CONSOLE_OUTPUT, {"device": device, "console": console, "data": encoded})

        return forward


def _reader(fd: int, runtime: Runtime) -> None:
    """Reads the protocol stream in a thread and hands whole lines to the event loop. A line over
    the size limit is dropped as it comes; its head is kept to find the id it must be answered with."""
    buffer = bytearray()
    skipped: int | None = None  # bytes of an oversized line dropped so far
    head = b""
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
                    if skipped is None:
                        skipped, head = 0, bytes(buffer[:4096])
                    skipped += len(buffer)
                    buffer.clear()
                break
            line = bytes(buffer[:end]).rstrip(b"\r")
            del buffer[: end + 1]
            if skipped is not None or len(line) > runtime.max_message:
                whole = (skipped or 0) + len(line)
                runtime.loop.call_soon_threadsafe(runtime.oversized, head if skipped else line[:4096], whole)
                skipped = None
            elif line:
                runtime.loop.call_soon_threadsafe(runtime.feed_line, line)
    runtime.loop.call_soon_threadsafe(runtime.done.set)


async def serve(plugin: Plugin, in_fd: int, out_fd: int) -> int:
    """Serves the protocol on raw file descriptors until ``exit`` or EOF; returns the exit status."""
    runtime = Runtime(plugin, out_fd, asyncio.get_running_loop())
    threading.Thread(target=_reader, args=(in_fd, runtime), daemon=True, name="vitro-reader").start()
    await runtime.done.wait()
    for task in list(runtime.tasks.values()):
        task.cancel()
    return 0 if runtime.exit_clean else 1
