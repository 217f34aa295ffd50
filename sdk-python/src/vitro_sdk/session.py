"""A client of the live session that ``vitro`` serves while it holds a test bed (``vitro run --
CMD``, ``vitro --hold``, the menu): devices, config, device methods run in their plugins,
consoles, markers, ``env_req`` matching and contingency checks, release.

``Session()`` connects to the socket named by ``VITRO_SESSION``. :class:`DeviceManager` and
:class:`VitroConfig` give tests the shapes pytest-vitro's fixtures had; a :class:`RemoteDevice`
forwards attribute calls (``board.execute_command("uname -a")``) to the driver's process.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .errors import DeviceError
from .messages import names

_LOGGER = logging.getLogger("vitro_sdk.session")
#: The longest line read from the session (the protocol's limit); a longer one is skipped.
MAX_MESSAGE = 16 * 1024 * 1024

if TYPE_CHECKING:
    from .messages.session import (
        ContingencyResult,
        DeviceState,
        EnvReqMatch,
        MethodInfo,
        Role,
        SessionConfig,
        SessionDevice,
        SessionDevices,
        TemplateCheckReport,
        TemplateCheckResult,
    )

SESSION_ENV = names.ENV_SESSION
T = TypeVar("T")


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
            self._cancel(request_id)
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

    def _cancel(self, request_id: int) -> None:
        """Tells vitro that the answer to ``request_id`` is no longer awaited."""
        message = {"jsonrpc": "2.0", "method": names.CANCEL_REQUEST, "params": {"id": request_id}}
        with self._lock:
            try:
                self._sock.sendall((json.dumps(message, separators=(",", ":")) + "\n").encode())
            except OSError:
                pass

    def _read(self) -> None:
        """Reads answers and notifications until the stream ends or breaks; whatever ends it,
        every call still waiting then fails at once. A line that cannot be read is skipped with
        a warning, and so is one over :data:`MAX_MESSAGE` (never held whole)."""
        buffer = bytearray()
        skipping = False
        reason = "vitro closed the session"
        try:
            while chunk := self._sock.recv(1 << 16):
                start = 0
                while (end := chunk.find(b"\n", start)) >= 0:
                    if not skipping:
                        buffer += chunk[start:end]
                        self._line(bytes(buffer))
                    buffer.clear()
                    skipping = False
                    start = end + 1
                if not skipping:
                    buffer += chunk[start:]
                    if len(buffer) > MAX_MESSAGE:
                        _LOGGER.warning("skipped a line from the live session over %d bytes", MAX_MESSAGE)
                        buffer.clear()
                        skipping = True
        except OSError as e:
            reason = str(e)
        except Exception as e:
            # A reader that dies of anything else must still fail the waiting calls.
            reason = f"reading the session failed: {type(e).__name__}: {e}"
        finally:
            self._fail_all(reason)

    def _line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            message = json.loads(line)
            if not isinstance(message, dict):
                raise ValueError("not a JSON object")
            self._dispatch(message)
        except (ValueError, TypeError, binascii.Error) as e:
            _LOGGER.warning("skipped a line from the live session that cannot be read (%s): %.200r", e, line)

    def _fail_all(self, reason: str) -> None:
        """Marks the session gone and fails every waiting call and console stream with ``reason``."""
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
            stream._chunks.put(base64.b64decode(params.get("data", ""), validate=True))
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

    def call(
        self,
        device: str,
        method: str,
        params: Any = None,  # noqa: ANN401
        timeout: float | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> Any:  # noqa: ANN401
        """Runs ``method`` of ``device`` in its plugin; returns its result unchanged. ``kwargs``
        go with an array of positional ``params``."""
        body: dict[str, Any] = {"device": device, "method": method, "params": params}
        if kwargs:
            body["kwargs"] = kwargs
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

    def check_templates(self, device: str | None = None) -> list[TemplateCheckResult]:
        """Calls each side-effect-free template example on each device that declares the
        template (or on ``device``) and checks every result against the template's schema."""
        params = {} if device is None else {"device": device}
        report = cast("TemplateCheckReport", self.request(names.SESSION_CHECK_TEMPLATES, params))
        return report["results"]

    def release(self) -> None:
        """Releases the test bed; ``vitro`` shuts everything down and exits."""
        self.request(names.SESSION_RELEASE)


