"""Drift's parts called directly, each checked against scipy/numpy or a derivation by hand: the
count and smooth tests, the exact 2 x 2 tail, the KS D and mean rank on counts, the tail table,
the mean deviation, the verdict rules at their limits and the BH adjustment."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate, stats

from mlmon.stats import drift as dm
from mlmon.stats.baseline import NumericProfile
from mlmon.stats.drift import DriftOptions, FeatureDrift


def profile(values: list[float] | np.ndarray, *, exact: bool = True) -> NumericProfile:
    """A baseline profile of these values by hand: every distinct value an edge."""
    v = np.sort(np.asarray(values, dtype=float))
    edges, counts = np.unique(v, return_counts=True)
    cdf = np.cumsum(counts) / len(v)
    return NumericProfile(len(v), float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                          float(v[0]), float(v[-1]), edges.tolist(), cdf.tolist(), exact)


def slots(p: NumericProfile, log: list[float] | np.ndarray) -> np.ndarray:
    """The log's counts in drift's slots by hand: 2j strictly between edge j-1 and j, 2j+1 at
    edge j, the last above every edge."""
    e = list(p.edges)
    out = np.zeros(2 * len(e) + 1, dtype=np.int64)
    for x in log:
        for j, edge in enumerate(e):
            if x == edge:
                out[2 * j + 1] += 1
                break
            if x < edge:
                out[2 * j] += 1
                break
        else:
            out[-1] += 1
    return out


def numeric_state(p: NumericProfile, log: list[float] | np.ndarray) -> dm._Numeric:
    st = dm._Numeric(p, np.zeros(2 * len(p.edges) + 1, dtype=np.int64))
    st.update(np.asarray(log, dtype=float))
    st.count_pending()
    return st


def row(**kw: object) -> FeatureDrift:
    base: dict[str, object] = {**dm._NONE, "name": "x", "kind": "numeric", "n": 100, "baseline_n": 100,
                               "status": "ok", "test": "ks", "effect_measure": "ks_d", "mean": None,
                               "baseline_mean": None, "mean_deviation": None, "mean_deviation_kind": None}
    base.update(kw)
    return FeatureDrift(**base)  # type: ignore[arg-type]


# ------------------------------------------------------------------ which test a number gets


@pytest.mark.parametrize(("k", "n", "is_exact", "want"), [
    (1, 1, True, True), (20, 20, True, True), (21, 105, True, True), (21, 104, True, False),
    (50, 250, True, True), (50, 249, True, False), (51, 10_000, True, False),
    (20, 20, False, False), (0, 0, True, False),
])
def test_few_valued_at_its_limits(k: int, n: int, is_exact: bool, want: bool) -> None:
    p = NumericProfile(n, 0.0, 1.0, 0.0, 1.0, list(range(k)), [(i + 1) / max(k, 1) for i in range(k)],
                       is_exact)
    assert dm.few_valued(p) is want


# ------------------------------------------------------------------ the smooth test


def _min_p_by_hand(k1: int, k2: int, p: float) -> float:
    """P(T1 >= a or T1 + U >= b), T1 ~ chi2(k1), U ~ chi2(k2 - k1) independent, a and b the
    chi-square quantiles at p: integrate over T1."""
    a, b = stats.chi2.isf(p, k1), stats.chi2.isf(p, k2)
    inner = integrate.quad(lambda t: stats.chi2.pdf(t, k1) * stats.chi2.sf(b - t, k2 - k1), 0, min(a, b),
                           limit=200, epsabs=1e-14)[0]
    return float(stats.chi2.sf(a, k1) + inner)


@pytest.mark.parametrize("p", [1e-6, 0.003, 0.05, 0.3, 0.8])
@pytest.mark.parametrize("orders", [(3, 6), (1, 2), (2, 7)])
def test_smooth_min_p_by_integration(orders: tuple[int, int], p: float) -> None:
    got = dm.smooth_min_p(orders, p)
    assert got == pytest.approx(min(1.0, _min_p_by_hand(*orders, p)), rel=1e-6)
    assert p <= got <= min(1.0, 2 * p)


def test_smooth_min_p_of_one_order_or_an_edge_is_p() -> None:
    assert dm.smooth_min_p((3,), 0.01) == 0.01
    assert dm.smooth_min_p((3, 6), 0.0) == 0.0
    assert dm.smooth_min_p((3, 6), 1.0) == 1.0


def test_legendre_nodes_are_numpys() -> None:
    dm._GAUSS.clear()  # made on first use, then kept
    nodes, weights = dm._legendre()
    assert len(dm._GAUSS) == 1
    ref = np.polynomial.legendre.leggauss(64)
    assert np.array_equal(nodes, ref[0]) and np.array_equal(weights, ref[1])
    assert dm._legendre()[0] is nodes


def _smooth_by_hand(values: np.ndarray, base: np.ndarray, log: np.ndarray, k: int) -> tuple[float, float]:
    """N R^2 of the sample label regressed on the values' powers 1..k (an intercept too)."""
    x = np.repeat(values, (base + log).astype(int))
    y = np.concatenate([np.r_[np.zeros(int(b)), np.ones(int(l_))] for b, l_ in zip(base, log, strict=True)])
    design = np.vander((x - x.mean()) / x.std(), k + 1, increasing=True)
    fit = np.linalg.lstsq(design, y, rcond=None)[0]
    resid = y - design @ fit
    r2 = 1 - resid @ resid / np.sum((y - y.mean()) ** 2)
    stat = len(y) * r2
    return float(stat), float(stats.chi2.sf(stat, k))


def test_smooth_test_single_order_is_n_r_squared() -> None:
    values = np.arange(24.0)
    base = np.array([10, 12, 15, 20, 25, 30, 35, 40, 42, 44, 45, 46, 46, 45, 44, 42, 40, 35, 30, 25, 20, 15,
                     12, 10], float)
    log = np.roll(base, 2)
    for k in (1, 3):
        stat, p, df = dm.smooth_test(values, base, log, (k,))
        want_stat, want_p = _smooth_by_hand(values, base, log, k)
        assert df == k
        assert stat == pytest.approx(want_stat, rel=1e-9)
        assert p == pytest.approx(want_p, rel=1e-9)


def test_smooth_test_of_two_orders_takes_the_smaller_p() -> None:
    values = np.arange(10.0)
    base = np.array([30, 30, 30, 30, 30, 30, 30, 30, 30, 30], float)
    log = np.array([5, 40, 5, 40, 5, 40, 5, 40, 5, 40], float)  # no trend: high orders see it
    found = {k: _smooth_by_hand(values, base, log, k) for k in (2, 6)}
    stat, p, df = dm.smooth_test(values, base, log, (2, 6))
    k = min(found, key=lambda j: found[j][1])
    assert df == k and stat == pytest.approx(found[k][0], rel=1e-9)
    assert p == pytest.approx(dm.smooth_min_p((2, 6), found[k][1]), rel=1e-9)


def test_smooth_test_order_is_cut_to_the_values_seen() -> None:
    # three distinct values carry two components at most; zero counts are not values
    values = np.array([1.0, 2.0, 3.0, 4.0])
    base, log = np.array([40.0, 30.0, 0.0, 30.0]), np.array([10.0, 20.0, 0.0, 40.0])
    stat, p, df = dm.smooth_test(values, base, log, (6,))
    want_stat, want_p = _smooth_by_hand(values[[0, 1, 3]], base[[0, 1, 3]], log[[0, 1, 3]], 2)
    assert df == 2 and stat == pytest.approx(want_stat, rel=1e-9) and p == pytest.approx(want_p, rel=1e-9)


