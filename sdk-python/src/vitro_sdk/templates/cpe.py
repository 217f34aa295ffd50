"""Generated from protocol/templates/cpe.v1.json by sdk-python/tools/gen_templates.py; do not edit."""

from __future__ import annotations

from typing import ClassVar, Protocol


class Cpe(Protocol):
    """The device under test: a CPE or board (Boardfarm 3's `CPE` and its `sw`): software version, uptime,
    reboot, WAN and LAN addresses. (template ``cpe@1``)"""

    TEMPLATE: ClassVar[str] = "cpe@1"
    EXTENDS: ClassVar[str | None] = None
    #: Each method's parameter names, in order.
    PARAMS: ClassVar[dict[str, list[str]]] = {
        "get_lan_ipv4addr": [],
        "get_seconds_uptime": [],
        "get_software_version": [],
        "get_wan_ipv4addr": [],
        "is_online": [],
        "reboot": ["timeout"],
    }

    def get_lan_ipv4addr(self) -> str | None:
        """The IPv4 address of the LAN interface (the LAN clients' gateway), or null when it has none."""
        ...

    def get_seconds_uptime(self) -> float:
        """Seconds since the device booted."""
        ...

    def get_software_version(self) -> str:
        """The running software (firmware) version."""
        ...

    def get_wan_ipv4addr(self) -> str | None:
        """The IPv4 address of the WAN interface (eRouter), or null when it has none."""
        ...

    def is_online(self) -> bool:
        """Whether the device has a WAN address and reaches its servers. (optional)"""
        ...

    def reboot(self, timeout: float | None = None) -> None:
        """Reboots the device and returns once it is reachable again (its console or management address
        answers)."""
        ...
