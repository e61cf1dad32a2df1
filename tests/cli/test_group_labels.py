"""Groups: a record whose --by field holds `(none)`, `(all)` or `""` is never merged with the
records that lack the field, nor with the all-records row, in any output (table, JSON, CSV,
Prometheus, Markdown, JUnit, Nagios, alert labels)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corpus import cli, dumps, record, strict_json
from prometheus_client.parser import text_string_to_metric_families

MISSING = object()
VALUES: list[Any] = ["v1", "(none)", "(all)", "", MISSING, "(none) "]
"""The --by values of the test log, one record in six each; MISSING: the field is absent."""


def _log(tmp_path: Path, slow: Any, *, share: int = 1) -> tuple[Path, list[dict[str, Any]]]:
    """600 records; one in `share` records of the group `slow` takes 500 ms, every other 5-7 ms."""
    recs = []
    for i in range(600):
        value = VALUES[i % len(VALUES)]
        late = value is slow and (i // len(VALUES)) % share == 0
        rec = record(i, latency_ms=500.0 if late else 5.0 + i % 3, status="success")
        if value is MISSING:
            del rec["model_version"]
        else:
            rec["model_version"] = value
        recs.append(rec)
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(dumps(r) + b"\n" for r in recs))
    return path, recs


def _latencies(recs: list[dict[str, Any]], value: Any) -> np.ndarray:
    if value is MISSING:
        return np.array([r["latency_ms"] for r in recs if "model_version" not in r])
    return np.array([r["latency_ms"] for r in recs if r.get("model_version", MISSING) == value])


@pytest.mark.parametrize("slow", ["(none)", MISSING, "(all)"], ids=["none-value", "missing", "all-value"])
def test_summary_json_keeps_missing_overall_and_odd_values_apart(tmp_path: Path, slow: Any) -> None:
    path, recs = _log(tmp_path, slow, share=5)  # a fifth of one group: its p95, not the overall's
    r = cli(["summary", str(path), "--by", "model_version", "--format", "json", "--max-p95-ms", "100"])
    doc = strict_json(r.stdout)
    groups = {g["group"]: g for g in doc["groups"]}
    # one row per value; the records without the field are null, never the string "(none)"
    order = sorted(groups, key=lambda g: (g is None, g or ""))
    assert order == ["", "(all)", "(none)", "(none) ", "v1", None]
    for value in VALUES:
        key = None if value is MISSING else value
        lat = _latencies(recs, value)
        assert groups[key]["records"] == len(lat)
        assert groups[key]["latency_ms"]["p50"] == pytest.approx(np.percentile(lat, 50))
    everything = np.array([x["latency_ms"] for x in recs])
    assert doc["records"] == 600 and doc["latency_ms"]["p50"] == pytest.approx(np.percentile(everything, 50))
    assert "group" not in doc  # the overall is the top level, not a group
    # the alert names the group that is slow, and only it
    alerts = [a for a in doc["alerts"] if a["metric"] == "latency_ms.p95"]
    assert len(alerts) == 1, alerts
    a = alerts[0]
    if slow is MISSING:
        assert (a["group"], a["group_missing"]) == (None, True)
        assert "records without the --by field" in a["message"]
    else:
        assert (a["group"], a["group_missing"]) == (slow, False)
        assert f'group "{slow}"' in a["message"]
    assert r.exit_code == 1


def test_summary_table_shows_each_group_once_and_quotes_values_that_look_like_labels(tmp_path: Path) -> None:
    path, _ = _log(tmp_path, "(none)")
    r = cli(["summary", str(path), "--by", "model_version", "--width", "200"])
    serving = r.stdout.split("Serving health", 1)[1].split("Model behaviour", 1)[0]
    firsts = [ln.split("│")[1].strip() for ln in serving.splitlines() if ln.startswith("│")]
    assert firsts == ["(all)", '""', '"(all)"', '"(none)"', '"(none) "', "v1", "(none)"]


def test_drift_by_keeps_missing_apart_from_a_none_value(tmp_path: Path) -> None:
    path, _ = _log(tmp_path, MISSING)
    train = tmp_path / "train.csv"
    rows = [record(i)["input"]["features"] for i in range(500)]
    train.write_text("age,income\n" + "".join(f"{x['age']},{x['income']}\n" for x in rows))
    assert cli(["baseline", str(train), "-o", str(tmp_path / "b.json")]).exit_code == 0
    base = str(tmp_path / "b.json")
    r = cli(["drift", str(path), "--baseline", base, "--by", "model_version", "-f", "json"])
    groups = [(g["group"], g["records"]) for g in strict_json(r.stdout)["groups"]]
    assert groups == [("", 100), ("(all)", 100), ("(none)", 100), ("(none) ", 100), ("v1", 100), (None, 100)]
    table = cli(["drift", str(path), "--baseline", str(tmp_path / "b.json"), "--by", "model_version",
                 "--width", "200"]).stdout
    assert 'model_version = "(none)" (100 records)' in table
    assert "model_version missing: (none) (100 records)" in table


RULE = '[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\nby = "model_version"\n'


@pytest.mark.parametrize("slow", ["(none)", MISSING], ids=["none-value", "missing"])
def test_check_outputs_name_the_group_that_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow: Any
) -> None:
    path, _ = _log(tmp_path, slow)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlmon.toml").write_text(f'logs = ["{path.name}"]\n{RULE}')
    res = strict_json(cli(["check", "-f", "json"]).stdout)["results"][0]
    missing = slow is MISSING
    assert (res["status"], res["group"], res["group_missing"], res["value"]) == (
        "warning", None if missing else "(none)", missing, 500.0
    )
    where = "records without the --by field" if missing else 'group "(none)"'
    assert where in res["message"]
    rows = list(csv.DictReader(io.StringIO(cli(["check", "-f", "csv"]).stdout)))
    want = ("", "true") if missing else ("(none)", "")
    assert (rows[0]["group"], rows[0]["group_missing"]) == want
    for fmt in ("markdown", "junit", "nagios"):
        out = cli(["check", "-f", fmt]).stdout
        assert (where if fmt != "junit" else where.replace('"', "&quot;")) in out, fmt
    # Prometheus: the records without the field carry model_version_missing="true"; a value
    # "(none)" is a model_version like any other; every series is distinct
    prom = cli(["check", "-f", "prometheus"]).stdout
    series = [
        (s.labels.get("model_version"), s.labels.get("model_version_missing"))
        for fam in text_string_to_metric_families(prom) if fam.name == "predictions"
        for s in fam.samples if s.labels.get("status") == "success"
    ]
    assert sorted(series, key=str) == sorted(
        [("", None), ("(all)", None), ("(none)", None), ("(none) ", None), ("v1", None), ("", "true")],
        key=str,
    )


def test_alertmanager_labels_of_the_records_without_the_field() -> None:
    from mlmon.rules.check import RuleResult, Status
    from mlmon.run.deliver import alert_labels as _labels

    base = RuleResult("r", "latency_ms.p50", Status.WARNING, 500.0, 100.0, None, "above", "m")
    missing = _labels(RuleResult(**{**base.__dict__, "group_missing": True}))
    value = _labels(RuleResult(**{**base.__dict__, "group": "(none)"}))
    overall = _labels(base)
    assert missing["model_version_missing"] == "true" and "model_version" not in missing
    assert value["model_version"] == "(none)" and "model_version_missing" not in value
    assert "model_version" not in overall and "model_version_missing" not in overall
    assert json.dumps(missing) != json.dumps(overall)


def test_compare_keeps_the_records_without_the_field_apart_from_a_none_version(tmp_path: Path) -> None:
    path, recs = _log(tmp_path, "(none)")
    r = cli(["compare", str(path), "--control", "v1", "-f", "json", "--min-records", "10"])
    doc = strict_json(r.stdout)
    versions = {v["version"]: v["records"] for v in doc["versions"]}
    assert versions == {"": 100, "(all)": 100, "(none)": 100, "(none) ": 100, None: 100}
    worse = [a for a in doc["alerts"] if a["group"] == "(none)"]
    assert worse and all(not a["group_missing"] for a in worse)
    assert all('"(none)" is worse than v1' in a["message"] for a in worse)
    # the control "(none)" is the records whose field holds that text, not the ones without it
    doc = strict_json(cli(["compare", str(path), "--control", "(none)", "-f", "json",
                           "--min-records", "10"]).stdout)
    assert {v["control_records"] for v in doc["versions"]} == {100}
    assert None in {v["version"] for v in doc["versions"]}


def test_trend_by_keeps_the_records_without_the_field_apart(tmp_path: Path) -> None:
    path, _ = _log(tmp_path, MISSING)
    args = ["trend", str(path), "--every", "30s", "--by", "model_version"]
    doc = strict_json(cli([*args, "-f", "json"]).stdout)
    groups = [(g["group"], g["records"]) for g in doc["groups"]]
    assert groups == [("", 100), ("(all)", 100), ("(none)", 100), ("(none) ", 100), ("v1", 100), (None, 100)]
    table = cli([*args, "--width", "200"]).stdout
    assert 'model_version "(none)",' in table and "model_version (none)," in table
