"""Windows over time: records split into clock-aligned (or fixed-count) windows, each a mergeable summary."""

from __future__ import annotations

import dataclasses
import math
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.errors import OptionError
from mlmon.read.records import LATENCY, SEQ, TIMESTAMP
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.sketch import LatencySketch
from mlmon.stats.summary import GroupSummary, SummaryAccumulator, SummaryOptions

MAX_WINDOWS = 100_000
"""More windows than this (from the first record to the last) is a usage error: pick a longer --every."""


WEEK_NS = 7 * 86_400 * 10**9
MONDAY_NS = 4 * 86_400 * 10**9
"""1970-01-05 00:00, the first Monday: windows of whole weeks count from it, so they start on Mondays."""


def origin(every: int) -> int:
    """Where windows of length `every` count from (local time): 1970-01-05 (a Monday) for whole
    weeks, 1970-01-01 00:00 for any other length."""
    return MONDAY_NS if every % WEEK_NS == 0 else 0


def _is_utc(tz: str) -> bool:
    return tz.upper() in ("UTC", "Z")


def window_starts(ts: np.ndarray, every: int, tz: str = "UTC") -> np.ndarray:
    """The start (UTC ns) of the window holding each timestamp (UTC ns).

    Windows are aligned to the wall clock of `tz`: multiples of `every` since 1970-01-01 00:00
    local time (so `1h` windows start on the hour, `1d` windows at local midnight), or for whole
    weeks since Monday 1970-01-05 (so `1w` windows start on Monday at local midnight). A window's
    start is the latest instant at or before the record at which the local clock showed that
    multiple: in the autumn fold the repeated hour is a window of its own, and a boundary that
    falls in the spring gap moves to the end of the gap.
    """
    ts = np.asarray(ts, dtype=np.int64)
    at = origin(every)
    if _is_utc(tz):
        return np.asarray(ts - np.mod(ts - at, every), dtype=np.int64)
    wall = np.asarray(
        pc.cast(pc.local_timestamp(pa.array(ts, pa.timestamp("ns", tz=tz))), pa.int64()).to_numpy(),
        dtype=np.int64,
    )
    floor = wall - np.mod(wall - at, every)
    early, late = _to_utc(floor, tz)
    return np.where(late <= ts, late, early)


