"""A LAN client from another vendor that asks ACME's server for its lease at boot."""

from __future__ import annotations

from argparse import Namespace

from acme_vitro.devices import AcmeServer
from acme_vitro.trace import trace
from vitro.devices.base_devices import VitroDevice
from vitro.libraries.device_manager import DeviceManager

from vitro import hookimpl


class RelayClient(VitroDevice):
    @hookimpl
    def vitro_attached_device_boot(self, cmdline_args: Namespace, device_manager: DeviceManager) -> None:
        server = device_manager.get_device_by_type(AcmeServer)
        trace(
            cmdline_args,
            "vitro_attached_device_boot",
            self.device_name,
            server=server.device_name,
            is_server=isinstance(server, AcmeServer),
            lease=server.dhcp_lease("00:00:00:00:00:07"),
            ping=server.ping("10.0.0.9", count=2),
            addresses=server.addresses,
            all=sorted(device_manager.get_devices_by_type(VitroDevice)),
        )


class AsyncRelayClient(VitroDevice):
    """Boots with an async twin, which asks the server too."""

    @hookimpl
    def vitro_attached_device_boot(self) -> None:
        pass

    @hookimpl
    async def vitro_attached_device_boot_async(self, device_manager: DeviceManager) -> None:
        device_manager.get_device_by_type(AcmeServer).ping("10.0.0.9")


@hookimpl
def vitro_add_devices() -> dict[str, type[VitroDevice]]:
    return {"relay_client": RelayClient, "relay_async_client": AsyncRelayClient}
