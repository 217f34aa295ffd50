"""Write Vitro device-driver plugins in Python.

A plugin is a standalone executable that the ``vitro`` host spawns and talks to with JSON-RPC
2.0 over stdin/stdout (``protocol/README.md``). Subclass :class:`Device` per device type,
register the types on a :class:`Plugin`, and call :meth:`Plugin.run`.
"""

from vitro_sdk.plugin import PROTOCOL_VERSION, Device, DeviceError, Host, Plugin, method

__all__ = ["PROTOCOL_VERSION", "Device", "DeviceError", "Host", "Plugin", "method"]
