"""A pytest-vitro 0.5 test file, written for Python Vitro; it runs unchanged under pytest-vitro
and under vitro's pytest bridge."""

from __future__ import annotations

from typing import Any

import pytest
from acme_vitro.devices import AcmeBoard, AcmeServer
from vitro.devices.base_devices import VitroDevice


def test_the_board_runs_the_firmware_asked_for(devices: Any) -> None:  # noqa: ANN401
    assert devices.board.sw.version() == "1.2.3"
    assert devices.board.model == "x1"
    assert devices.board.get_wan_address() == "10.0.0.65"


def test_a_nested_object_keeps_its_state(devices: Any) -> None:  # noqa: ANN401
    assert devices.board.sw.upgrade("2.0.0") == "2.0.0"
    assert devices.board.sw.version() == "2.0.0"
    assert devices.board.sw.upgrades == 1


def test_devices_are_found_by_class(device_manager: Any) -> None:  # noqa: ANN401
    server = device_manager.get_device_by_type(AcmeServer)
    assert server.device_name == "wan"
    assert server.ping("10.0.0.2", count=3) == {"address": "10.0.0.2", "sent": 3, "received": 3}
    assert list(device_manager.get_devices_by_type(AcmeBoard)) == ["board"]
    assert sorted(device_manager.get_devices_by_type(VitroDevice)) == ["board", "lan1", "lan2", "wan"]


def test_the_config_is_the_one_the_parse_hook_returned(vitro_config: Any) -> None:  # noqa: ANN401
    assert vitro_config.get_device_config("board")["parsed_by"] == "acme"
    assert vitro_config.get_board_model() == "x1"
    assert vitro_config.env_config["environment_def"]["lan1"] == {"boot_seconds": 0.01}


@pytest.mark.env_req({"environment_def": {"board": {"model": ["x1"]}}})
def test_runs_where_the_environment_matches(devices: Any) -> None:  # noqa: ANN401
    assert devices.lan1.ip_address() == "192.168.1.10"


@pytest.mark.env_req({"environment_def": {"board": {"model": ["z9"]}}})
def test_is_skipped_elsewhere() -> None:
    pytest.fail("env_req does not match, so this never runs")
