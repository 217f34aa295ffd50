"""Generated from protocol/templates/lan.v1.json by sdk-python/tools/gen_templates.py; do not edit."""

from __future__ import annotations

from typing import ClassVar, Protocol

from typing_extensions import TypedDict

from .linux_host import LinuxHost


class HttpGetResult(TypedDict):
    status_code: int
    body: str


class Lan(LinuxHost, Protocol):
    """A LAN client behind the device under test (Boardfarm 3's `LAN`): its DHCP lease, default gateway and
    web access through the CPE. (template ``lan@1``)"""

    TEMPLATE: ClassVar[str] = "lan@1"
    EXTENDS: ClassVar[str | None] = "linux_host@1"
    #: Each method's parameter names, in order.
    PARAMS: ClassVar[dict[str, list[str]]] = {
        "get_default_gateway": [],
        "http_get": ["url", "timeout"],
        "release_dhcp": ["interface"],
        "renew_dhcp": ["interface"],
    }

    def get_default_gateway(self) -> str:
        """The gateway of the host's IPv4 default route in its main routing table (the first one when there
        are several), whatever the interface it goes out of: the CPE's LAN address on a bed. A host
        without a default route fails the call; it never answers an empty string."""
        ...

    def http_get(self, url: str, timeout: float = 10) -> HttpGetResult:
        """Fetches a URL from this host (as `curl` would) and returns the status and body."""
        ...

    def release_dhcp(self, interface: str) -> None:
        """Releases the IPv4 lease of an interface."""
        ...

    def renew_dhcp(self, interface: str) -> str:
        """Asks for an IPv4 lease on an interface again and returns the address it got."""
        ...
