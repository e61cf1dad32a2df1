"""SummaryAccumulator: counts, rates, Wilson interval, latency percentiles, classes, confidence."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from mlmon.read.records import (
    CONFIDENCE,
    GROUP,
    LATENCY,
    PRED_CLASS,
    PRED_VALUE,
    SUCCESS,
    TIMESTAMP,
)
from mlmon.stats.summary import (
    ALL,
    CONFIDENCE_EDGES,
    GroupSummary,
    SummaryAccumulator,
    SummaryOptions,
    latency_stats,
    wilson,
)

SCHEMA = pa.schema(
    [
        pa.field(GROUP, pa.string()),
        pa.field(LATENCY, pa.float64()),
        pa.field(SUCCESS, pa.bool_()),
        pa.field(PRED_CLASS, pa.string()),
        pa.field(CONFIDENCE, pa.float64()),
        pa.field(PRED_VALUE, pa.float64()),
        pa.field(TIMESTAMP, pa.timestamp("ns", tz="UTC")),
    ]
)
T0 = 1_793_527_200 * 10**9  # 2026-11-01T10:00:00Z in ns


def table(rows: list[dict[str, Any]], *, group: bool = True) -> pa.Table:
    """A canonical table from row dicts; missing keys are nulls."""
    cols = {f.name: [r.get(f.name) for r in rows] for f in SCHEMA}
    t = pa.table(cols, schema=SCHEMA)
    return t if group else t.drop_columns([GROUP])


def random_columns(rng: np.random.Generator, n: int, groups: tuple[str, ...]) -> dict[str, Any]:
    """Random numpy columns plus null masks (True = null)."""
    return {
        GROUP: rng.choice(np.array(groups, dtype=object), n),
        LATENCY: rng.lognormal(3.0, 0.7, n),
        "lat_null": rng.random(n) < 0.05,
        SUCCESS: rng.random(n) < 0.9,
        "succ_null": rng.random(n) < 0.1,
        PRED_CLASS: rng.choice(np.array(["cat", "dog", "bird"], dtype=object), n, p=[0.5, 0.3, 0.2]),
        "cls_null": rng.random(n) < 0.05,
        CONFIDENCE: rng.random(n),
        "conf_null": rng.random(n) < 0.05,
        PRED_VALUE: rng.normal(5.0, 4.0, n),
        "val_null": rng.random(n) < 0.05,
        TIMESTAMP: T0 + np.sort(rng.integers(0, 3600 * 10**9, n)),
    }


def arrow_from(c: dict[str, Any], sl: slice = slice(None)) -> pa.Table:
    def arr(name: str, null: str | None, typ: pa.DataType) -> pa.Array:
        values = c[name][sl]
        mask = None if null is None else np.asarray(c[null][sl])
        if pa.types.is_string(typ):
            vals = list(values)
            if mask is not None:
                vals = [None if m else v for v, m in zip(vals, mask, strict=True)]
            return pa.array(vals, typ)
        return pa.array(np.asarray(values), typ, mask=mask)

    return pa.table(
        {
            GROUP: arr(GROUP, None, pa.string()),
            LATENCY: arr(LATENCY, "lat_null", pa.float64()),
            SUCCESS: arr(SUCCESS, "succ_null", pa.bool_()),
            PRED_CLASS: arr(PRED_CLASS, "cls_null", pa.string()),
            CONFIDENCE: arr(CONFIDENCE, "conf_null", pa.float64()),
            PRED_VALUE: arr(PRED_VALUE, "val_null", pa.float64()),
            TIMESTAMP: pa.array(np.asarray(c[TIMESTAMP][sl]), pa.timestamp("ns", tz="UTC")),
        },
        schema=SCHEMA,
    )


def by_group(result: Any) -> dict[str | None, GroupSummary]:
    """Groups by value (None: the records without the field), the overall as ALL (no group has
    that key here: the tests' values are plain)."""
    out = {g.group: g for g in result.groups}
    assert ALL not in out
    out[ALL] = result.overall
    return out


# --------------------------------------------------------------------- counts and rates


def test_counts_rates_hand_computed() -> None:
    rows = [
        {GROUP: "a", SUCCESS: True},
        {GROUP: "a", SUCCESS: True},
        {GROUP: "a", SUCCESS: False},
        {GROUP: "a", SUCCESS: None},
        {GROUP: "b", SUCCESS: True},
        {GROUP: "b", SUCCESS: None},
    ]
    acc = SummaryAccumulator()
    acc.update(table(rows))
    g = by_group(acc.result())
    assert set(g) == {"a", "b", ALL}
    a, b, every = g["a"], g["b"], g[ALL]
    assert (every.records, every.success_n, every.successes, every.errors) == (6, 4, 3, 1)
    assert every.success_rate == pytest.approx(0.75)
    assert every.error_rate == pytest.approx(0.25)
    assert (a.records, a.success_n, a.successes, a.errors) == (4, 3, 2, 1)
    assert a.success_rate == pytest.approx(2 / 3)
    assert a.error_rate == pytest.approx(1 / 3)
    assert (b.records, b.success_n, b.successes, b.errors) == (2, 1, 1, 0)
    assert b.success_rate == 1.0 and b.error_rate == 0.0


def test_no_success_field_gives_no_rate() -> None:
    acc = SummaryAccumulator()
    acc.update(table([{GROUP: "a", LATENCY: 1.0}, {GROUP: "a", LATENCY: 2.0}]))
    s = acc.result().overall
    assert s.records == 2 and s.success_n == 0
    assert s.success_rate is None and s.error_rate is None and s.success_rate_ci95 is None


def test_null_group_and_no_group_column() -> None:
    acc = SummaryAccumulator()
    acc.update(table([{GROUP: None, SUCCESS: True}, {GROUP: "v1", SUCCESS: False}]))
    g = by_group(acc.result())
    assert g[None].records == 1 and g["v1"].records == 1 and g[ALL].records == 2

    acc = SummaryAccumulator()
    acc.update(table([{SUCCESS: True}, {SUCCESS: False}, {SUCCESS: True}], group=False))
    r = acc.result()
    assert r.groups == ()
    assert r.overall.records == 3 and r.overall.successes == 2


def _wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (2 * n * p + z * z) / (2 * (n + z * z))
    half = z * math.sqrt(z * z + 4 * n * p * (1 - p)) / (2 * (n + z * z))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 4), (0, 50), (50, 50), (917, 1000), (1, 7)])
