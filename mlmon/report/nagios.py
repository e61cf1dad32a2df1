"""`mlmon check --nagios`: the monitoring-plugins convention (one status line with perfdata, exit 0-3)."""

from __future__ import annotations

import re

from mlmon.api import CheckReport
from mlmon.report.render import safe
from mlmon.rules.check import Status, worst_status
from mlmon.stats.summary import group_label

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
_CODE = {Status.OK: OK, Status.WARNING: WARNING, Status.CRITICAL: CRITICAL, Status.NO_DATA: UNKNOWN}
_NAME = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", safe(text).replace("|", "/")).strip()


def _label(name: str) -> str:
    clean = safe(name).replace("'", "").replace("=", "_")
    return f"'{clean}'"


def _n(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def unit_of(metric: str) -> str:
    """The perfdata unit of a metric: `ms` for latencies, `s` for ages; shares, rates and counts
    are plain numbers (the monitoring-plugins convention has no unit for them but `%`, and a share
    of 0.05 is not 5%)."""
    if metric.startswith("latency_ms."):
        return "ms"
    if metric == "age_seconds":
        return "s"
    return ""


def _v(v: float | None, unit: str) -> str:
    return "U" if v is None else _n(v) + unit


def _group(group: str | None) -> str:
    """A group in a perfdata label as tables show it: its value (quoted when it reads as one of
    mlmon's labels, `"(none)"`); `(none)` for the records without the by field."""
    return group_label(group)
def nagios_line(rep: CheckReport) -> tuple[str, int]:
    """The plugin output and its exit code: the worst rule decides; no data is UNKNOWN."""
    w = worst_status(rep.results)
    code = _CODE[w]
    bad = [r for r in rep.results if r.status is not Status.OK]
    if bad:
        text = "; ".join(r.message for r in sorted(bad, key=lambda r: -r.status.rank)[:3])
        if len(bad) > 3:
            text += f"; and {len(bad) - 3} more"
    else:
        text = f"{len(rep.results)} rule(s) ok on {rep.records} records"
    perf = []
    for r in rep.results:
        # perfdata thresholds are ranges; a bad-when-low metric alerts outside [limit, inf)
        warn = (
            _n(r.warning)
            if r.direction == "above"
            else (f"{_n(r.warning)}:" if r.warning is not None else "")
        )
        crit = (
            _n(r.critical)
            if r.direction == "above"
            else (f"{_n(r.critical)}:" if r.critical is not None else "")
        )
        unit = unit_of(r.metric)
        # one label, one series: the rule's name holds the value over all records, and a `by` rule
        # adds `name;group` per group, whichever group decided the status (the text names it)
        value = _v(r.overall if r.by is not None else r.value, unit)
        estimate = r.warning_kind == r.critical_kind == "estimate"
        limits = f";{warn};{crit}" if estimate else ";;"
        perf.append(f"{_label(r.name)}={value}{limits}")
        for group, v in r.groups:
            perf.append(f"{_label(r.name + ';' + _group(group))}={_v(v, unit)}{limits}")
        if estimate:
            continue
        # a limit compared with a 95% bound: the bound carries the thresholds, under a label of its
        # own (stable from run to run); the point estimates keep the rule's labels, without them
        wl, cl = _label(r.name + " " + r.warning_kind), _label(r.name + " " + r.critical_kind)
        wv, cv = _v(r.warning_compared, unit), _v(r.critical_compared, unit)
        if r.warning_kind == r.critical_kind:
            perf.append(f"{wl}={wv};{warn};{crit}")
            continue
        if r.warning is not None:
            perf.append(f"{wl}={wv};{warn};")
        if r.critical is not None:
            perf.append(f"{cl}={cv};;{crit}")
    if not any(p.startswith("'records'=") for p in perf):  # one label once: graphers key on it
        perf.append(f"'records'={rep.records};;;0")
    return f"MLMON {_NAME[code]} - {_one_line(text)} | {' '.join(perf)}\n", code


def unknown_line(message: str) -> tuple[str, int]:
    """Any error of the tool itself: UNKNOWN, never another code."""
    return f"MLMON UNKNOWN - {_one_line(message)}\n", UNKNOWN
