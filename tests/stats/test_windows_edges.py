"""Clock and record-count windows at their edges: a record at a boundary, the window limit, a
partial last window, merging, coarsening, the statuses and the rolling values, each derived by hand."""

from __future__ import annotations

import dataclasses
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
from mlmon.stats import windows
from mlmon.stats.drift import DriftOptions
from mlmon.stats.summary import SummaryOptions
from mlmon.stats.windows import (
    HEADLINE,
    MAX_WINDOWS,
    Window,
    WindowAccumulator,
    WindowOptions,
    boundaries,
    headline,
    iso,
    mark_partial,
    window_starts,
)

H = 3600 * 10**9
M = 60 * 10**9
S = 10**9


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) * S


T0 = ns("2026-11-01T10:00:00+00:00")


def table(ts: list[int | None], latency: list[float] | None = None, success: list[bool] | None = None,
          confidence: list[float | None] | None = None) -> pa.Table:
    n = len(ts)
    return pa.table({
        LATENCY: pa.array(latency if latency is not None else [1.0] * n, pa.float64()),
        SUCCESS: pa.array(success if success is not None else [True] * n, pa.bool_()),
        PRED_CLASS: pa.nulls(n, pa.string()),
        CONFIDENCE: pa.array(confidence if confidence is not None else [None] * n, pa.float64()),
        PRED_VALUE: pa.nulls(n, pa.float64()),
        SEQ: pa.array(np.arange(n), pa.int64()),
        TIMESTAMP: pa.array(ts, pa.timestamp("ns", tz="UTC")),
    })


def test_a_record_at_a_boundary_opens_the_next_window() -> None:
    """Windows are [start, end): a record exactly on the hour is the new hour's, one a nanosecond
    before it the old hour's."""
    got = window_starts(np.array([T0 + H - 1, T0 + H, T0 + H + 1]), H)
    assert got.tolist() == [T0, T0 + H, T0 + H]
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(table([T0 + H - 1, T0 + H]))
    ws = acc.result()
    assert [(w.start_ns, w.end_ns, w.summary.records) for w in ws] == [
        (T0, T0 + H, 1), (T0 + H, T0 + 2 * H, 1)]


# --------------------------------------------------------------------- time zones and instants


def test_utc_may_be_named_in_any_case_or_as_z() -> None:
    t = np.array([T0 + 25 * M, T0 + 95 * M])
    for tz in ("UTC", "utc", "Z", "z"):
        assert window_starts(t, H, tz).tolist() == [T0, T0 + H]
        assert iso(T0, tz) == "2026-11-01T10:00:00Z"
    assert boundaries(T0 + M, T0 + H + M, H, "utc").tolist() == [T0, T0 + H, T0 + 2 * H]


def test_an_instant_is_shown_to_the_millisecond_in_its_zone() -> None:
    # 123,456,789 ns past the second: milliseconds are shown, the rest cut (not rounded)
    assert iso(T0 + 123_456_789) == "2026-11-01T10:00:00.123Z"
    assert iso(T0 + 1_000_000) == "2026-11-01T10:00:00.001Z"
    assert iso(T0 + 999_999) == "2026-11-01T10:00:00.000Z"
    assert iso(T0 + 59 * S) == "2026-11-01T10:00:59Z"
    # Berlin is UTC+1 in November; New York UTC-5
    assert iso(T0 + 5 * 10**8, "Europe/Berlin") == "2026-11-01T11:00:00.500+01:00"
    assert iso(T0, "America/New_York") == "2026-11-01T05:00:00-05:00"
    assert iso(T0, "Europe/London") == "2026-11-01T10:00:00+00:00"  # a zone at UTC keeps its offset
    assert iso(-S) == "1969-12-31T23:59:59Z"


