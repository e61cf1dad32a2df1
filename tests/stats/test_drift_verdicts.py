"""Drift verdicts: the decision rules around the tests (effect bounds, few-valued numbers, mean
deviation, unseen and missing features, insufficient data, alert texts, extreme values)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from test_drift import drift_of, exact, train_table

from mlmon.numfmt import p_value
from mlmon.read.records import FEATURE_PREFIX
from mlmon.rules.alerts import Severity, drift_alerts
from mlmon.stats import baseline as bl
from mlmon.stats import effects as fx
from mlmon.stats.drift import UNSEEN_TOP, DriftAccumulator, DriftOptions


def gridded(**train: object) -> bl.Baseline:
    return bl.build(train_table(**train), source="train", max_edges=bl.GRID_EDGES)


def alerts_of(b: bl.Baseline, o: DriftOptions | None = None, **log: object) -> dict[str, object]:
    res = drift_of(b, o, **log)
    return {a.metric: a for a in drift_alerts(tuple(res.values()), o or DriftOptions())}


# ------------------------------------------------------------- power does not fall with n


@pytest.mark.parametrize("change", ["shift", "scale"])
def test_big_changes_are_drift_at_large_n(rng: np.random.Generator, change: str) -> None:
    """0.2 sd shift (D 0.08) and a 1.5x scale change (D 0.1) were silent at n=100k."""
    b = gridded(x=rng.normal(0, 1, 100_000))
    log = rng.normal(0.2, 1, 100_000) if change == "shift" else rng.normal(0, 1.5, 100_000)
    r = drift_of(b, x=log)["x"]
    assert r.test == "ks" and r.drift is True
    # the bounds hold the estimate, and the true D (about 0.08 / 0.1) lies inside them
    assert r.effect_low <= r.statistic <= r.effect_high
    true_d = 2 * stats.norm.cdf(0.1) - 1 if change == "shift" else (
        stats.norm.cdf(1.5 * np.sqrt(2 * np.log(1.5) / (1.5**2 - 1)))
        - stats.norm.cdf(np.sqrt(2 * np.log(1.5) / (1.5**2 - 1))))
    assert r.effect_low <= true_d <= r.effect_high


def test_tiny_shift_at_huge_n_is_not_drift(rng: np.random.Generator) -> None:
    """Significant but proven small: the upper bound is below --min-effect."""
    b = gridded(x=rng.normal(0, 1, 100_000))
    r = drift_of(b, x=rng.normal(0.03, 1, 1_000_000))["x"]
    assert r.p_value_adjusted < 1e-6 and r.effect_high < 0.05 and r.drift is False


def test_effect_bounds_are_dkw(rng: np.random.Generator) -> None:
    train, log = rng.normal(0, 1, 500), rng.normal(0.5, 1, 400)
    r = drift_of(exact(x=train), x=log)["x"]
    margin = sum(math.sqrt(math.log(4 / 0.05) / (2 * n)) for n in (500, 400))
    assert r.effect_low == pytest.approx(max(0.0, r.statistic - margin), rel=1e-12)
    assert r.effect_high == pytest.approx(min(1.0, r.statistic + margin), rel=1e-12)


def test_wasserstein_in_baseline_std_matches_scipy(rng: np.random.Generator) -> None:
    train = rng.integers(0, 200, 5000).astype(float)  # every value an edge: W is exact
    log = rng.integers(-20, 230, 3000).astype(float)  # some below and above the training range
    r = drift_of(exact(x=train), x=log)["x"]
    want = stats.wasserstein_distance(train, log) / train.std(ddof=1)
    assert r.wasserstein_sd == pytest.approx(want, rel=1e-9)


# ------------------------------------------------------------- few-valued numbers


def test_flag_is_tested_on_counts(rng: np.random.Generator) -> None:
    """A flag from 5% to 7.1%: KS p 0.76, chi-square p 0.002."""
    train = (rng.random(100_000) < 0.05).astype(float)
    log = np.r_[np.ones(71), np.zeros(929)]
    r = drift_of(gridded(x=train), x=log)["x"]
    table = np.array([[np.sum(train == 0), np.sum(train == 1)], [929, 71]])
    ref = stats.chi2_contingency(table, correction=False)
    assert r.test == "chi_square" and r.effect_measure == "tv"
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.effect_size == pytest.approx(abs(0.071 - train.mean()), rel=1e-9)


def test_flag_doubling_is_drift(rng: np.random.Generator) -> None:
    b = gridded(x=(rng.random(100_000) < 0.05).astype(float))
    r = drift_of(b, x=(rng.random(1000) < 0.10).astype(float))["x"]
    assert r.drift is True


def test_value_never_in_training_is_its_own_column(rng: np.random.Generator) -> None:
    train = rng.integers(0, 6, 10_000).astype(float)
    log = np.r_[rng.integers(0, 6, 950), np.full(50, 9.0)]
    r = drift_of(exact(x=train), x=log)["x"]
    base = [np.sum(train == v) for v in range(6)] + [0]
    got = [np.sum(log == v) for v in range(6)] + [50]
    ref = stats.chi2_contingency(np.array([base, got]), correction=False)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.unseen_share == pytest.approx(0.05)


# ------------------------------------------------------------- categories


def test_renamed_category_raises_unseen_and_drift() -> None:
    train = ["red"] * 50000 + ["green"] * 30000 + ["blue"] * 20000
    a = alerts_of(exact(c=train), c=["red"] * 500 + ["green"] * 300 + ["BLUE"] * 200)
    assert {"drift.c", "unseen.c"} <= set(a)
    # 20% new values: past the critical limit (5%), and the alert names that limit
    assert a["unseen.c"].severity.value == "critical"
    assert "20.0%" in a["unseen.c"].message and "critical limit 5%" in a["unseen.c"].message
    assert "BLUE" in a["unseen.c"].message


def test_unseen_share_option(rng: np.random.Generator) -> None:
    train = list(rng.choice(np.array(["a", "b"], dtype=object), 10_000))
    log = ["a"] * 490 + ["b"] * 490 + ["new"] * 20  # 2% unseen
    assert "unseen.c" in alerts_of(exact(c=train), c=log)
    assert "unseen.c" not in alerts_of(exact(c=train), DriftOptions(max_unseen_share=0.05), c=log)


def test_many_unseen_categories_keep_the_top_and_count_the_rest() -> None:
    train = ["a"] * 100 + ["b"] * 100
    log = [f"u{i}" for i in range(3000)] + ["u0"] * 5 + ["a"] * 1000
    r = drift_of(exact(c=train), c=log)["c"]
    assert len(r.unseen_categories) == UNSEEN_TOP
    assert r.unseen_categories[0] == ("u0", 6 / 4005)
    assert r.unseen_distinct == 3000
    assert r.unseen_share == pytest.approx(3005 / 4005)
    listed = sum(s for _, s in r.unseen_categories)
    assert r.unseen_other_share == pytest.approx(r.unseen_share - listed)


def test_unseen_values_past_the_cap_stay_bounded_and_the_test_exact(rng: np.random.Generator) -> None:
    """30,000 distinct new values (past the exact cap): the unseen counts move to fixed-size
    sketches, yet the chi-square, the unseen share and the listed heavy value stay right."""
    from mlmon.stats.classes import EXACT_CLASSES

    n_new = 3 * EXACT_CLASSES
    train = list(rng.choice(np.array(["a", "b", "c"], dtype=object), 20_000, p=[0.5, 0.3, 0.2]))
    new = [f"n{i}" for i in range(n_new)] + ["hot"] * 2000
    seen = list(rng.choice(np.array(["a", "b", "c"], dtype=object), 8000, p=[0.5, 0.3, 0.2]))
    log = np.array(new + seen, dtype=object)
    rng.shuffle(log)
    b = exact(c=train)
    halves = []
    for part in np.array_split(log, 2):
        acc = DriftAccumulator(b)
        for block in np.array_split(part, 7):  # several blocks, as the reader gives them
            acc.update(pa.table({FEATURE_PREFIX + "c": pa.array(list(block), pa.string())}))
        halves.append(acc)
    halves[0].merge(halves[1])
    assert halves[0].categorical["c"].unseen.exact is None  # sketched, not a dict of 32k keys
    r = {f.name: f for f in halves[0].result()}["c"]
    m = len(log)
    counts = [[train.count(c) for c in "abc"] + [0], [int(np.sum(log == c)) for c in "abc"]]
    counts[1].append(n_new + 2000)
    ref = stats.chi2_contingency(np.array(counts), correction=False)
    assert r.n == m and r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.unseen_share == pytest.approx((n_new + 2000) / m)
    assert r.unseen_categories[0][0] == "hot"
    assert r.unseen_categories[0][1] <= 2000 / m  # a count the value surely has
    assert r.unseen_distinct == pytest.approx(n_new + 1, rel=0.03)
    listed = sum(s for _, s in r.unseen_categories)
    assert r.unseen_other_share == pytest.approx(r.unseen_share - listed)


def test_small_window_is_not_critical_from_emptiness(rng: np.random.Generator) -> None:
    """40 categories, n=100, stationary: PSI was 0.6 and 'critical'."""
    cats = np.array([f"c{i}" for i in range(40)], dtype=object)
    p = rng.dirichlet(np.ones(40))
    b = exact(c=list(rng.choice(cats, 100_000, p=p)))
    psis = []
    for _ in range(20):
        res = drift_of(b, c=list(rng.choice(cats, 100, p=p)))
        psis.append(res["c"].psi)
        assert all(a.severity is not Severity.CRITICAL
                   for a in drift_alerts(tuple(res.values()), DriftOptions()))
    assert float(np.median(psis)) < 0.25


# ------------------------------------------------------------- mean deviation


def test_mean_rule_needs_significance(rng: np.random.Generator) -> None:
    """Beyond the 20% tolerance on 40 noisy values is not proof the mean moved."""
    train = rng.normal(10, 10, 50_000)
    log = rng.normal(10, 10, 40)
    log = log - log.mean() + 12.5  # 25% off, but se is about 1.6 (16%)
    r = drift_of(exact(x=train), x=log)["x"]
    assert r.mean_deviation > 0.2 and r.mean_p_value > 0.05 and r.mean_shift is False
    big = rng.normal(12.5, 10, 5000)
    assert drift_of(exact(x=train), x=big)["x"].mean_shift is True


def test_mean_deviation_scale_has_no_cliff(rng: np.random.Generator) -> None:
    """The divisor is max(|baseline mean|, std): continuous where the seed's rule jumped 10x."""
    base = rng.normal(0, 1, 20_000)
    base = (base - base.mean()) / base.std(ddof=1)
    devs = []
    for mu in (0.09, 0.11, 0.99, 1.01):
        r = drift_of(exact(x=base + mu), x=base[:5000] + mu + 0.3)["x"]
        scale = max(abs(mu), 1.0)
        assert r.mean_deviation == pytest.approx(abs(r.mean - r.baseline_mean) / scale, rel=1e-9)
        devs.append(r.mean_deviation)
    assert devs[0] == pytest.approx(devs[1], rel=0.05) and devs[2] == pytest.approx(devs[3], rel=0.05)


