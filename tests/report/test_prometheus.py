"""Prometheus exposition: values against numpy, `promtool check metrics`, a real node_exporter
textfile collector scraping it, and a real Pushgateway receiving it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from corpus import cli, dumps, error_line, good_lines, join, record
from prometheus_client.parser import text_string_to_metric_families
from services import Service, binary, get, node_exporter, pushgateway  # noqa: F401  (fixtures)

N = 1500
EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict]:  # type: ignore[type-arg]
    monkeypatch.chdir(tmp_path)
    lines = good_lines(N)
    (tmp_path / "log.jsonl").write_bytes(join(lines))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\n[[rules]]\nmetric = "latency_ms.p99"\nwarning = 1\n'
        '[[rules]]\nmetric = "records"\ncritical = 1\n'
    )
    return [json.loads(x) for x in lines]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_match_numpy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _setup(tmp_path, monkeypatch)
    r = cli(["check", "-f", "prometheus"])
    assert r.exit_code == 1  # the p99 rule warns
    s = _samples(r.stdout)
    for v in ("v1", "v2"):
        mine = [x for x in recs if x["model_version"] == v]
        ok = sum(x["status"] == "success" for x in mine)
        assert s[("predictions_total", (("model_version", v), ("status", "success")))] == ok
        assert s[("predictions_total", (("model_version", v), ("status", "error")))] == len(mine) - ok
        lat = np.array([x["latency_ms"] for x in mine]) / 1000
        key = (("model_version", v), ("quantile", "0.99"))
        assert s[("prediction_latency_seconds", key)] == pytest.approx(np.percentile(lat, 99), rel=1e-12)
        assert s[("prediction_latency_seconds_count", (("model_version", v),))] == len(mine)
        conf = np.array([x["prediction"]["confidence"] for x in mine])
        for e in EDGES:
            assert s[("model_confidence_bucket", (("le", str(e)), ("model_version", v)))] == np.sum(conf <= e)
        assert s[("model_confidence_sum", (("model_version", v),))] == pytest.approx(conf.sum())
    assert s[("mlmon_alerts", (("severity", "warning"),))] == 1
    assert s[("mlmon_run_success", ())] == 1
    assert s[("mlmon_records", ())] == N


def test_promtool_accepts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    promtool = binary("promtool")
    _setup(tmp_path, monkeypatch)
    (tmp_path / "base.csv").write_text(
        "age,income,country,mobile\n" + "".join(f"{20 + i % 50},{1000 + i},US,true\n" for i in range(200))
    )
    assert cli(["baseline", "base.csv", "-o", "base.json"]).exit_code == 0
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nbaseline = "base.json"\n[[rules]]\nmetric = "drift.*"\n'
    )
    r = cli(["check", "-o", "prometheus:m.prom", "-f", "json"])
    text = (tmp_path / "m.prom").read_text()
    assert "mlmon_feature_drift_statistic{" in text and 'mlmon_feature_drift{feature="age"}' in text
    assert 'mlmon_feature_missing_share{feature="age"}' in text
    assert r.exit_code == 1
    done = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_node_exporter_textfile_collector_scrapes_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    node_exporter: Service,  # noqa: F811
) -> None:
    _setup(tmp_path, monkeypatch)
    prom = node_exporter.data / "mlmon.prom"
    r = cli(["check", "-o", f"prometheus:{prom}"])
    assert r.exit_code == 1
    s = _samples(get(f"{node_exporter.url}/metrics"))
    assert s[("node_textfile_scrape_error", ())] == 0
    assert s[("mlmon_run_success", ())] == 1
    assert s[("mlmon_records", ())] == N
    assert s[("predictions_total", (("model_version", "v1"), ("status", "success")))] > 0
    # a run that fails still says so: mlmon_run_success 0, and the old values are gone
    (tmp_path / "log.jsonl").write_bytes(b"not json\n" * 10)
    assert cli(["check", "-o", f"prometheus:{prom}"]).exit_code == 65
    s = _samples(get(f"{node_exporter.url}/metrics"))
    assert s[("mlmon_run_success", ())] == 0
    assert ("mlmon_records", ()) not in s


def test_push_to_a_real_pushgateway(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pushgateway: Service,  # noqa: F811
) -> None:
    _setup(tmp_path, monkeypatch)
    r = cli(["check", "--push", pushgateway.url, "--push-job", "model-a", "-f", "json"])
    assert r.exit_code == 1
    (note,) = json.loads(r.stdout)["notifications"]
    assert note["kind"] == "pushgateway" and note["ok"] and note["target"] == pushgateway.url
    s = _samples(get(f"{pushgateway.url}/metrics"))
    assert s[("mlmon_records", (("instance", ""), ("job", "model-a")))] == N
    assert s[("mlmon_run_success", (("instance", ""), ("job", "model-a")))] == 1


def test_unreachable_pushgateway_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import free_port

    lines = [dumps(record(i, latency_ms=1.0)) for i in range(N)]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.jsonl").write_bytes(join(lines))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\n[[rules]]\nmetric = "records"\ncritical = 1\n'
    )
    url = f"http://127.0.0.1:{free_port()}/secret-path?token=abc"
    r = cli(["check", "--push", url, "--notify-timeout", "1", "-f", "json"])
    assert r.exit_code == 0  # a healthy run stays 0
    (note,) = json.loads(r.stdout)["notifications"]
    assert not note["ok"] and note["attempts"] == 3
    assert "pushgateway notification to http://127.0.0.1" in r.stderr
    assert "secret-path" not in r.stderr + r.stdout and "abc" not in r.stderr + r.stdout


def test_pushgateway_refusal_is_one_attempt_and_an_empty_job_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pushgateway: Service,  # noqa: F811
) -> None:
    _setup(tmp_path, monkeypatch)
    # a 404 from the gateway was retried with backoff like a timeout; the same push fails the same way
    r = cli(["check", "--push", pushgateway.url + "/not-the-api", "-f", "json"])
    assert r.exit_code == 1
    (note,) = json.loads(r.stdout)["notifications"]
    assert note == {**note, "ok": False, "attempts": 1}
    assert "HTTP 404" in note["error"]
    # the job label is the group's key: the gateway answered 400 to an empty one, three times
    r = cli(["check", "--push", pushgateway.url, "--push-job", ""])
    assert r.exit_code == 2 and "--push-job must not be empty" in error_line(r)


def test_a_bad_config_file_still_tells_the_textfile_collector_the_run_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the textfile kept the last good run's mlmon_run_success 1 while every cron run failed on the config
    _setup(tmp_path, monkeypatch)
    prom = tmp_path / "mlmon.prom"
    assert cli(["check", "-o", f"prometheus:{prom}"]).exit_code == 1
    assert _samples(prom.read_text())[("mlmon_run_success", ())] == 1
    with open(tmp_path / "mlmon.toml", "a") as fh:
        fh.write("lastt = 3\n")
    r = cli(["check", "-o", f"prometheus:{prom}"])
    assert r.exit_code == 78
    assert _samples(prom.read_text())[("mlmon_run_success", ())] == 0


def test_a_bad_config_file_still_tells_the_pushgateway_the_run_failed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pushgateway: Service,  # noqa: F811
) -> None:
    _setup(tmp_path, monkeypatch)
    key = ("mlmon_run_success", (("instance", ""), ("job", "model-a")))
    assert cli(["check", "--push", pushgateway.url, "--push-job", "model-a"]).exit_code == 1
    assert _samples(get(f"{pushgateway.url}/metrics"))[key] == 1
    with open(tmp_path / "mlmon.toml", "a") as fh:
        fh.write("lastt = 3\n")
    r = cli(["check", "--push", pushgateway.url, "--push-job=model-a"])
    assert r.exit_code == 78
    assert _samples(get(f"{pushgateway.url}/metrics"))[key] == 0
