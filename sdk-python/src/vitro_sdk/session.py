"""A client of the live session that ``vitro`` serves while it holds a test bed (``vitro run --
CMD``, ``vitro --hold``, the menu): devices, config, device methods run in their plugins,
consoles, markers, ``env_req`` matching and contingency checks, release.

``Session()`` connects to the socket named by ``VITRO_SESSION``. :class:`DeviceManager` and
:class:`VitroConfig` give tests the shapes pytest-vitro's fixtures had; a :class:`RemoteDevice`
forwards attribute calls (``board.execute_command("uname -a")``) to the driver's process.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from .errors import DeviceError
from .messages import names

if TYPE_CHECKING:
    from .messages.session import (
        ContingencyResult,
        DeviceState,
        EnvReqMatch,
        Role,
        SessionConfig,
        SessionDevice,
        SessionDevices,
    )

SESSION_ENV = names.ENV_SESSION


class ConsoleStream:
    """Output of one console, as ``vitro`` streams it: iterate for chunks of bytes."""

    def __init__(self, device: str, console: str) -> None:
        self.device = device
        self.console = console
        #: Why the stream ended, once it has.
        self.closed_reason: str | None = None
        self._chunks: queue.Queue[bytes | None] = queue.Queue()

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next chunk; ``None`` when the stream has ended. Raises ``TimeoutError``."""
        try:
            return self._chunks.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no output from {self.device}.{self.console} within {timeout} s") from None

    def read_until(self, text: bytes, timeout: float) -> bytes:
        """Reads until ``text`` has been seen; returns everything read."""
        seen = b""
        while text not in seen:
            chunk = self.read(timeout)
            if chunk is None:
                raise DeviceError(f"{self.device}.{self.console} closed: {self.closed_reason}", "peer-gone")
            seen += chunk
        return seen

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self.read()) is not None:
            yield chunk


