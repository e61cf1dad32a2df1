"""Drift: KS against scipy, chi-square, BH, verdicts, mean deviation, merging."""

from __future__ import annotations

import math
import warnings
from typing import Any
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from mlmon.read.records import FEATURE_PREFIX
from mlmon.stats import baseline as bl
from mlmon.stats import drift as drift_mod
from mlmon.stats.drift import (
    DriftAccumulator,
    DriftOptions,
    FeatureDrift,
    chi_square_table,
)

FAST = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def train_table(**cols: Any) -> pa.Table:
    return pa.table({k: pa.array(v) for k, v in cols.items()})


def log_table(**cols: Any) -> pa.Table:
    out = {}
    for k, v in cols.items():
        if isinstance(v, np.ndarray) and v.dtype.kind in "fi":
            out[FEATURE_PREFIX + k] = pa.array(v.astype(np.float64))
        else:
            out[FEATURE_PREFIX + k] = pa.array(v, pa.string() if _texty(v) else pa.float64())
    return pa.table(out)


def _texty(v: Any) -> bool:
    return any(isinstance(x, str) for x in v)


def drift_of(b: bl.Baseline, options: DriftOptions | None = None, chunks: int = 1,
             **log: Any) -> dict[str, FeatureDrift]:
    acc = DriftAccumulator(b)
    t = log_table(**log)
    step = max(1, -(-t.num_rows // chunks))
    for start in range(0, t.num_rows, step):
        acc.update(t.slice(start, step))
    return {r.name: r for r in acc.result(options)}


def exact(**train: Any) -> bl.Baseline:
    return bl.build(train_table(**train), source="train", max_edges=None)


# --------------------------------------------------------------------- KS against scipy


@pytest.mark.parametrize(("n_train", "n_log", "shift"),
                         [(40, 35, 0.0), (500, 300, 0.3), (3000, 2000, 0.05), (10000, 9000, 0.03)])
def test_ks_small_samples_exact_like_scipy(rng: np.random.Generator, n_train: int, n_log: int,
                                           shift: float) -> None:
    train = rng.normal(0, 1, n_train)
    log = rng.normal(shift, 1, n_log)
    r = drift_of(exact(x=train), x=log, chunks=3)["x"]
    ref = stats.ks_2samp(train, log)  # exact for max(n, m) <= 10000
    assert r.status == "ok" and r.test == "ks" and r.exact
    assert r.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert r.ks_p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    assert r.ks_p_value == pytest.approx(stats.ks_2samp(train, log, method="exact").pvalue, rel=1e-9)
    assert r.p_method == "exact"
    assert r.n == n_log and r.baseline_n == n_train


@pytest.mark.parametrize(("n_train", "n_log"), [(300, 200), (4000, 2500)])
def test_ks_small_samples_with_ties(rng: np.random.Generator, n_train: int, n_log: int) -> None:
    # more than FEW_VALUES distinct values: KS with ties (fewer are tested on counts)
    train = rng.poisson(400, n_train).astype(float)
    log = rng.poisson(404, n_log).astype(float)
    r = drift_of(exact(x=train), x=log)["x"]
    assert r.test == "ks" and len(set(train.tolist())) > drift_mod.TIED_VALUES
    ref = stats.ks_2samp(train, log)
    assert r.statistic == pytest.approx(ref.statistic, abs=1e-12)
    assert r.ks_p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(("n_train", "n_log"), [(12000, 15000), (20000, 800), (900, 11000)])
def test_ks_large_samples_asymptotic_like_scipy(rng: np.random.Generator, ties: bool,
                                                n_train: int, n_log: int) -> None:
    if ties:
        train = rng.integers(0, 80, n_train).astype(float)
        log = np.minimum(rng.integers(0, 82, n_log), 79).astype(float)
    else:
        train = rng.normal(0, 1, n_train)
        log = rng.normal(0.04, 1, n_log)
    r = drift_of(exact(x=train), x=log, chunks=4)["x"]
    asymp = stats.ks_2samp(train, log, method="asymp")
    default = stats.ks_2samp(train, log)
    assert r.exact and r.p_method == "asymptotic"
    assert r.statistic == pytest.approx(asymp.statistic, abs=1e-12)
    assert r.ks_p_value == pytest.approx(asymp.pvalue, rel=1e-9, abs=1e-300)
    assert r.ks_p_value == pytest.approx(default.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("ties", [False, True])
def test_gridded_baseline_d_within_bin_mass(rng: np.random.Generator, ties: bool) -> None:
    if ties:
        train = np.round(rng.gamma(2.0, 50.0, 60000), 1)
        log = np.round(rng.gamma(2.2, 50.0, 4000), 1)
    else:
        train = rng.standard_t(5, 60000)
        log = rng.standard_t(5, 4000) + 0.1
    grid = bl.build(train_table(x=train), source="t", max_edges=1001)
    assert not grid.features[0].numeric.exact
    assert len(grid.features[0].numeric.edges) <= 1001
    r = drift_of(grid, x=log)["x"]
    d_exact = stats.ks_2samp(train, log).statistic
    assert not r.exact
    assert abs(r.statistic - d_exact) <= 0.002
    # D on the grid is the exact D at the edges: a lower bound within one bin's mass
    edges = np.array(grid.features[0].numeric.edges)
    s_train, s_log = np.sort(train), np.sort(log)
    at_edges = np.abs(np.searchsorted(s_train, edges, side="right") / len(train)
                      - np.searchsorted(s_log, edges, side="right") / len(log))
    assert r.statistic == pytest.approx(at_edges.max(), abs=1e-12)
    assert r.statistic <= d_exact + 1e-12
    # p-value from the Kolmogorov distribution with the true n and m
    en = round(len(train) * len(log) / (len(train) + len(log)))
    assert r.ks_p_value == pytest.approx(stats.kstwo.sf(r.statistic, en), rel=1e-9)


# --------------------------------------------------------------------- chi-square


def test_chi_square_matches_scipy(rng: np.random.Generator) -> None:
    cats = np.array(["a", "b", "c", "d"], dtype=object)
    train = rng.choice(cats, 3000, p=[0.4, 0.3, 0.2, 0.1])
    log = rng.choice(cats, 800, p=[0.35, 0.3, 0.2, 0.15])
    r = drift_of(exact(c=list(train)), c=list(log))["c"]
    tbl = np.array([[np.sum(train == c) for c in cats], [np.sum(log == c) for c in cats]])
    ref = stats.chi2_contingency(tbl, correction=False)
    assert ref.expected_freq.min() >= 5  # the case where nothing is merged
    assert r.test == "chi_square" and r.status == "ok"
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def _merged_by_hand(base: dict[str, int], log: dict[str, int]) -> np.ndarray:
    """Rare seen columns (expected < 5) pooled together; then the pool grows until it is >= 5.
    The largest seen column is never pooled (when every seen column is rare it stays on its
    own, so the seen values keep two columns). Categories the baseline never had form one
    column of their own, last.

    Columns are ordered by total count, ties by name, as chi_square_table orders them.
    """
    unseen = sum(v for c, v in log.items() if base.get(c, 0) == 0)
    cats = sorted((c for c in set(base) | set(log) if base.get(c, 0) > 0),
                  key=lambda c: (-(base.get(c, 0) + log.get(c, 0)), c))
    tbl = np.array([[base.get(c, 0) for c in cats], [log.get(c, 0) for c in cats]], float)
    rows = np.array([sum(base.values()), sum(log.values())], float)
    grand = rows.sum()
    exp_min = rows.min() * tbl.sum(axis=0) / grand
    keep = [i for i in range(len(cats)) if exp_min[i] >= 5]
    rare = [i for i in range(len(cats)) if exp_min[i] < 5]
    if rare and not keep:
        keep = [rare.pop(0)]
    pooled = tbl[:, rare].sum(axis=1)
    while rare and rows.min() * pooled.sum() / grand < 5 and len(keep) > 1:
        pooled = pooled + tbl[:, keep.pop()]
    cols = [tbl[:, i] for i in keep] + ([pooled] if rare else [])
    if unseen:
        cols.append(np.array([0.0, unseen]))
    return np.array(cols).T


def test_rare_categories_are_merged_until_expected_at_least_5() -> None:
    base = {"a": 1000, "b": 4, "c": 4, "d": 4}
    log = {"a": 1000, "b": 4, "c": 4, "d": 4}
    tbl, names = chi_square_table(base, log)
    exp = stats.chi2_contingency(tbl, correction=False).expected_freq
    assert exp.min() >= 5
    assert names == ["a", "(other)"]
    assert tbl.tolist() == [[1000, 12], [1000, 12]]
    assert tbl.sum() == sum(base.values()) + sum(log.values())


@FAST
@given(base=st.dictionaries(st.sampled_from("abcdefghij"), st.integers(0, 300), min_size=1),
       log=st.dictionaries(st.sampled_from("abcdefghijxyz"), st.integers(0, 300), min_size=1))
def test_chi_square_table_properties(base: dict[str, int], log: dict[str, int]) -> None:
    # drift runs the test only with at least --min-samples (30) values a side
    if sum(base.values()) < 30 or sum(log.values()) < 30:
        return
    tbl, names = chi_square_table(base, log)
    assert tbl.shape == (2, len(names))
    assert tbl[0].sum() == sum(base.values()) and tbl[1].sum() == sum(log.values())
    unseen = sum(v for c, v in log.items() if base.get(c, 0) == 0)
    # a category the baseline never had is never merged into a seen one
    assert ("(unseen)" in names) == (unseen > 0)
    if unseen:
        assert names[-1] == "(unseen)" and tbl[:, -1].tolist() == [0, unseen]
    seen = tbl[:, : len(names) - (1 if unseen else 0)]
    if seen.shape[1] > 2:
        exp = tbl.sum(axis=1).min() * seen.sum(axis=0) / tbl.sum()
        assert exp.min() >= 5
    hand = _merged_by_hand(base, log)
    if hand.shape[1] >= 2 and tbl.shape[1] >= 2 and tbl.sum(axis=0).min() > 0:
        assert stats.chi2_contingency(tbl, correction=False).statistic == pytest.approx(
            stats.chi2_contingency(hand, correction=False).statistic, rel=1e-9)


def _union_by_hand(base: dict[str, int], log: dict[str, int]) -> np.ndarray:
    """The drift test's table when the log has unseen values: every category of either side a
    column, ordered by total count (ties by name), the rare ones (expected < 5) pooled."""
    cats = sorted(set(base) | set(log), key=lambda c: (-(base.get(c, 0) + log.get(c, 0)), c))
    tbl = np.array([[base.get(c, 0) for c in cats], [log.get(c, 0) for c in cats]], float)
    rows = tbl.sum(axis=1)
    exp_min = rows.min() * tbl.sum(axis=0) / rows.sum()
    keep = [i for i in range(len(cats)) if exp_min[i] >= 5]
    rare = [i for i in range(len(cats)) if exp_min[i] < 5]
    if not keep:
        keep = [rare.pop(0)]
    if len(rare) == 1:  # a single rare column stays as it is; the pool absorbs no larger one
        keep, rare = keep + rare, []
    pooled = tbl[:, rare].sum(axis=1)
    return np.array([tbl[:, i] for i in keep] + ([pooled] if rare else [])).T


def test_rare_and_unseen_categories(rng: np.random.Generator) -> None:
    """Unseen values: the chi-square on the union of both sides' categories (rare ones of
    either side pooled) and the unseen count against the baseline's Good-Turing share (f1 / n,
    Esty's standard error, a beta-binomial tail), combined by Bonferroni."""
    train = ["a"] * 600 + ["b"] * 300 + ["c"] * 97 + ["r1"] * 2 + ["r2"] * 1
    log = ["a"] * 140 + ["b"] * 40 + ["c"] * 10 + ["new"] * 8 + ["zz"] * 2
    rng.shuffle(log)
    r = drift_of(exact(c=train), c=log, chunks=3)["c"]
    assert r.unseen_categories == (("new", 8 / 200), ("zz", 2 / 200))
    base = {"a": 600, "b": 300, "c": 97, "r1": 2, "r2": 1}
    got = {"a": 140, "b": 40, "c": 10, "new": 8, "zz": 2}
    hand = _union_by_hand(base, got)
    ref = stats.chi2_contingency(hand, correction=False)
    assert hand.shape[1] == 4  # a, b, c and the rare ones (r1, r2, new, zz) pooled
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    # Good-Turing: one singleton (r2) in 1000 values, one doubleton (r1)
    share, se = 1 / 1000, math.sqrt(1 * (1 - 1 / 1000) + 2 * 1) / 1000
    assert r.unseen_expected == pytest.approx(share) and r.unseen_expected_se == pytest.approx(se)
    k = min(1000, share * (1 - share) / se**2)
    p_new = stats.betabinom.sf(9, 200, share * k + 0.5, (1 - share) * k + 0.5)
    assert r.unseen_p_value == pytest.approx(p_new, rel=1e-9)
    # the pooled column expects 2.2 values: a Monte Carlo p-value, and no drawn table reaches
    # this one, so it is 1/(draws + 1), never the chi-square distribution's 100 times smaller tail
    from mlmon.stats.drift import MONTE_CARLO_DRAWS, chi_square_test

    assert ref.expected_freq.min() < 10 and r.p_method == "monte_carlo"
    p_union = chi_square_test(hand)[1]
    assert p_union == 1 / (sum(MONTE_CARLO_DRAWS) + 1) > ref.pvalue * 100
    assert r.p_value == pytest.approx(min(1.0, 2 * min(p_union, p_new)), rel=1e-9)
    # PSI and total variation on the tested columns, PSI with half a count added to each cell
    e, a = hand[0] + 0.5, hand[1] + 0.5
    e, a = e / e.sum(), a / a.sum()
    assert r.psi == pytest.approx(np.sum((a - e) * np.log(a / e)), rel=1e-9)
    tv = 0.5 * np.abs(hand[0] / hand[0].sum() - hand[1] / hand[1].sum()).sum()
    assert r.effect_measure == "tv" and r.effect_size == pytest.approx(tv, rel=1e-12)
    assert r.effect_low is not None and r.effect_high is not None
    assert r.effect_low <= r.effect_size <= r.effect_high
    assert r.unseen_share == pytest.approx(0.05) and r.unseen_distinct == 2


def test_renamed_category_is_not_merged_away() -> None:
    """red/green/blue 50/30/20 against red/green/BLUE: BLUE must not hide in blue's column."""
    train = ["red"] * 50000 + ["green"] * 30000 + ["blue"] * 20000
    log = ["red"] * 500 + ["green"] * 300 + ["BLUE"] * 200
    r = drift_of(exact(c=train), c=log)["c"]
    raw = np.array([[50000, 30000, 20000, 0], [500, 300, 0, 200]])
    ref = stats.chi2_contingency(raw, correction=False)
    assert ref.statistic > 10000
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9)
    # BLUE's column expects 2 log values: the chi-square's p-value is a Monte Carlo one, floored
    # at 1/(draws + 1); the 200 unseen values against a predicted share of 0 decide instead
    assert r.p_method == "monte_carlo" and r.unseen_p_value is not None and r.unseen_p_value < 1e-9
    assert r.p_value == pytest.approx(2 * r.unseen_p_value, rel=1e-12)
    assert r.drift is True
    assert r.unseen_categories == (("BLUE", 0.2),)


def test_booleans_as_categories_match() -> None:
    b = bl.build(train_table(flag=[True] * 60 + [False] * 40), source="t", max_edges=None)
    r = drift_of(b, flag=["true"] * 30 + ["false"] * 20)["flag"]
    assert r.unseen_categories == ()
    assert r.statistic == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------- BH and verdicts


def test_benjamini_hochberg_matches_scipy(rng: np.random.Generator) -> None:
    n = 400
    train = {f"f{i}": rng.normal(0, 1, 2000) for i in range(6)}
    train["cat"] = list(rng.choice(np.array(["u", "v", "w"], dtype=object), 2000))
    train["gone"] = rng.normal(0, 1, 2000)
    b = exact(**train)
    log = {f"f{i}": rng.normal(0.05 * i, 1, n) for i in range(6)}
    log["cat"] = list(rng.choice(np.array(["u", "v", "w"], dtype=object), n, p=[0.4, 0.3, 0.3]))
    res = drift_of(b, **log)
    assert res["gone"].status == "missing" and res["gone"].p_value_adjusted is None
    tested = [r for r in res.values() if r.p_value is not None]
    means = [r for r in res.values() if r.mean_p_value is not None]
    assert len(tested) == 7 and len(means) == 6
    # one family: every drift test and every mean test of the run, and the data-quality tests
    # (values outside training's range here) that have something to test
    oor = [r for r in res.values() if r.out_of_range_p_value is not None]
    want = stats.false_discovery_control([r.p_value for r in tested] + [r.mean_p_value for r in means]
                                         + [r.out_of_range_p_value for r in oor], method="bh")
    got = [r.p_value_adjusted for r in tested] + [r.mean_p_value_adjusted for r in means] + [
        r.out_of_range_p_value_adjusted for r in oor]
    assert got == pytest.approx(list(want), rel=1e-12)
    for r in tested:
        assert r.drift == (r.p_value_adjusted < 0.05 and r.effect_high >= 0.05)


def test_single_feature_is_adjusted_with_its_mean_test(rng: np.random.Generator) -> None:
    r = drift_of(exact(x=rng.normal(size=500)), x=rng.normal(0.3, 1, 200))["x"]
    want = stats.false_discovery_control([r.p_value, r.mean_p_value], method="bh")
    assert [r.p_value_adjusted, r.mean_p_value_adjusted] == pytest.approx(list(want), rel=1e-12)
    only = drift_of(exact(c=["a"] * 300 + ["b"] * 200), c=["a"] * 20 + ["b"] * 30)["c"]
    assert only.p_value_adjusted == only.p_value  # one test alone: nothing to adjust


def test_verdict_needs_effect_size(rng: np.random.Generator) -> None:
    train = rng.normal(0, 1, 40000)
    log = rng.normal(0.08, 1, 40000)
    ref = stats.ks_2samp(train, log)
    assert ref.pvalue < 0.001 and ref.statistic < 0.1  # significant but small
    b = exact(x=train)
    default = drift_of(b, x=log)["x"]
    p_rule = drift_of(b, DriftOptions(min_effect=0.0), x=log)["x"]
    assert default.ks_p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert default.drift is False
    assert p_rule.drift is True

    big = rng.normal(0.6, 1, 3000)
    assert drift_of(b, x=big)["x"].drift is True
    same = rng.normal(0, 1, 3000)
    r = drift_of(b, DriftOptions(min_effect=0.0), x=same)["x"]
    assert r.drift == (stats.ks_2samp(train, same).pvalue < 0.05)


def test_p_threshold_option(rng: np.random.Generator) -> None:
    train, log = rng.normal(0, 1, 1000), rng.normal(0.25, 1, 300)
    p = float(stats.ks_2samp(train, log).pvalue)
    d = float(stats.ks_2samp(train, log).statistic)
    assert d >= 0.1 and 1e-6 < p < 0.05
    b = exact(x=train)
    adjusted = drift_of(b, x=log)["x"].p_value_adjusted
    assert adjusted >= p
    assert drift_of(b, DriftOptions(p_threshold=adjusted * 1.01), x=log)["x"].drift is True
    assert drift_of(b, DriftOptions(p_threshold=adjusted * 0.99), x=log)["x"].drift is False


def test_min_samples_and_absent_features(rng: np.random.Generator) -> None:
    b = exact(x=rng.normal(size=500), y=rng.normal(size=500),
              c=list(rng.choice(np.array(["a", "b"], dtype=object), 500)))
    res = drift_of(b, x=rng.normal(3, 1, 20), c=["a"] * 20)
    assert res["x"].status == "insufficient_data" and res["x"].drift is False
    assert res["x"].p_value is None and res["x"].n == 20
    assert res["x"].mean_shift is False  # insufficient data: no verdict of any kind
    assert res["c"].status == "insufficient_data" and res["c"].drift is False
    assert res["y"].status == "missing" and res["y"].n == 0 and res["y"].drift is False
    lowered = drift_of(b, DriftOptions(min_samples=10), x=rng.normal(3, 1, 20), c=["a"] * 20)
    assert lowered["x"].status == "ok" and lowered["x"].drift is True
    assert lowered["c"].status == "ok"

    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "x": pa.nulls(50, pa.float64())}))
    assert {r.name: r.status for r in acc.result()}["x"] == "missing"


