"""`mlmon trend` on a log whose last window is still filling: shown, marked, and not judged by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mlmon.cli import app

runner = CliRunner()
START = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def _log(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, list[datetime]]:
    """Three full 10-minute windows at 1 record/s of fast requests, then 3 minutes of slow ones."""
    lines, times = [], []
    for s in range(30 * 60 + 3 * 60):
        t = START + timedelta(seconds=s, milliseconds=int(rng.integers(0, 1000)))
        slow = s >= 30 * 60
        lat = float(rng.gamma(2, 10)) + (500.0 if slow else 0.0)
        lines.append(json.dumps({"timestamp": t.isoformat(), "latency_ms": round(lat, 2), "status": "ok"}))
        times.append(t)
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, times


def _run(path: Path, *extra: str) -> tuple[int, dict[str, object], str]:
    args = ["trend", str(path), "--every", "10m", "--max-p99-ms", "250", "-f", "json", *extra]
    r = runner.invoke(app, args)
    return r.exit_code, json.loads(r.stdout), r.stderr


def test_a_partial_last_window_is_marked_and_not_judged(tmp_path: Path, rng: np.random.Generator) -> None:
    path, times = _log(tmp_path, rng)
    code, doc, err = _run(path)
    windows = doc["windows"]
    assert isinstance(windows, list) and len(windows) == 4
    assert [w["partial"] for w in windows] == [False, False, False, True]
    last = windows[-1]
    assert last["alerts"] and last["alerts"][0]["metric"] == "latency_ms.p99"  # it crossed, and shows it
    assert code == 0 and doc["alerts"] == []
    assert "partial" in err and "--include-partial" in err
    # its rate counts over the span it covers (window start to the newest record), not 10 minutes
    lo = START + timedelta(minutes=30)
    inside = [t for t in times if t >= lo]
    span = (max(times) - lo).total_seconds()
    assert last["records"] == len(inside)
    assert last["requests_per_second"] == pytest.approx(len(inside) / span, rel=1e-9)
    assert last["requests_per_second"] > 0.9  # 1/s, not the 0.3/s a 10-minute divisor gives
    for w in windows[:-1]:
        assert w["requests_per_second"] == pytest.approx(w["records"] / 600, rel=1e-12)


def test_include_partial_judges_it(tmp_path: Path, rng: np.random.Generator) -> None:
    path, _ = _log(tmp_path, rng)
    code, doc, _ = _run(path, "--include-partial")
    assert code == 1
    assert [a["metric"] for a in doc["alerts"]] == ["latency_ms.p99"]


def test_until_inside_the_last_window_makes_it_partial(tmp_path: Path, rng: np.random.Generator) -> None:
    path, _ = _log(tmp_path, rng)
    # --until at 00:35 ends the selection inside the 00:30 window; 00:40 ends it exactly at its end
    code, doc, _ = _run(path, "--until", "2026-11-01T00:35:00Z")
    assert code == 0 and doc["windows"][-1]["partial"]
    assert doc["windows"][-1]["requests_per_second"] == pytest.approx(doc["windows"][-1]["records"] / 300)
    code, doc, _ = _run(path, "--until", "2026-11-01T00:40:00Z")
    assert code == 1 and not doc["windows"][-1]["partial"]


def test_for_counts_complete_windows_only(tmp_path: Path, rng: np.random.Generator) -> None:
    path, _ = _log(tmp_path, rng)
    r = runner.invoke(app, ["trend", str(path), "--every", "10m", "--max-p99-ms", "250", "--for", "4"])
    assert r.exit_code == 65 and "3 complete" in r.stderr


def test_the_table_marks_it(tmp_path: Path, rng: np.random.Generator) -> None:
    path, _ = _log(tmp_path, rng)
    args = ["trend", str(path), "--every", "10m", "--max-p99-ms", "250"]
    r = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert r.exit_code == 0
    assert "00:30 ~" in r.stdout and "~ partial" in r.stdout