@pytest.mark.parametrize("tolerance", [0.0, 0.2])
def test_welch_p_matches_scipy(rng: np.random.Generator, tolerance: float) -> None:
    """The mean test asks whether the mean moved by more than the tolerance."""
    train, log = rng.normal(5, 2, 3000), rng.normal(6.5, 3, 400)
    r = drift_of(exact(x=train), DriftOptions(mean_tolerance=tolerance), x=log)["x"]
    margin = tolerance * max(abs(train.mean()), train.std(ddof=1))
    se = math.sqrt(log.var(ddof=1) / 400 + train.var(ddof=1) / 3000)
    z = (abs(log.mean() - train.mean()) - margin) / se
    assert r.mean_p_value == pytest.approx(stats.norm.sf(z), rel=1e-9)


# ------------------------------------------------------------- missing, insufficient, texts


def test_insufficient_data_gives_no_verdict_of_any_kind(rng: np.random.Generator) -> None:
    b = exact(x=rng.normal(10, 1, 1000), c=list(rng.choice(np.array(["a", "b"], dtype=object), 1000)))
    res = drift_of(b, x=np.array([100.0] * 5), c=["zzz"] * 5)
    assert {r.status for r in res.values()} == {"insufficient_data"}
    assert drift_alerts(tuple(res.values()), DriftOptions()) == ()