def test_small_baseline_is_insufficient(rng: np.random.Generator) -> None:
    b = exact(x=rng.normal(size=20))
    assert drift_of(b, x=rng.normal(size=500))["x"].status == "insufficient_data"


# --------------------------------------------------------------------- mean deviation


def test_mean_deviation_relative(rng: np.random.Generator) -> None:
    train = rng.normal(10, 1, 1000)
    log = rng.normal(12.5, 1, 200)
    r = drift_of(exact(x=train), x=log)["x"]
    assert r.mean_deviation_kind == "relative"
    assert r.mean == pytest.approx(log.mean(), rel=1e-12)
    assert r.baseline_mean == pytest.approx(train.mean(), rel=1e-12)
    assert r.mean_deviation == pytest.approx(abs(log.mean() - train.mean()) / abs(train.mean()))
    assert r.mean_shift is True
    small = drift_of(exact(x=train), x=rng.normal(10.5, 1, 200))["x"]
    assert small.mean_shift is False


def test_mean_deviation_in_std_units_near_zero(rng: np.random.Generator) -> None:
    train = rng.normal(0, 1, 1000)
    train = train - train.mean() + 0.01  # |mean| < 0.1 std
    log = rng.normal(0.15, 1, 300)
    r = drift_of(exact(x=train), x=log)["x"]
    assert r.mean_deviation_kind == "std"
    want = abs(log.mean() - train.mean()) / train.std(ddof=1)
    assert r.mean_deviation == pytest.approx(want, rel=1e-9)
    assert r.mean_shift is bool(want > 0.2 and r.mean_p_value_adjusted < 0.05)


