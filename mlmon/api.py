"""The library's entry points: read logs, select records, run accumulators, evaluate alerts."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.errors import DataError, NoInputError, OptionError
from mlmon.read.fields import absent_message
from mlmon.read.reader import InputReport, Reader, ReadOptions, check_budget
from mlmon.read.records import (
    FEATURE_PREFIX,
    SEQ,
    SUMMARY_FIELDS,
    TIMESTAMP,
    FeatureSpec,
    Kind,
    ReadPlan,
)
from mlmon.read.sources import Format, ReadNotes, Source, expand, open_source
from mlmon.rules.alerts import (
    Alert,
    Severity,
    SummaryThresholds,
    TrafficRules,
    drift_alerts,
    summary_alerts,
    traffic_alerts,
)
from mlmon.rules.alerts import rules as threshold_rules
from mlmon.rules.check import RuleResult, evaluate
from mlmon.rules.config import Rule
from mlmon.rules.persist import Firing, persisting, window_alerts
from mlmon.stats import baseline as baseline_mod
from mlmon.stats.baseline import Baseline
from mlmon.stats.compare import CompareAccumulator, CompareOptions, VersionComparison
from mlmon.stats.drift import DriftAccumulator, DriftOptions, FeatureDrift
from mlmon.stats.grouped import GroupDrift, GroupedDriftAccumulator
from mlmon.stats.summary import SummaryAccumulator, SummaryOptions, SummaryResult, group_text
from mlmon.stats.windows import Window, WindowAccumulator, WindowOptions


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


def _newest(t: pa.Table) -> int | None:
    ts = t.column(TIMESTAMP)
    if ts.null_count == len(ts):
        return None
    v = pc.max(pc.cast(ts, pa.int64())).as_py()
    return None if v is None else int(v)


def _later(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _read(
    paths: list[str] | list[Source],
    plan: ReadPlan,
    require: tuple[str, ...],
    options: ReadOptions,
    selection: Selection,
    update: Callable[[pa.Table], None],
    on_bytes: Callable[[int], None] | None,
) -> _Read:
    sources = [p for p in paths if isinstance(p, Source)]
    if len(sources) != len(paths) or not sources:
        sources = expand([str(p) for p in paths])
    reader = Reader(sources, plan, require=require, options=options, on_bytes=on_bytes)
    selector = _Selector(selection)
    timed = 0
    newest_read: int | None = None
    newest_selected: int | None = None

    def use(t: pa.Table) -> None:
        nonlocal newest_selected
        if t.num_rows:
            newest_selected = _later(newest_selected, _newest(t))
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
    if plan.by and report.records == 0 and plan.by in report.containers_seen:
        # every record failed because --by names an object or a list: a usage problem, not bad data
        raise OptionError(
            f"--by: {plan.by!r} is an object or a list in the records; group by a field that holds "
            "text, a number or a boolean (e.g. model_version)"
        )
    return _Read(report, selector.filtered_out, timed, newest_read, newest_selected)


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


@dataclass(frozen=True)
class MissingField:
    """A metric with no value in any selected record, because no record has its field."""

    metric: str
    field: str
    option: str
    message: str


@dataclass(frozen=True)
class SummaryReport:
    input: InputReport
    records: int
    """Valid records selected (after --since/--until/--last)."""
    filtered_out: int
    result: SummaryResult
    alerts: tuple[Alert, ...]
    missing: tuple[MissingField, ...] = ()
    """Metrics not measured: no selected record has their field (no threshold asked for them)."""


def _summary_missing(
    result: SummaryResult, plan: ReadPlan, t: SummaryThresholds, seen: frozenset[str]
) -> tuple[MissingField, ...]:
    """Metrics whose field no record has. A threshold on one is a data error (exit 65)."""
    o = result.overall
    f = plan.fields
    set_rules = threshold_rules(t)
    candidates = [
        (("latency_ms.p95", "latency_ms.p99"), "latency_ms", o.latency_ms.n, f.latency, "--latency-field"),
        (("success_rate", "error_rate"), "success_rate", o.success_n, f.status, "--status-field"),
        (("confidence.low_share",), "confidence", o.confidence.n, f.confidence, "--confidence-field"),
        (
            ("predictions_out_of_range",),
            "prediction_values",
            o.prediction_values,
            f.prediction,
            "--prediction-field",
        ),
    ]
    out: list[MissingField] = []
    for metrics, name, n, path, option in candidates:
        if n or not o.records:
            continue
        asked = [m for m in metrics if m in set_rules]
        if name == "success_rate":
            also = f" nor {f.success!r} (--success-field)"
        else:
            also = ""
        if asked:
            need = f"the {asked[0]} threshold needs"
            raise DataError(
                absent_message(option, path, need, seen).replace(f"({option})", f"({option}){also}", 1)
            )
        if name in ("confidence", "prediction_values"):
            continue  # a log of labels has no confidence, a classifier no numeric value: normal
        msg = absent_message(option, path, f"{name} needs", seen).replace(
            f"({option})", f"({option}){also}", 1
        )
        out.append(MissingField(name, path, option, msg))
    return tuple(out)


def summarize(
    paths: list[str],
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    thresholds: SummaryThresholds | None = None,
    budget: Budget | None = None,
    gates: Gates | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> SummaryReport:
    """Serving health and model behaviour of the records in `paths`.

    An empty selection is a `records` alert, not an error; a threshold on a metric whose field
    no record has is a DataError naming the field."""
    plan = plan or ReadPlan()
    sel = selection or Selection()
    acc = SummaryAccumulator(summary)
    got = _read(paths, plan, SUMMARY_FIELDS, options or ReadOptions(), sel, acc.update, on_bytes)
    b = budget or Budget()
    check_budget(got.report, max_bad=b.max_bad, strict=b.strict)
    result = acc.result()
    t = thresholds or SummaryThresholds()
    records = result.overall.records
    traffic = _traffic(got, records, plan, gates or Gates(), sel)
    missing = _summary_missing(result, plan, t, got.report.fields_seen)
    checked = summary_alerts(result, t, prediction_range=acc.options.prediction_range, unchecked=True)
    if any(a.metric == "records" for a in traffic):  # one `records` alert: too few records says it
        checked = tuple(a for a in checked if a.metric != "records")
    alerts = traffic + checked
    return SummaryReport(got.report, records, got.filtered_out, result, alerts, missing)


def load_training(path: str, *, exclude: set[str], max_edges: int | None) -> Baseline:
    """Profile training data from CSV, Parquet or JSON lines (flat objects, or `input.features`)."""
    sources = expand([path])
    if len(sources) != 1:
        raise NoInputError(f"training data must be one file; {path!r} names {len(sources)}")
    source: Source = sources[0]
    notes = ReadNotes()
    stream, fmt = open_source(source, notes)
    try:
        if fmt is Format.PARQUET:
            import pyarrow.parquet as pq

            stream.close()
            table = pq.read_table(source.path)
        elif fmt is Format.CSV:
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(stream)
        else:
            import pyarrow.json as pj

            from mlmon.read.jsonlines import too_deep_line

            data = stream.read()
            deep = too_deep_line(data)
            if deep is not None:
                raise DataError(f"{source.name}:{deep}: a value nested too deep to read as training data")
            table = pj.read_json(pa.BufferReader(data))
            table.validate(full=True)  # the JSON reader keeps invalid UTF-8 in strings unchecked
            table = _flatten(table)
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"{source.name}: cannot read training data as {fmt.value}: {str(exc).splitlines()[0][:200]}"
        ) from None
    finally:
        stream.close()
    if notes.truncated:
        raise DataError(f"{source.name}: {notes.truncated}")
    if table.num_rows == 0:
        raise DataError(f"{source.name}: training data has no rows")
    _refuse_duplicate_columns(table, source.name)
    return baseline_mod.build(table, source=source.name, max_edges=max_edges, exclude=exclude)


def _refuse_duplicate_columns(table: pa.Table, name: str) -> None:
    """Two columns with one name (a CSV header `a,a`, or `x` next to `input.features.x`)
    cannot both be profiled under that name: say which, rather than guess."""
    from collections import Counter

    twice = sorted(c for c, k in Counter(table.column_names).items() if k > 1)
    if twice:
        shown = ", ".join(repr(c) for c in twice[:5]) + (" ..." if len(twice) > 5 else "")
        raise DataError(f"{name}: training data has more than one column named {shown}; rename or drop them")


def _flatten(table: pa.Table) -> pa.Table:
    """Struct columns (`input.features.x`) become plain columns named by their last part."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    names = [n.split(".")[-1] for n in table.column_names]
    if len(set(names)) == len(names):
        table = table.rename_columns(names)
    return table


