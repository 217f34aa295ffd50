"""Reachability between hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import UseCaseError

if TYPE_CHECKING:
    from ..templates import Lan, LinuxHost, Wan
    from ..templates.lan import HttpGetResult
    from ..templates.linux_host import PingResult


def ping_between(
    source: LinuxHost, destination: LinuxHost, interface: str = "eth0", count: int = 4
) -> PingResult:
    """Pings ``destination``'s address on ``interface`` from ``source``; fails unless every
    ping came back."""
    address = destination.get_interface_ipv4addr(interface)
    result = source.ping(address, count=count)
    if result["received"] != count:
        raise UseCaseError(f"{address} answered {result['received']} of {count} pings: {result}")
    return result


def fetch_from_wan(lan: Lan, wan: Wan, port: int, body: str = "vitro") -> HttpGetResult:
    """Serves ``body`` over HTTP on ``wan`` at ``port``, fetches it from ``lan`` at the WAN
    server's address, and stops the service again; fails unless the page came back whole."""
    wan.start_http_service(port, body=body)
    try:
        url = f"http://{wan.get_eth_interface_ipv4_address()}:{port}/"
        page = lan.http_get(url)
    finally:
        wan.stop_http_service(port)
    if page["status_code"] != 200 or page["body"] != body:
        raise UseCaseError(f"{url} answered {page['status_code']} with {page['body'][:200]!r}, not {body!r}")
    return page