# --------------------------------------------------------------------- properties


def _values(ints: bool) -> st.SearchStrategy[list[float]]:
    elem = (st.integers(-5, 5).map(float) if ints
            else st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False))
    return st.lists(elem, min_size=0, max_size=120)


@FAST
@given(ints=st.booleans(), data=st.data())
def test_drift_merge_of_parts_equals_whole(ints: bool, data: st.DataObject) -> None:
    train = np.array(data.draw(_values(ints).filter(lambda v: len(v) >= 1)))
    log = np.array(data.draw(_values(ints)))
    cut = data.draw(st.integers(0, len(log)))
    max_edges = data.draw(st.sampled_from([None, 5]))
    b = bl.build(train_table(x=train), source="t", max_edges=max_edges)
    opts = DriftOptions(min_samples=1)

    batch = data.draw(st.sampled_from([1, 3, drift_mod.COUNT_BATCH]))  # counted as they come, or at the end

    whole = DriftAccumulator(b)
    whole.update(log_table(x=log))
    left, right = DriftAccumulator(b), DriftAccumulator(b)
    with mock.patch.object(drift_mod, "COUNT_BATCH", batch):
        left.update(log_table(x=log[:cut]))
        right.update(log_table(x=log[cut:]))
    left.merge(right)
    whole.settle()
    left.settle()
    w, m = whole.numeric["x"], left.numeric["x"]
    assert np.array_equal(w.counts, m.counts)
    assert w.counts.sum() == len(log) == w.n == m.n
    if len(log):
        assert m.mean == pytest.approx(log.mean(), rel=1e-9, abs=1e-6)
        assert m.m2 == pytest.approx(((log - log.mean()) ** 2).sum(), rel=1e-6, abs=1e-3)
    rw, rm = whole.result(opts)[0], left.result(opts)[0]
    assert (rw.status, rw.n, rw.drift) == (rm.status, rm.n, rm.drift)
    if rw.statistic is not None:
        assert rm.statistic == pytest.approx(rw.statistic, abs=1e-12)
        assert rm.p_value == pytest.approx(rw.p_value, rel=1e-9, abs=1e-300)


