"""A Python Vitro plugin that prints at import time, a handshake answer among its lines: the
host must have taken stdout for the protocol before it imports anything a user wrote."""

from __future__ import annotations

import json
import sys

from vitro.devices.base_devices import VitroDevice

from vitro import hookimpl

print("noisy-vitro: importing")
# An answer to the host's first requests, whatever their ids.
for request_id in range(4):
    answer = {
        "protocol_version": "1.3",
        "plugin": {"name": "spoof", "version": "6.6.6", "sdk": "spoof"},
        "device_types": [],
        "capabilities": [],
    }
    print(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": answer}))
sys.stdout.flush()


class Noisy(VitroDevice):
    """A device that does nothing."""


@hookimpl
def vitro_add_devices() -> dict[str, type[VitroDevice]]:
    return {"noisy": Noisy}
