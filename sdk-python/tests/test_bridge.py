"""The pytest bridge against the real ``vitro`` binary and real plugin processes: a Python driver
for a board behind a real serial line (a socat pseudo-terminal pair with a login shell) beside
the Python fixture plugin and the Rust one (a bed that mixes both SDKs), deployed by pytest itself
or attached to through ``vitro run``."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rig import REPO, built, serial_board

PLUGINS = {
    "serialboard": REPO / "examples" / "python-serial-board" / "vitro-plugin-serialboard",
    "pyhello": REPO / "examples" / "python-hello" / "vitro-plugin-pyhello",
}

#: The tests pytest runs against the bed (their order matters: the crash comes last but one).
BED_TESTS = """
import pytest
from vitro_sdk import DeviceError


def test_device_methods_run_in_the_driver(devices):
    assert devices.board.type == "serial_board"
    assert devices.board.config["model"] == "virt"
    assert devices.board.execute_command("echo $((20 + 22))") == "42"
    assert devices.board.get_kernel().startswith("Linux")


def test_configure_applied_the_environment_commands(devices, vitro_config):
    applied = vitro_config.get_device_config("board")["config_commands"][0].split("> ")[1]
    assert devices.board.execute_command(f"cat {applied}") == "configured"


def test_a_bed_mixes_rust_and_python_plugins(devices):
    assert devices.wan.plugin == "fixture" and devices.helper.plugin == "pyhello"
    assert devices.wan.echo(value=[1, "two"]) == {"value": [1, "two"]}
    found = devices.helper.lookup(role="server")
    assert [(d["name"], d["plugin"]) for d in found] == [("wan", "fixture")]


def test_devices_are_listed_and_document_their_methods(devices):
    import pydoc

    assert sorted(d.name for d in devices) == ["board", "helper", "wan"]
    assert len(devices) == 3 and devices["board"] is devices.board and "wan" in dir(devices)
    assert {"execute_command", "get_kernel"} <= set(dir(devices.board))
    assert "uname -sr" in devices.board.get_kernel.__doc__
    assert "execute_command" in pydoc.plain(pydoc.render_doc(devices.board))


def test_device_manager_finds_devices_by_name_type_and_role(device_manager):
    assert device_manager.get_device_by_name("board").role == "device"
    assert list(device_manager.get_devices_by_type("pyfixture")) == ["helper"]
    assert device_manager.get_device_by_type("serial_board").name == "board"
    assert sorted(device_manager.get_devices_by_role("device")) == ["board", "helper"]


@pytest.mark.env_req({"environment_def": {"board": {"model": ["virt", "other"]}}})
def test_a_matching_env_req_runs(vt_logger, vt_context):
    vt_logger.log_step("the environment matched")
    vt_context.seen = True


@pytest.mark.env_req({"environment_def": {"board": {"model": "something-else"}}})
def test_a_mismatching_env_req_is_skipped():
    raise AssertionError("must not run")


@pytest.mark.parametrize("word", ["one", "two"])
def test_selected_by_name(word):
    assert word


def test_a_plugin_that_crashes_mid_test_is_a_clear_error(devices):
    with pytest.raises(DeviceError) as crash:
        devices.helper.exit(7)
    assert crash.value.kind == "peer-gone", crash.value
    print("CRASH:", crash.value)


def test_the_other_devices_survive_the_crash(devices):
    assert devices.board.execute_command("echo still here") == "still here"