@FAST
@given(ints=st.booleans(), data=st.data())
def test_no_drift_against_itself(ints: bool, data: st.DataObject) -> None:
    values = np.array(data.draw(_values(ints).filter(lambda v: len(v) >= 30)))
    r = drift_of(exact(x=values), x=values, chunks=2)["x"]
    assert r.status == "ok"
    assert r.statistic == 0.0
    assert r.p_value == pytest.approx(1.0)
    assert r.drift is False
    if len(set(values.tolist())) > 1:  # PSI needs at least two baseline values
        assert r.psi == pytest.approx(0.0, abs=1e-12)
    assert r.mean_shift is False

    # on a coarse grid too: the CDFs agree at every edge
    grid = bl.build(train_table(x=values), source="t", max_edges=6)
    g = drift_of(grid, DriftOptions(min_effect=0.0), x=values)["x"]
    assert g.statistic == pytest.approx(0.0, abs=1e-12)
    assert g.p_value == pytest.approx(1.0)
    assert g.drift is False


@FAST
@given(st.lists(st.sampled_from(["a", "b", "c", "True", "false"]), min_size=30, max_size=200))
def test_categories_do_not_drift_against_themselves(values: list[str]) -> None:
    b = exact(c=values)
    normalized = [v.lower() if v.lower() in ("true", "false") else v for v in values]
    r = drift_of(b, c=normalized)["c"]
    assert r.status == "ok" and r.drift is False
    assert r.statistic == pytest.approx(0.0, abs=1e-9)
    assert r.p_value == pytest.approx(1.0)
    assert r.unseen_categories == ()
    assert r.psi == pytest.approx(0.0, abs=1e-12)


