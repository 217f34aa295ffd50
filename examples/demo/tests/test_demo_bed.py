"""The demo bed, through the pytest bridge: run it with ``scripts/demo run -- python -m pytest
examples/demo/tests``. Logs into the board over its serial console (through its driver) and over
SSH (from the test), and checks what each device's configure applied. Like every test of the
demo, it reaches the devices through their templates only (the board is a `cpe@1` and a
`linux_host@1`, the server a `wan@1`, the LAN clients `lan@1`), never through a driver's own
methods."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from vitro_sdk.connections import connect
from vitro_sdk.session import DeviceManager, VitroConfig
from vitro_sdk.templates import Cpe, Lan, LinuxHost, Wan


def _board(devices: Any) -> LinuxHost:  # noqa: ANN401
    """The device under test (the one `cpe@1`), as the Linux host it also is."""
    (cpe,) = devices.by_template(Cpe)
    hosts: list[LinuxHost] = devices.by_template(LinuxHost)
    return next(host for host in hosts if getattr(host, "name", None) == cpe.name)


def test_the_board_answers_over_its_serial_console(devices: Any) -> None:  # noqa: ANN401
    assert _board(devices).get_hostname() == "vitro-board"
    cpe: Cpe = devices.by_template(Cpe)[0]
    assert cpe.get_software_version().endswith("-amd64")


def test_configure_applied_the_environment_to_the_board(devices: Any) -> None:  # noqa: ANN401
    assert _board(devices).execute_command("cat /srv/state") == "configured"


def test_the_board_takes_an_ssh_login_and_shows_what_configure_wrote(vitro_config: VitroConfig) -> None:
    board = vitro_config.get_device_config("board")
    config = {
        "name": "board-over-ssh",
        "connection_type": "ssh_connection",
        "ipaddr": board["ipaddr"],
        "port": board["ssh_port"],
        "username": "root",
        "password": board["password"],
        "prompt": board["prompt"],
    }
    with connect(config, timeout=60) as ssh:
        assert ssh.execute_command("cat /etc/motd", 30) == "Welcome to the Vitro demo board"


def test_the_wan_server_was_configured(devices: Any) -> None:  # noqa: ANN401
    wan: Wan = devices.by_template(Wan)[0]
    path = Path(os.environ["DEMO_DIR"]) / "wan" / "index.html"
    assert wan.execute_command(f"cat {path}") == "hello from the wan"
    assert path.read_text() == "hello from the wan\n"


def test_the_lan_clients_are_attached_devices(device_manager: DeviceManager) -> None:
    lans = device_manager.get_devices_by_template(Lan)
    assert sorted(lans) == ["lan", "lan2"]
    assert {lan.role for lan in lans.values()} == {"attached"}  # type: ignore[attr-defined]


@pytest.mark.env_req({"environment_def": {"board": {"model": ["qemu-x86_64"]}}})
def test_an_env_req_that_matches_runs_after_the_contingency_checks(devices: Any) -> None:  # noqa: ANN401
    assert devices.board.state == "ready"


@pytest.mark.env_req({"environment_def": {"board": {"model": "a-real-cpe"}}})
def test_an_env_req_for_another_board_is_skipped() -> None:
    raise AssertionError("must not run on the demo board")