class RemoteDevice:
    """A device of the live bed. Attribute calls run the driver's device methods in its plugin:
    positional arguments travel as a list, keyword arguments as an object. The members its plugin
    declares are real attributes (methods with their descriptions; properties read on access;
    dotted members such as ``sw.version`` as nested objects), so ``dir()``, tab completion and
    ``help()`` show them; an undeclared name is still tried in the plugin."""

    def __new__(cls, session: Session, description: SessionDevice) -> RemoteDevice:
        declared = description.get("methods", [])
        if not declared:
            return super().__new__(cls)
        members = _members(declared, "", f"Device type {description['type']}: {cls.__doc__}")
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
        #: Qualified class names of the driver's implementation, for lookups by class.
        self.classes: list[str] = list(description.get("classes", []))
        #: The templates its type implements (``lan@1``), those they extend included.
        self.implements: set[str] = _with_extended(description.get("implements", []))

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        if name.startswith("_"):
            raise AttributeError(name)
        return _Member(self, name)

    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:  # noqa: ANN401
        try:
            if args and kwargs:
                return self._session.call(self.name, method, list(args), kwargs=kwargs)
            return self._session.call(self.name, method, list(args) if args else (kwargs or None))
        except DeviceError as e:
            raise DeviceError(f"{self.name}.{method}: {e.message}", e.kind, e.causes) from None

    def consoles(self) -> list[str]:
        """The device's console names."""
        return self._session.consoles(self.name)

    def __repr__(self) -> str:
        return f"<{self.type} {self.name} ({self.role}, {self.state}, plugin {self.plugin})>"


