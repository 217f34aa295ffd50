"""The session client's reader against a stream that breaks. vitro never sends an unreadable
line, so a socket served by this test stands in for it here (the real session is tested through
``vitro run`` in test_bridge.py): one bad line or bad base64 is skipped, and when the stream
ends every waiting call fails at once instead of waiting out its timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from vitro_sdk.errors import DeviceError
from vitro_sdk.session import ConsoleStream, Session


@contextmanager
def served(tmp_path: Path) -> Iterator[tuple[Session, socket.socket]]:
    """A session client connected to a socket whose other end the test holds."""
    path = str(tmp_path / "session.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
    thread.start()
    session = Session(path, timeout=60)
    thread.join(10)
    try:
        yield session, accepted[0]
    finally:
        session.close()
        accepted[0].close()
        listener.close()


def _requests(server: socket.socket, count: int) -> list[int]:
    """The ids of the next ``count`` requests the client sent."""
    data = b""
    while data.count(b"\n") < count:
        data += server.recv(1 << 16)
    return [json.loads(line)["id"] for line in data.splitlines()[:count]]


def test_an_unreadable_line_and_bad_base64_are_skipped_and_the_reader_goes_on(
    tmp_path: Path,
) -> None:
    with served(tmp_path) as (session, server):
        streams: list[ConsoleStream] = []
        opener = threading.Thread(target=lambda: streams.append(session.open_console("d", "c")))
        opener.start()
        (request_id,) = _requests(server, 1)

        def output(data: str) -> bytes:
            params = {"device": "d", "console": "c", "data": data}
            return json.dumps({"jsonrpc": "2.0", "method": "$/console/output", "params": params}).encode()

        lines = [
            json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {}}).encode(),
            b"\xff\xfe not json",
            output("!!not base64!!"),
            output("b2s="),
        ]
        server.sendall(b"\n".join(lines) + b"\n")
        opener.join(30)
        assert streams[0].read(30) == b"ok", "the lines after the bad ones still arrive"


def test_every_waiting_call_fails_at_once_when_the_stream_ends(tmp_path: Path) -> None:
    with served(tmp_path) as (session, server):
        errors: list[DeviceError] = []

        def call() -> None:
            try:
                session.request("session/devices")
            except DeviceError as e:
                errors.append(e)

        callers = [threading.Thread(target=call) for _ in range(3)]
        for caller in callers:
            caller.start()
        _requests(server, 3)
        started = time.monotonic()
        server.shutdown(socket.SHUT_RDWR)
        for caller in callers:
            caller.join(30)
        assert len(errors) == 3, errors
        assert all(e.kind == "peer-gone" for e in errors), errors
        assert time.monotonic() - started < 30, "the calls waited for their timeout"
        with pytest.raises(DeviceError, match="the live session is gone"):
            session.request("session/devices")


def test_a_timed_out_call_is_cancelled(tmp_path: Path) -> None:
    with served(tmp_path) as (session, server):
        with pytest.raises(DeviceError, match=r"got no answer within 0\.2 s"):
            session.request("session/devices", timeout=0.2)
        data = b""
        while data.count(b"\n") < 2:
            data += server.recv(1 << 16)
        request, cancel = (json.loads(line) for line in data.splitlines()[:2])
        assert cancel == {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request["id"]}}
