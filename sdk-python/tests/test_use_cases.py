"""The use cases' own logic: what they check and when they give up. Their run on real devices is
the demo bed's template tests (examples/demo/tests/test_templates.py); here plain objects that
keep the template protocols play the devices."""

from __future__ import annotations

import re

import pytest
from vitro_sdk.templates.lan import HttpGetResult
from vitro_sdk.templates.linux_host import PingResult
from vitro_sdk.templates.wan import StartHttpServiceResult
from vitro_sdk.use_cases import UseCaseError, fetch_from_wan, ping_between, reboot_and_wait_for_wan


class Host:
    def __init__(self, address: str, answers: int) -> None:
        self.address, self.answers = address, answers

    def get_interface_ipv4addr(self, interface: str) -> str:
        return self.address

    def ping(self, host: str, count: int = 4, timeout: float | None = None) -> PingResult:
        received = min(self.answers, count)
        return {"sent": count, "received": received, "loss_percent": 100.0 * (count - received) / count}


class Server:
    def __init__(self) -> None:
        self.serving: dict[int, str] = {}

    def get_eth_interface_ipv4_address(self) -> str:
        return "10.0.0.1"

    def start_http_service(self, port: int, body: str = "vitro") -> StartHttpServiceResult:
        self.serving[port] = body
        return {"pid": 7, "body": body}

    def stop_http_service(self, port: int) -> None:
        del self.serving[port]


class Client:
    def __init__(self, server: Server, mangle: bool = False) -> None:
        self.server, self.mangle = server, mangle

    def http_get(self, url: str, timeout: float = 10) -> HttpGetResult:
        body = self.server.serving[int(url.rsplit(":", 1)[1].rstrip("/"))]
        return {"status_code": 200, "body": body[::-1] if self.mangle else body}


class Board:
    def __init__(self, polls_without_wan: int) -> None:
        self.left = polls_without_wan
        self.reboots = 0

    def reboot(self, timeout: float | None = None) -> None:
        self.reboots += 1

    def get_wan_ipv4addr(self) -> str | None:
        self.left -= 1
        return "10.0.2.15" if self.left < 0 else None


def test_ping_between_needs_every_answer() -> None:
    assert ping_between(Host("a", 4), Host("10.0.0.2", 4))["received"] == 4  # type: ignore[arg-type]
    with pytest.raises(UseCaseError, match=re.escape("10.0.0.2 answered 3 of 4 pings")):
        ping_between(Host("a", 3), Host("10.0.0.2", 4))  # type: ignore[arg-type]


def test_fetch_from_wan_stops_the_service_whatever_the_page_said() -> None:
    server = Server()
    page = fetch_from_wan(Client(server), server, 8080, body="hello")  # type: ignore[arg-type]
    assert page == {"status_code": 200, "body": "hello"} and not server.serving
    with pytest.raises(UseCaseError, match="answered 200 with 'olleh', not 'hello'"):
        fetch_from_wan(Client(server, mangle=True), server, 8080, body="hello")  # type: ignore[arg-type]
    assert not server.serving


def test_reboot_waits_for_the_wan_address_and_gives_up_at_the_deadline() -> None:
    board = Board(polls_without_wan=2)
    assert reboot_and_wait_for_wan(board, timeout=5, poll=0.01) == "10.0.2.15"  # type: ignore[arg-type]
    assert board.reboots == 1
    with pytest.raises(UseCaseError, match=re.escape("no WAN address within 0.05 s")):
        reboot_and_wait_for_wan(Board(polls_without_wan=10**9), timeout=0.05, poll=0.01)  # type: ignore[arg-type]