def _to_utc(wall: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock times in `tz` to UTC: the earlier and the later instant (equal outside the fold)."""
    naive = pa.array(wall, pa.timestamp("ns"))
    out = []
    for ambiguous in ("earliest", "latest"):
        utc = pc.assume_timezone(naive, timezone=tz, ambiguous=ambiguous, nonexistent="latest")
        out.append(np.asarray(pc.cast(utc, pa.int64()).to_numpy(), dtype=np.int64))
    return out[0], out[1]


def boundaries(first: int, last: int, every: int, tz: str = "UTC") -> np.ndarray:
    """Every window start from the window holding `first` to the one holding `last`, plus the end
    of the last window: n windows give n + 1 sorted instants (UTC ns)."""
    lo = int(window_starts(np.array([first]), every, tz)[0])
    hi = int(window_starts(np.array([last]), every, tz)[0])
    if _is_utc(tz):
        count = (hi - lo) // every + 1
        _check_count(count, every)
        return lo + every * np.arange(count + 1, dtype=np.int64)
    wall_lo = _wall(lo, tz)
    wall_hi = _wall(hi, tz)
    count = (wall_hi - wall_lo) // every + 1
    _check_count(count, every)
    walls = wall_lo + every * np.arange(-1, count + 3, dtype=np.int64)
    early, late = _to_utc(walls, tz)
    starts = np.unique(np.concatenate((early, late)))
    i = int(np.searchsorted(starts, lo))
    j = int(np.searchsorted(starts, hi))
    return starts[i : j + 2]


def _wall(ns: int, tz: str) -> int:
    arr = pc.local_timestamp(pa.array([ns], pa.timestamp("ns", tz=tz)))
    return int(pc.cast(arr, pa.int64())[0].as_py())


def _check_count(count: int, every: int) -> None:
    if count > MAX_WINDOWS:
        raise OptionError(
            f"--every {every / 1e9:g}s over this time range gives {count:,} windows (more than "
            f"{MAX_WINDOWS:,}): give a longer --every or narrow the range with --since/--until"
        )


def iso(ns: int, tz: str = "UTC") -> str:
    """An instant as ISO 8601 in `tz` (with its offset; `Z` for UTC), to the second or finer."""
    secs, rem = divmod(int(ns), 1_000_000_000)
    dt = datetime.fromtimestamp(secs, UTC)
    if not _is_utc(tz):
        dt = dt.astimezone(zoneinfo.ZoneInfo(tz))
    text = dt.isoformat()
    if rem:
        text = text[:19] + f".{rem // 1_000_000:03d}" + text[19:]
    return text.replace("+00:00", "Z") if _is_utc(tz) else text


@dataclass(frozen=True)
class WindowOptions:
    every_ns: int | None = None
    """Clock windows of this length (ns); or"""
    every_records: int | None = None
    """windows of this many records, in read order (time order for a log written in time order)."""
    timezone: str = "UTC"
    min_records: int = 30
    """Windows with fewer records say `too_few_records` and are never alerted on."""
    approx: bool = False
    """Latency percentiles from a DDSketch per window (1% relative error) instead of exact values."""
    smooth: int | None = None
    """Add a rolling value of the headline metrics over this many windows."""


@dataclass
class _Slot:
    summary: SummaryAccumulator
    drift: DriftAccumulator | None
    sketch: LatencySketch | None

    def merge(self, o: _Slot) -> None:
        self.summary.merge(o.summary)
        if self.drift is not None and o.drift is not None:
            self.drift.merge(o.drift)
        if self.sketch is not None and o.sketch is not None:
            self.sketch.merge(o.sketch)


@dataclass(frozen=True)
class Window:
    """One window: its bounds, its summary, and its drift when a baseline was given."""

    window_start: str
    window_end: str
    start_ns: int
    end_ns: int
    status: str
    """`ok`, `too_few_records` (fewer than --min-records) or `empty` (no traffic)."""
    summary: GroupSummary
    features: tuple[FeatureDrift, ...] = ()
    drifted: tuple[str, ...] = ()
    smoothed: tuple[tuple[str, float | None], ...] = ()
    """(metric, rolling value over the last --smooth windows with enough records)."""
    partial: bool = False
    """The selection ends (its newest record, or --until) before this window does: the window is
    still filling. Its rates are over the span it covers; trend does not judge it by default."""


def mark_partial(windows: tuple[Window, ...], end_ns: int | None) -> tuple[Window, ...]:
    """Mark the last clock window partial when the selection's end `end_ns` (the newest record,
    or --until) falls before the window's end; its requests/s then counts over the span it
    covers (window start to `end_ns`), not the whole window length."""
    if not windows or end_ns is None or end_ns >= windows[-1].end_ns:
        return windows
    w = windows[-1]
    span = (end_ns - w.start_ns) / 1e9
    rate = w.summary.records / span if span > 0 else None
    summary = dataclasses.replace(w.summary, requests_per_second=rate)
    last = dataclasses.replace(w, partial=True, summary=summary)
    return (*windows[:-1], last)


class WindowAccumulator:
    """Mergeable per-window state: a SummaryAccumulator (and a DriftAccumulator) per window.

    Memory: fixed-size counts per window, plus the exact latencies (8 bytes a record, fewer once
    folded into distinct values), or a DDSketch of at most a few thousand buckets with `approx`.
    Record-count windows (`every_records`) stream: they are filled in read order and each is
    reduced to its result once full, so only the window being filled holds its latencies.
    Records without a timestamp belong to no window; they are counted in `without_timestamp`.
    """

    def __init__(
        self,
        options: WindowOptions,
        *,
        summary: SummaryOptions | None = None,
        baseline: Baseline | None = None,
        drift: DriftOptions | None = None,
    ) -> None:
        if (options.every_ns is None) == (options.every_records is None):
            raise OptionError("give one of a window length (1h) or a record count (5000)")
        self.options = options
        self.summary_options = summary or SummaryOptions()
        self.baseline = baseline
        self.drift_options = drift
        """The drift options record-count windows are judged with when they fill up."""
        self.slots: dict[int, _Slot] = {}
        self.without_timestamp = 0
        self.closed: list[Window] = []
        """Record-count windows already full, reduced to their results."""
        self.open: _Slot | None = None
        """The record-count window being filled, its record count and time span."""
        self.open_records = 0
        self.open_span = (0, 0)
        self.newest: int | None = None
        """The latest time placed so far (record-count windows)."""
        self._fed: set[int] = set()
        self.out_of_order = 0
        """Records older than one read before them: record-count windows follow read order, so
        with any, windows can overlap in time."""

    def _slot(self) -> _Slot:
        return _Slot(
            SummaryAccumulator(self.summary_options),
            DriftAccumulator(self.baseline) if self.baseline is not None else None,
            LatencySketch() if self.options.approx else None,
        )

    def _feed(self, key: int, t: pa.Table) -> None:
        slot = self.slots.get(key)
        if slot is None:
            if len(self.slots) >= MAX_WINDOWS:
                _check_count(len(self.slots) + 1, self.options.every_ns or 1)
            slot = self.slots[key] = self._slot()
        self._fed.add(key)
        self._feed_slot(slot, t)

    @staticmethod
    def _feed_slot(slot: _Slot, t: pa.Table) -> None:
        if slot.sketch is not None:
            lat = t.column(LATENCY)
            if lat.null_count < len(lat):
                slot.sketch.extend(np.asarray(pc.drop_null(lat).to_numpy(), dtype=np.float64))
            t = t.set_column(
                t.column_names.index(LATENCY), LATENCY, pa.nulls(t.num_rows, pa.float64())
            )
        slot.summary.update(t)
        if slot.drift is not None:
            slot.drift.update(t)

    def update(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        ts = table.column(TIMESTAMP)
        if ts.null_count:
            self.without_timestamp += ts.null_count
            table = table.filter(pc.is_valid(ts))
            if table.num_rows == 0:
                return
            ts = table.column(TIMESTAMP)
        if self.options.every_records is not None:
            self._count_update(table)
            return
        every = self.options.every_ns
        assert every is not None
        ns = np.asarray(pc.cast(ts, pa.int64()).to_numpy(), dtype=np.int64)
        starts = window_starts(ns, every, self.options.timezone)
        lo, hi = int(starts.min()), int(starts.max())
        if lo == hi:
            self._feed(lo, table)
        elif np.all(starts[1:] >= starts[:-1]):  # in time order: each window's records are a slice
            cuts = np.flatnonzero(np.diff(starts)) + 1
            for a, b in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(starts)])), strict=True):
                self._feed(int(starts[a]), table.slice(int(a), int(b - a)))
        else:
            order = np.argsort(starts, kind="stable")
            sorted_starts = starts[order]
            cuts = np.flatnonzero(np.diff(sorted_starts)) + 1
            for a, b in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(order)])), strict=True):
                self._feed(int(sorted_starts[a]), table.take(pa.array(order[a:b])))
        self._settle(keep=hi)

    def _settle(self, keep: int) -> None:
        """Let the drift of each window fed since the last call but `keep` (the newest: in a log
        in time order the one still filling) count the values it holds, so a window that is
        done holds its fixed-size counts, not its records."""
        for key in self._fed - {keep}:
            drift = self.slots[key].drift
            if drift is not None:
                drift.settle()
        self._fed = {keep}

    def _count_update(self, table: pa.Table) -> None:
        """Fill record-count windows in read order; a full window is reduced to its result."""
        n = self.options.every_records
        assert n is not None
        if SEQ in table.column_names and table.num_rows > 1:
            seq = table.column(SEQ).to_numpy()
            if np.any(np.diff(seq) < 0):
                table = table.take(pa.array(np.argsort(seq, kind="stable")))
        ns = np.asarray(pc.cast(table.column(TIMESTAMP), pa.int64()).to_numpy(), dtype=np.int64)
        before = np.maximum.accumulate(np.concatenate(([self.newest if self.newest is not None else ns[0]],
                                                       ns[:-1])))
        self.out_of_order += int(np.count_nonzero(ns < before))
        self.newest = int(max(before[-1], ns[-1]))
        i = 0
        while i < len(ns):
            if self.open is None:
                if len(self.closed) >= MAX_WINDOWS:
                    raise OptionError(
                        f"--every {n} gives more than {MAX_WINDOWS:,} windows: give a larger record "
                        "count, or narrow the range with --since/--until"
                    )
                self.open, self.open_records = self._slot(), 0
                self.open_span = (int(ns[i]), int(ns[i]))
            k = min(n - self.open_records, len(ns) - i)
            part = ns[i : i + k]
            self._feed_slot(self.open, table.slice(i, k))
            lo, hi = self.open_span
            self.open_span = (min(lo, int(part.min())), max(hi, int(part.max())))
            self.open_records += k
            i += k
            if self.open_records == n:
                self._close()

    def _close(self) -> None:
        if self.open is not None:
            self.closed.append(self._window(*self.open_span, self.open, self.drift_options))
            self.open = None

    def merge(self, other: WindowAccumulator) -> None:
        if self.options.every_records is not None:
            raise ValueError("record-count windows follow read order: they do not merge")
        self.without_timestamp += other.without_timestamp
        for key, slot in other.slots.items():
            if key in self.slots:
                self.slots[key].merge(slot)
            else:
                self.slots[key] = slot

    def coarsen(self, every_ns: int) -> None:
        """Merge the clock windows into windows of `every_ns`, a multiple of the current length
        whose boundaries are among the current ones (1m -> 5m -> 15m ... 1d -> 1w): each window
        lies within one of the new ones, so the result is the one a read with `every_ns` gives."""
        old = self.options.every_ns
        if old is None or every_ns % old or every_ns <= old:
            raise ValueError(f"windows of {old} ns do not merge into windows of {every_ns} ns")
        self.options = dataclasses.replace(self.options, every_ns=every_ns)
        if not self.slots:
            return
        keys = np.fromiter(self.slots, dtype=np.int64, count=len(self.slots))
        starts = window_starts(keys, every_ns, self.options.timezone)
        slots: dict[int, _Slot] = {}
        fed: set[int] = set()
        for k, s in zip(keys.tolist(), starts.tolist(), strict=True):
            slot = self.slots[k]
            if s in slots:
                slots[s].merge(slot)
            else:
                slots[s] = slot
            if k in self._fed:
                fed.add(s)
        self.slots, self._fed = slots, fed

    def _window(self, start: int, end: int, slot: _Slot, drift: DriftOptions | None) -> Window:
        o = self.options
        tz = o.timezone
        g = slot.summary.result().overall
        if slot.sketch is not None:
            g = dataclasses.replace(g, latency_ms=slot.sketch.stats())
        length = (end - start) / 1e9
        if o.every_records is None and length > 0:
            g = dataclasses.replace(g, requests_per_second=g.records / length)
        status = "empty" if g.records == 0 else "too_few_records" if g.records < o.min_records else "ok"
        features: tuple[FeatureDrift, ...] = ()
        if slot.drift is not None and g.records:
            features = slot.drift.result(drift)
        return Window(
            window_start=iso(start, tz),
            window_end=iso(end, tz),
            start_ns=start,
            end_ns=end,
            status=status,
            summary=dataclasses.replace(g, group=iso(start, tz)),
            features=features,
            drifted=tuple(f.name for f in features  # the joint test's verdict is its own row's
                          if f.drift and f.role != "multivariate" and status == "ok"),
        )

    def starts(self) -> tuple[int, int] | None:
        """The first and the last window start holding records (clock windows), or None."""
        return (min(self.slots), max(self.slots)) if self.slots else None

    def result(
        self, drift: DriftOptions | None = None, *, span: tuple[int, int] | None = None
    ) -> tuple[Window, ...]:
        """The windows in order. Record-count windows are judged with the drift options given to
        the constructor (they were reduced as they filled up); `drift` must not differ from them.
        Clock windows run from the first window with records to the last, or over `span` (the
        first and last window start) when given, so groups share one set of rows."""
        o = self.options
        if o.every_records is not None:
            if drift is not None and self.closed and drift != self.drift_options:
                raise ValueError("record-count windows were judged with the constructor's drift options")
            if drift is not None and not self.closed:
                self.drift_options = drift
            self._close()
            windows = list(self.closed)
        else:
            every = o.every_ns
            assert every is not None
            span = span or self.starts()
            if span is None:
                return ()
            edges = boundaries(span[0], span[1], every, o.timezone)
            windows = []
            for a, b in zip(edges[:-1], edges[1:], strict=True):
                slot = self.slots.get(int(a))
                slot = slot if slot is not None else self._slot()
                windows.append(self._window(int(a), int(b), slot, drift))
        if o.smooth:
            windows = smooth(windows, o.smooth)
        return tuple(windows)


HEADLINE = ("success_rate", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99", "confidence.low_share")
"""The metrics --smooth adds a rolling value for."""


def headline(g: GroupSummary, metric: str) -> float | None:
    """The value of one headline metric of a summary, by its one name."""
    if metric == "success_rate":
        return g.success_rate
    if metric == "confidence.low_share":
        return g.confidence.low_share
    value: float | None = getattr(g.latency_ms, metric.split(".")[1])
    return value


def smooth(windows: list[Window], n: int) -> list[Window]:
    """Rolling values over the last n windows with enough records (`ok`), up to and including each.

    The success rate is pooled (successes over requests of those windows); the latency
    percentiles and the low-confidence share are the mean of the windows' values.
    """
    out = []
    for i, w in enumerate(windows):
        recent = [x.summary for x in windows[max(0, i - n + 1) : i + 1] if x.status == "ok"]
        values: list[tuple[str, float | None]] = []
        for metric in HEADLINE:
            if metric == "success_rate":
                total = sum(g.success_n for g in recent)
                values.append((metric, sum(g.successes for g in recent) / total if total else None))
                continue
            vals = [v for g in recent if (v := headline(g, metric)) is not None and math.isfinite(v)]
            values.append((metric, sum(vals) / len(vals) if vals else None))
        out.append(dataclasses.replace(w, smoothed=tuple(values)))
    return out
