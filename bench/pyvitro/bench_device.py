"""A Python Vitro 0.8 plugin for scripts/bench-deploy: a device type whose validate, boot and
configure hooks each wait BENCH_HOOK_MS milliseconds (plain hooks, as most drivers have them).
scripts/bench-deploy installs it as several distributions (bench-0, bench-1...) through
PYTHONPATH, each adding its own type, so that vitro can host each in a process of its own."""

from __future__ import annotations

import os
import time

from vitro.devices.base_devices import VitroDevice

from vitro import hookimpl

DELAY = int(os.environ.get("BENCH_HOOK_MS", "0")) / 1000


def _wait() -> None:
    if DELAY:
        time.sleep(DELAY)


class BenchDevice(VitroDevice):
    @hookimpl
    def validate_device_requirements(self) -> None:
        _wait()

    @hookimpl
    def vitro_device_boot(self) -> None:
        _wait()

    @hookimpl
    def vitro_device_configure(self) -> None:
        _wait()


def plugin_for(type_name: str) -> object:
    """A plugin module object adding ``type_name``."""

    class Plugin:
        @staticmethod
        @hookimpl
        def vitro_add_devices() -> dict[str, type[VitroDevice]]:
            return {type_name: BenchDevice}

    return Plugin
