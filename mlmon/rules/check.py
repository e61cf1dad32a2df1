"""Rules evaluated against results: one RuleResult per rule (ok, warning, critical or no data)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import partial

from mlmon.numfmt import p_value
from mlmon.rules.alerts import Alert, Severity, records_text
from mlmon.rules.config import FEATURE_PREFIXES, QUALITY_PREFIXES, Rule
from mlmon.stats.drift import (
    DriftOptions,
    FeatureDrift,
    at_mean_tolerance,
    drift_level,
    mean_shifted,
    unseen_breached,
)
from mlmon.stats.joint import CRITICAL as JOINT_CRITICAL
from mlmon.stats.joint import NAME as JOINT_NAME
from mlmon.stats.joint import WARNING as JOINT_WARNING
from mlmon.stats.percentile import level as percentile_level
from mlmon.stats.performance import Performance, QualityReport, bad_direction
from mlmon.stats.quality import missing_level
from mlmon.stats.summary import GroupSummary, SummaryResult


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    NO_DATA = "no_data"

    @property
    def rank(self) -> int:
        return {"ok": 0, "warning": 1, "critical": 2, "no_data": 3}[self.value]


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule (a `drift.*` rule gives one per feature)."""

    name: str
    metric: str
    status: Status
    value: float | None
    """The value that decided the status (the worst group's with `by`); None for no data."""
    warning: float | None
    critical: float | None
    direction: str
    message: str
    group: str | None = None
    """The group whose value decided the status; None for all records, or with `group_missing`."""
    pending: bool = False
    """Breaching, but not yet for `for` consecutive runs (status is then ok)."""
    for_runs: int = 1
    """The rule's `for`: consecutive crossing runs before it fires (counted with --state)."""
    group_missing: bool = False
    """The records without the --by field decided the status (`group` is then None)."""
    critical_missing: bool = False
    """Critical because the feature has no value in the log (value 0 against 1: none seen)."""
    proven: bool | None = None
    """Latency percentiles: whether the data prove the status (an alert always is: its 95% bound
    is beyond the limit; an ok is when the other bound is within the limit, else `ok, not
    proven`). None for the other metrics."""
    bound: float | None = None
    """Latency percentiles: the 95% confidence bound the status was decided on (the lower bound
    for an upper limit)."""
    runbook_url: str | None = None
    """The rule's `runbook_url` (Alertmanager's annotation), when the config gives one."""
    by: str | None = None
    """The rule's `by` field (each group judged as the whole is); None without one."""
    overall: float | None = None
    """With `by`: the value over all records (`value` is the worst group's when a group decided)."""
    worst_group: str | None = None
    """With `by`: the group whose value is worst for the rule's direction (highest for an upper
    limit), ok or not; None for the records without the field (`worst_group_missing`)."""
    worst_value: float | None = None
    worst_group_missing: bool = False
    groups: tuple[tuple[str | None, float | None], ...] = ()
    """With `by`: every group's value (None: the records without the field), in group order."""
    warning_compared: float | None = None
    """The quantity compared with `warning` (the point estimate, or the 95% bound the rule's test
    uses: drift's effect upper bound, a percentile's lower bound...); None for no data."""
    warning_kind: str = "estimate"
    """What `warning_compared` is: one of COMPARED_KINDS."""
    critical_compared: float | None = None
    """The quantity compared with `critical` (drift's effect lower bound, ...)."""
    critical_kind: str = "estimate"
    """What `critical_compared` is: one of COMPARED_KINDS."""

    @property
    def compared(self) -> float | None:
        """The quantity compared with `threshold` (with no warning limit, the critical one's)."""
        if self.status is Status.CRITICAL or (self.warning is None and not self.critical_missing):
            return self.critical_compared
        return self.warning_compared

    @property
    def compared_limit(self) -> float | None:
        """The limit `compared` is compared with."""
        if self.critical_missing:
            return 1.0
        if self.status is Status.CRITICAL or self.warning is None:
            return self.critical
        return self.warning

    @property
    def compared_kind(self) -> str:
        if self.status is Status.CRITICAL or (self.warning is None and not self.critical_missing):
            return self.critical_kind
        return self.warning_kind

    @property
    def threshold(self) -> float | None:
        if self.critical_missing:
            return 1.0
        return self.critical if self.status is Status.CRITICAL else self.warning

    def alert(self) -> Alert | None:
        if self.status not in (Status.WARNING, Status.CRITICAL) or self.value is None:
            return None
        limit = self.compared_limit
        return Alert(
            self.metric,
            Severity(self.status.value),
            self.value,
            float("nan") if limit is None else limit,
            self.message,
            self.group,
            self.group_missing,
            self.compared,
            self.compared_kind,
        )


