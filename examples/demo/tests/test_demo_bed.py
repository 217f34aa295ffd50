"""The demo bed, through the pytest bridge: run it with ``scripts/demo run -- python -m pytest
examples/demo/tests``. Logs into the board over its serial console (through its driver) and over
SSH (from the test), and checks what each device's configure applied."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from vitro_sdk.connections import connect
from vitro_sdk.session import DeviceManager, VitroConfig


def test_the_board_answers_over_its_serial_console(devices: Any) -> None:  # noqa: ANN401
    assert devices.board.execute_command("hostname") == "vitro-board"
    assert devices.board.get_kernel().startswith("Linux ")


def test_configure_applied_the_environment_to_the_board(devices: Any) -> None:  # noqa: ANN401
    assert devices.board.execute_command("cat /srv/state") == "configured"


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
    path = Path(os.environ["DEMO_DIR"]) / "wan" / "index.html"
    assert devices.wan.execute_command(f"cat {path}") == "hello from the wan"
    assert path.read_text() == "hello from the wan\n"


def test_the_lan_client_found_the_board(device_manager: DeviceManager) -> None:
    lan = device_manager.get_device_by_type("lan_client")
    assert lan.role == "attached"
    assert lan.get_kernel().startswith("Linux ")


@pytest.mark.env_req({"environment_def": {"board": {"model": ["qemu-x86_64"]}}})
def test_an_env_req_that_matches_runs_after_the_contingency_checks(devices: Any) -> None:  # noqa: ANN401
    assert devices.board.state == "ready"


@pytest.mark.env_req({"environment_def": {"board": {"model": "a-real-cpe"}}})
def test_an_env_req_for_another_board_is_skipped() -> None:
    raise AssertionError("must not run on the demo board")
