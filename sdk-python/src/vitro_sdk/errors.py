"""Errors a driver raises, and the protocol's error kinds with their JSON-RPC codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from .messages import names

if TYPE_CHECKING:
    from .messages.protocol import ErrorKind


#: Error kind -> JSON-RPC code (generated from the protocol's own list).
CODES: dict[ErrorKind, int] = cast("dict[ErrorKind, int]", names.ERROR_CODES)


class DeviceError(Exception):
    """A hook or device method failed; sent to the host as an error of ``kind``."""

    def __init__(
        self,
        message: str,
        kind: ErrorKind = "device-error",
        causes: list[str] | None = None,
        details: Any = None,  # noqa: ANN401
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind
        self.causes = causes or []
        #: Kind-specific facts sent as ``data.details`` (``version-mismatch``: both sides' versions).
        self.details = details

    def __str__(self) -> str:
        return ": ".join([self.message, *self.causes])


class ConsoleError(DeviceError):
    """A console could not connect, timed out waiting for output, or was closed."""
