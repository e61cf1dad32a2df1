"""Alerts that must persist: a rule fires only when crossed in N consecutive windows (Prometheus' `for`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from mlmon.rules.alerts import Alert, Severity, SummaryThresholds, drift_alerts, summary_alerts
from mlmon.stats.drift import DriftOptions
from mlmon.stats.summary import SummaryResult
from mlmon.stats.windows import Window


@dataclass(frozen=True)
class Firing:
    """A rule crossed in each of the last `windows` windows (at least --for of them)."""

    metric: str
    severity: Severity
    since: str
    """Start of the first window of the unbroken run of crossings that reaches the last window."""
    windows: int
    alert: Alert
    """The alert of the last window, at the severity that held for --for windows."""


def window_alerts(
    w: Window,
    t: SummaryThresholds,
    drift: DriftOptions | None,
    *,
    prediction_range: tuple[float, float] | None = None,
) -> tuple[Alert, ...]:
    """The thresholds one window crosses. Windows with too few records (or none) cross nothing:
    they are no evidence either way, and they break a run."""
    if w.status != "ok":
        return ()
    result = SummaryResult(overall=dataclasses.replace(w.summary, group=None), groups=())
    alerts = summary_alerts(result, t, prediction_range=prediction_range)
    if drift is not None:
        alerts += drift_alerts(w.features, drift)
    return alerts


def _key(a: Alert) -> tuple[str, str | None, bool]:
    return a.metric, a.group, a.group_missing


def _rank(alerts: tuple[Alert, ...], key: tuple[str, str | None, bool]) -> int:
    return max((a.severity.rank for a in alerts if _key(a) == key), default=0)


def persisting(
    windows: Sequence[Window], breaches: Sequence[tuple[Alert, ...]], n: int
) -> tuple[Firing, ...]:
    """The rules crossed in each of the last n windows, at the highest severity that held in all n.

    The last window decides (it is the state now); earlier windows are the evidence. A critical
    crossing counts as a warning crossing too, so warning, critical, critical fires a warning
    with --for 3 and a critical with --for 2.
    """
    if not windows or not breaches[-1]:
        return ()
    out: list[Firing] = []
    seen: set[tuple[str, str | None, bool]] = set()
    for last in breaches[-1]:
        key = _key(last)
        if key in seen:
            continue
        seen.add(key)
        ranks = [_rank(b, key) for b in breaches]
        for sev in (Severity.CRITICAL, Severity.WARNING):
            run = 0
            while run < len(ranks) and ranks[-1 - run] >= sev.rank:
                run += 1
            if run < n:
                continue
            first = len(ranks) - run
            alert = last
            if last.severity is not sev:  # take the limit from the latest window at this severity
                alert = next(
                    a
                    for b in reversed(breaches[first:])
                    for a in b
                    if _key(a) == key and a.severity is sev
                )
                alert = dataclasses.replace(alert, value=last.value)
            since = windows[first].window_start
            alert = dataclasses.replace(
                alert,
                severity=sev,
                message=f"{last.message}; crossed in {run} consecutive windows since {since}",
            )
            out.append(Firing(last.metric, sev, since, run, alert))
            break
    return tuple(out)