def test_numeric_psi_on_baseline_deciles(rng: np.random.Generator) -> None:
    train = rng.normal(0, 1, 5000)
    log = rng.normal(0.3, 1.2, 1500)
    r = drift_of(exact(x=train), x=log)["x"]
    s = np.sort(train)
    # decile cuts: the smallest training value whose CDF reaches k/10
    cuts = np.array([s[int(np.ceil(k / 10 * len(s))) - 1] for k in range(1, 10)])
    base = np.diff(np.concatenate(([0.0], [np.mean(train <= c) for c in cuts], [1.0])))
    got = np.diff(np.concatenate(([0.0], [np.mean(log <= c) for c in cuts], [1.0])))
    base = np.round(base * len(train)) + 0.5
    got = np.round(got * len(log)) + 0.5
    base, got = base / base.sum(), got / got.sum()
    assert r.psi == pytest.approx(np.sum((got - base) * np.log(got / base)), rel=1e-9)


@pytest.mark.parametrize("scipy_falls_back", [False, True])
def test_p_method_says_when_scipy_fell_back_to_asymptotic(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator, scipy_falls_back: bool
) -> None:
    train, log = rng.normal(size=300), rng.normal(0.3, 1, size=200)
    original = stats.ks_2samp

    def ks_2samp(*args: Any, **kwargs: Any) -> Any:
        if scipy_falls_back:  # what scipy says when its exact p-value fails
            warnings.warn("ks_2samp: Exact calculation unsuccessful. Switching to method=asymp.",
                          RuntimeWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(stats, "ks_2samp", ks_2samp)
    r = drift_of(exact(x=train), x=log)["x"]
    ref = original(train, log)
    assert r.statistic == pytest.approx(ref.statistic) and r.ks_p_value == pytest.approx(ref.pvalue)
    assert r.p_method == ("asymptotic" if scipy_falls_back else "exact")


@pytest.mark.parametrize("grid", [False, True])
def test_tail_test_is_scipys_chi_square_on_quantile_bins_and_combines_with_ks(
    rng: np.random.Generator, grid: bool
) -> None:
    """Continuous numbers get a second test that sees the tails: chi-square on the counts in
    bins cut at the baseline's 0.1 .. 99.9% quantiles (those with at least 10 values expected
    beyond them in the smaller sample); the feature's p-value is twice the smaller of KS's and
    its (Bonferroni). The top 5% doubled is found, where KS alone is weak. (At 2,000 values every
    bin expects at least 10 in the log; the p-value is the chi-square distribution's where it is
    at least 0.001, else a Monte Carlo one, see chi_square_test.)"""
    train = rng.normal(50, 10, 20000)
    log = rng.normal(50, 10, 2000)
    top = log > np.quantile(train, 0.95)
    log[top] *= 2
    b = bl.build(train_table(x=train), source="t", max_edges=1001 if grid else None)
    r = drift_of(b, x=log)["x"]
    prof = b.features[0].numeric
    assert prof is not None
    cdf, edges = np.asarray(prof.cdf), np.asarray(prof.edges)
    qs = [q for q in drift_mod.TAIL_QUANTILES if min(2000, 20000) * min(q, 1 - q) >= 10]
    cut_edges = np.unique(edges[np.searchsorted(cdf, qs, side="left")])
    # by hand: training and log values at or below each cut, differenced
    base = np.diff(np.concatenate(([0], [np.sum(train <= e) for e in cut_edges], [len(train)])))
    got = np.diff(np.concatenate(([0], [np.sum(log <= e) for e in cut_edges], [len(log)])))
    ref = stats.chi2_contingency(np.array([base, got]), correction=False)
    assert ref.expected_freq.min() >= 10
    assert r.ks_p_value is not None and r.tail_p_value is not None
    # far below 0.001 the chi-square distribution is not trusted: the table's Monte Carlo p-value,
    # whose draws stop once they cannot go below KS's (the smaller of the two is the same)
    from mlmon.stats.drift import MONTE_CARLO_DRAWS, chi_square_test

    assert ref.pvalue < 1e-6 and r.tail_p_value >= 1 / (sum(MONTE_CARLO_DRAWS) + 1)
    full = chi_square_test(np.array([base, got], dtype=float))[1]
    assert min(r.tail_p_value, r.ks_p_value) == min(full, r.ks_p_value)
    assert r.p_value == pytest.approx(min(1.0, 2 * min(r.ks_p_value, r.tail_p_value)), rel=1e-12)
    assert r.drift is True
    # unchanged data: the tail test is scipy's chi-square where every bin expects 10 and p >= 0.001
    fresh = rng.normal(50, 10, 2000)
    still = drift_of(b, x=fresh)["x"]
    got = np.diff(np.concatenate(([0], [np.sum(fresh <= e) for e in cut_edges], [len(fresh)])))
    ref = stats.chi2_contingency(np.array([base, got]), correction=False)
    assert ref.expected_freq.min() >= 10 and ref.pvalue >= 0.001
    assert still.tail_p_value == pytest.approx(ref.pvalue, rel=1e-6)


def test_hour_of_day_is_tested_on_counts() -> None:
    """24 distinct values (hour of day) are tied: the smooth test on the counts, not KS with ties;
    at most 20 distinct values are counts for the chi-square."""
    train = np.repeat(np.arange(24.0), 100)
    r = drift_of(exact(x=train), x=np.repeat(np.arange(24.0), 5))["x"]
    assert r.test == "smooth" and r.tail_p_value is None and r.smooth_components in (3, 6)
    assert r.p_value is not None and r.p_value > 0.5 and not r.drift
    assert drift_of(exact(x=np.repeat(np.arange(20.0), 100)), x=np.arange(20.0))["x"].test == "chi_square"
    assert drift_mod.few_valued(exact(x=train).features[0].numeric)  # type: ignore[arg-type]
    # 40 distinct values in 40 training rows are no ties: KS
    assert drift_of(exact(x=np.arange(40.0)), x=np.arange(40.0) + 0.5)["x"].test == "ks"


def test_wasserstein_is_scipys_exact_distance_with_the_raw_values(rng: np.random.Generator) -> None:
    """With every training value kept (--reference) and small samples, wasserstein_sd is scipy's
    exact distance over the baseline std; on a saved grid it is the grid's approximation."""
    train, log = rng.normal(0, 2, 500), rng.normal(0.3, 2, 100)
    r = drift_of(exact(x=train), x=log)["x"]
    assert r.wasserstein_sd == pytest.approx(stats.wasserstein_distance(train, log) / train.std(ddof=1),
                                             rel=1e-9)


@pytest.mark.parametrize("grid", [False, True])
def test_mean_rank_is_scipys_mann_whitney_u_over_nm(rng: np.random.Generator, grid: bool) -> None:
    """A continuous feature's mean_rank is the log's mean mid-rank in the baseline: scipy's
    Mann-Whitney U of the log against the training values over n m. Exact on exact edges (ties
    included); on a saved grid within half a bin's mass."""
    train = np.round(rng.lognormal(0, 1, 5000), 1 if not grid else 6)
    log = np.round(rng.lognormal(0.2, 1, 700), 1 if not grid else 6)
    b = bl.build(train_table(x=train), source="t", max_edges=1001 if grid else None)
    r = drift_of(b, x=log)["x"]
    u = stats.mannwhitneyu(log, train).statistic / (len(log) * len(train))
    assert r.mean_rank is not None
    assert r.mean_rank == pytest.approx(u, abs=0.0006 if grid else 1e-12)
    assert r.mean_rank > 0.5
    same = drift_of(b, x=rng.choice(train, 700))["x"]
    assert same.mean_rank is not None and abs(same.mean_rank - 0.5) < 4 * np.sqrt(1 / 12 / 700)


def test_smooth_test_is_n_r_squared_of_the_label_on_polynomials(rng: np.random.Generator) -> None:
    """Tied numbers' smooth test is the score test of a logistic regression of the sample label on
    the values' polynomials of degree 1 .. k: N R^2 of the label regressed on them (numpy's least
    squares on the records), chi-square with k degrees of freedom (scipy), for k = 3 and 6; the
    p-value is that of the smaller of the two (smooth_min_p). A one-hour shift of a daily cycle,
    which the chi-square on the 24 counts finds rarely at n = 1,000, it finds."""
    hours = 1 + 0.7 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)
    hours /= hours.sum()
    train = rng.choice(24, 20_000, p=hours).astype(float)
    log = ((rng.choice(24, 1000, p=hours) + 1) % 24).astype(float)
    r = drift_of(exact(x=train), x=log)["x"]
    x = np.concatenate((train, log))
    y = np.concatenate((np.zeros(len(train)), np.ones(len(log))))
    z = (x - x.mean()) / x.std()
    by_order = {}
    for k in (3, 6):
        design = np.vander(z, k + 1, increasing=True)
        fit = np.linalg.lstsq(design, y, rcond=None)[0]
        r2 = 1 - np.sum((y - design @ fit) ** 2) / np.sum((y - y.mean()) ** 2)
        by_order[k] = (stats.chi2.sf(len(x) * r2, k), len(x) * r2)
    k = min(by_order, key=lambda j: by_order[j][0])
    assert r.test == "smooth" and r.smooth_components == k
    assert r.statistic == pytest.approx(by_order[k][1], rel=1e-6)
    assert r.p_value == pytest.approx(drift_mod.smooth_min_p((3, 6), by_order[k][0]), rel=1e-6)
    assert by_order[k][0] <= r.p_value <= 2 * by_order[k][0]
    counts = np.array([np.bincount(v.astype(int), minlength=24) for v in (train, log)])
    chi = stats.chi2_contingency(counts, correction=False).pvalue
    assert r.p_value < chi / 10
    # a value training never had takes part at its place in the order, and the novelty test joins
    odd = drift_of(exact(x=train), x=np.concatenate((log, [30.0] * 40)))["x"]
    assert odd.unseen_p_value is not None and odd.unseen_p_value < 1e-6
    assert odd.p_value == pytest.approx(min(1.0, 2 * odd.unseen_p_value), rel=1e-9) or odd.p_value < 1e-6


