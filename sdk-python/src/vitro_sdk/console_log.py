"""Console logs as the Rust SDK writes them: ``<DIR>/<device>_<console>.txt``, ANSI escapes and
backspace edits cleaned, carriage returns dropped, one ``[RFC 3339 UTC time] line`` per line,
rotated at 25 MB keeping two backups (``.1``, ``.2``)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

ROTATE_AT = 25_000_000
BACKUPS = 2


def file_name_component(text: str) -> str:
    """``text`` as one safe file-name component, as the Rust SDK makes it: every byte outside
    ``[A-Za-z0-9_.-]`` becomes ``%XX``, and a leading ``.`` too."""
    out = []
    for index, byte in enumerate(text.encode()):
        char = chr(byte)
        safe = (char.isascii() and char.isalnum()) or char in "_-" or (char == "." and index > 0)
        out.append(char if safe else f"%{byte:02X}")
    return "".join(out) or "%"


def log_path(directory: str | Path, device: str, console: str) -> Path:
    """Where the log of ``device``'s ``console`` goes in ``directory``: always inside it, whatever
    the names hold."""
    return Path(directory) / f"{file_name_component(device)}_{file_name_component(console)}.txt"


class Cleaner:
    """Incremental cleaner, the same as the Rust SDK's: escape sequences removed in every ECMA-48
    form (CSI, OSC and other strings, and ``ESC`` with intermediate bytes such as ``ESC ( B``),
    backspace edits applied to whole characters, control characters but tab dropped. Keeps an
    unfinished escape sequence and line across chunks."""

    def __init__(self) -> None:
        self._state = "text"
        self.line = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Cleans ``data``; returns the lines it finished."""
        lines: list[bytes] = []
        state, line = self._state, self.line
        for byte in data:
            if state == "text":
                if byte == 0x1B:
                    state = "escape"
                elif byte == 0x0A:
                    lines.append(bytes(line))
                    line.clear()
                elif byte == 0x08:
                    while line and line[-1] & 0xC0 == 0x80:
                        line.pop()
                    if line:
                        line.pop()
                elif (byte >= 0x20 and byte != 0x7F) or byte == 0x09:
                    line.append(byte)
            elif state == "escape":
                if byte == 0x5B:
                    state = "csi"
                elif byte in (0x5D, 0x50, 0x58, 0x5E, 0x5F):  # OSC, DCS, SOS, PM, APC: strings
                    state = "string"
                elif 0x20 <= byte <= 0x2F:
                    state = "intermediate"
                else:
                    state = "text"
            elif state == "intermediate":
                if not 0x20 <= byte <= 0x2F:
                    state = "text"
            elif state == "csi":
                if 0x40 <= byte <= 0x7E:
                    state = "text"
            elif state == "string":
                if byte == 0x07:
                    state = "text"
                elif byte == 0x1B:
                    state = "string-escape"
            else:
                state = "text"
        self._state = state
        return lines


def clean_text(text: str) -> list[str]:
    """The lines of ``text`` cleaned like a console log (the last one even when unfinished)."""
    cleaner = Cleaner()
    lines = cleaner.feed(text.encode())
    if cleaner.line:
        lines.append(bytes(cleaner.line))
    return [line.decode(errors="replace") for line in lines]


class ConsoleLog:
    """Appends console output to a log file; thread-safe, never raises into the console."""

    def __init__(self, path: Path, rotate_at: int = ROTATE_AT) -> None:
        self.path = path
        self.rotate_at = rotate_at
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")
        self._size = self._file.tell()
        self._cleaner = Cleaner()
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        """Logs raw console bytes."""
        with self._lock:
            for line in self._cleaner.feed(data):
                self._write_line(line)
            self._file.flush()

    def mark(self, text: str) -> None:
        """Writes a marker line ``##### text`` (finishing any unfinished line first)."""
        self.write(f"\n##### {text}\n".encode())

    def close(self) -> None:
        """Writes an unfinished last line and closes the file."""
        with self._lock:
            self._finish_line()
            self._file.close()

    def _finish_line(self) -> None:
        if self._cleaner.line:
            self._write_line(bytes(self._cleaner.line))
            self._cleaner.line.clear()

    def _write_line(self, line: bytes) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        text = f"[{stamp}] ".encode() + line + b"\n"
        if self._size + len(text) > self.rotate_at and self._size > 0:
            self._rotate()
        self._file.write(text)
        self._size += len(text)

    def _rotate(self) -> None:
        self._file.close()
        backup = [self.path.with_name(f"{self.path.name}.{n}") for n in range(BACKUPS + 1)]
        backup[BACKUPS].unlink(missing_ok=True)
        for n in range(BACKUPS - 1, 0, -1):
            if backup[n].exists():
                backup[n].rename(backup[n + 1])
        self.path.rename(backup[1])
        self._file = self.path.open("ab")
        self._size = 0
