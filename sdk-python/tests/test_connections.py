"""Consoles against real endpoints on this machine: bash in a pseudo-terminal, a login shell
behind a socat serial line, the same on a raw TCP port (socat stands in for ser2net) and behind
inetutils telnetd, and a loopback OpenSSH server."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rig import SSH_PASSWORD, SSH_USER, Sshd, serial_board, tcp_board
from vitro_sdk import ConsoleError
from vitro_sdk.connections import Connection, command_output, connect, prompts

#: The console cases both SDKs replay.
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "console"

BASH = {
    "name": "host",
    "connection_type": "local_cmd",
    "conn_cmd": "env PS1='vitro$ ' bash --norc --noprofile -i",
    "prompt": r"vitro\$ $",
}


def bash(**extra: Any) -> Connection:  # noqa: ANN401
    console = connect(BASH, **extra)
    console.expect_prompt(10)
    return console


def log_in(console: Connection) -> None:
    console.sendline()
    console.expect("login: ", 10)
    console.sendline("root")
    console.login_to_server("secret", 10)


def test_execute_command_strips_the_echo_and_the_prompt_and_logs_every_line(workdir: Path) -> None:
    with bash(log_dir=workdir) as console:
        assert console.execute_command("echo $((6 * 7)); printf 'a\\tb\\n'", 10) == "42\na\tb"
        console.mark("between")
        big = console.execute_command("seq 1 20000 | tail -n 1", 10)
        assert big == "20000"
    log = (workdir / "host_console.txt").read_text().splitlines()
    assert any(line.endswith("] 42") for line in log), log
    assert any(line.endswith("] ##### between") for line in log), log
    assert all(line.startswith("[20") and "Z] " in line for line in log), log
    assert not any("\x1b" in line or "\r" in line for line in log)


def test_output_larger_than_any_buffer_reaches_expect() -> None:
    with bash() as console:
        console.sendline("head -c 3000000 /dev/zero | tr '\\0' x; echo; echo END-OF-DATA")
        console.expect(r"^END-OF-DATA", 30)
        assert len(console.before) > 3_000_000


def test_a_prompt_that_never_comes_times_out_and_check_output_recovers_with_ctrl_c() -> None:
    with bash() as console:
        with pytest.raises(ConsoleError) as timeout:
            console.expect("never-printed", 0.3)
        assert timeout.value.kind == "timeout"
        assert "never-printed" in str(timeout.value)
        with pytest.raises(ConsoleError) as stuck:
            console.check_output("sleep 30", 0.5)
        assert "`sleep 30` did not finish within 0.5 s (the prompt came back after Ctrl-C)" in str(
            stuck.value
        )
        assert console.execute_command("echo still here", 10) == "still here"


def test_a_console_closed_from_the_far_side_fails_clearly() -> None:
    with bash() as console:
        console.sendline("exit")
        with pytest.raises(ConsoleError, match="the console closed"):
            console.expect("never", 10)


def test_listeners_see_the_same_bytes_as_the_driver() -> None:
    with bash() as console:
        seen: list[bytes] = []
        done = threading.Event()

        def listen(data: bytes | None) -> None:
            seen.append(data or b"")
            if b"from-the-driver" in b"".join(seen):
                done.set()

        console.add_listener(listen)
        assert console.execute_command("echo from-the-driver", 10) == "from-the-driver"
        assert done.wait(5)
        console.write(b"echo typed-by-a-viewer\n")
        assert console.expect("typed-by-a-viewer\\r?\\n", 10) == 0
        console.remove_listener(listen)


def test_a_prompt_typed_by_someone_else_does_not_end_the_next_command() -> None:
    with bash() as console:
        console.write(b"true\n")
        time.sleep(0.3)
        console._read_some(0.2)  # what the viewers' pump does while nobody expects
        assert console.execute_command("echo fresh", 10) == "fresh"


def test_a_board_behind_a_real_serial_line_logs_in(workdir: Path) -> None:
    with serial_board(workdir) as tty:
        config = {"name": "cpe", "connection_type": "serial", "port": str(tty), "prompt": r"board# $"}
        with connect(config, log_dir=workdir) as console:
            log_in(console)
            assert (
                console.execute_command("echo over serial; tty >/dev/null && echo tty", 10)
                == "over serial\ntty"
            )
    assert "cpe_console.txt" in os.listdir(workdir)


def test_serial_rejects_a_missing_port_and_an_odd_baud(workdir: Path) -> None:
    with pytest.raises(ConsoleError, match="cannot open"):
        connect({"name": "cpe", "connection_type": "serial", "port": str(workdir / "nothing")})
    with pytest.raises(ConsoleError, match="baud 1234"):
        connect({"name": "cpe", "connection_type": "serial", "port": "/dev/null", "baud": 1234})


def test_ports_outside_the_tcp_range_are_errors_not_truncated() -> None:
    for kind in ["ser2net", "telnet", "ssh_connection"]:
        for port in [65536 + 22, 0, -1, "x"]:
            with pytest.raises(ConsoleError, match=r"is not a TCP port|needs a numeric"):
                connect({"name": "cpe", "connection_type": kind, "port": port})


def test_ser2net_raw_tcp_and_a_refused_port(workdir: Path) -> None:
    with tcp_board(workdir) as port:
        config = {"name": "cpe", "connection_type": "ser2net", "ipaddr": "127.0.0.1", "port": port}
        with connect({**config, "prompt": r"board# $"}) as console:
            log_in(console)
            assert console.execute_command("echo over tcp", 10) == "over tcp"
    with pytest.raises(ConsoleError, match=r"cannot connect to 127\.0\.0\.1:1"):
        connect({"name": "cpe", "connection_type": "ser2net", "port": 1})


def test_a_real_telnetd_logs_in_and_runs_commands(workdir: Path) -> None:
    with tcp_board(workdir, telnetd=True) as port:
        config = {"name": "cpe", "connection_type": "telnet", "port": port, "prompt": r"board# $"}
        with connect(config) as console:
            console.expect("login: ", 10)
            console.sendline("root")
            console.login_to_server("secret", 10)
            assert console.execute_command("echo over telnet", 10) == "over telnet"


def ssh_config(sshd: Sshd, **extra: Any) -> dict[str, Any]:  # noqa: ANN401
    base = {"name": "wan", "connection_type": "authenticated_ssh", "ipaddr": "127.0.0.1", "port": sshd.port}
    return {**base, "prompt": r"^[\w.-]+@[\w.-]+:\S*[#$] $", **extra}


def test_ssh_password_login_runs_commands(sshd: Sshd) -> None:
    with connect(ssh_config(sshd, username=SSH_USER, password=SSH_PASSWORD), timeout=20) as console:
        assert console.execute_command("whoami; echo $((2 + 3))", 10) == f"{SSH_USER}\n5"


def test_ssh_key_login_with_a_checked_host_key(sshd: Sshd) -> None:
    config = ssh_config(
        sshd,
        username=sshd.user,
        key=str(sshd.dir / "client_key"),
        host_key_check="known-hosts",
        known_hosts=str(sshd.known_hosts()),
    )
    with connect(config, timeout=20) as console:
        assert console.execute_command("echo key login", 10) == "key login"


def test_ssh_wrong_password_and_refused_port_fail_clearly(sshd: Sshd) -> None:
    with pytest.raises(ConsoleError, match="refused the password"):
        connect(ssh_config(sshd, username=SSH_USER, password="wrong"), timeout=20)
    with pytest.raises(ConsoleError, match=r"ssh to .*:1 failed: .*[Cc]onnection refused"):
        connect(ssh_config(sshd, port=1, username=SSH_USER, password="x"), timeout=20)


def test_an_unknown_connection_type_lists_the_supported_ones() -> None:
    with pytest.raises(ConsoleError, match="unknown connection_type 'pigeon'; supported: local_cmd, serial"):
        connect({"name": "x", "connection_type": "pigeon"})


def test_the_shared_prompt_cases_match_as_they_say() -> None:
    """The prompt cases the Rust SDK replays too."""
    cases = json.loads((FIXTURES / "prompts.json").read_text())
    assert len(cases) >= 5
    for case in cases:
        patterns = [re.compile(p, re.MULTILINE) for p in prompts({"prompt": case["prompt"]})]
        assert any(p.search(case["text"]) for p in patterns) == case["matches"], case["case"]


def test_command_output_drops_the_echo_in_the_shared_cases() -> None:
    """The echo cases the Rust SDK replays too."""
    cases = json.loads((FIXTURES / "echo.json").read_text())
    assert len(cases) >= 5
    for case in cases:
        assert command_output(case["before"], case["command"]) == case["output"], case["case"]
