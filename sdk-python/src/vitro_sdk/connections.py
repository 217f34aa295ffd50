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
import select
import shlex
import signal
import socket
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pexpect
import pexpect.fdpexpect

from .console_log import ConsoleLog, clean_text, log_path
from .errors import ConsoleError

#: The ``connection_type`` values :func:`connect` supports.
SUPPORTED = ("local_cmd", "serial", "ser2net", "telnet", "ssh_connection", "authenticated_ssh")
DEFAULT_PROMPT = r"[#$>] ?$"
#: Characters of unread output kept for the next ``expect`` while nobody expects.
KEEP = 1 << 20
#: Ctrl-], which ends :meth:`Connection.interact`.
DETACH = b"\x1d"

Pattern = str | re.Pattern[str] | type[pexpect.EOF] | type[pexpect.TIMEOUT]


class _Tee:
    """pexpect's ``logfile_read``: hands every piece of output to the log and the listeners."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def write(self, text: str) -> None:
        self.connection._output(text.encode())

    def flush(self) -> None:
        pass


class Connection:
    """One console: send, expect, run commands, log in, hand over to a person.

    Methods are safe to call from several threads; one runs at a time.
    """

    def __init__(
        self,
        name: str,
        child: pexpect.spawnbase.SpawnBase[str],
        prompt: Sequence[str],
        linesep: str = "\n",
        log: ConsoleLog | None = None,
    ) -> None:
        self.name = name
        self.child = child
        self.prompt = [re.compile(p, re.MULTILINE) for p in prompt]
        self.linesep = linesep
        self.log = log
        self._lock = threading.RLock()
        self._listeners: list[Callable[[bytes | None], None]] = []
        self._pump: threading.Thread | None = None
        self._closed = False
        child.logfile_read = _Tee(self)

    # -- what was read --
    @property
    def before(self) -> str:
        """Text before the last match."""
        before = self.child.before
        return before if isinstance(before, str) else ""

    @property
    def after(self) -> str:
        """The last match."""
        after = self.child.after
        return after if isinstance(after, str) else ""

    @property
    def match(self) -> re.Match[str] | None:
        """The last regex match object."""
        found = self.child.match
        return found if isinstance(found, re.Match) else None

    def get_last_output(self) -> str:
        """What came before the last match, stripped."""
        return self.before.strip()

    # -- writing --
    def send(self, text: str) -> None:
        """Writes ``text`` as it is."""
        self.write(text.encode())

    def sendline(self, line: str = "") -> None:
        """Writes ``line`` and the line separator."""
        self.send(line + self.linesep)

    def sendcontrol(self, key: str) -> None:
        """Sends Ctrl-``key``, e.g. ``sendcontrol("c")``."""
        self.write(bytes([ord(key.lower()) & 0x1F]))

    def write(self, data: bytes) -> None:
        """Writes raw bytes (what a person at the console types)."""
        fd = self.child.child_fd
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            raise ConsoleError(f"{self.name}: cannot write to the console: {e}") from e

    # -- reading --
    def expect(self, patterns: Pattern | Sequence[Pattern], timeout: float = -1) -> int:
        """Waits for the first of ``patterns`` (regexes, or ``pexpect.EOF``/``pexpect.TIMEOUT`` to
        get their index instead of an error); returns the index of the one that matched."""
        given: list[Pattern] = [patterns] if isinstance(patterns, str | re.Pattern | type) else list(patterns)
        compiled: list[Any] = [re.compile(p, re.MULTILINE) if isinstance(p, str) else p for p in given]
        return self._wait(given, timeout, lambda: self.child.expect(compiled, timeout=timeout))

    def expect_exact(self, texts: str | Sequence[str], timeout: float = -1) -> int:
        """Like :meth:`expect` for literal strings."""
        given = [texts] if isinstance(texts, str) else list(texts)
        return self._wait(given, timeout, lambda: self.child.expect_exact(given, timeout=timeout))

    def _wait(self, given: Sequence[Any], timeout: float, search: Callable[[], int]) -> int:
        """Runs one pexpect search, turning its TIMEOUT and EOF into ``ConsoleError``s."""
        with self._lock:
            try:
                return int(search())
            except pexpect.TIMEOUT:
                raise self._timeout(given, timeout) from None
            except pexpect.EOF:
                raise ConsoleError(f"{self.name}: the console closed while waiting for {given!r}") from None

    def discard_unread(self) -> None:
        """Drops the output read so far (and waiting to be read) that no ``expect`` consumed."""
        with self._lock:
            while self._read_some(0):
                pass
            self.child.buffer = ""

    def expect_prompt(self, timeout: float = -1) -> int:
        """Waits for the shell prompt."""
        return self.expect(self.prompt, timeout)

    def _timeout(self, patterns: Sequence[Any], timeout: float) -> ConsoleError:
        waited = self.child.timeout if timeout == -1 else timeout
        tail = clean_text(self.before)[-3:]
        return ConsoleError(
            f"{self.name}: none of {patterns!r} came within {waited} s; last output: {tail!r}", "timeout"
        )

    # -- commands --
    def execute_command(self, command: str, timeout: float = -1) -> str:
        """Runs ``command`` at the prompt; returns its output without the echoed command, the
        prompt, escape sequences and carriage returns. Output that came while no ``expect`` ran (a
        person typing at an attached console, a late prompt) is discarded first, so an old prompt
        cannot end the command early; the console log has it."""
        with self._lock:
            self.discard_unread()
            self.sendline(command)
            self.expect_prompt(timeout)
            return command_output(self.before, command)

    def check_output(self, command: str, timeout: float = 30) -> str:
        """Like :meth:`execute_command`; when the prompt does not come back in time it sends Ctrl-C,
        waits up to 5 s for the prompt and fails naming the command."""
        with self._lock:
            try:
                return self.execute_command(command, timeout)
            except ConsoleError as e:
                if e.kind != "timeout":
                    raise
                self.sendcontrol("c")
                try:
                    self.expect_prompt(5)
                    recovered = "the prompt came back after Ctrl-C"
                except ConsoleError:
                    recovered = "the prompt did not come back after Ctrl-C either"
                raise ConsoleError(
                    f"{self.name}: `{command}` did not finish within {timeout} s ({recovered})", "timeout"
                ) from e

    def login_to_server(self, password: str | None = None, timeout: float = 30) -> None:
        """Answers a password prompt, if one comes (with ``password``), and waits for the prompt."""
        with self._lock:
            if self.expect([re.compile("(?i)password:"), *self.prompt], timeout) == 0:
                if password is None:
                    raise ConsoleError(f"{self.name}: asks for a password and none was given")
                self.sendline(password)
                self.expect_prompt(timeout)

    # -- people and viewers --
    def interact(self, stdin_fd: int | None = None, stdout_fd: int | None = None) -> None:
        """Passes keys from the terminal to the console and its output back until Ctrl-], first
        the output no ``expect`` has consumed."""
        in_fd = sys.stdin.fileno() if stdin_fd is None else stdin_fd
        out_fd = sys.stdout.fileno() if stdout_fd is None else stdout_fd
        shown: list[bytes] = []
        listener: Callable[[bytes | None], None] = lambda data: shown.append(data or b"")  # noqa: E731
        saved = termios.tcgetattr(in_fd) if os.isatty(in_fd) else None
        with self._lock:
            self.add_listener(listener)
            shown.append(self.child.buffer.encode())
            try:
                if saved is not None:
                    tty.setraw(in_fd, termios.TCSANOW)
                while not self._closed:
                    ready, _, _ = select.select([in_fd], [], [], 0.02)
                    if ready:
                        typed = os.read(in_fd, 4096)
                        cut = typed.find(DETACH)
                        self.write(typed if cut < 0 else typed[:cut])
                        if not typed or cut >= 0:
                            break
                    self._read_some(0)
                    while shown:
                        os.write(out_fd, shown.pop(0))
            finally:
                self.remove_listener(listener)
                self.child.buffer = ""
                if saved is not None:
                    termios.tcsetattr(in_fd, termios.TCSANOW, saved)

    def add_listener(self, listener: Callable[[bytes | None], None]) -> None:
        """Calls ``listener`` with every chunk read from now on, and with ``None`` when the console
        closes. A thread keeps reading while no verb runs, so listeners see output at once."""
        with self._lock:
            self._listeners.append(listener)
            if self._pump is None or not self._pump.is_alive():
                self._pump = threading.Thread(target=self._pump_loop, daemon=True, name=f"pump {self.name}")
                self._pump.start()

    def remove_listener(self, listener: Callable[[bytes | None], None]) -> None:
        """Stops calling ``listener``."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def mark(self, text: str) -> None:
        """Writes a marker line into the console log."""
        if self.log is not None:
            self.log.mark(text)

    def _pump_loop(self) -> None:
        while self._listeners and not self._closed:
            if self._lock.acquire(timeout=0.2):
                try:
                    self._read_some(0.05)
                finally:
                    self._lock.release()
            else:
                time.sleep(0.01)

    def _read_some(self, timeout: float) -> bool:
        """Reads what is there into the buffer the next ``expect`` searches (keeping its last
        ``KEEP`` characters), so output read between two verbs is not lost to the driver.
        Returns whether anything was read."""
        try:
            data = self.child.read_nonblocking(65536, timeout)
        except pexpect.TIMEOUT:
            return False
        except (pexpect.EOF, OSError, ValueError):
            self._gone()
            return False
        self.child.buffer = (self.child.buffer + data)[-KEEP:]
        return True

    def _output(self, data: bytes) -> None:
        if self.log is not None:
            self.log.write(data)
        for listener in list(self._listeners):
            listener(data)

    def _gone(self) -> None:
        if not self._closed:
            self._closed = True
            for listener in list(self._listeners):
                listener(None)

    # -- the end --
    def close(self) -> None:
        """Closes the console (and ends the program behind it)."""
        with self._lock:
            if self._closed and self.child.closed:
                return
            self._gone()
            try:
                self.child.close()  # type: ignore[attr-defined]
            except (OSError, pexpect.ExceptionPexpect):
                pass
            if self.log is not None:
                self.log.close()
                self.log = None

    @property
    def closed(self) -> bool:
        """Whether the console has closed, from either side."""
        return self._closed

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def prompts(config: Mapping[str, Any]) -> list[str]:
    """The shell prompt regexes of a device's config: ``prompt``, one or a list; ``DEFAULT_PROMPT``
    when there is none. Each is matched line by line (``re.MULTILINE``), as in the Rust SDK."""
    raw = config.get("prompt")
    if raw is None:
        return [DEFAULT_PROMPT]
    return [raw] if isinstance(raw, str) else [str(p) for p in raw]


def command_output(before: str, command: str) -> str:
    """The output of ``command`` in ``before`` (what came before the prompt): cleaned, without the
    echoed command. A terminal may wrap or scroll a long echo over several lines, so the echo ends
    at the first of its lines that ends like the command."""
    lines = clean_text(before)
    tail = command.strip()[-8:]
    echo_lines = len(command) // 40 + 2
    for i, line in enumerate(lines[:echo_lines]):
        if line.rstrip().endswith(tail):
            lines = lines[i + 1 :]
            break
    return "\n".join(lines).strip("\n")


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
