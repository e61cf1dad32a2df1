"""Every value `mlmon check` exports to Prometheus read back by name and labels: each rule's status
(0 ok, 1 warning, 2 critical, 3 no data, as the HELP text says) and the --state counters of a
model version holding the `|` the state's keys are made with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import cli, dumps, join, record
from prometheus_client.parser import text_string_to_metric_families


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == name
    }


def _rules(*rules: str) -> str:
    return 'logs = ["log.jsonl"]\n' + "".join(f"[[rules]]\n{r}\n" for r in rules)


def test_rule_status_reads_back_as_0_ok_1_warning_2_critical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    recs = [record(i, latency_ms=10.0 + i % 7) for i in range(300)]
    (tmp_path / "log.jsonl").write_bytes(join(dumps(r) for r in recs))
    (tmp_path / "mlmon.toml").write_text(_rules(
        'name = "fine"\nmetric = "latency_ms.max"\nwarning = 1000\ncritical = 2000',
        'name = "slowish"\nmetric = "latency_ms.mean"\nwarning = 1\ncritical = 1000',
        'name = "too few"\nmetric = "records"\nwarning = 100000\ncritical = 1000',
    ))
    r = cli(["check", "-o", "prometheus:m.prom", "-f", "json"])
    assert r.exit_code == 1, r.stdout + r.stderr
    exported = _samples((tmp_path / "m.prom").read_text(), "mlmon_rule_status")
    status = {(dict(k)["rule"], dict(k)["metric"]): v for k, v in exported.items()}
    assert status == {
        ("fine", "latency_ms.max"): 0,
        ("slowish", "latency_ms.mean"): 1,
        ("too few", "records"): 2,
    }
    # the JSON says the same in words
    words = {x["name"]: x["status"] for x in json.loads(r.stdout)["results"]}
    assert words == {"fine": "ok", "slowish": "warning", "too few": "critical"}


def test_rule_status_of_a_rule_without_data_is_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # no confidence in any record: the confidence rule cannot be checked
    recs = [record(i, prediction={"class": 1}) for i in range(300)]
    (tmp_path / "log.jsonl").write_bytes(join(dumps(r) for r in recs))
    (tmp_path / "mlmon.toml").write_text(_rules(
        'name = "sure"\nmetric = "confidence.mean"\nwarning = 0.5',
        'name = "fine"\nmetric = "latency_ms.max"\nwarning = 100000',
    ))
    r = cli(["check", "-o", "prometheus:m.prom"])
    status = {dict(k)["rule"]: v for k, v in
              _samples((tmp_path / "m.prom").read_text(), "mlmon_rule_status").items()}
    assert status == {"sure": 3, "fine": 0}
    assert r.exit_code == 65, r.stdout + r.stderr


def test_state_counters_keep_a_model_version_holding_a_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state keeps counters under `kind|version|status`: a version `v|1` (or `|`, or `a||b`)
    must come back whole, run after run, and never as version `v` with status `1|success`."""
    monkeypatch.chdir(tmp_path)
    versions = ["v|1", "v2", "|", "a||b", "x|success"]
    (tmp_path / "mlmon.toml").write_text(_rules('metric = "latency_ms.max"\nwarning = 100000'))
    log = tmp_path / "log.jsonl"
    expected: dict[tuple[str, str], int] = {}
    start = 0
    for run, n in enumerate((250, 170)):
        recs = [record(i, model_version=versions[i % len(versions)]) for i in range(start, start + n)]
        start += n
        with log.open("ab") as f:
            f.write(join(dumps(x) for x in recs))
        for x in recs:
            key = (x["model_version"], x["status"])
            expected[key] = expected.get(key, 0) + 1
        r = cli(["check", "--state", "st.json", "-o", "prometheus:m.prom"])
        assert r.exit_code == 0, (run, r.stdout + r.stderr)
        got = {
            (lab["model_version"], lab["status"]): v
            for lab, v in ((dict(k), v) for k, v in _samples((tmp_path / "m.prom").read_text(),
                                                              "predictions_total").items())
            if v
        }
        assert got == expected, run
    assert {v for v, _ in expected} == set(versions)


