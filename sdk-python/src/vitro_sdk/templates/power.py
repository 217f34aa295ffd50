"""Generated from protocol/templates/power.v1.json by sdk-python/tools/gen_templates.py; do not edit."""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol


class Power(Protocol):
    """A switchable power outlet feeding a device (Boardfarm 3's `PDU`). (template ``power@1``)"""

    TEMPLATE: ClassVar[str] = "power@1"
    EXTENDS: ClassVar[str | None] = None
    #: Each method's parameter names, in order.
    PARAMS: ClassVar[dict[str, list[str]]] = {
        "get_power_state": [],
        "power_cycle": ["off_seconds"],
        "power_off": [],
        "power_on": [],
    }

    def get_power_state(self) -> Literal["on", "off"]:
        """Whether the outlet is on or off now. (optional)"""
        ...

    def power_cycle(self, off_seconds: float = 2) -> bool:
        """Switches the outlet off and on again; true when it is on afterwards."""
        ...

    def power_off(self) -> bool:
        """Switches the outlet off; true when it is off afterwards."""
        ...

    def power_on(self) -> bool:
        """Switches the outlet on; true when it is on afterwards."""
        ...
