"""Devices of other processes, as a hosted device sees them through ``device_manager``: a proxy
that is an instance of the device's own class (when that class can be imported here) and whose
members are called through ``vitro`` (``host/call``) in the process that owns the device."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any, TypeVar

from vitro.devices.base_devices import VitroDevice
from vitro.exceptions import DeviceNotFoundError
from vitro.libraries.device_manager import DeviceManager

from ..errors import DeviceError

if TYPE_CHECKING:
    from ..messages.protocol import DeviceDescription
    from ..plugin import Host

T = TypeVar("T")
#: Members read locally on a proxy (VitroDevice's own), the rest go to the owner.
LOCAL = {"device_name", "device_type", "config"}


class _Remote:
    """Where a proxy's calls go."""

    def __init__(self, host: Host, description: DeviceDescription) -> None:
        self.host = host
        self.description = description
        self.properties = {m["name"] for m in description.get("methods", []) if m.get("kind") == "property"}

    def call(self, path: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:  # noqa: ANN401
        name, plugin = self.description["name"], self.description["plugin"]
        if threading.current_thread() is threading.main_thread():
            # Async hooks run on the event loop, which must stay free to carry the call.
            raise DeviceError(
                f"{name}.{path}: {name} lives in another process (plugin {plugin}), which an async hook "
                "cannot wait for; merge the two groups into one process (one `vitro-plugin-pyvitro "
                "--only A,B` naming both distributions), or call it from a plain hook",
                "invalid-state",
            )
        return self.host.sync(self.host.call(name, path, list(args) if args else None, kwargs=kwargs))

    def member(self, path: str) -> Any:  # noqa: ANN401
        if path in self.properties:
            return self.call(path)
        return _RemotePath(self, path)


class _RemotePath:
    """A member of a remote device: call it, or go on to its own members (``sw.version``)."""

    def __init__(self, remote: _Remote, path: str) -> None:
        self._remote = remote
        self._path = path

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        if name.startswith("_"):
            raise AttributeError(name)
        return self._remote.member(f"{self._path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        return self._remote.call(self._path, args, kwargs)


def _proxy_getattribute(self: Any, name: str) -> Any:  # noqa: ANN401
    remote: _Remote = object.__getattribute__(self, "_vitro_remote")
    if name.startswith("_"):
        return object.__getattribute__(self, name)
    if name == "device_name":
        return remote.description["name"]
    if name == "device_type":
        return remote.description["type"]
    if name == "config":
        return remote.description["config"]
    return remote.member(name)


def _class_of(description: DeviceDescription) -> type:
    """The most derived class of the device that can be imported here, else ``VitroDevice``."""
    for qualified in description.get("classes", []):
        module_name, _, qualname = qualified.rpartition(".")
        try:
            found: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError):
            continue
        if isinstance(found, type) and issubclass(found, VitroDevice):
            return found
    return VitroDevice


def make_proxy(host: Host, description: DeviceDescription) -> VitroDevice:
    """A proxy for a device that another process owns."""
    base = _class_of(description)
    body = {
        "__getattribute__": _proxy_getattribute,
        "__repr__": lambda self: f"<proxy of {description['name']}>",
    }
    cls = type(f"Remote{base.__name__}", (base,), body)
    proxy: VitroDevice = object.__new__(cls)
    object.__setattr__(proxy, "_vitro_remote", _Remote(host, description))
    return proxy


class ProxyDeviceManager(DeviceManager):
    """Python Vitro's ``DeviceManager`` (its devices registered in the plugin manager as usual),
    whose lookups also find the devices of other processes, as proxies, after its own."""

    proxies: dict[str, VitroDevice]
    proxies_loaded = False

    async def load_proxies(self, host: Host) -> None:
        """Makes proxies for the registered devices this process does not own."""
        local = {name for name, _ in self._plugin_manager.list_name_plugin()}
        self.proxies = {
            d["name"]: make_proxy(host, d) for d in await host.devices() if d["name"] not in local
        }
        self.proxies_loaded = True

    def _everything(self) -> list[tuple[str, object]]:
        own = list(self._plugin_manager.list_name_plugin())
        return own + list(getattr(self, "proxies", {}).items())

    def get_devices_by_type(self, device_type: type[T]) -> dict[str, T]:
        return {name: plugin for name, plugin in self._everything() if isinstance(plugin, device_type)}

    def get_device_by_type(self, device_type: type[T]) -> T:
        for _, plugin in self._everything():
            if isinstance(plugin, device_type):
                return plugin
        msg = f"No device available of type {device_type}"
        raise DeviceNotFoundError(msg)
