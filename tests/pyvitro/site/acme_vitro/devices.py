"""The device types, written against Python Vitro 0.8's VitroDevice and hooks."""

from __future__ import annotations

import asyncio
from argparse import Namespace
from typing import Any

from vitro.devices.base_devices import VitroDevice
from vitro.libraries.device_manager import DeviceManager
from vitro.libraries.vitro_config import VitroConfig

from acme_vitro.trace import trace
from vitro import hookimpl


class Software:
    """What runs on a device."""

    def __init__(self, version: str) -> None:
        self._version = version
        self.upgrades = 0

    def version(self) -> str:
        """The running firmware version."""
        return self._version

    def upgrade(self, version: str) -> str:
        """Installs another firmware version; returns the new one."""
        self._version = version
        self.upgrades += 1
        return version


class AcmeServer(VitroDevice):
    """A WAN server."""

    def __init__(self, config: dict[str, Any], cmdline_args: Namespace) -> None:
        super().__init__(config, cmdline_args)
        self.booted = False
        self.addresses = {"eth0": config.get("address", "10.0.0.1")}

    @hookimpl
    def vitro_server_boot(self, config: VitroConfig, cmdline_args: Namespace) -> None:
        self.booted = True
        trace(
            cmdline_args,
            "vitro_server_boot",
            self.device_name,
            config=self.config,
            devices=[d["name"] for d in config.get_devices_config()],
        )

    @hookimpl
    def vitro_server_configure(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "vitro_server_configure", self.device_name)

    @hookimpl
    def vitro_skip_boot(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "vitro_skip_boot", self.device_name)

    @hookimpl
    def contingency_check(self, env_req: dict[str, Any]) -> None:
        trace(self._cmdline_args, "contingency_check", self.device_name, env_req=env_req)

    @hookimpl
    def vitro_shutdown_device(self) -> None:
        trace(self._cmdline_args, "vitro_shutdown_device", self.device_name)

    def dhcp_lease(self, mac: str) -> str:
        """The address the server gives ``mac``."""
        return "10.0.0." + str(sum(int(part, 16) for part in mac.split(":")) % 200 + 10)

    def ping(self, address: str, count: int = 1) -> dict[str, Any]:
        """Pretends to ping."""
        return {"address": address, "sent": count, "received": count}


class AcmeBoard(VitroDevice):
    """The board under test; it needs the server to boot."""

    def __init__(self, config: dict[str, Any], cmdline_args: Namespace) -> None:
        super().__init__(config, cmdline_args)
        self._sw = Software(cmdline_args.acme_firmware)
        self.wan_address: str | None = None

    @property
    def sw(self) -> Software:
        """The board's software."""
        return self._sw

    @property
    def model(self) -> str:
        """The model from the inventory."""
        return str(self.config.get("model", "unknown"))

    @hookimpl
    def validate_device_requirements(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "validate_device_requirements", self.device_name)

    @hookimpl
    def vitro_device_boot(self, cmdline_args: Namespace, device_manager: DeviceManager) -> None:
        server = device_manager.get_device_by_type(AcmeServer)
        self.wan_address = server.dhcp_lease(self.config.get("mac", "00:00:00:00:00:01"))
        trace(
            cmdline_args,
            "vitro_device_boot",
            self.device_name,
            config=self.config,
            server=server.device_name,
            wan=self.wan_address,
        )

    @hookimpl
    def vitro_device_configure(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "vitro_device_configure", self.device_name)

    @hookimpl
    def vitro_skip_boot(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "vitro_skip_boot", self.device_name)

    @hookimpl
    def vitro_shutdown_device(self) -> None:
        trace(self._cmdline_args, "vitro_shutdown_device", self.device_name)

    def get_wan_address(self) -> str | None:
        """The address the board got from the server at boot."""
        return self.wan_address

    def firmware_details(self) -> Software:
        """Returns an object: callable through vitro only as a clear error."""
        return self._sw


class AcmeLan(VitroDevice):
    """A LAN client; it boots with both a plain and an async hook."""

    @hookimpl
    def validate_device_requirements(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "validate_device_requirements", self.device_name)

    @hookimpl
    def vitro_attached_device_boot(self, cmdline_args: Namespace) -> None:
        trace(cmdline_args, "vitro_attached_device_boot", self.device_name, config=self.config)

    @hookimpl
    async def vitro_attached_device_boot_async(self, cmdline_args: Namespace) -> None:
        await asyncio.sleep(float(self.config.get("boot_seconds", 0)))
        trace(cmdline_args, "vitro_attached_device_boot_async", self.device_name, config=self.config)

    @hookimpl
    def vitro_shutdown_device(self) -> None:
        trace(self._cmdline_args, "vitro_shutdown_device", self.device_name)

    def ip_address(self) -> str:
        """The client's address."""
        return str(self.config.get("ip", "192.168.1.100"))
