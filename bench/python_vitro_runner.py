"""Runs Python Vitro 0.8.1 with an in-process device plugin of the same behaviour as the
fixture plugin that the Rust side uses: a device type whose validate, boot and configure hooks
each wait BENCH_HOOK_MS milliseconds (async variants where Python Vitro has them).

Used by scripts/bench-deploy; Python Vitro's interactive table after setup is skipped.
"""

import asyncio
import os
import sys
import time

import vitro.plugins.setup_environment as setup_environment
from vitro import hookimpl
from vitro.devices.base_devices.vitro_device import VitroDevice
from vitro.main import get_plugin_manager, main

DELAY = int(os.environ.get("BENCH_HOOK_MS", "0")) / 1000


def wait() -> None:
    if DELAY:
        time.sleep(DELAY)


async def wait_async() -> None:
    if DELAY:
        await asyncio.sleep(DELAY)


class BenchDevice(VitroDevice):
    """A device whose hooks only wait."""

    @hookimpl
    def validate_device_requirements(self, config, cmdline_args, device_manager) -> None:  # noqa: ANN001
        wait()

    @hookimpl
    async def validate_device_requirements_async(self, config, cmdline_args, device_manager) -> None:  # noqa: ANN001
        await wait_async()

    @hookimpl
    def vitro_device_boot(self, config, cmdline_args, device_manager) -> None:  # noqa: ANN001
        wait()

    @hookimpl
    def vitro_device_configure(self, config, cmdline_args, device_manager) -> None:  # noqa: ANN001
        wait()

    @hookimpl
    async def vitro_device_configure_async(self, config, cmdline_args, device_manager) -> None:  # noqa: ANN001
        await wait_async()


class BenchPlugin:
    @hookimpl
    def vitro_add_devices(self) -> dict[str, type[VitroDevice]]:
        return {"bench_device": BenchDevice}


class _NoTable:
    def show_table(self, *_args: object) -> None:
        return None


setup_environment.get_interactive_console_options = lambda *_args: _NoTable()
get_plugin_manager().register(BenchPlugin())
sys.argv = ["vitro", *sys.argv[1:]]
main()
