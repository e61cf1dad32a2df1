"""`mlmon check` results as JUnit XML: one testcase per rule, for CI test reporters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from mlmon.api import CheckReport
from mlmon.escape import xml_text
from mlmon.report.checks import compared_text, value_text
from mlmon.rules.check import Status


def _x(text: str) -> str:
    """Text XML 1.0 can hold, controls and invisible characters shown as escapes (the XML
    escaper of mlmon/escape.py); ElementTree escapes `<`, `&` and quotes."""
    return xml_text(text)


def _against(kind: str, v: float | None) -> str:
    return "" if kind == "estimate" or v is None else f" against {kind} {value_text(v)}"


def check_junit(rep: CheckReport, *, fail_rank: int, suite: str = "mlmon check") -> str:
    """Failure at or above `fail_rank` (1 warning, 2 critical, 3 never); error for no data."""
    failures = sum(
        1 for r in rep.results if r.status is not Status.NO_DATA and 0 < r.status.rank >= fail_rank
    )
    errors = sum(1 for r in rep.results if r.status is Status.NO_DATA)
    stamp = datetime.fromtimestamp(rep.now, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", name="mlmon", tests=str(len(rep.results)))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(rep.results)))
    ts.set("failures", str(failures))
    ts.set("errors", str(errors))
    ts.set("skipped", "0")
    ts.set("timestamp", stamp)
    props = ET.SubElement(ts, "properties")
    ET.SubElement(props, "property", name="records", value=str(rep.records))
    for r in rep.results:
        case = ET.SubElement(ts, "testcase", name=_x(r.name), classname=_x(f"mlmon.{r.metric}"), time="0")
        detail = (
            f"{r.metric}: compared {compared_text(r)} with limit {value_text(r.compared_limit)} "
            f"(estimate {value_text(r.value)}; warning {value_text(r.warning)}"
            f"{_against(r.warning_kind, r.warning_compared)}, critical {value_text(r.critical)}"
            f"{_against(r.critical_kind, r.critical_compared)}, bad when {r.direction})"
        )
        if r.status is Status.NO_DATA:
            el = ET.SubElement(case, "error", message=_x(r.message), type="no_data")
            el.text = _x(detail)
        elif r.status.rank >= fail_rank and r.status is not Status.OK:
            el = ET.SubElement(case, "failure", message=_x(r.message), type=r.status.value)
            el.text = _x(detail)
        elif r.status is Status.WARNING:
            out = ET.SubElement(case, "system-out")
            out.text = _x(f"warning (below --fail-on): {r.message}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def failed_junit(message: str, code: int, *, now: float, suite: str = "mlmon check") -> str:
    """A run that failed before any rule was checked: one testcase with an `<error>` naming the
    cause, so a CI reporter shows why instead of "No such file"."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", name="mlmon", tests="1", failures="0", errors="1")
    ts = ET.SubElement(root, "testsuite", name=suite, tests="1", failures="0", errors="1", skipped="0",
                       timestamp=stamp)
    case = ET.SubElement(ts, "testcase", name="mlmon run", classname="mlmon.run", time="0")
    err = ET.SubElement(case, "error", message=_x(message), type=f"exit {code}")
    err.text = _x(f"mlmon check could not check anything (exit {code}): {message}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