def test_missing_feature_is_a_critical_alert(rng: np.random.Generator) -> None:
    b = exact(x=rng.normal(size=500), y=rng.normal(size=500))
    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "x": pa.array(rng.normal(size=100))}))
    res = acc.result()
    a = {a.metric: a for a in drift_alerts(res, DriftOptions(), unknown=("y_renamed",))}
    assert a["missing.y"].severity is Severity.CRITICAL
    assert "y_renamed" in a["missing.y"].message


def test_critical_needs_the_lower_bound_and_names_its_limit(rng: np.random.Generator) -> None:
    b = gridded(x=rng.normal(0, 1, 100_000))
    big = alerts_of(b, x=rng.normal(2, 1, 5000))["drift.x"]
    assert big.severity is Severity.CRITICAL and big.threshold == 0.25
    assert "critical limit 0.25" in big.message
    # a large D on 40 values: its lower bound is below 0.25, so a warning with the warning limit
    few = rng.normal(0.8, 1, 40)
    small = drift_of(b, x=few)["x"]
    assert small.statistic > 0.25 and small.effect_low < 0.25
    a = alerts_of(b, x=few)["drift.x"]
    assert a.severity is Severity.WARNING and a.threshold == 0.05 and "limit 0.05" in a.message


def test_alert_texts_use_one_unit_and_the_table_p_format(rng: np.random.Generator) -> None:
    train = rng.normal(51_400, 5_000, 20_000)
    res = drift_of(exact(x=train), x=rng.normal(68_430, 5_000, 2000))
    a = {a.metric: a for a in drift_alerts(tuple(res.values()), DriftOptions())}
    msg = a["mean_deviation.x"].message
    assert "(limit 20%)" in msg and "+33." in msg and "68," in msg
    assert f"adjusted p {p_value(res['x'].mean_p_value_adjusted)}" in msg


