"""The pytest bridge (registered through the ``pytest11`` entry point): pytest-vitro 0.5's flags,
fixtures, ``env_req`` marker and ``--test-names``, with the devices in ``vitro``'s plugin processes.

Two ways in:

- ``--board-name/--env-config/--inventory-config`` (and ``--skip-boot``, ``--save-console-logs``,
  ``--ignore-devices``...): pytest deploys the bed itself by running ``vitro --hold`` and releases
  it when the tests are done;
- ``VITRO_SESSION`` in the environment (``vitro run -- pytest ...``, or ``vitro --hold`` in another
  terminal): pytest attaches to that bed and releases nothing.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from typing import Any

import pytest

from .errors import DeviceError
from .session import SESSION_ENV, DeviceManager, Devices, Session, VitroConfig

_BED_KEY = pytest.StashKey["_Bed"]()
#: What ``vitro --hold`` prints on stderr once the bed is up.
_HOLDING = re.compile(rf"{SESSION_ENV}=(\S+)")


def pytest_addoption(parser: pytest.Parser) -> None:
    """pytest-vitro's flags, plus where ``vitro`` is."""
    group = parser.getgroup("vitro", "Vitro test bed")
    group.addoption("--board-name", help="deploy this board (its key in the inventory) through vitro")
    group.addoption("--env-config", help="environment JSON (path or URL)")
    group.addoption("--inventory-config", help="inventory JSON (path or URL)")
    group.addoption("--skip-boot", action="store_true", help="use the devices as they are")
    group.addoption("--skip-contingency-checks", action="store_true", help="skip contingency checks")
    group.addoption("--save-console-logs", metavar="DIR", help="save console logs in DIR")
    group.addoption("--ignore-devices", default="", metavar="NAMES", help="comma-separated devices to ignore")
    group.addoption("--test-names", default=None, help="test names for which the execution will be performed")
    group.addoption(
        "--vitro-bin",
        default=os.environ.get("VITRO_BIN", "vitro"),
        help="the vitro executable (default: $VITRO_BIN or vitro on PATH)",
    )
    group.addoption("--vitro-args", default="", help="more vitro flags, e.g. plugin flags or --plugin CMD")
    group.addoption(
        "--vitro-deploy-timeout", type=float, default=1800.0, help="seconds the deployment may take"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declares the ``env_req`` marker."""
    config.addinivalue_line(
        "markers",
        "env_req(env_req: dict): run the test only where the environment matches (pytest-vitro's "
        'rules); e.g. @pytest.mark.env_req({"environment_def": {"board": {"model": ["x"]}}})',
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--test-names "a b-c"`` keeps ``test_a``, ``test_b_c``, their parametrizations, and
    ids with ``b-c-`` (pytest-vitro's selection)."""
    test_names = config.getoption("--test-names")
    if not test_names:
        return
    selected, deselected = [], []
    for item in items:
        for test in test_names.split(" "):
            name = f"test_{test.replace('-', '_')}"
            if name == item.name or f"{name}[" in item.name or f"{test}-" in item.name:
                selected.append(item)
                break
        else:
            deselected.append(item)
    items[:] = selected
    if deselected:
        config.hook.pytest_deselected(items=deselected)


class _Bed:
    """The test bed the tests run against: deployed by us (and released by us) or attached to."""

    def __init__(self, session: Session, process: subprocess.Popen[str] | None) -> None:
        self.session = session
        self.process = process
        self._device_manager: DeviceManager | None = None
        self._config: VitroConfig | None = None

    @property
    def device_manager(self) -> DeviceManager:
        if self._device_manager is None:
            self._device_manager = DeviceManager(self.session)
        return self._device_manager

    @property
    def config(self) -> VitroConfig:
        if self._config is None:
            self._config = VitroConfig(self.session)
        return self._config

    @classmethod
    def deploy(cls, config: pytest.Config) -> _Bed:
        option = config.option
        argv = [option.vitro_bin, "--hold", "--board-name", option.board_name]
        for flag, value in (
            ("--env-config", option.env_config),
            ("--inventory-config", option.inventory_config),
            ("--save-console-logs", option.save_console_logs),
        ):
            if value:
                argv += [flag, value]
        if option.ignore_devices:
            argv += ["--ignore-devices", option.ignore_devices]
        if option.skip_boot:
            argv.append("--skip-boot")
        argv += shlex.split(option.vitro_args)
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as e:
            raise pytest.UsageError(
                f"cannot run {argv[0]}: {e} (give --vitro-bin or put vitro on PATH)"
            ) from e
        found: list[str] = []
        tail: list[str] = []
        ready = threading.Event()

        def relay() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                sys.stderr.write(f"[vitro] {line}")
                tail.append(line.rstrip())
                del tail[:-20]
                if not found and (match := _HOLDING.search(line)):
                    found.append(match.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=relay, daemon=True, name="vitro-stderr").start()
        if not ready.wait(option.vitro_deploy_timeout) or not found:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                _wait(process, 120)
            last = "\n  ".join(tail[-10:]) or "(no output)"
            raise pytest.UsageError(
                f"vitro did not set up the test bed (exit status {process.returncode}); "
                f"its last words:\n  {last}"
            )
        return cls(Session(found[0]), process)

    def release(self) -> str | None:
        """Releases a bed we deployed (waiting for vitro to finish) or detaches; returns a problem."""
        if self.process is None:
            self.session.close()
            return None
        try:
            self.session.release()
        except DeviceError as e:
            self.process.send_signal(signal.SIGINT)
            return f"the release request failed ({e}); vitro was interrupted instead"
        finally:
            self.session.close()
        status = _wait(self.process, 600)
        return None if status == 0 else f"vitro exited with status {status} after the release"


def _die_with_parent() -> None:
    """Makes the kernel send SIGTERM to ``vitro`` if pytest dies first (Linux)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _wait(process: subprocess.Popen[str], timeout: float) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None]:
    """Deploys or attaches before the first test and releases after the last."""
    config = session.config
    bed: _Bed | None = None
    wants_bed = session.items and not config.option.collectonly
    if wants_bed and config.option.board_name:
        started = time.monotonic()
        bed = _Bed.deploy(config)
        _say(config, f"vitro: test bed up in {time.monotonic() - started:.1f} s")
    elif wants_bed and os.environ.get(SESSION_ENV):
        bed = _Bed(Session(), None)
    if bed is not None:
        config.stash[_BED_KEY] = bed
    try:
        yield
    finally:
        if bed is not None:
            problem = bed.release()
            if problem:
                _say(config, f"vitro: {problem}")


def _say(config: pytest.Config, text: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(text)


def _bed(config: pytest.Config) -> _Bed:
    bed = config.stash.get(_BED_KEY, None)
    if bed is None:
        raise DeviceError(
            "no test bed: give --board-name/--env-config/--inventory-config, or run pytest under "
            f"`vitro run -- pytest ...` ({SESSION_ENV})",
            "unknown-device",
        )
    return bed


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """``env_req``: skip on mismatch, otherwise run the devices' contingency checks."""
    marker = item.get_closest_marker("env_req")
    if marker is None or not marker.args:
        return
    bed = _bed(item.config)
    if not bed.session.env_req_matches(marker.args[0]):
        pytest.skip("Environment mismatch. Skipping")
    if not item.config.option.skip_contingency_checks:
        bed.session.contingency_check(marker.args[0])


class ContextStorage:
    """Storage for data a test's steps share (``vt_context``)."""


class TestLogger:
    """Logs test steps (``vt_logger``)."""

    __test__ = False

    def __init__(self) -> None:
        self._logger = logging.getLogger("test-logger")

    def log_step(self, message: str) -> None:
        """Logs ``message`` as a step of the running test."""
        current = os.environ.get("PYTEST_CURRENT_TEST")
        if current is None:
            raise RuntimeError("PYTEST_CURRENT_TEST environment variable is not set.")
        test_name = current.split(" (setup)")[0].split("::")[1].replace(" ", "_")
        self._logger.info("[*****LOGGING-STEP*****][%s][%s]", test_name, message)


@pytest.fixture
def vt_context() -> ContextStorage:
    """A fresh context storage per test."""
    return ContextStorage()


@pytest.fixture(scope="session", autouse=True)
def vt_logger() -> TestLogger:
    """The test-step logger."""
    return TestLogger()


@pytest.fixture(scope="session")
def vitro_config(pytestconfig: pytest.Config) -> VitroConfig:
    """The bed's environment, inventory and merged device configs."""
    return _bed(pytestconfig).config


@pytest.fixture(scope="session")
def device_manager(pytestconfig: pytest.Config) -> DeviceManager:
    """Finds the bed's devices by name, type and role."""
    return _bed(pytestconfig).device_manager


@pytest.fixture(scope="session")
def devices(device_manager: DeviceManager) -> Any:  # noqa: ANN401
    """Every device as an attribute: ``devices.board.execute_command("uname -a")``; also
    iterable (``for device in devices``) and indexable by name."""
    return Devices(device_manager.all())
