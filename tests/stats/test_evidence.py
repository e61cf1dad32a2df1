"""Evidence over windows (trend): the pooled-mean z against scipy, the log-wide Bonferroni
threshold, and a persistent small shift found where single windows see nothing."""

from __future__ import annotations

from dataclasses import replace
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


# --- by hand: the pooled mean rank, the threshold and the gates, on windows made to order -------


def _row(name: str = "x") -> Any:
    """A feature's drift row to vary with dataclasses.replace (its fields set by each test)."""
    rng = np.random.default_rng(0)
    b = _baseline(rng)
    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "x": pa.array(rng.normal(0, 1, 50))}))
    (row,) = [f for f in acc.result() if f.name == "x"]
    return replace(row, name=name, status="ok", p_value=None, effect_high=None)


def _made(rows_per_window: list[list[Any]], status: list[str] | None = None) -> list[Window]:
    summary = cast(Any, None)
    return [Window(f"w{i:02d}", f"w{i + 1:02d}", i, i + 1, (status or ["ok"] * len(rows_per_window))[i],
                   summary, tuple(rows)) for i, rows in enumerate(rows_per_window)]


def _numeric_baseline(mean: float = 0.0, std: float = 1.0, n: int = 100_000) -> bl.Baseline:
    prof = bl.NumericProfile(n, mean, std, -5.0, 5.0, bl.floats(np.linspace(-5, 5, 1001)),
                             bl.floats(np.linspace(0.001, 1, 1001)), False)
    return bl.Baseline("t", n, (bl.FeatureProfile("x", Kind.NUMERIC, numeric=prof),))


def _p_by_hand(rank: float, n: int, n_b: int) -> float:
    z = (rank - 0.5) / np.sqrt((1 / n + 1 / n_b) / 12)
    return float(2 * stats.norm.sf(abs(z)))


def _categories() -> bl.CategoricalProfile:
    return bl.CategoricalProfile(100, (("a", 60), ("b", 40)))


THRESHOLD_ONE_NUMBER = 0.05 / (48 * (len(ev.SCALES) + 1))


def test_one_window_by_hand() -> None:
    row = _row()
    ws = _made([[replace(row, n=400, mean=0.3, mean_rank=0.6)]])
    (e,) = ev.accumulate(ws, _numeric_baseline())
    assert (e.feature, e.first, e.last, e.windows, e.n, e.test) == ("x", "w00", "w00", 1, 400, "pooled_rank")
    assert e.shift_sd == pytest.approx(0.3, rel=1e-12)
    assert e.p_value == pytest.approx(_p_by_hand(0.6, 400, 100_000), rel=1e-9)
    assert e.threshold == pytest.approx(THRESHOLD_ONE_NUMBER, rel=1e-15)
    # below the baseline's mean rank counts the same (two-sided), the shift keeps its sign
    (e,) = ev.accumulate(_made([[replace(row, n=400, mean=-0.3, mean_rank=0.4)]]), _numeric_baseline())
    assert e.shift_sd == pytest.approx(-0.3) and e.p_value == pytest.approx(_p_by_hand(0.4, 400, 100_000))
    # against a baseline of mean 10, sd 2: the shift in its sd
    (e,) = ev.accumulate(_made([[replace(row, n=400, mean=10.6, mean_rank=0.6)]]), _numeric_baseline(10, 2))
    assert e.shift_sd == pytest.approx(0.3)


def test_windows_are_pooled_weighted_by_their_records_and_the_strongest_scale_is_reported() -> None:
    row = _row()
    # a weak shift in window 0, a strong one in windows 1 and 2
    ws = _made([[replace(row, n=100, mean=0.05, mean_rank=0.52)],
                [replace(row, n=300, mean=0.2, mean_rank=0.56)],
                [replace(row, n=200, mean=0.25, mean_rank=0.58)]])
    found = [e for e in ev.accumulate(ws, _numeric_baseline()) if e.last == "w02"]
    (e,) = found
    pooled = {1: (200, 0.58, 0.25), 2: (500, (300 * 0.56 + 200 * 0.58) / 500, (300 * 0.2 + 200 * 0.25) / 500)}
    ps = {s: _p_by_hand(r, n, 100_000) for s, (n, r, _) in pooled.items()}
    best = min(ps, key=lambda s: ps[s])
    assert best == 2 and e.windows == 2 and e.first == "w01" and e.n == 500
    assert e.p_value == pytest.approx(ps[2], rel=1e-9)
    assert e.shift_sd == pytest.approx(pooled[2][2], rel=1e-12)
    # scale 4 needs 4 windows: with 3, scales 1 and 2 only
    assert all(x.windows <= 2 for x in ev.accumulate(ws, _numeric_baseline()))


