"""Write Vitro device-driver plugins in Python, and talk to a live test bed.

A plugin is a standalone executable that the ``vitro`` host spawns and talks to with JSON-RPC
2.0 over stdin/stdout (``protocol/README.md``). Subclass :class:`Device` per device type,
register the types on a :class:`Plugin`, and call :meth:`Plugin.run`. Consoles come from
:func:`vitro_sdk.connections.connect`; :mod:`vitro_sdk.session` is a client of the live session
and :mod:`vitro_sdk.pytest_plugin` the pytest bridge.
"""

from vitro_sdk.errors import ConsoleError, DeviceError
from vitro_sdk.plugin import PROTOCOL_VERSION, Device, Host, Plugin, PluginHooks, method

__all__ = [
    "PROTOCOL_VERSION",
    "ConsoleError",
    "Device",
    "DeviceError",
    "Host",
    "Plugin",
    "PluginHooks",
    "method",
]
