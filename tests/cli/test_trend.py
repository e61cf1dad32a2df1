"""`mlmon trend` end to end: windows against a plain per-hour computation, exit codes, escaping."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from mlmon.api import trend
from mlmon.cli import app
from mlmon.report.trend import sparkline, trend_table
from mlmon.stats.windows import WindowOptions

runner = CliRunner()
START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def _log(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, list[dict[str, object]]]:
    recs = []
    for i in range(3000):
        hour = i // 500
        if hour == 3:
            continue  # no traffic from 03:00 to 04:00
        recs.append({
            "timestamp": (START + timedelta(seconds=i * 7.2)).isoformat(),
            "latency_ms": float(round(rng.gamma(2, 10), 2)),
            "status": "success" if rng.random() < 0.97 else "error",
            "prediction": {"class": "a", "confidence": float(rng.random())},
        })
    recs.append({"latency_ms": 5.0, "status": "success"})  # no time: in no window
    order = rng.permutation(len(recs))
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(recs[i]) + "\n" for i in order))
    return path, recs


def test_trend_json_matches_a_plain_per_hour_computation(tmp_path: Path, rng: np.random.Generator) -> None:
    path, recs = _log(tmp_path, rng)
    result = runner.invoke(app, ["trend", str(path), "--every", "1h", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["without_timestamp"] == 1 and doc["records"] == len(recs)
    hours = [w["window_start"] for w in doc["windows"]]
    assert hours == [f"2026-11-01T{h:02d}:00:00Z" for h in range(6)]
    for w in doc["windows"]:
        lo = datetime.fromisoformat(w["window_start"])
        inside = [r for r in recs if "timestamp" in r
                  and lo <= datetime.fromisoformat(str(r["timestamp"])) < lo + timedelta(hours=1)]
        assert w["records"] == len(inside)
        if not inside:
            assert w["status"] == "empty" and w["latency_ms"]["p99"] is None
            continue
        lat = np.array([r["latency_ms"] for r in inside])
        assert w["latency_ms"]["p99"] == float(np.percentile(lat, 99))
        assert w["success_rate"] == sum(r["status"] == "success" for r in inside) / len(inside)
        if w["partial"]:  # the log ends inside its last hour: the rate is over the span it covers
            assert w is doc["windows"][-1]
            newest = max(datetime.fromisoformat(str(r["timestamp"])) for r in inside)
            span = (newest - lo).total_seconds()
            assert w["requests_per_second"] == pytest.approx(len(inside) / span, rel=1e-12)
        else:
            assert w["requests_per_second"] == len(inside) / 3600
        assert w["window_end"] == (lo + timedelta(hours=1)).isoformat().replace("+00:00", "Z")


def test_trend_table_shows_empty_windows_and_sparklines(tmp_path: Path, rng: np.random.Generator) -> None:
    path, _ = _log(tmp_path, rng)
    rep = trend([str(path)], windows=WindowOptions(every_ns=3600 * 10**9))
    console = Console(record=True, width=120)
    console.print(trend_table(rep, sparklines=True))
    text = console.export_text()
    assert "no traffic" in text and "Trend" in text and "without a timestamp" in text
    # one sparkline character per window, a gap for the empty one
    line = next(x for x in text.splitlines() if x.strip("│ ").startswith("latency_ms.p99"))
    assert any(ch in line for ch in "▁▂▃▄▅▆▇█")
    assert sparkline([1.0, None, 3.0]) == "▁ █"


def test_trend_options_are_checked() -> None:
    for args, msg in ((["--every", "soon"], "--every"), (["--every", "1h", "--for", "0"], "--for"),
                      (["--every", "0"], "at least 1")):
        result = runner.invoke(app, ["trend", "sample_logs/predictions.jsonl", *args])
        assert result.exit_code == 2 and msg in result.stderr


def test_trend_needs_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"latency_ms": 5, "status": "ok"}\n' * 3)
    result = runner.invoke(app, ["trend", str(path), "--every", "1h"])
    assert result.exit_code == 65 and "timestamp" in result.stderr


def test_a_thin_last_window_is_never_a_pass(tmp_path: Path) -> None:
    lines = [json.dumps({"timestamp": (START + timedelta(seconds=i)).isoformat(), "latency_ms": 5.0,
                         "status": "ok"}) for i in range(100)]
    lines.append(json.dumps({"timestamp": (START + timedelta(hours=2)).isoformat(), "latency_ms": 5.0,
                             "status": "ok"}))
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["trend", str(path), "--every", "1h", "--max-p99-ms", "100"])
    assert result.exit_code == 65 and "nothing to check now" in result.stderr
    # without a rule, trend only reports
    assert runner.invoke(app, ["trend", str(path), "--every", "1h"]).exit_code == 0


def test_trend_table_opens_with_its_verdict(tmp_path: Path, rng: np.random.Generator) -> None:
    path, recs = _log(tmp_path, rng)
    lat = np.array([r["latency_ms"] for r in recs if "timestamp" in r])
    healthy = runner.invoke(app, ["trend", str(path), "--every", "1h"])
    assert healthy.exit_code == 0, healthy.stderr
    first = healthy.stdout.splitlines()[0]
    assert re.fullmatch(rf"OK: {len(recs)} records, newest [^,]+ ago, no alerts", first), first
    low = float(np.percentile(lat, 50))  # every hour's p99 is above its overall median
    alert = runner.invoke(app, ["trend", str(path), "--every", "1h", "--max-p99-ms", str(low)])
    assert alert.exit_code == 1, alert.stderr
    assert alert.stdout.splitlines()[0].startswith(f"ALERT: 1 warning ({len(recs)} records, newest ")
