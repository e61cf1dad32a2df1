"""Accumulators per group called directly: drift per --by value and windows per --by value, each
equal to the same accumulator fed that group's records alone."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from mlmon.errors import OptionError
from mlmon.read.records import (
    CONFIDENCE,
    FEATURE_PREFIX,
    LATENCY,
    PRED_CLASS,
    PRED_VALUE,
    SEQ,
    SUCCESS,
    TIMESTAMP,
)
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions
from mlmon.stats.grouped import ByGroup, GroupedDriftAccumulator
from mlmon.stats.grouped_windows import GroupedWindowAccumulator
from mlmon.stats.summary import GROUP, SummaryOptions
from mlmon.stats.windows import WindowAccumulator, WindowOptions

H = 3600 * 10**9
T0 = int(datetime.fromisoformat("2026-11-01T10:00:00+00:00").timestamp()) * 10**9


def _base(rng: np.random.Generator) -> bl.Baseline:
    return bl.build(pa.table({"x": rng.normal(0, 1, 1000)}), source="t", max_edges=None)


def _drift_of(base: bl.Baseline, x: np.ndarray, options: DriftOptions | None = None) -> tuple:
    alone = DriftAccumulator(base)
    alone.update(pa.table({FEATURE_PREFIX + "x": x}))
    return alone.result(options)


# --------------------------------------------------------------------- drift per group


def test_each_group_drifts_as_its_own_records_alone(rng: np.random.Generator) -> None:
    base = _base(rng)
    x = np.concatenate((rng.normal(0, 1, 300), rng.normal(2, 1, 200), rng.normal(0, 1, 100)))
    groups = ["b"] * 300 + [None] * 200 + ["a"] * 100  # the records without the field come last
    t = pa.table({FEATURE_PREFIX + "x": x, GROUP: pa.array(groups, pa.string())})
    acc = GroupedDriftAccumulator(base)
    assert acc.baseline is base and acc.max_groups == 100
    acc.update(t)
    acc.update(t.slice(0, 0))  # an empty table adds no group
    got = acc.result()
    assert [(g.group, g.records) for g in got] == [("a", 100), ("b", 300), (None, 200)]
    for g, part in zip(got, (x[500:], x[:300], x[300:500]), strict=True):
        assert g.features == _drift_of(base, part)
    assert acc.overall.result() == _drift_of(base, x)  # the overall holds every record
    # the options given to result are the ones each group is judged with
    strict = DriftOptions(p_threshold=1e-300)
    assert acc.result(strict)[2].features == _drift_of(base, x[300:500], strict)
    assert any(f.drift for f in got[2].features)
    assert not any(f.drift for f in acc.result(strict)[2].features)


def test_merged_parts_equal_the_whole(rng: np.random.Generator) -> None:
    base = _base(rng)
    x = rng.normal(0.5, 1, 600)
    groups = np.array(["a", "b", "c"])[rng.integers(0, 3, 600)]
    groups[:200] = np.where(groups[:200] == "c", "a", groups[:200])  # c only in the second part
    t = pa.table({FEATURE_PREFIX + "x": x, GROUP: groups.tolist()})
    whole = GroupedDriftAccumulator(base)
    whole.update(t)
    first, second = GroupedDriftAccumulator(base), GroupedDriftAccumulator(base)
    first.update(t.slice(0, 200))
    second.update(t.slice(200))
    first.merge(second)
    assert first.records == whole.records
    assert [f.n for f in first.overall.result()] == [600]
    for g, w in zip(first.result(), whole.result(), strict=True):
        assert (g.group, g.records) == (w.group, w.records)
        assert [f.statistic for f in g.features] == pytest.approx([f.statistic for f in w.features])
        assert [f.n for f in g.features] == [f.n for f in w.features]


def test_more_groups_than_allowed_is_a_usage_error(rng: np.random.Generator) -> None:
    acc = GroupedDriftAccumulator(_base(rng), max_groups=2)
    acc.update(pa.table({FEATURE_PREFIX + "x": [1.0, 2.0], GROUP: ["a", "b"]}))  # two: allowed
    acc.update(pa.table({FEATURE_PREFIX + "x": [1.0], GROUP: ["a"]}))
    assert acc.records == {"a": 2, "b": 1}  # a group's records over every table
    with pytest.raises(OptionError, match="more than 2 distinct values"):
        acc.update(pa.table({FEATURE_PREFIX + "x": [1.0], GROUP: ["c"]}))


def test_the_end_of_a_file_is_passed_to_every_accumulator(rng: np.random.Generator) -> None:
    acc = GroupedDriftAccumulator(_base(rng))
    acc.update(pa.table({FEATURE_PREFIX + "x": [1.0, 2.0, 3.0], GROUP: ["a", "b", "a"]}))
    held = [acc.overall, *acc.groups.values()]
    assert all(a._held for a in held)
    acc.file_done()
    assert not any(a._held for a in held)
    # an accumulator without file_done (windows) is passed over
    windows = ByGroup(lambda: WindowAccumulator(WindowOptions(every_ns=H)), 10)
    windows.update(_table([T0], ["a"]))
    windows.file_done()
    assert list(windows.records.items()) == [("a", 1)]


# --------------------------------------------------------------------- windows per group


def _table(ts: list[int], groups: list[str | None]) -> pa.Table:
    n = len(ts)
    return pa.table({
        LATENCY: pa.array([float(i) for i in range(n)], pa.float64()),
        SUCCESS: pa.array([True] * n, pa.bool_()),
        PRED_CLASS: pa.nulls(n, pa.string()),
        CONFIDENCE: pa.nulls(n, pa.float64()),
        PRED_VALUE: pa.nulls(n, pa.float64()),
        SEQ: pa.array(np.arange(n), pa.int64()),
        TIMESTAMP: pa.array(ts, pa.timestamp("ns", tz="UTC")),
        GROUP: pa.array(groups, pa.string()),
    })


def test_group_windows_share_the_rows_of_all_records() -> None:
    """A group's clock windows run over the same rows as all records' (0 records where the group
    had none); each row holds that group's records only."""
    acc = GroupedWindowAccumulator(WindowOptions(every_ns=H, min_records=1), max_groups=5)
    acc.update(_table([T0, T0 + H, T0 + 2 * H, T0 + 2 * H], ["b", "a", None, "b"]))
    got = acc.result()
    assert [(g.group, g.records) for g in got] == [("a", 1), ("b", 2), (None, 1)]
    rows = {g.group: [(w.start_ns, w.summary.records) for w in g.windows] for g in got}
    assert rows == {"a": [(T0, 0), (T0 + H, 1), (T0 + 2 * H, 0)],
                    "b": [(T0, 1), (T0 + H, 0), (T0 + 2 * H, 1)],
                    None: [(T0, 0), (T0 + H, 0), (T0 + 2 * H, 1)]}
    assert [w.summary.records for w in acc.overall.result()] == [1, 1, 2]
    assert acc.max_groups == 5
    with pytest.raises(OptionError, match="more than 5 distinct values"):
        acc.update(_table([T0] * 3, ["c", "d", "e"]))