@pytest.mark.parametrize(("base", "log"), [
    ([0.0, 50.0, 0.0], [0.0, 40.0, 0.0]),  # one value seen: nothing to test
    ([0.0, 0.0, 0.0], [10.0, 20.0, 30.0]),  # an empty side
    ([10.0, 20.0, 30.0], [0.0, 0.0, 0.0]),
])
def test_smooth_test_with_nothing_to_test(base: list[float], log: list[float]) -> None:
    assert dm.smooth_test(np.array([1.0, 2.0, 3.0]), np.array(base), np.array(log)) == (0.0, 1.0, 0)


def test_smooth_test_drops_a_degree_the_values_cannot_carry() -> None:
    # two values carry one component, whatever order is asked
    values, base, log = np.array([0.0, 1.0]), np.array([60.0, 40.0]), np.array([30.0, 70.0])
    stat, p, df = dm.smooth_test(values, base, log, (1, 3))
    tbl = np.array([base, log])
    ref = stats.chi2_contingency(tbl, correction=False)
    assert df == 1 and stat == pytest.approx(ref.statistic, rel=1e-9)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)


# ------------------------------------------------------------------ chi-square p-values


def _exact_2x2(table: np.ndarray) -> float:
    """Every table with the margins, by hypergeometric pmf: the chance of a chi-square at least
    the observed one."""
    t = np.asarray(table, dtype=float)
    total, first, n_log = int(t.sum()), int(t[:, 0].sum()), int(t[1].sum())
    obs = stats.chi2_contingency(t, correction=False).statistic
    p = 0.0
    for x in range(max(0, n_log + first - total), min(first, n_log) + 1):
        tab = np.array([[first - x, total - n_log - first + x], [x, n_log - x]], float)
        s = 0.0 if (tab.sum(axis=0) == 0).any() else stats.chi2_contingency(tab, correction=False).statistic
        if s >= obs * (1 - 1e-9):
            p += stats.hypergeom.pmf(x, total, first, n_log)
    return p


@pytest.mark.parametrize("table", [
    [[95, 5], [40, 10]], [[5, 95], [10, 40]], [[97, 3], [50, 0]], [[48, 2], [45, 5]],
    [[50, 50], [50, 50]], [[30, 3], [31, 3]], [[999, 1], [90, 10]], [[8, 4], [2, 6]],
    [[400, 9], [391, 0]], [[0, 40], [9, 31]],
])
def test_two_columns_get_the_exact_conditional_p(table: list[list[int]]) -> None:
    t = np.array(table, dtype=float)
    stat, p, method = dm.chi_square_test(t)
    ref = stats.chi2_contingency(t, correction=False)
    assert stat == pytest.approx(ref.statistic, rel=1e-12, abs=1e-12)
    if ref.expected_freq.min() >= 10 and ref.pvalue >= 0.001:
        assert method == "asymptotic" and p == pytest.approx(ref.pvalue, rel=1e-12)
    else:
        assert method == "exact" and p == pytest.approx(_exact_2x2(t), rel=1e-9)


def test_two_column_tail_directly_on_both_sides() -> None:
    for table in ([[60, 40], [20, 30]], [[60, 40], [40, 10]], [[20, 20], [20, 20]], [[10, 0], [0, 10]]):
        t = np.array(table, dtype=float)
        ref = stats.chi2_contingency(t, correction=False)
        assert dm._two_column_tail(t, ref.expected_freq, float(ref.statistic)) == pytest.approx(
            min(1.0, _exact_2x2(t)), rel=1e-9)


def test_asymptotic_p_is_kept_at_expected_ten() -> None:
    # expected counts exactly 10 in the smallest cell, p well above 0.001
    t = np.array([[10.0, 40.0], [10.0, 40.0]])
    stat, p, method = dm.chi_square_test(t)
    assert method == "asymptotic" and stat == 0.0 and p == pytest.approx(1.0)
    t = np.array([[10.0, 40.0], [9.0, 41.0]])  # the smallest expected 9.5
    assert dm.chi_square_test(t)[2] == "exact"


def test_one_column_is_nothing_to_test() -> None:
    assert dm.chi_square_test(np.array([[50.0], [40.0]])) == (0.0, 1.0, "asymptotic")


def _exact_2xk(table: np.ndarray) -> float:
    """The conditional p-value of Pearson's chi-square on a small 2 x k table: every log row
    with the column totals, by multivariate hypergeometric pmf."""
    t = np.asarray(table, dtype=int)
    cols, n_log = t.sum(axis=0), int(t[1].sum())
    obs = stats.chi2_contingency(t, correction=False).statistic
    p = 0.0
    for x in itertools.product(*(range(c + 1) for c in cols)):
        if sum(x) != n_log:
            continue
        tab = np.array([cols - np.array(x), x])
        s = stats.chi2_contingency(tab, correction=False).statistic
        if s >= obs * (1 - 1e-9):
            p += stats.multivariate_hypergeom.pmf(x, cols, n_log)
    return float(p)


@pytest.mark.parametrize("table", [[[20, 6, 4], [10, 2, 8]], [[12, 9, 9], [3, 3, 6]],
                                   [[15, 8, 7], [15, 7, 8]]])
def test_monte_carlo_p_is_near_the_exact_one(table: list[list[int]]) -> None:
    t = np.array(table, dtype=float)
    stat, p, method = dm.chi_square_test(t)
    exact_p = _exact_2xk(t)
    assert method == "monte_carlo"
    assert stat == pytest.approx(stats.chi2_contingency(t, correction=False).statistic)
    # the first batch (1,000 tables) decides above 0.02: within 4.5 standard errors
    exact_p = min(1.0, exact_p)
    draws = 1000 if exact_p >= 0.03 else 20_000
    assert abs(p - exact_p) <= 4.5 * math.sqrt(max(0.0, exact_p * (1 - exact_p)) / draws) + 1 / draws
    assert p >= 1 / (draws + 1) * 0.999


def test_monte_carlo_p_of_a_table_beyond_every_draw_is_one_over_the_draws() -> None:
    t = np.array([[300.0, 300.0, 0.0], [0.0, 0.0, 40.0]])
    stat, p, method = dm.chi_square_test(t)
    assert method == "monte_carlo" and p == 1 / (sum(dm.MONTE_CARLO_DRAWS) + 1)
    assert stat == pytest.approx(stats.chi2_contingency(t, correction=False).statistic)


def test_monte_carlo_stops_when_the_other_p_decides() -> None:
    t = np.array([[300.0, 300.0, 0.0], [0.0, 0.0, 40.0]])
    last = 1 / (sum(dm.MONTE_CARLO_DRAWS) + 1)
    first = 1 / (dm.MONTE_CARLO_DRAWS[0] + 1)
    # the other p-value is below anything all the draws could show: they stop after the first
    # batch (the smaller of the two is the other one either way)
    assert dm.chi_square_test(t, enough=last * 0.9) == pytest.approx(
        (stats.chi2_contingency(t, correction=False).statistic, first, "monte_carlo"))
    assert dm.chi_square_test(t, enough=last)[1] == first  # at the limit too
    # above what the draws can show: every batch is drawn
    assert dm.chi_square_test(t, enough=last * 1.1)[1] == last
    assert dm.chi_square_test(t, enough=1e-3)[1] == last
    assert dm.chi_square_test(t, enough=0.0)[1] == last  # 0: nothing else decides
    asked: list[int] = []

    def other() -> float:
        asked.append(1)
        return last * 0.5

    assert dm.chi_square_test(t, enough=other)[1] == first and asked == [1]
    asked.clear()

    def larger() -> float:
        asked.append(1)
        return 0.5

    assert dm.chi_square_test(t, enough=larger)[1] == last and asked == [1]  # asked once


