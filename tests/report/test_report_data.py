"""build_report reads the logs once, and each part of it is what its own command gives: the
summary's, the drift's and the trend's JSON (the windows' length picked as the read goes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from report_logs import log_lines, write_log, write_training

import mlmon.api.report_data as rd
from mlmon.api import load_training
from mlmon.api.drift import detect_drift
from mlmon.api.report_data import auto_every, build_report
from mlmon.api.selection import Budget, Selection, _read, _serving_plan
from mlmon.api.summary import summarize
from mlmon.api.trend_report import trend
from mlmon.read.reader import ReadOptions
from mlmon.read.records import ReadPlan
from mlmon.report.render import drift_json, summary_json
from mlmon.report.trend import trend_json
from mlmon.rules.alerts import SummaryThresholds, Threshold
from mlmon.stats.grouped_windows import GroupedWindowAccumulator
from mlmon.stats.windows import WindowOptions


def _doc(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    doc.pop("input", None)  # the read's accounting: one read of both kinds of record (below)
    doc.pop("records_read", None)
    for key in ("freshness", "age_seconds"):
        doc.pop(key, None)
    return doc


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = rd._read

    def counted(*a: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(rd, "_read", counted)
    return calls


@pytest.mark.parametrize("every", [None, 3600 * 10**9])
def test_one_read_gives_summary_drift_and_trend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every: int | None
) -> None:
    train, log = tmp_path / "t.csv", tmp_path / "l.jsonl"
    write_training(train)
    write_log(log, hours=8, per_hour=240)
    base = load_training(str(train), exclude={"timestamp"}, max_edges=None)
    t = SummaryThresholds(max_p99_ms=Threshold(warning=150.0))
    paths = [str(log)]
    calls = _counting_reads(monkeypatch)
    data = build_report(paths, baseline=base, thresholds=t, every_ns=every)
    assert len(calls) == 1
    s = summarize(paths, plan=ReadPlan(by="model_version"), thresholds=t)
    assert _doc(summary_json(data.summary, by="model_version")) == _doc(summary_json(s, by="model_version"))
    d = detect_drift(paths, base)
    assert data.drift is not None
    assert _doc(drift_json(data.drift)) == _doc(drift_json(d))
    # the windows: the length picked from the span read (8 h: 15 minutes, 32 windows), as a read that
    # knew the span beforehand gives them
    length = every or auto_every(s.result.overall.span_seconds) * 10**9
    assert every is not None or length == 900 * 10**9
    tr = trend(paths, windows=WindowOptions(every_ns=length), thresholds=t, by="model_version",
               baseline=base if every else None)
    assert data.trend is not None
    assert _doc(trend_json(data.trend)) == _doc(trend_json(tr))
    assert len(data.trend.windows) == (8 if every else 32)
    # and the distributions the plots draw hold every value of each feature
    assert {x.name for x in data.distributions} == {f.name for f in base.features}


def test_records_of_one_kind_count_where_their_command_counts_them(tmp_path: Path) -> None:
    """A log where some lines have only serving fields and some only features: the summary
    counts the first, the drift the second, as `summary` and `drift` alone do."""
    train, log = tmp_path / "t.csv", tmp_path / "l.jsonl"
    write_training(train)
    lines = [json.loads(x) for x in log_lines(hours=2, per_hour=600)]
    for i, rec in enumerate(lines):
        if i % 4 == 1:
            del rec["input"]
        elif i % 4 == 2:
            for k in ("latency_ms", "status", "prediction"):
                del rec[k]
    log.write_text("".join(json.dumps(r) + "\n" for r in lines))
    base = load_training(str(train), exclude={"timestamp"}, max_edges=None)
    data = build_report([str(log)], baseline=base, every_ns=1800 * 10**9)
    lenient = Budget(max_bad=0.5)  # alone, each command finds a quarter of the lines without its fields
    s = summarize([str(log)], plan=ReadPlan(by="model_version"), budget=lenient)
    d = detect_drift([str(log)], base, budget=lenient)
    assert data.summary.records == s.records == 1200 - 300
    assert data.drift is not None and data.drift.records == d.records == 1200 - 300
    assert _doc(summary_json(data.summary, by="model_version")) == _doc(summary_json(s, by="model_version"))
    assert _doc(drift_json(data.drift)) == _doc(drift_json(d))
    assert data.summary.input.records == 1200  # the read's: a line with either is a record


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_windows_merged_into_longer_ones_are_the_longer_windows(
    tz: str, rng: np.random.Generator, tmp_path: Path
) -> None:
    """Minute windows merged step by step up to 3 hours equal 3-hour windows filled directly,
    across the autumn clock change (the repeated hour) and in a half-hour time zone."""
    start = datetime(2026, 10, 24, 18, 0, tzinfo=UTC)
    n = 4000
    secs = np.sort(rng.uniform(0, 2.5 * 86400, n))
    log = tmp_path / "dst.jsonl"
    log.write_text("".join(json.dumps({
        "timestamp": (start + timedelta(seconds=float(s))).isoformat(),
        "model_version": str(rng.choice(["v1", "v2"])),
        "latency_ms": round(float(rng.gamma(2.0, 20.0)), 3),
        "status": "success" if rng.random() < 0.97 else "error",
    }) + "\n" for s in secs))
    tables: list[pa.Table] = []
    plan, require = _serving_plan(ReadPlan(), "model_version", None)
    _read([str(log)], plan, require, ReadOptions(), Selection(), tables.append, None)
    table = pa.concat_tables(tables)
    assert table.num_rows == n
    direct = GroupedWindowAccumulator(WindowOptions(every_ns=3 * 3600 * 10**9, timezone=tz))
    merged = GroupedWindowAccumulator(WindowOptions(every_ns=60 * 10**9, timezone=tz))
    for part in (table.slice(0, 1500), table.slice(1500, 1000), table.slice(2500)):
        direct.update(part)
        merged.update(part)
        if part.num_rows == 1000:
            merged.coarsen(900 * 10**9)
    merged.coarsen(3600 * 10**9)
    merged.update(table.slice(0, 0))
    merged.coarsen(3 * 3600 * 10**9)
    a, b = direct.result(), merged.result()
    assert [g.group for g in a] == [g.group for g in b] and len(a) == 2
    for ga, gb in zip(a, b, strict=True):
        assert [w.window_start for w in ga.windows] == [w.window_start for w in gb.windows]
        assert [w.summary.records for w in ga.windows] == [w.summary.records for w in gb.windows]
        for wa, wb in zip(ga.windows, gb.windows, strict=True):
            assert wa.summary.latency_ms.p99 == wb.summary.latency_ms.p99
            assert wa.summary.success_rate == wb.summary.success_rate
            assert wa.summary.latency_ms.mean == pytest.approx(wb.summary.latency_ms.mean, rel=1e-12)
    assert sum(w.summary.records for w in a[0].windows) + sum(w.summary.records for w in a[1].windows) == n
    with pytest.raises(ValueError, match="do not merge"):
        merged.overall.coarsen(3600 * 10**9)
