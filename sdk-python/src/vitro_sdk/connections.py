"""Device consoles for Python drivers, on pexpect, with Python Vitro's names and verbs.

:func:`connect` builds a :class:`Connection` from a device's config entry, by ``connection_type``
(the keys are the Rust SDK's, so one inventory serves drivers in both languages):

- ``local_cmd``: ``conn_cmd`` run by ``/bin/sh -c`` in a 200x50 pseudo-terminal;
- ``serial``: ``port`` (a tty device) at ``baud`` (default 115200), 8N1, raw;
- ``ser2net``: a raw TCP console at ``ipaddr``:``port``;
- ``telnet``: the ``telnet`` client to ``ipaddr``:``port``;
- ``ssh_connection``, ``authenticated_ssh``: the OpenSSH client to ``username``@``ipaddr``:``port``
  with ``password`` and/or ``key``; ``host_key_check`` is ``off`` (Python Vitro's behaviour: no
  host-key checking) or ``known-hosts`` (checked against ``known_hosts``, default
  ``~/.ssh/known_hosts``).

``prompt`` is the shell prompt, a regex or a list of them (default ``[#$>] ?$``; ``^``/``$`` match
at line ends). Every byte read goes to the console log (``--save-console-logs``) and to viewers
attached through ``vitro`` (see :meth:`vitro_sdk.Device.add_console`).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import termios
import tty
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pexpect
import pexpect.fdpexpect

from ._connection import DETACH, KEEP, Connection, Pattern, command_output
from .console_log import ConsoleLog, clean_text, log_path
from .errors import ConsoleError

__all__ = [
    "DEFAULT_PROMPT",
    "DETACH",
    "KEEP",
    "SUPPORTED",
    "Connection",
    "Pattern",
    "command_output",
    "connect",
    "prompts",
]

#: The ``connection_type`` values :func:`connect` supports.
SUPPORTED = ("local_cmd", "serial", "ser2net", "telnet", "ssh_connection", "authenticated_ssh")
DEFAULT_PROMPT = r"[#$>] ?$"


def prompts(config: Mapping[str, Any]) -> list[str]:
    """The shell prompt regexes of a device's config: ``prompt``, one or a list; ``DEFAULT_PROMPT``
    when there is none. Each is matched line by line (``re.MULTILINE``), as in the Rust SDK."""
    raw = config.get("prompt")
    if raw is None:
        return [DEFAULT_PROMPT]
    return [raw] if isinstance(raw, str) else [str(p) for p in raw]


def connect(
    config: Mapping[str, Any],
    *,
    log_dir: str | Path | None = None,
    console: str = "console",
    timeout: float = 30,
) -> Connection:
    """Connects to the console ``config`` describes (see the module's documentation); ``log_dir`` is
    the device's ``console_log_dir`` (``--save-console-logs``)."""
    device = str(config.get("name", "device"))
    kind = str(config.get("connection_type", ""))
    prompt = prompts(config)
    log = ConsoleLog(log_path(log_dir, device, console)) if log_dir else None
    name = f"{device}.{console}"
    # 64 KiB reads: pexpect searches its whole buffer after each read, so its default 2,000-byte
    # reads make a large output quadratic (3 MB took 30 s).
    spawn_options: dict[str, Any] = {
        "encoding": "utf-8",
        "codec_errors": "ignore",
        "timeout": timeout,
        "maxread": 65536,
    }
    try:
        if kind == "local_cmd":
            command = config.get("conn_cmd")
            if not command:
                raise ConsoleError(f"{device}: local_cmd needs `conn_cmd`")
            child = _spawn(["/bin/sh", "-c", str(command)], spawn_options)
            return Connection(name, child, prompt, str(config.get("linesep", "\n")), log)
        if kind == "serial":
            return _serial(name, config, prompt, log, spawn_options)
        if kind == "ser2net":
            host, port = str(config.get("ipaddr", "127.0.0.1")), _port(config, device, kind)
            try:
                sock = socket.create_connection((host, port), timeout=timeout)
            except OSError as e:
                raise ConsoleError(f"{device}: cannot connect to {host}:{port}: {e}") from e
            sock.setblocking(True)
            # The console owns the descriptor from here on and closes it.
            fd_child = pexpect.fdpexpect.fdspawn(sock.detach(), **spawn_options)
            return Connection(name, fd_child, prompt, str(config.get("linesep", "\n")), log)
        if kind == "telnet":
            host, port = str(config.get("ipaddr", "127.0.0.1")), _port(config, device, kind)
            child = _spawn(["telnet", host, str(port)], spawn_options)
            connection = Connection(name, child, prompt, str(config.get("linesep", "\n")), log)
            _opened(connection, "Escape character is", f"telnet {host} {port}", timeout)
            return connection
        if kind in ("ssh_connection", "authenticated_ssh"):
            return _ssh(name, config, prompt, log, spawn_options, timeout)
    except BaseException:
        if log is not None:
            log.close()
        raise
    if log is not None:
        log.close()
    raise ConsoleError(f"{device}: unknown connection_type {kind!r}; supported: {', '.join(SUPPORTED)}")


def _port(config: Mapping[str, Any], device: str, kind: str, default: int | None = None) -> int:
    """The TCP port of ``config`` (a number or a string of digits); outside 1-65535 is an error,
    never a truncated port."""
    port = config.get("port")
    if port is None and default is not None:
        return default
    if isinstance(port, str) and port.strip().isdigit():
        port = int(port)
    if not isinstance(port, int) or isinstance(port, bool):
        raise ConsoleError(f"{device}: {kind} needs a numeric `port`")
    if not 1 <= port <= 65535:
        raise ConsoleError(f"{device}: `port` {port} is not a TCP port (1-65535)")
    return port


def _default_signals() -> None:
    """In a console's process: Ctrl-C and friends act as on a terminal, even when the driver was
    started with them ignored (a background job inherits SIGINT ignored)."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_DFL)


def _spawn(argv: list[str], options: dict[str, Any]) -> pexpect.spawn[str]:
    env = dict(os.environ, TERM="dumb")
    try:
        return pexpect.spawn(
            argv[0], argv[1:], dimensions=(50, 200), env=env, preexec_fn=_default_signals, **options
        )
    except pexpect.ExceptionPexpect as e:
        raise ConsoleError(f"cannot run {shlex.join(argv)}: {e}") from e


def _opened(connection: Connection, banner: str, what: str, timeout: float) -> None:
    """Waits for the client's banner; a client that exits first failed to connect."""
    child = connection.child
    if child.expect_exact([banner, pexpect.EOF, pexpect.TIMEOUT], timeout=timeout) != 0:
        said = " ".join(clean_text(connection.before)).strip() or "no output"
        connection.close()
        raise ConsoleError(f"{connection.name}: `{what}` did not connect: {said}")


BAUDS = {rate: getattr(termios, f"B{rate}") for rate in (9600, 19200, 38400, 57600, 115200, 230400, 460800)}


def _serial(
    name: str, config: Mapping[str, Any], prompt: list[str], log: ConsoleLog | None, options: dict[str, Any]
) -> Connection:
    port = config.get("port") or config.get("serial_port")
    if not isinstance(port, str):
        raise ConsoleError(f"{name}: serial needs `port`, the tty device")
    baud = int(config.get("baud", 115200))
    if baud not in BAUDS:
        raise ConsoleError(f"{name}: baud {baud} is not one of {', '.join(map(str, BAUDS))}")
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    except OSError as e:
        raise ConsoleError(f"{name}: cannot open {port}: {e}") from e
    # Raw 8N1 at the baud rate, applied at once: a flush would drop output already waiting.
    tty.setraw(fd, termios.TCSANOW)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = BAUDS[baud]
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    child = pexpect.fdpexpect.fdspawn(fd, **options)
    return Connection(name, child, prompt, str(config.get("linesep", "\n")), log)


def _ssh(
    name: str,
    config: Mapping[str, Any],
    prompt: list[str],
    log: ConsoleLog | None,
    options: dict[str, Any],
    timeout: float,
) -> Connection:
    host = str(config.get("ipaddr", "127.0.0.1"))
    port = _port(config, name, "ssh", 22)
    user = str(config.get("username", "root"))
    password = config.get("password")
    argv = ["ssh", "-p", str(port), "-o", "ServerAliveInterval=60", "-o", "ServerAliveCountMax=10", "-tt"]
    check = str(config.get("host_key_check", "off"))
    if check == "off":
        argv += [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ]
    elif check == "known-hosts":
        known = config.get("known_hosts") or str(Path.home() / ".ssh" / "known_hosts")
        argv += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}"]
    else:
        raise ConsoleError(f'{name}: host_key_check {check!r} is neither "off" nor "known-hosts"')
    key = config.get("key") or config.get("private_key")
    if key:
        argv += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
    if not password:
        argv += ["-o", "BatchMode=yes"]
    argv.append(f"{user}@{host}")
    child = _spawn(argv, options)
    connection = Connection(name, child, prompt, str(config.get("linesep", "\n")), log)
    target = f"{user}@{host}:{port}"
    try:
        asked = connection.expect(
            [re.compile("(?i)password:"), *connection.prompt, pexpect.EOF, pexpect.TIMEOUT], timeout
        )
        if asked == 0:
            if not password:
                raise ConsoleError(f"{name}: {target} asks for a password and the config has none")
            connection.sendline(str(password))
            again = connection.expect(
                [re.compile("(?i)password:"), *connection.prompt, pexpect.EOF, pexpect.TIMEOUT], timeout
            )
            if again == 0:
                raise ConsoleError(f"{name}: {target} refused the password (wrong password?)")
            asked = again
        if asked == len(connection.prompt) + 1:
            said = " ".join(clean_text(connection.before)).strip() or "no output"
            raise ConsoleError(f"{name}: ssh to {target} failed: {said}")
        if asked == len(connection.prompt) + 2:
            raise ConsoleError(f"{name}: no shell prompt from {target} within {timeout} s", "timeout")
    except BaseException:
        connection.close()
        raise
    return connection
