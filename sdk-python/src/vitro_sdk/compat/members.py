"""What a hosted device offers to test code: its public methods and properties, and those of the
objects it holds (``board.sw.version()``), as dotted paths; and how a call reaches them."""

from __future__ import annotations

import asyncio
import inspect
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import DeviceError
from ..plugin import invoke

if TYPE_CHECKING:
    from ..messages.protocol import MethodInfo

#: How deep nested objects are walked (``board.sw.version`` is depth 2).
MAX_DEPTH = 3
#: Attribute names of pluggy's hook implementations carry this marker.
HOOKIMPL_MARKER = "vitro_impl"


def is_plain_data(value: object) -> bool:
    """Whether ``value`` travels as JSON unchanged: ``None``, booleans, numbers, strings, and
    lists, tuples and string-keyed dicts of those."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain_data(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain_data(item) for key, item in value.items())
    return False


def _summary(obj: object) -> str:
    return (inspect.getdoc(obj) or "").split("\n")[0]


def _read(owner: object, name: str) -> tuple[bool, Any]:
    """Reads a member as pluggy does at registration, where ``NotImplementedError`` (or any
    error) means "not available now"; returns (read, value)."""
    try:
        return True, getattr(owner, name)
    except Exception:
        return False, None


def members(
    owner: object, prefix: str = "", depth: int = 1, seen: set[int] | None = None
) -> list[MethodInfo]:
    """The public members of ``owner`` as dotted paths, hook implementations left out; an
    attribute holding an object with members of its own is walked (to :data:`MAX_DEPTH`). Of a
    class, what the class itself shows: its methods, and its properties without reading them."""
    seen = seen if seen is not None else {id(owner)}
    found: list[MethodInfo] = []
    for name in sorted(dir(owner)):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(owner, name, None)
        path = f"{prefix}{name}"
        if isinstance(static, (staticmethod, classmethod)):
            static = static.__func__
        if inspect.isroutine(static) or (callable(static) and not isinstance(static, type)):
            if not hasattr(static, HOOKIMPL_MARKER):
                found.append({"name": path, "description": _summary(static)})
            continue
        if isinstance(static, type):
            continue
        computed = isinstance(static, (property, cached_property))
        read, value = (False, None) if isinstance(owner, type) and computed else _read(owner, name)
        nested = read and not is_plain_data(value) and id(value) not in seen and depth < MAX_DEPTH
        if nested and any(not n.startswith("_") for n in dir(value)):
            seen.add(id(value))
            inner = members(value, f"{path}.", depth + 1, seen)
            if inner:
                found.extend(inner)
                continue
        description = _summary(static) if computed else ""
        found.append({"name": path, "description": description, "kind": "property"})
    return found


async def call_member(
    owner: object,
    path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    lock: asyncio.Lock | None = None,
) -> Any:  # noqa: ANN401
    """Runs ``device/call`` for ``path`` on ``owner``: a method is called with ``args`` and
    ``kwargs``, a property is read. The result must be plain data. ``lock`` serialises plain
    ``def`` methods."""
    target = owner
    parts = path.split(".")
    for index, part in enumerate(parts):
        if not part or part.startswith("_"):
            raise DeviceError(f"{path!r} is not a public member", "method-not-found")
        try:
            target = getattr(target, part)
        except AttributeError:
            where = ".".join(parts[:index]) or type(owner).__name__
            raise DeviceError(f"{where} has no member {part!r}", "method-not-found") from None
    if callable(target) and not isinstance(target, type):
        if lock is not None and not inspect.iscoroutinefunction(target):
            async with lock:
                result = await invoke(target, *args, **kwargs)
        else:
            result = await invoke(target, *args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
    elif args or kwargs:
        raise DeviceError(f"{path} is a property: read it without arguments", "invalid-params")
    else:
        result = target
    if not is_plain_data(result):
        kind = f"{type(result).__module__}.{type(result).__qualname__}"
        raise DeviceError(
            f"{path} returned a {kind}, which cannot leave the plugin process: only plain data "
            "(None, booleans, numbers, strings, lists and dicts of those) can; call a method of it "
            f"instead ({path}.<member>) or return plain data",
            "device-error",
        )
    return result
