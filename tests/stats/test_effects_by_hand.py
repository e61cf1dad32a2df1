"""The effect-size arithmetic on cases small enough to derive by hand: the DKW and
Bretagnolle-Huber-Carol margins, bounds clipped to [0, 1], PSI with half-count smoothing, the
Wasserstein distance on a grid, Welch's one-sided z, and moments of values near the float limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlmon.stats import effects as fx

# each side's error at (1 + 0.95) / 2: a = 0.025 per side, ln(2 / a) = ln 80
LN80 = math.log(80.0)


@pytest.mark.parametrize("n", [1, 2, 100, 12345])
def test_dkw_margin(n: int) -> None:
    assert fx.dkw_margin(n) == pytest.approx(math.sqrt(LN80 / (2 * n)), rel=1e-15)


def test_margins_of_no_values_are_the_whole_range() -> None:
    assert fx.dkw_margin(0) == 1.0 and fx.dkw_margin(-3) == 1.0
    assert fx.l1_margin(0, 5) == 1.0 and fx.l1_margin(-1, 5) == 1.0


@pytest.mark.parametrize(("n", "k", "ln_sets"), [
    (100, 1, 0.0),  # 2^1 - 2 = 0 sets: taken as 1 (ln 1 = 0)
    (100, 2, math.log(2)),
    (50, 3, math.log(6)),
    (1000, 10, math.log(1022)),
])
def test_l1_margin(n: int, k: int, ln_sets: float) -> None:
    assert fx.l1_margin(n, k) == pytest.approx(math.sqrt((ln_sets + LN80) / (2 * n)), rel=1e-15)


def test_bounds_are_clipped_to_zero_and_the_top() -> None:
    assert fx.bounds(0.3, 0.1) == pytest.approx((0.2, 0.4))
    assert fx.bounds(0.05, 0.1) == (0.0, pytest.approx(0.15))
    assert fx.bounds(0.95, 0.1) == (pytest.approx(0.85), 1.0)
    assert fx.bounds(1.5, 1.0, at_most=2.0) == (0.5, 2.0)


def test_psi_of_swapped_shares_by_hand() -> None:
    # counts [10, 30] against [30, 10], each + 0.5: shares 10.5/41 and 30.5/41 swapped;
    # PSI = sum (g - e) ln(g / e) = 2 * (20/41) * ln(30.5 / 10.5)
    assert fx.psi(np.array([10, 30]), np.array([30, 10])) == pytest.approx(
        2 * (20 / 41) * math.log(30.5 / 10.5), rel=1e-14)
    assert fx.psi(np.array([7, 7, 7]), np.array([1, 1, 1])) == pytest.approx(0.0, abs=1e-15)
    # an empty cell in the log: 0.5 / 20.5 against 10.5 / 21 (base [10, 10] + 0.5 each)
    e, g = np.array([10.5, 10.5]) / 21, np.array([0.5, 20.5]) / 21
    assert fx.psi(np.array([10, 10]), np.array([0, 20])) == pytest.approx(
        float(np.sum((g - e) * np.log(g / e))), rel=1e-14)
    assert math.isfinite(fx.psi(np.array([10, 10]), np.array([0, 20])))


def test_wasserstein_on_a_grid_by_hand() -> None:
    # baseline half at 0, half at 1; log half at 1, half at 2: W1 = 1
    edges = np.array([0.0, 1.0, 2.0])
    base, log = np.array([0.5, 1.0, 1.0]), np.array([0.0, 0.5, 1.0])
    assert fx.wasserstein_sd(edges, base, log, (0.0, 0.0), 1.0) == pytest.approx(1.0)
    assert fx.wasserstein_sd(edges, base, log, (0.0, 0.0), 0.5) == pytest.approx(2.0)  # in sd
    # the log's mass beyond the edges adds its mean distance
    assert fx.wasserstein_sd(edges, base, log, (0.25, 0.5), 1.0) == pytest.approx(1.75)
    # uneven gaps weigh each step by its width: |0 - 0.5| * 3 + |0.5 - 1| * 1 = 2
    assert fx.wasserstein_sd(np.array([0.0, 3.0, 4.0]), base, log, (0.0, 0.0), 1.0) == pytest.approx(2.0)
    # the same on a grid near the float limit: no overflow, same answer
    big = np.array([0.0, 2.0**1000, 2.0**1001])
    assert fx.wasserstein_sd(big, base, log, (0.0, 0.0), 2.0**1000) == pytest.approx(1.0)


@pytest.mark.parametrize("std", [0.0, -1.0, math.inf, math.nan])
def test_wasserstein_without_a_spread_is_none(std: float) -> None:
    edges = np.array([0.0, 1.0])
    assert fx.wasserstein_sd(edges, np.array([1.0, 1.0]), np.array([0.0, 1.0]), (0.0, 0.0), std) is None
    assert fx.wasserstein_sd(np.array([]), np.array([]), np.array([]), (0.0, 0.0), 1.0) is None


def test_welch_p_by_hand() -> None:
    # z = 1.959963984540054 is the normal 97.5% quantile: upper tail 0.025
    z = 1.959963984540054
    se = math.sqrt(4.0 / 100 + 9.0 / 400)  # var 4 over n 100, var 9 over n 400
    assert fx.welch_p(z * se, 4.0, 100, 9.0, 400) == pytest.approx(0.025, rel=1e-9)
    assert fx.welch_p(-z * se, 4.0, 100, 9.0, 400) == pytest.approx(0.025, rel=1e-9)  # |diff|
    assert fx.welch_p(0.0, 4.0, 100, 9.0, 400) == 0.5
    # a margin is taken off |diff| first
    assert fx.welch_p(z * se + 0.3, 4.0, 100, 9.0, 400, 0.3) == pytest.approx(0.025, rel=1e-9)
    # no variance at all: the difference is certain, beyond the margin or not
    assert fx.welch_p(0.1, 0.0, 10, 0.0, 10) == 0.0
    assert fx.welch_p(0.1, 0.0, 10, 0.0, 10, 0.1) == 1.0
    assert fx.welch_p(0.0, 0.0, 10, 0.0, 10) == 1.0


def test_gates_allow_for_rounding_and_nothing_more() -> None:
    assert fx.at_least(0.09999999999999998, 0.1) and fx.at_least(0.1, 0.1)
    assert not fx.at_least(0.0999, 0.1)
    assert not fx.beyond(0.1, 0.1) and not fx.beyond(0.1000000009, 0.1)
    assert fx.beyond(0.1000000011, 0.1)
    # the tolerance grows with the limit above 1: 1e-9 of 1000 is 1e-6
    assert fx.at_least(1000 - 0.9e-6, 1000.0) and not fx.at_least(1000 - 1.1e-6, 1000.0)
    assert not fx.beyond(1000 + 0.9e-6, 1000.0) and fx.beyond(1000 + 1.1e-6, 1000.0)
    # and is 1e-9 (not less) below 1
    assert fx.at_least(0.001 - 0.9e-9, 0.001) and not fx.at_least(0.001 - 1.1e-9, 0.001)
    assert fx.beyond(-0.5 + 1.1e-9, -0.5) and not fx.beyond(-0.5 + 0.9e-9, -0.5)


def test_pow2_scale() -> None:
    assert fx.pow2_scale() == 1.0 and fx.pow2_scale(1.0, -3.0) == 1.0
    assert fx.pow2_scale(2.0**500) == 1.0  # up to HUGE itself: unscaled
    assert fx.pow2_scale(2.0**501) == 2.0**501  # frexp: 0.5 * 2**502; scale 2**501 brings it to 1
    assert fx.pow2_scale(-(2.0**600), 3.0) == 2.0**600
    assert fx.pow2_scale(math.inf, math.nan, 2.0**700) == 2.0**700  # non-finite values ignored
    for x in (2.0**501 * 1.5, 1e308, -1.7e308):
        s = fx.pow2_scale(x)
        assert abs(x) / s < 2 and abs(x) / s >= 1 and math.frexp(s)[0] == 0.5


def test_moments_by_hand_and_near_the_float_limit() -> None:
    assert fx.moments(np.array([1.0, 2.0, 3.0, 4.0])) == (2.5, 5.0, 1.0)
    a = 1.5e308
    mean, m2_s, scale = fx.moments(np.array([a, -a, a]))
    # mean a/3; deviations 2a/3, -4a/3, 2a/3: m2 = 24/9 a^2, reported divided by scale^2
    assert mean == pytest.approx(a / 3, rel=1e-15)
    assert scale == 2.0**1023
    assert m2_s == pytest.approx(24 / 9 * (a / scale) ** 2, rel=1e-14)


def test_gates_at_exactly_the_tolerance() -> None:
    # at limit - tolerance exactly: still "at least"; at limit + tolerance exactly: not "beyond"
    assert fx.at_least(0.1 - fx.REL_TOL * 1.0, 0.1)
    assert not fx.beyond(0.1 + fx.REL_TOL * 1.0, 0.1)
    assert fx.l1_margin(1, 2) == pytest.approx(math.sqrt((math.log(2) + LN80) / 2), rel=1e-15)


def test_moments_scale_by_the_largest_magnitude_at_either_end() -> None:
    import warnings

    a = 1.5e308
    for v in ([-a, 1.0], [1.0, a]):
        mean, m2_s, scale = fx.moments(np.array(v))
        assert scale == 2.0**1023 and math.isfinite(m2_s)
        # two values: m2 = (x - y)^2 / 2
        assert m2_s == pytest.approx((abs(v[0] - v[1]) / scale) ** 2 / 2, rel=1e-14)
        assert mean == pytest.approx((v[0] + v[1]) / 2, rel=1e-14)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        assert fx.moments(np.array([], dtype=float))[2] == 1.0


def test_wasserstein_tails_on_a_grid_near_the_float_limit() -> None:
    big = np.array([0.0, 2.0**1000, 2.0**1001])
    base, log = np.array([0.5, 1.0, 1.0]), np.array([0.0, 0.5, 1.0])
    # W1 on the grid: one step of 2**1000; tails add half a step; in sd (2**1000): 1.5
    assert fx.wasserstein_sd(big, base, log, (2.0**999, 0.0), 2.0**1000) == pytest.approx(1.5)
