"""Console logs: cleaned, timestamped lines; rotation keeping two backups."""

from __future__ import annotations

import json
from pathlib import Path

from vitro_sdk.console_log import Cleaner, ConsoleLog, clean_text, log_path

CASES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "console" / "clean.json"


def test_the_shared_cleaning_cases_pass() -> None:
    """The cases the Rust SDK replays too."""
    cases = json.loads(CASES.read_text())
    assert len(cases) >= 5
    for case in cases:
        cleaner = Cleaner()
        lines: list[bytes] = []
        for chunk in case["chunks"]:
            lines += cleaner.feed(chunk.encode())
        assert [line.decode() for line in lines] == case["lines"], case["case"]


def test_escapes_backspaces_and_carriage_returns_are_cleaned_across_chunks(tmp_path: Path) -> None:
    log = ConsoleLog(log_path(tmp_path, "board", "console"))
    log.write(b"\x1b[?2004hroot@b:~# lss\x08 -l\r\n\x1b[0")
    log.write(b"1;32mok\x1b[0m\r\n\x1b]0;title\x07done")
    log.close()
    lines = (tmp_path / "board_console.txt").read_text().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == ["root@b:~# ls -l", "ok", "done"]
    assert clean_text("a\x1b[1mb\r\nc") == ["ab", "c"]


def test_the_log_rotates_keeping_two_backups(tmp_path: Path) -> None:
    path = tmp_path / "x_console.txt"
    log = ConsoleLog(path, rotate_at=200)
    for i in range(40):
        log.write(f"line {i:02}\r\n".encode())
    log.close()
    files = [Path(f"{path}.2"), Path(f"{path}.1"), path]
    numbers = [[int(line.rsplit(" ", 1)[1]) for line in f.read_text().splitlines()] for f in files]
    assert numbers[2][-1] == 39
    assert max(numbers[0]) < min(numbers[1]) and max(numbers[1]) < min(numbers[2])
    assert sum(map(len, numbers)) + min(numbers[0]) == 40, "every line after the oldest kept is there"
    assert not Path(f"{path}.3").exists()
    assert all(f.stat().st_size <= 200 for f in files)


def test_log_paths_stay_in_their_directory_whatever_the_names_hold(tmp_path: Path) -> None:
    assert log_path(tmp_path, "board", "console") == tmp_path / "board_console.txt"
    for device, console in [("../../x", "c"), ("/abs/evil", "c"), ("b", "../../../y"), ("", "")]:
        path = log_path(tmp_path, device, console)
        assert path.parent == tmp_path, path
    # The same names as the Rust SDK gives them (vitro_protocol::names::file_name_component).
    assert log_path(tmp_path, "../../x", "c").name == "%2E.%2F..%2Fx_c.txt"
    assert log_path(tmp_path, "/abs/evil", "c").name == "%2Fabs%2Fevil_c.txt"


def test_the_shared_rotation_cases_leave_the_same_files(tmp_path: Path) -> None:
    """The rotation cases the Rust SDK replays too."""
    for case in json.loads((CASES.parent / "rotation.json").read_text()):
        path = tmp_path / "board_console.txt"
        log = ConsoleLog(path, rotate_at=case["rotate_at"])
        for chunk in case["chunks"]:
            log.write(chunk.encode())
        log.close()
        for suffix, expected in case["files"].items():
            lines = Path(f"{path}{suffix}").read_text().splitlines()
            assert [line.split("Z] ", 1)[1] for line in lines] == expected, (case["case"], suffix)