COMPARED_KINDS = (
    "estimate", "lower 95%", "upper 95%", "rise lower 95%", "rise upper 95%", "excess over expected",
)
"""What a result's compared quantity is: the point estimate; the lower or upper 95% confidence
bound of the estimate; of the rise of a share over training's; the unseen share beyond the share
the baseline predicts."""


def with_compared(r: RuleResult, warning: tuple[str, float | None],
                  critical: tuple[str, float | None] | None = None) -> RuleResult:
    """r with the quantities compared with its limits ((kind, value) each; a bound that is None
    falls back to the point estimate)."""
    crit = critical or warning

    def pick(k: tuple[str, float | None]) -> tuple[str, float | None]:
        return k if k[1] is not None else ("estimate", r.value)

    (wk, wv), (ck, cv) = pick(warning), pick(crit)
    out = replace(r, warning_compared=wv, warning_kind=wk, critical_compared=cv, critical_kind=ck)
    if r.status in (Status.WARNING, Status.CRITICAL) and r.bound is None and out.compared is not None \
            and out.compared_kind != "estimate" and out.compared_limit is not None:
        # the alert's text leads with what fired it: the bound, not the estimate beside it
        out = replace(out, message=f"{r.metric}: {out.compared_kind} {_fmt(out.compared)} reaches the "
                      f"{r.status.value} limit {_fmt(out.compared_limit)}; {r.message}")
    return out