@pytest.mark.parametrize("order", [1, 2, 3, 6])
def test_smooth_test_of_any_order_is_n_r_squared(rng: np.random.Generator, order: int) -> None:
    """smooth_test of one order (benchmarks/smooth_order.py compares orders): N R^2 of the label on
    the polynomials of degree 1 .. order (numpy's least squares on the records), chi-square with
    `order` degrees of freedom (scipy)."""
    train = rng.poisson(15, 5000).astype(float)
    log = rng.poisson(16, 800).astype(float)
    values = np.unique(np.concatenate((train, log)))
    base = np.array([np.sum(train == v) for v in values], dtype=float)
    got = np.array([np.sum(log == v) for v in values], dtype=float)
    stat, p, df = drift_mod.smooth_test(values, base, got, orders=(order,))
    x = np.concatenate((train, log))
    y = np.concatenate((np.zeros(len(train)), np.ones(len(log))))
    z = (x - x.mean()) / x.std()
    design = np.vander(z, order + 1, increasing=True)
    fit = np.linalg.lstsq(design, y, rcond=None)[0]
    r2 = 1 - np.sum((y - design @ fit) ** 2) / np.sum((y - y.mean()) ** 2)
    assert df == order
    assert stat == pytest.approx(len(x) * r2, rel=1e-6)
    assert p == pytest.approx(stats.chi2.sf(len(x) * r2, order), rel=1e-6)


