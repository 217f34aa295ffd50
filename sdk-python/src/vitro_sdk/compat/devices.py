"""Hosted devices: a Python Vitro device instance behind one of our :class:`Device`\\ s. Its hooks
run as Python Vitro runs them: the pluggy hook implementation of that instance, called with the
arguments it names (``config``, ``cmdline_args``, ``device_manager``, ``env_req``); async twins
run concurrently when every device of the process has one, as Python Vitro decides, otherwise
the plain hooks run one at a time."""

from __future__ import annotations

import asyncio
import inspect
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from vitro.devices.base_devices import VitroDevice

from ..errors import DeviceError
from ..plugin import Device
from .loader import DEVICE_HOOKS, HostedType
from .members import call_member, members

if TYPE_CHECKING:
    from pathlib import Path

    from ..messages.protocol import Hook, MethodInfo
    from ..plugin import Host
    from .state import HostState

#: Our hook -> the Python Vitro hook name.
PYTHON_HOOK: dict[Hook, str] = {hook: spec for spec, hook in DEVICE_HOOKS.items()}
#: Async twins need ``asyncio.TaskGroup`` in Python Vitro (3.11 and later).
ASYNC_TWINS = sys.version_info >= (3, 11)


class HostedDevice(Device):
    """One hosted device; a subclass per hosted type is made by :func:`device_class`."""

    hosted: ClassVar[HostedType]
    state: ClassVar[HostState]

    def __init__(
        self, name: str, config: dict[str, Any], host: Host, console_log_dir: Path | None = None
    ) -> None:
        super().__init__(name, config, host, console_log_dir)
        self.state.ensure_device_manager()
        try:
            self.instance: VitroDevice = self.hosted.cls(config, self.state.cmdline_args)
        except Exception as e:
            raise _failure(f"{self.hosted.cls.__qualname__}(config, cmdline_args)", e) from e
        if self.state.plugin_manager.has_plugin(name):
            raise DeviceError(
                f"device {name}: Python Vitro registers devices with pluggy under their names, and "
                f"{name!r} is already a plugin's name (an entry point of the `vitro` group); "
                "rename the device",
                "invalid-params",
            )
        try:
            self.state.device_manager.register_device(self.instance)
        except Exception as e:
            raise _failure(f"registering {name} with pluggy", e) from e
        self.state.registered()

    @classmethod
    def implemented_hooks(cls) -> list[Hook]:
        return list(cls.hosted.hooks)

    @classmethod
    def type_members(cls) -> list[MethodInfo]:
        return members(cls.hosted.cls)

    def members(self) -> list[MethodInfo]:
        return members(self.instance)

    async def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:  # noqa: ANN401
        return await call_member(self.instance, name, args, kwargs, self.state.sync_lock)

    async def run(self, hook: Hook, env_req: Any = None) -> None:  # noqa: ANN401
        """Runs ``hook`` on the instance as Python Vitro would: the ``_async`` twin on the event
        loop when every device of the process has one, else the plain hook in a worker thread,
        one at a time. A plain hook that is an ``async def`` is never awaited by Python Vitro, so
        not here either (reported at start)."""
        await self.state.ready()
        spec = PYTHON_HOOK[hook]
        twin = f"{spec}_async"
        if ASYNC_TWINS and hook not in ("contingency-check", "shutdown") and self.state.all_have_twins(spec):
            impl = self.state.impl_of(self.instance, twin)
            if impl is not None:
                try:
                    await self.state.call_impl(impl, env_req)
                except DeviceError:
                    raise
                except Exception as e:
                    raise _failure(twin, e) from e
            return
        impl = self.state.impl_of(self.instance, spec)
        if impl is None:
            return
        async with self.state.sync_lock:
            result = await asyncio.to_thread(_guarded, spec, self.state.call_impl, impl, env_req)
        if inspect.iscoroutine(result):
            result.close()


def _failure(what: str, error: BaseException) -> DeviceError:
    """A Python Vitro exception as our device error: its type and message, and where it came from."""
    import traceback

    lines = traceback.format_exception(type(error), error, error.__traceback__)
    causes = [line.rstrip() for line in "".join(lines).splitlines()[-6:]]
    return DeviceError(f"{what} raised {type(error).__name__}: {error}", "device-error", causes)


def _guarded(spec: str, fn: Any, *args: Any) -> Any:  # noqa: ANN401
    try:
        return fn(*args)
    except DeviceError:
        raise
    except Exception as e:
        raise _failure(spec, e) from e


def _hook_method(hook: Hook) -> Any:  # noqa: ANN401
    async def run_hook(self: HostedDevice, *args: Any) -> None:  # noqa: ANN401
        await self.run(hook, *args)

    run_hook.__name__ = hook.replace("-", "_")
    return run_hook


def device_class(hosted: HostedType, state: HostState) -> type[HostedDevice]:
    """Our device type for a hosted type: each hook it implements runs the instance's."""
    body: dict[str, Any] = {"hosted": hosted, "state": state, "role": hosted.role, "classes": hosted.classes}
    for hook in hosted.hooks:
        body[hook.replace("-", "_")] = _hook_method(hook)
    return type(f"Hosted_{hosted.name}", (HostedDevice,), body)