def test_windows_and_rows_without_a_usable_value_are_left_out_of_the_pool() -> None:
    row = _row()
    good = replace(row, n=300, mean=0.2, mean_rank=0.6)
    for spoiled, status in (
        (replace(row, n=300, mean=0.9, mean_rank=0.9, status="insufficient_data"), "ok"),
        (replace(row, n=300, mean=None, mean_rank=0.9), "ok"),
        (replace(row, n=300, mean=0.9, mean_rank=None), "ok"),
        (replace(row, n=0, mean=0.9, mean_rank=0.9), "ok"),
        (replace(row, n=300, mean=0.9, mean_rank=0.9), "too_few_records"),
        (replace(row, name="other", n=300, mean=0.9, mean_rank=0.9), "ok"),
    ):
        ws = _made([[good], [spoiled], [good]], ["ok", status, "ok"])
        found = {(e.last, e.windows): e for e in ev.accumulate(ws, _numeric_baseline())}
        # ending at w02 over 2 windows the pool is w02 alone (w01's row is left out)
        e = found.get(("w02", 2)) or found[("w02", 1)]
        assert e.n == 300 and e.p_value == pytest.approx(_p_by_hand(0.6, 300, 100_000), rel=1e-9), spoiled


def test_a_shift_the_data_prove_smaller_than_min_shift_is_no_evidence() -> None:
    """A million records a side: a mean rank of 0.51 is far past the threshold, but a shift of
    0.02 sd is proven under MIN_SHIFT (0.02 + 1.96 x 0.0014 < 0.05)."""
    row = _row()
    n = 1_000_000
    base = _numeric_baseline(n=n)
    assert _p_by_hand(0.51, n, n) < 1e-30
    assert ev.accumulate(_made([[replace(row, n=n, mean=0.02, mean_rank=0.51)]]), base) == ()
    # the reach exactly at MIN_SHIFT counts
    se = float(np.sqrt(2 / n))
    at = ev.MIN_SHIFT - 1.959963984540054 * se
    (e,) = ev.accumulate(_made([[replace(row, n=n, mean=at, mean_rank=0.51)]]), base)
    assert e.shift_sd == pytest.approx(at)
    # a millionth of a standard deviation less: proven under it
    assert ev.accumulate(_made([[replace(row, n=n, mean=at - 1e-6, mean_rank=0.51)]]), base) == ()


def test_the_threshold_counts_every_scale_of_numbers_and_one_test_of_other_features() -> None:
    row = _row()
    cat = bl.FeatureProfile("c", Kind.CATEGORICAL, categorical=_categories())
    flat = bl.FeatureProfile("flat", Kind.NUMERIC, numeric=bl.NumericProfile(  # a grid, not few-valued
        100, 1.0, 0.0, 1.0, 1.0, bl.floats([1.0]), bl.floats([1.0]), False))
    few = bl.FeatureProfile("few", Kind.NUMERIC, numeric=bl.NumericProfile(
        100, 0.5, 0.5, 0.0, 1.0, bl.floats([0.0, 1.0]), bl.floats([0.5, 1.0]), True))
    b = _numeric_baseline()
    b = replace(b, features=(*b.features, cat, flat, few))
    (e,) = ev.accumulate(_made([[replace(row, n=400, mean=0.3, mean_rank=0.6)]]), b)
    assert e.threshold == pytest.approx(0.05 / (48 * (len(ev.SCALES) + 1 + 3)), rel=1e-15)
    (e,) = ev.accumulate(_made([[replace(row, n=400, mean=0.3, mean_rank=0.6)]]), b, alpha=0.01)
    assert e.threshold == pytest.approx(0.01 / (48 * (len(ev.SCALES) + 1 + 3)), rel=1e-15)


def test_a_features_own_drift_test_is_evidence_at_the_threshold_and_the_effect_gate() -> None:
    row = _row("c")
    cat = bl.FeatureProfile("c", Kind.CATEGORICAL, categorical=_categories())
    b = bl.Baseline("t", 100, (cat,))
    threshold = 0.05 / 48
    below = np.nextafter(threshold, 0)
    (e,) = ev.accumulate(_made([[replace(row, n=80, p_value=below, effect_high=0.05)]]), b)
    assert (e.feature, e.test, e.windows, e.n, e.shift_sd, e.p_value) == ("c", "drift", 1, 80, None, below)
    assert (e.first, e.last) == ("w00", "w00")
    assert e.threshold == pytest.approx(threshold, rel=1e-15)
    # at the threshold: no evidence; an effect proven under the minimum: none either
    assert ev.accumulate(_made([[replace(row, n=80, p_value=threshold, effect_high=0.05)]]), b) == ()
    assert ev.accumulate(_made([[replace(row, n=80, p_value=1e-9, effect_high=0.049)]]), b) == ()
    assert ev.accumulate(_made([[replace(row, n=80, p_value=1e-9, effect_high=None)]]), b) == ()
    assert ev.accumulate(_made([[replace(row, n=80, p_value=None, effect_high=0.5)]]), b) == ()
    # the run's minimum effect is the gate
    o = DriftOptions(min_effect=0.2)
    assert ev.accumulate(_made([[replace(row, n=80, p_value=1e-9, effect_high=0.1)]]), b, o) == ()
    assert len(ev.accumulate(_made([[replace(row, n=80, p_value=1e-9, effect_high=0.2)]]), b, o)) == 1
    # a row not ok, or a feature the baseline lacks, is never evidence
    missing = replace(row, n=80, p_value=1e-9, effect_high=0.5, status="missing")
    assert ev.accumulate(_made([[missing]]), b) == ()
    assert ev.accumulate(_made([[replace(row, name="z", n=80, p_value=1e-9, effect_high=0.5)]]), b) == ()


