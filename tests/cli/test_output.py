"""Table output as people and cron see it: verdict line, --quiet, width, readable numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from corpus import cli, dumps, join, newest_age, record

from mlmon.numfmt import p_value

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
LONG_VERSION = "churn-xgb-2026.11.01-retrain-weekly-with-calibration"


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def _log(tmp_path: Path, n: int = 300) -> Path:
    lines = [dumps(record(i, model_version=LONG_VERSION if i % 2 else "v1")) for i in range(n)]
    path = tmp_path / "pred.jsonl"
    path.write_bytes(join(lines))
    return path


def _width(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_first_line_is_the_verdict() -> None:
    ok = cli(["summary", str(SAMPLES / "predictions.jsonl")])
    assert ok.exit_code == 0
    age = newest_age(SAMPLES / "predictions.jsonl")  # the sample log is weeks old: the line says so
    assert ok.stdout.splitlines()[0] == f"OK: 2000 records, {age}, no alerts"
    log = str(SAMPLES / "predictions.jsonl")
    args = ["summary", log, "--max-p99-ms", "100", "--min-success-rate", "0.99"]
    bad = cli(args)
    assert bad.exit_code == 1
    doc = json.loads(cli([*args, "-f", "json"]).stdout)
    crit = sum(a["severity"] == "critical" for a in doc["alerts"])
    warn = sum(a["severity"] == "warning" for a in doc["alerts"])
    assert crit and warn
    first = bad.stdout.splitlines()[0]
    expected = f"ALERT: {crit} critical, {warn} warning{'s' if warn > 1 else ''}"
    assert first.startswith(expected), first


def test_quiet_prints_only_the_verdict_and_the_alerts() -> None:
    args = ["drift", str(SAMPLES / "predictions.jsonl"), "--reference", str(SAMPLES / "training.csv")]
    full = cli([*args, "-f", "json"])
    alerts = json.loads(full.stdout)["alerts"]
    assert alerts
    quiet = cli([*args, "--quiet"])
    assert quiet.exit_code == 1
    lines = quiet.stdout.splitlines()
    assert lines[0].startswith(f"ALERT: {len(alerts)} warning")
    assert len(lines) == 1 + len(alerts)  # one line each: redirected output is as wide as it needs
    for line, a in zip(lines[1:], alerts, strict=True):
        assert line == f"{a['severity'].upper()} {a['metric']}: {a['message']}"
    ok = cli(["summary", str(SAMPLES / "predictions.jsonl"), "-q"])
    assert ok.stdout == f"OK: 2000 records, {newest_age(SAMPLES / 'predictions.jsonl')}, no alerts\n"


def test_redirected_output_is_as_wide_as_its_content(tmp_path: Path) -> None:
    """Off a terminal nothing is cut at a fixed 120 columns: long model versions stay whole."""
    path = _log(tmp_path)
    r = cli(["summary", str(path)])
    assert r.exit_code == 0
    assert "…" not in r.stdout
    assert any(LONG_VERSION in line for line in r.stdout.splitlines())
    assert _width(r.stdout) > 120  # the group table needs more than the old fixed width


def test_columns_and_width_are_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _log(tmp_path)
    for width in (60, 80, 200):
        monkeypatch.setenv("COLUMNS", str(width))
        text = cli(["summary", str(path)]).stdout
        assert _width(text) <= width and "…" not in text
        monkeypatch.delenv("COLUMNS")
        text = cli(["summary", str(path), "--width", str(width)]).stdout
        assert _width(text) <= width and "…" not in text
        if width == 200:
            assert _width(text) < 200  # as wide as needed, no padding to the screen's width
            assert any(LONG_VERSION in line for line in text.splitlines())
    monkeypatch.setenv("COLUMNS", "200")
    assert _width(cli(["summary", str(path), "--width", "70"]).stdout) <= 70  # --width wins


def test_numbers_are_readable_and_p_values_agree_with_alerts() -> None:
    args = ["drift", str(SAMPLES / "predictions.jsonl"), "--reference", str(SAMPLES / "training.csv")]
    doc = json.loads(cli([*args, "-f", "json"]).stdout)
    table = cli([*args, "--width", "200"]).stdout
    income = next(f for f in doc["features"] if f["name"] == "income")
    assert income["mean"] > 10_000
    assert f"{round(income['mean']):,}" in table  # 68,430 -- not 6.843e+04
    assert "e+0" not in table
    assert "0.00 sd" not in table
    for a in doc["alerts"]:
        if a["metric"] == "drift.multivariate":  # the joint test: its own JSON object and table line
            shown = p_value(doc["multivariate"]["p_value_adjusted"])
            assert f"adjusted p {shown} " in a["message"]
            assert f"adjusted p {shown}:" in " ".join(table.split())
        elif a["metric"].startswith("drift."):
            f = next(f for f in doc["features"] if f"drift.{f['name']}" == a["metric"])
            shown = p_value(f["p_value_adjusted"])
            assert f"adjusted p {shown} " in a["message"]
            row = next(line for line in table.splitlines() if re.search(rf"│ {f['name']} +│", line))
            assert f" {shown} " in row


@pytest.mark.parametrize("width", [60, 80, 120])
def test_trend_and_compare_tables_fit_without_cutting(width: int) -> None:
    log = str(SAMPLES / "predictions.jsonl")
    ref = str(SAMPLES / "training.csv")
    for args in (["trend", log, "--every", "10m", "--reference", ref], ["compare", log, "--control", "v1.0"]):
        r = cli([*args, "--width", str(width)])
        assert r.exit_code in (0, 1), r.stderr
        assert "…" not in r.stdout, r.stdout
        assert _width(r.stdout) <= width
    doc = json.loads(cli(["trend", log, "--every", "10m", "-f", "json"]).stdout)
    text = cli(["trend", log, "--every", "10m", "--width", str(width)]).stdout
    for w in doc["windows"]:
        p99 = w["latency_ms"]["p99"]
        shown = f"{p99:,.1f}" + ("*" if "p99" in w["latency_ms"]["insufficient"] else "")
        assert shown in text, shown


def test_check_table_fits_without_cutting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mlmon.toml"
    config.write_text(
        f'logs = ["{SAMPLES / "predictions.jsonl"}"]\n\n'
        '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 100\ncritical = 400\nby = "model_version"\n\n'
        '[[rules]]\nmetric = "success_rate"\nwarning = 0.99\ncritical = 0.95\n'
    )
    for width in (50, 80):
        monkeypatch.setenv("COLUMNS", str(width))
        r = cli(["check", "--config", str(config)])
        assert r.exit_code == 1, r.stderr
        assert "…" not in r.stdout and _width(r.stdout) <= width
        assert "latency_ms.p99" in r.stdout and "success_rate" in r.stdout
