"""The device under test."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .errors import UseCaseError

if TYPE_CHECKING:
    from ..templates import Cpe


def reboot_and_wait_for_wan(cpe: Cpe, timeout: float = 300, poll: float = 2) -> str:
    """Reboots ``cpe`` and waits, asking every ``poll`` seconds, until it has a WAN address
    again; returns that address. Fails when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    cpe.reboot(timeout=timeout)
    while True:
        address = cpe.get_wan_ipv4addr()
        if address is not None:
            return address
        if time.monotonic() >= deadline:
            raise UseCaseError(f"no WAN address within {timeout:g} s of the reboot")
        time.sleep(min(poll, max(deadline - time.monotonic(), 0)))
