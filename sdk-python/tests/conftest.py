"""Fixtures shared by the SDK's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rig import Sshd

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """A real sshd on a loopback port."""
    with Sshd(tmp_path_factory.mktemp("sshd")).running() as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh directory for the test's files."""
    return tmp_path