def test_a_time_range_of_exactly_the_window_limit_is_allowed() -> None:
    every = S
    edges = boundaries(0, (MAX_WINDOWS - 1) * S, every)
    assert len(edges) == MAX_WINDOWS + 1 and int(edges[-1]) == MAX_WINDOWS * S
    with pytest.raises(OptionError) as info:
        boundaries(0, MAX_WINDOWS * S, every)
    # the length is shown to six digits
    odd = 1_000_005_001
    with pytest.raises(OptionError, match=r"^--every 1\.00001s over"):
        boundaries(0, MAX_WINDOWS * odd, odd)
    assert str(info.value) == (
        f"--every 1s over this time range gives {MAX_WINDOWS + 1:,} windows (more than {MAX_WINDOWS:,}): "
        "give a longer --every or narrow the range with --since/--until")


def test_the_window_limit_holds_in_a_local_time_zone() -> None:
    every = 60 * S
    start = T0 - 30 * S  # 10:59:30 Berlin: the first window starts at 10:59
    first = T0 - 60 * S
    edges = boundaries(start, first + (MAX_WINDOWS - 1) * every, every, "Europe/Berlin")
    assert len(edges) == MAX_WINDOWS + 1 and int(edges[0]) == first
    assert int(edges[-1]) == first + MAX_WINDOWS * every
    with pytest.raises(OptionError, match=f"gives {MAX_WINDOWS + 1:,} windows"):
        boundaries(start, first + MAX_WINDOWS * every, every, "Europe/Berlin")


def test_local_boundaries_around_a_fold_start_and_end_at_the_records_windows() -> None:
    """New York 2026-11-01: 02:00 EDT goes back to 01:00 EST, so 01:xx local happens twice; the
    boundaries from a record in the first 01:xx to one in the second are the three hours."""
    first = ns("2026-11-01T05:10:00+00:00")  # 01:10 EDT
    last = ns("2026-11-01T06:50:00+00:00")  # 01:50 EST
    got = boundaries(first, last, H, "America/New_York").tolist()
    assert got == [ns("2026-11-01T05:00:00+00:00"), ns("2026-11-01T06:00:00+00:00"),
                   ns("2026-11-01T07:00:00+00:00")]
    # a single record gives its window and the next boundary only
    assert boundaries(last, last, H, "America/New_York").tolist() == got[1:]
    assert boundaries(first, first, H, "America/New_York").tolist() == got[:2]
    # half-hour zone: an hour from 16:00 to 17:00 India time
    one = boundaries(T0 + 40 * M, T0 + 40 * M, H, "Asia/Kolkata").tolist()
    assert one == [T0 + 30 * M, T0 + 90 * M]


# --------------------------------------------------------------------- the last window, partial


def _hourly(ts: list[int], **kw: object) -> tuple[Window, ...]:
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, **kw))  # type: ignore[arg-type]
    acc.update(table(ts))
    return acc.result()


