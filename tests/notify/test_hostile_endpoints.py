"""Endpoints that fight back: a server that trickles one byte a second (HTTP and SMTP), one that
answers with 8 GiB, a Pushgateway behind Basic auth. Each notification and push ends within its
deadline, reads a bounded answer, and never changes the run's exit code."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from corpus import dumps, join, record

from mlmon.notify.transport import MAX_RESPONSE

N = 300


@dataclass
class Hostile:
    """A raw TCP server on 127.0.0.1 that runs `behave(conn, self)` for each connection."""

    port: int = 0
    sent: int = 0
    """Bytes written to clients in all."""
    requests: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _serve(behave: Callable[[socket.socket, Hostile], None]) -> Iterator[Hostile]:
    h = Hostile()
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    h.port = srv.getsockname()[1]

    def accept() -> None:
        while not h.stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            threading.Thread(target=_handle, args=(conn,), daemon=True).start()

    def _handle(conn: socket.socket) -> None:
        with conn:
            try:
                behave(conn, h)
            except OSError:
                pass  # the client gave up: what the test wants

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield h
    finally:
        h.stop.set()
        t.join(5)
        srv.close()


def _read_request(conn: socket.socket, h: Hostile) -> None:
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    h.requests.append(head + b"\r\n\r\n" + body)


def _trickle(text: bytes) -> Callable[[socket.socket, Hostile], None]:
    """Send `text` one byte a second (for ten minutes at most), as a slow or hostile server."""

    def behave(conn: socket.socket, h: Hostile) -> None:
        for i in range(600):
            if h.stop.wait(1.0):
                return
            conn.sendall(text[i % len(text) : i % len(text) + 1])
            h.sent += 1

    return behave


@pytest.fixture
def trickling_http() -> Iterator[Hostile]:
    def behave(conn: socket.socket, h: Hostile) -> None:
        _read_request(conn, h)
        _trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000)(conn, h)

    yield from _serve(behave)


@pytest.fixture
def huge_answer() -> Iterator[Hostile]:
    """Answers 200 with an 8 GiB body, written as fast as the client reads."""

    def behave(conn: socket.socket, h: Hostile) -> None:
        _read_request(conn, h)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8589934592\r\n\r\n"
        )
        zeros = b"0" * (1 << 20)
        for _ in range(8192):
            if h.stop.is_set():
                return
            conn.sendall(zeros)
            h.sent += len(zeros)

    yield from _serve(behave)


@pytest.fixture
def recording_http() -> Iterator[Hostile]:
    def behave(conn: socket.socket, h: Hostile) -> None:
        _read_request(conn, h)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    yield from _serve(behave)


@pytest.fixture
def trickling_smtp() -> Iterator[Hostile]:
    yield from _serve(_trickle(b"220-mail.example.com ESMTP " + b"x" * 2000))


def _alerting_log(tmp_path: Path) -> None:
    (tmp_path / "log.jsonl").write_bytes(join(dumps(record(i, latency_ms=900.0)) for i in range(N)))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\n[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\ncritical = 500\n'
    )


def _check(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    """`mlmon check` as cron runs it, in its own process; a hang fails the test at 120 s (never
    a wall-clock assertion: the deadlines under test are seconds, the trickles ten minutes)."""
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "mlmon", "check", "-f", "json", *args],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize("how", ["webhook", "alertmanager", "push"])
def test_a_server_trickling_one_byte_a_second_cannot_hold_the_run(
    tmp_path: Path, trickling_http: Hostile, how: str
) -> None:
    _alerting_log(tmp_path)
    target = {
        "webhook": ["--notify", f"webhook:{trickling_http.url}/hook"],
        "alertmanager": ["--alertmanager", trickling_http.url],
        "push": ["--push", trickling_http.url],
    }[how]
    rc, doc, err = _check(tmp_path, *target, "--notify-timeout", "2")
    assert rc == 1, err  # the alert decides, never the notification
    (note,) = doc["notifications"]
    assert note["ok"] is False and note["attempts"] == 1  # a deadline is not tried again this run
    assert note["error"] == f"{trickling_http.url}: no complete answer within 2 s"
    assert trickling_http.sent < 600  # the server had more to send; mlmon stopped listening


def test_an_8_gib_answer_is_read_no_further_than_64_kib(tmp_path: Path, huge_answer: Hostile) -> None:
    _alerting_log(tmp_path)
    rc, doc, err = _check(tmp_path, "--notify", f"webhook:{huge_answer.url}/hook", "--notify-timeout", "20")
    assert rc == 1, err
    (note,) = doc["notifications"]
    assert note["ok"] is True  # a 200 is delivered; its body does not matter
    # what the server could write before mlmon closed: 64 KiB read plus the kernel's buffers
    assert MAX_RESPONSE == 64 << 10
    assert huge_answer.sent < 64 << 20, huge_answer.sent


def test_pushgateway_takes_user_and_password_as_basic_auth_never_shown(
    tmp_path: Path, recording_http: Hostile
) -> None:
    _alerting_log(tmp_path)
    url = f"http://pusher:s3cr%40t@127.0.0.1:{recording_http.port}"
    rc, doc, err = _check(tmp_path, "--push", url)
    assert rc == 1, err
    (note,) = doc["notifications"]
    assert note == {**note, "kind": "pushgateway", "ok": True, "target": recording_http.url}
    (req,) = recording_http.requests
    head = req.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("PUT /metrics/job/mlmon ")
    assert f"Authorization: Basic {base64.b64encode(b'pusher:s3cr@t').decode()}" in head.split("\r\n")
    assert "s3cr" not in json.dumps(doc) + err


def test_an_smtp_server_trickling_its_greeting_cannot_hold_the_run(
    tmp_path: Path, trickling_smtp: Hostile
) -> None:
    _alerting_log(tmp_path)
    url = f"smtp://127.0.0.1:{trickling_smtp.port}?to=oncall@example.com"
    rc, doc, err = _check(tmp_path, "--notify", url, "--notify-timeout", "2")
    assert rc == 1, err
    (note,) = doc["notifications"]
    assert note["ok"] is False and note["attempts"] == 1
    assert note["error"] == f"smtp://127.0.0.1:{trickling_smtp.port}: no complete exchange within 2 s"
    assert trickling_smtp.sent < 600
