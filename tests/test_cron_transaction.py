"""`check --state` as a transaction, against real services on 127.0.0.1: a failed run changes no
state, an undelivered notification is sent again next run (a 302 is not a delivery), one lock per
real state file, config paths relative to the config file, identity labels keep two services apart
in one Alertmanager and one Pushgateway, counters accumulate across runs as node_exporter scrapes
them, and groups unseen for longer than the retention leave the state and the metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corpus import cli, dumps, record
from prometheus_client.parser import text_string_to_metric_families
from services import (  # noqa: F401  (fixtures)
    Receiver,
    Service,
    alertmanager,
    free_port,
    get,
    node_exporter,
    pushgateway,
    receiver,
)

from mlmon.stats.summary import CONFIDENCE_EDGES

CONFIG = """
logs = ["logs/p.log"]
state = "state/mlmon-state.json"
output = ["prometheus:out/mlmon.prom", "json:out/mlmon.json"]

[[rules]]
metric = "latency_ms.max"
warning = 10000
"""


def _cfg(limit: str) -> str:
    """A config file (in the working directory) with one rule on latency_ms.max: WARNING[:CRITICAL]."""
    path = Path(f"max-{limit.replace(':', '-')}.toml").resolve()
    warning, _, critical = limit.partition(":")
    path.write_text(
        f'[[rules]]\nmetric = "latency_ms.max"\nwarning = {warning}\ncritical = {critical or warning}\n'
    )
    return str(path)


def _lines(start: int, n: int, **over: Any) -> list[dict[str, Any]]:
    return [record(i, **over) for i in range(start, start + n)]


def _append(path: Path, recs: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as fh:
        fh.write(b"".join(dumps(r) + b"\n" for r in recs))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _records(r: Any) -> int:
    return int(json.loads(r.stdout)["records"])


def test_a_failed_output_keeps_the_state_and_the_next_run_reads_the_same_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "p.log"
    _append(log, _lines(0, 300))
    base = ["check", "p.log", "--state", "st.json", "--config", _cfg("10000"), "-f", "json"]
    first = cli(base)
    assert first.exit_code == 0 and _records(first) == 300, first.stderr
    before = (tmp_path / "st.json").read_bytes()

    _append(log, _lines(300, 200))
    # -o into a folder that does not exist: exit 73, after reading and evaluating the new lines
    failed = cli([*base, "-o", "json:no/such/folder/report.json"])
    assert failed.exit_code == 73, failed.stderr
    assert "report.json" in failed.stderr
    assert (tmp_path / "st.json").read_bytes() == before  # byte for byte

    again = cli([*base, "-o", "json:report.json"])
    assert again.exit_code == 0 and _records(again) == 200  # the same 200 lines, counted once
    assert json.loads((tmp_path / "report.json").read_text())["records"] == 200
    assert (tmp_path / "st.json").read_bytes() != before


def test_an_interrupted_output_keeps_the_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory where an output file should be is exit 73 too; the prometheus file written
    before it says the run failed."""
    monkeypatch.chdir(tmp_path)
    _append(tmp_path / "p.log", _lines(0, 100))
    (tmp_path / "adir").mkdir()
    base = ["check", "p.log", "--state", "st.json", "--config", _cfg("10000"), "-f", "json"]
    r = cli([*base, "-o", "prometheus:m.prom", "-o", "json:adir"])
    assert r.exit_code == 73
    assert not (tmp_path / "st.json").exists()
    assert _samples((tmp_path / "m.prom").read_text())[("mlmon_run_success", ())] == 0
    r = cli(base)
    assert _records(r) == 100