def test_a_last_window_cut_short_is_partial_with_its_rate_over_the_span_covered() -> None:
    ws = _hourly([T0 + M, T0 + 2 * M, T0 + H + M, T0 + 2 * H + M, T0 + 2 * H + 2 * M, T0 + 2 * H + 3 * M])
    assert [w.summary.requests_per_second for w in ws] == [2 / 3600, 1 / 3600, 3 / 3600]
    cut = mark_partial(ws, T0 + 2 * H + 20 * M)
    assert cut[:2] == ws[:2]
    assert cut[2].partial and not ws[2].partial
    assert cut[2].summary.requests_per_second == 3 / 1200
    assert dataclasses.replace(cut[2], partial=False, summary=ws[2].summary) == ws[2]
    # ending at the window's end, or after it, or not known: nothing is partial
    assert mark_partial(ws, T0 + 3 * H) == ws
    assert mark_partial(ws, T0 + 4 * H) == ws
    assert mark_partial(ws, None) == ws
    assert mark_partial((), T0) == ()
    # one nanosecond before the end is partial
    assert mark_partial(ws, T0 + 3 * H - 1)[2].partial
    # half a second in: 3 records over half a second
    assert mark_partial(ws, T0 + 2 * H + S // 2)[2].summary.requests_per_second == 6.0
    # ending at the window's start: no span to count over, so no rate
    at_start = mark_partial(ws, T0 + 2 * H)[2]
    assert at_start.partial and at_start.summary.requests_per_second is None


# --------------------------------------------------------------------- the accumulator


def test_empty_tables_and_records_without_a_time_make_no_window() -> None:
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(table([]))
    acc.update(table([None, None]))
    assert acc.without_timestamp == 2 and acc.starts() is None and acc.result() == ()
    counted = WindowAccumulator(WindowOptions(every_records=5, min_records=1))
    counted.update(table([None]))
    assert counted.without_timestamp == 1 and counted.result() == ()


def test_the_window_limit_is_checked_as_windows_are_filled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows, "MAX_WINDOWS", 3)
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(table([T0, T0 + H, T0 + 2 * H]))  # three windows: the limit, allowed
    assert len(acc.result()) == 3
    too_many = r"--every 3600s over this time range gives 4 windows \(more than 3\)"
    with pytest.raises(OptionError, match=too_many):
        acc.update(table([T0 + 3 * H]))
    counted = WindowAccumulator(WindowOptions(every_records=2, min_records=1))
    counted.update(table([T0 + i for i in range(6)]))  # three full windows
    with pytest.raises(OptionError) as info:
        counted.update(table([T0 + 7]))
    assert str(info.value) == ("--every 2 gives more than 3 windows: give a larger record count, "
                               "or narrow the range with --since/--until")


def test_approx_windows_count_the_latencies_present_and_merge(rng: np.random.Generator) -> None:
    lat: list[float | None] = [5.0, None, 7.0, None, 1.0]
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, approx=True))
    acc.update(pa.table({**{c: table([T0] * 5).column(c) for c in table([T0] * 5).column_names},
                         LATENCY: pa.array(lat, pa.float64())}))
    (w,) = acc.result()
    assert w.summary.records == 5 and w.summary.latency_ms.n == 3 and w.summary.latency_ms.max == 7.0
    assert w.summary.latency_ms.mean == pytest.approx(13 / 3)
    # all latencies missing: no latency at all
    none = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, approx=True))
    none.update(pa.table({**{c: table([T0] * 2).column(c) for c in table([T0] * 2).column_names},
                          LATENCY: pa.nulls(2, pa.float64())}))
    assert none.result()[0].summary.latency_ms.n == 0
    # two halves merged: the sketch of the whole (same buckets, so the same percentiles)
    n = 400
    ts = (T0 + rng.integers(0, 2 * H, n)).tolist()
    lats = rng.lognormal(3, 1, n).tolist()
    whole = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, approx=True))
    whole.update(table(ts, lats))
    a = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, approx=True))
    b = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, approx=True))
    a.update(table(ts[:150], lats[:150]))
    b.update(table(ts[150:], lats[150:]))
    a.merge(b)
    for x, y in zip(a.result(), whole.result(), strict=True):
        assert x.summary.latency_ms.n == y.summary.latency_ms.n
        assert (x.summary.latency_ms.p50, x.summary.latency_ms.p99) == (y.summary.latency_ms.p50,
                                                                         y.summary.latency_ms.p99)


def _drift_table(rng: np.random.Generator, ts: list[int], shift: float) -> pa.Table:
    """x moved by `shift`, and y = -x (the baseline's y follows x): both drift, and so do they jointly."""
    n = len(ts)
    x = rng.normal(shift, 1, n)
    return table(ts).append_column(FEATURE_PREFIX + "x", pa.array(x)).append_column(
        FEATURE_PREFIX + "y", pa.array(-x + rng.normal(0, 0.1, n)))