def test_wilson_interval(k: int, n: int) -> None:
    lo, hi = wilson(k, n)
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    hand = _wilson_by_hand(k, n)
    assert lo == pytest.approx(max(0.0, ref.low), abs=1e-12)
    assert hi == pytest.approx(min(1.0, ref.high), abs=1e-12)
    assert lo == pytest.approx(max(0.0, hand[0]), abs=1e-12)
    assert hi == pytest.approx(min(1.0, hand[1]), abs=1e-12)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_success_rate_ci_in_result(rng: np.random.Generator) -> None:
    c = random_columns(rng, 2000, ("v1", "v2"))
    acc = SummaryAccumulator()
    acc.update(arrow_from(c))
    g = by_group(acc.result())
    for name in ("v1", "v2", ALL):
        sel = np.ones(2000, bool) if name == ALL else c[GROUP] == name
        valid = sel & ~c["succ_null"]
        k, n = int((c[SUCCESS] & valid).sum()), int(valid.sum())
        s = g[name]
        assert (s.successes, s.success_n, s.errors) == (k, n, n - k)
        ref = stats.binomtest(k, n).proportion_ci(method="wilson")
        assert s.success_rate_ci95 == pytest.approx((ref.low, ref.high), abs=1e-12)


# --------------------------------------------------------------------- latency


def test_latency_percentiles_match_numpy(rng: np.random.Generator) -> None:
    n = 5000
    c = random_columns(rng, n, ("v1", "v2", "v3"))
    acc = SummaryAccumulator()
    for start in range(0, n, 1700):  # several batches
        acc.update(arrow_from(c, slice(start, start + 1700)))
    _assert_latency_is_numpys(by_group(acc.result()), c)


