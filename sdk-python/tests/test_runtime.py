"""The Python plugin runtime in one process: a host speaking the protocol over os.pipe()s."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from vitro_sdk import Device, DeviceError, Plugin, method


class Lamp(Device):
    role = "device"

    async def boot(self) -> None:
        raise DeviceError(f"{self.name} has no bulb")

    @method
    def double(self, x: int) -> int:
        """Twice x."""
        return 2 * x


class Host:
    """The test's side of the pipes."""

    def __init__(self) -> None:
        self.to_plugin_r, self.to_plugin_w = os.pipe()
        self.from_plugin_r, self.from_plugin_w = os.pipe()
        self.buffer = b""
        self.next_id = 1

    def send(self, message: dict[str, Any]) -> None:
        os.write(self.to_plugin_w, (json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())

    def read(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            self.buffer += os.read(self.from_plugin_r, 1 << 16)
        line, self.buffer = self.buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def call(self, method_name: str, params: dict[str, Any]) -> dict[str, Any]:
        request_id = self.next_id
        self.next_id += 1
        self.send({"id": request_id, "method": method_name, "params": params})
        while True:
            message = self.read()
            if message.get("id") == request_id and "method" not in message:
                return message


def run_session(script: Any) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401
    host = Host()
    plugin = Plugin("lamp", "1.2.3").device_type("lamp", Lamp)

    async def main() -> int:
        return await plugin.serve(host.to_plugin_r, host.from_plugin_w)

    answers: list[dict[str, Any]] = []

    async def both() -> int:
        serving = asyncio.create_task(main())
        answers.extend(await asyncio.to_thread(script, host))
        return await serving

    return asyncio.run(both()), answers


INIT = {
    "protocol_versions": [{"major": 1, "minor": 0}],
    "host": {"name": "test", "version": "0"},
    "log_level": "info",
}


def test_a_whole_session_answers_each_method_and_exits_cleanly() -> None:
    def script(host: Host) -> list[dict[str, Any]]:
        early = host.call("device/create", {"name": "l", "type": "lamp", "config": {}})
        init = host.call("initialize", INIT)
        host.send({"method": "initialized", "params": {}})
        created = host.call("device/create", {"name": "l", "type": "lamp", "config": {}})
        boot = host.call("device/hook", {"device": "l", "hook": "boot"})
        double = host.call("device/call", {"device": "l", "method": "double", "params": [21]})
        ping = host.call("$/ping", {})
        down = host.call("shutdown", {})
        host.send({"method": "exit", "params": {}})
        return [early, init, created, boot, double, ping, down]

    code, answers = run_session(script)
    early, init, created, boot, double, ping, down = answers
    assert early["error"]["data"]["kind"] == "invalid-state"
    types = init["result"]["device_types"]
    double_method = {"name": "double", "description": "Twice x."}
    assert types == [{"type": "lamp", "role": "device", "hooks": ["boot"], "methods": [double_method]}]
    assert init["result"]["plugin"]["sdk"].startswith("vitro-sdk-python")
    assert created["result"] == {}
    assert boot["error"]["message"] == "l has no bulb"
    assert boot["error"]["data"]["kind"] == "device-error"
    assert double["result"] == 42
    assert ping["result"] == {}
    assert down["result"] == {}
    assert code == 0


def test_a_host_without_a_common_version_is_told_what_to_upgrade() -> None:
    def script(host: Host) -> list[dict[str, Any]]:
        answer = host.call("initialize", {**INIT, "protocol_versions": [{"major": 7, "minor": 0}]})
        os.close(host.to_plugin_w)
        return [answer]

    code, answers = run_session(script)
    error = answers[0]["error"]
    assert error["data"]["kind"] == "version-mismatch"
    assert "the host speaks 7.0, the plugin speaks 1.0; upgrade the plugin" in error["message"]
    assert code == 1, "no shutdown came first"