def _joint_base(rng: np.random.Generator) -> bl.Baseline:
    x = rng.normal(0, 1, 3000)
    return bl.build(pa.table({"x": x, "y": x + rng.normal(0, 0.1, 3000)}), source="t", max_edges=None)


def test_merged_windows_merge_their_drift(rng: np.random.Generator) -> None:
    base = _joint_base(rng)
    ts = (T0 + rng.integers(0, 2 * H, 600)).tolist()
    t = _drift_table(rng, ts, 0.5)
    whole = WindowAccumulator(WindowOptions(every_ns=H, min_records=1), baseline=base)
    whole.update(t)
    a = WindowAccumulator(WindowOptions(every_ns=H, min_records=1), baseline=base)
    b = WindowAccumulator(WindowOptions(every_ns=H, min_records=1), baseline=base)
    a.update(t.slice(0, 200))
    b.update(t.slice(200))
    b.update(table([None, None]))
    a.merge(b)
    assert a.without_timestamp == 2
    got, want = a.result(), whole.result()
    assert [[f.n for f in w.features] for w in got] == [[f.n for f in w.features] for w in want]
    for x, y in zip(got, want, strict=True):  # the joint statistic sums in another order: last bits
        assert [f.statistic for f in x.features] == pytest.approx([f.statistic for f in y.features], rel=1e-9)
    assert sum(w.summary.records for w in got) == 600


def test_drift_is_judged_only_in_windows_with_enough_records(rng: np.random.Generator) -> None:
    """Drifted features are named in `ok` windows only; the joint test's row is never among them;
    an empty window has no drift rows at all."""
    base = _joint_base(rng)
    ts = [T0 + i * S for i in range(400)] + [T0 + 2 * H + i * S for i in range(40)]
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=100), baseline=base)
    acc.update(_drift_table(rng, ts, 3.0))
    full, empty, few = acc.result()
    assert (full.status, empty.status, few.status) == ("ok", "empty", "too_few_records")
    assert full.drifted == ("x", "y")
    assert any(f.role == "multivariate" and f.drift for f in full.features)
    assert empty.features == () and empty.drifted == ()
    assert few.features and any(f.drift for f in few.features) and few.drifted == ()


def test_status_at_the_minimum_record_count() -> None:
    ts = [T0] * 3 + [T0 + H] * 2 + [T0 + 3 * H]
    ws = WindowAccumulator(WindowOptions(every_ns=H, min_records=3))
    ws.update(table(ts))
    got = ws.result()
    assert [(w.summary.records, w.status) for w in got] == [
        (3, "ok"), (2, "too_few_records"), (0, "empty"), (1, "too_few_records")]
    assert [w.summary.group for w in got] == [w.window_start for w in got]
    assert got[2].summary.requests_per_second == 0.0


def test_a_read_with_span_has_rows_for_the_whole_span() -> None:
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    acc.update(table([T0 + H + M]))
    assert acc.starts() == (T0 + H, T0 + H)
    ws = acc.result(span=(T0, T0 + 2 * H))
    assert [(w.start_ns, w.summary.records) for w in ws] == [(T0, 0), (T0 + H, 1), (T0 + 2 * H, 0)]
    acc.update(table([T0 + 5 * H]))
    assert acc.starts() == (T0 + H, T0 + 5 * H)


# --------------------------------------------------------------------- record-count windows


def test_record_count_windows_follow_the_read_sequence_not_the_table_order() -> None:
    """Rows handed over out of read order (their SEQ numbers) are put back in read order first."""
    ts = [T0 + i * S for i in range(6)]
    t = table(ts, [float(i) for i in range(6)])
    backwards = t.take(pa.array([5, 4, 3, 2, 1, 0]))
    acc = WindowAccumulator(WindowOptions(every_records=4, min_records=1))
    acc.update(backwards)
    first, second = acc.result()
    assert (first.summary.latency_ms.max, first.summary.records) == (3.0, 4)
    assert (first.start_ns, first.end_ns) == (T0, T0 + 3 * S)
    assert (second.start_ns, second.end_ns, second.summary.records) == (T0 + 4 * S, T0 + 5 * S, 2)
    assert acc.out_of_order == 0