def test_monte_carlo_batches_stop_at_their_cuts() -> None:
    # a p-value near 0.01: under the first cut (0.02), not under the second (0.001)
    t = np.array([[30.0, 30.0, 30.0, 10.0], [18.0, 6.0, 9.0, 7.0]])
    stat, p, method = dm.chi_square_test(t)
    assert method == "monte_carlo"
    drawn = sum(dm.MONTE_CARLO_DRAWS[:2]) if p < dm.MONTE_CARLO_MORE[0] else dm.MONTE_CARLO_DRAWS[0]
    hits = p * (drawn + 1) - 1
    assert hits == pytest.approx(round(hits), abs=1e-6)


# ------------------------------------------------------------------ the count test's table


def test_chi_square_table_unseen_column_and_pooling_by_hand() -> None:
    base = {"a": 500, "b": 300, "c": 190, "d": 6, "e": 4, "gone": 0}
    log = {"a": 50, "b": 30, "c": 10, "d": 1, "new": 9}
    tbl, names = dm.chi_square_table(base, log)
    # rows 1000 and 100: expected min = 100 * total / 1100; d (7) and e (4) are rare and pool
    # and the pool (expecting 1) then absorbs c
    assert names == ["a", "b", "(other)", "(unseen)"]
    assert tbl.tolist() == [[500, 300, 200, 0], [50, 30, 11, 9]]


def test_chi_square_table_pool_grows_until_it_expects_five() -> None:
    base = {"a": 500, "b": 400, "c": 40, "d": 30, "e": 20, "f": 10}
    log = {"a": 50, "b": 40, "c": 4, "d": 3, "e": 2, "f": 1}
    tbl, names = dm.chi_square_table(base, log)
    # expected (row 100 of 1100): c 4, d 3, e 2, f 1: all rare; pooled 10 >= 5
    assert names == ["a", "b", "(other)"]
    assert tbl.tolist() == [[500, 400, 100], [50, 40, 10]]
    base = {"a": 900, "b": 60, "c": 20, "d": 20}
    log = {"a": 90, "b": 6, "c": 2, "d": 2}
    tbl, names = dm.chi_square_table(base, log)
    # c, d pooled expect 44 * 100 / 1100 = 4 < 5: b (expecting 6) joins the pool
    assert names == ["a", "(other)"]
    assert tbl.tolist() == [[900, 100], [90, 10]]


def test_chi_square_table_keeps_the_largest_column_when_all_are_rare() -> None:
    base = {"a": 3, "b": 2}
    log = {"a": 2, "b": 1}
    tbl, names = dm.chi_square_table(base, log)
    assert names == ["a", "b"] and tbl.tolist() == [[3, 2], [2, 1]]


def test_chi_square_table_union_pools_the_bulk_unseen_values() -> None:
    base = {"a": 600, "b": 400}
    log = {"a": 60, "b": 35, "new": 20, "(other unseen)": 5}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset(["(other unseen)"]))
    # expected min(1000, 120) * col / 1120: new 2.1 is rare; the bulk unseen always pool
    assert names == ["a", "b", "(other)"]
    assert tbl.tolist() == [[600, 400, 0], [60, 35, 25]]
    tbl, names = dm.chi_square_table(base, {"a": 60, "b": 35, "(other unseen)": 5},
                                     pool_unseen=frozenset(["(other unseen)"]))
    assert names == ["a", "b", "(other)"] and tbl.tolist() == [[600, 400, 0], [60, 35, 5]]


def test_chi_square_table_union_without_pooling() -> None:
    base = {"a": 600, "b": 400, "c": 0}
    log = {"a": 60, "b": 40, "x": 60}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset())
    assert names == ["a", "b", "x"] and tbl.tolist() == [[600, 400, 0], [60, 40, 60]]


def test_chi_square_table_union_pool_absorbs_no_larger_column() -> None:
    base = {"a": 900, "b": 60, "c": 2, "d": 1}
    log = {"a": 90, "b": 6, "c": 1, "e": 1}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset())
    # c, d, e rare (expected under 5); b expects 6.2 and stays apart though the pool is small
    assert names == ["a", "b", "(other)"] and tbl.tolist() == [[900, 60, 3], [90, 6, 2]]


# ------------------------------------------------------------------ the count test's fields


def test_count_test_fields_by_hand() -> None:
    base = {"a": 500, "b": 300, "c": 200}
    log = {"a": 40, "b": 40, "c": 20}
    got = dm._count_test(base, log, 100, (), DriftOptions())
    t = np.array([[500, 300, 200], [40, 40, 20]], float)
    ref = stats.chi2_contingency(t, correction=False)
    tv = 0.5 * (abs(0.5 - 0.4) + abs(0.3 - 0.4) + abs(0.2 - 0.2))
    margin = sum(math.sqrt((math.log(2**3 - 2) + math.log(80)) / (2 * n)) for n in (100, 1000))
    e, a = (t[0] + 0.5) / (t[0] + 0.5).sum(), (t[1] + 0.5) / (t[1] + 0.5).sum()
    assert got["statistic"] == pytest.approx(ref.statistic) and got["p_value"] == pytest.approx(ref.pvalue)
    assert got["p_method"] == "asymptotic" and got["status"] == "ok"
    assert got["effect_size"] == pytest.approx(tv)
    assert got["effect_low"] == pytest.approx(max(0.0, tv - margin))
    assert got["effect_high"] == pytest.approx(min(1.0, tv + margin))
    assert got["psi"] == pytest.approx(np.sum((a - e) * np.log(a / e)))
    assert got["unseen_categories"] == () and got["unseen_share"] == 0.0 and got["unseen_distinct"] == 0
    assert got["unseen_other_share"] == 0.0 and got["unseen_p_value"] is None
    assert got["unseen_expected"] == 0.0 and got["unseen_expected_se"] == 0.0


def test_count_test_with_unseen_values_by_hand() -> None:
    base = {"a": 500, "b": 300, "c": 199, "s": 1}
    unseen = tuple((f"n{i}", 3) for i in range(12))
    log = {"a": 20, "b": 20, "c": 24, **dict(unseen)}
    got = dm._count_test(base, log, 100, unseen, DriftOptions())
    # Good-Turing: one singleton in 1000 values
    share, se = 1 / 1000, math.sqrt(1 * (1 - 1 / 1000)) / 1000
    k = min(1000, share * (1 - share) / se**2)
    p_new = stats.betabinom.sf(35, 100, share * k + 0.5, (1 - share) * k + 0.5)
    assert got["unseen_p_value"] == pytest.approx(p_new, rel=1e-9)
    assert got["unseen_expected"] == pytest.approx(share) and got["unseen_expected_se"] == pytest.approx(se)
    assert got["unseen_share"] == pytest.approx(0.36) and got["unseen_distinct"] == 12
    # the top ten by name, the other two counted
    assert got["unseen_categories"] == tuple((f"n{i}", 0.03) for i in range(10))
    assert got["unseen_other_share"] == pytest.approx(0.06)
    table, _ = dm.chi_square_table(base, log, pool_unseen=frozenset())
    p_union = dm.chi_square_test(table)[1]
    assert got["p_value"] == pytest.approx(min(1.0, 2 * min(p_union, p_new)), rel=1e-9)


def test_count_test_p_is_capped_at_one() -> None:
    # a long tail: 100 singletons in training, one unseen value in the log (10 expected)
    base = {"a": 500, "b": 400, **{f"s{i}": 1 for i in range(100)}}
    log = {"a": 50, "b": 40, **{f"s{i}": 1 for i in range(9)}, "z": 1}
    got = dm._count_test(base, log, 100, (("z", 1),), DriftOptions())
    assert got["unseen_p_value"] > 0.5
    assert got["p_value"] == 1.0


# ------------------------------------------------------------------ mean deviation


