"""Canary statistics against scipy computed here, verdicts with tolerances, and merging."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlmon.read.records import CONFIDENCE, GROUP, LATENCY, PRED_CLASS, SUCCESS
from mlmon.stats.compare import (
    CompareAccumulator,
    CompareOptions,
    newcombe,
    quantile_interval,
    two_proportion_z,
)


def test_two_proportion_z_equals_the_chi_square_on_the_2x2_table() -> None:
    for s1, n1, s2, n2 in ((990, 1000, 950, 1000), (45, 60, 30, 55), (10, 10, 9, 12)):
        z, p = two_proportion_z(s1, n1, s2, n2)
        chi = stats.chi2_contingency(np.array([[s1, n1 - s1], [s2, n2 - s2]]), correction=False)
        assert p == pytest.approx(chi.pvalue, rel=1e-9)
        assert z * z == pytest.approx(chi.statistic, rel=1e-9)
        assert np.sign(z) == np.sign(s2 / n2 - s1 / n1)


def test_newcombe_interval_is_built_from_scipys_wilson_intervals() -> None:
    s1, n1, s2, n2 = 990, 1000, 950, 1000
    w1 = stats.binomtest(s1, n1).proportion_ci(method="wilson")
    w2 = stats.binomtest(s2, n2).proportion_ci(method="wilson")
    p1, p2 = s1 / n1, s2 / n2
    lo = p2 - p1 - np.sqrt((p2 - w2.low) ** 2 + (w1.high - p1) ** 2)
    hi = p2 - p1 + np.sqrt((w2.high - p2) ** 2 + (p1 - w1.low) ** 2)
    assert newcombe(s1, n1, s2, n2) == pytest.approx((lo, hi), rel=1e-9)


def test_quantile_interval_uses_binomial_ranks_and_covers(rng: np.random.Generator) -> None:
    x = rng.normal(size=500)
    lo, hi = quantile_interval(x, 0.9, 0.95)
    s = np.sort(x)
    k_lo = int(stats.binom.ppf(0.025, 500, 0.9))
    k_hi = int(stats.binom.ppf(0.975, 500, 0.9)) + 1
    assert (lo, hi) == (s[k_lo - 1], s[k_hi - 1])
    true = stats.norm.ppf(0.9)
    covered = sum(
        a <= true <= b for a, b in (quantile_interval(rng.normal(size=300), 0.9, 0.95) for _ in range(400))
    )
    assert covered / 400 >= 0.93


def _table(version: list[str], latency: np.ndarray, ok: np.ndarray, cls: list[str], conf: np.ndarray
           ) -> pa.Table:
    return pa.table({GROUP: version, LATENCY: latency, SUCCESS: ok, PRED_CLASS: cls, CONFIDENCE: conf})


def _data(rng: np.random.Generator, n: int, shift: float = 1.0, err: float = 0.01) -> pa.Table:
    versions = ["v1" if i % 2 else "v2" for i in range(n)]
    is_v2 = np.array([v == "v2" for v in versions])
    latency = rng.lognormal(3, 0.5, n) * np.where(is_v2, shift, 1.0)
    ok = rng.random(n) >= err
    cls = list(rng.choice(["a", "b"], n))
    return _table(versions, latency, ok, cls, rng.beta(5, 2, n))


def test_slower_version_is_worse_on_latency_and_mann_whitney_matches_scipy(rng: np.random.Generator) -> None:
    t = _data(rng, 4000, shift=1.3)
    acc = CompareAccumulator()
    acc.update(t)
    (v,) = acc.result("v1")
    m = {x.metric: x for x in v.metrics}
    lat = np.array(t.column(LATENCY).to_pylist())
    g = np.array(t.column(GROUP).to_pylist())
    ref = stats.mannwhitneyu(lat[g == "v2"], lat[g == "v1"], alternative="two-sided", method="asymptotic")
    assert m["latency_ms"].statistic == pytest.approx(ref.statistic)
    assert m["latency_ms"].p_value == pytest.approx(ref.pvalue)
    assert m["latency_ms"].verdict == "worse" and m["latency_ms.p50"].verdict == "worse"
    assert m["latency_ms.p95"].control == float(np.percentile(lat[g == "v1"], 95))
    assert m["success_rate"].verdict == "same" and v.verdict == "worse"
    # a looser tolerance passes the same shift
    (loose,) = acc.result("v1", CompareOptions(tolerance=(("latency_ms", 0.5), ("latency_ms.p50", 0.5),
                                                          ("latency_ms.p95", 0.5))))
    assert {x.metric: x.verdict for x in loose.metrics}["latency_ms"] == "same"


def test_two_halves_merged_equal_the_whole(rng: np.random.Generator) -> None:
    t = _data(rng, 3000, err=0.05)
    whole = CompareAccumulator()
    whole.update(t)
    a, b = CompareAccumulator(), CompareAccumulator()
    a.update(t.slice(0, 1300))
    b.update(t.slice(1300))
    a.merge(b)
    assert a.result("v1") == whole.result("v1")


def test_thin_versions_are_not_enough_data(rng: np.random.Generator) -> None:
    acc = CompareAccumulator()
    acc.update(_data(rng, 40))
    (v,) = acc.result("v1", CompareOptions(min_records=30))
    assert {m.verdict for m in v.metrics} == {"not_enough_data"} and v.verdict == "not_enough_data"


def test_classes_past_the_exact_cap_stay_bounded_and_are_compared_on_the_heavy_ones(
    rng: np.random.Generator,
) -> None:
    """Each version with 15,000 distinct rare classes (past the 10,000 exact cap) and three heavy
    ones: the counts move to sketches, the totals stay exact, and a heavy class whose share
    doubles is a classes difference, with the chi-square of the heavy classes plus the rest."""
    from mlmon.stats.classes import EXACT_CLASSES

    def version(name: str, heavy: dict[str, int], rare: int) -> pa.Table:
        cls = [c for c, k in heavy.items() for _ in range(k)] + [f"{name}-{i}" for i in range(rare)]
        n = len(cls)
        return _table([name] * n, rng.lognormal(3, 0.5, n), np.ones(n, bool), cls, rng.beta(5, 2, n))

    rare = EXACT_CLASSES + 5000
    control = version("v1", {"a": 20_000, "b": 10_000, "c": 5000}, rare)
    canary = version("v2", {"a": 20_000, "b": 10_000, "c": 10_000}, rare)
    acc = CompareAccumulator()
    for t in (control, canary):
        for part in (t.slice(0, 20_000), t.slice(20_000)):
            acc.update(part)
    assert all(v.classes.exact is None for v in acc.versions.values())
    (v,) = acc.result("v1")
    m = {x.metric: x for x in v.metrics}["classes"]
    assert (m.n_control, m.n_treatment) == (len(control), len(canary))
    # the same test by hand: the heavy classes as counted, everything else one column
    table = np.array([[20_000, 10_000, 5000, rare], [20_000, 10_000, 10_000, rare]])
    ref = stats.chi2_contingency(table, correction=False)
    assert m.statistic == pytest.approx(ref.statistic, rel=0.02)
    assert m.p_value is not None and m.p_value < 1e-6 and m.verdict == "worse"


def test_percentile_p_value_inverts_the_order_statistic_intervals(rng: np.random.Generator) -> None:
    """The percentile's p-value is the level at which the Bonferroni difference interval (each
    side's scipy-binomial order-statistic interval at 1 - a / 2) starts to exclude 0: just above
    it the interval excludes 0, just below it does not; at 0.05 it is the reported interval."""
    from mlmon.stats.compare import quantile_difference_p

    for shift in (1.0, 1.08, 1.2):
        for q in (0.5, 0.95, 0.99):
            c, t = rng.lognormal(3, 0.5, 3000), rng.lognormal(3, 0.5, 2000) * shift
            p = quantile_difference_p(c, t, q)

            def excludes(a: float, c: np.ndarray = c, t: np.ndarray = t, q: float = q) -> bool:
                lc, uc = quantile_interval(c, q, 1 - a / 2)
                lt, ut = quantile_interval(t, q, 1 - a / 2)
                return bool(lt > uc or ut < lc)

            assert 0 < p <= 1
            if p < 1:
                assert excludes(min(1.0, p * 1.01)) and (p <= 1e-12 or not excludes(p * 0.99))
            else:
                assert not excludes(1.0)
            assert (p < 0.05) == excludes(0.05)


def test_percentile_p_values_are_valid_and_join_the_adjustment(rng: np.random.Generator) -> None:
    """On identical versions a percentile's p-value is at most alpha in at most about alpha of
    comparisons (it is a valid test), and it is in the Benjamini-Hochberg family: its adjusted
    p-value is what scipy's BH gives on the version's p-values."""
    from mlmon.stats.compare import quantile_difference_p

    runs = 400
    low = sum(quantile_difference_p(rng.exponential(1, 500), rng.exponential(1, 500), 0.9) < 0.05
              for _ in range(runs))
    assert low / runs <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / runs)
    acc = CompareAccumulator()
    acc.update(_data(rng, 4000, shift=1.15))
    (v,) = acc.result("v1")
    tested = [m for m in v.metrics if m.p_value is not None]
    assert {"latency_ms.p50", "latency_ms.p95", "latency_ms.p99"} <= {m.metric for m in tested}
    ref = stats.false_discovery_control([m.p_value for m in tested], method="bh")
    assert [m.p_value_adjusted for m in tested] == pytest.approx(np.minimum(1.0, ref))
    p50 = {m.metric: m for m in v.metrics}["latency_ms.p50"]
    assert p50.p_value_adjusted is not None and p50.p_value_adjusted < 0.05 and p50.verdict == "worse"


def _interval_by_hand(x: np.ndarray, q: float) -> tuple[float, float]:
    """The order statistics at the binomial ranks of a 97.5% interval for the q-quantile."""
    from scipy.stats import binom

    n, s = len(x), np.sort(x)
    lo = max(int(binom.ppf(0.0125, n, q)), 1)
    hi = min(int(binom.ppf(0.9875, n, q)) + 1, n)
    return float(s[lo - 1]), float(s[hi - 1])


def test_every_field_of_the_latency_rows_by_hand(rng: np.random.Generator) -> None:
    from mlmon.stats.compare import _latency

    c = np.round(rng.lognormal(3.0, 0.4, 1200), 2)
    t = np.round(rng.lognormal(3.1, 0.4, 1000), 2)
    o = CompareOptions()
    rows = {r.metric: r for r in _latency(c, t, o)}
    assert list(rows) == ["latency_ms", "latency_ms.p50", "latency_ms.p95", "latency_ms.p99"]
    mw = rows["latency_ms"]
    ref = stats.mannwhitneyu(t, c, alternative="two-sided", method="asymptotic")
    mc, mt = float(np.median(c)), float(np.median(t))
    (lc, uc), (lt, ut) = _interval_by_hand(c, 0.5), _interval_by_hand(t, 0.5)
    assert (mw.test, mw.n_control, mw.n_treatment) == ("mann_whitney_u", 1200, 1000)
    assert (mw.control, mw.treatment, mw.difference) == (mc, mt, mt - mc)
    assert mw.statistic == ref.statistic and mw.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert mw.effect == pytest.approx((mt - mc) / mc) and mw.effect_measure == "relative_shift_of_median"
    assert mw.effect_interval == pytest.approx(((lt - uc) / mc, (ut - lc) / mc))
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        r = rows[f"latency_ms.{name}"]
        vc, vt = float(np.percentile(c, q * 100)), float(np.percentile(t, q * 100))
        (lc, uc), (lt, ut) = _interval_by_hand(c, q), _interval_by_hand(t, q)
        assert (r.test, r.n_control, r.n_treatment) == ("order_statistics", 1200, 1000), name
        assert (r.control, r.treatment, r.difference) == (vc, vt, vt - vc), name
        assert r.interval == (lt - uc, ut - lc), name
        assert r.effect == pytest.approx((vt - vc) / vc) and r.effect_measure == "relative_shift", name
        assert r.effect_interval == pytest.approx(((lt - uc) / vc, (ut - lc) / vc)), name
        assert r.p_value is not None and 0 <= r.p_value <= 1


def test_latency_rows_at_min_records_and_the_tail_limit(rng: np.random.Generator) -> None:
    from mlmon.stats.compare import _latency

    o = CompareOptions(min_records=30)
    # 30 values a side: tested; the p95 needs 30 x 0.05 = 1.5 values in its tail (fewer than 10)
    rows = {r.metric: r for r in _latency(rng.normal(50, 5, 30), rng.normal(50, 5, 30), o)}
    assert rows["latency_ms"].p_value is not None and rows["latency_ms.p50"].p_value is not None
    assert rows["latency_ms.p95"].p_value is None and rows["latency_ms.p95"].test == "order_statistics"
    # 29: nothing tested, every row says so with its counts
    rows = {r.metric: r for r in _latency(rng.normal(50, 5, 29), rng.normal(50, 5, 300), o)}
    for r in rows.values():
        assert (r.p_value, r.n_control, r.n_treatment, r.verdict) == (None, 29, 300, "not_enough_data")
    assert rows["latency_ms"].test == "mann_whitney_u"
    # the p99 needs 1,000 values a side (10 in its 1% tail); 200 values have 10 in the p95's
    rows = {r.metric: r for r in _latency(rng.normal(50, 5, 1000), rng.normal(50, 5, 200), o)}
    assert rows["latency_ms.p95"].p_value is not None and rows["latency_ms.p99"].p_value is None
    rows = {r.metric: r for r in _latency(rng.normal(50, 5, 1000), rng.normal(50, 5, 1000), o)}
    assert rows["latency_ms.p99"].p_value is not None
    # eight values or fewer on both sides: scipy's exact test
    small = CompareOptions(min_records=5)
    a, b = np.array([1.0, 2, 3, 4, 5, 6, 7, 8]), np.array([3.5, 4.5, 9, 10, 11, 12, 13, 14])
    (mw, *_) = _latency(a, b, small)
    exact = stats.mannwhitneyu(b, a, alternative="two-sided", method="exact")
    assert mw.p_value == pytest.approx(exact.pvalue)


def test_a_control_median_of_zero_has_no_relative_effect() -> None:
    from mlmon.stats.compare import _latency

    c = np.zeros(100)
    t = np.concatenate([np.zeros(50), np.ones(50)])
    rows = {r.metric: r for r in _latency(c, t, CompareOptions())}
    assert rows["latency_ms"].effect is None and rows["latency_ms"].effect_interval is None
    assert rows["latency_ms.p50"].effect is None and rows["latency_ms.p50"].effect_interval is None
    assert rows["latency_ms.p50"].difference == 0.5