def test_smooth_min_p_is_the_exact_tail_of_the_smaller_p_value(rng: np.random.Generator) -> None:
    """Under no change the smooth components are independent standard normals: the smaller of
    the order-3 and order-6 chi-square p-values of 400,000 such draws is at or below the level
    smooth_min_p maps to a in a share a of them (within 4.5 binomial standard errors)."""
    z = rng.standard_normal((400_000, 6)) ** 2
    smaller = np.minimum(stats.chi2.sf(z[:, :3].sum(axis=1), 3), stats.chi2.sf(z.sum(axis=1), 6))
    for a in (0.001, 0.01, 0.05, 0.2):
        c = optimize.brentq(lambda t, a=a: drift_mod.smooth_min_p((3, 6), t) - a, a / 2, a)
        assert np.mean(smaller <= c) == pytest.approx(a, abs=4.5 * math.sqrt(a * (1 - a) / len(z)))
        assert a / 2 <= c <= a  # between Bonferroni and no correction
    assert drift_mod.smooth_min_p((4,), 0.01) == 0.01
    tiny = drift_mod.smooth_min_p((3, 6), 1e-40)
    assert 1e-40 < tiny < 2e-40
    # the same chance by scipy's adaptive quadrature over scipy's chi-square laws, far tail too
    for orders in ((3, 6), (2, 6), (1, 4)):
        k1, k2 = orders
        for p in (0.3, 0.01, 1e-6, 1e-30):
            a, b = stats.chi2.isf(p, k1), stats.chi2.isf(p, k2)
            def inner(t: float, b: float = b, k1: int = k1, k2: int = k2) -> float:
                return float(stats.chi2.pdf(t, k1) * stats.chi2.cdf(b - t, k2 - k1))

            part = integrate.quad(inner, a, b, epsabs=0, epsrel=1e-12, limit=500)[0]
            assert drift_mod.smooth_min_p(orders, p) == pytest.approx(stats.chi2.sf(b, k2) + part, rel=1e-8)