def test_records_out_of_time_order_are_counted_across_tables() -> None:
    """A record is out of order when it is older than one read before it, in this table or an
    earlier one; a record at the same time as the newest is not."""
    acc = WindowAccumulator(WindowOptions(every_records=100, min_records=1))
    acc.update(table([T0 + 5 * S, T0 + 5 * S, T0 + 9 * S]))
    assert (acc.out_of_order, acc.newest) == (0, T0 + 9 * S)
    acc.update(table([T0 + 9 * S, T0 + 3 * S, T0 + 10 * S, T0 + 4 * S]))
    assert (acc.out_of_order, acc.newest) == (2, T0 + 10 * S)
    acc.update(table([T0 + 2 * S]))
    assert (acc.out_of_order, acc.newest) == (3, T0 + 10 * S)
    (w,) = acc.result()
    assert (w.start_ns, w.end_ns, w.summary.records) == (T0 + 2 * S, T0 + 10 * S, 8)


def test_record_count_windows_keep_the_summarys_own_rate() -> None:
    """A record-count window's rate is its records over the time from its first to its last."""
    acc = WindowAccumulator(WindowOptions(every_records=5, min_records=1))
    acc.update(table([T0 + i * 2 * S for i in range(5)]))
    (w,) = acc.result()
    assert w.summary.requests_per_second == 5 / 8


def test_record_count_windows_are_judged_with_one_set_of_drift_options(rng: np.random.Generator) -> None:
    base = _joint_base(rng)
    strict = DriftOptions(p_threshold=1e-300)
    ts = [T0 + i * S for i in range(300)]
    # no window full yet: the options given to result are the ones used
    acc = WindowAccumulator(WindowOptions(every_records=1000, min_records=1), baseline=base)
    acc.update(_drift_table(rng, ts, 1.5))
    (w,) = acc.result(strict)
    assert acc.drift_options == strict and "x" not in w.drifted
    # windows filled with the constructor's options: other options are refused, the same accepted
    done = WindowAccumulator(WindowOptions(every_records=100, min_records=1), baseline=base)
    done.update(_drift_table(rng, ts, 1.5))
    with pytest.raises(ValueError) as info:
        done.result(strict)
    assert str(info.value) == "record-count windows were judged with the constructor's drift options"
    assert all("x" in w.drifted for w in done.result(None))
    same = WindowAccumulator(WindowOptions(every_records=100, min_records=1), baseline=base, drift=strict)
    same.update(_drift_table(rng, ts, 1.5))
    assert [w.drifted for w in same.result(strict)] == [()] * 3


# --------------------------------------------------------------------- coarsening


def test_coarsened_windows_equal_a_read_with_the_longer_length(rng: np.random.Generator) -> None:
    ts = (T0 + rng.integers(0, 5 * H, 300)).tolist()
    lat = rng.gamma(2, 10, 300).round(1).tolist()
    fine = WindowAccumulator(WindowOptions(every_ns=15 * M, min_records=1))
    fine.update(table(ts, lat))
    fine.coarsen(H)
    assert fine.options.every_ns == H
    direct = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    direct.update(table(ts, lat))
    got, want = fine.result(), direct.result()
    assert [(w.start_ns, w.summary.records, w.summary.latency_ms.p95) for w in got] == [
        (w.start_ns, w.summary.records, w.summary.latency_ms.p95) for w in want]
    assert len(got) == 5


