"""Expected novelty: the share of a log's values the training sample never had, predicted from it."""

from __future__ import annotations

import math
from collections.abc import Iterable

from mlmon.stats.prefetch import scipy_stats


def expected_share(counts: Iterable[int]) -> tuple[float, float, int]:
    """(share, standard error, n) of values a new draw would bring that the training sample of
    these category counts never had.

    The share is Good-Turing's missing mass f1 / n (f1: categories seen once in n values): a
    training value is new to the other n - 1 values exactly when it is a singleton, so f1 / n is
    the leave-one-out novelty rate of the training sample itself. Its standard error is Esty's
    (1983): sqrt(f1 (1 - f1 / n) + 2 f2) / n (f2: categories seen twice)."""
    n = f1 = f2 = 0
    for c in counts:
        n += c
        f1 += c == 1
        f2 += c == 2
    if n <= 0:
        return 0.0, 0.0, 0
    share = f1 / n
    return share, math.sqrt(max(0.0, f1 * (1 - share) + 2 * f2)) / n, n


def _beta(share: float, se: float, n: int) -> tuple[float, float]:
    """Beta(a, b) for the novelty rate: mean `share` with the spread of its estimate (as many
    effective draws as its standard error implies, at most n), plus Jeffreys' half count each
    side, so a training sample without singletons still allows a little novelty."""
    k = float(n) if not (0 < share < 1 and se > 0) else min(float(n), share * (1 - share) / (se * se))
    return share * k + 0.5, (1 - share) * k + 0.5


def p_value(unseen: int, m: int, share: float, se: float, n: int, excess: float = 0.0) -> float:
    """Probability of at least `unseen` of m log values new to training when the log's novelty
    rate is the expected share plus `excess`: the upper tail of the beta-binomial that takes
    both the log's sampling error (binomial) and the estimate's (beta) into account."""
    if unseen <= 0 or m <= 0:
        return 1.0
    rate = min(1.0, share + excess)
    if rate >= 1.0:
        return 1.0
    a, b = _beta(rate, se, n)
    return float(min(1.0, max(0.0, scipy_stats().betabinom.sf(unseen - 1, m, a, b))))
