"""A simulated day of the README's cron set-up: logs appended and rotated by logrotate between
hourly `mlmon check` runs, with a real Alertmanager (routing to a webhook receiver) and a real
Pushgateway on 127.0.0.1. Every line is read once, alerts fire and resolve once each, the
Pushgateway holds the day's last values, and the README's CI command gives one case per rule."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from corpus import cli, dumps, record
from prometheus_client.parser import text_string_to_metric_families
from readme_docs import DOCS as README
from services import Receiver, Service, alertmanager, binary, get, pushgateway, receiver  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
PER_HOUR = 1200
SLOW_HOURS = {9, 10, 11}  # model v2 answers in 900 ms: p99 critical
ERROR_HOURS = {15, 16, 20}  # 10% errors: success_rate critical; `for = 2` fires at 16 only
ROTATE_AT = {6, 12, 18}


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _block(text: str, lang: str) -> str:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)[0]


def _hour(h: int, part: int) -> bytes:
    out = []
    for k in range(part * PER_HOUR // 2, (part + 1) * PER_HOUR // 2):
        i = h * PER_HOUR + k
        slow = h in SLOW_HOURS and i % 3 == 0
        rec = record(
            i,
            timestamp=f"2026-11-01T{h:02d}:{k * 3 // 60:02d}:{k * 3 % 60:02d}Z",
            latency_ms=900.0 if slow else 20.0 + k % 50,
            status="error" if h in ERROR_HOURS and k % 10 == 0 else "success",
        )
        out.append(dumps(rec) + b"\n")
    return b"".join(out)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_a_day_of_hourly_cron_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
    pushgateway: Service,  # noqa: F811
) -> None:
    logrotate = binary("logrotate")
    am, hook = alertmanager
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o755)
    config = _block(_section("Cron"), "toml")
    # the simulated day is dated 2026-11-01, not today: its staleness gate would fire every hour
    # (tests/cli/test_recipes.py runs this config on a log that stopped)
    assert re.search(r'^max-age = ', config, re.M)
    (tmp_path / "mlmon.toml").write_text(re.sub(r"^max-age = .*\n", "", config, flags=re.M))
    (tmp_path / "logrotate.conf").write_text(
        f"{logs}/predictions.log {{\n  rotate 10\n  compress\n  delaycompress\n  missingok\n  create\n}}\n"
    )
    command = _block(_section("Cron"), "sh").strip()
    command = command.replace("http://127.0.0.1:9093", am.url).replace(
        "http://127.0.0.1:9091", pushgateway.url
    )
    argv = shlex.split(command)
    assert argv[0] == "mlmon"

    log = logs / "predictions.log"
    records = lines = 0
    firing_hours: dict[str, list[int]] = {}
    expected_posts = 0
    for h in range(24):
        with open(log, "ab") as fh:
            fh.write(_hour(h, 0))
        if h in ROTATE_AT:
            done = subprocess.run(
                [logrotate, "-f", "-s", str(tmp_path / "logrotate.state"), str(tmp_path / "logrotate.conf")],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
        with open(log, "ab") as fh:
            fh.write(_hour(h, 1))
        r = cli([*argv[1:], "-f", "json"])
        doc = json.loads(r.stdout)
        records += doc["records"]
        lines += doc["input"]["lines"]
        assert doc["records"] == PER_HOUR, (h, doc["input"])
        assert all(n["ok"] for n in doc["notifications"]), doc["notifications"]
        status = {x["name"]: x["status"] for x in doc["results"]}
        for name, st in status.items():
            if st in ("warning", "critical"):
                firing_hours.setdefault(name, []).append(h)
        want = 1 if h in SLOW_HOURS or h == 16 else 0
        assert r.exit_code == want, (h, status, r.stderr)
        # the hour passes before the next run: Alertmanager has time to notify (group_wait 1s)
        if h in (9, 12, 16, 17):
            expected_posts += 1
            hook.wait_for(expected_posts)
    assert records == lines == 24 * PER_HOUR  # every line read once, none twice
    assert firing_hours == {"latency_ms.p99": [9, 10, 11], "success_rate": [16]}
    assert sorted(p.name for p in logs.iterdir()) == [
        "predictions.log",
        "predictions.log.1",
        "predictions.log.2.gz",
        "predictions.log.3.gz",
    ]

    time.sleep(2.5)  # anything more Alertmanager would send arrives by now
    posts = [(b["status"], b["alerts"][0]["labels"]["alertname"]) for b in hook.bodies]
    assert posts == [
        ("firing", "latency_ms.p99"),
        ("resolved", "latency_ms.p99"),
        ("firing", "success_rate"),
        ("resolved", "success_rate"),
    ]

    s = _samples(get(f"{pushgateway.url}/metrics"))
    job = (("instance", ""), ("job", "mlmon"))
    assert s[("mlmon_records", job)] == PER_HOUR
    assert s[("mlmon_run_success", job)] == 1
    total = sum(v for (name, lab), v in s.items() if name == "predictions_total")
    assert total == 24 * PER_HOUR  # counted across the day's runs
    text = (tmp_path / "mlmon.prom").read_text()
    assert _samples(text)[("mlmon_records", ())] == PER_HOUR

    # the CI job: the README's command on the same logs gives one JUnit case and one row per rule
    from junitparser import JUnitXml

    ci = shlex.split(_block(_section("CI"), "sh").strip())
    r = cli(ci[1:])
    assert r.exit_code == 0, r.stdout + r.stderr  # the last hour is healthy
    rules = len(re.findall(r"^\[\[rules\]\]", (tmp_path / "mlmon.toml").read_text(), flags=re.M))
    (suite,) = list(JUnitXml.fromfile("mlmon-junit.xml"))
    assert [c.name for c in suite] == ["records", "latency_ms.p99", "success_rate"] and rules == 3
    md = (tmp_path / "mlmon-summary.md").read_text()
    assert len([x for x in md.splitlines() if x.startswith("| ") and "---" not in x]) == rules + 1
