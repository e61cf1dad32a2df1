"""--for: a rule fires only when crossed in N consecutive windows up to the last; since when."""

from __future__ import annotations

import pytest
from stats.test_windows import _acc, ns, table

from mlmon.rules.alerts import Alert, Severity
from mlmon.rules.persist import persisting
from mlmon.stats.summary import latency_stats
from mlmon.stats.windows import Window


def _windows(k: int) -> list[Window]:
    acc = _acc()
    t0 = ns("2026-11-01T00:00:00+00:00")
    acc.update(table([t0, t0 + (k - 1) * 3600 * 10**9], [1.0, 1.0]))
    ws = list(acc.result())
    assert len(ws) == k and latency_stats  # one window an hour from 00:00
    return ws


def _crossings(pattern: str) -> list[tuple[Alert, ...]]:
    """`.`: not crossed, `w`: warning, `c`: critical, one character per window."""
    sev = {"w": Severity.WARNING, "c": Severity.CRITICAL}
    limit = {"w": 250.0, "c": 400.0}
    return [
        () if ch == "." else (Alert("latency_ms.p99", sev[ch], 500.0, limit[ch], f"p99 window {i}"),)
        for i, ch in enumerate(pattern)
    ]


@pytest.mark.parametrize(
    ("pattern", "n", "fired", "since_hour", "run"),
    [
        ("...w..", 1, None, None, None),  # the last window decides: crossed earlier, fine now
        ("....w", 1, "warning", 4, 1),
        ("....w", 3, None, None, None),  # one bad window is not a trend
        ("..www", 3, "warning", 2, 3),
        (".wwwww", 3, "warning", 1, 5),  # since the start of the unbroken run
        ("ww.ww", 3, None, None, None),  # a gap breaks the run
        ("wcc", 3, "warning", 0, 3),  # critical counts as warning too
        ("wcc", 2, "critical", 1, 2),
        ("ccc", 3, "critical", 0, 3),
    ],
)
def test_for_sequences(pattern: str, n: int, fired: str | None, since_hour: int | None,
                       run: int | None) -> None:
    ws = _windows(len(pattern))
    out = persisting(ws, _crossings(pattern), n)
    if fired is None:
        assert out == ()
        return
    (f,) = out
    assert f.severity.value == fired and f.alert.severity.value == fired
    assert f.since == f"2026-11-01T{since_hour:02d}:00:00Z"
    assert f.windows == run
    assert f.alert.threshold == (400.0 if fired == "critical" else 250.0)
    assert f"since {f.since}" in f.alert.message
