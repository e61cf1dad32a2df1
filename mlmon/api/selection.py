"""Which records a command reads: the time/row selection, the bad-line budget, the traffic gates."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from mlmon.arrowcompute import pc
from mlmon.errors import DataError, OptionError
from mlmon.read.fields import absent_message
from mlmon.read.reader import InputReport, Reader, ReadOptions
from mlmon.read.records import FEATURE_PREFIX, SEQ, SUMMARY_FIELDS, TIMESTAMP, FeatureSpec, ReadPlan
from mlmon.read.sources import Source, expand
from mlmon.rules.alerts import Alert, TrafficRules, traffic_alerts

if TYPE_CHECKING:
    from mlmon.stats.baseline import Baseline


@dataclass(frozen=True)
class Selection:
    """Which valid records a command looks at."""

    since_ns: int | None = None
    until_ns: int | None = None
    last_ns: int | None = None
    """A duration: the records within it of the newest record (or of `until`)."""
    window_rows: int | None = None
    """Only the newest N records (by timestamp, then by read order)."""


@dataclass(frozen=True)
class Budget:
    max_bad: float | int = 0.01
    strict: bool = False


_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1


def _clamp_ns(ns: int) -> int:
    return min(max(ns, _NS_MIN), _NS_MAX)


@dataclass
class _Selector:
    sel: Selection
    buffer: list[pa.Table] = field(default_factory=list)
    buffered: int = 0
    max_ts: int | None = None
    filtered_out: int = 0

    def __post_init__(self) -> None:
        s = self.sel
        self.since = s.since_ns
        self.until = s.until_ns
        if s.last_ns is not None and s.until_ns is not None:
            since = s.until_ns - s.last_ns
            self.since = since if self.since is None else max(self.since, since)
        self.buffering = (s.last_ns is not None and s.until_ns is None) or s.window_rows is not None

    def feed(self, t: pa.Table) -> list[pa.Table]:
        if self.since is not None or self.until is not None or self.sel.last_ns is not None:
            t = self._range(t, self.since, self.until)
        if not self.buffering:
            return [t]
        if t.num_rows:
            self.buffer.append(t)
            self.buffered += t.num_rows
            ts = t.column(TIMESTAMP)
            if ts.null_count < len(ts):
                hi = pc.max(pc.cast(ts, pa.int64())).as_py()
                self.max_ts = hi if self.max_ts is None else max(self.max_ts, hi)
            if self.buffered > 2 * (self.sel.window_rows or 1_000_000):
                self._prune()
        return []

    def _range(self, t: pa.Table, lo: int | None, hi: int | None) -> pa.Table:
        # A bound computed as until - last can fall outside the 64-bit nanosecond clock (a log
        # from 1678, --last 200d): clamp it; no record lies beyond the clock's ends anyway.
        lo = None if lo is None else _clamp_ns(lo)
        hi = None if hi is None else _clamp_ns(hi)
        ts = pc.cast(t.column(TIMESTAMP), pa.int64())
        keep = pc.is_valid(ts)
        if lo is not None:
            keep = pc.and_(keep, pc.greater_equal(ts, lo))
        if hi is not None:
            keep = pc.and_(keep, pc.less_equal(ts, hi))
        keep = pc.fill_null(keep, False)
        kept = t.filter(keep)
        self.filtered_out += t.num_rows - kept.num_rows
        return kept

    def _prune(self) -> None:
        t = pa.concat_tables(self.buffer) if self.buffer else None
        if t is None:
            return
        if self.sel.last_ns is not None and self.sel.until_ns is None and self.max_ts is not None:
            t = self._range(t, self.max_ts - self.sel.last_ns, None)
        n = self.sel.window_rows
        if n is not None and t.num_rows > n:
            # records without a time sort oldest; filling in Arrow keeps nanoseconds exact
            # (to_numpy of a column with nulls would give floats, rounded to ~256 ns)
            missing = pa.scalar(np.iinfo(np.int64).min, pa.int64())
            ts = pc.fill_null(pc.cast(t.column(TIMESTAMP), pa.int64()), missing).to_numpy()
            order = np.lexsort((t.column(SEQ).to_numpy(), ts))
            keep = np.sort(order[-n:])
            self.filtered_out += t.num_rows - n
            t = t.take(pa.array(keep))
        self.buffer = [t]
        self.buffered = t.num_rows

    def finish(self) -> list[pa.Table]:
        if not self.buffering:
            return []
        self._prune()
        return self.buffer


@dataclass(frozen=True)
class _Read:
    report: InputReport
    filtered_out: int
    timed: int
    """Valid records read that have a timestamp."""
    newest_read_ns: int | None
    newest_selected_ns: int | None
    oldest_selected_ns: int | None = None
    fed: int = 0
    """Records handed to the accumulators (those selected)."""


def _newest(t: pa.Table) -> int | None:
    return _bound(t.column(TIMESTAMP), newest=True)


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _oldest(t: pa.Table) -> int | None:
    return _bound(t.column(TIMESTAMP), newest=False)


def _bound(ts: pa.ChunkedArray, *, newest: bool) -> int | None:
    """The latest (or earliest) time of the column in UTC ns; None when it has none. A chunk
    without nulls is read in place as int64 with numpy (no pyarrow.compute to import)."""
    out: int | None = None
    for chunk in ts.chunks:
        if chunk.null_count == len(chunk):
            continue
        if chunk.null_count:
            v = (pc.max if newest else pc.min)(pc.cast(chunk, pa.int64())).as_py()
        else:
            ns = chunk.view(pa.int64()).to_numpy()
            v = ns.max() if newest else ns.min()
        v = int(v)
        out = v if out is None else max(out, v) if newest else min(out, v)
    return out


def _earlier(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _read(
    paths: list[str] | list[Source],
    plan: ReadPlan,
    require: tuple[str, ...],
    options: ReadOptions,
    selection: Selection,
    update: Callable[[pa.Table], None],
    on_bytes: Callable[[int], None] | None,
    *,
    accumulator: Any = None,
) -> _Read:
    """Read `paths`, handing the selected records to `update`. With `options.engine` other than
    local, the files are read elsewhere into copies of `accumulator` (empty, with `update` and
    `merge`), merged into it: `update` is then not called."""
    sources = [p for p in paths if isinstance(p, Source)]
    left_out: list[tuple[str, str]] = []
    if len(sources) != len(paths) or not sources:
        sources = expand([str(p) for p in paths], left_out=left_out)
    if options.engine != "local":
        from mlmon.api.partitioned import read_parts

        got = read_parts(sources, plan, require, options, selection, accumulator, left_out)
        _by_check(plan, got.report)
        return got
    reader = Reader(sources, plan, require=require, options=options, on_bytes=on_bytes)
    selector = _Selector(selection)
    if not selector.buffering:
        reader.on_file_done = getattr(accumulator, "file_done", None)
    timed = fed = 0
    newest_read: int | None = None
    newest_selected: int | None = None
    oldest_selected: int | None = None

    def use(t: pa.Table) -> None:
        nonlocal newest_selected, oldest_selected, fed
        if t.num_rows:
            newest_selected = _later(newest_selected, _newest(t))
            oldest_selected = _earlier(oldest_selected, _oldest(t))
            fed += t.num_rows
            update(t)

    for table in reader.tables():
        ts = table.column(TIMESTAMP)
        timed += len(ts) - ts.null_count
        newest_read = _later(newest_read, _newest(table))
        for t in selector.feed(table):
            use(t)
    for t in selector.finish():
        use(t)
    report = reader.report()
    if left_out:
        report = dataclasses.replace(report, left_out=tuple(left_out))
    _by_check(plan, report)
    return _Read(report, selector.filtered_out, timed, newest_read, newest_selected, oldest_selected, fed)


def _by_check(plan: ReadPlan, report: InputReport) -> None:
    if plan.by and report.records == 0 and plan.by in report.containers_seen:
        # every record failed because --by names an object or a list: a usage problem, not bad data
        raise OptionError(
            f"--by: {plan.by!r} is an object or a list in the records; group by a field that holds "
            "text, a number or a boolean (e.g. model_version)"
        )


@dataclass(frozen=True)
class Freshness:
    """How old the newest record is, against the window the run looked at. `--last 1h` counts
    back from the newest record, so on a log that stopped weeks ago it still finds an hour of
    records: `stale` says so, and the verdict line gives the age."""

    newest: str
    """The newest record's time (ISO 8601, UTC)."""
    age_seconds: float
    """From the newest record to now (or to --until)."""
    window_seconds: float
    """The window: --last, --since to --until, or else the span of the records looked at."""
    stale: bool
    """The newest record is older than the window (and than a minute)."""