@dataclass(frozen=True)
class DriftReport:
    input: InputReport
    records: int
    filtered_out: int
    baseline_source: str
    baseline_rows: int
    features: tuple[FeatureDrift, ...]
    alerts: tuple[Alert, ...]
    unknown_features: tuple[str, ...] = ()
    """Named features in the log's first records that the baseline does not have (not checked)."""
    by: str | None = None
    groups: tuple[GroupDrift, ...] = ()
    """With `by`: the drift of each group (model version) against the baseline."""


SAMPLE_BYTES = 1 << 18
"""How much of each JSON-lines log (at most 8 files) is looked at for feature names."""


def sample_features(paths: list[str], plan: ReadPlan) -> tuple[dict[str, Kind], int | None]:
    """The features in the first records of the first JSON-lines files: named ones (name ->
    kind, in order of first appearance; text or booleans make a feature categorical), and the
    length of positional ones when the features field holds lists."""
    import json

    from mlmon.read.jsonlines import record_text

    kinds: dict[str, Kind] = {}
    list_len: int | None = None
    marker = plan.record_marker.encode() if plan.record_marker else None
    for source in [s for s in expand(paths) if s.path != "-"][:8]:
        try:
            stream, fmt = open_source(source, ReadNotes())
        except (NoInputError, DataError):
            continue
        try:
            if fmt is not Format.JSONL:
                continue
            lines = stream.read(SAMPLE_BYTES).split(b"\n")[:-1]
        except (OSError, DataError):
            continue
        finally:
            stream.close()
        for line in lines:
            text = record_text(line, marker)
            try:
                rec = json.loads(text) if text is not None else None
            except (ValueError, RecursionError):
                continue
            for part in plan.fields.features.split("."):
                rec = rec.get(part) if isinstance(rec, dict) else None
            if isinstance(rec, list) and list_len is None:
                list_len = len(rec)
            if not isinstance(rec, dict):
                continue
            for k, v in rec.items():
                if isinstance(v, str | bool):
                    kinds[str(k)] = Kind.CATEGORICAL
                elif isinstance(v, int | float) and str(k) not in kinds:
                    kinds[str(k)] = Kind.NUMERIC
    return kinds, list_len


