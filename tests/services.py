"""Real services on 127.0.0.1 for the tests: node_exporter, Pushgateway, Alertmanager, a webhook
receiver and an SMTP server. Each starts on a free port with a temporary data folder and stops after.

A missing binary skips its tests on a workstation, and fails them in CI (CI=true): `.ci/run`
installs the Debian packages, so a skip there would hide a gap.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def binary(name: str) -> str:
    path = shutil.which(name) or next(
        (f"{d}/{name}" for d in ("/usr/bin", "/usr/sbin") if os.path.exists(f"{d}/{name}")), None
    )
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install {debian_package(name)}; .ci/run does it)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def debian_package(name: str) -> str:
    return {"promtool": "prometheus"}.get(name, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"service exited with {proc.returncode}: {out[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


@dataclass
class Service:
    url: str
    proc: subprocess.Popen[bytes]
    data: Path


def _start(args: list[str], ready: str, data: Path) -> Iterator[Service]:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=data)
    try:
        base = ready.rsplit("/", 1)[0] if ready.count("/") > 2 else ready
        wait_http(ready, proc)
        yield Service(base, proc, data)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def node_exporter(tmp_path: Path) -> Iterator[Service]:
    exe = binary("prometheus-node-exporter")
    port = free_port()
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    yield from _start(
        [
            exe,
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textfiles}",
        ],
        f"http://127.0.0.1:{port}/metrics",
        textfiles,
    )


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[Service]:
    exe = binary("prometheus-pushgateway")
    port = free_port()
    data = tmp_path / "pushgateway"
    data.mkdir()
    for svc in _start(
        [exe, f"--web.listen-address=127.0.0.1:{port}", f"--persistence.file={data / 'pg.data'}"],
        f"http://127.0.0.1:{port}/-/ready",
        data,
    ):
        svc.url = f"http://127.0.0.1:{port}"
        yield svc


@dataclass
class Receiver:
    """An HTTP server that keeps every JSON body posted to it."""

    url: str
    bodies: list[Any] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, n: int, timeout: float = 20.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.bodies) >= n:
                    return list(self.bodies)
            time.sleep(0.05)
        raise AssertionError(f"expected {n} posts, got {len(self.bodies)}: {self.bodies}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with rec.lock:
                if rec.status == 200:
                    rec.bodies.append(json.loads(body))
            self.send_response(rec.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: Receiver) -> Iterator[tuple[Service, Receiver]]:
    """A real Alertmanager that routes every alert to the test's webhook receiver at once."""
    exe = binary("prometheus-alertmanager")
    port = free_port()
    data = tmp_path / "alertmanager"
    data.mkdir()
    config = data / "alertmanager.yml"
    config.write_text(
        "route:\n"
        "  receiver: test\n"
        "  group_by: ['alertname', 'model_version', 'feature']\n"
        "  group_wait: 1s\n"
        "  group_interval: 1s\n"
        "  repeat_interval: 24h\n"
        "receivers:\n"
        "  - name: test\n"
        "    webhook_configs:\n"
        f"      - url: '{receiver.url}'\n"
        "        send_resolved: true\n"
    )
    for svc in _start(
        [
            exe,
            f"--config.file={config}",
            f"--storage.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        f"http://127.0.0.1:{port}/-/ready",
        data,
    ):
        svc.url = f"http://127.0.0.1:{port}"
        yield svc, receiver


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    box = Mailbox("127.0.0.1", free_port())

    class Keep(Message):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            box.messages.append(message)

    controller = Controller(Keep(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
