"""`mlmon trend` on awkward logs: a DST fold, unsorted input with record windows, an empty
selection, week windows, and records without a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from mlmon.cli import app

runner = CliRunner()


def _write(path: Path, times: list[datetime | None], rng: np.random.Generator) -> Path:
    recs = [{**({"timestamp": t.isoformat()} if t is not None else {}),
             "latency_ms": float(round(rng.gamma(2, 10), 2)), "status": "ok"} for t in times]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def test_the_repeated_autumn_hour_shows_its_offset(tmp_path: Path, rng: np.random.Generator) -> None:
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 00:00 CEST; clocks go back at 01:00Z
    log = _write(tmp_path / "dst.jsonl", [start + timedelta(minutes=i) for i in range(6 * 60)], rng)
    result = runner.invoke(app, ["trend", str(log), "--every", "1h", "--log-timezone", "Europe/Berlin",
                                 "--width", "160"])
    assert result.exit_code == 0, result.stderr
    assert "2026-10-25 02:00+02:00" in result.stdout and "2026-10-25 02:00+01:00" in result.stdout
    # without a fold, the plain wall-clock start
    result = runner.invoke(app, ["trend", str(log), "--every", "1h", "--width", "160"])
    assert "2026-10-25 02:00 " in result.stdout and "+00:00" not in result.stdout


def test_record_windows_of_an_unsorted_log_say_so(tmp_path: Path, rng: np.random.Generator) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    times: list[datetime | None] = [start + timedelta(seconds=int(s)) for s in rng.permutation(250)]
    log = _write(tmp_path / "unsorted.jsonl", [*times, None], rng)
    result = runner.invoke(app, ["trend", str(log), "--every", "100", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [w["records"] for w in doc["windows"]] == [100, 100, 50]
    assert doc["without_timestamp"] == 1 and doc["out_of_order"] > 0
    # each window spans its own records' times, in read order
    secs = [int((t - start).total_seconds()) for t in times if t is not None]
    for w, part in zip(doc["windows"], (secs[:100], secs[100:200], secs[200:]), strict=True):
        assert w["window_start"] == (start + timedelta(seconds=min(part))).isoformat().replace("+00:00", "Z")
    table = runner.invoke(app, ["trend", str(log), "--every", "100", "--width", "200"])
    assert "out of time order" in table.stdout
    # sorted, the same log has no such note
    ordered = _write(tmp_path / "sorted.jsonl", sorted(times), rng)  # type: ignore[type-var]
    doc = json.loads(runner.invoke(app, ["trend", str(ordered), "--every", "100", "-f", "json"]).stdout)
    assert doc["out_of_order"] == 0


def test_an_empty_selection_has_no_window_table(tmp_path: Path, rng: np.random.Generator) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    log = _write(tmp_path / "log.jsonl", [start + timedelta(minutes=i) for i in range(60)], rng)
    result = runner.invoke(app, ["trend", str(log), "--every", "1h", "--since", "2027-01-01"])
    assert result.exit_code == 1
    assert "Windows of" not in result.stdout and "0 records in the window" in result.stdout


def test_week_windows_start_on_monday(tmp_path: Path, rng: np.random.Generator) -> None:
    start = datetime(2026, 11, 5, tzinfo=UTC)  # a Thursday
    log = _write(tmp_path / "log.jsonl", [start + timedelta(hours=i) for i in range(24 * 10)], rng)
    doc = json.loads(runner.invoke(app, ["trend", str(log), "--every", "1w", "-f", "json"]).stdout)
    starts = [datetime.fromisoformat(w["window_start"]) for w in doc["windows"]]
    assert [s.weekday() for s in starts] == [0, 0] and starts[0] == datetime(2026, 11, 2, tzinfo=UTC)
    assert [w["records"] for w in doc["windows"]] == [96, 144]