def log_feature_names(paths: list[str], plan: ReadPlan) -> set[str]:
    """Names of the named (object) features in the first records of the first JSON-lines files."""
    return set(sample_features(paths, plan)[0])


def profile_log(
    paths: list[str],
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    budget: Budget | None = None,
    max_edges: int | None = baseline_mod.GRID_EDGES,
    on_bytes: Callable[[int], None] | None = None,
) -> Baseline:
    """A baseline from prediction logs (last week's traffic as the reference): the features
    field of the selected records, read as `detect_drift` reads it. Named features keep their
    names; positional (list) features are named feature_0, feature_1, ... in order."""
    plan = plan or ReadPlan()
    kinds, list_len = sample_features(paths, plan)
    if kinds:
        specs = tuple(FeatureSpec(n, k) for n, k in kinds.items())
    elif list_len:
        specs = tuple(FeatureSpec(f"feature_{i}", Kind.NUMERIC) for i in range(list_len))
    else:
        raise DataError(
            f"no record in the first lines has a features field {plan.fields.features!r} (an object "
            "or a list); give --features-field, or --record-marker for a prefixed log"
        )
    rplan = ReadPlan(
        fields=plan.fields,
        by=None,
        summary=False,
        features=specs,
        record_marker=plan.record_marker,
        log_timezone=plan.log_timezone,
    )
    tables: list[pa.Table] = []
    got = _read(
        paths, rplan, tuple(FEATURE_PREFIX + s.name for s in specs), options or ReadOptions(),
        selection or Selection(), tables.append, on_bytes,
    )
    b = budget or Budget()
    check_budget(got.report, max_bad=b.max_bad, strict=b.strict)
    rows = sum(t.num_rows for t in tables)
    if rows == 0:
        raise DataError(f"no record selected to profile ({got.report.records} valid records read)")
    feats = []
    for s in specs:
        col = pa.concat_arrays([c for t in tables for c in t.column(FEATURE_PREFIX + s.name).chunks])
        if s.kind is Kind.NUMERIC:
            values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)  # null -> nan
            feats.append(baseline_mod.FeatureProfile(
                s.name, s.kind, numeric=baseline_mod.numeric_profile(values, max_edges=max_edges)))
        else:
            feats.append(baseline_mod.FeatureProfile(
                s.name, s.kind, categorical=baseline_mod.categorical_profile(col)))
    source = ", ".join(f.source for f in got.report.files) if got.report.files else ", ".join(paths)
    return Baseline(source, rows, tuple(feats))


