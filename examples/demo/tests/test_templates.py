"""The demo bed through its device templates only: each test names a template, never a driver, so
it runs on every device that implements the template (here `lan@1` has two implementations: the
Rust `lan_client` and the Python `py_lan_client` of examples/python-lan)."""

from __future__ import annotations

import socket
import time
from typing import Any

from vitro_sdk.session import Session
from vitro_sdk.templates import Cpe, Lan, LinuxHost, Wan
from vitro_sdk.use_cases import fetch_from_wan, ping_between, reboot_and_wait_for_wan


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_bed_has_lan_clients_of_both_languages(devices: Any) -> None:  # noqa: ANN401
    lans = devices.by_template(Lan)
    assert len(lans) >= 2, f"two implementations of lan@1 are expected: {lans}"


def test_every_linux_host_runs_commands_and_knows_its_loopback(devices: Any) -> None:  # noqa: ANN401
    hosts: list[LinuxHost] = devices.by_template(LinuxHost)
    assert hosts, "the wan server and the lan clients are Linux hosts"
    for host in hosts:
        assert host.execute_command("echo vitro") == "vitro", host
        assert host.get_hostname(), host
        assert host.get_interface_ipv4addr("lo") == "127.0.0.1", host


def test_every_lan_client_pings_the_wan_server(devices: Any) -> None:  # noqa: ANN401
    wan: Wan = devices.by_template(Wan)[0]
    address = wan.get_eth_interface_ipv4_address()
    for lan in devices.by_template(Lan):
        result = lan.ping(address, count=2)
        assert (result["sent"], result["received"], result["loss_percent"]) == (2, 2, 0), (lan, result)


def test_every_lan_client_fetches_a_page_the_wan_server_serves(devices: Any) -> None:  # noqa: ANN401
    wan: Wan = devices.by_template(Wan)[0]
    port = _free_port()
    served = wan.start_http_service(port, body="hello from the template")
    try:
        for lan in devices.by_template(Lan):
            page = lan.http_get(f"http://{wan.get_eth_interface_ipv4_address()}:{port}/")
            assert page == {"status_code": 200, "body": "hello from the template"}, (lan, page)
    finally:
        wan.stop_http_service(port)
    assert served["pid"] > 0


def test_every_lan_client_has_a_default_gateway(devices: Any) -> None:  # noqa: ANN401
    for lan in devices.by_template(Lan):
        assert lan.get_default_gateway().count(".") == 3, lan


def test_every_device_keeps_the_contracts_it_declares() -> None:
    results = Session().check_templates()
    broken = [r for r in results if r["outcome"] != "passed"]
    assert results and not broken, broken


def test_the_use_cases_run_on_the_bed(devices: Any) -> None:  # noqa: ANN401
    lans: list[Lan] = devices.by_template(Lan)
    wan: Wan = devices.by_template(Wan)[0]
    # The demo's hosts share this machine: their loopback is what every one of them reaches.
    assert ping_between(lans[0], lans[1], interface="lo", count=2)["received"] == 2
    for lan in lans:
        assert fetch_from_wan(lan, wan, _free_port(), body="from the use case")["status_code"] == 200


def test_the_board_comes_back_from_a_reboot_with_its_wan_address(devices: Any) -> None:  # noqa: ANN401
    """Last, as it wipes what configure wrote on the board (its root is an initramfs)."""
    board: Cpe = devices.by_template(Cpe)[0]
    assert board.get_software_version()
    started = time.monotonic()
    address = reboot_and_wait_for_wan(board, timeout=120)
    # Without a reboot the uptime would have gone on from where it was (seconds after boot).
    assert board.get_seconds_uptime() < time.monotonic() - started
    assert address.count(".") == 3
