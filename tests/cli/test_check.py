"""`mlmon check`: rules from a config file, one result per rule, every output format, exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from corpus import HOSTILE, cli, dumps, error_line, good_lines, join, record, strict_json

N = 1200


def _setup(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rules: str,
    *,
    lines: list[bytes] | None = None,
    extra: str = "",
) -> list[dict]:  # type: ignore[type-arg]
    monkeypatch.chdir(tmp_path)
    lines = lines if lines is not None else good_lines(N)
    (tmp_path / "log.jsonl").write_bytes(join(lines))
    (tmp_path / "mlmon.toml").write_text(f'logs = ["log.jsonl"]\n{extra}\n{rules}')
    return [json.loads(x) for x in lines]


def _results(out: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["name"]: r for r in strict_json(out)["results"]}


def test_each_rule_gets_one_result_checked_against_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recs = _setup(
        tmp_path,
        monkeypatch,
        '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 1\ncritical = 100000\n'
        '[[rules]]\nmetric = "success_rate"\nwarning = 0.5\ncritical = 0.1\n'
        '[[rules]]\nmetric = "records"\ncritical = 10\n'
        '[[rules]]\nmetric = "confidence.low_share"\ncritical = 0.0001\nname = "low confidence"\n',
    )
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    res = _results(r.stdout)
    lat = np.array([x["latency_ms"] for x in recs])
    ok = np.mean([x["status"] == "success" for x in recs])
    low = np.mean([x["prediction"]["confidence"] < 0.5 for x in recs])
    assert res["latency_ms.p99"]["value"] == pytest.approx(np.percentile(lat, 99), rel=1e-12)
    assert res["latency_ms.p99"]["status"] == "warning" and res["latency_ms.p99"]["threshold"] == 1
    assert res["success_rate"]["value"] == pytest.approx(ok) and res["success_rate"]["status"] == "ok"
    assert res["records"] == {**res["records"], "value": N, "status": "ok", "direction": "below"}
    assert (
        res["low confidence"]["value"] == pytest.approx(low) and res["low confidence"]["status"] == "critical"
    )
    alerts = strict_json(r.stdout)["alerts"]
    assert sorted(a["metric"] for a in alerts) == ["confidence.low_share", "latency_ms.p99"]
    # --fail-on critical: still 1 (a critical rule); never: 0
    assert cli(["check", "--fail-on", "never"]).exit_code == 0


def test_by_checks_each_group_and_reports_the_worst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [dumps(record(i, latency_ms=500.0 if i % 3 == 0 else 5.0)) for i in range(N)]
    _setup(
        tmp_path,
        monkeypatch,
        '[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\nby = "model_version"\n',
        lines=lines,
    )
    r = cli(["check", "-f", "json"])
    res = _results(r.stdout)["latency_ms.p50"]
    # overall median is 5 ms, but group v2 (every third record) has 500 ms
    assert (res["status"], res["group"], res["value"]) == ("warning", "v2", 500.0)
    assert r.exit_code == 1


def test_flags_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(tmp_path, monkeypatch, "", extra="max-p99-ms = 1.0\n")
    assert cli(["summary"]).exit_code == 1  # logs and threshold from the file
    assert cli(["summary", "--max-p99-ms", "1e9"]).exit_code == 0
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 1
    assert _results(r.stdout)["latency_ms.p99 (--max-p99-ms)"]["status"] == "warning"
    # check takes the read flags of summary too: the file sets one, the command line wins
    with open(tmp_path / "mlmon.toml", "a") as fh:
        fh.write('latency-field = "no_such_field"\n')
    assert cli(["check"]).exit_code == 65  # no latency: no data
    assert cli(["check", "--latency-field", "latency_ms"]).exit_code == 1


def test_no_data_is_never_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [dumps({k: v for k, v in record(i).items() if k != "latency_ms"}) for i in range(N)]
    _setup(
        tmp_path,
        monkeypatch,
        '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 100\n[[rules]]\nmetric = "records"\ncritical = 1\n',
        lines=lines,
    )
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 65
    assert "1 rule(s) had no data" in error_line(r)
    res = _results(r.stdout)
    assert res["latency_ms.p99"]["status"] == "no_data" and res["latency_ms.p99"]["value"] is None
    assert res["records"]["status"] == "ok"
    n = cli(["check", "--nagios"])
    assert n.exit_code == 3 and n.stdout.startswith("MLMON UNKNOWN - latency_ms.p99: no data")


def test_drift_rules_need_a_baseline_and_unknown_feature_is_no_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(tmp_path, monkeypatch, '[[rules]]\nmetric = "drift.age"\n')
    r = cli(["check"])
    assert r.exit_code == 2 and "need a baseline" in error_line(r)


def test_nagios_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _setup(
        tmp_path, monkeypatch, '[[rules]]\nmetric = "success_rate"\nwarning = 0.999\ncritical = 0.5\n'
    )
    r = cli(["check", "--nagios"])
    ok = np.mean([x["status"] == "success" for x in recs])
    assert r.exit_code == 1
    (line,) = r.stdout.splitlines()
    status, perf = line.split(" | ")
    assert status.startswith("MLMON WARNING - success_rate ")
    assert perf.split()[0] == f"'success_rate'={ok:.6g};0.999:;0.5:"
    # every error of the tool is UNKNOWN (3): a missing log, a bad config
    assert cli(["check", "--nagios", "missing.jsonl"]).exit_code == 3
    (tmp_path / "mlmon.toml").write_text("rules = 3\n")
    bad = cli(["check", "--nagios"])
    assert bad.exit_code == 3 and bad.stdout.startswith("MLMON UNKNOWN - ")


def test_junit_read_by_a_junit_consumer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from junitparser import Error, Failure, JUnitXml

    _setup(
        tmp_path,
        monkeypatch,
        '[[rules]]\nmetric = "latency_ms.p99"\ncritical = 1\n'
        '[[rules]]\nmetric = "success_rate"\nwarning = 0.9999\n'
        '[[rules]]\nmetric = "records"\ncritical = 1\n'
        '[[rules]]\nmetric = "predictions_out_of_range"\ncritical = 1\n',
    )
    r = cli(["check", "-o", "junit:report.xml", "--fail-on", "critical"])
    assert r.exit_code == 65  # predictions_out_of_range has no data (no --prediction-range)
    xml = JUnitXml.fromfile(str(tmp_path / "report.xml"))
    (suite,) = list(xml)
    cases = {c.name: c for c in suite}
    assert list(cases) == ["latency_ms.p99", "success_rate", "records", "predictions_out_of_range"]
    assert suite.tests == 4 and suite.failures == 1 and suite.errors == 1
    assert isinstance(cases["latency_ms.p99"].result[0], Failure)
    assert cases["success_rate"].is_passed  # a warning below --fail-on passes, with a note
    assert "warning (below --fail-on)" in (cases["success_rate"].system_out or "")
    assert cases["records"].is_passed
    assert isinstance(cases["predictions_out_of_range"].result[0], Error)


def test_hostile_group_names_in_csv_markdown_and_junit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evil = '=HYPERLINK("http://x")|<script>\x1b[31m'
    lines = [
        dumps(record(i, model_version=evil if i % 2 else "v1", latency_ms=900.0 if i % 2 else 1.0))
        for i in range(N)
    ]
    _setup(
        tmp_path,
        monkeypatch,
        '[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\nby = "model_version"\n',
        lines=lines,
    )
    r = cli(["check", "-o", "out.csv", "-o", "markdown:out.md", "-o", "junit:out.xml", "-f", "csv"])
    assert r.exit_code == 1
    assert r.stdout == (tmp_path / "out.csv").read_text()
    (row,) = list(csv.DictReader(io.StringIO(r.stdout)))
    assert row["group"].startswith("'=HYPERLINK") and row["status"] == "warning"
    assert float(row["value"]) == 900.0
    md = (tmp_path / "out.md").read_text()
    assert "<script>" not in md and "\x1b" not in md and "\\<script\\>" in md
    assert md.count("\n| ") == 2  # header and one rule row: the | in the name did not add a column
    for text in (r.stdout, md, (tmp_path / "out.xml").read_text()):
        assert "\x1b" not in text
    for h in HOSTILE[:1]:
        assert h  # corpus sanity


def test_output_spec_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(tmp_path, monkeypatch, '[[rules]]\nmetric = "records"\ncritical = 1\n')
    r = cli(["check", "-o", "report.bin"])
    assert r.exit_code == 2 and "say which format" in error_line(r)
    r = cli(["check", "-o", "junit:/nonexistent/dir/r.xml"])
    assert r.exit_code == 73


def test_config_init_writes_a_valid_starter_that_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.jsonl").write_bytes(join(good_lines(N)))
    r = cli(["config", "init", "log.jsonl"])
    assert r.exit_code == 0, r.stderr
    text = (tmp_path / "mlmon.toml").read_text()
    assert text.startswith("# mlmon config") and "[[rules]]" in text
    assert cli(["config", "validate"]).exit_code == 0
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert {x["status"] for x in strict_json(r.stdout)["results"]} == {"ok"}
    assert cli(["config", "init", "log.jsonl"]).exit_code == 2  # will not replace without --force


def test_threshold_and_traffic_keys_of_summary_become_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recs = _setup(
        tmp_path,
        monkeypatch,
        "",
        extra=f'max-p99-ms = "1:1e9"\nmin-success-rate = "0.9999:0.5"\nmin-records = "{N + 1}:1"\n'
        'max-age = "1h:1000d"\n',
    )
    r = cli(["check", "-f", "json"])
    res = _results(r.stdout)
    lat = np.array([x["latency_ms"] for x in recs])
    p99 = res["latency_ms.p99 (--max-p99-ms)"]
    assert (p99["status"], p99["warning"], p99["critical"]) == ("warning", 1.0, 1e9)
    # every group has a verdict (the interval rule at every n); the worst decides, the largest
    versions = {x.get("model_version") for x in recs}
    each = [np.percentile(lat, 99)] + [
        np.percentile([x["latency_ms"] for x in recs if x.get("model_version") == v], 99) for v in versions]
    assert p99["value"] == pytest.approx(max(each), rel=1e-12) and p99["proven"] is True
    assert res["success_rate (--min-success-rate)"]["status"] == "warning"
    assert res["records (--min-records)"] == {
        **res["records (--min-records)"],
        "status": "warning",
        "value": N,
        "direction": "below",
    }
    age = res["age_seconds (--max-age)"]
    assert (age["status"], age["warning"], age["critical"]) == ("warning", 3600.0, 1000 * 86400.0)
    assert r.exit_code == 1


def test_drift_rules_without_thresholds_give_the_verdict_of_mlmon_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = Path(__file__).resolve().parents[2] / "sample_logs"
    monkeypatch.chdir(tmp_path)
    assert cli(["baseline", str(samples / "training_mixed.csv"), "-o", "base.json"]).exit_code == 0
    log = str(samples / "predictions_named.jsonl")
    (tmp_path / "mlmon.toml").write_text(
        f'logs = ["{log}"]\nbaseline = "base.json"\n'
        '[[rules]]\nmetric = "drift.*"\n[[rules]]\nmetric = "unseen.*"\n'
    )
    d = cli(["drift", log, "--baseline", "base.json", "-f", "json"])
    drift_doc = strict_json(d.stdout)
    r = cli(["check", "-f", "json"])
    res = _results(r.stdout)
    want = {a["metric"]: a["severity"] for a in drift_doc["alerts"] if a["metric"].startswith("drift.")}
    got = {k: v["status"] for k, v in res.items() if k.startswith("drift.") and v["status"] != "ok"}
    assert got == want
    for f in drift_doc["features"]:
        assert res[f"drift.{f['name']}"]["value"] == f["effect_size"]
        if f["kind"] == "categorical":
            assert res[f"unseen.{f['name']}"]["value"] == f["unseen_share"]
    assert r.exit_code == d.exit_code


def test_feature_rules_with_limits_use_the_rules_of_mlmon_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drift, mean or unseen rule with its own limits decides as `mlmon drift` does with those
    limits as --min-effect/--critical-effect, --mean-tolerance and --max-unseen-share (bounds and
    adjusted p-values, not the point estimate alone)."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(9)
    with open("train.csv", "w") as fh:
        fh.write("x,y,c\n")
        for x, y, c in zip(rng.normal(10, 2, 3000), rng.normal(0, 1, 3000),
                           rng.choice(["a", "b", "c"], 3000), strict=True):
            fh.write(f"{x:.4f},{y:.4f},{c}\n")
    with open("log.jsonl", "w") as fh:
        for i, (x, y, c) in enumerate(zip(rng.normal(10.5, 2, 800), rng.normal(0.12, 1, 800),
                                          rng.choice(["a", "b", "c", "d"], 800, p=[.33, .32, .31, .04]),
                                          strict=True)):
            feats = {"x": round(float(x), 4), "y": round(float(y), 4), "c": str(c)}
            fh.write(json.dumps({"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                 "input": {"features": feats}}) + "\n")
    assert cli(["baseline", "train.csv", "-o", "base.json"]).exit_code == 0
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nbaseline = "base.json"\n'
        '[[rules]]\nmetric = "drift.*"\nwarning = 0.03\ncritical = 0.08\n'
        '[[rules]]\nmetric = "mean_deviation.*"\nwarning = 0.02\ncritical = 0.1\n'
        '[[rules]]\nmetric = "unseen.*"\nwarning = 0.01\ncritical = 0.5\n'
    )
    res = _results(cli(["check", "-f", "json"]).stdout)

    def drift_alerts(*opts: str) -> dict[str, str]:
        d = cli(["drift", "log.jsonl", "--baseline", "base.json", "-f", "json", *opts])
        return {a["metric"]: a["severity"] for a in strict_json(d.stdout)["alerts"]}

    base = drift_alerts("--min-effect", "0.03", "--critical-effect", "0.08", "--mean-tolerance", "0.02",
                        "--max-unseen-share", "0.01", "--critical-unseen-share", "0.5")
    crit_mean = drift_alerts("--mean-tolerance", "0.1")
    crit_unseen = drift_alerts("--max-unseen-share", "0.5", "--critical-unseen-share", "0.5")
    for name in ("x", "y", "c"):
        assert res[f"drift.{name}"]["status"] == base.get(f"drift.{name}", "ok")
    # unseen.* covers the category only: x and y are continuous numbers
    assert not {"unseen.x", "unseen.y"} & set(res)
    unseen = "critical" if "unseen.c" in crit_unseen else base.get("unseen.c", "ok")
    assert res["unseen.c"]["status"] == unseen
    for name in ("x", "y"):
        want = "critical" if f"mean_deviation.{name}" in crit_mean else (
            "warning" if f"mean_deviation.{name}" in base else "ok")
        assert res[f"mean_deviation.{name}"]["status"] == want
    # the data are built so that each kind of rule fires at least once
    assert {k.split(".")[0] for k, v in res.items() if v["status"] != "ok"} >= {
        "drift", "mean_deviation", "unseen"}


def test_config_init_with_a_baseline_adds_a_drift_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = Path(__file__).resolve().parents[2] / "sample_logs"
    monkeypatch.chdir(tmp_path)
    assert cli(["baseline", str(samples / "training_mixed.csv"), "-o", "base.json"]).exit_code == 0
    r = cli(
        ["config", "init", str(samples / "predictions_named.jsonl"), "--baseline", "base.json", "-o", "-"]
    )
    assert r.exit_code == 0
    assert 'metric = "drift.*"' in r.stdout and "baseline = " in r.stdout
    (tmp_path / "mlmon.toml").write_text(r.stdout)
    assert cli(["config", "validate"]).exit_code == 0
    res = _results(cli(["check", "-f", "json"]).stdout)
    assert {k for k in res if k.startswith("drift.")} == {
        "drift.amount",
        "drift.hour",
        "drift.country",
        "drift.is_mobile",
        "drift.multivariate",  # two numeric features: the joint model's rule is offered too
    }


def test_table_output_opens_with_the_verdict_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _setup(tmp_path, monkeypatch, '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 1e9\n')
    r = cli(["check"])
    assert r.exit_code == 0
    # the log's newest record is long past: the verdict line dates it
    first = r.stdout.splitlines()[0]
    assert re.fullmatch(rf"OK: {len(recs)} records, newest [^,]+ ago, 1 rule\(s\) ok", first), first
    p99 = float(np.percentile([x["latency_ms"] for x in recs], 99))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\n[[rules]]\nmetric = "latency_ms.p99"\nwarning = 0\n'
        f'critical = {p99 / 2}\n[[rules]]\nmetric = "records"\n'
        f'warning = {len(recs) + 1}\ndirection = "below"\n'
    )
    r = cli(["check"])
    assert r.exit_code == 1
    assert r.stdout.splitlines()[0].startswith(f"ALERT: 1 warning, 1 critical ({len(recs)} records, newest ")
    lines = [dumps({k: v for k, v in record(i).items() if k != "latency_ms"}) for i in range(N)]
    _setup(tmp_path, monkeypatch, '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 100\n', lines=lines)
    r = cli(["check"])
    assert r.exit_code == 65
    assert r.stdout.splitlines()[0].startswith(f"NO DATA: 1 rule(s) without data ({N} records, newest ")
