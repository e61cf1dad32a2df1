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


def test_the_limit_is_the_latest_at_the_severity_that_held_and_the_value_the_last_windows() -> None:
    ws = _windows(4)
    crossings = [
        (Alert("latency_ms.p99", Severity.WARNING, 300.0, 250.0, "w0"),),
        (Alert("latency_ms.p99", Severity.WARNING, 310.0, 260.0, "w1"),),  # the limit moved
        (Alert("latency_ms.p99", Severity.CRITICAL, 450.0, 400.0, "c2"),),
        (Alert("latency_ms.p99", Severity.CRITICAL, 470.0, 400.0, "c3"),),
    ]
    (f,) = persisting(ws, crossings, 4)
    assert f.severity is Severity.WARNING and f.windows == 4 and f.since == "2026-11-01T00:00:00Z"
    assert f.alert.threshold == 260.0 and f.alert.value == 470.0
    assert f.alert.message == "c3; crossed in 4 consecutive windows since 2026-11-01T00:00:00Z"
    assert f.metric == "latency_ms.p99"
    (f,) = persisting(ws, crossings, 2)
    assert (f.severity, f.windows, f.alert.threshold, f.alert.value) == (Severity.CRITICAL, 2, 400.0, 470.0)
    assert f.since == "2026-11-01T02:00:00Z"


def test_each_metric_and_group_is_its_own_run() -> None:
    ws = _windows(3)

    def a(metric: str, group: str | None = None, missing: bool = False) -> Alert:
        return Alert(metric, Severity.WARNING, 1.0, 0.5, f"{metric} {group}", group, missing)

    crossings = [
        (a("error_rate", "v1"), a("latency_ms.p99")),
        (a("error_rate", "v1"), a("error_rate", "v2"), a("latency_ms.p99")),
        (a("error_rate", "v1"), a("error_rate", "v2"), a("error_rate", None, True), a("error_rate", "v1")),
    ]
    out = persisting(ws, crossings, 2)
    assert [(f.alert.group, f.windows) for f in out] == [("v1", 3), ("v2", 2)]  # v1 once, though twice
    assert persisting(ws, crossings, 1)[-1].alert.group_missing
    assert [f.metric for f in persisting(ws, crossings, 3)] == ["error_rate"]


def test_no_windows_or_nothing_crossed_now_fires_nothing() -> None:
    assert persisting([], [], 1) == ()
    ws = _windows(2)
    assert persisting(ws, _crossings("w."), 1) == ()


def test_a_window_judged_alone_and_one_without_enough_records_crosses_nothing() -> None:
    from dataclasses import replace

    from mlmon.rules.alerts import SummaryThresholds
    from mlmon.rules.persist import window_alerts

    (w,) = _windows(1)
    slow = replace(w.summary, group="v9", latency_ms=latency_stats(__import__("numpy").full(400, 900.0)))
    w = replace(w, summary=slow)
    t = SummaryThresholds(max_p99_ms=500.0)
    (alert,) = window_alerts(w, t, None)
    assert (alert.metric, alert.severity, alert.group) == ("latency_ms.p99", Severity.WARNING, None)
    assert window_alerts(replace(w, status="too_few_records"), t, None) == ()
    assert window_alerts(replace(w, status="empty"), t, None) == ()
    assert window_alerts(w, SummaryThresholds(), None) == ()


def test_a_window_gets_its_drift_alerts_and_its_prediction_range_named() -> None:
    from dataclasses import replace

    from mlmon.rules.alerts import SummaryThresholds
    from mlmon.rules.persist import window_alerts
    from mlmon.stats.drift import DriftOptions, FeatureDrift

    (w,) = _windows(1)
    f = FeatureDrift(
        "age", "numeric", 500, 1000, "ok", "ks", 0.3, 1e-6, 1e-5, "exact", 0.3, "ks_d", 0.2, 0.4, None, None,
        52.0, 50.0, 0.01, "sd", 0.02, 0.5, 0.5, False, True, records=500,
    )
    summary = replace(w.summary, predictions_out_of_range=400, prediction_values=400)
    w = replace(w, features=(f,), summary=summary)
    t = SummaryThresholds(max_out_of_range=0.01, min_samples=1)
    got = window_alerts(w, t, DriftOptions(), prediction_range=(0.0, 1.0))
    assert [a.metric for a in got] == ["predictions_out_of_range", "drift.age"]
    assert "[0, 1]" in got[0].message
    assert [a.metric for a in window_alerts(w, t, None)] == ["predictions_out_of_range"]
    assert "[0, 1]" not in window_alerts(w, t, None)[0].message


def test_a_repeated_crossing_in_the_last_window_does_not_end_the_others() -> None:
    ws = _windows(2)

    def a(group: str) -> Alert:
        return Alert("error_rate", Severity.WARNING, 1.0, 0.5, group, group)

    crossings = [(a("v1"), a("v2")), (a("v1"), a("v1"), a("v2"))]
    assert [f.alert.group for f in persisting(ws, crossings, 2)] == ["v1", "v2"]
