"""Realized performance: read the labels files, join them to the log's predictions, measure."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from mlmon.api.selection import Selection, _read
from mlmon.errors import DataError, OptionError
from mlmon.read.reader import InputReport, ReadOptions
from mlmon.read.records import PRED_CLASS, PRED_VALUE, FieldMap, ReadPlan
from mlmon.read.sources import Source
from mlmon.stats.labels import Carry, JoinAccounting, JoinAccumulator, Joined, LabelIndex, WaitLimits
from mlmon.stats.performance import GroupPerformance, Performance, QualityReport, Task, performance

_NOWHERE = "\x00"
"""A field path no record has: the labels files' serving fields are not read."""


@dataclass(frozen=True)
class LabelOptions:
    """Where the true labels are and how they meet the predictions."""

    paths: tuple[str, ...]
    """Labels files: JSON lines, CSV or Parquet (globs, folders, compressed, as logs)."""
    label_field: str = "label"
    """Dotted path of the true label (a class) or value (regression) in a labels row."""
    join_field: str = "request_id"
    """Dotted path of the key in both the labels rows and the prediction records."""
    task: Task | None = None
    """None: classification when the labelled predictions carry a class, else regression."""
    positive: str | None = None
    """Binary classification: the positive class (default: the larger of the two)."""

    def __post_init__(self) -> None:
        if not self.paths:
            raise OptionError("--labels needs at least one file")
        for name, v in (("--label-field", self.label_field), ("--join-field", self.join_field)):
            if not v or v.startswith(".") or v.endswith(".") or ".." in v:
                raise OptionError(f"{name}: {v!r} is not a field name or dotted path (e.g. request_id)")


def labels_plan(opts: LabelOptions, log_timezone: str = "UTC") -> ReadPlan:
    """How a labels file is read: the join field as the group, the label as a bare prediction."""
    fields = FieldMap(
        timestamp=_NOWHERE, latency=_NOWHERE, status=_NOWHERE, success=_NOWHERE, features=_NOWHERE,
        prediction=opts.label_field, pred_class=opts.label_field, confidence=_NOWHERE,
    )
    return ReadPlan(fields=fields, by=opts.join_field, summary=True, log_timezone=log_timezone)


def read_labels(
    opts: LabelOptions, options: ReadOptions | None = None, *, sources: list[Source] | None = None,
    carry: Carry | None = None,
) -> tuple[LabelIndex, InputReport]:
    """Every labels row into an index by key. A labels file where no row has the label field is a
    data error naming the field. `sources` (--state): the new lines of the followed labels files
    (none new is no error), read after the labels `carry` kept from earlier runs."""
    index = LabelIndex()
    if carry is not None:
        index.carry(carry.labels)
    if sources is not None and not sources:
        return index, InputReport((), 0, 0, {}, 0, ())
    try:
        got = _read(sources if sources is not None else list(opts.paths), labels_plan(opts),
                    (PRED_CLASS, PRED_VALUE), options or ReadOptions(), Selection(), index.update, None)
    except DataError as exc:  # a CSV or Parquet table without the label column
        text = str(exc)
        if " has no serving fields " not in text:
            raise
        name = text.split(" has no serving fields ", 1)[0]
        raise DataError(f"labels file {name} has no column {opts.label_field!r} (--label-field), which "
                        "holds the true label") from None
    rep = got.report
    acc = index.accounting()
    if acc.rows == 0 and (sources is None or rep.lines > rep.reasons.get("blank", 0)):
        from mlmon.read.fields import absent_message

        if rep.records == 0:
            raise DataError("the labels files hold no row with a label: " + absent_message(
                "--label-field", opts.label_field, "the labels need", rep.fields_seen))
        raise DataError("no labels row has a join key: " + absent_message(
            "--join-field", opts.join_field, "the join needs", rep.fields_seen))
    return index, rep


def with_join(plan: ReadPlan, opts: LabelOptions) -> ReadPlan:
    """The prediction log's plan, reading the join field too."""
    return dataclasses.replace(plan, join=opts.join_field)


class QualityAccumulator:
    """The join's prediction side, fed the same chunks as the command's other accumulators."""

    def __init__(self, opts: LabelOptions, index: LabelIndex, labels_input: InputReport, *,
                 carry: Carry | None = None, now: float = 0.0, limits: WaitLimits | None = None) -> None:
        self.opts = opts
        self.labels_input = labels_input
        self.join = JoinAccumulator(index, carry=carry, now=now, limits=limits)
        # a run that reads no new prediction still knows the task from those earlier runs kept
        self._saw_class = carry is not None and any(p.pred_class is not None for p in carry.predictions)

    def update(self, chunk: pa.Table) -> None:
        if not self._saw_class and PRED_CLASS in chunk.column_names and chunk.column(PRED_CLASS).null_count \
                < chunk.num_rows:
            self._saw_class = True
        self.join.update(chunk)

    def task(self) -> Task:
        if self.opts.task is not None:
            return self.opts.task
        return Task.CLASSIFICATION if self._saw_class else Task.REGRESSION

    def joined(self) -> tuple[Joined, JoinAccounting, Task]:
        task = self.task()
        joined, acc = self.join.result(regression=task is Task.REGRESSION)
        return joined, acc, task

    def result(self, *, by: str | None, reference: Sequence[tuple[str, float]] = ()) -> QualityReport:
        joined, acc, task = self.joined()
        overall = performance(joined, task, positive=self.opts.positive)
        groups: list[GroupPerformance] = []
        if by is not None:
            names = sorted({g for g in joined.group if g is not None})
            for g in [*names, None]:
                idx = np.array([i for i, x in enumerate(joined.group) if x == g], dtype=np.int64)
                if len(idx):
                    groups.append(GroupPerformance(g, performance(take(joined, idx), task,
                                                                  positive=overall.positive)))
        return QualityReport(self.labels_input, acc, task, overall, tuple(groups), tuple(reference),
                             self.opts.join_field, self.opts.label_field, self.join.carried)