def _assert_latency_is_numpys(groups: dict[str, GroupSummary], c: dict[str, Any]) -> None:
    """Each group's latency statistics equal numpy's on its values: percentiles exactly."""
    for name in ("v1", "v2", "v3", ALL):
        sel = np.ones(len(c[GROUP]), bool) if name == ALL else c[GROUP] == name
        lat = c[LATENCY][sel & ~c["lat_null"]]
        s = groups[name].latency_ms
        want = np.percentile(lat, [50, 95, 99], method="linear")
        assert s.method == "linear"
        assert (s.n, s.p50, s.p95, s.p99, s.max) == (len(lat), *map(float, want), lat.max())
        assert s.mean == pytest.approx(lat.mean(), rel=1e-12)


def test_latency_small_hand_computed() -> None:
    # 1, 2, 3, 4: p50 = 2.5; p95 = 3 + 0.85 = 3.85; p99 = 3 + 0.97 = 3.97 (linear)
    acc = SummaryAccumulator()
    acc.update(table([{LATENCY: v} for v in (4.0, 1.0, None, 3.0, 2.0)]))
    s = acc.result().overall.latency_ms
    assert s.n == 4
    assert (s.p50, s.max, s.mean) == (2.5, 4.0, 2.5)
    assert s.p95 == pytest.approx(3.85)
    assert s.p99 == pytest.approx(3.97)
    assert s.insufficient == ("p50", "p95", "p99")


def test_latency_all_missing() -> None:
    acc = SummaryAccumulator()
    acc.update(table([{SUCCESS: True}, {SUCCESS: False}]))
    s = acc.result().overall.latency_ms
    assert s.n == 0
    assert (s.mean, s.p50, s.p95, s.p99, s.max) == (None,) * 5


@pytest.mark.parametrize("n", [1, 19, 20, 199, 200, 999, 1000, 1500])
def test_insufficient_percentiles(n: int) -> None:
    # n * (1 - q) < 10 in exact integer arithmetic: n * (100 - q%) < 1000
    want = tuple(name for name, pct in (("p50", 50), ("p95", 95), ("p99", 99))
                 if n * (100 - pct) < 1000)
    assert latency_stats(np.arange(n, dtype=float)).insufficient == want
    acc = SummaryAccumulator()
    acc.update(table([{LATENCY: float(i)} for i in range(n)]))
    assert acc.result().overall.latency_ms.insufficient == want


# --------------------------------------------------------------------- classes, confidence, values


def test_class_shares() -> None:
    classes = ["dog"] * 5 + ["cat"] * 3 + ["ant"] * 3 + [None] * 2 + ["emu"]
    acc = SummaryAccumulator()
    acc.update(table([{GROUP: "g", PRED_CLASS: c} for c in classes]))
    s = acc.result().overall
    got = [(c.name, c.count, c.share) for c in s.classes]
    # most common first, ties by name; shares over records that have a class (12)
    assert [x[:2] for x in got] == [("dog", 5), ("ant", 3), ("cat", 3), ("emu", 1)]
    assert [x[2] for x in got] == pytest.approx([5 / 12, 3 / 12, 3 / 12, 1 / 12])


def test_confidence_histogram_edges_le_semantics() -> None:
    values = [0.1, 0.5, 0.50001, 0.6, 0.95, 0.99, 0.995, 1.0, 0.0, 0.7]
    acc = SummaryAccumulator(SummaryOptions(low_confidence=0.6))
    acc.update(table([{CONFIDENCE: v} for v in values] + [{CONFIDENCE: None}]))
    conf = acc.result().overall.confidence
    assert conf.n == 10
    assert conf.mean == pytest.approx(sum(values) / 10)
    # strictly below 0.6: 0.1, 0.5, 0.50001, 0.0
    assert (conf.low_threshold, conf.low_count) == (0.6, 4)
    assert conf.low_share == pytest.approx(0.4)
    hist = dict(conf.histogram)
    assert list(hist) == ["<=0.5", "0.5-0.6", "0.6-0.7", "0.7-0.8", "0.8-0.9", "0.9-0.95",
                          "0.95-0.99", "0.99-1.0"]
    assert list(hist.values()) == [3, 2, 1, 0, 0, 1, 1, 2]