@pytest.mark.parametrize(("deviation", "se", "tol"), [(0.5, 0.1, 0.2), (0.1, 0.05, 0.2), (0.2, 0.1, 0.2)])
def test_mean_p_value_is_the_normal_tail_beyond_the_tolerance(
    deviation: float, se: float, tol: float
) -> None:
    assert dm.mean_p_value(deviation, se, tol, "relative") == pytest.approx(
        stats.norm.sf((deviation - tol) / se), rel=1e-12)
    assert dm.mean_p_value(deviation, se, tol, "std") == pytest.approx(
        stats.norm.sf((deviation - tol) / se), rel=1e-12)
    assert dm.mean_p_value(deviation, se, tol, "absolute") == pytest.approx(stats.norm.sf(deviation / se),
                                                                            rel=1e-12)


def _mean_by_hand(train: np.ndarray, log: np.ndarray, tol: float) -> tuple[float, str, float, float]:
    bm, bs = train.mean(), train.std(ddof=1)
    lm, ls = log.mean(), log.std(ddof=1)
    denom = max(abs(bm), bs)
    kind = "absolute" if denom == 0 else "relative" if abs(bm) >= bs else "std"
    se = math.sqrt(max(ls, bs) ** 2 / len(log) + bs**2 / len(train))
    if denom == 0:
        return abs(lm - bm), kind, se, float(stats.norm.sf(abs(lm - bm) / se))
    return abs(lm - bm) / denom, kind, se / denom, float(stats.norm.sf((abs(lm - bm) - tol * denom) / se))


@pytest.mark.parametrize(("train_loc", "train_sd", "log_loc", "log_sd"), [
    (10.0, 1.0, 11.5, 1.0),  # relative: |mean| above the std
    (0.1, 1.0, 0.4, 2.0),  # std: the std above |mean|, the log's larger variance taken
    (-5.0, 2.0, -4.0, 0.5),  # the baseline's variance taken
    (3.0, 3.0, 3.9, 3.0),  # |mean| equal to the std: relative
])
def test_mean_fields_by_hand(rng: np.random.Generator, train_loc: float, train_sd: float, log_loc: float,
                             log_sd: float) -> None:
    train = rng.normal(train_loc, train_sd, 400)
    if train_loc == train_sd:
        train = (train - train.mean()) / train.std(ddof=1) * train_sd + train_loc  # exactly equal
    log = rng.normal(log_loc, log_sd, 150)
    p = profile(train)
    got = dm._mean_fields(p, numeric_state(p, log), 0.2)
    dev, kind, se, pv = _mean_by_hand(train, log, 0.2)
    assert got["mean_deviation_kind"] == kind
    assert got["mean_deviation"] == pytest.approx(dev, rel=1e-9)
    assert got["mean_se"] == pytest.approx(se, rel=1e-9)
    assert got["mean_p_value"] == pytest.approx(pv, rel=1e-9)


def test_mean_fields_of_a_constant_zero_baseline_are_absolute() -> None:
    p = profile([0.0] * 50)
    log = np.array([0.0] * 30 + [1.0] * 10)
    got = dm._mean_fields(p, numeric_state(p, log), 0.2)
    se = log.std(ddof=1) / math.sqrt(40)
    assert got["mean_deviation_kind"] == "absolute"
    assert got["mean_deviation"] == pytest.approx(0.25) and got["mean_se"] == pytest.approx(se)
    assert got["mean_p_value"] == pytest.approx(stats.norm.sf(0.25 / se))  # against 0, not the tolerance


def test_mean_fields_of_huge_values_on_a_scaled_axis() -> None:
    unit = np.array([1.0, 2.0, 3.0, 4.0] * 10)
    train, log = unit * 1e307, (unit + 4) * 1e307
    p = replace(profile(unit), mean=2.5e307, std=float(unit.std(ddof=1)) * 1e307,
                edges=[1e307, 2e307, 3e307, 4e307])
    got = dm._mean_fields(p, numeric_state(p, log), 0.2)
    # by hand on values divided by 1e307
    dev, kind, se, pv = _mean_by_hand(train / 1e307, log / 1e307, 0.2)
    assert got["mean_deviation_kind"] == kind == "relative"
    assert got["mean_deviation"] == pytest.approx(dev, rel=1e-9)
    assert got["mean_se"] == pytest.approx(se, rel=1e-9)
    assert got["mean_p_value"] == pytest.approx(pv, rel=1e-9, abs=1e-300)


# ------------------------------------------------------------------ KS D, ranks, tails on counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ks_from_counts_on_exact_edges_is_scipys_d(seed: int) -> None:
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 30, 200).astype(float) / 2
    log = rng.integers(-3, 34, 120).astype(float) / 2 + 0.25 * rng.integers(0, 2, 120)
    p = profile(train)
    d = dm.ks_from_counts(p, slots(p, log), len(log))
    assert d == pytest.approx(stats.ks_2samp(train, log).statistic, abs=1e-12)


def test_ks_from_counts_just_below_an_edge() -> None:
    # the largest gap is just below edge 3: the log's values sit between 2 and 3
    train = [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0]
    log = [2.5] * 8 + [5.0] * 2
    p = profile(train)
    d = dm.ks_from_counts(p, slots(p, log), len(log))
    assert d == pytest.approx(stats.ks_2samp(train, log).statistic, abs=1e-12)
    # on a grid only the edges count
    grid = replace(p, exact=False)
    at_edges = max(abs(np.searchsorted(np.sort(log), e, side="right") / 10 - c)
                   for e, c in zip(p.edges, p.cdf, strict=True))
    assert dm.ks_from_counts(grid, slots(p, log), len(log)) == pytest.approx(at_edges, abs=1e-12)


def test_ks_from_counts_without_edges() -> None:
    p = NumericProfile(0, 0.0, 0.0, 0.0, 0.0, [], [], True)
    assert dm.ks_from_counts(p, np.array([5]), 5) == 0.0


def test_mean_rank_is_mann_whitney_u_over_nm() -> None:
    rng = np.random.default_rng(7)
    train = rng.integers(0, 12, 150).astype(float)
    log = rng.integers(-1, 14, 90).astype(float) + 0.5 * rng.integers(0, 2, 90)
    p = profile(train)
    u = stats.mannwhitneyu(log, train).statistic
    assert dm.mean_rank(p, slots(p, log), len(log)) == pytest.approx(u / (150 * 90), rel=1e-12)
    assert dm.mean_rank(p, np.zeros(2 * len(p.edges) + 1), 0) is None


def test_mean_rank_on_a_grid_takes_the_middle_of_a_bin() -> None:
    p = NumericProfile(100, 0.0, 1.0, 0.0, 3.0, [0.0, 1.0, 2.0, 3.0], [0.1, 0.4, 0.8, 1.0], False)
    # one value between edges 1 and 2 (mass 0.4 .. 0.8 below 2 on the grid), one at edge 2,
    # one below every edge, one above
    counts = np.array([1, 0, 0, 0, 1, 1, 0, 0, 1])
    want = (0.05 + (0.4 + 0.8) / 2 + 0.8 + 1.0) / 4
    assert dm.mean_rank(p, counts, 4) == pytest.approx(want, rel=1e-12)
    exact = replace(p, exact=True)  # exact edges: a value between 1 and 2 is above 40%, below 2 too
    want = (0.0 + 0.4 + (0.4 + 0.8) / 2 + 1.0) / 4
    assert dm.mean_rank(exact, counts, 4) == pytest.approx(want, rel=1e-12)