def test_coarsening_refuses_lengths_that_are_not_longer_multiples() -> None:
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    for every in (H, 90 * M, 30 * M):
        with pytest.raises(ValueError, match=f"windows of {H} ns do not merge into windows of {every} ns"):
            acc.coarsen(every)
    counted = WindowAccumulator(WindowOptions(every_records=10))
    with pytest.raises(ValueError, match="windows of None ns"):
        counted.coarsen(H)
    acc.coarsen(2 * H)  # nothing read yet: only the length changes
    assert acc.options.every_ns == 2 * H and acc.slots == {}
    acc.update(table([T0 + H]))
    assert acc.starts() == (T0, T0)


def test_a_coarsened_window_still_filling_keeps_its_records_until_the_next(
        rng: np.random.Generator) -> None:
    """After coarsening, the window fed last is still the one filling: its drift holds values
    not yet counted; once a later window is fed, it counts them (fixed-size state), as in a
    direct read. The windows done before are done after coarsening too."""
    base = _joint_base(rng)
    acc = WindowAccumulator(WindowOptions(every_ns=15 * M, min_records=1), baseline=base)
    # 15-minute windows from 10:00 to 11:05: the last (11:00) is alone in the hour it coarsens to
    acc.update(_drift_table(rng, [T0 + i * S for i in range(0, 65 * 60, 30)], 0.0))
    acc.coarsen(H)
    assert set(acc.slots) == {T0, T0 + H}
    done, filling = acc.slots[T0].drift, acc.slots[T0 + H].drift
    assert done is not None and filling is not None
    assert not done._held and not any(s.pending for s in done.numeric.values())
    assert filling._held or any(s.pending for s in filling.numeric.values())
    acc.update(_drift_table(rng, [T0 + 2 * H + S], 0.0))
    assert not filling._held and not any(s.pending for s in filling.numeric.values())


def test_coarsening_in_a_local_zone_follows_its_midnight() -> None:
    """Hours in Berlin coarsened to days: a day runs from local midnight (23:00 UTC in winter)."""
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, timezone="Europe/Berlin"))
    late = ns("2026-11-01T22:30:00+00:00")  # 23:30 in Berlin, still 1 November
    acc.update(table([T0, late, late + H]))  # the last is 00:30 on 2 November
    acc.coarsen(24 * H)
    got = [(w.window_start, w.summary.records) for w in acc.result()]
    assert got == [("2026-11-01T00:00:00+01:00", 2), ("2026-11-02T00:00:00+01:00", 1)]


# --------------------------------------------------------------------- rolling values


