"""Gates from the command line: WARN[:CRIT] thresholds, nothing passes that was not checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from corpus import cli, error_line, newest_age, strict_json

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample_logs" / "predictions.jsonl")


def _p99(doc: dict) -> float:  # type: ignore[type-arg]
    return float(doc["latency_ms"]["p99"])


def test_threshold_pairs_on_the_command_line() -> None:
    doc = strict_json(cli(["summary", SAMPLE, "-f", "json", "--by", ""]).stdout)
    # a p99 limit is crossed when the 95% lower bound is above it (the same rule at every n)
    lo, hi = doc["latency_ms"]["p99_lower"], doc["latency_ms"]["p99_upper"]
    assert lo <= _p99(doc) <= hi
    rate = doc["success_rate"]
    cases = [
        (["--max-p99-ms", f"{lo - 1}:{hi + 1}"], "warning", lo - 1, 1),
        (["--max-p99-ms", f":{lo - 1}"], "critical", lo - 1, 1),
        (["--max-p99-ms", f"{(lo + hi) / 2}"], None, None, 0),  # not proven crossed: ok
        (["--max-p99-ms", f"{hi + 1}"], None, None, 0),
        (["--min-success-rate", f"{rate + 0.001}:{rate - 0.001}"], "warning", rate + 0.001, 1),
        (["--min-success-rate", f"{rate + 0.001}"], "critical", rate + 0.001, 1),
        (["--max-error-rate", f"{1 - rate - 0.002}:{1 - rate - 0.001}"], "critical", 1 - rate - 0.001, 1),
    ]
    for args, severity, limit, code in cases:
        r = cli(["summary", SAMPLE, "-f", "json", "--by", "", *args])
        assert r.exit_code == code, (args, r.stderr)
        alerts = strict_json(r.stdout)["alerts"]
        assert [(a["severity"], a["threshold"]) for a in alerts] == (
            [(severity, pytest.approx(limit))] if severity else []), args
    fail_on_critical = cli(["summary", SAMPLE, "--by", "", "--fail-on", "critical",
                            "--max-p99-ms", f"{lo - 1}:{hi + 100}"])
    assert fail_on_critical.exit_code == 0


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--max-p99-ms", "400:250", "critical limit 250 must be above the warning limit 400"),
        ("--min-success-rate", "0.95:0.99", "must be below the warning limit"),
        ("--min-success-rate", "1.5", "from 0 to 1"),
        ("--max-p95-ms", "nan", "at least 0"),
        ("--max-p95-ms", "inf", "at least 0"),
        ("--max-p95-ms", "1:2:3", "WARN[:CRIT]"),
        ("--max-p95-ms", ":", "WARN[:CRIT]"),
        ("--max-error-rate", "x", "not a number"),
        ("--max-out-of-range", "2.5", "whole number"),
        ("--max-low-confidence-share", "-0.1", "from 0 to 1"),
    ],
)
def test_bad_thresholds_are_usage_errors(option: str, value: str, words: str) -> None:
    r = cli(["summary", SAMPLE, option, value])
    assert r.exit_code == 2
    assert option in error_line(r) and words in error_line(r)


def test_help_shows_the_threshold_form() -> None:
    out = cli(["summary", "--help"]).stdout
    assert out.count("WARN[:CRIT]") >= 6


def test_single_group_alerts_once_on_the_command_line(tmp_path: Path) -> None:
    log = tmp_path / "one.jsonl"
    lines = [f'{{"timestamp": {1.7e9 + i}, "model_version": "v9", "latency_ms": {900 + i % 7}, '
             f'"status": "ok"}}' for i in range(2000)]
    log.write_text("\n".join(lines) + "\n")
    r = cli(["summary", str(log), "-f", "json", "--max-p99-ms", "250"])
    assert r.exit_code == 1
    alerts = strict_json(r.stdout)["alerts"]
    expected = float(np.percentile([900 + i % 7 for i in range(2000)], 99))
    assert [(a["metric"], a["group"], a["value"]) for a in alerts] == [
        ("latency_ms.p99", "v9", pytest.approx(expected))]


# --- no silent pass ---------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, records: list[dict]) -> str:  # type: ignore[type-arg]
    import json

    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(p)


@pytest.mark.parametrize(
    ("args", "field", "suggestion"),
    [
        (["--latency-field", "latencyms", "--max-p99-ms", "1"], "'latencyms'", "'latency_ms'"),
        (["--latency-field", "latencyms", "--max-p95-ms", "1"], "'latencyms'", "'latency_ms'"),
        (["--status-field", "state", "--min-success-rate", "0.999"], "'state'", "'status'"),
        (["--status-field", "state", "--max-error-rate", "0.01"], "'state'", "'status'"),
        (["--confidence-field", "prediction.confidense", "--max-low-confidence-share", "0.1"],
         "'prediction.confidense'", "'prediction.confidence'"),
        (["--latency-field", "latencyms", "--status-field", "state", "--max-p99-ms", "1",
          "--min-success-rate", "0.999"], "'latencyms'", "'latency_ms'"),
    ],
)
def test_a_threshold_on_a_field_no_record_has_is_bad_data(
    args: list[str], field: str, suggestion: str
) -> None:
    r = cli(["summary", SAMPLE, *args])
    assert r.exit_code == 65, r.stdout
    line = error_line(r)
    assert field in line and suggestion in line and "did you mean" in line


def test_without_a_threshold_a_missing_field_is_a_note_not_health() -> None:
    r = cli(["summary", SAMPLE, "--latency-field", "latencyms", "--status-field", "state", "-f", "json"])
    assert r.exit_code == 0
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("mlmon: note: ")]
    assert any("latency_ms not measured" in n and "'latency_ms'" in n for n in notes), r.stderr
    assert any("success_rate not measured" in n and "'status'" in n for n in notes), r.stderr
    doc = strict_json(r.stdout)
    assert doc["success_rate"] is None and doc["latency_ms"]["p99"] is None
    assert doc["not_measured"] == [
        {"metric": "latency_ms", "field": "latencyms", "option": "--latency-field"},
        {"metric": "success_rate", "field": "state", "option": "--status-field"},
    ]
    healthy = strict_json(cli(["summary", SAMPLE, "-f", "json"]).stdout)
    assert healthy["not_measured"] == []


def test_a_missing_metric_is_shown_as_missing_in_the_table_and_the_verdict() -> None:
    r = cli(["summary", SAMPLE, "--latency-field", "latencyms", "--width", "120"])
    assert r.exit_code == 0
    first, *rest = r.stdout.split("Model behaviour")[0].splitlines()
    assert first == f"OK: 2000 records, {newest_age(SAMPLE)}, no alerts; not measured: latency_ms"
    rows = [ln for ln in rest if ln.startswith("│ v1.0") or ln.startswith("│ (all)")]
    assert rows and all(ln.count("missing") == 5 for ln in rows), r.stdout
    quiet = cli(["summary", SAMPLE, "--status-field", "state", "--quiet"])
    assert quiet.stdout.splitlines()[0] == (
        f"OK: 2000 records, {newest_age(SAMPLE)}, no alerts; not measured: success_rate"
    )
    healthy = cli(["summary", SAMPLE, "--quiet"])
    assert "not measured" not in healthy.stdout and "missing" not in healthy.stdout


def test_misspelt_features_field_in_drift_is_bad_data(tmp_path: Path) -> None:
    base = tmp_path / "b.json"
    assert cli(["baseline", str(ROOT / "sample_logs" / "training.csv"), "-o", str(base)]).exit_code == 0
    r = cli(["drift", SAMPLE, "-b", str(base), "--features-field", "input.feature"])
    assert r.exit_code == 65
    assert "'input.feature'" in error_line(r) and "'input.features'" in error_line(r)


def test_time_selection_on_a_missing_timestamp_field_is_bad_data() -> None:
    for args in (["--last", "1h"], ["--max-age", "1h"], ["--since", "now-1d"]):
        r = cli(["summary", SAMPLE, "--timestamp-field", "ts", *args])
        assert r.exit_code == 65, args
        assert "'ts'" in error_line(r) and "--timestamp-field" in error_line(r)


def test_an_empty_window_is_a_records_alert_not_bad_data() -> None:
    for cmd in (["summary", SAMPLE], ["drift", SAMPLE, "--reference",
                                      str(ROOT / "sample_logs" / "training.csv")]):
        r = cli([*cmd, "--since", "now-2h", "-f", "json"])
        assert r.exit_code == 1, (cmd, r.stderr)
        doc = strict_json(r.stdout)
        assert doc["records"] == 0
        assert [(a["metric"], a["severity"], a["value"]) for a in doc["alerts"]] == [
            ("records", "critical", 0)]
        assert "0 records in the window" in doc["alerts"][0]["message"]


def test_min_records_alerts_below_its_limits() -> None:
    cases = [("5000:3000", "critical", 3000), ("5000:1000", "warning", 5000), ("2000", None, None),
             ("2001", "critical", 2001)]
    for value, severity, limit in cases:
        r = cli(["summary", SAMPLE, "--min-records", value, "-f", "json"])
        alerts = [a for a in strict_json(r.stdout)["alerts"] if a["metric"] == "records"]
        assert [(a["severity"], a["threshold"]) for a in alerts] == ([(severity, limit)] if severity else [])
        assert r.exit_code == (1 if severity else 0)


def test_max_age_measures_the_newest_selected_record_from_now(tmp_path: Path) -> None:
    import time

    now = time.time()
    log = _write(tmp_path, "recent.jsonl", [
        {"timestamp": now - 7200 + i, "latency_ms": 10.0, "status": "ok"} for i in range(100)])
    ok = cli(["summary", log, "--max-age", "3h", "-f", "json"])
    assert ok.exit_code == 0 and strict_json(ok.stdout)["alerts"] == []
    old = cli(["summary", log, "--max-age", "30m:1h", "-f", "json"])
    (a,) = strict_json(old.stdout)["alerts"]
    assert old.exit_code == 1
    assert (a["metric"], a["severity"], a["threshold"]) == ("age_seconds", "critical", 3600)
    assert a["value"] == pytest.approx(7200 - 99, abs=60)
    warn = cli(["summary", log, "--max-age", "1h:3h", "-f", "json"])
    assert [x["severity"] for x in strict_json(warn.stdout)["alerts"]] == ["warning"]
    # the sample log is weeks old: --last 60m of it is no longer "healthy"
    stale = cli(["summary", SAMPLE, "--last", "60m", "--max-age", "1h", "-f", "json"])
    assert stale.exit_code == 1
    assert [x["metric"] for x in strict_json(stale.stdout)["alerts"]] == ["age_seconds"]
    drift = cli(["drift", SAMPLE, "--reference", str(ROOT / "sample_logs" / "training.csv"),
                 "--max-age", "1h", "-f", "json", "--min-effect", "1"])
    assert [x["metric"] for x in strict_json(drift.stdout)["alerts"]][:1] == ["age_seconds"]


def test_since_and_until_take_now_relative_and_epoch_times(tmp_path: Path) -> None:
    import time

    now = time.time()
    # one record a quarter of an hour before each of the last ten hour marks: none on a boundary
    recs = [{"timestamp": now - 3600 * h - 900, "latency_ms": 1.0, "status": "ok"} for h in range(10)]
    log = _write(tmp_path, "hours.jsonl", recs)

    def count(*args: str) -> int:
        r = cli(["summary", log, "-f", "json", "--fail-on", "never", *args])
        assert r.exit_code == 0, r.stderr
        return int(strict_json(r.stdout)["records"])

    assert count("--since", "now-150m") == 3
    assert count("--since", "now - 5h") == 5
    assert count("--until", "now", "--last", "90m") == 2
    assert count("--until", "now-4h") == 6
    assert count("--since", str(int(now - 3600 * 3 - 60))) == 3
    assert count("--since", str(int((now - 3600 * 3 - 60) * 1000))) == 3  # milliseconds, by magnitude
    assert count("--since", "NOW") == 0
    for bad in ("now-", "now-2x", "yesterday"):
        r = cli(["summary", log, "--since", bad])
        assert r.exit_code == 2 and "--since" in error_line(r)


def test_a_p99_from_few_values_alerts_when_the_data_prove_it(tmp_path: Path) -> None:
    from scipy.stats import binom

    lat = [10_000.0 + i for i in range(999)]
    log = _write(tmp_path, "slow.jsonl", [
        {"timestamp": 1.7e9 + i, "latency_ms": v, "status": "ok"} for i, v in enumerate(lat)])
    r = cli(["summary", log, "--max-p99-ms", "250", "-f", "json"])
    assert r.exit_code == 1
    doc = strict_json(r.stdout)
    assert "p99" in doc["latency_ms"]["insufficient"]
    (a,) = doc["alerts"]
    assert a["metric"] == "latency_ms.p99" and a["value"] == pytest.approx(np.percentile(lat, 99))
    # the bound is x_(k) moved towards x_(k+1) by the share of the binomial step where the
    # coverage 1 - F crosses 95%: k the largest with P(Binomial(999, 0.99) <= k) <= 0.05
    k = max(j for j in range(999) if binom.cdf(j, 999, 0.99) <= 0.05)
    f0, f1 = binom.cdf(k, 999, 0.99), binom.cdf(k + 1, 999, 0.99)
    s = sorted(lat)
    bound = s[k] + (0.05 - f0) / (f1 - f0) * (s[k + 1] - s[k])
    assert doc["latency_ms"]["p99_lower"] == pytest.approx(bound, rel=1e-12)
    # a limit above the bound (but below the estimate) is not proven crossed: no alert
    limit = (bound + np.percentile(lat, 99)) / 2
    r = cli(["summary", log, "--max-p99-ms", str(limit), "-f", "json"])
    assert r.exit_code == 0 and strict_json(r.stdout)["alerts"] == []


def test_one_error_in_one_request_is_not_critical(tmp_path: Path) -> None:
    log = _write(tmp_path, "one.jsonl", [{"timestamp": 1.7e9, "latency_ms": 900.0, "status": "error"}])
    r = cli(["summary", log, "--min-success-rate", "0.99", "--max-p99-ms", "1000", "-f", "json"])
    alerts = strict_json(r.stdout)["alerts"]
    assert [(a["metric"], a["severity"]) for a in alerts] == [("records", "warning")]
    assert "success_rate" in alerts[0]["message"] and "--min-samples 30" in alerts[0]["message"]
    # a percentile has a verdict at every n: one request of 900 ms proves the p99 above 100 ms
    # (were it at most 100 ms, a request would take longer only 1% of the time)
    r = cli(["summary", log, "--max-p99-ms", "100", "-f", "json"])
    assert [(a["metric"], a["severity"]) for a in strict_json(r.stdout)["alerts"]] == [
        ("latency_ms.p99", "warning")]
    assert cli(["summary", log, "--min-success-rate", "0.99", "--fail-on", "critical"]).exit_code == 0
    assert cli(["summary", log, "--min-success-rate", "0.99", "--min-samples", "1"]).exit_code == 1


def test_max_out_of_range_needs_a_range() -> None:
    r = cli(["summary", SAMPLE, "--max-out-of-range", "3"])
    assert r.exit_code == 2 and "--prediction-range" in error_line(r)


# --- conventions ------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["native", "python"])
def test_the_bad_line_examples_on_stderr_are_bad_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    if reader == "python":
        monkeypatch.setenv("MLMON_READER", "python")
    good = '{"timestamp": 1700000000, "latency_ms": 5, "status": "ok"}'
    lines = [f"banner line {i}" for i in range(8)] + [good, "", "{oops"] + [good] * 200
    log = tmp_path / "mixed.jsonl"
    log.write_text("\n".join(lines) + "\n")
    r = cli(["summary", str(log), "-f", "json"])
    assert r.exit_code == 0, r.stderr
    err = r.stderr.splitlines()
    at = err.index("mlmon: warning: 1 bad line(s) not used; the first:")
    assert err[at + 1].strip().endswith(":11: bad_json: {oops"), r.stderr
    doc = strict_json(r.stdout)
    assert {"bad_json", "non_record"} <= {e["reason"] for e in doc["input"]["examples"]}


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (["summary", "no-such-file.jsonl", "-f", "json"], 66, "no_input"),
        (["summary", SAMPLE, "--format", "json", "--bogus"], 2, "usage"),
        (["summary", SAMPLE, "--format=json", "--max-p99-ms", "x"], 2, "usage"),
        (["summary", SAMPLE, "-f", "json", "--latency-field", "latencyms", "--max-p99-ms", "3"], 65,
         "data_error"),
        (["drift", SAMPLE, "-f", "json"], 2, "usage"),
        (["drift", SAMPLE, "-f", "json", "-b", "no-such-baseline.json"], 66, "no_input"),
    ],
)
def test_a_failure_with_format_json_still_writes_json(args: list[str], code: int, kind: str) -> None:
    r = cli(args)
    assert r.exit_code == code, r.stderr
    doc = strict_json(r.stdout)
    assert doc["exit_code"] == code and doc["error"]["type"] == kind
    assert doc["error"]["message"] and r.stderr  # the one line on stderr stays


def test_a_failure_without_json_leaves_stdout_empty() -> None:
    r = cli(["summary", "no-such-file.jsonl"])
    assert r.exit_code == 66 and r.stdout == ""


def test_json_error_document_from_a_real_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "result.json"
    with out.open("w") as f:
        cmd = [sys.executable, "-m", "mlmon", "summary", str(tmp_path / "gone.jsonl"), "-f", "json"]
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 66
    assert strict_json(out.read_text()) == {
        "error": {"type": "no_input", "message": strict_json(out.read_text())["error"]["message"]},
        "exit_code": 66}
    assert b"mlmon: error:" in p.stderr


def test_shell_completion_is_offered() -> None:
    out = cli(["--help"]).stdout
    assert "--install-completion" in out and "--show-completion" in out


def test_version() -> None:
    from mlmon import __version__

    r = cli(["--version"])
    assert r.exit_code == 0 and r.stdout.split()[:2] == ["mlmon", __version__]


def test_an_empty_trend_window_is_a_records_alert_not_bad_data() -> None:
    r = cli(["trend", SAMPLE, "--every", "10m", "--since", "now-1h", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    doc = strict_json(r.stdout)
    assert doc["records"] == 0 and doc["windows"] == []
    assert [(a["metric"], a["severity"]) for a in doc["alerts"]] == [("records", "critical")]


def test_an_empty_compare_window_is_a_records_alert_not_bad_data() -> None:
    r = cli(["compare", SAMPLE, "--control", "v1.0", "--since", "now-1h", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    doc = strict_json(r.stdout)
    assert doc["records"] == 0 and doc["verdict"] == "no_records"
    assert [(a["metric"], a["severity"]) for a in doc["alerts"]] == [("records", "critical")]


def test_min_records_in_drift_is_an_alert_even_when_every_feature_is_insufficient(tmp_path: Path) -> None:
    five = tmp_path / "five.jsonl"
    five.write_text("".join(Path(SAMPLE).read_text().splitlines(keepends=True)[:5]))
    train = str(ROOT / "sample_logs" / "training.csv")
    r = cli(["drift", str(five), "--reference", train, "--min-records", "100", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    alerts = strict_json(r.stdout)["alerts"]
    assert ("records", "critical", 5) in [(a["metric"], a["severity"], a["value"]) for a in alerts]
    assert cli(["drift", str(five), "--reference", train]).exit_code == 65  # without it: no verdict