def test_tail_table_by_hand() -> None:
    train = np.arange(1000.0)
    log = np.concatenate([np.arange(0.0, 1000.0, 2.0), np.full(100, 995.0)])
    p = profile(train)
    got = dm.tail_table(p, slots(p, log), len(log))
    # the smaller sample (600) expects >= 10 beyond q: 0.05 .. 0.95 (0.01 gives 6)
    qs = [0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95]
    cuts = [np.searchsorted(p.cdf, q - 1e-12) for q in qs]  # first edge whose CDF reaches q
    bounds = [p.edges[c] for c in cuts]
    base = np.diff(np.r_[0, [np.sum(train <= b) for b in bounds], 1000])
    lg = np.diff(np.r_[0, [np.sum(log <= b) for b in bounds], 600])
    assert got.tolist() == [base.tolist(), lg.tolist()]


def test_tail_table_without_enough_values_is_one_column() -> None:
    p = profile(np.arange(100.0))
    assert dm.tail_table(p, slots(p, [1.0] * 40), 40).shape == (2, 4)  # 40 * 0.25 = 10: three cuts
    assert dm.tail_table(p, slots(p, [1.0] * 39), 39).shape == (2, 2)  # 19.5 beyond the median only
    assert dm.tail_table(p, slots(p, [1.0] * 20), 20).shape == (2, 2)
    assert dm.tail_table(p, slots(p, [1.0] * 19), 19).shape == (2, 1)
    p1 = profile([3.0] * 100)
    assert dm.tail_table(p1, slots(p1, [3.0] * 100), 100).shape == (2, 1)


def test_tail_table_drops_empty_columns() -> None:
    train = np.repeat([1.0, 2.0, 3.0, 4.0], [25, 25, 25, 25])
    p = profile(train)
    got = dm.tail_table(p, slots(p, [4.0] * 100), 100)
    # cuts at the 10% .. 90% quantiles fall on edges 1, 2, 3 (the 10% and 25% on the same)
    assert got.tolist() == [[25.0, 25.0, 25.0, 25.0], [0.0, 0.0, 0.0, 100.0]]


def test_edge_counts_slot_base_and_slot_values() -> None:
    train = [1.0, 1.0, 2.0, 5.0, 5.0, 5.0]
    p = profile(train)
    assert dm._edge_counts(p).tolist() == [2, 1, 3]
    assert dm._slot_base(p).tolist() == [0, 2, 0, 1, 0, 3, 0]
    st = numeric_state(p, [0.0, -2.0, 1.5, 5.0, 9.0])
    assert st.counts.tolist() == [2, 0, 1, 0, 0, 1, 1]
    # below: the log's mean value there (-1); above: 9; between: midpoints
    assert dm._slot_values(p, st).tolist() == [-1.0, 1.0, 1.5, 2.0, 3.5, 5.0, 9.0]
    st = numeric_state(p, [1.0, 2.0])
    assert dm._slot_values(p, st).tolist() == [0.0, 1.0, 1.5, 2.0, 3.5, 5.0, 6.0]
    # two values above the last edge (their mean 10) and none at it; two at the first edge
    st = numeric_state(p, [1.0, 1.0, -2.0, 1.5, 9.0, 11.0])
    assert st.counts.tolist() == [1, 2, 1, 0, 0, 0, 2]
    assert dm._slot_values(p, st).tolist() == [-2.0, 1.0, 1.5, 2.0, 3.5, 5.0, 10.0]
    st = numeric_state(p, [5.0, 5.0, 0.5, -0.5])
    assert dm._slot_values(p, st).tolist() == [0.0, 1.0, 1.5, 2.0, 3.5, 5.0, 6.0]


def test_numeric_psi_on_deciles_by_hand() -> None:
    train = np.arange(100.0)
    p = profile(train)
    log = np.concatenate([np.arange(0.0, 50.0), np.full(30, 99.0)])
    got = dm._numeric_psi(p, slots(p, log), len(log))
    cuts = [9.0 + 10 * k for k in range(9)]  # edges where the CDF reaches k / 10
    b = np.diff(np.r_[0, [np.sum(train <= c) for c in cuts], 100]) + 0.5
    a = np.diff(np.r_[0, [np.sum(log <= c) for c in cuts], 80]) + 0.5
    e, g = b / b.sum(), a / a.sum()
    assert got == pytest.approx(np.sum((g - e) * np.log(g / e)), rel=1e-12)
    assert dm._numeric_psi(profile([1.0] * 10), np.array([0, 5, 0]), 5) is None


# ------------------------------------------------------------------ the verdict rules at their limits


def test_drift_level_at_equality() -> None:
    o = DriftOptions(p_threshold=0.05, min_effect=0.1, critical_effect=0.3)
    base = row(p_value_adjusted=0.01, effect_low=0.05, effect_high=0.2)
    assert dm.drift_level(base, o) == "warning"
    assert dm.drift_level(replace(base, p_value_adjusted=0.05), o) is None  # below, not at
    assert dm.drift_level(replace(base, p_value_adjusted=0.0499), o) == "warning"
    assert dm.drift_level(replace(base, p_value_adjusted=None), o) is None
    assert dm.drift_level(replace(base, effect_high=0.1), o) == "warning"  # at the limit counts
    assert dm.drift_level(replace(base, effect_high=0.0999), o) is None
    assert dm.drift_level(replace(base, effect_high=None), o) is None
    assert dm.drift_level(replace(base, effect_low=0.3), o) == "critical"
    assert dm.drift_level(replace(base, effect_low=0.2999), o) == "warning"
    assert dm.drift_level(replace(base, effect_low=None, effect_high=0.9), o) == "warning"
    # limits of a check rule: only one of them set
    assert dm.drift_level(base, o, warning=0.2) == "warning"
    assert dm.drift_level(base, o, warning=0.21) is None
    assert dm.drift_level(base, o, critical=0.05) == "critical"
    assert dm.drift_level(base, o, critical=0.06) is None


def test_drift_level_of_the_joint_test_uses_its_own_limits() -> None:
    from mlmon.stats import joint

    o = DriftOptions(min_effect=0.9, critical_effect=0.95)
    r = row(role=joint.NAME, p_value_adjusted=0.001, effect_low=joint.CRITICAL, effect_high=joint.CRITICAL)
    assert dm.drift_level(r, o) == "critical"
    r = replace(r, effect_low=0.0, effect_high=joint.WARNING)
    assert dm.drift_level(r, o) == "warning"
    assert dm.drift_level(replace(r, role="feature"), o) is None


def test_mean_shifted_at_equality() -> None:
    o = DriftOptions(p_threshold=0.05, mean_tolerance=0.2)
    r = row(mean_p_value_adjusted=0.01, mean_deviation=0.3)
    assert dm.mean_shifted(r, o) is True
    assert dm.mean_shifted(replace(r, mean_p_value_adjusted=0.05), o) is False
    assert dm.mean_shifted(replace(r, mean_p_value_adjusted=None), o) is False
    assert dm.mean_shifted(replace(r, mean_deviation=0.2), o) is False  # beyond, not at
    assert dm.mean_shifted(replace(r, mean_deviation=0.2001), o) is True
    assert dm.mean_shifted(replace(r, mean_deviation=None), o) is False


