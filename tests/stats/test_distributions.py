"""The distributions the report plots: each ECDF point, tail share and category share counted
again here from the raw values with numpy (ties at the edges, empty logs, more categories than
the plot keeps), so a plot can never show a shape the data do not have."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mlmon.read.records import FEATURE_PREFIX, Kind
from mlmon.stats import baseline as bl
from mlmon.stats import distributions as dist
from mlmon.stats.drift import DriftAccumulator


def _acc(b: bl.Baseline, **log: Any) -> DriftAccumulator:
    acc = DriftAccumulator(b)
    cols = {}
    for k, v in log.items():
        typ = pa.string() if any(isinstance(x, str) for x in v) else pa.float64()
        cols[FEATURE_PREFIX + k] = pa.array(list(v), typ)
    if cols:
        acc.update(pa.table(cols))
    return acc


def _numeric_baseline(values: np.ndarray, max_edges: int | None = None) -> bl.Baseline:
    prof = bl.numeric_profile(values, max_edges=max_edges)
    return bl.Baseline("t", len(values), (bl.FeatureProfile("x", Kind.NUMERIC, numeric=prof),))


def _categorical_baseline(counts: dict[str, int]) -> bl.Baseline:
    pairs = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    prof = bl.CategoricalProfile(sum(counts.values()), pairs)
    return bl.Baseline("t", prof.n, (bl.FeatureProfile("c", Kind.CATEGORICAL, categorical=prof),))


def _one(acc: DriftAccumulator) -> Any:
    (d,) = dist.distributions(acc)
    return d


def test_numeric_ecdfs_at_every_edge_with_ties_counted_as_at_or_below() -> None:
    """Integers: log values equal to an edge count at the edge (<=), values outside training's
    range as the tails; every point against numpy's count of the raw values."""
    rng = np.random.default_rng(3)
    train = rng.integers(0, 40, 2000).astype(float)
    log = np.concatenate([rng.integers(-3, 45, 700).astype(float), [0.0, 39.0, 39.0]])
    d = _one(_acc(_numeric_baseline(train), x=log))
    assert isinstance(d, dist.NumericDistribution) and d.name == "x"
    edges = np.unique(train)
    assert d.x == tuple(edges)  # 40 edges, fewer than MAX_POINTS: all kept
    assert d.baseline_cdf == pytest.approx([np.mean(train <= e) for e in edges], rel=1e-12)
    assert d.log_cdf == pytest.approx([np.mean(log <= e) for e in edges], rel=1e-12)
    assert d.log_n == len(log)
    assert d.log_below == pytest.approx(np.mean(log < train.min()), rel=1e-12)
    assert d.log_above == pytest.approx(np.mean(log > train.max()), rel=1e-12)
    assert 0 < d.log_below and 0 < d.log_above


def test_a_log_inside_training_range_has_no_tails_and_ends_at_one() -> None:
    train = np.arange(10, dtype=float)
    log = np.array([0.0, 0.0, 4.5, 9.0])  # at both ends, but not beyond
    d = _one(_acc(_numeric_baseline(train), x=log))
    assert (d.log_below, d.log_above) == (0.0, 0.0)
    assert d.log_cdf[0] == 0.5 and d.log_cdf[-1] == 1.0
    assert d.log_cdf == pytest.approx([np.mean(log <= e) for e in train])
    assert d.baseline_cdf == pytest.approx([(i + 1) / 10 for i in range(10)])