def test_confidence_random_against_numpy(rng: np.random.Generator) -> None:
    n = 3000
    c = random_columns(rng, n, ("v1", "v2"))
    # put some values exactly on the edges
    c[CONFIDENCE][:80] = rng.choice(np.array(CONFIDENCE_EDGES), 80)
    acc = SummaryAccumulator()
    acc.update(arrow_from(c))
    g = by_group(acc.result())
    edges = np.array(CONFIDENCE_EDGES)
    lower = np.concatenate(([-np.inf], edges[:-1]))
    for name in ("v1", "v2", ALL):
        sel = np.ones(n, bool) if name == ALL else c[GROUP] == name
        conf = c[CONFIDENCE][sel & ~c["conf_null"]]
        s = g[name].confidence
        assert s.n == len(conf)
        assert s.mean == pytest.approx(conf.mean(), rel=1e-12)
        assert s.low_count == int((conf < 0.5).sum())
        assert s.low_share == pytest.approx((conf < 0.5).mean())
        want = [int(((conf > lo) & (conf <= hi)).sum()) for lo, hi in zip(lower, edges, strict=True)]
        assert [cnt for _, cnt in s.histogram] == want
        # Prometheus cumulative buckets: le=edge counts everything <= edge
        cum = np.cumsum([cnt for _, cnt in s.histogram])
        assert list(cum) == [int((conf <= e).sum()) for e in edges]


def test_prediction_range() -> None:
    rows = [{PRED_VALUE: v} for v in (-1.0, 0.0, 5.0, 10.0, 11.0, None)]
    acc = SummaryAccumulator(SummaryOptions(prediction_range=(0.0, 10.0)))
    acc.update(table(rows))
    s = acc.result().overall
    assert s.prediction_values == 5
    assert s.predictions_out_of_range == 2  # bounds are inside the range

    acc = SummaryAccumulator()
    acc.update(table(rows))
    assert acc.result().overall.predictions_out_of_range is None


def test_timestamps_span_and_rate() -> None:
    rows = [{TIMESTAMP: T0 + 4 * 10**9}, {TIMESTAMP: T0}, {TIMESTAMP: T0 + 10 * 10**9},
            {TIMESTAMP: None}]
    acc = SummaryAccumulator()
    acc.update(table(rows[:2]))
    acc.update(table(rows[2:]))
    s = acc.result().overall
    assert s.first_timestamp == "2026-11-01T10:00:00.000Z"
    assert s.last_timestamp == "2026-11-01T10:00:10.000Z"
    assert s.span_seconds == 10.0
    assert s.requests_per_second == pytest.approx(4 / 10)


# --------------------------------------------------------------------- properties

_row = st.fixed_dictionaries(
    {
        GROUP: st.sampled_from(["a", "b", None]),
        LATENCY: st.one_of(st.none(), st.floats(0, 1e5, allow_nan=False)),
        SUCCESS: st.one_of(st.none(), st.booleans()),
        PRED_CLASS: st.one_of(st.none(), st.sampled_from(["x", "y", "z"])),
        CONFIDENCE: st.one_of(st.none(), st.floats(0, 1), st.sampled_from(CONFIDENCE_EDGES)),
        PRED_VALUE: st.one_of(st.none(), st.floats(-100, 100)),
        TIMESTAMP: st.one_of(st.none(), st.integers(T0, T0 + 10**13)),
    }
)


def _assert_same_summary(x: GroupSummary, y: GroupSummary) -> None:
    for name in ("group", "records", "first_timestamp", "last_timestamp", "success_n",
                 "successes", "errors", "prediction_values", "predictions_out_of_range",
                 "classes"):
        assert getattr(x, name) == getattr(y, name), name
    for name in ("span_seconds", "requests_per_second", "success_rate", "error_rate"):
        assert getattr(x, name) == pytest.approx(getattr(y, name)), name
    assert x.success_rate_ci95 == pytest.approx(y.success_rate_ci95)
    lx, ly = x.latency_ms, y.latency_ms
    assert (lx.n, lx.p50, lx.p95, lx.p99, lx.max, lx.insufficient) == (
        ly.n, ly.p50, ly.p95, ly.p99, ly.max, ly.insufficient)
    assert lx.mean == pytest.approx(ly.mean)
    cx, cy = x.confidence, y.confidence
    assert (cx.n, cx.low_count, cx.histogram) == (cy.n, cy.low_count, cy.histogram)
    assert cx.mean == pytest.approx(cy.mean)
    assert cx.low_share == pytest.approx(cy.low_share)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row, min_size=0, max_size=40), data=st.data())