def test_unseen_breached_is_the_beta_binomial_tail_at_the_excess() -> None:
    r = row(kind="categorical", n=1000, baseline_n=5000, unseen_share=0.05, unseen_expected=0.01,
            unseen_expected_se=0.002)
    share, se = 0.01 + 0.02, 0.002
    k = min(5000, share * (1 - share) / se**2)
    p = stats.betabinom.sf(49, 1000, share * k + 0.5, (1 - share) * k + 0.5)
    assert p < 0.05 and dm.unseen_breached(r, 0.02)
    assert p > 1e-9 and not dm.unseen_breached(r, 0.02, 1e-9)
    assert bool(dm.unseen_breached(r, 0.02, p * 1.0001)) is True
    assert bool(dm.unseen_breached(r, 0.02, p * 0.9999)) is False
    assert bool(dm.unseen_breached(r, 0.02, float(p))) is False  # below, not at
    # the default threshold is 0.05: a p-value of about 0.3 is not below it
    r3 = replace(r, unseen_share=0.035)
    p3 = stats.betabinom.sf(34, 1000, share * k + 0.5, (1 - share) * k + 0.5)
    assert 0.1 < p3 < 0.9 and not dm.unseen_breached(r3, 0.02)
    assert dm.unseen_breached(r3, 0.02, p3 * 1.0001)
    # the point estimate must be beyond the limit: 0.05 - 0.01 = 0.04 is not beyond 0.04
    assert bool(dm.unseen_breached(r, 0.04, 1.0)) is False
    assert bool(dm.unseen_breached(r, 0.0399, 1.0)) is True
    # without the prediction (a few-valued number): the share alone, beyond the limit
    bare = replace(r, unseen_expected=None, unseen_expected_se=None)
    assert bool(dm.unseen_breached(bare, 0.05) is False and dm.unseen_breached(bare, 0.0499)) is True
    assert bool(dm.unseen_breached(replace(r, unseen_expected_se=None), 0.0499)) is True
    assert bool(dm.unseen_breached(replace(r, n=0), 0.0499)) is True
    assert bool(dm.unseen_breached(replace(r, n=0), 0.05)) is False


def test_unseen_breached_rounds_the_count() -> None:
    # 0.0333... of 300 values is 10 (rounded, not truncated from 9.99...)
    r = row(kind="categorical", n=300, baseline_n=2000, unseen_share=10 / 300 - 1e-15,
            unseen_expected=0.0, unseen_expected_se=0.0)
    k = 2000.0
    for limit in (0.0, 0.01):
        p = stats.betabinom.sf(9, 300, limit * k + 0.5, (1 - limit) * k + 0.5)
        assert bool(dm.unseen_breached(r, limit, p * 1.000001)) is True
        assert bool(dm.unseen_breached(r, limit, p * 0.999999)) is False


# ------------------------------------------------------------------ BH and the verdicts it sets


def test_adjust_is_bh_by_hand_over_every_test_of_the_run() -> None:
    rows = (
        row(name="a", p_value=0.01, effect_low=0.2, effect_high=0.4, mean_p_value=0.035, mean_deviation=0.5),
        row(name="b", p_value=0.03, effect_low=0.0, effect_high=0.04),
        row(name="c", missing_p_value=0.002, missing_low=0.1, missing_high=0.3),
        row(name="d", out_of_range_p_value=0.2, out_of_range_low=0.0, out_of_range_high=0.2),
        row(name="e", p_value=None),
    )
    out = dm.adjust(rows, DriftOptions())
    ps = [0.01, 0.03, 0.035, 0.002, 0.2]  # drift a, b; mean a; missing c; out of range d
    order = np.argsort(ps)
    ranked = np.array(ps)[order] * len(ps) / np.arange(1, len(ps) + 1)
    adj = np.empty(len(ps))
    adj[order] = np.minimum.accumulate(ranked[::-1])[::-1]
    assert out[0].p_value_adjusted == pytest.approx(adj[0])
    assert out[1].p_value_adjusted == pytest.approx(adj[1])
    assert out[0].mean_p_value_adjusted == pytest.approx(adj[2])
    assert out[2].missing_p_value_adjusted == pytest.approx(adj[3])
    assert out[3].out_of_range_p_value_adjusted == pytest.approx(adj[4])
    assert out[4] == rows[4]
    assert out[0].drift is True and out[0].mean_shift is True
    assert out[1].drift is False  # proven small: upper bound 0.04 under 0.05
    assert out[2].missing_increased is not None and out[3].out_of_range_breached is None
    assert out[2].drift is False and out[2].mean_shift is False


def test_adjust_of_one_p_value_keeps_it_and_caps_at_one() -> None:
    r = row(p_value=0.04, effect_low=0.3, effect_high=0.5)
    out = dm.adjust((r,), DriftOptions())
    assert out[0].p_value_adjusted == 0.04 and out[0].drift is True
    out = dm.adjust((replace(r, p_value=1.0), replace(r, name="y", p_value=1.0)), DriftOptions())
    assert [x.p_value_adjusted for x in out] == [1.0, 1.0]
    assert dm.adjust((row(),), DriftOptions()) == (row(),)


def test_adjust_sets_the_missing_and_out_of_range_levels_with_the_options() -> None:
    r = row(missing_p_value=0.001, missing_low=0.06, missing_high=0.3,
            out_of_range_p_value=0.001, out_of_range_low=0.06, out_of_range_high=0.3)
    o = DriftOptions(missing_warning=0.2, missing_critical=0.5, out_of_range_warning=0.01,
                     out_of_range_critical=0.05)
    out = dm.adjust((r,), o)[0]
    assert out.missing_increased == "warning" and out.out_of_range_breached == "critical"
    o = DriftOptions(missing_warning=0.01, missing_critical=0.05, out_of_range_warning=0.4,
                     out_of_range_critical=0.5)
    out = dm.adjust((r,), o)[0]
    assert out.missing_increased == "critical" and out.out_of_range_breached is None
    out = dm.adjust((r,), replace(o, p_threshold=0.0005))[0]
    assert out.missing_increased is None


def test_at_mean_tolerance_redoes_the_mean_tests() -> None:
    o = DriftOptions(mean_tolerance=0.2)
    a = row(name="a", p_value=0.5, effect_low=0.0, effect_high=0.1, mean_deviation=0.35, mean_se=0.05,
            mean_deviation_kind="relative", mean_p_value=dm.mean_p_value(0.35, 0.05, 0.2, "relative"))
    b = row(name="b", p_value=0.5, mean_deviation=None, mean_se=None)
    c = row(name="c", p_value=0.5, mean_deviation=0.35, mean_se=None)
    z = row(name="z", p_value=0.5, mean_deviation=0.01, mean_se=0.001, mean_deviation_kind="absolute",
            mean_p_value=0.3)
    rows = dm.adjust((a, b, c, z), o)
    assert dm.at_mean_tolerance(rows, 0.2, o) is rows
    again = dm.at_mean_tolerance(rows, 0.3, o)
    want = stats.norm.sf((0.35 - 0.3) / 0.05)
    assert again[0].mean_p_value == pytest.approx(want, rel=1e-12)
    assert again[1].mean_p_value is None and again[2].mean_p_value is None
    assert again[3].mean_p_value == pytest.approx(stats.norm.sf(10.0), rel=1e-9)  # absolute: against 0
    ps = [0.5, 0.5, 0.5, 0.5, want, stats.norm.sf(10.0)]
    assert again[0].mean_p_value_adjusted == pytest.approx(min(1.0, want * 6 / 2), rel=1e-9) or \
        again[0].mean_p_value_adjusted == pytest.approx(stats.false_discovery_control(ps)[4], rel=1e-9)
    assert again[0].mean_p_value_adjusted == pytest.approx(stats.false_discovery_control(ps)[4], rel=1e-9)
    # the verdict is redone at the new tolerance: 0.35 is beyond 0.3 but not beyond 0.4
    assert again[0].mean_shift is (again[0].mean_p_value_adjusted < 0.05)
    assert dm.at_mean_tolerance(rows, 0.4, o)[0].mean_shift is False


def test_at_mean_tolerance_judges_with_the_new_tolerance() -> None:
    o = DriftOptions(mean_tolerance=0.2)
    r = row(p_value=0.5, mean_deviation=0.15, mean_se=0.01, mean_deviation_kind="relative",
            mean_p_value=dm.mean_p_value(0.15, 0.01, 0.2, "relative"))
    rows = dm.adjust((r,), o)
    assert rows[0].mean_shift is False  # 0.15 is not beyond 0.2
    lower = dm.at_mean_tolerance(rows, 0.1, o)[0]
    assert lower.mean_p_value == pytest.approx(stats.norm.sf(5.0), rel=1e-9)
    assert lower.mean_shift is True  # beyond 0.1, and shown to be