@contextmanager
def _http(answer: dict[str, Any], port: int = 0) -> Iterator[tuple[str, list[Any]]]:
    """A webhook endpoint answering answer["status"] (and answer.get("location")); keeps every body."""
    bodies: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            bodies.append((answer["status"], self.path, json.loads(body)))
            self.send_response(answer["status"])
            if "location" in answer:
                self.send_header("Location", answer["location"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


def _slow(start: int, n: int) -> list[dict[str, Any]]:
    return _lines(start, n, latency_ms=900.0)


def test_a_webhook_that_is_down_gets_the_alert_on_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()  # nothing listens there yet: connection refused
    url = f"http://127.0.0.1:{port}/hook"
    base = [
        "check", "p.log", "--state", "st.json", "--config", _cfg("250:400"),
        "--notify", f"webhook:{url}", "--notify-timeout", "2", "-f", "json",
    ]
    _append(tmp_path / "p.log", _slow(0, 100))
    r = cli(base)
    assert r.exit_code == 1  # the alert; the failed delivery does not change the exit code
    (note,) = json.loads(r.stdout)["notifications"]
    assert note["ok"] is False and note["sent"] == 0
    assert "kept to send again next run" in r.stderr

    _append(tmp_path / "p.log", _slow(100, 100))
    with _http({"status": 200}, port) as (_, bodies):
        r = cli(base)  # still critical: no new event, but the undelivered one goes now
        assert r.exit_code == 1
        (note,) = json.loads(r.stdout)["notifications"]
        assert note["ok"] is True and note["sent"] == 1
        assert len(bodies) == 1 and "CRITICAL" == bodies[0][2]["attachments"][0]["title"]
        _append(tmp_path / "p.log", _slow(200, 100))
        r = cli(base)  # delivered once: nothing is left to send
        assert json.loads(r.stdout)["notifications"][0]["sent"] == 0 and len(bodies) == 1


def test_a_302_is_not_a_delivery_and_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    base = [
        "check", "p.log", "--state", "st.json", "--config", _cfg("250:400"),
        "--notify", f"webhook:http://127.0.0.1:{port}/hook", "-f", "json",
    ]
    _append(tmp_path / "p.log", _slow(0, 100))
    with _http({"status": 200}) as (elsewhere, moved_to), _http(
        {"status": 302, "location": f"{elsewhere}/moved"}, port
    ) as (_, asked):
        r = cli(base)
        (note,) = json.loads(r.stdout)["notifications"]
        assert note["ok"] is False and note["sent"] == 0 and "302" in note["error"]
        assert len(asked) == 1 and moved_to == []  # asked once (a 3xx is not retried), not followed
    # the endpoint answers 200 now: the alert the 302 kept is sent
    _append(tmp_path / "p.log", _slow(100, 100))
    with _http({"status": 200}, port) as (_, bodies):
        r = cli(base)
        (note,) = json.loads(r.stdout)["notifications"]
        assert note["ok"] is True and note["sent"] == 1
        assert [b[2]["attachments"][0]["title"] for b in bodies] == ["CRITICAL"]


def _open_fds_to(pid: int, path: str) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                return True
        except OSError:
            continue
    return False


def test_a_symlinked_state_and_a_concurrent_run_share_one_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlmon.rules.state import locked

    monkeypatch.chdir(tmp_path)
    real = tmp_path / "real" / "st.json"
    real.parent.mkdir()
    (tmp_path / "link.json").symlink_to(real)
    _append(tmp_path / "p.log", _lines(0, 500))
    argv = [sys.executable, "-m", "mlmon", "check", str(tmp_path / "p.log"),
            "--config", _cfg("10000"), "-f", "json"]
    env = {**os.environ, "NO_COLOR": "1"}
    with locked(str(real)):
        via_link = subprocess.Popen([*argv, "--state", str(tmp_path / "link.json")], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, cwd=tmp_path)
        # the run through the symlink waits on the real file's lock (it has the lock file open)
        deadline = time.monotonic() + 60
        while not _open_fds_to(via_link.pid, str(real) + ".lock"):
            assert via_link.poll() is None, via_link.communicate()
            assert time.monotonic() < deadline, "the run never opened the real state file's lock"
            time.sleep(0.05)
        direct = subprocess.Popen([*argv, "--state", str(real)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd=tmp_path)
        time.sleep(0.5)
        assert via_link.poll() is None and not real.exists()  # still waiting, nothing written
    outs = [p.communicate(timeout=120) for p in (via_link, direct)]
    codes = sorted(p.returncode for p in (via_link, direct))
    counts = sorted(json.loads(o)["records"] for o, _ in outs)
    # one run read the 500 lines; the other found nothing new (no data: exit 65), never both
    assert counts == [0, 500] and codes == [0, 65], outs
    assert (tmp_path / "link.json").is_symlink() and not (tmp_path / "link.json.lock").exists()


def test_config_paths_are_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "srv" / "model"
    home = tmp_path / "home"
    project.mkdir(parents=True)
    home.mkdir()
    (project / "mlmon.toml").write_text(CONFIG)
    (project / "out").mkdir()
    (project / "state").mkdir()
    _append(project / "logs" / "p.log", _lines(0, 400))
    monkeypatch.chdir(project)  # a person in the project folder
    r = cli(["check", "--config", "mlmon.toml", "-f", "json"])
    assert r.exit_code == 0 and _records(r) == 400, r.stderr
    _append(project / "logs" / "p.log", _lines(400, 150))
    monkeypatch.chdir(home)  # cron: the working directory is $HOME
    r = cli(["check", "--config", str(project / "mlmon.toml"), "-f", "json"])
    assert r.exit_code == 0 and _records(r) == 150, r.stderr  # the same state: only the new lines
    assert list(home.iterdir()) == []
    assert json.loads((project / "out" / "mlmon.json").read_text())["records"] == 150
    prom = _samples((project / "out" / "mlmon.prom").read_text())
    assert sum(v for (n, _), v in prom.items() if n == "predictions_total") == 550


def test_two_services_stay_apart_in_one_alertmanager_and_one_pushgateway(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
    pushgateway: Service,  # noqa: F811
) -> None:
    am, _ = alertmanager
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fraud").mkdir()
    (tmp_path / "fraud" / "mlmon.toml").write_text(
        'logs = ["p.log"]\nlabels = {service = "fraud-model", env = "prod"}\n'
        '[[rules]]\nmetric = "latency_ms.max"\nwarning = 250\ncritical = 400\n'
    )
    _append(tmp_path / "fraud" / "p.log", _lines(0, 200, latency_ms=900.0))
    _append(tmp_path / "churn.log", _lines(0, 300, latency_ms=300.0))
    common = ["--alertmanager", am.url, "--push", pushgateway.url, "-f", "json"]
    a = cli(["check", "--config", "fraud/mlmon.toml", "--state", "fraud/st.json", *common])
    b = cli(["check", "churn.log", "--config", _cfg("250:400"), "--state", "churn.json",
             "--label", "service=churn-model", "--label", "env=prod", *common])
    assert a.exit_code == b.exit_code == 1, (a.stderr, b.stderr)
    for r in (a, b):
        assert all(n["ok"] for n in json.loads(r.stdout)["notifications"]), r.stdout
    # the JSON names the identity each run carried
    assert json.loads(a.stdout)["labels"] == {"env": "prod", "service": "fraud-model"}
    assert json.loads(b.stdout)["labels"] == {"env": "prod", "service": "churn-model"}

    held = json.loads(get(f"{am.url}/api/v2/alerts"))
    by_service = {x["labels"]["service"]: x["labels"] for x in held}
    assert sorted(by_service) == ["churn-model", "fraud-model"] and len(held) == 2
    assert by_service["fraud-model"]["severity"] == "critical"
    assert by_service["churn-model"]["severity"] == "warning"
    assert {x["labels"]["env"] for x in held} == {"prod"}

    groups = json.loads(get(f"{pushgateway.url}/api/v1/metrics"))["data"]
    keys = sorted((g["labels"]["job"], g["labels"].get("service")) for g in groups)
    assert keys == [("mlmon", "churn-model"), ("mlmon", "fraud-model")]
    s = _samples(get(f"{pushgateway.url}/metrics"))
    records = {dict(lab)["service"]: v for (n, lab), v in s.items() if n == "mlmon_records"}
    assert records == {"fraud-model": 200, "churn-model": 300}


def test_bad_labels_are_usage_and_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _append(tmp_path / "p.log", _lines(0, 50))
    for bad in ("9lives=x", "a-b=x", "__name=x", "severity=x", "service", "service="):
        r = cli(["check", "p.log", "--config", _cfg("1000"), "--label", bad])
        assert r.exit_code == 2 and "--label" in r.stderr, (bad, r.stderr)
    (tmp_path / "mlmon.toml").write_text('logs = ["p.log"]\nmax-p99-ms = 1000\nlabels = {"a b" = "x"}\n')
    r = cli(["check"])
    assert r.exit_code == 78 and "labels" in r.stderr and "'a b'" in r.stderr


def test_counters_accumulate_as_node_exporter_scrapes_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    node_exporter: Service,  # noqa: F811
) -> None:
    monkeypatch.chdir(tmp_path)
    prom = node_exporter.data / "mlmon.prom"
    every: list[dict[str, Any]] = []
    for run, n in enumerate((700, 1100, 450)):
        recs = _lines(len(every), n)
        every += recs
        _append(tmp_path / "p.log", recs)
        r = cli(["check", "p.log", "--config", _cfg("10000"), "--state", "st.json",
                 "--label", "service=fraud-model", "-o", f"prometheus:{prom}", "-f", "json"])
        assert r.exit_code == 0 and _records(r) == n, (run, r.stderr)
    s = _samples(get(f"{node_exporter.url}/metrics"))
    for version in ("v1", "v2"):
        mine = [x for x in every if x["model_version"] == version]
        lab = (("model_version", version), ("service", "fraud-model"))
        lat = np.array([x["latency_ms"] for x in mine])
        conf = np.array([x["prediction"]["confidence"] for x in mine])
        assert s[("prediction_latency_seconds_count", lab)] == len(mine)
        assert s[("prediction_latency_seconds_sum", lab)] == pytest.approx(lat.sum() / 1000, rel=1e-9)
        assert s[("model_confidence_count", lab)] == len(mine)
        assert s[("model_confidence_sum", lab)] == pytest.approx(conf.sum(), rel=1e-9)
        # node_exporter writes le as Go formats a float ("1", not "1.0")
        buckets = {float(dict(k)["le"]): v for (n, k), v in s.items()
                   if n == "model_confidence_bucket" and tuple(x for x in k if x[0] != "le") == lab}
        assert buckets == {**{e: float(np.sum(conf <= e)) for e in CONFIDENCE_EDGES}, float("inf"): len(mine)}
        ok = sum(1 for x in mine if x["status"] == "success")
        assert s[("predictions_total", (*lab, ("status", "success")))] == ok
        assert s[("predictions_total", (*lab, ("status", "error")))] == len(mine) - ok
    assert len(every) == 700 + 1100 + 450


def test_a_group_unseen_past_the_retention_leaves_the_state_and_the_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base = ["check", "p.log", "--config", _cfg("10000"), "--state", "st.json",
            "-o", "prometheus:m.prom", "-f", "json"]
    _append(tmp_path / "p.log", _lines(0, 300))  # v1 and v2
    assert cli(base).exit_code == 0

    def versions() -> set[str]:
        text = (tmp_path / "m.prom").read_text()
        return {dict(lab).get("model_version", "") for (n, lab), _ in _samples(text).items()
                if n.startswith(("predictions_total", "model_confidence", "prediction_latency"))}

    def age(version: str, days: float) -> None:
        st = json.loads((tmp_path / "st.json").read_text())
        st["seen"][f"group|{version}"] -= days * 86400
        (tmp_path / "st.json").write_text(json.dumps(st))

    assert versions() == {"v1", "v2"}
    age("v2", 29)  # within the default 30 days: kept
    _append(tmp_path / "p.log", _lines(300, 100, model_version="v1"))
    r = cli(base)
    assert r.exit_code == 0 and json.loads(r.stdout)["forgotten"] == []
    assert versions() == {"v1", "v2"}
    age("v2", 2)  # 31 days since v2's last record
    _append(tmp_path / "p.log", _lines(400, 100, model_version="v1"))
    r = cli(base)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["forgotten"] == ["group|v2"]  # the JSON says what left the state
    assert versions() == {"v1"}
    st = json.loads((tmp_path / "st.json").read_text())
    assert not any("|v2|" in k for k in st["totals"]) and "group|v2" not in st["seen"]
    # a shorter retention on the command line
    _append(tmp_path / "p.log", _lines(500, 60, model_version="v3"))
    assert cli(base).exit_code == 0
    age("v1", 2)
    _append(tmp_path / "p.log", _lines(560, 60, model_version="v3"))
    assert cli([*base, "--state-retention", "1d"]).exit_code == 0
    assert versions() == {"v3"}


@contextmanager
def _relay(target: str, port: int) -> Iterator[str]:
    """A TCP relay on `port` to the real service at `target` (http://host:port): while it is
    closed, the service's URL (the relay's) refuses connections, as a service that is down."""
    import select
    import socket
    import socketserver

    host, tport = target.removeprefix("http://").split(":")

    class Pump(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with socket.create_connection((host, int(tport))) as up:
                ends = [self.request, up]
                while True:
                    ready, _, _ = select.select(ends, [], [], 10)
                    if not ready:
                        return
                    for s in ready:
                        data = s.recv(65536)
                        if not data:
                            return
                        (up if s is self.request else self.request).sendall(data)

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Pump)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_resolution_alertmanager_missed_is_sent_on_the_next_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
) -> None:
    """The real Alertmanager is out of reach when the alert resolves: without the retry it would
    hold the alert as firing for --alert-ttl (2 h); the next run resolves it."""
    am, hook = alertmanager
    monkeypatch.chdir(tmp_path)
    port = free_port()
    base = ["check", "p.log", "--config", _cfg("250:400"), "--state", "st.json", "--alertmanager",
            f"http://127.0.0.1:{port}", "--notify-timeout", "2", "-f", "json"]
    _append(tmp_path / "p.log", _slow(0, 100))
    with _relay(am.url, port):
        assert cli(base).exit_code == 1
    assert hook.wait_for(1)[0]["status"] == "firing"
    assert len(json.loads(get(f"{am.url}/api/v2/alerts"))) == 1

    _append(tmp_path / "p.log", _lines(100, 100, latency_ms=5.0))
    r = cli(base)  # the relay is closed: connection refused
    assert r.exit_code == 0
    (note,) = json.loads(r.stdout)["notifications"]
    assert note["ok"] is False and "kept to send again next run" in r.stderr
    assert len(json.loads(get(f"{am.url}/api/v2/alerts"))) == 1  # still firing there

    _append(tmp_path / "p.log", _lines(200, 100, latency_ms=5.0))
    with _relay(am.url, port):
        r = cli(base)  # nothing changes in this run, but the resolution goes now
        (note,) = json.loads(r.stdout)["notifications"]
        assert note["ok"] is True and note["sent"] == 1
        assert json.loads(get(f"{am.url}/api/v2/alerts")) == []
        assert hook.wait_for(2)[1]["status"] == "resolved"
        _append(tmp_path / "p.log", _lines(300, 100, latency_ms=5.0))
        r = cli(base)
        assert json.loads(r.stdout)["notifications"][0]["sent"] == 0  # sent once
