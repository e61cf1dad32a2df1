"""Summary's compiled per-table pass against its pyarrow/numpy pass (the definition)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlmon.errors import OptionError
from mlmon.read.records import CONFIDENCE, GROUP, LATENCY, PRED_CLASS, PRED_VALUE, SUCCESS, TIMESTAMP
from mlmon.stats import summaryshares
from mlmon.stats.classes import EXACT_CLASSES
from mlmon.stats.summary import CONFIDENCE_EDGES, SummaryAccumulator, SummaryOptions, SummaryResult

native = pytest.importorskip("mlmon._native")
if not hasattr(native, "summary_block"):
    pytest.skip("the compiled module predates the summary pass", allow_module_level=True)

TS = pa.timestamp("ns", tz="UTC")


def table(rows: list[dict[str, Any]], *, by: bool = True) -> pa.Table:
    cols: dict[str, pa.Array] = {}
    if by:
        cols[GROUP] = pa.array([r.get("g") for r in rows], pa.string())
    cols[LATENCY] = pa.array([r.get("lat") for r in rows], pa.float64())
    cols[SUCCESS] = pa.array([r.get("ok") for r in rows], pa.bool_())
    cols[PRED_CLASS] = pa.array([r.get("cls") for r in rows], pa.string())
    cols[CONFIDENCE] = pa.array([r.get("conf") for r in rows], pa.float64())
    cols[PRED_VALUE] = pa.array([r.get("val") for r in rows], pa.float64())
    cols[TIMESTAMP] = pa.array([r.get("ts") for r in rows], TS)
    return pa.table(cols)


def run(tables: list[pa.Table], *, compiled: bool,
        options: SummaryOptions | None = None) -> tuple[SummaryAccumulator, SummaryResult]:
    with pytest.MonkeyPatch.context() as m:
        if compiled:
            m.delenv(summaryshares.READER_ENV, raising=False)
        else:
            m.setenv(summaryshares.READER_ENV, "python")
        assert summaryshares.enabled() is compiled
        acc = SummaryAccumulator(options)
        for t in tables:
            acc.update(t)
        return acc, acc.result()


def state(acc: SummaryAccumulator) -> list[Any]:
    """Everything the accumulator holds, in its order (groups and classes as first seen)."""
    out: list[Any] = []
    for key, s in acc.groups.items():
        classes = list(s.classes.exact.items()) if s.classes.exact is not None else s.classes.total
        out.append((repr(key), s.records, s.status_n, s.successes, s.latency.sum.partials,
                    [a.tolist() for a in s.latency.arrays()], classes, s.conf_n, s.conf_sum.partials,
                    s.conf_low, s.conf_hist.tolist(), s.value_n, s.value_outside, s.ts_min, s.ts_max))
    return out


def same(tables: list[pa.Table], options: SummaryOptions | None = None, *, taken: bool = True) -> None:
    o = options or SummaryOptions()
    for t in tables:
        got = summaryshares.shares(t, low_confidence=o.low_confidence, prediction_range=o.prediction_range,
                                   edges=CONFIDENCE_EDGES)
        assert (got is not None) is (taken and t.num_rows > 0)  # the compiled pass ran on it
    a, ra = run(tables, compiled=True, options=options)
    b, rb = run(tables, compiled=False, options=options)
    assert state(a) == state(b)
    assert ra == rb


keys = st.one_of(
    st.none(),
    st.sampled_from(["v1", "v2", "", "(none)", "a-very-long-group-name-1", "a-very-long-group-name-2",
                     "abcdefg", "abcdefgh", "abcdefgh1", "é", "日本"]),
    st.text(max_size=12),
)
floats = st.floats(0, 1e6, allow_nan=False)
row = st.fixed_dictionaries({}, optional={
    "g": keys,
    "lat": st.one_of(st.none(), floats, st.sampled_from([0.0, -0.0, 1e-300])),
    "ok": st.one_of(st.none(), st.booleans()),
    "cls": keys,
    "conf": st.one_of(st.none(), st.floats(0, 1), st.sampled_from(CONFIDENCE_EDGES)),
    "val": st.one_of(st.none(), st.floats(-10, 10)),
    "ts": st.one_of(st.none(), st.integers(-(2**62), 2**62)),
})


@settings(max_examples=300, deadline=None)
@given(
    blocks=st.lists(st.lists(row, max_size=40), min_size=1, max_size=4),
    by=st.booleans(),
    cut=st.integers(0, 5),
    chunked=st.booleans(),
    lo_hi=st.one_of(st.none(), st.tuples(st.floats(-5, 0), st.floats(0, 5))),
    low=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
)
def test_any_tables(blocks: list[list[dict[str, Any]]], by: bool,
                    cut: int, chunked: bool, lo_hi: tuple[float, float] | None, low: float) -> None:
    tables = []
    for rows in blocks:
        t = table(rows, by=by)
        if cut and t.num_rows > cut:  # a slice: buffers read from an offset (bit offsets too)
            t = t.slice(cut, t.num_rows - cut)
        if chunked and t.num_rows > 2:
            t = pa.concat_tables([t.slice(0, 1), t.slice(1)])
        tables.append(t)
    same(tables, SummaryOptions(low_confidence=low, prediction_range=lo_hi))


def test_logs_shape_many_blocks(rng: np.random.Generator) -> None:
    tables = []
    for b in range(6):
        n = 5000
        tables.append(table([
            {"g": f"v{rng.integers(3)}.0", "lat": float(np.round(rng.gamma(2, 20), 2)),
             "ok": bool(rng.random() < 0.97), "cls": str(rng.integers(4)),
             "conf": float(np.round(rng.random(), 3)), "ts": 1_700_000_000_000_000_000 + b * n + i}
            for i in range(n)
        ]))
    same(tables, SummaryOptions(prediction_range=(0.0, 1.0)))


def test_many_groups_and_classes_take_the_map(rng: np.random.Generator) -> None:
    """More (group, class) cells than the dense table holds, and more keys than a scan."""
    rows = [{"g": f"group-{rng.integers(300)}", "cls": f"c{rng.integers(400)}", "lat": float(i)}
            for i in range(20_000)]
    same([table(rows[:9000]), table(rows[9000:])])


def test_past_the_exact_classes() -> None:
    """Classes reach the sketch in the same order either way (its counts depend on the order)."""
    n = EXACT_CLASSES + 500
    rows = [{"g": "v1", "cls": f"class-{(i * 7919) % n}", "conf": 0.5} for i in range(2 * n)]
    a, ra = run([table(rows[:n]), table(rows[n:])], compiled=True)
    b, rb = run([table(rows[:n]), table(rows[n:])], compiled=False)
    assert ra == rb
    assert ra.overall.classes_exact is False


def test_too_many_groups_same_error() -> None:
    rows = [{"g": f"g{i}"} for i in range(6)]
    messages = []
    for compiled in (True, False):
        with pytest.raises(OptionError) as err:
            run([table(rows[:3]), table(rows[3:])], compiled=compiled,
                options=SummaryOptions(max_groups=4))
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "more than 4 distinct values" in messages[0]


def test_tables_it_does_not_take() -> None:
    """Other column types go the Python way, with the same answer."""
    t = table([{"g": "v1", "lat": 1.0, "cls": "a", "ts": 5}, {"g": "v2", "lat": 2.0, "ts": 9}])
    large = t.set_column(t.schema.get_field_index(PRED_CLASS), PRED_CLASS,
                         t.column(PRED_CLASS).cast(pa.large_string()))
    ms = t.set_column(t.schema.get_field_index(TIMESTAMP), TIMESTAMP,
                      pa.array([5, 9], pa.timestamp("ms", tz="UTC")))
    for other in (large, ms):
        assert summaryshares.shares(other, low_confidence=0.5, prediction_range=None,
                                    edges=CONFIDENCE_EDGES) is None
        same([other], taken=False)


def test_confidence_past_the_edges_is_left_to_python() -> None:
    """The checks never pass one; the compiled pass leaves the table to the definition."""
    t = table([{"g": "v1", "conf": 1.5}])
    assert summaryshares.shares(t, low_confidence=0.5, prediction_range=None, edges=CONFIDENCE_EDGES) is None
    t = table([{"g": "v1", "conf": float("nan")}])
    assert summaryshares.shares(t, low_confidence=0.5, prediction_range=None, edges=CONFIDENCE_EDGES) is None
