"""Window boundaries (UTC, DST, half-hour zones), unsorted input, records without a time, merging."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from mlmon.errors import OptionError
from mlmon.read.records import CONFIDENCE, LATENCY, PRED_CLASS, PRED_VALUE, SEQ, SUCCESS, TIMESTAMP
from mlmon.stats.windows import (
    Window,
    WindowAccumulator,
    WindowOptions,
    boundaries,
    iso,
    window_starts,
)

H = 3600 * 10**9
M = 60 * 10**9


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) * 10**9


def table(ts: list[int | None], latency: list[float], success: list[bool] | None = None) -> pa.Table:
    n = len(ts)
    return pa.table(
        {
            LATENCY: pa.array(latency, pa.float64()),
            SUCCESS: pa.array(success if success is not None else [True] * n, pa.bool_()),
            PRED_CLASS: pa.nulls(n, pa.string()),
            CONFIDENCE: pa.nulls(n, pa.float64()),
            PRED_VALUE: pa.nulls(n, pa.float64()),
            SEQ: pa.array(np.arange(n), pa.int64()),
            TIMESTAMP: pa.array(ts, pa.timestamp("ns", tz="UTC")),
        }
    )


def test_utc_hour_windows_start_on_the_hour() -> None:
    t = np.array([ns("2026-11-01T10:00:00+00:00"), ns("2026-11-01T10:59:59+00:00"),
                  ns("2026-11-01T11:00:00+00:00"), ns("1969-12-31T23:30:00+00:00")])
    assert window_starts(t, H).tolist() == [
        ns("2026-11-01T10:00:00+00:00"), ns("2026-11-01T10:00:00+00:00"),
        ns("2026-11-01T11:00:00+00:00"), ns("1969-12-31T23:00:00+00:00"),
    ]


def test_half_hour_zone_aligns_hours_to_its_own_clock() -> None:
    # India is UTC+05:30: its hours start at half past the UTC hour
    t = np.array([ns("2026-11-01T10:10:00+00:00"), ns("2026-11-01T10:40:00+00:00")])
    got = window_starts(t, H, "Asia/Kolkata")
    assert got.tolist() == [ns("2026-11-01T09:30:00+00:00"), ns("2026-11-01T10:30:00+00:00")]
    assert iso(int(got[1]), "Asia/Kolkata") == "2026-11-01T16:00:00+05:30"


def test_autumn_fold_repeated_hour_is_its_own_window() -> None:
    # Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:xx local happens twice
    first = ns("2026-10-25T00:30:00+00:00")  # 02:30 CEST
    second = ns("2026-10-25T01:30:00+00:00")  # 02:30 CET
    got = window_starts(np.array([first, second]), H, "Europe/Berlin").tolist()
    assert got == [ns("2026-10-25T00:00:00+00:00"), ns("2026-10-25T01:00:00+00:00")]
    edges = boundaries(first, second, H, "Europe/Berlin")
    assert [iso(int(e), "Europe/Berlin") for e in edges] == [
        "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]


def test_day_windows_follow_local_midnight_across_dst() -> None:
    # 25 hours on the autumn day, 23 on the spring day
    autumn = boundaries(ns("2026-10-25T12:00:00+00:00"), ns("2026-10-25T12:00:00+00:00"), 24 * H,
                        "Europe/Berlin")
    assert autumn.tolist() == [ns("2026-10-24T22:00:00+00:00"), ns("2026-10-25T23:00:00+00:00")]
    spring = boundaries(ns("2026-03-29T12:00:00+00:00"), ns("2026-03-29T12:00:00+00:00"), 24 * H,
                        "Europe/Berlin")
    assert spring.tolist() == [ns("2026-03-28T23:00:00+00:00"), ns("2026-03-29T22:00:00+00:00")]
    # a record late on the autumn day (23:30 CET = 22:30 UTC) is in that 25-hour day
    late = window_starts(np.array([ns("2026-10-25T22:30:00+00:00")]), 24 * H, "Europe/Berlin")
    assert late.tolist() == [ns("2026-10-24T22:00:00+00:00")]


def test_spring_gap_boundary_moves_to_the_end_of_the_gap() -> None:
    # Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST; with 2h windows the 02:00 boundary is 03:00
    t = np.array([ns("2026-03-29T01:30:00+00:00")])  # 03:30 CEST
    assert window_starts(t, 2 * H, "Europe/Berlin").tolist() == [ns("2026-03-29T01:00:00+00:00")]
    edges = boundaries(ns("2026-03-28T23:30:00+00:00"), int(t[0]), 2 * H, "Europe/Berlin")
    assert [iso(int(e), "Europe/Berlin") for e in edges] == [
        "2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]


def test_every_start_is_a_boundary_on_random_times() -> None:
    rng = np.random.default_rng(7)
    t = rng.integers(ns("2026-03-27T00:00:00+00:00"), ns("2026-03-31T00:00:00+00:00"), 2000)
    t = np.concatenate((t, rng.integers(ns("2026-10-23T00:00:00+00:00"), ns("2026-10-27T00:00:00+00:00"),
                                        2000)))
    for every in (15 * M, H, 2 * H, 24 * H):
        for tz in ("Europe/Berlin", "America/New_York", "UTC"):
            starts = window_starts(t, every, tz)
            for lo, hi in ((t[:2000].min(), t[:2000].max()), (t[2000:].min(), t[2000:].max())):
                edges = boundaries(int(lo), int(hi), every, tz)
                part = (t >= lo) & (t <= hi)
                # each record lies in [start, next boundary), and its start is a boundary
                idx = np.searchsorted(edges, t[part], side="right") - 1
                assert np.array_equal(edges[idx], starts[part])
                assert (np.diff(edges) > 0).all()


def _acc(every: int = H, **kw: object) -> WindowAccumulator:
    return WindowAccumulator(WindowOptions(every_ns=every, min_records=1, **kw))  # type: ignore[arg-type]


def test_empty_windows_are_rows_with_zero_records_and_unsorted_input_is_fine() -> None:
    t0 = ns("2026-11-01T10:00:00+00:00")
    ts = [t0 + 5 * M, t0 + 3 * H + 1, t0 + 10 * M, t0 + 3 * H + 2 * M]
    acc = _acc()
    acc.update(table(ts, [1.0, 4.0, 2.0, 5.0]))
    ws = acc.result()
    assert [w.window_start for w in ws] == [
        "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z", "2026-11-01T12:00:00Z", "2026-11-01T13:00:00Z"]
    assert [w.summary.records for w in ws] == [2, 0, 0, 2]
    assert [w.status for w in ws] == ["ok", "empty", "empty", "ok"]
    assert ws[0].summary.latency_ms.p50 == float(np.percentile([1.0, 2.0], 50))
    assert ws[3].summary.latency_ms.max == 5.0
    assert ws[0].summary.requests_per_second == pytest.approx(2 / 3600)


def test_records_without_a_time_are_counted_in_no_window() -> None:
    t0 = ns("2026-11-01T10:00:00+00:00")
    acc = _acc()
    acc.update(table([t0, None, t0 + 1, None], [1.0, 99.0, 2.0, 98.0]))
    ws = acc.result()
    assert acc.without_timestamp == 2
    assert [w.summary.records for w in ws] == [2]
    assert ws[0].summary.latency_ms.max == 2.0


def _exact(ws: tuple[Window, ...]) -> list[Window]:
    """Windows with the latency mean rounded (a sum in another order differs in the last bit)."""
    out = []
    for w in ws:
        lat = w.summary.latency_ms
        lat = dataclasses.replace(lat, mean=None if lat.mean is None else round(lat.mean, 9))
        out.append(dataclasses.replace(w, summary=dataclasses.replace(w.summary, latency_ms=lat)))
    return out


def test_two_halves_merged_equal_the_whole(rng: np.random.Generator) -> None:
    t0 = ns("2026-11-01T10:00:00+00:00")
    n = 5000
    ts = (t0 + rng.integers(0, 6 * H, n)).tolist()
    lat = rng.gamma(2, 20, n).round(2).tolist()
    ok = (rng.random(n) < 0.95).tolist()
    whole = _acc()
    whole.update(table(ts, lat, ok))
    a, b = _acc(), _acc()
    a.update(table(ts[: n // 2], lat[: n // 2], ok[: n // 2]))
    b.update(table(ts[n // 2 :], lat[n // 2 :], ok[n // 2 :]))
    a.merge(b)
    assert _exact(a.result()) == _exact(whole.result())
    # and the windows hold exactly the records between their bounds
    arr, lat_a = np.array(ts), np.array(lat)
    for w in whole.result():
        inside = (arr >= w.start_ns) & (arr < w.end_ns)
        assert w.summary.records == inside.sum()
        assert w.summary.latency_ms.p99 == float(np.percentile(lat_a[inside], 99))
        assert w.summary.successes == int(np.array(ok)[inside].sum())


def test_record_count_windows_stream_in_read_order(rng: np.random.Generator) -> None:
    """A log in time order: windows of 10 records in time order, the same whether the records
    come in one table or in chunks that cut windows; a full window keeps no accumulator."""
    t0 = ns("2026-11-01T10:00:00+00:00")
    ts = t0 + np.arange(25) * 10**9
    lat = [float(x - t0) / 1e9 for x in ts]
    whole = WindowAccumulator(WindowOptions(every_records=10, min_records=1))
    whole.update(table(ts.tolist(), lat))
    chunked = WindowAccumulator(WindowOptions(every_records=10, min_records=1))
    for a, b in ((0, 7), (7, 8), (8, 23), (23, 25)):
        part = table(ts[a:b].tolist(), lat[a:b])
        chunked.update(part.set_column(part.column_names.index(SEQ), SEQ, pa.array(np.arange(a, b))))
        assert len(chunked.closed) == b // 10 and chunked.slots == {}
    ws = whole.result()
    assert [w.summary.records for w in ws] == [10, 10, 5]
    assert [w.summary.latency_ms.max for w in ws] == [9.0, 19.0, 24.0]
    assert ws[1].window_start == "2026-11-01T10:00:10Z" and ws[1].window_end == "2026-11-01T10:00:19Z"
    assert _exact(chunked.result()) == _exact(ws)
    assert whole.out_of_order == chunked.out_of_order == 0


def test_record_count_windows_of_unsorted_input_follow_read_order(rng: np.random.Generator) -> None:
    """Out of time order, windows hold consecutive records as read, span their records' times
    (so they may overlap), and the records older than one read before them are counted."""
    t0 = ns("2026-11-01T10:00:00+00:00")
    secs = rng.permutation(25)
    ts = t0 + secs * 10**9
    acc = WindowAccumulator(WindowOptions(every_records=10, min_records=1))
    acc.update(table(ts.tolist(), secs.astype(float).tolist()))
    ws = acc.result()
    assert [w.summary.records for w in ws] == [10, 10, 5]
    for w, part in zip(ws, (secs[:10], secs[10:20], secs[20:]), strict=True):
        assert w.summary.latency_ms.max == part.max()
        assert w.start_ns == t0 + part.min() * 10**9 and w.end_ns == t0 + part.max() * 10**9
    running = np.maximum.accumulate(secs)
    assert acc.out_of_order == int(np.count_nonzero(secs[1:] < running[:-1])) > 0
    with pytest.raises(ValueError, match="read order"):
        acc.merge(WindowAccumulator(WindowOptions(every_records=10)))


def test_week_windows_start_on_monday_local_midnight() -> None:
    """1w windows count from Monday 1970-01-05, so they start on Mondays at local midnight."""
    t = ns("2026-11-05T12:00:00+00:00")  # a Thursday
    (start,) = window_starts(np.array([t]), 7 * 24 * H)
    assert iso(int(start)) == "2026-11-02T00:00:00Z"
    assert datetime.fromtimestamp(int(start) // 10**9, UTC).weekday() == 0
    (start,) = window_starts(np.array([t]), 7 * 24 * H, "Europe/Berlin")
    assert iso(int(start), "Europe/Berlin") == "2026-11-02T00:00:00+01:00"
    (start,) = window_starts(np.array([t]), 14 * 24 * H)
    assert datetime.fromtimestamp(int(start) // 10**9, UTC).weekday() == 0
    # a length that is not whole weeks still counts from 1970-01-01
    (start,) = window_starts(np.array([t]), 2 * 24 * H)
    assert (int(start) // (24 * H)) % 2 == 0
    edges = boundaries(t, t + 20 * 24 * H, 7 * 24 * H, "Europe/Berlin")
    assert all(datetime.fromtimestamp(int(e) // 10**9, UTC).weekday() in (0, 6) for e in edges)


def test_approx_percentiles_are_within_one_percent(rng: np.random.Generator) -> None:
    t0 = ns("2026-11-01T10:00:00+00:00")
    n = 20000
    lat = np.concatenate((rng.lognormal(3, 1, n - 10), np.zeros(10)))
    ts = (t0 + rng.integers(0, H, n)).tolist()
    acc = _acc(approx=True)
    acc.update(table(ts, lat.tolist()))
    (w,) = acc.result()
    got = w.summary.latency_ms
    assert got.method == "ddsketch" and got.n == n
    assert got.mean == pytest.approx(lat.mean()) and got.max == lat.max()
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        lo = np.percentile(lat, q, method="lower")
        hi = np.percentile(lat, q, method="higher")
        assert lo * 0.99 <= getattr(got, name) <= hi * 1.01


def test_smooth_pools_the_success_rate() -> None:
    t0 = ns("2026-11-01T10:00:00+00:00")
    ts = [t0] * 4 + [t0 + H] * 2
    acc = _acc(smooth=2)
    acc.update(table(ts, [1.0] * 6, [True, True, True, False, False, True]))
    ws = acc.result()
    assert dict(ws[0].smoothed)["success_rate"] == 3 / 4
    assert dict(ws[1].smoothed)["success_rate"] == 4 / 6


def test_too_many_windows_is_a_usage_error() -> None:
    acc = _acc(every=10**9)
    acc.update(table([0, 10**9 * 10**6], [1.0, 1.0]))
    with pytest.raises(OptionError, match="--every"):
        acc.result()


def test_results_are_frozen() -> None:
    acc = _acc()
    acc.update(table([0], [1.0]))
    (w,) = acc.result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.status = "x"  # type: ignore[misc]
    assert iso(0) == "1970-01-01T00:00:00Z" and datetime.fromtimestamp(0, UTC).year == 1970


def test_a_done_window_holds_its_drift_counts_not_its_records(rng: np.random.Generator) -> None:
    """In a log in time order, once the next window starts, the last one's drift has counted its
    values (fixed-size counts), and the result equals one accumulator fed everything at once."""
    from mlmon.read.records import FEATURE_PREFIX
    from mlmon.stats import baseline as bl

    base = bl.build(pa.table({"x": rng.normal(0, 1, 2000)}), source="t", max_edges=1001)
    t0 = ns("2026-11-01T10:00:00+00:00")
    n = 3000
    ts = t0 + np.sort(rng.integers(0, 3 * H, n))
    t = table(ts.tolist(), rng.gamma(2, 10, n).tolist()).append_column(
        FEATURE_PREFIX + "x", pa.array(rng.normal(0.3, 1, n)))
    streamed = WindowAccumulator(WindowOptions(every_ns=H, min_records=1), baseline=base)
    for a in range(0, n, 250):
        streamed.update(t.slice(a, 250))
        newest = max(streamed.slots)
        for key, slot in streamed.slots.items():
            assert slot.drift is not None
            if key != newest:
                assert not slot.drift._held and all(not s.pending for s in slot.drift.numeric.values())
    whole = WindowAccumulator(WindowOptions(every_ns=H, min_records=1), baseline=base)
    whole.update(t)
    assert [w.features for w in streamed.result()] == [w.features for w in whole.result()]