def test_rolling_values_over_the_last_ok_windows() -> None:
    """Latency percentiles and the low-confidence share are the mean of the last n `ok` windows'
    values; windows with too few records are left out; a window of none has none."""
    hours = [
        ([1.0, 2.0, 3.0, 4.0], [True, True, False, True], [0.9, 0.2, 0.8, 0.3]),
        ([10.0, 20.0, 30.0, 40.0], [True, False, False, True], [0.9, 0.9, 0.9, 0.1]),
        ([100.0], [False], [0.1]),  # too few records: left out
        ([7.0, 7.0, 8.0, 9.0], [True, True, True, True], [None, None, None, None]),
    ]
    ts, lat, ok, conf = [], [], [], []
    for i, (la, su, co) in enumerate(hours):
        ts += [T0 + i * H + j * S for j in range(len(la))]
        lat += la
        ok += su
        conf += co
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=2, smooth=2))
    acc.update(table(ts, lat, ok, conf))
    ws = acc.result()
    assert [w.status for w in ws] == ["ok", "ok", "too_few_records", "ok"]
    got = [dict(w.smoothed) for w in ws]
    assert [tuple(k for k, _ in w.smoothed) for w in ws] == [HEADLINE] * 4
    p95 = [float(np.percentile(la, 95)) for la, _, _ in hours]
    # window 0 alone; window 1 with window 0; window 2 (too few) with window 1 only; window 3 alone
    assert got[0]["success_rate"] == 3 / 4 and got[1]["success_rate"] == 5 / 8
    assert got[2]["success_rate"] == 2 / 4 and got[3]["success_rate"] == 1.0
    assert got[0]["latency_ms.p95"] == pytest.approx(p95[0])
    assert got[1]["latency_ms.p95"] == pytest.approx((p95[0] + p95[1]) / 2)
    assert got[2]["latency_ms.p95"] == pytest.approx(p95[1])
    assert got[3]["latency_ms.p95"] == pytest.approx(p95[3])
    assert got[1]["latency_ms.p50"] == pytest.approx((2.5 + 25.0) / 2)
    assert got[1]["latency_ms.p99"] == pytest.approx(
        (float(np.percentile(hours[0][0], 99)) + float(np.percentile(hours[1][0], 99))) / 2)
    # low-confidence share (below 0.5): 2/4 then 1/4; the last window has no confidence at all
    assert got[1]["confidence.low_share"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert got[3]["confidence.low_share"] is None
    # with no ok window in reach, every value is None
    lone = WindowAccumulator(WindowOptions(every_ns=H, min_records=5, smooth=3))
    lone.update(table([T0], [1.0], [True], [0.9]))
    assert dict(lone.result()[0].smoothed) == dict.fromkeys(HEADLINE)


def test_headline_reads_each_metric_by_its_name() -> None:
    (w,) = _hourly([T0, T0 + S, T0 + 2 * S])
    g = w.summary
    assert headline(g, "success_rate") == g.success_rate == 1.0
    assert headline(g, "confidence.low_share") is None
    assert headline(g, "latency_ms.p50") == g.latency_ms.p50 == 1.0
    assert headline(g, "latency_ms.p99") == g.latency_ms.p99


# --------------------------------------------------------------------- more edges


def test_a_record_at_the_second_instance_of_a_folded_boundary_is_in_the_repeated_hour() -> None:
    """Berlin 2026-10-25: 02:00 local is 00:00 UTC (CEST) and again 01:00 UTC (CET); a record at
    exactly 01:00 UTC opens the repeated hour, one a nanosecond before closes the first."""
    at = ns("2026-10-25T01:00:00+00:00")
    got = window_starts(np.array([at - 1, at]), H, "Europe/Berlin").tolist()
    assert got == [ns("2026-10-25T00:00:00+00:00"), at]


def test_lengths_that_are_not_whole_weeks_count_from_the_epoch() -> None:
    """3-day windows start on multiples of 3 days since 1970-01-01 (not since the Monday after)."""
    t = ns("2026-11-05T12:00:00+00:00")
    day = 86_400 * S
    days = t // day
    (start,) = window_starts(np.array([t]), 3 * day)
    assert int(start) == (days - days % 3) * day
    (start,) = window_starts(np.array([t]), 3 * day, "Asia/Kolkata")  # local midnight: 18:30 UTC
    local_days = (t + 330 * M) // day
    assert int(start) == (local_days - local_days % 3) * day - 330 * M


def test_local_windows_are_shown_in_their_zone() -> None:
    """India is UTC+05:30: 10:10 UTC is 15:40 there, in the hour from 15:00 (09:30 UTC)."""
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1, timezone="Asia/Kolkata"))
    acc.update(table([T0 + 10 * M, T0 + 20 * M]))
    (w,) = acc.result()
    assert (w.window_start, w.window_end) == ("2026-11-01T15:00:00+05:30", "2026-11-01T16:00:00+05:30")
    assert (w.start_ns, w.summary.records, w.summary.group) == (T0 - 30 * M, 2, w.window_start)


def test_one_of_a_length_or_a_record_count_is_needed() -> None:
    for options in (WindowOptions(), WindowOptions(every_ns=H, every_records=10)):
        with pytest.raises(OptionError) as info:
            WindowAccumulator(options)
        assert str(info.value) == "give one of a window length (1h) or a record count (5000)"


def test_record_count_windows_do_not_merge() -> None:
    acc = WindowAccumulator(WindowOptions(every_records=10))
    with pytest.raises(ValueError) as info:
        acc.merge(WindowAccumulator(WindowOptions(every_records=10)))
    assert str(info.value) == "record-count windows follow read order: they do not merge"