def detect_drift(
    paths: list[str],
    baseline: Baseline,
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    drift: DriftOptions | None = None,
    budget: Budget | None = None,
    gates: Gates | None = None,
    on_bytes: Callable[[int], None] | None = None,
    by: str | None = None,
) -> DriftReport:
    """Each baseline feature of the records in `paths` against the baseline (and, with `by`, of
    each group's records: a drift table per model version).

    An empty selection is a `records` alert; a features field that no record has is a DataError."""
    sel = selection or Selection()
    specs = tuple(FeatureSpec(f.name, f.kind) for f in baseline.features)
    base_plan = plan or ReadPlan()
    plan = ReadPlan(
        fields=base_plan.fields,
        by=by,
        summary=False,
        features=specs,
        record_marker=base_plan.record_marker,
        log_timezone=base_plan.log_timezone,
    )
    require = tuple(FEATURE_PREFIX + s.name for s in specs)
    grouped = GroupedDriftAccumulator(baseline) if by else None
    acc = grouped.overall if grouped is not None else DriftAccumulator(baseline)
    records = 0

    def update(t: pa.Table) -> None:
        nonlocal records
        records += t.num_rows
        if grouped is not None:
            grouped.update(t)
        else:
            acc.update(t)

    got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
    report = got.report
    if (
        report.records == 0
        and report.reasons.get("missing_field")
        and all(f.format == "jsonl" for f in report.files)
        and not any(
            n == plan.fields.features or n.startswith(plan.fields.features + ".") for n in report.fields_seen
        )
    ):
        raise DataError(
            absent_message("--features-field", plan.fields.features, "drift needs", report.fields_seen)
        )
    b = budget or Budget()
    check_budget(report, max_bad=b.max_bad, strict=b.strict)
    o = drift or DriftOptions()
    features = acc.result(o)
    traffic = _traffic(got, records, plan, gates or Gates(), sel)
    too_few = any(a.metric == "records" for a in traffic)  # --min-records said it: an alert, not 65
    if records and not too_few and all(f.status == "insufficient_data" for f in features):
        # nothing was checked: that is not a pass, and too little data is no verdict either
        raise DataError(
            f"too few values for a drift verdict: {records} record(s) selected, and every feature "
            f"has fewer than --min-samples ({o.min_samples}) values (or its baseline has)"
        )
    known = set(baseline.columns)
    unknown = tuple(sorted(log_feature_names(paths, plan) - known))
    # an empty window is the records alert alone: no feature is missing from records never seen
    alerts = traffic + (drift_alerts(features, o, unknown=unknown) if records else ())
    groups = grouped.result(o) if grouped is not None else ()
    for g in groups:
        where = f"{by} {group_text(g.group)}" if g.group is not None else f"records without {by}"
        alerts += tuple(dataclasses.replace(a, group=g.group, group_missing=g.group is None,
                                            message=f"{a.message} ({where})")
                        for a in drift_alerts(g.features, o))
    return DriftReport(
        report, records, got.filtered_out, baseline.source, baseline.rows, features, alerts, unknown,
        by, groups,
    )


