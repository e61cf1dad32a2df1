"""Expected novelty by hand: Good-Turing's share, Esty's standard error and the beta-binomial
tail of the unseen count, each derived here from its formula (no call to the scipy function
mlmon uses), at the edges where the unseen-value verdict changes."""

from __future__ import annotations

import math

import pytest

from mlmon.stats import novelty


def _betabinom_sf_by_hand(u: int, m: int, a: float, b: float) -> float:
    """P(X >= u) for X ~ beta-binomial(m, a, b): the sum of C(m, x) B(x + a, m - x + b) / B(a, b)."""

    def log_beta(x: float, y: float) -> float:
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    return sum(
        math.exp(math.lgamma(m + 1) - math.lgamma(x + 1) - math.lgamma(m - x + 1)
                 + log_beta(x + a, m - x + b) - log_beta(a, b))
        for x in range(max(u, 0), m + 1)
    )


def _p_by_hand(unseen: int, m: int, share: float, se: float, n: int, excess: float = 0.0) -> float:
    """The documented rule: rate = share + excess, effective draws share (1 - share) / se^2 (at
    most n; n when the rate is 0 or the error 0), Jeffreys' half count on each side."""
    rate = share + excess
    k = min(n, rate * (1 - rate) / se**2) if 0 < rate < 1 and se > 0 else n
    return _betabinom_sf_by_hand(unseen, m, rate * k + 0.5, (1 - rate) * k + 0.5)


def test_good_turing_share_and_estys_error_by_hand() -> None:
    # 12 values: two singletons (f1), one doubleton (f2), a triple and a five
    counts = [1, 3, 1, 2, 5]
    share, se, n = novelty.expected_share(counts)
    assert n == 12
    assert share == pytest.approx(2 / 12, rel=1e-15)
    assert se == pytest.approx(math.sqrt(2 * (1 - 2 / 12) + 2 * 1) / 12, rel=1e-15)
    # an iterator is read once, as a dict's values are
    assert novelty.expected_share(iter(counts)) == (share, se, n)


def test_no_singletons_and_no_doubletons_predict_no_novelty() -> None:
    share, se, n = novelty.expected_share([5, 5, 3])
    assert (share, se, n) == (0.0, 0.0, 13)
    # only doubletons: no novelty expected, but the estimate has an error
    share, se, n = novelty.expected_share([2, 2, 2])
    assert (share, n) == (0.0, 6)
    assert se == pytest.approx(math.sqrt(2 * 3) / 6, rel=1e-15)


def test_all_singletons_share_one() -> None:
    share, se, n = novelty.expected_share([1, 1, 1, 1])
    assert (share, n) == (1.0, 4)
    assert se == 0.0  # f1 (1 - 1) + 0


@pytest.mark.parametrize("counts", [[], [0], [0, 0]])
def test_an_empty_training_sample_predicts_nothing(counts: list[int]) -> None:
    assert novelty.expected_share(counts) == (0.0, 0.0, 0)


def test_a_category_counted_zero_times_adds_nothing() -> None:
    assert novelty.expected_share([0, 1, 3]) == novelty.expected_share([1, 3])


@pytest.mark.parametrize(
    ("unseen", "m", "share", "se", "n"),
    [
        (9, 200, 1 / 1000, math.sqrt(1 * (1 - 1 / 1000) + 2) / 1000, 1000),  # k = share(1-share)/se^2
        (3, 50, 0.02, 0.0001, 400),  # se small: k capped at n
        (1, 10, 0.0, 0.0, 500),  # no novelty expected: k = n
        (2, 30, 0.0, 0.01, 500),  # share 0 with an error: still k = n
        (1, 1, 0.3, 0.05, 100),
        (40, 40, 0.3, 0.05, 100),  # every log value unseen
    ],
)
def test_p_value_is_the_beta_binomial_tail_by_hand(
    unseen: int, m: int, share: float, se: float, n: int
) -> None:
    got = novelty.p_value(unseen, m, share, se, n)
    # scipy's tail is 1 - CDF: within 1e-8 of the sum (and 0 below about 1e-16)
    assert got == pytest.approx(_p_by_hand(unseen, m, share, se, n), rel=1e-7, abs=1e-15)
    assert 0.0 <= got <= 1.0


def test_p_value_at_an_excess_is_the_tail_at_the_raised_rate() -> None:
    # the --max-unseen-share test: is the rate more than `excess` above the expected share?
    got = novelty.p_value(12, 300, 0.01, 0.002, 20000, 0.02)
    assert got == pytest.approx(_p_by_hand(12, 300, 0.01, 0.002, 20000, 0.02), rel=1e-7)
    assert got != pytest.approx(novelty.p_value(12, 300, 0.01, 0.002, 20000), rel=1e-3)
    # a training sample with no singletons and no doubletons (share 0, error 0) and a limit:
    # the rate is the limit itself, with as many draws as training had
    got = novelty.p_value(5, 100, 0.0, 0.0, 800, 0.01)
    assert got == pytest.approx(_betabinom_sf_by_hand(5, 100, 0.01 * 800 + 0.5, 0.99 * 800 + 0.5), rel=1e-7)


def test_one_unseen_value_is_tested_and_none_is_no_evidence() -> None:
    one = novelty.p_value(1, 100, 0.001, 0.0005, 5000)
    assert one == pytest.approx(_p_by_hand(1, 100, 0.001, 0.0005, 5000), rel=1e-7)
    assert one < 0.5
    assert novelty.p_value(0, 100, 0.001, 0.0005, 5000) == 1.0
    assert novelty.p_value(-1, 100, 0.001, 0.0005, 5000) == 1.0


def test_no_log_values_is_no_evidence() -> None:
    assert novelty.p_value(1, 0, 0.001, 0.0005, 5000) == 1.0
    assert novelty.p_value(3, -1, 0.001, 0.0005, 5000) == 1.0


@pytest.mark.parametrize(("share", "excess"), [(1.0, 0.0), (0.5, 0.5), (0.9, 0.3)])
def test_a_rate_of_one_or_more_makes_every_unseen_count_expected(share: float, excess: float) -> None:
    assert novelty.p_value(5, 10, share, 0.01, 100, excess) == 1.0


def test_more_unseen_values_are_stronger_evidence() -> None:
    ps = [novelty.p_value(u, 200, 0.01, 0.003, 3000) for u in range(1, 15)]
    assert all(a > b for a, b in zip(ps, ps[1:], strict=False))
    assert ps[-1] < 1e-3 < ps[0]


def test_a_single_training_value_is_a_singleton() -> None:
    """One value: left out, it is new to the other none; Good-Turing's share is 1 (1/1)."""
    assert novelty.expected_share([1]) == (1.0, 0.0, 1)
    assert novelty.expected_share([0, 1]) == (1.0, 0.0, 1)
