"""The host for Python Vitro plugins (``vitro-plugin-pyvitro``) against the real ``vitro==0.8.1``:
a Python Vitro plugin written as its users write it (``tests/pyvitro/site``, installed through
``PYTHONPATH`` with its ``.dist-info``) deployed by Python Vitro and by our ``vitro``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "pyvitro"
VITRO = Path(os.environ.get("VITRO_BIN", ROOT / "target" / "debug" / "vitro"))
HOST = Path(sys.executable).parent / "vitro-plugin-pyvitro"
#: A virtualenv with Python Vitro and pytest-vitro (pytest-vitro's flags clash with our bridge's,
#: so it cannot share this one); scripts/test makes it.
REFERENCE = Path(os.environ.get("VITRO_PYVITRO_REF", ROOT / "target" / "pyvitro-ref" / "bin" / "python"))
BED = [
    "--board-name",
    "acme",
    "--env-config",
    str(FIXTURES / "environment.json"),
    "--inventory-config",
    str(FIXTURES / "inventory.json"),
]


def _env(marker: str = "", trace: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(FIXTURES / "site"), "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    env["ACME_RUN"] = marker
    if trace is not None:
        env["ACME_TRACE"] = str(trace)  # for processes without acme-vitro's --acme-trace flag
    return env


def _ours(
    *args: str,
    plugins: list[str] | None = None,
    marker: str = "",
    trace: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Our ``vitro`` with the host plugin(s) only; ``run`` stays the first word."""
    assert VITRO.exists(), f"{VITRO} is not built: run cargo build first (scripts/test does)"
    flags = ["--no-path"]
    for each in plugins or [str(HOST)]:
        flags += ["--plugin", each]
    command = [*args[:1], *flags, *args[1:]] if args[:1] == ("run",) else [*flags, *args]
    return subprocess.run(
        [str(VITRO), *command],
        env=_env(marker, trace),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _python_vitro(*args: str) -> subprocess.CompletedProcess[str]:
    """Python Vitro's own ``vitro`` (its interactive menu at the end is left with ``q``)."""
    assert REFERENCE.exists(), (
        f"{REFERENCE} is missing: scripts/test makes it (vitro==0.8.1 and pytest-vitro)"
    )
    return subprocess.run(
        [str(REFERENCE), "-m", "vitro.main", *args],
        env=_env(),
        input="q\n",
        capture_output=True,
        text=True,
        timeout=300,
    )


def _trace(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _phases(trace: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Hooks in the order they ran, each with the devices it ran on (the order within one
    phase is not a contract: ours runs them at once)."""
    phases: list[tuple[str, list[str]]] = []
    for entry in trace:
        if phases and phases[-1][0] == entry["hook"]:
            phases[-1][1].append(entry["device"])
        else:
            phases.append((entry["hook"], [entry["device"]]))
    return [(hook, sorted(map(str, devices))) for hook, devices in phases]


def test_the_same_hooks_run_in_the_same_phases_with_the_same_config_as_under_python_vitro(
    tmp_path: Path,
) -> None:
    theirs, ours = tmp_path / "theirs.jsonl", tmp_path / "ours.jsonl"
    reference = _python_vitro(*BED, "--acme-trace", str(theirs))
    assert reference.returncode == 0, reference.stderr[-2000:]
    run = _ours(*BED, "--acme-trace", str(ours))
    assert run.returncode == 0, run.stderr[-3000:]
    expected, got = _trace(theirs), _trace(ours)
    assert _phases(got) == _phases(expected)
    configs = {(e["hook"], e["device"]): e.get("config") for e in expected}
    assert {(e["hook"], e["device"]): e.get("config") for e in got} == configs
    board = next(e for e in got if e["hook"] == "vitro_device_boot")
    assert board["config"]["parsed_by"] == "acme", "the parse hook's config reached the hooks"
    assert [e["status"] for e in got if e["hook"] == "vitro_release_devices"] == ["success"]
    hooks = [hook for hook, _ in _phases(got)]
    assert "vitro_attached_device_boot_async" in hooks, "async twins ran, as Python Vitro runs them"
    assert "vitro_attached_device_boot" not in hooks


def test_skip_boot_runs_only_the_skip_boot_hooks_as_python_vitro_does(tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs.jsonl", tmp_path / "ours.jsonl"
    assert _python_vitro(*BED, "--skip-boot", "--acme-trace", str(theirs)).returncode == 0
    run = _ours(*BED, "--skip-boot", "--acme-trace", str(ours))
    assert run.returncode == 0, run.stderr[-3000:]
    assert _phases(_trace(ours)) == _phases(_trace(theirs))
    assert ("vitro_skip_boot", ["board", "wan"]) in _phases(_trace(ours))


def test_the_hosted_flags_are_vitro_flags_and_reach_the_hooks(tmp_path: Path) -> None:
    help_text = _ours("--help").stdout
    assert "--acme-firmware" in help_text and "firmware the board boots" in help_text
    assert "--acme-fast" in help_text
    trace = tmp_path / "trace.jsonl"
    script = (
        "from vitro_sdk.session import DeviceManager, Devices, Session\n"
        "from vitro_sdk.errors import DeviceError\n"
        "devices = Devices(DeviceManager(Session()).all())\n"
        "assert devices.board.sw.version() == '9.9', devices.board.sw.version()\n"
        "try:\n"
        "    devices.board.firmware_details()\n"
        "except DeviceError as e:\n"
        "    print('ERROR', e)\n"
    )
    run = _ours(
        "run", *BED, "--acme-trace", str(trace), "--acme-firmware", "9.9", "--acme-fast", "--",
        sys.executable, "-c", script,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    configured = next(e for e in _trace(trace) if e["hook"] == "vitro_configure")
    assert (configured["firmware"], configured["fast"], configured["board"]) == ("9.9", True, "acme")
    assert "firmware_details returned a acme_vitro.devices.Software" in run.stdout
    assert "only plain data" in run.stdout


def test_a_pytest_vitro_test_file_passes_unchanged_under_pytest_vitro_and_under_vitro() -> None:
    suite = str(FIXTURES / "suite" / "test_acme.py")
    pytest_args = ["-m", "pytest", "-p", "no:cacheprovider", "-q", suite]
    reference = subprocess.run(
        [str(REFERENCE), *pytest_args, *BED], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert reference.returncode == 0, reference.stdout[-3000:]
    assert "5 passed, 1 skipped" in reference.stdout
    run = _ours("run", *BED, "--", sys.executable, *pytest_args)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "5 passed, 1 skipped" in run.stdout


def _left_running(marker: str) -> list[str]:
    """Processes whose environment carries ``marker`` (ours only: the test sets it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if f"ACME_RUN={marker}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                found.append(proc.name)
        except OSError:
            continue
    return found


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("raise", "vitro_device_boot raised RuntimeError: the board caught fire"),
        ("exit", "exited with status 1"),
        ("hang", "did not finish within"),
    ],
)
def test_a_failing_hosted_plugin_is_named_and_every_booted_device_is_shut_down(
    tmp_path: Path, kind: str, named: str
) -> None:
    inventory = json.loads((FIXTURES / "inventory.json").read_text())
    inventory["acme"]["devices"].append(
        {"name": "flaky", "type": f"crashy_{kind}", "vitro_timeouts": {"device-boot": 3, "shutdown": 3}}
    )
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    trace, marker = tmp_path / "trace.jsonl", uuid.uuid4().hex
    bed = [*BED[:4], "--inventory-config", str(tmp_path / "inventory.json")]
    groups = [f"{HOST} --only acme-vitro", f"{HOST} --only crashy-vitro"]
    run = _ours(*bed, "--acme-trace", str(trace), plugins=groups, marker=marker)
    assert run.returncode == 1, run.stderr[-3000:]
    assert "deployment failed in device boot" in run.stderr
    assert "flaky (plugin pyvitro.crashy-vitro)" in run.stderr and named in run.stderr, run.stderr[-3000:]
    assert "crashy-vitro: vitro_release_devices is a hook wrapper" in run.stderr, "reported at start"
    ran = _phases(_trace(trace))
    assert ("vitro_device_boot", ["board"]) in ran, "the other plugin's device finished its boot"
    assert ("vitro_shutdown_device", ["board", "lan1", "lan2", "wan"]) in ran
    assert ran[-1] == ("vitro_release_devices", ["None"])
    assert [e["status"] for e in _trace(trace) if e["hook"] == "vitro_release_devices"] == ["failed"]
    # vitro's reaper, which outlives vitro by a moment by design, carries the marker too.
    deadline = time.monotonic() + 30
    while _left_running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _left_running(marker) == []


def test_a_device_finds_a_device_of_another_process_through_device_manager(tmp_path: Path) -> None:
    inventory = json.loads((FIXTURES / "inventory.json").read_text())
    inventory["acme"]["devices"].append({"name": "relay1", "type": "relay_client"})
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    bed = [*BED[:4], "--inventory-config", str(tmp_path / "inventory.json")]
    shared, split = tmp_path / "shared.jsonl", tmp_path / "split.jsonl"
    run = _ours(*bed, trace=shared)
    assert run.returncode == 0, run.stderr[-3000:]
    groups = [f"{HOST} --only acme-vitro", f"{HOST} --only relay-vitro"]
    run = _ours(*bed, plugins=groups, trace=split)
    assert run.returncode == 0, run.stderr[-3000:]
    in_one, across = ([e for e in _trace(t) if e["device"] == "relay1"] for t in (shared, split))
    assert across == in_one
    assert across[0]["server"] == "wan" and across[0]["is_server"] is True
    assert across[0]["ping"] == {"address": "10.0.0.9", "sent": 2, "received": 2}
    assert across[0]["all"] == ["board", "lan1", "lan2", "relay1", "wan"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jsonmerge, imported by Python Vitro's core
def test_the_copied_core_flags_are_python_vitros() -> None:
    import argparse

    from vitro.plugins import core
    from vitro_sdk.compat.loader import add_core_flags

    ours, theirs = argparse.ArgumentParser(add_help=False), argparse.ArgumentParser(add_help=False)
    add_core_flags(ours)
    core.vitro_add_cmdline_args(theirs)

    def shape(parser: argparse.ArgumentParser) -> list[tuple[Any, ...]]:
        return [(a.option_strings, a.dest, a.default, a.required, a.help, type(a)) for a in parser._actions]

    assert shape(ours) == shape(theirs)
    argv = ["--env-config", "e.json", "--board-name", "b", "--skip-boot", "--ignore-devices", "x,y"]
    assert ours.parse_args(argv) == theirs.parse_args(argv)


def test_an_async_hook_that_needs_a_device_of_another_process_is_told_to_merge_the_groups(
    tmp_path: Path,
) -> None:
    inventory = json.loads((FIXTURES / "inventory.json").read_text())
    inventory["acme"]["devices"].append({"name": "relay2", "type": "relay_async_client"})
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    bed = [*BED[:4], "--inventory-config", str(tmp_path / "inventory.json")]
    assert _ours(*bed).returncode == 0, "in one process the async hook calls the server directly"
    run = _ours(*bed, plugins=[f"{HOST} --only acme-vitro", f"{HOST} --only relay-vitro"])
    assert run.returncode == 1
    assert "relay2 (plugin pyvitro.relay-vitro)" in run.stderr, run.stderr[-3000:]
    assert "wan.ping: wan lives in another process (plugin pyvitro.acme-vitro)" in run.stderr
    assert "merge the two groups into one process" in run.stderr


def test_a_plugin_that_prints_at_import_time_cannot_speak_for_the_host() -> None:
    env = {**_env(), "PYTHONPATH": str(FIXTURES / "noisy")}
    listed = subprocess.run(
        [str(VITRO), "plugins", "list", "--no-path", "--plugin", str(HOST), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert listed.returncode == 0, listed.stderr
    (plugin,) = json.loads(listed.stdout)["plugins"]
    assert plugin["name"] == "pyvitro", plugin
    assert [t["type"] for t in plugin["device_types"]] == ["noisy"]
