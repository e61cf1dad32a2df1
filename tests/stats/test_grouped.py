"""Accumulators per group called directly: drift per --by value and windows per --by value, each
equal to the same accumulator fed that group's records alone."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mlmon.read.records import FEATURE_PREFIX
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator
from mlmon.stats.grouped import GroupedDriftAccumulator
from mlmon.stats.summary import GROUP


def _base(rng: np.random.Generator) -> bl.Baseline:
    return bl.build(pa.table({"x": rng.normal(0, 1, 1000)}), source="t", max_edges=None)


def test_each_group_drifts_as_its_own_records_alone(rng: np.random.Generator) -> None:
    base = _base(rng)
    x = np.concatenate((rng.normal(0, 1, 300), rng.normal(2, 1, 200)))
    groups = ["a"] * 300 + ["b"] * 200
    t = pa.table({FEATURE_PREFIX + "x": x, GROUP: groups})
    acc = GroupedDriftAccumulator(base)
    acc.update(t)
    got = acc.result()
    assert [(g.group, g.records) for g in got] == [("a", 300), ("b", 200)]
    for g, part in zip(got, (x[:300], x[300:]), strict=True):
        alone = DriftAccumulator(base)
        alone.update(pa.table({FEATURE_PREFIX + "x": part}))
        assert g.features == alone.result()