def test_a_number_without_pooled_evidence_falls_back_on_its_drift_test() -> None:
    """A change of shape: the mean rank stays at 0.5, the window's own test finds it."""
    row = _row()
    ws = _made([[replace(row, n=400, mean=0.0, mean_rank=0.5, p_value=1e-9, effect_high=0.3)]])
    (e,) = ev.accumulate(ws, _numeric_baseline())
    assert e.test == "drift" and e.p_value == 1e-9 and e.threshold == pytest.approx(THRESHOLD_ONE_NUMBER)


def test_nothing_to_pool_gives_nothing() -> None:
    row = _row()
    assert ev.accumulate([], _numeric_baseline()) == ()
    assert ev.accumulate(_made([[]]), _numeric_baseline()) == ()
    bad = _made([[replace(row, n=400, mean=0.3, mean_rank=0.6)]], ["too_few_records"])
    assert ev.accumulate(bad, _numeric_baseline()) == ()
    # a window not ok among ok ones is skipped as an end, and the ok ones still count
    ws = _made([[replace(row, n=400, mean=0.3, mean_rank=0.6)]] * 2, ["too_few_records", "ok"])
    assert [(e.last, e.windows, e.n) for e in ev.accumulate(ws, _numeric_baseline())] == [("w01", 1, 400)]


def test_evidence_at_an_early_window_pools_only_the_windows_up_to_it() -> None:
    """Five windows (scales 1, 2 and 4): the evidence ending at w01 pools w00 and w01 only, and
    is kept though scale 4 does not fit before it; a later window never joins an earlier pool."""
    row = _row()
    strong = replace(row, n=300, mean=0.3, mean_rank=0.6)
    quiet = replace(row, n=300, mean=0.0, mean_rank=0.5)
    ws = _made([[strong], [strong], [replace(row, n=5000, mean=-0.5, mean_rank=0.3)], [quiet], [quiet]])
    found = {e.last: e for e in ev.accumulate(ws, _numeric_baseline())}
    e = found["w01"]
    assert (e.first, e.windows, e.n) == ("w00", 2, 600)
    assert e.p_value == pytest.approx(_p_by_hand(0.6, 600, 100_000), rel=1e-9)
    assert found["w00"].n == 300 and found["w00"].windows == 1


def test_a_scale_with_nothing_usable_does_not_end_the_search() -> None:
    row = _row()
    empty = replace(row, n=300, mean=None, mean_rank=None)
    ws = _made([[replace(row, n=300, mean=0.3, mean_rank=0.6)], [empty]])
    found = {e.last: e for e in ev.accumulate(ws, _numeric_baseline())}
    e = found["w01"]  # scale 1 holds nothing usable; scale 2 holds w00
    assert (e.first, e.windows, e.n) == ("w00", 2, 300)


def test_a_row_the_baseline_lacks_does_not_hide_the_next_one() -> None:
    row = _row()
    other = replace(row, name="zz", n=300, mean=0.9, mean_rank=0.9)
    bad = replace(row, n=300, mean=0.9, mean_rank=0.9, status="insufficient_data", name="y")
    ws = _made([[other, bad, replace(row, n=300, mean=0.3, mean_rank=0.6)]])
    assert [(e.feature, e.n) for e in ev.accumulate(ws, _numeric_baseline())] == [("x", 300)]


def test_a_few_valued_number_is_judged_by_its_drift_test_not_its_mean_rank() -> None:
    row = _row()
    few = bl.NumericProfile(100, 0.5, 0.5, 0.0, 1.0, bl.floats([0.0, 1.0]), bl.floats([0.5, 1.0]), True)
    b = bl.Baseline("t", 100, (bl.FeatureProfile("x", Kind.NUMERIC, numeric=few),))
    ws = _made([[replace(row, n=400, mean=0.9, mean_rank=0.9, p_value=None)]])
    assert ev.accumulate(ws, b) == ()
    ws = _made([[replace(row, n=400, mean=0.9, mean_rank=0.9, p_value=1e-9, effect_high=0.4)]])
    (e,) = ev.accumulate(ws, b)
    assert e.test == "drift" and e.threshold == pytest.approx(0.05 / 48)
