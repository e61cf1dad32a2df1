"""Watcher: follows growing (and rotated) logs and summarises the newest records, poll by poll."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from mlmon.api.selection import _serving_plan
from mlmon.errors import NoInputError
from mlmon.read.follow import FileState, plan
from mlmon.read.reader import Reader, ReadOptions
from mlmon.read.records import TIMESTAMP, ReadPlan
from mlmon.rules.alerts import Alert, SummaryThresholds, drift_alerts, summary_alerts
from mlmon.stats.baseline import Baseline
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.summary import GroupSummary, SummaryAccumulator, SummaryOptions


@dataclass(frozen=True)
class ActiveAlert:
    alert: Alert
    since: float
    """When this watch first saw it firing (seconds since the epoch); it has fired since."""


@dataclass(frozen=True)
class WatchView:
    """What the newest `last` of the logs says now."""

    now: float
    last_seconds: float
    records: int
    """Records within `last` of the newest record."""
    newest: str | None
    """The newest record's time (ISO 8601, UTC)."""
    overall: GroupSummary | None
    groups: tuple[GroupSummary, ...]
    drift: tuple[FeatureDrift, ...]
    """Every baseline feature's drift over the records shown (empty without a baseline)."""
    alerts: tuple[ActiveAlert, ...]
    lines: int
    """Lines read since the watch started."""
    bad_lines: int
    polls: int
    lost: int = 0
    """Followed files that went away with lines not read (rotated out of reach between polls)."""
    waiting: str | None = None
    """Why the last poll read nothing (no log can be read right now), or None."""


@dataclass
class Watcher:
    """Reads what is new in `paths` at each `poll()` (by the --state machinery: rotated files are
    found by content and read on from their offset, so no line is read twice) and keeps the
    records of the newest `last_seconds`."""

    paths: list[str]
    last_seconds: float = 3600.0
    plan: ReadPlan = field(default_factory=ReadPlan)
    by: str | None = "model_version"
    baseline: Baseline | None = None
    thresholds: SummaryThresholds = field(default_factory=SummaryThresholds)
    drift: DriftOptions = field(default_factory=DriftOptions)
    options: ReadOptions = field(default_factory=ReadOptions)
    summary: SummaryOptions = field(default_factory=SummaryOptions)
    known: tuple[FileState, ...] = ()
    tables: list[pa.Table] = field(default_factory=list)
    lines: int = 0
    bad_lines: int = 0
    polls: int = 0
    lost: int = 0
    """Followed files with lines not read that could not be found any more."""
    last_poll: float | None = None
    first_seen: dict[tuple[str, str | None, bool], float] = field(default_factory=dict)

    def _read(self) -> str | None:
        started = time.time()
        try:
            follow = plan(self.paths, self.known, since=self.last_poll)
        except NoInputError as exc:  # not there yet: try again at the next poll
            return str(exc)
        with follow:
            if follow.reads:
                read_plan, require = _serving_plan(self.plan, self.by, self.baseline)
                reader = Reader(follow.sources, read_plan, require=require, options=self.options)
                for t in reader.tables():
                    if t.num_rows:
                        self.tables.append(t)
                rep = reader.report()
                self.lines += rep.lines
                self.bad_lines += rep.bad_lines
                self.known = follow.files(rep.files)
            else:
                self.known = follow.files(())
        self.lost += len(follow.lost)
        self.last_poll = started
        return None

    def _prune(self) -> tuple[list[pa.Table], int | None]:
        newest: int | None = None
        for t in self.tables:
            ts = t.column(TIMESTAMP)
            if ts.null_count < len(ts):
                hi = pc.max(pc.cast(ts, pa.int64())).as_py()
                newest = hi if newest is None else max(newest, hi)
        if newest is None:
            return [], None
        since = newest - int(self.last_seconds * 1e9)
        kept = []
        for t in self.tables:
            ts = pc.cast(t.column(TIMESTAMP), pa.int64())
            part = t.filter(pc.fill_null(pc.greater_equal(ts, since), False))
            if part.num_rows:
                kept.append(part)
        self.tables = kept
        return kept, newest

    def poll(self, now: float | None = None) -> WatchView:
        """Read what is new, drop records older than `last_seconds` before the newest, and judge."""
        waiting = self._read()
        self.polls += 1
        t_now = time.time() if now is None else now
        kept, newest = self._prune()
        acc = SummaryAccumulator(self.summary)
        dacc = DriftAccumulator(self.baseline) if self.baseline is not None else None
        for t in kept:
            acc.update(t)
            if dacc is not None:
                dacc.update(t)
        result = acc.result() if kept else None
        features = dacc.result(self.drift) if dacc is not None and kept else ()
        alerts: tuple[Alert, ...] = ()
        if result is not None:
            alerts = summary_alerts(result, self.thresholds)
            if features:
                alerts += drift_alerts(features, self.drift)
        active = []
        keys = set()
        for a in alerts:
            key = (a.metric, a.group, a.group_missing)
            keys.add(key)
            active.append(ActiveAlert(a, self.first_seen.setdefault(key, t_now)))
        for key in list(self.first_seen):
            if key not in keys:
                del self.first_seen[key]
        records = result.overall.records if result is not None else 0
        newest_text = None
        if newest is not None:
            import numpy as np

            newest_text = str(np.datetime64(newest, "ns").astype("datetime64[s]")) + "Z"
        return WatchView(
            now=t_now,
            last_seconds=self.last_seconds,
            records=records,
            newest=newest_text,
            overall=result.overall if result is not None else None,
            groups=result.groups if result is not None else (),
            drift=tuple(features),
            alerts=tuple(active),
            lines=self.lines,
            bad_lines=self.bad_lines,
            polls=self.polls,
            lost=self.lost,
            waiting=waiting,
        )