STALE_FLOOR_SECONDS = 60.0
"""A newest record less than a minute old is never called stale (a log written every few seconds)."""


def freshness(got: _Read, selection: Selection, now_ns: int | None = None) -> Freshness | None:
    """The age of the newest record against the window; None when no record has a time."""
    newest = got.newest_selected_ns if got.newest_selected_ns is not None else got.newest_read_ns
    if newest is None:
        return None
    now = time.time_ns() if now_ns is None else now_ns
    end = selection.until_ns if selection.until_ns is not None else now
    age = max(0.0, (end - newest) / 1e9)
    if selection.last_ns is not None:
        window = selection.last_ns / 1e9
    elif selection.since_ns is not None:
        window = (end - selection.since_ns) / 1e9
    else:
        oldest = got.oldest_selected_ns if got.oldest_selected_ns is not None else newest
        window = max(0.0, (newest - oldest) / 1e9)
    return Freshness(_iso(newest), age, window, age > max(window, STALE_FLOOR_SECONDS))


@dataclass(frozen=True)
class Gates:
    """What must hold of the selection itself, checked against the clock `now_ns`."""

    traffic: TrafficRules = field(default_factory=TrafficRules)
    now_ns: int | None = None
    """The time --max-age is measured from; None = the current time."""


def _traffic(
    got: _Read, records: int, plan: ReadPlan, gates: Gates, selection: Selection
) -> tuple[Alert, ...]:
    timed_selection = selection.since_ns is not None or selection.until_ns is not None or selection.last_ns
    if (
        got.report.records
        and not got.timed
        and (timed_selection or gates.traffic.max_age_seconds is not None)
    ):
        need = "--max-age" if gates.traffic.max_age_seconds is not None else "the time selection"
        raise DataError(
            absent_message(
                "--timestamp-field", plan.fields.timestamp, f"{need} needs", got.report.fields_seen
            )
        )
    now = time.time_ns() if gates.now_ns is None else gates.now_ns
    newest = got.newest_selected_ns if records else got.newest_read_ns
    text = None if newest is None else _iso(newest)
    return traffic_alerts(records, newest, gates.traffic, now, newest_text=text)


def _iso(ns: int) -> str:
    return str(np.datetime64(ns, "ns").astype("datetime64[s]")) + "Z"


def _serving_plan(
    plan: ReadPlan | None, by: str | None, baseline: Baseline | None
) -> tuple[ReadPlan, tuple[str, ...]]:
    """The read plan (and the fields a record needs) of a command that reads serving fields and,
    with a baseline, the features too: trend, check and compare."""
    base = plan or ReadPlan()
    specs = tuple(FeatureSpec(f.name, f.kind) for f in baseline.features) if baseline else None
    out = ReadPlan(
        fields=base.fields,
        by=by,
        summary=True,
        features=specs,
        record_marker=base.record_marker,
        log_timezone=base.log_timezone,
        success_values=base.success_values,
        join=base.join,
    )
    return out, SUMMARY_FIELDS + tuple(FEATURE_PREFIX + s.name for s in specs or ())
