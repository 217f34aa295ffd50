"""Generated from protocol/templates/wan.v1.json by sdk-python/tools/gen_templates.py; do not edit."""

from __future__ import annotations

from typing import ClassVar, Protocol

from typing_extensions import TypedDict

from .linux_host import LinuxHost


class StartHttpServiceResult(TypedDict):
    pid: int
    body: str


class Wan(LinuxHost, Protocol):
    """A server on the WAN side of the device under test (Boardfarm 3's `WAN`): its addresses and an HTTP
    service LAN clients can fetch from. (template ``wan@1``)"""

    TEMPLATE: ClassVar[str] = "wan@1"
    EXTENDS: ClassVar[str | None] = "linux_host@1"
    #: Each method's parameter names, in order.
    PARAMS: ClassVar[dict[str, list[str]]] = {
        "get_eth_interface_ipv4_address": [],
        "start_http_service": ["port", "body"],
        "stop_http_service": ["port"],
    }

    def get_eth_interface_ipv4_address(self) -> str:
        """The IPv4 address the server is reached at from the device under test."""
        ...

    def start_http_service(self, port: int, body: str = "vitro") -> StartHttpServiceResult:
        """Serves a small page over HTTP on a port; returns the URL path's body it serves and the service's
        process id."""
        ...

    def stop_http_service(self, port: int) -> None:
        """Stops the HTTP service on a port (nothing when none runs)."""
        ...