class Session:
    """One connection to the live session; thread-safe."""

    def __init__(self, path: str | None = None, timeout: float = 600) -> None:
        path = path or os.environ.get(SESSION_ENV)
        if not path:
            raise DeviceError(
                f"{SESSION_ENV} is not set: run this under `vitro run -- ...` or `vitro --hold`", "peer-gone"
            )
        self.path = path
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(path)
        except OSError as e:
            self._sock.close()
            raise DeviceError(f"cannot reach the live session at {path}: {e}", "peer-gone") from e
        self._ids = itertools.count(1)
        self._pending: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._streams: dict[tuple[str, str], ConsoleStream] = {}
        self._lock = threading.Lock()
        self._closed: str | None = None
        threading.Thread(target=self._read, daemon=True, name="vitro-session").start()

    # -- the wire --
    def request(self, method: str, params: Any = None, timeout: float | None = None) -> Any:  # noqa: ANN401
        """Sends a request and waits for its answer; an error answer raises :class:`DeviceError`."""
        answer: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1)
        with self._lock:
            if self._closed is not None:
                raise DeviceError(f"the live session is gone: {self._closed}", "peer-gone")
            request_id = next(self._ids)
            self._pending[request_id] = answer
            message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}
            try:
                self._sock.sendall((json.dumps(message, separators=(",", ":")) + "\n").encode())
            except OSError as e:
                self._pending.pop(request_id, None)
                raise DeviceError(f"the live session is gone: {e}", "peer-gone") from e
        try:
            reply = answer.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise DeviceError(
                f"`{method}` got no answer within {timeout or self.timeout} s", "timeout"
            ) from None
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        if "error" in reply:
            error = reply["error"]
            data = error.get("data") or {}
            raise DeviceError(str(error.get("message", "")), data.get("kind", "internal"), data.get("causes"))
        return reply.get("result")

    def _read(self) -> None:
        buffer = b""
        reason = "vitro closed the session"
        try:
            while chunk := self._sock.recv(1 << 16):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        self._dispatch(json.loads(line))
        except OSError as e:
            reason = str(e)
        with self._lock:
            self._closed = reason
            gone = {
                "error": {"message": f"the live session is gone: {reason}", "data": {"kind": "peer-gone"}}
            }
            for waiting in self._pending.values():
                waiting.put(gone)
            for stream in self._streams.values():
                stream.closed_reason = stream.closed_reason or reason
                stream._chunks.put(None)

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params") or {}
        if method is None:
            waiting = self._pending.get(message.get("id", -1))
            if waiting is not None:
                waiting.put(message)
            return
        stream = self._streams.get((str(params.get("device")), str(params.get("console"))))
        if stream is None:
            return
        if method == names.CONSOLE_OUTPUT:
            stream._chunks.put(base64.b64decode(params.get("data", "")))
        elif method == names.CONSOLE_CLOSED:
            stream.closed_reason = params.get("reason", "closed")
            stream._chunks.put(None)

    def close(self) -> None:
        """Disconnects (the test bed stays up)."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the methods --
    def devices(self) -> list[SessionDevice]:
        """Every device: name, type, role, plugin, merged config, and its state."""
        return cast("SessionDevices", self.request(names.SESSION_DEVICES))["devices"]

    def config(self) -> SessionConfig:
        """The merged device list and the raw environment and inventory."""
        return cast("SessionConfig", self.request(names.SESSION_CONFIG))

    def call(self, device: str, method: str, params: Any = None, timeout: float | None = None) -> Any:  # noqa: ANN401
        """Runs ``method`` of ``device`` in its plugin; returns its result unchanged."""
        body: dict[str, Any] = {"device": device, "method": method, "params": params}
        if timeout is not None:
            body["timeout"] = timeout
        return self.request(names.SESSION_CALL, body, (timeout or self.timeout) + 5)

    def consoles(self, device: str) -> list[str]:
        """The names of ``device``'s consoles."""
        return list(self.request(names.SESSION_CONSOLES, {"device": device})["consoles"])

    def open_console(self, device: str, console: str) -> ConsoleStream:
        """Streams a console's output from now on."""
        stream = ConsoleStream(device, console)
        self._streams[(device, console)] = stream
        try:
            self.request(names.SESSION_CONSOLE_OPEN, {"device": device, "console": console})
        except DeviceError:
            self._streams.pop((device, console), None)
            raise
        return stream

    def write_console(self, device: str, console: str, data: bytes) -> None:
        """Types ``data`` into a console."""
        encoded = base64.b64encode(data).decode()
        self.request(names.SESSION_CONSOLE_WRITE, {"device": device, "console": console, "data": encoded})

    def marker(self, text: str) -> None:
        """Writes a marker line into every console log."""
        self.request(names.SESSION_MARKER, {"text": text})

    def env_req_matches(self, env_req: Any) -> bool:  # noqa: ANN401
        """Whether the environment satisfies ``env_req`` (pytest-vitro 0.5's rules, decided by ``vitro``)."""
        return cast("EnvReqMatch", self.request(names.SESSION_ENV_REQ, {"env_req": env_req}))["matches"]

    def contingency_check(self, env_req: Any) -> list[str]:  # noqa: ANN401
        """Runs every device's contingency check for ``env_req``; returns the devices checked."""
        answer = self.request(names.SESSION_CONTINGENCY_CHECK, {"env_req": env_req})
        result = cast("ContingencyResult", answer)
        return result["checked"]

    def release(self) -> None:
        """Releases the test bed; ``vitro`` shuts everything down and exits."""
        self.request(names.SESSION_RELEASE)