def test_windows_use_the_summary_options_given() -> None:
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=1),
                            summary=SummaryOptions(low_confidence=0.9))
    acc.update(table([T0] * 4, confidence=[0.6, 0.7, 0.95, 0.99]))
    (w,) = acc.result()
    assert w.summary.confidence.low_share == 2 / 4
    plain = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    plain.update(table([T0] * 4, confidence=[0.4, 0.7, 0.95, 0.99]))
    assert plain.result()[0].summary.confidence.low_share == 1 / 4  # below the default 0.5


def test_records_without_a_time_add_up_over_tables_and_merges() -> None:
    a = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    a.update(table([None, T0]))
    a.update(table([None, None]))
    b = WindowAccumulator(WindowOptions(every_ns=H, min_records=1))
    b.update(table([None, T0 + 1, T0 + H]))  # a window a has, and one it has not
    a.merge(b)
    assert a.without_timestamp == 4 and [w.summary.records for w in a.result()] == [2, 1]


def test_windows_shorter_than_a_second_count_their_rate_over_their_length() -> None:
    half = S // 2
    acc = WindowAccumulator(WindowOptions(every_ns=half, min_records=1))
    acc.update(table([T0, T0 + 100_000_000, T0 + half]))
    first, second = acc.result()
    assert (first.summary.records, first.summary.requests_per_second) == (2, 4.0)
    assert (second.summary.records, second.summary.requests_per_second) == (1, 2.0)


def test_record_count_windows_of_a_table_without_read_numbers_follow_its_order() -> None:
    t = table([T0 + 2 * S, T0 + S, T0]).drop_columns([SEQ])
    acc = WindowAccumulator(WindowOptions(every_records=2, min_records=1))
    acc.update(t)
    assert [w.summary.records for w in acc.result()] == [2, 1]
    assert acc.out_of_order == 2
    two = WindowAccumulator(WindowOptions(every_records=1, min_records=1))
    two.update(table([T0, T0 + S], [1.0, 2.0]).take(pa.array([1, 0])))  # two rows, read backwards
    assert [w.summary.latency_ms.max for w in two.result()] == [1.0, 2.0]


def test_millisecond_windows_coarsen_to_the_nanosecond() -> None:
    """Window starts of 1 ms windows in 2026 need all 61 bits of an int64 (a float64 holds 53)."""
    ms = 10**6
    acc = WindowAccumulator(WindowOptions(every_ns=ms, min_records=1))
    acc.update(table([T0 + ms + 5, T0 + 2 * ms + 5, T0 + 3 * ms + 5]))
    acc.coarsen(2 * ms)
    assert [(w.start_ns, w.summary.records) for w in acc.result()] == [(T0, 1), (T0 + 2 * ms, 2)]


def test_clock_windows_are_judged_with_the_options_given(rng: np.random.Generator) -> None:
    base = _joint_base(rng)
    acc = WindowAccumulator(WindowOptions(every_ns=H, min_records=10), baseline=base)
    acc.update(_drift_table(rng, [T0 + i * S for i in range(300)], 1.5))
    assert acc.result()[0].drifted == ("x", "y")
    (strict,) = acc.result(DriftOptions(p_threshold=1e-300))
    assert strict.drifted == () and [f.n for f in strict.features][:2] == [300, 300]


def test_record_count_windows_keep_the_constructors_options_when_given_none(rng: np.random.Generator) -> None:
    strict = DriftOptions(p_threshold=1e-300)
    acc = WindowAccumulator(WindowOptions(every_records=1000, min_records=10), baseline=_joint_base(rng),
                            drift=strict)
    acc.update(_drift_table(rng, [T0 + i * S for i in range(300)], 1.5))
    (w,) = acc.result()
    assert acc.drift_options == strict and w.drifted == ()