class _Member:
    """An undeclared member of a device: call it, or go on to its own members."""

    def __init__(self, device: RemoteDevice, path: str) -> None:
        self._device = device
        self._path = path

    def __getattr__(self, name: str) -> _Member:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Member(self._device, f"{self._path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        return self._device._call(self._path, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self._device.name}.{self._path}, run in plugin {self._device.plugin}>"


class _Namespace:
    """A member of a device that holds members of its own (``board.sw``)."""

    def __init__(self, device: RemoteDevice) -> None:
        self._device = device

    def _call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:  # noqa: ANN401
        return self._device._call(method, args, kwargs)

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        if name.startswith("_"):
            raise AttributeError(name)
        return _Member(self._device, f"{type(self)._path}.{name}")  # type: ignore[attr-defined]


#: What a RemoteDevice knows itself; declared members of these names are not shadowing them.
_OWN = {"name", "type", "role", "plugin", "config", "state", "methods", "classes", "implements", "consoles"}


def _members(declared: list[MethodInfo], prefix: str, doc: str) -> dict[str, Any]:
    """Class members for the declared members under ``prefix``: methods, properties, and a
    nested namespace per dotted group."""
    body: dict[str, Any] = {"__doc__": doc}
    groups: dict[str, list[MethodInfo]] = {}
    for member in declared:
        name = member["name"]
        if not name.startswith(prefix):
            continue
        head, dot, _ = name[len(prefix) :].partition(".")
        if not prefix and head in _OWN:
            continue  # the device's own attribute of that name says the same
        if dot:
            groups.setdefault(head, []).append(member)
        elif member.get("kind") == "property":
            body[head] = _declared_property(name, member.get("description", ""))
        else:
            body[head] = _declared_method(name, member.get("description", ""))
    for head, inner in groups.items():
        path = f"{prefix}{head}"
        namespace = type(head, (_Namespace,), {**_members(inner, f"{path}.", f"`{path}`"), "_path": path})
        body[head] = _namespace_property(namespace)
    return body


def _namespace_property(namespace: type[_Namespace]) -> property:
    def read(self: RemoteDevice | _Namespace) -> _Namespace:
        return namespace(self._device if isinstance(self, _Namespace) else self)

    return property(read, doc=namespace.__doc__)


def _declared_method(name: str, description: str) -> Callable[..., Any]:
    """A method of a device, as the plugin declared it."""

    def method(self: RemoteDevice | _Namespace, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        return self._call(name, args, kwargs)

    method.__name__ = name.rsplit(".", 1)[-1]
    method.__doc__ = description or f"`{name}`, run in the device's plugin."
    return method


def _declared_property(name: str, description: str) -> property:
    """A property of a device, read in its plugin on each access."""

    def read(self: RemoteDevice | _Namespace) -> Any:  # noqa: ANN401
        return self._call(name, (), {})

    return property(read, doc=description or f"`{name}`, read in the device's plugin.")


def _with_extended(references: list[str]) -> set[str]:
    """Template references and every template they extend (``lan@1`` -> also ``linux_host@1``)."""
    from .templates import BY_REFERENCE

    found: set[str] = set()
    for reference in references:
        current: str | None = reference
        while current is not None and current not in found:
            found.add(current)
            template = BY_REFERENCE.get(current)
            current = template.EXTENDS if template is not None else None
    return found


def _template(template: type[T] | str) -> type[T]:
    """A template protocol, given as itself or as its name (``lan``, ``lan@1``)."""
    from .templates import BY_REFERENCE

    if not isinstance(template, str):
        return template
    for reference, protocol in BY_REFERENCE.items():
        if template in (reference, reference.split("@")[0]):
            return cast("type[T]", protocol)
    known = ", ".join(sorted(BY_REFERENCE))
    raise DeviceError(f"no template {template!r} (known: {known})", "unknown-device-type")


class TemplateDevice:
    """A device seen through a template (what :meth:`Devices.by_template` gives): the template's
    methods take positional or keyword arguments and travel as named params, as every driver of
    the template expects them; anything else is the device's own (``name``, ``config``...)."""

    def __init__(self, device: RemoteDevice, template: type) -> None:
        self._device = device
        self._params: dict[str, list[str]] = {}
        for protocol in reversed(template.__mro__):
            self._params.update(vars(protocol).get("PARAMS", {}))
        self.template: str = str(getattr(template, "TEMPLATE", ""))

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        if name.startswith("_") or name not in self._params:
            return getattr(self._device, name)
        names = self._params[name]

        def call(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            if len(args) > len(names):
                raise TypeError(f"{name} takes at most {len(names)} arguments ({', '.join(names)})")
            named = {**dict(zip(names[: len(args)], args, strict=True)), **kwargs}
            return self._device._call(name, (), named)

        call.__name__ = name
        return call

    def __dir__(self) -> list[str]:
        return sorted(set(self._params) | set(dir(self._device)))

    def __repr__(self) -> str:
        return f"<{self._device.name} as {self.template}>"


class Devices:
    """The devices of the live bed as attributes (``devices.board``), also iterable, countable and
    indexable by name; ``dir()`` and tab completion list them."""

    def __init__(self, devices: dict[str, RemoteDevice]) -> None:
        self._devices = devices

    def by_template(self, template: type[T] | str) -> list[T]:
        """The devices that implement ``template`` (a protocol of :mod:`vitro_sdk.templates`, or
        its name), each typed as it: ``for lan in devices.by_template(Lan): lan.ping("10.0.0.1")``."""
        protocol = _template(template)
        reference = str(getattr(protocol, "TEMPLATE", ""))
        found = [TemplateDevice(d, protocol) for d in self._devices.values() if reference in d.implements]
        return cast("list[T]", found)

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

    def get_devices_by_type(self, device_type: str | type) -> dict[str, RemoteDevice]:
        """Devices of ``device_type``, by name: an inventory type (a string), or a driver class,
        which matches devices whose implementation is that class or derives from it (Python
        Vitro's ``get_devices_by_type(MyBox)``)."""
        return {name: d for name, d in self._devices.items() if _is_of(d, device_type)}

    def get_device_by_type(self, device_type: str | type) -> RemoteDevice:
        """The first device of ``device_type`` (see :meth:`get_devices_by_type`)."""
        for device in self._devices.values():
            if _is_of(device, device_type):
                return device
        name = device_type if isinstance(device_type, str) else _qualified(device_type)
        raise DeviceError(f"no device of type {name}", "unknown-device")

    def get_devices_by_template(self, template: type[T] | str) -> dict[str, T]:
        """The devices that implement ``template``, by name, typed as it (see
        :meth:`Devices.by_template`)."""
        return {d.name: d for d in Devices(self._devices).by_template(template)}  # type: ignore[attr-defined]

    def get_devices_by_role(self, role: Role) -> dict[str, RemoteDevice]:
        """Devices whose type has ``role`` (``server``, ``device``, ``attached``), by name."""
        return {name: d for name, d in self._devices.items() if d.role == role}

    def all(self) -> dict[str, RemoteDevice]:
        """Every device, by name."""
        return dict(self._devices)


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_of(device: RemoteDevice, device_type: str | type) -> bool:
    if isinstance(device_type, str):
        return device.type == device_type
    return _qualified(device_type) in device.classes


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

    @property
    def resource_name(self) -> str:
        """The board's ``resource_name`` (Python Vitro sets it to the board's inventory key)."""
        return str(self.get_device_config("board").get("resource_name", ""))

    def get_board_station_number(self) -> int:
        """The number after the last ``-`` of :attr:`resource_name`."""
        return int(self.resource_name.split("-")[-1])

    def _board(self, key: str, what: str) -> str:
        try:
            return str(self.env_config["environment_def"]["board"][key])
        except (KeyError, TypeError) as e:
            raise DeviceError(f"{what} is not found in env config", "unknown-device") from e

    def get_board_sku(self) -> str:
        """``environment_def.board.SKU`` of the environment."""
        return self._board("SKU", "Board SKU")

    def get_board_model(self) -> str:
        """``environment_def.board.model`` of the environment."""
        return self._board("model", "board.model")

    def get_prov_mode(self) -> str:
        """``environment_def.board.eRouter_Provisioning_mode`` of the environment."""
        return self._board("eRouter_Provisioning_mode", "eRouter_Provisioning_mode")
