"""Evidence over windows (trend): the pooled-mean z against scipy, the log-wide Bonferroni
threshold, and a persistent small shift found where single windows see nothing."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlmon.read.records import FEATURE_PREFIX, Kind
from mlmon.stats import baseline as bl
from mlmon.stats import evidence as ev
from mlmon.stats.drift import DriftAccumulator, DriftOptions
from mlmon.stats.windows import Window


def _windows(b: bl.Baseline, logs: list[np.ndarray]) -> list[Window]:
    out = []
    for i, x in enumerate(logs):
        acc = DriftAccumulator(b)
        acc.update(pa.table({FEATURE_PREFIX + "x": pa.array(x)}))
        summary = cast(Any, None)  # evidence reads the status, the start and the features only
        out.append(Window(f"w{i:02d}", f"w{i + 1:02d}", i, i + 1, "ok", summary, acc.result()))
    return out


def _baseline(rng: np.random.Generator, values: np.ndarray | None = None) -> bl.Baseline:
    values = rng.normal(0, 1, 100_000) if values is None else values
    prof = bl.numeric_profile(values, max_edges=bl.GRID_EDGES)
    return bl.Baseline("t", 100_000, (bl.FeatureProfile("x", Kind.NUMERIC, numeric=prof),))


def test_pooled_rank_z_and_threshold_match_scipy(rng: np.random.Generator) -> None:
    train_values = rng.normal(0, 1, 100_000)
    b = _baseline(rng, train_values)
    p = b.features[0].numeric
    assert p is not None
    logs = [rng.normal(0.3, 1, 400) for _ in range(4)]
    found = ev.accumulate(_windows(b, logs), b)
    last = [e for e in found if e.last == "w03"]
    assert last, found
    e = last[0]
    pooled = np.concatenate(logs[4 - e.windows:])
    assert e.test == "pooled_rank" and e.n == len(pooled)
    assert e.shift_sd == pytest.approx((pooled.mean() - p.mean) / p.std, rel=1e-9)
    # the pooled windows' mean rank in the baseline, by scipy's Mann-Whitney U against the
    # baseline's values (the grid holds them to within half a bin's mass, 0.0005)
    train = np.sort(train_values)
    u = stats.mannwhitneyu(pooled, train, method="asymptotic").statistic / (len(pooled) * len(train))
    z = (u - 0.5) / np.sqrt((1 / len(pooled) + 1 / p.n) / 12)
    assert stats.norm.isf(e.p_value / 2) == pytest.approx(abs(z), abs=0.1)
    # Bonferroni over 48 windows, each with every scale (1, 2, 4, ... 64) and its own drift test
    assert e.threshold == pytest.approx(0.05 / (ev.HORIZON * (len(ev.SCALES) + 1)))
    assert e.p_value < e.threshold


def test_a_persistent_small_shift_adds_up_and_stationary_logs_stay_quiet(rng: np.random.Generator) -> None:
    """0.1 sd from window 30 of 48 (500 records each): no single window's drift test proves it,
    the pooled mean does within a few windows; the same log without the shift shows nothing."""
    b = _baseline(rng)
    logs = [rng.normal(0, 1, 500) for _ in range(48)]
    assert ev.accumulate(_windows(b, logs), b) == ()
    shifted = [x + (0.1 if i >= 30 else 0.0) for i, x in enumerate(logs)]
    ws = _windows(b, shifted)
    found = ev.accumulate(ws, b)
    assert found and min(ws.index(next(w for w in ws if w.window_start == e.last)) for e in found) >= 30
    assert any(e.last == "w47" and e.windows > 1 for e in found)
    assert all(f.p_value is None or f.p_value >= 0.05 / 48 for w in ws for f in w.features if f.n)


def test_min_shift_gate_and_options() -> None:
    assert ev.MIN_SHIFT == 0.05 and ev.ALPHA == 0.05 and DriftOptions().min_effect == 0.05