def test_group_windows_are_judged_with_the_options_given(rng: np.random.Generator) -> None:
    base = _base(rng)
    n = 200
    t = _table([T0 + i * 10**9 for i in range(n)], ["a"] * n).append_column(
        FEATURE_PREFIX + "x", pa.array(rng.normal(1.5, 1, n)))
    acc = GroupedWindowAccumulator(WindowOptions(every_ns=H, min_records=10), baseline=base)
    acc.update(t)
    ((a,),) = [g.windows for g in acc.result()]
    assert a.drifted == ("x",) and a.status == "ok"
    ((strict,),) = [g.windows for g in acc.result(DriftOptions(p_threshold=1e-300))]
    assert strict.drifted == () and strict.features[0].n == n


def test_record_count_windows_per_group_use_the_options_given() -> None:
    acc = GroupedWindowAccumulator(WindowOptions(every_records=2, min_records=1))
    acc.update(_table([T0 + i for i in range(5)], ["a", "b", "a", "a", "b"]))
    got = {g.group: [w.summary.records for w in g.windows] for g in acc.result()}
    assert got == {"a": [2, 1], "b": [2]}


def test_coarsened_groups_equal_a_read_with_the_longer_length() -> None:
    """Coarsening merges every group's windows, and a group first seen after it gets the longer
    windows too."""
    acc = GroupedWindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(_table([T0, T0 + H, T0 + 2 * H], ["a", "a", "b"]))
    acc.coarsen(2 * H)
    acc.update(_table([T0 + 3 * H], ["c"]))
    assert acc.groups["c"].options.every_ns == 2 * H
    direct = GroupedWindowAccumulator(WindowOptions(every_ns=2 * H, min_records=1))
    direct.update(_table([T0, T0 + H, T0 + 2 * H, T0 + 3 * H], ["a", "a", "b", "c"]))
    shape = [(g.group, g.records, [(w.start_ns, w.end_ns, w.summary.records) for w in g.windows])
             for g in acc.result()]
    assert shape == [(g.group, g.records, [(w.start_ns, w.end_ns, w.summary.records) for w in g.windows])
                     for g in direct.result()]
    assert shape[0] == ("a", 2, [(T0, T0 + 2 * H, 2), (T0 + 2 * H, T0 + 4 * H, 0)])
    assert [w.end_ns - w.start_ns for w in acc.overall.result()] == [2 * H, 2 * H]


def test_at_most_100_groups_by_default() -> None:
    acc = GroupedWindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(_table([T0] * 100, [f"g{i:03d}" for i in range(100)]))
    assert len(acc.result()) == 100
    with pytest.raises(OptionError, match="more than 100 distinct values"):
        acc.update(_table([T0], ["one more"]))


def test_group_windows_use_the_summary_and_drift_options_given(rng: np.random.Generator) -> None:
    conf = [0.6, 0.7, 0.95, 0.99]
    t = _table([T0 + i for i in range(4)], ["a"] * 4).set_column(
        3, CONFIDENCE, pa.array(conf, pa.float64()))
    acc = GroupedWindowAccumulator(WindowOptions(every_ns=H, min_records=1),
                                   summary=SummaryOptions(low_confidence=0.9))
    acc.update(t)
    ((w,),) = [g.windows for g in acc.result()]
    assert w.summary.confidence.low_share == 2 / 4  # below 0.9: 0.6 and 0.7
    base = _base(rng)
    n = 200
    moved = _table([T0 + i for i in range(n)], ["a"] * n).append_column(
        FEATURE_PREFIX + "x", pa.array(rng.normal(1.5, 1, n)))
    strict = DriftOptions(p_threshold=1e-300)
    judged = {}
    for drift in (None, strict):
        acc = GroupedWindowAccumulator(WindowOptions(every_records=100, min_records=10), baseline=base,
                                       drift=drift)
        acc.update(moved)
        judged[drift] = [w.drifted for w in acc.result()[0].windows]
    assert judged == {None: [("x",), ("x",)], strict: [(), ()]}
