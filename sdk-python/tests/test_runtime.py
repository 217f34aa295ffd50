"""The Python plugin runtime in one process: a host speaking the protocol over os.pipe()s."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import select
import time
from pathlib import Path
from typing import Any, ClassVar

from vitro_sdk import PROTOCOL_VERSION, Device, DeviceError, Plugin, PluginHooks, method
from vitro_sdk.connections import connect
from vitro_sdk.messages.protocol import CliArg, DeploymentStatus, PatchOperation


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
        #: Messages that arrived while :meth:`call` waited for its answer, for :meth:`read`.
        self.backlog: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        os.write(self.to_plugin_w, (json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())

    def read(self) -> dict[str, Any]:
        """The next message from the plugin: first those that arrived while :meth:`call` waited."""
        return self.backlog.pop(0) if self.backlog else self._next()

    def _next(self, timeout: float = 30) -> dict[str, Any]:
        """The next message on the pipe; fails after ``timeout`` seconds without one."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([self.from_plugin_r], [], [], max(deadline - time.monotonic(), 0))
            assert ready, f"no message from the plugin within {timeout} s"
            self.buffer += os.read(self.from_plugin_r, 1 << 16)
        line, self.buffer = self.buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def call(self, method_name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Sends a request and returns its answer; what else arrives meanwhile waits for :meth:`read`."""
        request_id = self.next_id
        self.next_id += 1
        self.send({"id": request_id, "method": method_name, "params": params})
        while True:
            message = self._next()
            if message.get("id") == request_id and "method" not in message:
                return message
            self.backlog.append(message)


def run_session(script: Any, plugin: Plugin | None = None) -> tuple[int, list[dict[str, Any]]]:  # noqa: ANN401
    host = Host()
    plugin = plugin or Plugin("lamp", "1.2.3").device_type("lamp", Lamp)

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
    major, minor = PROTOCOL_VERSION
    assert f"the host speaks 7.0, the plugin speaks {major}.{minor}; upgrade the plugin" in error["message"]
    assert error["data"]["details"] == {
        "host": [{"major": 7, "minor": 0}],
        "plugin": [{"major": major, "minor": minor}],
    }
    assert code == 1, "no shutdown came first"


def test_unreadable_and_oversized_messages_are_answered_not_skipped_silently() -> None:
    def script(host: Host) -> list[dict[str, Any]]:
        host.call("initialize", {**INIT, "limits": {"max_message_size": 4096}})
        host.send({"method": "initialized", "params": {}})
        os.write(host.to_plugin_w, b"not json\n")
        garbage = host.read()
        os.write(host.to_plugin_w, b'[{"jsonrpc": "2.0", "id": 5, "method": "$/ping"}]\n')
        batch = host.read()
        params = {"device": "l", "method": "double", "x": "y" * 10_000}
        host.send({"id": 77, "method": "device/call", "params": params})
        oversized = host.read()
        ping = host.call("$/ping", {})
        host.call("shutdown", {})
        host.send({"method": "exit", "params": {}})
        return [garbage, batch, oversized, ping]

    code, (garbage, batch, oversized, ping) = run_session(script)
    assert garbage["id"] is None and garbage["error"]["data"]["kind"] == "parse-error"
    assert batch["id"] is None and batch["error"]["data"]["kind"] == "invalid-request"
    assert "batch" in batch["error"]["message"]
    assert oversized["id"] == 77 and oversized["error"]["data"]["kind"] == "message-too-large", oversized
    assert ping["result"] == {}, "the connection goes on"
    assert code == 0


def test_an_answer_over_the_limit_goes_as_message_too_large() -> None:
    def script(host: Host) -> list[dict[str, Any]]:
        host.call("initialize", {**INIT, "limits": {"max_message_size": 4096}})
        host.send({"method": "initialized", "params": {}})
        host.call("device/create", {"name": "l", "type": "lamp", "config": {}})
        # 3,000 characters doubled: an answer over the 4,096 bytes the host reads.
        huge = host.call("device/call", {"device": "l", "method": "double", "params": ["y" * 3000]})
        small = host.call("device/call", {"device": "l", "method": "double", "params": [21]})
        host.call("shutdown", {})
        host.send({"method": "exit", "params": {}})
        return [huge, small]

    code, (huge, small) = run_session(script)
    assert huge["error"]["data"]["kind"] == "message-too-large", huge
    assert "over the limit of 4096 bytes" in huge["error"]["message"]
    assert small["result"] == 42, "the connection goes on"
    assert code == 0


class Hooks(PluginHooks):
    cli_args: ClassVar[list[CliArg]] = [{"name": "lamp-color", "help": "colour", "takes_value": True}]

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def reserve(self, board_name: str, options: dict[str, Any]) -> Any:  # noqa: ANN401
        return {"devices": [{"name": "l", "type": "lamp", "color": options["lamp-color"]}]}

    async def parse_config(self, devices: list[Any], options: dict[str, Any]) -> list[PatchOperation]:
        return [{"op": "add", "path": "/0/watts", "value": len(devices) * 40}]

    def setup_env(self, options: dict[str, Any], console_log_dir: str | None) -> None:
        self.seen.append(f"setup {console_log_dir}")
        assert self.host is not None
        self.host.progress(None, "warming the lamps")

    def release(self, status: DeploymentStatus, error: str | None) -> None:
        self.seen.append(f"release {status} {error}")


def test_plugin_hooks_are_declared_and_answered() -> None:
    hooks = Hooks()
    plugin = Plugin("lamp", "1.2.3").device_type("lamp", Lamp).hooks(hooks)

    def script(host: Host) -> list[dict[str, Any]]:
        answers = [host.call("initialize", INIT)]
        answers.append(host.call("plugin/reserve", {"board_name": "b", "options": {"lamp-color": "red"}}))
        answers.append(host.call("plugin/parseConfig", {"devices": [{}, {}], "options": {}}))
        answers.append(host.call("plugin/setupEnv", {"options": {}, "console_log_dir": "/logs"}))
        answers.append(host.call("plugin/postSetup", {"options": {}}))
        answers.append(host.call("plugin/release", {"status": "failed", "error": "boom"}))
        while (message := host.read()).get("method") != "$/progress":
            pass
        answers.append(message)
        os.close(host.to_plugin_w)
        return answers

    _, (init, reserve, parse, setup, post, release, progress) = run_session(script, plugin)
    assert progress["params"] == {"message": "warming the lamps"}, "about the plugin, not a device"
    assert sorted(init["result"]["capabilities"]) == [
        "cli-args",
        "config-parsing",
        "env-setup",
        "release",
        "reservation",
    ]
    assert init["result"]["cli_args"] == Hooks.cli_args
    assert reserve["result"] == {"inventory": {"devices": [{"name": "l", "type": "lamp", "color": "red"}]}}
    assert parse["result"] == {"patch": [{"op": "add", "path": "/0/watts", "value": 80}]}
    assert setup["result"] == {} and release["result"] == {}
    assert post["error"]["data"]["kind"] == "method-not-found", "post_setup is not implemented"
    assert hooks.seen == ["setup /logs", "release failed boom"]


class Shell(Device):
    def boot(self) -> None:
        bash = {"name": self.name, "connection_type": "local_cmd", "prompt": r"sh\$ $"}
        bash["conn_cmd"] = "env PS1='sh$ ' bash --norc --noprofile -i"
        self.add_console("shell", connect(bash, log_dir=self.console_log_dir, console="shell"))


def test_consoles_stream_take_input_and_take_markers(tmp_path: Path) -> None:
    plugin = Plugin("shell", "1").device_type("shell", Shell)

    def script(host: Host) -> list[dict[str, Any]]:
        host.call("initialize", INIT)
        create = {"name": "s", "type": "shell", "config": {}, "console_log_dir": str(tmp_path)}
        answers = [
            host.call("device/create", create),
            host.call("device/hook", {"device": "s", "hook": "boot"}),
        ]
        answers.append(host.call("device/consoles", {"device": "s"}))
        answers.append(host.call("console/open", {"device": "s", "console": "shell"}))
        typed = base64.b64encode(b"echo $((40 + 2))\n").decode()
        answers.append(host.call("console/write", {"device": "s", "console": "shell", "data": typed}))
        seen = b""
        while b"42\r\n" not in seen:
            message = host.read()
            if message.get("method") == "$/console/output":
                seen += base64.b64decode(message["params"]["data"])
        answers.append(host.call("console/marker", {"text": "checkpoint"}))
        answers.append(host.call("shutdown", {}))
        host.send({"method": "exit", "params": {}})
        return answers

    code, answers = run_session(script, plugin)
    assert [a.get("result") for a in answers] == [{}, {}, {"consoles": ["shell"]}, {}, {}, {}, {}]
    log = (tmp_path / "s_shell.txt").read_text()
    assert "] 42\n" in log and "] ##### checkpoint\n" in log
    assert code == 0


def test_a_device_whose_logs_the_host_keeps_streams_each_console_from_the_start() -> None:
    """``console_log_stream`` (a plugin on an exporter): every console streams as soon as it is
    added, without a ``console/open``, and ``console/close`` leaves the stream open."""
    plugin = Plugin("shell", "1").device_type("shell", Shell)

    def script(host: Host) -> list[dict[str, Any]]:
        host.call("initialize", INIT)
        create = {"name": "s", "type": "shell", "config": {}, "console_log_stream": True}
        answers = [
            host.call("device/create", create),
            host.call("device/hook", {"device": "s", "hook": "boot"}),
            host.call("console/close", {"device": "s", "console": "shell"}),
        ]
        typed = base64.b64encode(b"echo $((40 + 2))\n").decode()
        answers.append(host.call("console/write", {"device": "s", "console": "shell", "data": typed}))
        seen = b""
        while b"42\r\n" not in seen:
            message = host.read()
            if message.get("method") == "$/console/output":
                seen += base64.b64decode(message["params"]["data"])
        answers.append(host.call("shutdown", {}))
        host.send({"method": "exit", "params": {}})
        return answers

    code, answers = run_session(script, plugin)
    assert [a.get("result") for a in answers] == [{}, {}, {}, {}, {}]
    assert code == 0


class Gateway(Device):
    """Boots with the servers and configures with the devices (protocol 1.1 phase hooks)."""

    async def server_boot(self) -> None:
        pass

    def device_configure(self) -> None:
        pass


def test_phase_hooks_are_declared_and_need_a_host_that_knows_them() -> None:
    plugin = Plugin("gw", "1.0").device_type("gateway", Gateway)

    def script(host: Host) -> list[dict[str, Any]]:
        answer = host.call("initialize", INIT)
        os.close(host.to_plugin_w)
        return [answer]

    _, answers = run_session(script, plugin)
    error = answers[0]["error"]
    assert error["data"]["kind"] == "version-mismatch"
    assert "needs protocol 1.1 (its device types use the `server-boot` hook)" in error["message"]

    def newer(host: Host) -> list[dict[str, Any]]:
        init = host.call("initialize", {**INIT, "protocol_versions": [{"major": 1, "minor": 1}]})
        host.send({"method": "initialized", "params": {}})
        host.call("device/create", {"name": "g", "type": "gateway", "config": {}})
        boot = host.call("device/hook", {"device": "g", "hook": "server-boot"})
        configure = host.call("device/hook", {"device": "g", "hook": "device-configure"})
        host.call("shutdown", {})
        host.send({"method": "exit", "params": {}})
        return [init, boot, configure]

    code, (init, boot, configure) = run_session(newer, plugin)
    assert init["result"]["device_types"][0]["hooks"] == ["server-boot", "device-configure"]
    assert (boot["result"], configure["result"], code) == ({}, {}, 0)
