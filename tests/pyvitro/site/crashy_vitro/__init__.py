"""Devices that fail at boot: one raises, one ends its process, one hangs."""

from __future__ import annotations

import os
import threading

from vitro.devices.base_devices import VitroDevice

from vitro import hookimpl


class Raising(VitroDevice):
    @hookimpl
    def vitro_device_boot(self) -> None:
        raise RuntimeError("the board caught fire")


class Exiting(VitroDevice):
    @hookimpl
    def vitro_device_boot(self) -> None:
        os._exit(1)


class Hanging(VitroDevice):
    @hookimpl
    def vitro_device_boot(self) -> None:
        threading.Event().wait()


@hookimpl
def vitro_add_devices() -> dict[str, type[VitroDevice]]:
    return {"crashy_raise": Raising, "crashy_exit": Exiting, "crashy_hang": Hanging}


@hookimpl(hookwrapper=True)
def vitro_release_devices() -> object:
    """A wrapper around a core hook: vitro reports at start that it does not run."""
    yield