def test_many_edges_are_thinned_to_evenly_spaced_points() -> None:
    rng = np.random.default_rng(4)
    train = rng.normal(0, 1, 50_000)
    log = rng.normal(0.2, 1.1, 3000)
    b = _numeric_baseline(train, max_edges=bl.GRID_EDGES)
    prof = b.features[0].numeric
    assert prof is not None and len(prof.edges) == bl.GRID_EDGES
    d = _one(_acc(b, x=log))
    # 1001 edges: every tenth, the first and the last among them
    idx = np.round(np.linspace(0, len(prof.edges) - 1, dist.MAX_POINTS)).astype(int)
    assert len(d.x) == dist.MAX_POINTS
    assert d.x == tuple(np.asarray(prof.edges)[idx])
    assert d.x[0] == train.min() and d.x[-1] == train.max()
    assert d.baseline_cdf == pytest.approx([np.mean(train <= e) for e in d.x], rel=1e-12)
    assert d.log_cdf == pytest.approx([np.mean(log <= e) for e in d.x], rel=1e-12)
    assert d.log_below == pytest.approx(np.mean(log < train.min()))
    assert d.log_above == pytest.approx(np.mean(log > train.max()))


def test_edges_just_over_the_cap_keep_the_first_and_the_last() -> None:
    train = np.arange(dist.MAX_POINTS + 1, dtype=float)  # 102 edges
    d = _one(_acc(_numeric_baseline(train), x=np.array([5.0])))
    idx = np.unique(np.round(np.linspace(0, len(train) - 1, dist.MAX_POINTS)).astype(int))
    assert d.x == tuple(train[idx]) and len(d.x) == dist.MAX_POINTS
    assert d.x[0] == 0.0 and d.x[-1] == float(dist.MAX_POINTS)


def test_a_numeric_feature_without_log_values() -> None:
    train = np.arange(5, dtype=float)
    d = _one(_acc(_numeric_baseline(train)))
    assert d.log_n == 0 and d.log_cdf == () and (d.log_below, d.log_above) == (0.0, 0.0)
    assert d.x == tuple(train) and d.baseline_cdf == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_a_numeric_feature_training_had_no_finite_value_for() -> None:
    d = _one(_acc(_numeric_baseline(np.array([np.nan, np.inf])), x=np.array([1.0, 2.0, 3.0])))
    assert d.name == "x"
    assert (d.x, d.baseline_cdf, d.log_cdf) == ((), (), ())
    assert d.log_n == 3 and (d.log_below, d.log_above) == (0.0, 0.0)


def test_category_shares_by_hand_with_unseen_values() -> None:
    base = {"a": 500, "b": 300, "c": 150, "d": 50}
    log = ["a"] * 100 + ["b"] * 20 + ["new"] * 60 + ["zz"] * 5 + ["d"] * 15
    d = _one(_acc(_categorical_baseline(base), c=log))
    assert isinstance(d, dist.CategoricalDistribution) and d.name == "c"
    assert d.log_n == len(log)
    got = Counter(log)
    want = {k: (base.get(k, 0) / 1000, got.get(k, 0) / len(log), k not in base) for k in set(base) | set(got)}
    assert {s.category: (s.baseline_share, s.log_share, s.unseen) for s in d.shares} == want
    # ordered by the larger of the two shares, most first
    assert [s.category for s in d.shares] == sorted(want, key=lambda k: (-max(want[k][0], want[k][1]), k))
    assert d.other_baseline_share == pytest.approx(0.0, abs=1e-12)
    assert d.other_log_share == pytest.approx(0.0, abs=1e-12)


def test_ties_in_share_are_listed_by_name() -> None:
    d = _one(_acc(_categorical_baseline({"b": 10, "a": 10}), c=["b", "a"]))
    assert [s.category for s in d.shares] == ["a", "b"]


def test_more_categories_than_the_plot_keeps_leave_the_rest_as_other() -> None:
    # 30 training categories with counts 1..30 (30 most common), and 10 new ones in the log
    base = {f"k{i:02d}": i for i in range(1, 31)}
    total = sum(base.values())
    log = [f"k{i:02d}" for i in range(1, 31) for _ in range(2)]
    log += [f"n{i}" for i in range(10) for _ in range(i + 1)]
    d = _one(_acc(_categorical_baseline(base), c=log))
    got = Counter(log)
    share = {k: max(base.get(k, 0) / total, got.get(k, 0) / len(log)) for k in set(base) | set(got)}
    want = sorted(share, key=lambda k: (-share[k], k))[: dist.MAX_CATEGORIES]
    assert [s.category for s in d.shares] == want and len(want) == dist.MAX_CATEGORIES
    listed = set(want)
    assert d.other_baseline_share == pytest.approx(sum(v for k, v in base.items() if k not in listed) / total)
    assert d.other_log_share == pytest.approx(sum(v for k, v in got.items() if k not in listed) / len(log))
    assert d.other_baseline_share > 0 and d.other_log_share > 0