def test_gate_has_a_float_tolerance() -> None:
    d = 0.3 - 0.2  # 0.09999999999999998
    assert d < 0.1 and fx.at_least(d, 0.1)
    assert not fx.beyond(0.2 * (1 + 1e-15), 0.2)


# ------------------------------------------------------------- extreme values


def test_values_near_the_float_limit_do_not_overflow(rng: np.random.Generator) -> None:
    train = rng.normal(0, 1, 1000) * 1e307
    log = np.r_[rng.normal(0, 1, 500) * 1e307, [1.7e308, -1.7e308]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = exact(x=train)
        r = drift_of(b, x=log)["x"]
    assert math.isfinite(b.features[0].numeric.std)
    assert b.features[0].numeric.std == pytest.approx(np.std(train / 1e300, ddof=1) * 1e300, rel=1e-9)
    assert math.isfinite(r.mean) and math.isfinite(r.mean_deviation)
    assert r.mean == pytest.approx(np.mean(log / 1e300) * 1e300, rel=1e-9)
    assert r.wasserstein_sd is None or math.isfinite(r.wasserstein_sd)


# ------------------------------------------------------------- small expected counts (n=100)


def _random_table_p(table: np.ndarray, stat: float, draws: int, seed: int) -> float:
    """Monte Carlo p of Pearson's chi-square by scipy's own random tables with the same margins."""
    sims = stats.random_table(table.sum(axis=1), table.sum(axis=0), seed=seed).rvs(draws)
    got = np.array([stats.chi2_contingency(t, correction=False).statistic for t in sims])
    return float((np.count_nonzero(got >= stat * (1 - 1e-9)) + 1) / (draws + 1))


def test_small_expected_counts_get_an_exact_p(rng: np.random.Generator) -> None:
    """A 5% flag in 100 values (5 expected 1s): the chi-square tail is too light there; two
    columns get the exact conditional tail (hypergeometric), as scipy's random tables agree."""
    train = (rng.random(100_000) < 0.05).astype(float)
    log = np.r_[np.ones(11), np.zeros(89)]
    r = drift_of(gridded(x=train), x=log)["x"]
    table = np.array([[np.sum(train == 0), np.sum(train == 1)], [89, 11]])
    ref = stats.chi2_contingency(table, correction=False)
    assert ref.expected_freq.min() < 10
    assert r.test == "chi_square" and r.p_method == "exact"
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    want = _random_table_p(table, ref.statistic, 4000, seed=1)
    assert r.p_value == pytest.approx(want, abs=4 * math.sqrt(want * (1 - want) / 4000) + 1e-3)
    assert r.p_value == pytest.approx(_enumerated_p(table), rel=1e-9)
    assert r.p_value > ref.pvalue  # the chi-square distribution overstated the evidence


def _enumerated_p(table: np.ndarray) -> float:
    """Exact conditional p-value of a 2 x k table (k = 2 or 3) by enumeration: every log row
    with the margins, its multivariate hypergeometric probability (scipy) and its chi-square
    statistic (scipy)."""
    cols = table.sum(axis=0).astype(int)
    n_log = int(table[1].sum())
    observed = stats.chi2_contingency(table, correction=False).statistic
    rows = [(x, n_log - x) for x in range(n_log + 1)] if len(cols) == 2 else \
        [(x, y, n_log - x - y) for x in range(n_log + 1) for y in range(n_log + 1 - x)]
    rows = [r for r in rows if all(0 <= v <= c for v, c in zip(r, cols, strict=True))]
    logs = np.array(rows)
    exp1 = np.outer(cols, [n_log / cols.sum()])[:, 0]
    exp0 = cols - exp1
    stat = ((logs - exp1) ** 2 * (1 / exp0 + 1 / exp1)).sum(axis=1)
    pmf = stats.multivariate_hypergeom.pmf(logs, m=cols, n=n_log)
    return float(pmf[stat >= observed * (1 - 1e-9)].sum())


@pytest.mark.parametrize("ones", [0, 2, 9, 14, 18, 30])
def test_two_columns_get_the_exact_tail_at_any_depth(ones: int) -> None:
    """A 5% flag, 100,000 training values, 100 in the log with `ones` ones: the exact tail by
    enumeration, where the chi-square distribution's is up to 1,000 times too small (a flag's
    stationary `trend` windows alerted on it); at large counts the asymptotic p-value where
    it is at least 0.001, the exact one below."""
    from mlmon.stats.drift import chi_square_test

    table = np.array([[95_000, 5_000], [100 - ones, ones]])
    stat, p, method = chi_square_test(table)
    assert method == "exact"
    assert stat == pytest.approx(stats.chi2_contingency(table, correction=False).statistic, rel=1e-9)
    assert p == pytest.approx(_enumerated_p(table), rel=1e-9)
    for log in ([270, 230], [330, 170]):
        big = np.array([[5_000, 5_000], log])
        _, p_big, m_big = chi_square_test(big)
        ref = stats.chi2_contingency(big, correction=False).pvalue
        if ref >= 0.001:
            assert m_big == "asymptotic" and p_big == pytest.approx(ref, rel=1e-12)
        else:
            assert m_big == "exact" and p_big == pytest.approx(_enumerated_p(big), rel=1e-9)


def test_a_billion_training_values_still_get_a_monte_carlo_p() -> None:
    """numpy's hypergeometric draws stop below a total of 1e9: a larger baseline (a saved one may
    count billions) draws the log's row multinomially, and agrees with the exact tail."""
    from mlmon.stats.drift import HYPERGEOMETRIC_LIMIT, chi_square_test

    shares = np.array([0.9, 0.07, 0.03])
    table = np.array([shares * HYPERGEOMETRIC_LIMIT * 3, [82, 10, 8]])
    stat, p, method = chi_square_test(table)
    ref = stats.chi2_contingency(table, correction=False)
    assert method == "monte_carlo" and stat == pytest.approx(ref.statistic, rel=1e-9)
    small = np.array([shares * 100_000, [82, 10, 8]])
    exact_p = _enumerated_p(small)
    assert p == pytest.approx(exact_p, abs=4.5 * math.sqrt(exact_p / 20_000) + 1e-4)
    # the same shares below the limit (hypergeometric draws) give nearly the same p-value
    assert chi_square_test(small)[1] == pytest.approx(p, abs=0.01)


def test_large_expected_counts_keep_the_asymptotic_p(rng: np.random.Generator) -> None:
    cats = np.array(["a", "b", "c"], dtype=object)
    train, log = rng.choice(cats, 5000, p=[0.5, 0.3, 0.2]), rng.choice(cats, 600, p=[0.5, 0.3, 0.2])
    r = drift_of(exact(c=list(train)), c=list(log))["c"]
    tbl = np.array([[np.sum(train == c) for c in cats], [np.sum(log == c) for c in cats]])
    ref = stats.chi2_contingency(tbl, correction=False)
    assert ref.expected_freq.min() >= 10 and r.p_method == "asymptotic"
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_monte_carlo_p_is_calibrated_in_the_tail(rng: np.random.Generator) -> None:
    """Stationary 5% flags in windows of 100: p <= 0.01 in at most its share of windows (the
    chi-square p-value was below 0.002 in twice its share)."""
    b = gridded(x=(rng.random(100_000) < 0.05).astype(float))
    acc = DriftAccumulator(b)
    ps = []
    for _ in range(600):
        acc = DriftAccumulator(b)
        acc.update(pa.table({FEATURE_PREFIX + "x": (rng.random(100) < 0.05).astype(float)}))
        ps.append(acc.result()[0].p_value)
    p = np.array(ps)
    # binomial upper 99.9% limit of the count at the nominal rate
    assert np.count_nonzero(p <= 0.01) <= stats.binom.ppf(0.999, 600, 0.01)
    assert np.count_nonzero(p <= 0.05) <= stats.binom.ppf(0.999, 600, 0.05)


def _three_column_table(log: list[int]) -> tuple[np.ndarray, float]:
    """A 3-level category: 100,000 training values (90/7/3%) and a log of 100, and its exact
    conditional tail by enumeration."""
    table = np.array([[90_000, 7_000, 3_000], log])
    return table, _enumerated_p(table)


@pytest.mark.parametrize("log", [[81, 8, 11], [80, 8, 12]])
def test_monte_carlo_p_resolves_the_far_tail(log: list[int]) -> None:
    """Under 0.001 the Monte Carlo p-value draws 200,000 tables, and agrees with the exact
    conditional tail there, where the chi-square distribution is several times too small."""
    from mlmon.stats.drift import MONTE_CARLO_DRAWS, chi_square_test

    table, exact_p = _three_column_table(log)
    stat, p, method = chi_square_test(table)
    ref = stats.chi2_contingency(table, correction=False)
    assert method == "monte_carlo" and stat == pytest.approx(ref.statistic, rel=1e-9)
    draws = sum(MONTE_CARLO_DRAWS)
    assert exact_p < 0.001 and ref.pvalue < exact_p / 2
    hits = p * (draws + 1) - 1  # a Monte Carlo p-value is (hits + 1) / (draws + 1)
    assert hits == pytest.approx(round(hits), abs=1e-6)
    assert p == pytest.approx(exact_p, abs=4.5 * math.sqrt(exact_p / draws) + 1 / draws)


def test_monte_carlo_p_never_falls_below_its_draws() -> None:
    """A table beyond every drawn one is only known to be beyond them: p = 1/(draws + 1), at or
    above the exact tail (the chi-square distribution's p-value was taken there before, far
    too small, and stationary 40-level categories alerted in `trend`)."""
    from mlmon.stats.drift import MONTE_CARLO_DRAWS, chi_square_test

    table, exact_p = _three_column_table([78, 7, 15])
    _, p, _ = chi_square_test(table)
    assert p == 1 / (sum(MONTE_CARLO_DRAWS) + 1)
    assert p >= exact_p > stats.chi2_contingency(table, correction=False).pvalue * 10
    # a 40-level category whose log has one rare level 30 times over: beyond every table
    base = np.round(100_000 / np.arange(1, 41) / sum(1 / np.arange(1, 41))).astype(int)
    log = np.round(470 / np.arange(1, 41) / sum(1 / np.arange(1, 41))).astype(int)
    log[-1] += 30
    _, p, method = chi_square_test(np.array([base, log]))
    assert method == "monte_carlo" and p == 1 / (sum(MONTE_CARLO_DRAWS) + 1)


def test_monte_carlo_batches_stop_at_their_cuts() -> None:
    """A p-value at or above 0.02 comes from the first 1,000 tables, one in [0.001, 0.02) from
    20,000, a smaller one from 200,000: the batches are cut so the p-value is exact whichever
    batch it stops at, and each agrees with the exact tail."""
    from mlmon.stats.drift import MONTE_CARLO_DRAWS, MONTE_CARLO_MORE, chi_square_test

    sizes = list(np.cumsum(MONTE_CARLO_DRAWS))
    cuts = [1.0, *MONTE_CARLO_MORE, 0.0]
    for log, drawn in (([86, 8, 6], sizes[0]), ([83, 8, 9], sizes[1]), ([80, 8, 12], sizes[2])):
        table, exact_p = _three_column_table(log)
        _, p, _ = chi_square_test(table)
        hits = p * (drawn + 1) - 1
        assert hits == pytest.approx(round(hits), abs=1e-6) and hits >= 0
        i = sizes.index(drawn)
        assert cuts[i + 1] <= p or drawn == sizes[-1]
        assert p == pytest.approx(exact_p, abs=4.5 * math.sqrt(exact_p / drawn) + 1 / drawn)


def test_monte_carlo_stops_when_the_other_p_decides() -> None:
    """Beside another p-value (`enough`: the unseen values' test, or KS beside the tail test),
    the chi-square's draws stop once they cannot go below it: the smaller of the two is the same
    as with every table drawn."""
    from mlmon.stats.drift import chi_square_test

    table, _ = _three_column_table([78, 7, 15])
    _, full, _ = chi_square_test(table)
    for enough in (1e-9, 1e-5, 1e-3, 0.5):
        _, p, _ = chi_square_test(table, enough=enough)
        assert min(p, enough) == min(full, enough)
        other = _Asked(enough)
        _, p, _ = chi_square_test(table, enough=other)
        assert min(p, enough) == min(full, enough) and other.calls == 1
    # the other p-value is asked for only when more tables would be drawn
    other = _Asked(1.0)
    _, p, _ = chi_square_test(_three_column_table([86, 8, 6])[0], enough=other)
    assert p >= 0.02 and other.calls == 0


class _Asked:
    """Another p-value, counting how often it is asked for."""

    def __init__(self, p: float) -> None:
        self.p, self.calls = p, 0

    def __call__(self) -> float:
        self.calls += 1
        return self.p


def test_all_equal_small_window_is_not_a_precise_mean(rng: np.random.Generator) -> None:
    """No 1 in 100 values of a 5% flag (p 0.006 on stationary data) was a mean alert: the log's
    std of 0 made its mean look exact. The log's mean now gets the larger variance."""
    train = (rng.random(100_000) < 0.05).astype(float)
    r = drift_of(gridded(x=train), x=np.zeros(100))["x"]
    divisor = max(abs(train.mean()), train.std(ddof=1))
    se = math.sqrt(train.var(ddof=1) / 100 + train.var(ddof=1) / 100_000)
    z = (train.mean() / divisor - 0.2) / (se / divisor)
    assert r.mean_deviation == pytest.approx(train.mean() / divisor, rel=1e-9)
    assert r.mean_se == pytest.approx(se / divisor, rel=1e-9)
    assert r.mean_p_value == pytest.approx(stats.norm.sf(z), rel=1e-9)
    assert r.mean_p_value > 0.3 and r.mean_shift is False
    assert "mean_deviation.x" not in alerts_of(gridded(x=train), x=np.zeros(100))


# ------------------------------------------------------------- one decision rule


def test_drift_level_is_the_rule_alerts_use(rng: np.random.Generator) -> None:
    from mlmon.stats.drift import at_mean_tolerance, drift_level, mean_shifted

    b = gridded(x=rng.normal(0, 1, 20_000), y=rng.normal(10, 2, 20_000))
    res = drift_of(b, x=rng.normal(0.3, 1, 3000), y=rng.normal(10.6, 2, 3000))
    o = DriftOptions()
    al = alerts_of(b, x=rng.normal(0.3, 1, 3000), y=rng.normal(10.6, 2, 3000))
    for f in res.values():
        level = drift_level(f, o)
        want = None
        if f.p_value_adjusted < 0.05 and f.effect_high >= 0.05:
            want = "critical" if f.effect_low >= 0.25 else "warning"
        assert level == want and f.drift == (want is not None)
    assert al["drift.x"].severity is Severity.WARNING
    # a rule's own limits: the same rule with other numbers
    x = res["x"]
    assert drift_level(x, o, warning=None, critical=x.effect_low * 0.99) == "critical"
    assert drift_level(x, o, warning=x.effect_high * 1.01, critical=None) is None
    # another mean tolerance: the mean tests are redone and BH-adjusted together again
    # (the joint test of the numeric features is one more test of the same family)
    redone = {f.name: f for f in at_mean_tolerance(tuple(res.values()), 0.05, o)}
    feats = [f for f in res.values() if f.role == "feature"]
    tests = [f.p_value for f in res.values() if f.p_value is not None]
    family = tests + [stats.norm.sf((f.mean_deviation - 0.05) / f.mean_se) for f in feats] + [
        f.out_of_range_p_value for f in res.values() if f.out_of_range_p_value is not None]
    adj = stats.false_discovery_control(family, method="bh")
    means = list(adj[len(tests):len(tests) + 2])
    assert [redone[f.name].mean_p_value_adjusted for f in feats] == pytest.approx(means, rel=1e-9)
    assert mean_shifted(redone["y"], DriftOptions(mean_tolerance=0.05)) == bool(
        res["y"].mean_deviation > 0.05 and means[1] < 0.05)


def test_mean_test_of_a_tiny_constant_baseline_does_not_overflow() -> None:
    """A baseline mean of 8e-305 with std 0: the relative deviation and its standard error both
    overflow to inf, and inf / inf gave a NaN p-value that BH refused (a crash)."""
    r = drift_of(exact(x=np.array([8.399629055352983e-305])), DriftOptions(min_samples=1),
                 x=np.array([0.0, 30200.0]))["x"]
    assert r.mean_p_value is not None and 0.0 <= r.mean_p_value <= 1.0
    # on the scaled values the z is finite: the mean moved by 15100 against its standard error
    # (the log's own sample std; the baseline's is 0), and BH only raises a p-value
    z = 15100 / (np.std([0.0, 30200.0], ddof=1) / math.sqrt(2))
    assert r.mean_p_value >= stats.norm.sf(z) * (1 - 1e-9)
    assert r.mean_p_value <= 2 * stats.norm.sf(z) * (1 + 1e-9)
