"""`mlmon check` results as CSV, one row per rule, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from mlmon.api import CheckReport
from mlmon.escape import csv_cell

COLUMNS = (
    "rule", "metric", "status", "compared", "compared_kind", "value", "warning", "critical",
    "warning_compared", "warning_kind", "critical_compared", "critical_kind", "direction", "group",
    "message", "group_missing",
)
"""`compared` is the quantity compared with the limit the status names (`compared_kind`: the
point `estimate`, or a 95% bound such as `upper 95%`); `value` is the point estimate;
`warning_compared` and `critical_compared` are the quantities compared with each limit.
`group` is empty for all records; `group_missing` is `true` when the records without the --by
field decided the rule (`group` is then empty too), so a value "" or "(none)" stays apart."""


def guard(text: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (= + - @, tab, CR at the start);
    control characters are escaped, so the file is also safe to print."""
    return csv_cell(text)


def _num(v: float | None) -> str:
    return "" if v is None else repr(float(v))


def check_csv(rep: CheckReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rep.results:
        w.writerow(
            [
                guard(r.name),
                guard(r.metric),
                r.status.value,
                _num(r.compared),
                r.compared_kind,
                _num(r.value),
                _num(r.warning),
                _num(r.critical),
                _num(r.warning_compared),
                r.warning_kind,
                _num(r.critical_compared),
                r.critical_kind,
                r.direction,
                guard(r.group or ""),
                guard(r.message),
                "true" if r.group_missing else "",
            ]
        )
    return buf.getvalue()
