"""The template protocols: generated from protocol/templates (no drift), declared by the driver
classes that inherit them, and routed like ``@method``\\ s."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from test_runtime import INIT, Host, run_session
from vitro_sdk import Device, Plugin
from vitro_sdk.templates import Lan, LinuxHost, Power
from vitro_sdk.templates.lan import HttpGetResult
from vitro_sdk.templates.linux_host import PingResult

TOOL = Path(__file__).resolve().parents[1] / "tools" / "gen_templates.py"


def test_generated_template_protocols_match_the_template_files() -> None:
    result = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


class Client(Device, Lan):
    """A LAN client that answers from its config (enough to test the routing)."""

    role = "attached"

    def execute_command(self, command: str, timeout: float | None = None) -> str:
        return f"ran {command}"

    def get_hostname(self) -> str:
        return self.name

    def get_interface_ipv4addr(self, interface: str) -> str:
        return str(self.config["ip"])

    def ping(self, host: str, count: int = 4, timeout: float | None = None) -> PingResult:
        return {"sent": count, "received": count, "loss_percent": 0.0}

    def get_default_gateway(self) -> str:
        return "192.168.1.1"

    def release_dhcp(self, interface: str) -> None:
        pass

    def renew_dhcp(self, interface: str) -> str:
        return str(self.config["ip"])

    def http_get(self, url: str, timeout: float = 10) -> HttpGetResult:
        return {"status_code": 200, "body": url}


def test_a_driver_that_inherits_a_template_declares_it_and_its_methods_are_called() -> None:
    assert Client.declared_templates() == ["lan@1"], "linux_host@1 is implied by lan@1"
    assert {"ping", "get_default_gateway", "http_get"} <= set(Client.device_methods())
    assert "get_date" not in Client.device_methods(), "an optional method it lacks is not declared"

    def script(host: Host) -> list[dict[str, Any]]:
        init = host.call("initialize", INIT)
        host.send({"method": "initialized", "params": {}})
        host.call("device/create", {"name": "lan", "type": "client", "config": {"ip": "192.168.1.9"}})
        ping = host.call(
            "device/call", {"device": "lan", "method": "ping", "params": {"host": "x", "count": 2}}
        )
        host.call("shutdown", {})
        host.send({"method": "exit", "params": {}})
        return [init, ping]

    code, (init, ping) = run_session(script, Plugin("clients", "1.0").device_type("client", Client))
    declared = init["result"]["device_types"][0]
    assert declared["implements"] == ["lan@1"]
    assert "http_get" in [m["name"] for m in declared["methods"]]
    assert ping["result"] == {"sent": 2, "received": 2, "loss_percent": 0.0}
    assert code == 0


def test_protocols_say_their_template_and_what_it_extends() -> None:
    assert (Lan.TEMPLATE, Lan.EXTENDS, LinuxHost.EXTENDS) == ("lan@1", "linux_host@1", None)
    assert Power.PARAMS["power_cycle"] == ["off_seconds"]
