"""Real endpoints on 127.0.0.1 for the tests: a loopback OpenSSH server, a board behind a socat
serial line (or a TCP port, or telnetd) with a login prompt, and the paths of the built binaries."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SSH_USER = "vitro-py-test"
SSH_PASSWORD = "vitro-py-secret"

#: A board behind a login prompt: user root, password secret, prompt ``board# ``.
BOARD_SCRIPT = """#!/bin/bash
while true; do
  printf 'board login: '; read -r user
  [ -z "$user" ] && continue
  printf 'Password: '; read -r -s pass; echo
  if [ "$user" = root ] && [ "$pass" = secret ]; then
    PS1='board# ' TERM=dumb exec bash --norc --noprofile -i
  fi
  echo 'Login incorrect'
done
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def built(binary: str) -> Path:
    """A binary of the cargo workspace; the README's test command builds them first."""
    path = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug" / binary
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `cargo build --workspace --all-features` first")
    return path


def board_script(directory: Path) -> Path:
    script = directory / "board.sh"
    script.write_text(BOARD_SCRIPT)
    script.chmod(0o755)
    return script


@contextmanager
def process(argv: list[str], ready: Callable[[], bool], what: str) -> Iterator[subprocess.Popen[bytes]]:
    """Runs ``argv`` until the block ends; waits for ``ready`` first."""
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        if not eventually(lambda: child.poll() is not None or ready()) or child.poll() is not None:
            err = child.stderr.read().decode() if child.poll() is not None and child.stderr else ""
            raise RuntimeError(f"{what} did not come up: {err.strip() or 'timeout'}")
        yield child
    finally:
        child.kill()
        child.wait()


@contextmanager
def serial_board(directory: Path, link: str = "ttyBoard") -> Iterator[Path]:
    """A login shell behind a socat pseudo-terminal pair; yields the tty a driver opens."""
    tty = directory / link
    script = board_script(directory)
    # The board keeps its end open itself, so socat survives a driver closing the line.
    argv = [
        "socat",
        f"pty,link={tty},raw,echo=0,wait-slave,pty-interval=0.02",
        f"EXEC:{script},pty,stderr,setsid,sigint,sane,ctty",
    ]
    with process(argv, tty.exists, "the socat serial line"):
        yield tty


@contextmanager
def tcp_board(directory: Path, telnetd: bool = False) -> Iterator[int]:
    """The board on a raw TCP port (what ser2net serves) or behind inetutils telnetd; yields the port."""
    port = free_port()
    script = board_script(directory)
    if telnetd:
        binary = next(p for p in ("/usr/sbin/telnetd", "/usr/sbin/in.telnetd") if Path(p).exists())
        target = f"EXEC:{binary} -h -E {script},nofork"
    else:
        target = f"EXEC:{script},pty,stderr,setsid,sigint,sane,ctty"
    argv = ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", target]
    with process(argv, lambda: _listening(port), "the TCP board"):
        yield port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Sshd:
    """A throwaway OpenSSH server on a loopback port, with a key for the current user and a
    password user (``SSH_USER``/``SSH_PASSWORD``)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        directory.chmod(0o755)
        for key in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / key)], check=True
            )
        shutil.copy(directory / "client_key.pub", directory / "authorized_keys")
        (directory / "sshd_config").write_text(
            f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {directory}/host_key\n"
            f"PidFile {directory}/sshd.pid\nAuthorizedKeysFile {directory}/authorized_keys\nStrictModes no\n"
            "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nLogLevel ERROR\n"
        )
        if subprocess.run(["id", SSH_USER], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/bash", SSH_USER], check=True)
        subprocess.run(["chpasswd"], input=f"{SSH_USER}:{SSH_PASSWORD}\n".encode(), check=True)
        Path("/run/sshd").mkdir(exist_ok=True)
        self.user = os.environ.get("USER", "root")

    @contextmanager
    def running(self) -> Iterator[Sshd]:
        sshd = next(p for p in ("/usr/sbin/sshd", "/usr/bin/sshd") if Path(p).exists())
        argv = [sshd, "-D", "-e", "-f", str(self.dir / "sshd_config")]
        with process(argv, lambda: _listening(self.port), "sshd"):
            yield self

    def known_hosts(self) -> Path:
        path = self.dir / "known_hosts"
        path.write_text(f"[127.0.0.1]:{self.port} {(self.dir / 'host_key.pub').read_text()}")
        return path
