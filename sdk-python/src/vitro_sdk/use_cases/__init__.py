"""Operations written once against device templates (``vitro_sdk.templates``), so that they run
on any driver of any language that implements the templates: ping between hosts, fetch a page
from the WAN server, reboot a CPE and wait for its WAN address. Give them devices typed by their
template (``devices.by_template(Lan)``)."""

from __future__ import annotations

from .cpe import reboot_and_wait_for_wan
from .errors import UseCaseError
from .networking import fetch_from_wan, ping_between

__all__ = ["UseCaseError", "fetch_from_wan", "ping_between", "reboot_and_wait_for_wan"]
