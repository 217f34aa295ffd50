"""Generated from protocol/schema/methods.json and session.schema.json by
sdk-python/tools/gen_messages.py; do not edit."""

from __future__ import annotations

#: The protocol version this SDK speaks, (major, minor).
PROTOCOL_VERSION: tuple[int, int] = (1, 3)

#: Error kind -> JSON-RPC code.
ERROR_CODES: dict[str, int] = {
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

#: Hooks, capabilities and log levels, in the protocol's order.
HOOKS: tuple[str, ...] = (
    "validate",
    "boot",
    "configure",
    "server-boot",
    "server-configure",
    "device-boot",
    "device-configure",
    "attached-boot",
    "attached-configure",
    "skip-boot",
    "contingency-check",
    "shutdown",
)
#: Hooks newer than 1.0 -> the version they came with: declaring one needs that host.
HOOKS_SINCE: dict[str, tuple[int, int]] = {
    "server-boot": (1, 1),
    "server-configure": (1, 1),
    "device-boot": (1, 1),
    "device-configure": (1, 1),
    "attached-boot": (1, 1),
    "attached-configure": (1, 1),
}
LOG_LEVELS: tuple[str, ...] = ("trace", "debug", "info", "warn", "error")
#: Capability -> the plugin-level method it answers.
CAPABILITY_METHODS: dict[str, str] = {
    "reservation": "plugin/reserve",
    "config-parsing": "plugin/parseConfig",
    "env-setup": "plugin/setupEnv",
    "post-setup": "plugin/postSetup",
    "release": "plugin/release",
    "configure": "plugin/configure",
}

# Environment variables.
ENV_PLUGIN = "VITRO_PLUGIN"
ENV_PROTOCOL = "VITRO_PROTOCOL"
ENV_HOST_VERSION = "VITRO_HOST_VERSION"
ENV_PLUGIN_NAME = "VITRO_PLUGIN_NAME"
ENV_SESSION = "VITRO_SESSION"
ENV_BOARD = "VITRO_BOARD"

# Plugin protocol methods.
INITIALIZE = "initialize"
SHUTDOWN = "shutdown"
PING = "$/ping"
DEVICE_CREATE = "device/create"
DEVICE_HOOK = "device/hook"
DEVICE_CALL = "device/call"
PLUGIN_CONFIGURE = "plugin/configure"
PLUGIN_RESERVE = "plugin/reserve"
PLUGIN_PARSE_CONFIG = "plugin/parseConfig"
PLUGIN_SETUP_ENV = "plugin/setupEnv"
PLUGIN_POST_SETUP = "plugin/postSetup"
PLUGIN_RELEASE = "plugin/release"
HOST_DEVICES = "host/devices"
HOST_CONFIG = "host/config"
HOST_CALL = "host/call"
DEVICE_CONSOLES = "device/consoles"
CONSOLE_OPEN = "console/open"
CONSOLE_CLOSE = "console/close"
CONSOLE_WRITE = "console/write"
CONSOLE_MARKER = "console/marker"
INITIALIZED = "initialized"
EXIT = "exit"
CANCEL_REQUEST = "$/cancelRequest"
LOG = "$/log"
PROGRESS = "$/progress"
CONSOLE_OUTPUT = "$/console/output"
CONSOLE_CLOSED = "$/console/closed"

# Live session methods.
SESSION_DEVICES = "session/devices"
SESSION_CONFIG = "session/config"
SESSION_CALL = "session/call"
SESSION_RELEASE = "session/release"
SESSION_CONSOLES = "session/consoles"
SESSION_CONSOLE_OPEN = "session/console/open"
SESSION_CONSOLE_WRITE = "session/console/write"
SESSION_MARKER = "session/marker"
SESSION_ENV_REQ = "session/envReq"
SESSION_CONTINGENCY_CHECK = "session/contingencyCheck"
SESSION_CHECK_TEMPLATES = "session/checkTemplates"