def test_a_categorical_feature_without_log_values() -> None:
    d = _one(_acc(_categorical_baseline({"a": 3, "b": 1})))
    assert d.log_n == 0 and d.other_log_share == 0.0
    assert d.other_baseline_share == pytest.approx(0.0, abs=1e-12)
    assert [(s.category, s.baseline_share, s.log_share, s.unseen) for s in d.shares] == [
        ("a", 0.75, 0.0, False), ("b", 0.25, 0.0, False)]


def test_a_training_category_counted_zero_times_is_unseen() -> None:
    prof = bl.CategoricalProfile(4, (("a", 4), ("z", 0)))
    b = bl.Baseline("t", 4, (bl.FeatureProfile("c", Kind.CATEGORICAL, categorical=prof),))
    d = _one(_acc(b, c=["a", "z", "z", "z"]))
    by = {s.category: s for s in d.shares}
    assert by["z"].unseen and not by["a"].unseen
    assert (by["z"].baseline_share, by["z"].log_share) == (0.0, 0.75)


def test_a_categorical_feature_training_had_no_value_for() -> None:
    prof = bl.CategoricalProfile(0, ())
    b = bl.Baseline("t", 0, (bl.FeatureProfile("c", Kind.CATEGORICAL, categorical=prof),))
    d = _one(_acc(b, c=["x", "y", "x"]))
    assert [(s.category, s.baseline_share, s.log_share, s.unseen) for s in d.shares] == [
        ("x", 0.0, 2 / 3, True), ("y", 0.0, 1 / 3, True)]
    assert d.other_baseline_share == 1.0


def test_features_in_baseline_order_numbers_and_categories() -> None:
    num = bl.numeric_profile(np.arange(4, dtype=float), max_edges=None)
    cat = bl.CategoricalProfile(2, (("a", 2),))
    b = bl.Baseline("t", 4, (bl.FeatureProfile("z", Kind.NUMERIC, numeric=num),
                             bl.FeatureProfile("c", Kind.CATEGORICAL, categorical=cat),
                             bl.FeatureProfile("a", Kind.NUMERIC, numeric=num)))
    out = dist.distributions(_acc(b, z=[1.0, 2.0, None], c=["a", None, None], a=[3.0, None, None]))
    assert [(type(d).__name__, d.name) for d in out] == [
        ("NumericDistribution", "z"), ("CategoricalDistribution", "c"), ("NumericDistribution", "a")]
    assert [d.log_n for d in out] == [2, 1, 1]


def test_the_order_takes_the_larger_share_of_each_side() -> None:
    # "b" is rare in training and common in the log: its log share puts it first
    d = _one(_acc(_categorical_baseline({"a": 8, "b": 2}), c=["b"] * 9 + ["a"]))
    assert [s.category for s in d.shares] == ["b", "a"]
    # a training category the log lacks ranks by its training share alone (1%), below a new
    # value at 5% of the log, above none
    d = _one(_acc(_categorical_baseline({"a": 1, "b": 99}), c=["b"] * 19 + ["c"]))
    assert [(s.category, s.log_share) for s in d.shares] == [("b", 19 / 20), ("c", 1 / 20), ("a", 0.0)]
    # a new value ranks by its log share alone (10%), below a training category at 50%
    d = _one(_acc(_categorical_baseline({"a": 1, "b": 1}), c=["a"] * 9 + ["a2"]))
    assert [s.category for s in d.shares] == ["a", "b", "a2"]
