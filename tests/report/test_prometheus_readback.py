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