def test_merge_of_parts_equals_whole(rows: list[dict[str, Any]], data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(rows)))
    opts = SummaryOptions(low_confidence=0.7, prediction_range=(-50.0, 50.0))
    whole = SummaryAccumulator(opts)
    whole.update(table(rows))
    left, right = SummaryAccumulator(opts), SummaryAccumulator(opts)
    left.update(table(rows[:cut]))
    right.update(table(rows[cut:]))
    left.merge(right)
    if not rows:
        assert left.groups == {} and whole.groups == {}
        return
    rw, rm = whole.result(), left.result()
    assert [g.group for g in rw.groups] == [g.group for g in rm.groups]
    _assert_same_summary(rw.overall, rm.overall)
    for gw, gm in zip(rw.groups, rm.groups, strict=True):
        _assert_same_summary(gw, gm)
    # merging must not have changed the right-hand accumulator
    alone = SummaryAccumulator(opts)
    alone.update(table(rows[cut:]))
    if rows[cut:]:
        _assert_same_summary(alone.result().overall, right.result().overall)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=300))
def test_percentiles_are_ordered(values: list[float]) -> None:
    acc = SummaryAccumulator()
    acc.update(table([{LATENCY: v} for v in values]))
    s = acc.result().overall.latency_ms
    assert min(values) <= s.p50 <= s.p95 <= s.p99 <= s.max == max(values)
    assert min(values) <= s.mean <= max(values) or math.isclose(s.mean, min(values))


def test_no_groups_listed_when_no_record_has_the_by_field() -> None:
    t = pa.table(
        {
            "group": pa.nulls(3, pa.string()),
            "latency_ms": pa.array([1.0, 2.0, 3.0]),
            "success": pa.array([True, False, True]),
            "pred_class": pa.nulls(3, pa.string()),
            "confidence": pa.nulls(3, pa.float64()),
            "pred_value": pa.nulls(3, pa.float64()),
            "timestamp": pa.nulls(3, pa.timestamp("ns", tz="UTC")),
        }
    )
    acc = SummaryAccumulator()
    acc.update(t)
    res = acc.result()
    assert res.groups == ()
    assert res.overall.records == 3 and res.overall.errors == 1
    # one record with the field: both groups are listed
    acc.update(t.slice(0, 1).set_column(0, "group", pa.array(["v1"])))
    assert [g.group for g in acc.result().groups] == ["v1", None]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1e6), max_size=9000), max_size=6), st.integers(0, 5))
def test_values_pages_keep_every_value_in_order(chunks: list[list[float]], split: int) -> None:
    from mlmon.stats.summary import Values

    a, b, whole = Values(), Values(), Values()
    for i, c in enumerate(chunks):
        (a if i < split else b).extend(np.array(c))
        whole.extend(np.array(c))
    a.merge(b)
    flat = [x for c in chunks for x in c]
    assert len(a) == len(whole) == len(flat)
    got = np.concatenate([np.empty(0), *a.arrays()])
    assert got.tolist() == flat == np.concatenate([np.empty(0), *whole.arrays()]).tolist()


def test_merging_nothing_keeps_the_last_page_open() -> None:
    from mlmon.stats.summary import Values

    v = Values()
    v.extend(np.arange(10.0))
    pages = len(v.pages)
    for _ in range(100):  # many small updates must not each start a page
        v.merge(Values())
        v.extend(np.arange(3.0))
    assert len(v.pages) == pages and len(v) == 310


# --------------------------------------------------------------------- folded latencies