def test_smooth_test_is_the_same_for_shifted_and_scaled_values() -> None:
    # a year (2000 .. 2023) or a value in millionths: the same test as on 0 .. 23
    values = np.arange(24.0)
    base = np.array([10, 12, 15, 20, 25, 30, 35, 40, 42, 44, 45, 46, 46, 45, 44, 42, 40, 35, 30, 25, 20, 15,
                     12, 10], float)
    log = np.roll(base, 3)
    want = {k: _smooth_by_hand(values, base, log, k) for k in (3, 6)}
    k = min(want, key=lambda j: want[j][1])
    for shifted in (values + 2000.0, values + 1e6, values * 1e-6, values * 1e6):
        stat, p, df = dm.smooth_test(shifted, base, log)
        assert df == k and stat == pytest.approx(want[k][0], rel=1e-6)
        assert p == pytest.approx(dm.smooth_min_p((3, 6), want[k][1]), rel=1e-6)


def test_smooth_test_of_values_whose_spread_underflows_is_no_test() -> None:
    values = np.array([0.0, 5e-324])
    assert dm.smooth_test(values, np.array([50.0, 50.0]), np.array([10.0, 30.0])) == (0.0, 1.0, 0)


def test_smooth_test_drops_a_degree_two_nearly_equal_values_cannot_carry() -> None:
    # 7 values, two of them 1e-12 apart: a degree-6 polynomial through them is noise, so the
    # test has 5 components, N R^2 of the label on the powers 1 .. 5
    values = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0 + 1e-12])
    base = np.array([30.0, 30.0, 30.0, 30.0, 30.0, 15.0, 15.0])
    log = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 10.0, 30.0])
    stat, p, df = dm.smooth_test(values, base, log, (6,))
    want_stat, want_p = _smooth_by_hand(values, base, log, 5)
    assert df == 5 and stat == pytest.approx(want_stat, rel=1e-6) and p == pytest.approx(want_p, rel=1e-6)


def test_exact_two_column_p_values_over_many_small_tables() -> None:
    """200 small 2 x 2 tables (margins 3 to 40, either side of the centre, fractional and whole
    expected counts): the exact p-value is the hypergeometric mass of every count whose
    Pearson statistic, sum((O - E)^2 / E) over the four cells, is at least the observed one."""
    rng = np.random.default_rng(2026)
    checked = 0
    for _ in range(200):
        base_n, log_n = (int(v) for v in rng.integers(3, 41, 2))
        first = int(rng.integers(1, base_n + log_n))
        lo, hi = max(0, first - base_n), min(first, log_n)
        x = int(rng.integers(lo, hi + 1))
        t = np.array([[first - x, base_n - first + x], [x, log_n - x]], dtype=float)
        if (t.sum(axis=0) == 0).any():
            continue
        total = base_n + log_n
        expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / total

        ks = np.arange(lo, hi + 1)
        rows = (np.stack([first - ks, base_n - first + ks], axis=1), np.stack([ks, log_n - ks], axis=1))
        tabs = np.stack(rows, axis=1).astype(float)  # count k x row x column
        pearson = np.sum((tabs - expected) ** 2 / expected, axis=(1, 2))
        obs = float(pearson[x - lo])
        reached = pearson >= obs - 1e-9 * max(1.0, obs)
        want = float(np.sum(stats.hypergeom.pmf(ks, total, first, log_n)[reached]))
        assert dm._two_column_tail(t, expected, obs) == pytest.approx(min(1.0, want), rel=1e-9, abs=1e-300)
        checked += 1
    assert checked > 150


def test_ks_from_counts_with_the_log_at_an_edge_training_mostly_holds() -> None:
    # training 1, 2, 2, 2 and a log all at 2: D is 0.25 (just below 2), not 1 - 0.25
    train, log = [1.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0]
    p = profile(train)
    d = dm.ks_from_counts(p, slots(p, log), len(log))
    assert d == pytest.approx(stats.ks_2samp(train, log).statistic, abs=1e-12) and d == pytest.approx(0.25)


def test_a_training_value_seen_once_is_not_unseen() -> None:
    base = {"a": 500, "b": 400, "once": 1, "c": 99}
    log = {"a": 50, "b": 35, "once": 5, "c": 10}
    got = dm._count_test(base, log, 100, (), DriftOptions())
    assert got["unseen_p_value"] is None and got["unseen_share"] == 0.0
    tbl = np.array([[500, 400, 100], [50, 35, 15]])  # "once" (expecting 0.5) pools with c
    assert got["statistic"] == pytest.approx(stats.chi2_contingency(tbl, correction=False).statistic)


def test_union_table_leaves_out_categories_with_no_value_on_either_side() -> None:
    # a pre-aggregated log may list a category with 0 values; training may too
    base = {"a": 600, "b": 400, "gone": 0}
    log = {"a": 60, "b": 40, "new": 20, "none": 0}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset())
    assert names == ["a", "b", "new"] and tbl.tolist() == [[600, 400, 0], [60, 40, 20]]


def test_columns_are_ordered_by_their_total_over_both_sides() -> None:
    # rare means a total under 55 here (100 * total / 1100 < 5). y (55) comes before x (54),
    # though x sorts first by name: x and r pool, y stays
    base = {"a": 893, "x": 54, "y": 50, "r": 3}
    log = {"a": 94, "y": 5, "r": 1}
    tbl, names = dm.chi_square_table(base, log)
    assert names == ["a", "y", "(other)"] and tbl.tolist() == [[893, 50, 57], [94, 5, 1]]
    # the same with a category only the log has (the union table of the drift test)
    base = {"a": 947, "z": 50, "r": 3}
    log = {"a": 40, "z": 5, "m": 54, "r": 1}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset())
    assert names == ["a", "z", "(other)"] and tbl.tolist() == [[947, 50, 3], [40, 5, 55]]


def test_a_column_expecting_exactly_five_is_not_rare() -> None:
    # b expects 100 * 55 / 1100 = 5: it stays; d and c (expecting 3.5 and 2.7) pool, 6.2 together
    base = {"a": 891, "b": 50, "c": 27, "d": 32}
    log = {"a": 86, "b": 5, "c": 3, "d": 6}
    tbl, names = dm.chi_square_table(base, log)
    assert names == ["a", "b", "(other)"] and tbl.tolist() == [[891, 50, 59], [86, 5, 9]]


def test_union_table_pools_two_rare_columns() -> None:
    base = {"a": 600, "b": 390, "c": 10}
    log = {"a": 60, "b": 35, "new": 3, "c": 2}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset())
    assert names == ["a", "b", "(other)"] and tbl.tolist() == [[600, 390, 10], [60, 35, 5]]


def test_union_table_of_three_columns_pools_the_two_rare_ones() -> None:
    base = {"a": 990, "b": 10}
    log = {"a": 95, "b": 2, "new": 3}
    tbl, names = dm.chi_square_table(base, log, pool_unseen=frozenset())
    assert names == ["a", "(other)"] and tbl.tolist() == [[990, 10], [95, 5]]


def test_a_pool_expecting_exactly_five_absorbs_no_more() -> None:
    # c and d pool to 55 values: 100 * 55 / 1100 = 5, enough; b stays apart
    base = {"a": 896, "b": 54, "c": 27, "d": 23}
    log = {"a": 89, "b": 6, "c": 3, "d": 2}
    tbl, names = dm.chi_square_table(base, log)
    assert names == ["a", "b", "(other)"] and tbl.tolist() == [[896, 54, 50], [89, 6, 5]]