def _iso_ns(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def summary_value(g: GroupSummary, metric: str, *, now: float) -> tuple[float | None, str]:
    """A summary metric of one group, or None and why it has no value."""
    if metric == "records":
        return float(g.records), ""
    if g.records == 0:
        return None, "no records"
    if metric in ("success_rate", "error_rate"):
        v = g.success_rate if metric == "success_rate" else g.error_rate
        return v, "" if v is not None else "no record has a status or success field"
    if metric.startswith("latency_ms."):
        lat = g.latency_ms
        key = metric.split(".", 1)[1]
        if lat.n == 0:
            return None, "no record has a latency"
        v = getattr(lat, key)
        return (None, f"no {key}") if v is None else (float(v), "")
    if metric == "confidence.mean":
        c = g.confidence
        return c.mean, "" if c.mean is not None else "no record has a confidence"
    if metric == "confidence.low_share":
        c = g.confidence
        return c.low_share, "" if c.low_share is not None else "no record has a confidence"
    if metric == "predictions_out_of_range":
        out = g.predictions_out_of_range
        if out is None:
            return None, "no prediction-range set"
        if g.prediction_values == 0:
            return None, "no numeric prediction"
        return float(out), ""
    if metric == "requests_per_second":
        v = g.requests_per_second
        return v, "" if v is not None else "too few timestamps for a rate"
    if metric == "age_seconds":
        last = _iso_ns(g.last_timestamp)
        return (None, "no record has a timestamp") if last is None else (max(0.0, now - last), "")
    return None, f"unknown metric {metric}"


def _level(rule: Rule, value: float) -> Status:
    def crossed(limit: float | None) -> bool:
        if limit is None:
            return False
        return value > limit if rule.direction == "above" else value < limit

    if crossed(rule.critical):
        return Status.CRITICAL
    if crossed(rule.warning):
        return Status.WARNING
    return Status.OK


def _fmt(v: float) -> str:
    from mlmon.numfmt import number

    return number(v)  # as tables and alerts write numbers: 100,000 (not 1e+05)


def _message(
    rule: Rule, status: Status, value: float, group: str | None, metric: str, *, missing: bool = False
) -> str:
    where = records_text(group, overall=group is None and not missing, missing=missing)
    if status is Status.OK:
        given = (("warning", rule.warning), ("critical", rule.critical))
        limits = [f"{k} {_fmt(x)}" for k, x in given if x is not None]
        return f"{metric} {_fmt(value)} ({where}; {', '.join(limits) or 'no threshold'})"
    limit = rule.critical if status is Status.CRITICAL else rule.warning
    op = ">" if rule.direction == "above" else "<"
    return f"{metric} {_fmt(value)} {op} {_fmt(limit or 0.0)} ({where})"


def _name(rule: Rule, metric: str) -> str:
    """A rule's name; for one feature of a `.*` rule, the feature's metric (after the rule's name)."""
    if metric == rule.metric:
        return rule.name
    return metric if rule.name == rule.metric else f"{rule.name}:{metric}"


class _Missing:
    """The group of records without the --by field, among a rule's candidates."""


_MISSING = _Missing()


_Candidate = tuple[str | None | _Missing, float | None, str]
"""(group: None for all records, value, why it has none)."""


_Judged = tuple[Status, bool, float | None]
"""A percentile's verdict by the interval rule: (status, proven, the bound compared)."""


def _percentile_judged(rule: Rule, g: GroupSummary) -> _Judged | None:
    """The verdict on a latency percentile (`latency_ms.p50/p95/p99`) by the rule every command
    uses (mlmon/stats/percentile.py); None for other metrics or without latencies."""
    key = rule.metric.split(".", 1)[1] if rule.metric.startswith("latency_ms.") else ""
    lat = g.latency_ms
    point = getattr(lat, key, None) if key in ("p50", "p95", "p99") else None
    if point is None or lat.n == 0:
        return None
    lower, upper = lat.bounds(key)
    above = rule.direction == "above"
    level, proven = percentile_level(point, lower, upper, rule.warning, rule.critical, above)
    return Status(level or "ok"), proven, lower if above else upper


def _decide(
    rule: Rule, candidates: Sequence[_Candidate], metric: str | None = None,
    judged: Sequence[_Judged | None] = (),
) -> RuleResult:
    metric = metric or rule.metric
    name = _name(rule, metric)
    overall = candidates[0]
    if overall[1] is None:
        return RuleResult(
            name,
            metric,
            Status.NO_DATA,
            None,
            rule.warning,
            rule.critical,
            rule.direction,
            f"{metric}: no data ({overall[2]})",
        )
    best: tuple[Status, float, str | None | _Missing, _Judged | None] | None = None
    for i, (group, value, _why) in enumerate(candidates):
        if value is None:
            continue
        j = judged[i] if i < len(judged) else None
        st = j[0] if j is not None else _level(rule, value)
        worse = best is None or st.rank > best[0].rank
        if not worse and best is not None and st.rank == best[0].rank and st is not Status.OK:
            worse = value > best[1] if rule.direction == "above" else value < best[1]
        if worse:
            best = (st, value, group, j)
    assert best is not None
    status, value, chosen, how = best
    missing = isinstance(chosen, _Missing)
    group = None if isinstance(chosen, _Missing) else chosen
    message = _message(rule, status, value, group, metric, missing=missing)
    if how is not None and how[2] is not None:
        side = "lower" if rule.direction == "above" else "upper"
        message += f"; 95% {side} bound {_fmt(how[2])}"
    if how is not None and not how[1]:
        message += "; not proven (too few values to show it within the limit)"
    result = RuleResult(
        name,
        metric,
        status,
        value,
        rule.warning,
        rule.critical,
        rule.direction,
        message,
        group,
        group_missing=missing,
        proven=None if how is None else how[1],
        bound=None if how is None else how[2],
    )
    kind = "lower 95%" if rule.direction == "above" else "upper 95%"
    return with_compared(result, (kind, how[2]) if how is not None else ("estimate", value))


def _feature_rules(
    rule: Rule, features: tuple[FeatureDrift, ...] | None, drift: DriftOptions
) -> list[RuleResult]:
    kind, _, feature = rule.metric.partition(".")
    if features is None:
        return [
            RuleResult(
                rule.name,
                rule.metric,
                Status.NO_DATA,
                None,
                rule.warning,
                rule.critical,
                rule.direction,
                f"{rule.metric}: no data (no baseline given)",
            )
        ]
    defaults = rule.warning is None and rule.critical is None
    if defaults:
        warn, crit = {
            "drift": (JOINT_WARNING, JOINT_CRITICAL) if feature == JOINT_NAME else (
                drift.min_effect, drift.critical_effect),
            # a mean shown past the tolerance is critical; unseen values warn at 1%, critical at 5%
            "mean_deviation": (None, drift.mean_tolerance),
            "unseen": (drift.max_unseen_share, drift.critical_unseen_share),
            "missing_share": (drift.missing_warning, drift.missing_critical),
            "out_of_range": (drift.out_of_range_warning, drift.out_of_range_critical),
            "type_errors": (0.0, None),
        }[kind]
        r = replace(rule, warning=warn, critical=crit)
    else:
        r = rule
    if feature == "*":
        chosen = tuple(f for f in features if applies(kind, f))
    elif feature.endswith(".*"):  # `drift.prediction.*`: every prediction
        chosen = tuple(f for f in features if f.name.startswith(feature[:-1]) and applies(kind, f))
    else:
        chosen = tuple(f for f in features if f.name == feature)
    if not chosen:
        return [
            RuleResult(
                rule.name,
                rule.metric,
                Status.NO_DATA,
                None,
                r.warning,
                r.critical,
                r.direction,
                f"{rule.metric}: no data (feature {feature!r} is not in the baseline)",
            )
        ]
    # a mean rule with limits of its own redoes the mean tests at those limits (one BH family)
    at_limit = {
        t: {g.name: g for g in at_mean_tolerance(features, t, drift)}
        for t in (r.warning, r.critical)
        if kind == "mean_deviation" and t is not None
    }
    out = []
    for f in chosen:
        metric = f"{kind}.{f.name}"
        if kind == "missing_share":
            out.append(_missing_verdict(r, f, metric, drift))
        elif kind == "out_of_range":
            out.append(_range_verdict(r, f, metric, drift))
        elif kind == "type_errors":
            share = f.type_errors / f.records if f.records else None
            out.append(_decide(r, [(None, share, "no records")], metric))
        elif f.status == "missing":  # a feature that vanished from the log: nothing checked, critical
            out.append(RuleResult(_name(r, metric), metric, Status.CRITICAL, 0.0, r.warning, r.critical,
                                  r.direction, f"{metric}: feature {f.name} has no value in the log: "
                                  "it was not checked", critical_missing=True, warning_compared=0.0,
                                  critical_compared=0.0))
        elif f.status != "ok":
            out.append(_decide(r, [(None, None, f"feature {f.status}, n={f.n}")], metric))
        elif kind == "drift":
            out.append(_drift_verdict(r, f, metric, drift))
        elif kind == "unseen":
            level = _level_of(r, partial(unseen_breached, f, p_threshold=drift.p_threshold))
            excess = None if f.unseen_expected is None else f.unseen_share - f.unseen_expected
            shown = "" if excess is None else f" (excess over expected {_fmt(excess)})"
            out.append(with_compared(_verdict(r, metric, level, f.unseen_share,
                                              f"{metric} {_fmt(f.unseen_share)}{shown}"),
                                     ("excess over expected", excess)))
        else:
            level = _level_of(r, partial(_mean_beyond, at_limit, f.name, drift))
            out.append(_mean_verdict(r, f, metric, level, at_limit))
    return out


def applies(kind: str, f: FeatureDrift) -> bool:
    """Whether a `kind.*` rule covers feature f: `mean_deviation` and `out_of_range` numbers only;
    `unseen` categories and few-valued numbers (tested by category counts) only; the others every
    feature and prediction. The joint test is named alone (`drift.multivariate`): its effect is on
    another scale than a feature's."""
    if f.role == "multivariate":
        return False
    if kind == "type_errors":  # the reader counts type errors of features only
        return f.role == "feature"
    if kind == "mean_deviation":
        return f.kind == "numeric"
    if kind == "unseen":
        return f.kind != "numeric" or f.test == "chi_square"
    if kind == "out_of_range":
        return f.kind == "numeric"  # a category has no range
    return True


def _mean_beyond(
    at_limit: dict[float, dict[str, FeatureDrift]], name: str, drift: DriftOptions, limit: float
) -> bool:
    return mean_shifted(at_limit[limit][name], replace(drift, mean_tolerance=limit))


def _level_of(r: Rule, crossed: Callable[[float], bool]) -> Status:
    """Critical when the rule's critical limit is crossed, else warning when its warning one is."""
    if r.critical is not None and crossed(r.critical):
        return Status.CRITICAL
    if r.warning is not None and crossed(r.warning):
        return Status.WARNING
    return Status.OK


def _verdict(
    r: Rule, metric: str, status: Status, value: float | None, message: str, word: str = ""
) -> RuleResult:
    word = word or ("ok" if status is Status.OK else status.value)
    return with_compared(RuleResult(_name(r, metric), metric, status, value, r.warning, r.critical,
                                    r.direction, f"{message}: {word}"), ("estimate", value))


def _mean_verdict(
    r: Rule, f: FeatureDrift, metric: str, status: Status, at_limit: dict[float, dict[str, FeatureDrift]]
) -> RuleResult:
    """`mlmon drift`'s mean rule at the rule's limits: beyond the limit and significantly so."""
    value = f.mean_deviation
    if value is None:
        return _decide(r, [(None, None, "no mean")], metric)
    limit = r.critical if status is Status.CRITICAL else r.warning
    g = at_limit[limit] if limit is not None else {}
    p = g[f.name].mean_p_value_adjusted if f.name in g else None
    shown = "" if p is None else f"; adjusted p {p_value(p)} that it is beyond {_fmt(limit or 0.0)}"
    return _verdict(r, metric, status, value, f"{metric} {_fmt(value)}{shown}")


def _missing_verdict(r: Rule, f: FeatureDrift, metric: str, drift: DriftOptions) -> RuleResult:
    """`mlmon drift`'s missing-share verdict (quality.missing_level) with the rule's limits on
    the rise of the share over training's. A feature with no value at all is critical (drift's
    `missing.<feature>`); a log with no missing value is ok (nothing to test)."""
    if f.missing_share is None:
        return _decide(r, [(None, None, "no records")], metric)
    if f.status == "missing":  # drift's critical missing.<feature>: no value at all
        return RuleResult(_name(r, metric), metric, Status.CRITICAL, f.missing_share, r.warning, r.critical,
                          r.direction, f"{metric} {_fmt(f.missing_share)}: feature {f.name} has no value in "
                          f"the log ({f.records} records), it was not checked (missing.{f.name})",
                          warning_compared=f.missing_share, critical_compared=f.missing_share)
    level = missing_level(f.missing_p_value_adjusted, f.missing_low, f.missing_high,
                          p_threshold=drift.p_threshold, warning=r.warning, critical=r.critical)
    status = Status.OK if level is None else Status(level)
    p = "-" if f.missing_p_value_adjusted is None else p_value(f.missing_p_value_adjusted)
    low = "-" if f.missing_low is None else f"{f.missing_low:+.3g}"
    high = "-" if f.missing_high is None else f"{f.missing_high:+.3g}"
    base = "-" if f.baseline_missing_share is None else _fmt(f.baseline_missing_share)
    message = (f"{metric} {_fmt(f.missing_share)} vs training {base} (rise 95% bounds {low} to {high}; "
               f"adjusted p {p}; {f.missing} of {f.records} records)")
    return with_compared(_verdict(r, metric, status, f.missing_share, message),
                         ("rise upper 95%", f.missing_high), ("rise lower 95%", f.missing_low))


def _range_verdict(r: Rule, f: FeatureDrift, metric: str, drift: DriftOptions) -> RuleResult:
    """`mlmon drift`'s out-of-range verdict with the rule's limits on the share of values outside
    training's [min, max] (its 95% bounds, and more than chance after the BH adjustment)."""
    if f.out_of_range_share is None or f.n < drift.min_samples:
        why = "a categorical feature" if f.kind != "numeric" else f"feature {f.status}, n={f.n}"
        return _decide(r, [(None, None, why)], metric)
    level = missing_level(f.out_of_range_p_value_adjusted, f.out_of_range_low, f.out_of_range_high,
                          p_threshold=drift.p_threshold, warning=r.warning, critical=r.critical)
    status = Status.OK if level is None else Status(level)
    p = "-" if f.out_of_range_p_value_adjusted is None else p_value(f.out_of_range_p_value_adjusted)
    low = "-" if f.out_of_range_low is None else f"{f.out_of_range_low:.3g}"
    high = "-" if f.out_of_range_high is None else f"{f.out_of_range_high:.3g}"
    message = (f"{metric} {_fmt(f.out_of_range_share)} (95% bounds {low} to {high}; adjusted p {p}; "
               f"{f.out_of_range} of {f.n} values)")
    return with_compared(_verdict(r, metric, status, f.out_of_range_share, message),
                         ("upper 95%", f.out_of_range_high), ("lower 95%", f.out_of_range_low))


def _drift_verdict(r: Rule, f: FeatureDrift, metric: str, drift: DriftOptions) -> RuleResult:
    """`mlmon drift`'s verdict (drift.drift_level) with the rule's limits as --min-effect and
    --critical-effect: drift (significant, and an effect not shown to be below the warning
    limit) is a warning, critical when even the lower 95% bound of the effect reaches the
    critical limit."""
    value = f.effect_size
    if value is None:
        return _decide(r, [(None, None, "no effect size")], metric)
    level = drift_level(f, drift, warning=r.warning, critical=r.critical)
    status = Status.OK if level is None else Status(level)
    p = "-" if f.p_value_adjusted is None else p_value(f.p_value_adjusted)
    low = "-" if f.effect_low is None else f"{f.effect_low:.3g}"
    high = "-" if f.effect_high is None else f"{f.effect_high:.3g}"
    message = f"{metric} {_fmt(value)} (95% bounds {low} to {high}; adjusted p {p})"
    word = "no drift" if status is Status.OK else "drifted"
    return with_compared(_verdict(r, metric, status, value, message, word),
                         ("upper 95%", f.effect_high), ("lower 95%", f.effect_low))


def evaluate(
    rules: tuple[Rule, ...],
    summary: SummaryResult,
    features: tuple[FeatureDrift, ...] | None,
    *,
    drift: DriftOptions | None = None,
    now: float,
    quality: QualityReport | None = None,
) -> tuple[RuleResult, ...]:
    """Every rule against the run's results, in rule order."""
    d = drift or DriftOptions()
    out: list[RuleResult] = []
    for rule in rules:
        if rule.metric.startswith(QUALITY_PREFIXES):
            out.append(_quality_rule(rule, quality))
            continue
        if rule.metric.startswith(FEATURE_PREFIXES):
            out.extend(
                replace(r, for_runs=rule.for_runs, runbook_url=rule.runbook_url)
                for r in _feature_rules(rule, features, d)
            )
            continue
        candidates: list[_Candidate] = [
            (None, *summary_value(summary.overall, rule.metric, now=now))
        ]
        judged = [_percentile_judged(rule, summary.overall)]
        if rule.by is not None:
            candidates += [
                (_MISSING if g.group is None else g.group, *summary_value(g, rule.metric, now=now))
                for g in summary.groups
            ]
            judged += [_percentile_judged(rule, g) for g in summary.groups]
        decided = _decide(rule, candidates, judged=judged)
        result = replace(decided, for_runs=rule.for_runs, runbook_url=rule.runbook_url)
        if rule.by is not None:
            result = _with_groups(result, rule, candidates)
        out.append(result)
    return tuple(out)


def _with_groups(r: RuleResult, rule: Rule, candidates: Sequence[_Candidate]) -> RuleResult:
    """A `by` rule's result with the overall value, the worst group's and each group's beside it."""
    groups = [
        (None if isinstance(g, _Missing) else g, v, isinstance(g, _Missing)) for g, v, _ in candidates[1:]
    ]
    valued = [x for x in groups if x[1] is not None]
    worst = None
    if valued:
        pick = max if rule.direction == "above" else min
        worst = pick(valued, key=lambda x: x[1] if x[1] is not None else 0.0)
    return replace(
        r,
        by=rule.by,
        overall=candidates[0][1],
        worst_group=None if worst is None else worst[0],
        worst_value=None if worst is None else worst[1],
        worst_group_missing=worst is not None and worst[2],
        groups=tuple((g, v) for g, v, _ in groups),
    )


def worst_status(results: tuple[RuleResult, ...]) -> Status:
    return max((r.status for r in results), key=lambda s: s.rank, default=Status.OK)


NO_LABELS = "no labels (give --labels FILE, or label-files in the config)"


def _quality_value(
    rule: Rule, p: Performance, q: QualityReport
) -> tuple[float | None, str, _Judged | None]:
    """(value, why it has none, the verdict by its 95% interval) of a quality rule in one set of
    labelled predictions: `quality.<m>` is the metric; `quality_drop.<m>` its fall from the
    baseline's reference (reference - metric where high is good, metric - reference where low is)."""
    kind, _, name = rule.metric.partition(".")
    m = p.get(name)
    if m is None:
        return None, f"no metric {name} for a {q.task.value} model", None
    if m.value is None:
        return None, m.reason or "no labelled prediction", None
    point, low, high = m.value, m.low, m.high
    if kind == "quality_drop":
        ref = q.reference_value(name)
        if ref is None:
            return None, (f"the baseline has no reference {name} (mlmon baseline "
                          f"--reference-metric {name}=VALUE)"), None
        if bad_direction(name) == "below":  # a fall is reference - value
            point, low, high = ref - m.value, None if m.high is None else ref - m.high, \
                None if m.low is None else ref - m.low
        else:
            point, low, high = m.value - ref, None if m.low is None else m.low - ref, \
                None if m.high is None else m.high - ref
    level, proven = percentile_level(point, low, high, rule.warning, rule.critical, rule.direction == "above")
    bound = low if rule.direction == "above" else high
    return point, "", (Status(level or "ok"), proven, bound)


def _quality_rule(rule: Rule, q: QualityReport | None) -> RuleResult:
    """A realized-performance rule: alerts when the metric's 95% interval is beyond the limit (as a
    latency percentile's), overall and, with `by`, in each group."""
    if q is None:
        result = _decide(rule, [(None, None, NO_LABELS)])
        return replace(result, for_runs=rule.for_runs, runbook_url=rule.runbook_url)
    first = _quality_value(rule, q.overall, q)
    candidates: list[_Candidate] = [(None, first[0], first[1])]
    judged: list[_Judged | None] = [first[2]]
    if rule.by is not None:
        for g in q.groups:
            v = _quality_value(rule, g.performance, q)
            candidates.append((_MISSING if g.group is None else g.group, v[0], v[1]))
            judged.append(v[2])
    result = replace(_decide(rule, candidates, judged=judged), for_runs=rule.for_runs,
                     runbook_url=rule.runbook_url)
    if rule.by is not None:
        result = _with_groups(result, rule, candidates)
    return result