class RemoteDevice:
    """A device of the live bed. Attribute calls run the driver's device methods in its plugin:
    positional arguments travel as a list, keyword arguments as an object. The methods its type
    declares are real attributes (with their descriptions), so ``dir()``, tab completion and
    ``help()`` show them; an undeclared name is still tried in the plugin."""

    def __new__(cls, session: Session, description: SessionDevice) -> RemoteDevice:
        declared = {m["name"]: m.get("description", "") for m in description.get("methods", [])}
        if not declared:
            return super().__new__(cls)
        members: dict[str, Any] = {"__doc__": f"Device type {description['type']}: {cls.__doc__}"}
        for name, text in declared.items():
            members[name] = _declared_method(name, text)
        subclass = type(f"{description['type']}", (cls,), members)
        return super().__new__(subclass)

    def __init__(self, session: Session, description: SessionDevice) -> None:
        self._session = session
        self.name: str = description["name"]
        self.type: str = description["type"]
        self.role: Role = description["role"]
        self.plugin: str = description["plugin"]
        self.config: dict[str, Any] = description["config"]
        self.state: DeviceState = description["state"]
        self.methods: list[str] = [m["name"] for m in description.get("methods", [])]

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            return self._call(method, args, kwargs)

        call.__name__ = method
        return call

    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:  # noqa: ANN401
        if args and kwargs:
            raise TypeError(f"{self.name}.{method}: pass positional or keyword arguments, not both")
        params: Any = list(args) if args else (kwargs or None)
        try:
            return self._session.call(self.name, method, params)
        except DeviceError as e:
            raise DeviceError(f"{self.name}.{method}: {e.message}", e.kind, e.causes) from None

    def consoles(self) -> list[str]:
        """The device's console names."""
        return self._session.consoles(self.name)

    def __repr__(self) -> str:
        return f"<{self.type} {self.name} ({self.role}, {self.state}, plugin {self.plugin})>"


def _declared_method(name: str, description: str) -> Callable[..., Any]:
    """A method of a device type, as the plugin declared it."""

    def method(self: RemoteDevice, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        return self._call(name, args, kwargs)

    method.__name__ = name
    method.__doc__ = description or f"`{name}`, run in the device's plugin."
    return method


class Devices:
    """The devices of the live bed as attributes (``devices.board``), also iterable, countable and
    indexable by name; ``dir()`` and tab completion list them."""

    def __init__(self, devices: dict[str, RemoteDevice]) -> None:
        self._devices = devices

    def __getattr__(self, name: str) -> RemoteDevice:
        try:
            return self._devices[name]
        except KeyError:
            known = ", ".join(self._devices) or "none"
            raise AttributeError(f"no device named {name} (devices: {known})") from None

    def __getitem__(self, name: str) -> RemoteDevice:
        return self._devices[name]

    def __iter__(self) -> Iterator[RemoteDevice]:
        return iter(self._devices.values())

    def __len__(self) -> int:
        return len(self._devices)

    def __dir__(self) -> list[str]:
        return sorted(self._devices)

    def __repr__(self) -> str:
        return f"<devices: {', '.join(self._devices) or 'none'}>"


class DeviceManager:
    """The devices of the live bed, found by name, type or role."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._devices = {d["name"]: RemoteDevice(session, d) for d in session.devices()}

    def get_device_by_name(self, name: str) -> RemoteDevice:
        """The device called ``name``."""
        try:
            return self._devices[name]
        except KeyError:
            known = ", ".join(self._devices) or "none"
            raise DeviceError(f"no device named {name} (devices: {known})", "unknown-device") from None

    def get_devices_by_type(self, device_type: str) -> dict[str, RemoteDevice]:
        """Devices of the inventory type ``device_type``, by name."""
        return {name: d for name, d in self._devices.items() if d.type == device_type}

    def get_device_by_type(self, device_type: str) -> RemoteDevice:
        """The first device of ``device_type``."""
        for device in self._devices.values():
            if device.type == device_type:
                return device
        raise DeviceError(f"no device of type {device_type}", "unknown-device")

    def get_devices_by_role(self, role: Role) -> dict[str, RemoteDevice]:
        """Devices whose type has ``role`` (``server``, ``device``, ``attached``), by name."""
        return {name: d for name, d in self._devices.items() if d.role == role}

    def all(self) -> dict[str, RemoteDevice]:
        """Every device, by name."""
        return dict(self._devices)


class VitroConfig:
    """The bed's configuration: the environment, the inventory and the merged device configs."""

    def __init__(self, session: Session) -> None:
        config = session.config()
        self.env_config: dict[str, Any] = config["env"]
        self.inventory_config: dict[str, Any] = config["inventory"]
        self._devices: list[dict[str, Any]] = config["devices"]

    def get_devices_config(self) -> list[dict[str, Any]]:
        """The merged config of every device."""
        return self._devices

    def get_device_config(self, device_name: str) -> dict[str, Any]:
        """The merged config of ``device_name``."""
        for config in self._devices:
            if config.get("name") == device_name:
                return config
        raise DeviceError(f"{device_name} - Unknown device name", "unknown-device")
