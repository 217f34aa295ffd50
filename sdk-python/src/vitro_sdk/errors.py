"""Errors a driver raises, and the protocol's error kinds with their JSON-RPC codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .messages.protocol import ErrorKind


#: Error kind -> JSON-RPC code (protocol/README.md).
CODES: dict[ErrorKind, int] = {
    "parse-error": -32700,
    "invalid-request": -32600,
    "method-not-found": -32601,
    "invalid-params": -32602,
    "internal": -32603,
    "device-error": -32000,
    "timeout": -32001,
    "peer-gone": -32002,
    "invalid-state": -32003,
    "version-mismatch": -32004,
    "message-too-large": -32005,
    "unknown-device": -32006,
    "unknown-device-type": -32007,
    "panic": -32008,
    "released": -32009,
    "cancelled": -32800,
}


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
