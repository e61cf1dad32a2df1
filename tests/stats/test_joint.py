"""The joint drift test (mlmon.stats.joint): PCA against scikit-learn, the test against scipy,
calibration on stationary data and power on a broken correlation, all through saved baselines."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlmon.read.records import FEATURE_PREFIX
from mlmon.rules.alerts import drift_alerts
from mlmon.stats import baseline as bl
from mlmon.stats import joint
from mlmon.stats.drift import DriftAccumulator, DriftOptions

sklearn_decomposition = pytest.importorskip("sklearn.decomposition")


def correlated(rng: np.random.Generator, n: int, rho: float, d: int = 5) -> np.ndarray:
    z = rng.standard_normal((n, d))
    z[:, 1] = rho * z[:, 0] + np.sqrt(1 - rho * rho) * z[:, 1]
    return 50 + 10 * z


def saved(tmp_path: Path, x: np.ndarray) -> bl.Baseline:
    table = pa.table({f"x{j}": x[:, j] for j in range(x.shape[1])})
    path = tmp_path / "b.json"
    bl.save(bl.build(table, source="t", max_edges=bl.GRID_EDGES), str(path))
    return bl.load(str(path))


def joint_row(base: bl.Baseline, x: np.ndarray, o: DriftOptions | None = None):  # type: ignore[no-untyped-def]
    acc = DriftAccumulator(base)
    acc.update(pa.table({FEATURE_PREFIX + f"x{j}": x[:, j] for j in range(x.shape[1])}))
    rows = acc.result(o or DriftOptions())
    return next(r for r in rows if r.role == "multivariate"), rows


def test_pca_model_is_scikit_learns(rng: np.random.Generator) -> None:
    x = correlated(rng, 4000, 0.8)
    names = [f"x{j}" for j in range(x.shape[1])]
    model, note = joint.fit(names, x)
    assert model is not None and note == ""
    fit_idx, cal_idx = joint.split(len(x))
    part = x[fit_idx]
    mean, scale = part.mean(axis=0), part.std(axis=0, ddof=1)
    z = (part - mean) / scale
    ref = sklearn_decomposition.PCA(n_components=joint.VARIANCE_KEPT, svd_solver="full").fit(z)
    c = np.asarray(model.components)
    assert c.shape == ref.components_.shape
    # the same directions, each up to its sign
    np.testing.assert_allclose(np.abs(np.sum(c * ref.components_, axis=1)), 1.0, atol=1e-9)
    assert model.explained == pytest.approx(float(np.sum(ref.explained_variance_ratio_)), rel=1e-9)
    np.testing.assert_allclose(model.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(model.scale, scale, rtol=1e-12)
    # the reconstruction error of held-out rows: sklearn's transform and inverse_transform
    zc = (x[cal_idx] - mean) / scale
    want = np.linalg.norm(zc - ref.inverse_transform(ref.transform(zc)), axis=1)
    np.testing.assert_allclose(joint.errors(model, x[cal_idx]), want, rtol=1e-9, atol=1e-12)
    assert model.error_mean == pytest.approx(want.mean(), rel=1e-9)
    assert model.error_std == pytest.approx(want.std(ddof=1), rel=1e-9)
    assert (model.fit_rows, model.calibration_rows) == (len(fit_idx), len(cal_idx))


def test_the_test_is_welchs_z_on_the_errors(rng: np.random.Generator, tmp_path: Path) -> None:
    base = saved(tmp_path, correlated(rng, 6000, 0.8))
    m = base.multivariate
    assert m is not None
    log = correlated(rng, 1500, 0.4)
    row, rows = joint_row(base, log)
    e = joint.errors(m, log)
    se = np.sqrt(e.var(ddof=1) / len(e) + m.error_std**2 / m.calibration_rows)
    z = (e.mean() - m.error_mean) / se
    assert row.n == len(e) and row.mean == pytest.approx(e.mean(), rel=1e-9)
    assert row.statistic == pytest.approx(z, rel=1e-9)
    assert row.p_value == pytest.approx(stats.norm.sf(z), rel=1e-6, abs=1e-300)
    d = (e.mean() - m.error_mean) / m.error_std
    assert row.effect_size == pytest.approx(d, rel=1e-9)
    assert row.effect_high == pytest.approx(d + stats.norm.ppf(0.975) * se / m.error_std, rel=1e-9)
    # one BH family with every feature's tests
    family = [r.p_value for r in rows if r.p_value is not None]
    family += [r.mean_p_value for r in rows if r.mean_p_value is not None]
    family += [r.out_of_range_p_value for r in rows if r.out_of_range_p_value is not None]
    adj = stats.false_discovery_control(family, method="bh")
    i = [r.name for r in rows if r.p_value is not None].index("multivariate")
    assert row.p_value_adjusted == pytest.approx(min(1.0, adj[i]), rel=1e-9)


def test_merged_accumulators_equal_one_pass(rng: np.random.Generator, tmp_path: Path) -> None:
    base = saved(tmp_path, correlated(rng, 3000, 0.8))
    log = correlated(rng, 2000, 0.0)
    log[::7, 2] = np.nan  # rows lacking a feature are counted, not tested
    whole, _ = joint_row(base, log)
    a, b = DriftAccumulator(base), DriftAccumulator(base)
    for acc, part in ((a, log[:700]), (b, log[700:])):
        acc.update(pa.table({FEATURE_PREFIX + f"x{j}": part[:, j] for j in range(5)}))
    a.merge(b)
    merged = next(r for r in a.result(DriftOptions()) if r.role == "multivariate")
    assert merged.n == whole.n == int(np.all(np.isfinite(log), axis=1).sum())
    assert merged.missing == whole.missing == int((~np.isfinite(log[:, 2])).sum())
    assert merged.mean == pytest.approx(whole.mean, rel=1e-12)
    assert merged.statistic == pytest.approx(whole.statistic, rel=1e-9)


def test_stationary_false_alarms_within_the_level(rng: np.random.Generator, tmp_path: Path) -> None:
    """200 stationary logs of 1,000 rows against one saved baseline: the raw one-sided p-value
    is below 0.05 in a share the binomial law at 5% allows (not an exact rate)."""
    base = saved(tmp_path, correlated(rng, 20_000, 0.8))
    m = base.multivariate
    assert m is not None
    runs = 200
    below = 0
    for _ in range(runs):
        acc = joint.JointAccumulator(m)
        acc.update(correlated(rng, 1000, 0.8))
        p = acc.fields(30)["p_value"]
        assert isinstance(p, float)
        below += p < 0.05
    assert stats.binomtest(below, runs, 0.05, alternative="greater").pvalue > 0.001


def test_broken_correlation_is_drift_and_alerts(rng: np.random.Generator, tmp_path: Path) -> None:
    base = saved(tmp_path, correlated(rng, 20_000, 0.8))
    row, rows = joint_row(base, correlated(rng, 1000, 0.0))
    o = DriftOptions()
    assert row.drift and row.p_value_adjusted is not None and row.p_value_adjusted < 0.05
    assert not any(r.drift for r in rows if r.role == "feature")  # the marginals did not move
    alerts = {a.metric: a for a in drift_alerts(rows, o)}
    assert "drift.multivariate" in alerts
    assert alerts["drift.multivariate"].threshold in (joint.WARNING, joint.CRITICAL)
    assert "joint distribution" in alerts["drift.multivariate"].message


def test_no_model_without_two_varying_features() -> None:
    one = bl.build(pa.table({"a": np.arange(500.0), "c": ["x"] * 500}), source="t", max_edges=101)
    assert one.multivariate is None and "two numeric" in one.multivariate_note
    few = bl.build(pa.table({"a": np.arange(50.0), "b": np.arange(50.0) ** 2}), source="t", max_edges=101)
    assert few.multivariate is None and "rows" in few.multivariate_note


def test_hand_edited_model_is_refused(rng: np.random.Generator, tmp_path: Path) -> None:
    body = bl.to_json(saved(tmp_path, correlated(rng, 1000, 0.8)))
    body["multivariate"]["components"][0] = body["multivariate"]["components"][0][:-1]
    body["checksum"] = bl._checksum(body)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(body))
    with pytest.raises(bl.BaselineError, match="multivariate.components"):
        bl.load(str(path))


def test_old_baseline_loads_without_joint_or_predictions() -> None:
    old = Path(__file__).resolve().parent.parent / "data" / "baseline_before_predictions.json"
    b = bl.load(str(old))
    assert b.predictions == () and b.multivariate is None
    assert "made before" in b.multivariate_note
    acc = DriftAccumulator(b)
    acc.update(pa.table({FEATURE_PREFIX + "age": np.full(100, 40.0)}))
    assert all(r.role == "feature" for r in acc.result(DriftOptions()))
    assert dataclasses.replace(b) == b