FAMILIES = {
    "mlmon_run_success": ("gauge", "1 when the last run checked every rule, else 0."),
    "mlmon_last_run_timestamp_seconds": ("gauge", "When the last run ended (Unix time)."),
    "predictions": ("counter", "Predictions in the logs read, by model version and status."),
    "prediction_latency_seconds": ("summary", "Prediction latency in seconds."),
    "model_confidence": ("histogram", "Confidence of the predictions."),
    "mlmon_alerts": ("gauge", "Rules firing, by severity."),
    "mlmon_rule_status": ("gauge", "Each rule: 0 ok, 1 warning, 2 critical, 3 no data."),
    "mlmon_records": ("gauge", "Valid records the last run checked."),
}


def _with_and_without_version(tmp_path: Path, *extra: str) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    recs = [record(i) for i in range(300)]
    for r in recs[:60]:
        del r["model_version"]
    (tmp_path / "log.jsonl").write_bytes(join(dumps(r) for r in recs))
    rules = _rules('name = "fine"\nmetric = "latency_ms.max"\nwarning = 100000')
    (tmp_path / "mlmon.toml").write_text(rules)
    r = cli(["check", "-o", "prometheus:m.prom", *extra])
    assert r.exit_code == 0, r.stdout + r.stderr
    return (tmp_path / "m.prom").read_text(), recs


def test_every_family_has_its_type_and_help(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text, _ = _with_and_without_version(tmp_path)
    got = {f.name: (f.type, f.documentation) for f in text_string_to_metric_families(text)}
    assert got == FAMILIES


def test_records_without_the_by_field_carry_model_version_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text, recs = _with_and_without_version(tmp_path)
    missing = (("model_version", ""), ("model_version_missing", "true"))
    none = [x for x in recs if "model_version" not in x]
    counts = _samples(text, "predictions_total")
    assert counts[(*missing, ("status", "success"))] == sum(x["status"] == "success" for x in none)
    assert counts[(*missing, ("status", "error"))] == sum(x["status"] == "error" for x in none)
    assert _samples(text, "prediction_latency_seconds_count")[missing] == len(none)
    assert _samples(text, "model_confidence_count")[missing] == len(none)
    # the versions' own series have no such label
    for labels in _samples(text, "predictions_total"):
        if dict(labels)["model_version"]:
            assert "model_version_missing" not in dict(labels)


def test_histogram_buckets_are_in_order_and_cumulative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # with --state too: the buckets then come from the stored totals
    for extra in ((), ("--state", "st.json")):
        text, _ = _with_and_without_version(tmp_path, *extra)
        series: dict[str, list[tuple[str, float]]] = {}
        for line in text.splitlines():
            if line.startswith("model_confidence_bucket{"):
                le = line.split('le="', 1)[1].split('"', 1)[0]
                key = line.split("model_version=", 1)[1].split("}", 1)[0]
                series.setdefault(key, []).append((le, float(line.rsplit(" ", 1)[1])))
        assert len(series) == 3, extra
        for buckets in series.values():
            les = [le for le, _ in buckets]
            assert les == ["0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.99", "1.0", "+Inf"], extra
            counts = [c for _, c in buckets]
            assert counts == sorted(counts), extra


def test_a_failed_run_says_so_and_when(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.chdir(tmp_path)
    config = 'logs = ["gone.jsonl"]\n[[rules]]\nmetric = "records"\ncritical = 1\n'
    (tmp_path / "mlmon.toml").write_text(config)
    before = time.time()
    r = cli(["check", "-o", "prometheus:m.prom"])
    after = time.time()
    assert r.exit_code == 66, r.stderr
    text = (tmp_path / "m.prom").read_text()
    assert _samples(text, "mlmon_run_success") == {(): 0.0}
    (when,) = _samples(text, "mlmon_last_run_timestamp_seconds").values()
    assert before - 1 <= when <= after + 1
    assert not _samples(text, "predictions_total") and not _samples(text, "mlmon_rule_status")
