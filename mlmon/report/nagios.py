"""`mlmon check --nagios`: the monitoring-plugins convention (one status line with perfdata, exit 0-3)."""

from __future__ import annotations

import re

from mlmon.api import CheckReport
from mlmon.report.render import safe
from mlmon.rules.check import Status, worst_status

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


def _u(v: float | None) -> str:
    return "U" if v is None else _n(v)


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
        value = "U" if r.value is None else _n(r.value)
        if r.warning_kind == r.critical_kind == "estimate":
            perf.append(f"{_label(r.name)}={value};{warn};{crit}")
            continue
        # a limit compared with a 95% bound: the bound carries the thresholds, under a label of its
        # own (stable from run to run); the point estimate keeps the rule's label, without them
        perf.append(f"{_label(r.name)}={value};;")
        if r.warning_kind == r.critical_kind:
            perf.append(f"{_label(r.name + ' ' + r.warning_kind)}={_u(r.warning_compared)};{warn};{crit}")
            continue
        if r.warning is not None:
            perf.append(f"{_label(r.name + ' ' + r.warning_kind)}={_u(r.warning_compared)};{warn};")
        if r.critical is not None:
            perf.append(f"{_label(r.name + ' ' + r.critical_kind)}={_u(r.critical_compared)};;{crit}")
    if not any(p.startswith("'records'=") for p in perf):  # one label once: graphers key on it
        perf.append(f"'records'={rep.records};;;0")
    return f"MLMON {_NAME[code]} - {_one_line(text)} | {' '.join(perf)}\n", code


def unknown_line(message: str) -> tuple[str, int]:
    """Any error of the tool itself: UNKNOWN, never another code."""
    return f"MLMON UNKNOWN - {_one_line(message)}\n", UNKNOWN