def test_smooth_test_is_calibrated_on_stationary_hour_of_day(rng: np.random.Generator) -> None:
    """Stationary hour of day (24 values, a daily cycle; 20,000 baseline values, 1,000 in the
    log): the smooth test's p-value is below 0.01 / 0.05 / 0.25 in that share of 1,500 logs
    (within binomial limits at 99.9%)."""
    hours = 1 + 0.7 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)
    hours /= hours.sum()
    values = np.arange(24.0)
    ps = np.array([drift_mod.smooth_test(values, rng.multinomial(20_000, hours).astype(float),
                                         rng.multinomial(1_000, hours).astype(float))[1]
                   for _ in range(1_500)])
    for a in (0.01, 0.05, 0.25):
        lo, hi = stats.binom.ppf([0.0005, 0.9995], len(ps), a)
        assert lo <= np.count_nonzero(ps <= a) <= hi


def test_counts_added_for_records_without_the_column_are_not_missing(rng: np.random.Generator) -> None:
    """add_counts gives a feature's values for records read in tables without its column: those
    records are not missing it (a pre-aggregated category beside the numbers). Records that have
    no value by any route still are (scipy's Fisher exact test on the shares, as for read values)."""
    x = bl.numeric_profile(rng.normal(size=1000), max_edges=None)
    c = bl.CategoricalProfile(1000, (("a", 700), ("b", 300)))
    b = bl.Baseline("t", 1000, (bl.FeatureProfile("x", bl.Kind.NUMERIC, numeric=x),
                                bl.FeatureProfile("c", bl.Kind.CATEGORICAL, categorical=c)))
    acc = DriftAccumulator(b)
    acc.add_counts("c", {"a": 140, "b": 60})
    acc.update(log_table(x=rng.normal(size=200)))
    got = {r.name: r for r in acc.result()}["c"]
    assert got.missing == 0 and got.missing_increased is None and got.n == 200
    half = DriftAccumulator(b)
    half.update(log_table(x=rng.normal(size=200)))
    half.add_counts("c", {"a": 70, "b": 30})
    got = {r.name: r for r in half.result()}["c"]
    assert got.missing == 100 and got.missing_share == 0.5
    ref = stats.fisher_exact([[100, 100], [0, 1000]], alternative="greater").pvalue
    assert got.missing_p_value == pytest.approx(ref, rel=1e-6)