def take(j: Joined, idx: np.ndarray) -> Joined:
    """The labelled predictions at `idx`."""
    at = idx.tolist()
    return Joined(
        tuple(j.truth[i] for i in at), tuple(j.pred_class[i] for i in at), j.confidence[idx],
        j.pred_value[idx], j.time_ns[idx], tuple(j.group[i] for i in at),
    )


@dataclass(frozen=True)
class LabelFollow:
    """--state: the labels files' new lines (planned by the follow machinery), what earlier runs
    kept waiting, the run's time and the limits on what is kept."""

    sources: tuple[Source, ...]
    carry: Carry
    now: float
    limits: WaitLimits = WaitLimits()


def prepare(opts: LabelOptions | None, options: ReadOptions | None,
            follow: LabelFollow | None = None) -> QualityAccumulator | None:
    """Read the labels (before the log) and make the accumulator; None without --labels."""
    if opts is None:
        return None
    if follow is None:
        index, rep = read_labels(opts, options)
        return QualityAccumulator(opts, index, rep)
    index, rep = read_labels(opts, options, sources=list(follow.sources), carry=follow.carry)
    return QualityAccumulator(opts, index, rep, carry=follow.carry, now=follow.now, limits=follow.limits)


def by_window(
    acc: QualityAccumulator, bounds: Sequence[tuple[str, int, int]], *, positive: str | None
) -> tuple[tuple[str, Performance], ...]:
    """The realized performance of each window (start text, start ns, end ns): the labelled
    predictions whose time falls in [start, end); a prediction in no window counts in none."""
    joined, _, task = acc.joined()
    out: list[tuple[str, Performance]] = []
    t = joined.time_ns
    for start, lo, hi in bounds:
        idx = np.flatnonzero((t >= lo) & (t < hi))
        out.append((start, performance(take(joined, idx), task, positive=positive)))
    return tuple(out)


@dataclass(frozen=True)
class VersusControl:
    """One version's headline metric against the control's (compare --labels): the difference
    (version - control) with a 95% interval; accuracy (Newcombe's interval of two proportions) for
    a classifier, MAE (normal, from the two t intervals) for a regression model; and the verdict
    against the tolerance (`quality.accuracy`, `quality.mae` in compare's tolerances)."""

    version: str | None
    metric: str
    control_value: float | None
    value: float | None
    difference: float | None
    low: float | None
    high: float | None
    effect: float | None = None
    """What is held against the tolerance: the fall of accuracy in points (control - version), or
    the rise of MAE as a share of the control's; positive is worse."""
    effect_low: float | None = None
    effect_high: float | None = None
    tolerance: float | None = None
    verdict: str = "not_enough_data"
    """worse (the interval excludes no difference and its bound on the bad side is past the
    tolerance), better, same, or not_enough_data (no labelled prediction on a side, or fewer
    than compare's --min-group-records)."""


def versus_control(q: QualityReport, control: str, *, tolerance: float | None = None,
                   min_records: int = 30) -> tuple[VersusControl, ...]:
    """Each version's headline metric against the control's, when both have one, with a verdict:
    worse when the difference is real (its 95% interval excludes 0, on the bad side) and the
    interval's bound on that side is past `tolerance` (default: compare's for the metric); so a
    fall the data prove smaller than the tolerance passes, as compare's other metrics do."""
    from mlmon.stats.compare import DEFAULT_TOLERANCE
    from mlmon.stats.quality import newcombe

    name = "accuracy" if q.task is Task.CLASSIFICATION else "mae"
    tol = DEFAULT_TOLERANCE[f"quality.{name}"] if tolerance is None else tolerance
    by = {g.group: g.performance for g in q.groups}
    base = by.get(control)
    c = base.get(name) if base is not None else None
    out: list[VersusControl] = []
    for g in q.groups:
        if g.group == control:
            continue
        m = g.performance.get(name)
        if m is None or m.value is None or c is None or c.value is None:
            out.append(VersusControl(g.group, name, None if c is None else c.value,
                                     None if m is None else m.value, None, None, None, tolerance=tol))
            continue
        diff = m.value - c.value
        lo: float | None = None
        hi: float | None = None
        if name == "accuracy":
            lo, hi = newcombe(round(m.value * m.n), m.n, round(c.value * c.n), c.n)
        elif None not in (m.low, m.high, c.low, c.high):
            assert m.low is not None and m.high is not None and c.low is not None and c.high is not None
            half = ((m.high - m.low) ** 2 + (c.high - c.low) ** 2) ** 0.5 / 2
            lo, hi = diff - half, diff + half
        effect = effect_lo = effect_hi = None
        verdict = "not_enough_data"
        if lo is not None and hi is not None and min(m.n, c.n) >= min_records:
            # positive effect is worse: accuracy fell, or MAE rose (as a share of the control's)
            if name == "accuracy":
                effect, effect_lo, effect_hi = -diff, -hi, -lo
            elif c.value > 0:
                effect, effect_lo, effect_hi = diff / c.value, lo / c.value, hi / c.value
            if effect is not None and effect_lo is not None and effect_hi is not None:
                if effect_lo > 0 and effect_hi > tol:
                    verdict = "worse"
                elif effect_hi < 0 and -effect_lo > tol:
                    verdict = "better"
                else:
                    verdict = "same"
        out.append(VersusControl(g.group, name, c.value, m.value, diff, lo, hi, effect, effect_lo, effect_hi,
                                 tol, verdict))
    return tuple(out)
