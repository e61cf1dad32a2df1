"""Benjamini-Hochberg checked against values derived by hand, not against the scipy function mlmon
itself calls: for m p-values sorted ascending, the adjusted p(i) is min over j >= i of m p(j) / j,
capped at 1, and each p-value keeps its own place.

Worked cases (m p(j) / j for j = 1..m, then the running minimum from the largest down):
- [0.01, 0.04, 0.03, 0.20]: sorted 0.01, 0.03, 0.04, 0.20 -> 0.04, 0.06, 0.16/3, 0.20
  -> 0.04, 0.16/3, 0.16/3, 0.20; in the input's order [0.04, 0.16/3, 0.16/3, 0.20].
- [0.5, 0.9, 0.9]: 1.5, 1.35, 0.9 -> 0.9 everywhere (a large later p pulls the earlier down).
- [0.001, 0.5]: 0.002, 0.5.
- [0.8, 0.6]: sorted 0.6, 0.8 -> 1.2, 0.8 -> 0.8, 0.8.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from mlmon.stats.drift import DriftOptions, FeatureDrift, adjust

CASES = [
    ([0.01, 0.04, 0.03, 0.20], [0.04, 0.16 / 3, 0.16 / 3, 0.20]),
    ([0.5, 0.9, 0.9], [0.9, 0.9, 0.9]),
    ([0.001, 0.5], [0.002, 0.5]),
    ([0.8, 0.6], [0.8, 0.8]),
]


@pytest.fixture
def template() -> FeatureDrift:
    """A real row (from a real drift run) to set p-values on."""
    import numpy as np
    import pyarrow as pa

    from mlmon.read.records import FEATURE_PREFIX
    from mlmon.stats import baseline as bl
    from mlmon.stats.drift import DriftAccumulator

    rng = np.random.default_rng(5)
    b = bl.build(pa.table({"x": rng.normal(size=300)}), source="t", max_edges=None)
    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "x": rng.normal(size=200)}))
    (row,) = acc.result(None)
    # only the p-values each case sets are in the family
    return replace(row, **{f: None for f in FeatureDrift.__dataclass_fields__ if f.endswith("p_value")})


@pytest.mark.parametrize(("ps", "want"), CASES)
def test_drift_adjusts_the_feature_tests_as_derived_by_hand(
    template: FeatureDrift, ps: list[float], want: list[float]
) -> None:
    rows = tuple(replace(template, name=f"f{i}", p_value=p, mean_p_value=None) for i, p in enumerate(ps))
    out = adjust(rows, DriftOptions())
    assert [r.p_value_adjusted for r in out] == pytest.approx(want, rel=1e-12, abs=0)
    assert [r.p_value for r in out] == ps  # the raw p-values are kept


def test_drift_adjusts_the_mean_tests_in_the_same_family(template: FeatureDrift) -> None:
    # the first case again, as two features each with a drift test and a mean test
    rows = (
        replace(template, name="a", p_value=0.01, mean_p_value=0.04),
        replace(template, name="b", p_value=0.03, mean_p_value=0.20),
    )
    out = adjust(rows, DriftOptions())
    got = [out[0].p_value_adjusted, out[0].mean_p_value_adjusted, out[1].p_value_adjusted,
           out[1].mean_p_value_adjusted]
    assert got == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20], rel=1e-12, abs=0)


def test_a_single_test_is_not_adjusted_and_nothing_passes_one(template: FeatureDrift) -> None:
    (one,) = adjust((replace(template, p_value=0.03, mean_p_value=None),), DriftOptions())
    assert one.p_value_adjusted == 0.03
    # m p / j above 1 is capped: 3 * 0.7 / 1 = 2.1 and so on, all capped or pulled to 0.7
    out = adjust(tuple(replace(template, name=f"f{i}", p_value=0.7, mean_p_value=None) for i in range(3)),
                 DriftOptions())
    assert [r.p_value_adjusted for r in out] == [0.7, 0.7, 0.7]
