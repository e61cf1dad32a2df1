"""Limits at equality: an upper limit fires only above it, a lower limit only below it (the README's
"above" and "below"), for both severities, on the Threshold and through `mlmon summary`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from corpus import cli, dumps, join, record

from mlmon.rules.alerts import Severity, Threshold

BELOW, ABOVE = -math.inf, math.inf


@pytest.mark.parametrize("limit", [0.0, 1.0, 0.99, 250.0, 1e-9, -3.5])
def test_an_upper_limit_fires_above_it_and_not_at_it(limit: float) -> None:
    over, under = math.nextafter(limit, ABOVE), math.nextafter(limit, BELOW)
    for sev, th in ((Severity.WARNING, Threshold(warning=limit)),
                    (Severity.CRITICAL, Threshold(critical=limit))):
        assert th.crossed(limit, upper=True) is None
        assert th.crossed(under, upper=True) is None
        assert th.crossed(over, upper=True) == (sev, limit)


@pytest.mark.parametrize("limit", [0.0, 1.0, 0.99, 250.0, 1e-9, -3.5])
def test_a_lower_limit_fires_below_it_and_not_at_it(limit: float) -> None:
    over, under = math.nextafter(limit, ABOVE), math.nextafter(limit, BELOW)
    for sev, th in ((Severity.WARNING, Threshold(warning=limit)),
                    (Severity.CRITICAL, Threshold(critical=limit))):
        assert th.crossed(limit, upper=False) is None
        assert th.crossed(over, upper=False) is None
        assert th.crossed(under, upper=False) == (sev, limit)


def test_with_both_levels_each_boundary_belongs_to_the_milder_side() -> None:
    upper = Threshold(warning=250.0, critical=400.0)
    assert upper.crossed(250.0, upper=True) is None
    assert upper.crossed(math.nextafter(250.0, ABOVE), upper=True) == (Severity.WARNING, 250.0)
    assert upper.crossed(400.0, upper=True) == (Severity.WARNING, 250.0)
    assert upper.crossed(math.nextafter(400.0, ABOVE), upper=True) == (Severity.CRITICAL, 400.0)
    lower = Threshold(warning=0.99, critical=0.95)
    assert lower.crossed(0.99, upper=False) is None
    assert lower.crossed(math.nextafter(0.99, BELOW), upper=False) == (Severity.WARNING, 0.99)
    assert lower.crossed(0.95, upper=False) == (Severity.WARNING, 0.99)
    assert lower.crossed(math.nextafter(0.95, BELOW), upper=False) == (Severity.CRITICAL, 0.95)
    # the critical level is looked at first, whatever order the user gave them in
    odd = Threshold(warning=400.0, critical=250.0)
    assert odd.crossed(300.0, upper=True) == (Severity.CRITICAL, 250.0)
    assert Threshold().crossed(1e300, upper=True) is None and Threshold().crossed(-1e300, upper=False) is None


def _log(tmp_path: Path, latency: float, n: int, errors: int) -> str:
    recs = [record(i, model_version="v1", latency_ms=latency, status="error" if i < errors else "success")
            for i in range(n)]
    path = tmp_path / "log.jsonl"
    path.write_bytes(join(dumps(r) for r in recs))
    return str(path)


def test_summary_at_a_limit_is_ok_and_just_past_it_alerts(tmp_path: Path) -> None:
    # every latency 120 ms: p95 = p99 = 120 exactly; 50 errors in 2,000: success rate 0.975 exactly
    n, errors = 2000, 50
    log = _log(tmp_path, 120.0, n, errors)
    rate = (n - errors) / n
    assert rate == 0.975
    base = ["summary", log, "--format", "json"]
    for opt, at, past in (
        ("--max-p99-ms", "120", "119.999"),
        ("--max-p95-ms", "120", "119.999"),
        ("--min-success-rate", "0.975", "0.97501"),
        ("--max-error-rate", "0.025", "0.02499"),
    ):
        r = cli([*base, opt, at])
        assert r.exit_code == 0, (opt, at, r.stdout, r.stderr)
        assert json.loads(r.stdout)["alerts"] == []
        r = cli([*base, opt, past])
        assert r.exit_code == 1, (opt, past, r.stdout, r.stderr)
        (alert,) = json.loads(r.stdout)["alerts"]
        assert alert["threshold"] == float(past)
    # the measured values the limits were compared with are the exact ones
    out = json.loads(cli([*base]).stdout)
    assert out["latency_ms"]["p99"] == out["latency_ms"]["p95"] == 120.0
    assert out["success_rate"] == 0.975 and out["error_rate"] == 0.025