# values as services log them (two decimals, so many repeat), and values that rarely repeat
_logged = st.lists(st.integers(0, 3000).map(lambda x: x / 100), min_size=1, max_size=3000)
_spread = st.lists(st.floats(0, 1e300, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_logged, _spread))
def test_stats_of_counts_equal_numpy_on_every_value(values: list[float]) -> None:
    from mlmon.stats.summary import latency_stats_of_counts

    x = np.array(values)
    s = latency_stats_of_counts(*np.unique(x, return_counts=True))
    want = np.percentile(x, [50, 95, 99], method="linear")
    assert (s.p50, s.p95, s.p99) == tuple(float(w) for w in want)  # exactly, not approximately
    assert s.n == len(x) and s.max == x.max()
    assert s.mean == pytest.approx(x.mean(), rel=1e-12)
    assert s.insufficient == latency_stats(x.copy()).insufficient


@pytest.mark.parametrize("decimals", [0, None], ids=["few-distinct", "all-distinct"])
def test_folded_latencies_give_the_same_summary(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator,
                                                decimals: int | None) -> None:
    import mlmon.stats.summary

    n = 20_000
    c = random_columns(rng, n, ("v1", "v2", "v3"))
    if decimals is not None:
        c[LATENCY] = np.round(c[LATENCY], decimals)

    def accumulate() -> SummaryAccumulator:
        acc = SummaryAccumulator()
        for start in range(0, n, 1500):
            acc.update(arrow_from(c, slice(start, start + 1500)))
        return acc

    kept = by_group(accumulate().result())
    monkeypatch.setattr(mlmon.stats.summary, "FOLD_VALUES", 1000)
    acc = accumulate()
    values = acc.groups["v1"].latency
    assert values.distinct is not None  # the pages were folded
    assert values.foldable == (decimals is not None)  # and stay folded only when that pays
    held = sum(a.nbytes for a in values.arrays(pages_only=True)) + values.distinct.nbytes * 2
    if decimals is not None:
        assert held < 8 * len(values) / 3
    folded = by_group(acc.result())
    _assert_latency_is_numpys(folded, c)
    for name in ("v1", "v2", "v3", ALL):
        _assert_same_summary(folded[name], kept[name])


def test_merging_folded_and_open_values(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    import mlmon.stats.summary
    from mlmon.stats.summary import Values, latency_stats_of_counts

    monkeypatch.setattr(mlmon.stats.summary, "FOLD_VALUES", 500)
    parts = [np.round(rng.gamma(2.0, 30.0, size), 1) for size in (2000, 300, 1700)]
    a, b, c = Values(), Values(), Values()
    a.extend(parts[0])
    b.extend(parts[1])  # stays in pages
    c.extend(parts[2])
    a.merge(b)
    a.merge(c)
    assert a.distinct is not None and len(a) == sum(map(len, parts))
    a.fold()
    whole = np.concatenate(parts)
    assert a.counts is not None and a.arrays(pages_only=True) == []
    assert np.repeat(a.distinct, a.counts).tolist() == sorted(whole.tolist())
    s = latency_stats_of_counts(a.distinct, a.counts)
    assert (s.p50, s.p95, s.p99) == tuple(map(float, np.percentile(whole, [50, 95, 99])))
    assert len(b) == 300 and b.distinct is None  # merging left the merged-in values alone


@pytest.mark.parametrize("fold", [False, True], ids=["pages", "folded"])
def test_result_twice_and_merge_after_result(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator,
                                             fold: bool) -> None:
    import mlmon.stats.summary

    if fold:
        monkeypatch.setattr(mlmon.stats.summary, "FOLD_VALUES", 300)
    c = random_columns(rng, 6000, ("v1", "v2", "v3"))
    c[LATENCY] = np.round(c[LATENCY])
    a, b = SummaryAccumulator(), SummaryAccumulator()
    a.update(arrow_from(c, slice(0, 4000)))
    b.update(arrow_from(c, slice(4000, None)))
    first = by_group(b.result())
    second = by_group(b.result())  # result() must leave the accumulator as it was
    for name in first:
        _assert_same_summary(first[name], second[name])
    a.merge(b)
    _assert_latency_is_numpys(by_group(a.result()), c)