@dataclass(frozen=True)
class TrendReport:
    input: InputReport
    records: int
    """Valid records selected, in a window or not."""
    filtered_out: int
    without_timestamp: int
    """Selected records without a time: they belong to no window (counted, never dropped silently)."""
    options: WindowOptions
    windows: tuple[Window, ...]
    baseline_source: str | None
    breaches: tuple[tuple[Alert, ...], ...]
    """Per window, the thresholds it crossed (the evidence)."""
    alerts: tuple[Alert, ...]
    """Alerts firing now: crossed in each of the last --for windows; the last window decides."""
    firing: tuple[Firing, ...]


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
    )
    return out, SUMMARY_FIELDS + tuple(FEATURE_PREFIX + s.name for s in specs or ())


def trend(
    paths: list[str],
    *,
    windows: WindowOptions,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    thresholds: SummaryThresholds | None = None,
    baseline: Baseline | None = None,
    drift: DriftOptions | None = None,
    for_windows: int = 1,
    budget: Budget | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> TrendReport:
    """The records in `paths` window by window: a summary (and drift) per window, alerts that persist."""
    plan, require = _serving_plan(plan, None, baseline)
    acc = WindowAccumulator(windows, summary=summary, baseline=baseline)
    records = 0

    def update(t: pa.Table) -> None:
        nonlocal records
        records += t.num_rows
        acc.update(t)

    sel = selection or Selection()
    got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
    report, filtered = got.report, got.filtered_out
    b = budget or Budget()
    check_budget(report, max_bad=b.max_bad, strict=b.strict)
    if records == 0:  # an empty window is no traffic, an incident: the records alert, not bad data
        now = time.time_ns()
        empty = traffic_alerts(0, None, TrafficRules(), now)
        start = _iso(sel.since_ns if sel.since_ns is not None else now)
        fire = tuple(Firing(a.metric, a.severity, start, 0, a) for a in empty)
        return TrendReport(
            report, 0, filtered, 0, windows, (), baseline.source if baseline else None, (), empty, fire
        )
    if records == acc.without_timestamp:
        raise DataError(f"none of the {records} selected records has a timestamp: trend needs one")
    result = acc.result(drift)
    t = thresholds or SummaryThresholds()
    o = drift or DriftOptions()
    rng = acc.summary_options.prediction_range
    breaches = tuple(window_alerts(w, t, o if baseline else None, prediction_range=rng) for w in result)
    firing = persisting(result, breaches, for_windows)
    return TrendReport(
        report,
        records,
        filtered,
        acc.without_timestamp,
        windows,
        result,
        baseline.source if baseline else None,
        breaches,
        tuple(f.alert for f in firing),
        firing,
    )


@dataclass(frozen=True)
class CheckReport:
    """One `check` run: what was read, the summary, the drift of each feature, and each rule's result."""

    input: InputReport
    records: int
    filtered_out: int
    summary: SummaryResult
    features: tuple[FeatureDrift, ...] | None
    """None when no baseline was given."""
    results: tuple[RuleResult, ...]
    alerts: tuple[Alert, ...]
    now: float
    """The run's time (seconds since the epoch): `age_seconds` is measured from it."""


def check(
    paths: list[str] | list[Source],
    rules: tuple[Rule, ...],
    *,
    baseline: Baseline | None = None,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    summary: SummaryOptions | None = None,
    drift: DriftOptions | None = None,
    budget: Budget | None = None,
    now: float | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> CheckReport:
    """Every rule in one pass over the logs: the summary and the drift accumulators share the read.

    Zero selected records is not an error here: each rule that needs records says `no_data`.
    """
    import time

    plan, require = _serving_plan(plan, (plan or ReadPlan()).by, baseline)
    sacc = SummaryAccumulator(summary)
    dacc = DriftAccumulator(baseline) if baseline is not None else None

    def update(t: pa.Table) -> None:
        sacc.update(t)
        if dacc is not None:
            dacc.update(t)

    if paths:
        sel = selection or Selection()
        got = _read(paths, plan, require, options or ReadOptions(), sel, update, on_bytes)
        report, filtered = got.report, got.filtered_out
    else:  # nothing new since the last run (--state): every rule that needs records has no data
        report, filtered = InputReport((), 0, 0, {}, 0, ()), 0
    b = budget or Budget()
    if report.lines:
        # no new line at all (an incremental run on a quiet log) is "no data", not bad data
        check_budget(report, max_bad=b.max_bad, strict=b.strict)
    result = sacc.result()
    o = drift or DriftOptions()
    features = dacc.result(o) if dacc is not None else None
    t = time.time() if now is None else now
    results = evaluate(rules, result, features, drift=o, now=t)
    alerts = tuple(a for a in (r.alert() for r in results) if a is not None)
    return CheckReport(report, result.overall.records, filtered, result, features, results, alerts, t)


@dataclass(frozen=True)
class CompareReport:
    input: InputReport
    records: int
    filtered_out: int
    by: str
    control: str
    baseline_source: str | None
    options: CompareOptions
    versions: tuple[VersionComparison, ...]
    verdict: str
    """worse when any version has a metric worse beyond tolerance; not_enough_data when some
    version could not be judged at all; no_records when the selection is empty (the `records`
    alert says so); else pass."""
    alerts: tuple[Alert, ...]


def compare(
    paths: list[str],
    *,
    control: str,
    by: str = "model_version",
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    compare_options: CompareOptions | None = None,
    baseline: Baseline | None = None,
    budget: Budget | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> CompareReport:
    """Each version (by `by`) of the records in `paths` against the `control` version, on the same span."""
    plan, require = _serving_plan(plan, by, baseline)
    o = compare_options or CompareOptions()
    acc = CompareAccumulator(baseline, max_groups=o.max_groups)
    records = 0

    def update(t: pa.Table) -> None:
        nonlocal records
        records += t.num_rows
        acc.update(t)

    got = _read(paths, plan, require, options or ReadOptions(), selection or Selection(), update, on_bytes)
    report, filtered = got.report, got.filtered_out
    b = budget or Budget()
    check_budget(report, max_bad=b.max_bad, strict=b.strict)
    if records == 0:  # an empty window is no traffic, an incident: the records alert, not bad data
        empty = traffic_alerts(0, None, TrafficRules(), time.time_ns())
        source = baseline.source if baseline else None
        return CompareReport(report, 0, filtered, by, control, source, o, (), "no_records", empty)
    versions = acc.result(control, o)
    if not versions:
        raise DataError(f"only the control {control!r} has records: there is no other version to compare")
    verdicts = {v.verdict for v in versions}
    verdict = (
        "worse" if "worse" in verdicts else "not_enough_data" if "not_enough_data" in verdicts else "pass"
    )
    alerts = tuple(
        Alert(
            m.metric,
            Severity.CRITICAL,
            float(m.effect or 0.0),
            m.tolerance,
            f"{v.version} is worse than {control} on {m.metric}: {m.effect_measure} {m.effect:.3g} beyond "
            f"the tolerance {m.tolerance:g} (adjusted p {m.p_value_adjusted:.2g})"
            if m.p_value_adjusted is not None
            else f"{v.version} is worse than {control} on {m.metric}: {m.effect_measure} "
            f"{(m.effect or 0.0):.3g} beyond the tolerance {m.tolerance:g}, 95% interval excludes 0",
            v.version,
        )
        for v in versions
        for m in v.metrics
        if m.verdict == "worse"
    )
    return CompareReport(
        report, records, filtered, by, control, baseline.source if baseline else None, o, versions,
        verdict, alerts,
    )
