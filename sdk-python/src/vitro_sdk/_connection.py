"""A device console on pexpect: :class:`Connection`, with Python Vitro's verbs (``expect``,
``execute_command``, ``check_output``, ``login_to_server``...), console logs and viewers.
:func:`vitro_sdk.connections.connect` builds one from a device's config."""

from __future__ import annotations

import os
import re
import select
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable, Sequence
from typing import Any

import pexpect
import pexpect.fdpexpect

from .console_log import ConsoleLog, clean_text
from .errors import ConsoleError

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