"""


@pytest.fixture
def bed(workdir: Path) -> Iterator[dict[str, str]]:
    """A serial board, inventory and environment files, and the plugins, under ``workdir``."""
    for name, source in PLUGINS.items():
        shutil.copy(source, workdir / f"vitro-plugin-{name}")
    shutil.copy(built("vitro-plugin-fixture"), workdir / "vitro-plugin-fixture")
    with serial_board(workdir) as tty:
        board = {
            "name": "board",
            "type": "serial_board",
            "connection_type": "serial",
            "port": str(tty),
            "password": "secret",
            "prompt": r"board# $",
            "boot_timeout": 20,
        }
        helper = {"name": "helper", "type": "pyfixture"}
        inventory = {"bench": {"devices": [board, helper, {"name": "wan", "type": "fixture_server"}]}}
        commands = [f"echo configured > {workdir / 'applied'}"]
        environment = {"environment_def": {"board": {"model": "virt", "config_commands": commands}}}
        (workdir / "inventory.json").write_text(json.dumps(inventory))
        (workdir / "environment.json").write_text(json.dumps(environment))
        plugins = " ".join(f"--plugin '{sys.executable} {workdir / f'vitro-plugin-{n}'}'" for n in PLUGINS)
        plugins += f" --plugin {workdir / 'vitro-plugin-fixture'}"
        yield {
            "inventory": str(workdir / "inventory.json"),
            "env": str(workdir / "environment.json"),
            "vitro": str(built("vitro")),
            "plugins": f"--no-path {plugins}",
            "logs": str(workdir / "logs"),
        }


def deploy_flags(bed: dict[str, str], board: str = "bench") -> list[str]:
    """The bridge's flags that make pytest deploy ``board`` of ``bed`` through vitro."""
    return [
        f"--board-name={board}",
        f"--env-config={bed['env']}",
        f"--inventory-config={bed['inventory']}",
        f"--vitro-bin={bed['vitro']}",
        f"--vitro-args={bed['plugins']}",
    ]


def leftovers(workdir: Path) -> list[str]:
    """Processes whose command line names ``workdir`` (vitro and the plugins copied there)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(workdir) in cmdline and "vitro" in cmdline and int(pid) != os.getpid():
            found.append(f"{pid}: {cmdline}")
    return found


def test_pytest_deploys_the_bed_runs_tests_and_releases_it(
    pytester: pytest.Pytester, bed: dict[str, str], workdir: Path
) -> None:
    pytester.makepyfile(test_bed=BED_TESTS)
    result = pytester.runpytest_subprocess(
        "-s", *deploy_flags(bed), f"--save-console-logs={bed['logs']}", timeout=180
    )
    result.assert_outcomes(passed=10, skipped=1)
    result.stdout.fnmatch_lines(["*test bed up in*"])
    result.stdout.fnmatch_lines(
        ["*CRASH: helper.exit: plugin pyhello exited with status 7*exits with 7 on purpose"]
    )
    log = Path(bed["logs"], "board_console.txt").read_text()
    assert "] board# echo $((20 + 22))" in log and "] 42" in log
    assert leftovers(workdir) == []


def test_test_names_select_as_pytest_vitro_does(pytester: pytest.Pytester, bed: dict[str, str]) -> None:
    pytester.makepyfile(test_bed=BED_TESTS)
    result = pytester.runpytest_subprocess(
        *deploy_flags(bed), "--test-names=selected-by-name a-matching-env-req-runs", timeout=180
    )
    result.assert_outcomes(passed=3, deselected=8)


def test_pytest_attaches_to_a_bed_vitro_holds_and_releases_nothing(
    pytester: pytest.Pytester, bed: dict[str, str], workdir: Path
) -> None:
    pytester.makepyfile(test_bed=BED_TESTS)
    command = [
        bed["vitro"],
        "run",
        "--board-name=bench",
        f"--env-config={bed['env']}",
        f"--inventory-config={bed['inventory']}",
        *shlex.split(bed["plugins"]),
        "--",
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-k",
        "not crashes and not survive",
        str(pytester.path / "test_bed.py"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=pytester.path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed, 1 skipped, 2 deselected" in run.stdout, run.stdout
    assert leftovers(workdir) == []


def test_a_bed_that_fails_to_deploy_is_a_usage_error_with_vitro_s_words(
    pytester: pytest.Pytester, bed: dict[str, str]
) -> None:
    pytester.makepyfile(test_bed=BED_TESTS)
    result = pytester.runpytest_subprocess(*deploy_flags(bed, "no-such-board"), timeout=120)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*vitro did not set up the test bed*", "*no-such-board*"])