def test_tail_table_of_two_edges() -> None:
    p = NumericProfile(100, 0.5, 0.5, 0.0, 1.0, [0.0, 1.0], [0.5, 1.0], True)
    # the smaller sample (40) puts cuts at 25 .. 75%: all at the first edge
    got = dm.tail_table(p, np.array([0, 10, 0, 30, 0]), 40)
    assert got.tolist() == [[50.0, 50.0], [10.0, 30.0]]


def test_tail_table_keeps_a_column_of_one_training_value() -> None:
    # a tie spanning the 10% .. 49.95% quantiles, then one value reaching the median
    p = NumericProfile(2000, 1.0, 1.0, 0.0, 3.0, [0.0, 1.0, 2.0, 3.0], [0.0995, 0.4995, 0.5, 1.0], False)
    counts = np.array([0, 300, 0, 500, 0, 0, 0, 1200, 0])
    got = dm.tail_table(p, counts, 2000)
    assert got.tolist() == [[199.0, 800.0, 1.0, 1000.0], [300.0, 500.0, 0.0, 1200.0]]


def test_tail_table_never_cuts_at_the_last_edge() -> None:
    # 2% of training at its maximum: the 99% and 99.9% quantiles are the last edge, which is no
    # cut (values at and above it are one bin, the log's above training's max among them)
    train = np.r_[np.arange(19_600.0), np.full(400, 19_600.0)]
    log = np.r_[np.arange(0.0, 19_000.0), np.full(1000, 30_000.0)]
    p = profile(train)
    edges = np.asarray(p.edges)
    idx = np.searchsorted(edges, log, side="left")
    at_edge = edges[np.minimum(idx, len(edges) - 1)] == log
    counts = np.bincount(2 * idx + at_edge, minlength=2 * len(edges) + 1)
    got = dm.tail_table(p, counts, len(log))
    qs = [q for q in dm.TAIL_QUANTILES if 20_000 * min(q, 1 - q) >= 10]
    cut_at = sorted({float(edges[np.searchsorted(p.cdf, q - 1e-12)]) for q in qs} - {19_600.0})
    base = np.diff(np.r_[0, [np.sum(train <= c) for c in cut_at], len(train)])
    lg = np.diff(np.r_[0, [np.sum(log <= c) for c in cut_at], len(log)])
    assert got.tolist() == [base.tolist(), lg.tolist()]
    assert got[0, -1] >= 400 and got[1, -1] >= 1000


def test_numeric_psi_of_two_edges() -> None:
    p = NumericProfile(100, 0.5, 0.5, 0.0, 1.0, [0.0, 1.0], [0.5, 1.0], True)
    b, a = np.array([50.0, 50.0]) + 0.5, np.array([10.0, 30.0]) + 0.5
    e, g = b / b.sum(), a / a.sum()
    got = dm._numeric_psi(p, np.array([0, 10, 0, 30, 0]), 40)
    assert got == pytest.approx(np.sum((g - e) * np.log(g / e)), rel=1e-12)


def test_numeric_psi_never_cuts_at_the_last_edge() -> None:
    # 20% of training at its maximum: the 90% decile is the last edge, which is no cut
    train = np.r_[np.arange(80.0), np.full(20, 80.0)]
    log = np.r_[np.arange(0.0, 80.0, 2.0), np.full(10, 80.0), np.full(10, 95.0)]
    p = profile(train)
    got = dm._numeric_psi(p, slots(p, log), len(log))
    cuts = [9.0 + 10 * k for k in range(8)]  # 10% .. 80%; 90% would be the last edge (80)
    b = np.diff(np.r_[0, [np.sum(train <= c) for c in cuts], 100]) + 0.5
    a = np.diff(np.r_[0, [np.sum(log <= c) for c in cuts], 60]) + 0.5
    e, g = b / b.sum(), a / a.sum()
    assert got == pytest.approx(np.sum((g - e) * np.log(g / e)), rel=1e-12)


def test_mean_fields_of_a_baseline_spread_near_the_float_limit() -> None:
    # training values +-1e200 (std 1e200), a log of ordinary numbers: the deviation is in
    # baseline stds, and its standard error sqrt(1/m + 1/n) in those units (nothing overflows)
    unit = np.array([-1.0, 1.0] * 50)
    p = replace(profile(unit), mean=0.0, std=float(unit.std(ddof=1)) * 1e200, edges=[-1e200, 1e200])
    log = np.random.default_rng(37).normal(0, 1, 60)
    got = dm._mean_fields(p, numeric_state(p, log), 0.2)
    se = math.sqrt(1 / 60 + 1 / 100)
    assert got["mean_deviation_kind"] == "std"
    assert got["mean_deviation"] == pytest.approx(abs(log.mean()) / p.std, rel=1e-9)
    assert got["mean_se"] == pytest.approx(se, rel=1e-9)
    assert got["mean_p_value"] == pytest.approx(stats.norm.sf((abs(log.mean()) / p.std - 0.2) / se), rel=1e-9)


def test_mean_fields_of_huge_log_values() -> None:
    # a log of values near 1e200 against a baseline of zeros (absolute) and of ordinary numbers
    unit = np.array([1.0, 3.0] * 20)
    zeros = profile([0.0] * 50)
    got = dm._mean_fields(zeros, numeric_state(zeros, unit * 1e200), 0.2)
    se = float(unit.std(ddof=1)) / math.sqrt(40)
    assert got["mean_deviation_kind"] == "absolute"
    assert got["mean_deviation"] == pytest.approx(2e200, rel=1e-9)
    assert got["mean_se"] == pytest.approx(se * 1e200, rel=1e-9)
    # the test of that deviation against 0 (it was 0.5: the standard error squared overflowed)
    assert got["mean_p_value"] == pytest.approx(stats.norm.sf(2.0 / se), rel=1e-9)
    ordinary = profile(np.random.default_rng(41).normal(0, 1, 100))
    signs = np.array([-1.0, 1.0] * 20)
    got = dm._mean_fields(ordinary, numeric_state(ordinary, signs * 1e200), 0.2)  # mean 0, std about 1e200
    want = float(signs.std(ddof=1)) * 1e200 / math.sqrt(40) / ordinary.std
    assert got["mean_se"] == pytest.approx(want, rel=1e-9)


def test_mean_deviation_is_relative_when_the_mean_equals_the_std() -> None:
    p = replace(profile([1.0, 5.0] * 20), mean=3.0, std=3.0)
    got = dm._mean_fields(p, numeric_state(p, [4.0, 5.0] * 20), 0.2)
    assert got["mean_deviation_kind"] == "relative" and got["mean_deviation"] == pytest.approx(1.5 / 3.0)


def test_mean_se_of_a_log_mean_far_beyond_the_baseline_spread() -> None:
    # a constant log of 1e160 against a baseline of ordinary numbers: the log's variance is taken
    # as the baseline's (a constant window is not an infinitely precise mean), so the standard
    # error in baseline units is that of two samples of the baseline's spread, whatever the scale
    ordinary = profile(np.random.default_rng(43).normal(0, 1, 100))
    for value in (1e3, 1e160, -1e300):
        got = dm._mean_fields(ordinary, numeric_state(ordinary, np.full(40, value)), 0.2)
        denom = max(abs(ordinary.mean), ordinary.std)
        want = ordinary.std / denom * math.sqrt(1 / 40 + 1 / 100)
        assert got["mean_se"] == pytest.approx(want, rel=1e-9), value
        assert got["mean_deviation"] == pytest.approx(abs(value - ordinary.mean) / denom, rel=1e-9)
        assert got["mean_p_value"] == 0.0
