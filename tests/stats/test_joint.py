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


# --- the model's limits and the test's edges, by hand ------------------------------------------


def test_split_is_two_disjoint_halves() -> None:
    for n in (100, 101, 1000):
        fit, cal = joint.split(n)
        assert len(fit) == n // 2 and len(cal) == n - n // 2
        assert sorted(np.concatenate([fit, cal]).tolist()) == list(range(n))
        assert list(fit) == sorted(fit) and list(cal) == sorted(cal)


def test_feature_and_row_limits_at_equality(rng: np.random.Generator) -> None:
    wide = rng.standard_normal((4 * joint.MAX_FEATURES, joint.MAX_FEATURES + 1))
    names = [f"f{j}" for j in range(joint.MAX_FEATURES + 1)]
    model, why = joint.fit(names, wide)
    assert model is None
    assert why == f"{joint.MAX_FEATURES + 1} numeric features, more than the 200 the joint test takes"
    model, why = joint.fit(names[:-1], wide[:, :-1])
    assert model is not None and why == "" and len(model.features) == joint.MAX_FEATURES
    # 30 features need 4 x 30 = 120 complete rows (more than MIN_ROWS)
    x = rng.standard_normal((120, 30))
    names = [f"f{j}" for j in range(30)]
    want = (None, "119 rows with every numeric feature, fewer than the 120 needed")
    assert joint.fit(names, x[:119]) == want
    model, why = joint.fit(names, x)
    assert model is not None and (model.fit_rows, model.calibration_rows) == (60, 60)
    # and a row with a missing value does not count
    x[0, 3] = np.nan
    assert joint.fit(names, x)[0] is None
    assert joint.fit(["a"], x[:, :1]) == (None, "fewer than two numeric features")


def test_constant_and_overflowing_features_are_left_out_quietly(rng: np.random.Generator) -> None:
    import warnings

    n = 400
    x = np.column_stack([
        rng.normal(0, 0.01, n),  # varies, if little
        np.full(n, 7.0),  # constant
        rng.normal(5, 0.02, n),
        np.where(rng.random(n) < 0.5, 1.7e308, -1.7e308),  # its variance overflows
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # `mlmon baseline` prints no numpy warning
        model, why = joint.fit(["a", "const", "b", "huge"], x)
    assert model is not None and model.features == ("a", "b")
    assert len(model.components) == 1  # two features: one direction kept, one left for the error
    assert np.asarray(model.scale) == pytest.approx([x[:, 0].std(ddof=1), x[:, 2].std(ddof=1)], rel=0.2)
    only_one = x[:, [0, 1, 3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = joint.fit(["a", "const", "huge"], only_one)
    assert got == (None, "fewer than two numeric features that vary")


def test_components_kept_stop_where_they_explain_exactly_the_share() -> None:
    """Twenty orthogonal features of equal variance on the fit half: each direction explains
    5%, so thirteen explain exactly 65% (VARIANCE_KEPT) and no fourteenth is kept."""
    from scipy.linalg import hadamard

    n = 128
    fit_idx, cal_idx = joint.split(n)
    x = np.zeros((n, 20))
    x[fit_idx] = hadamard(64)[:, 1:21]  # columns of +-1, each summing to 0, orthogonal
    x[cal_idx] = np.random.default_rng(1).choice([-1.0, 1.0], (len(cal_idx), 20))
    model, _ = joint.fit([f"f{j}" for j in range(20)], x)
    assert model is not None
    assert joint.VARIANCE_KEPT == 0.65 and len(model.components) == 13
    assert model.explained == pytest.approx(0.65, abs=1e-9)


def test_a_names_list_and_a_matrix_of_different_widths_are_refused(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError):
        joint.fit(["a", "b", "c"], rng.standard_normal((200, 2)))


def _model(error_mean: float, error_std: float, calibration_rows: int = 500) -> joint.PcaModel:
    """Two features, the first the kept direction: a row's error is |z2|, its second value
    standardised (mean 0, scale 1)."""
    return joint.PcaModel(("a", "b"), [0.0, 0.0], [1.0, 1.0], ((1.0, 0.0),), 0.5, 500, calibration_rows,
                          error_mean, error_std)


def test_fields_are_welchs_z_by_hand_with_the_effect_unbounded_above() -> None:
    acc = joint.JointAccumulator(_model(1.0, 0.5))
    second = np.array([1.0, 3.0, 2.0, 6.0, 4.0] * 20)
    acc.update(np.column_stack([np.zeros(len(second)), second]))
    f = acc.fields(min_samples=30)
    err = np.abs(second)
    se = np.sqrt(err.var(ddof=1) / len(err) + 0.5**2 / 500)
    z = (err.mean() - 1.0) / se
    assert f["status"] == "ok" and f["p_method"] == "asymptotic"
    assert f["statistic"] == pytest.approx(z, rel=1e-12)
    assert f["p_value"] == pytest.approx(stats.norm.sf(z), rel=1e-9, abs=1e-300)
    assert f["effect_size"] == pytest.approx((err.mean() - 1.0) / 0.5, rel=1e-12)
    # the effect is in reference standard deviations: not capped at 1 as a share would be
    assert f["effect_high"] == pytest.approx((err.mean() - 1.0 + 1.959963984540054 * se) / 0.5, rel=1e-12)
    assert f["effect_high"] > 1
    assert (f["n"], f["baseline_n"], f["missing"]) == (100, 500, 0)


def test_fields_with_no_spread_on_either_side() -> None:
    """Every log error equal and a reference error without spread: no standard error. An
    error at or below the reference is no evidence (z 0, p 0.5); above it, certain (p 0)."""
    rows = np.column_stack([np.zeros(50), np.full(50, 2.0)])  # every error 2.0
    for ref, z, p in ((2.0, 0.0, 0.5), (2.5, 0.0, 0.5), (1.5, float("inf"), 0.0)):
        acc = joint.JointAccumulator(_model(ref, 0.0))
        acc.update(rows)
        f = acc.fields(min_samples=30)
        assert (f["statistic"], f["p_value"]) == (z, p), ref
        # the effect's unit is 1 when the reference has no spread
        assert f["effect_size"] == pytest.approx(2.0 - ref)


def test_fields_need_min_samples_on_both_sides_counted_at_equality() -> None:
    rows = np.column_stack([np.zeros(30), np.arange(30.0)])
    acc = joint.JointAccumulator(_model(1.0, 0.5, calibration_rows=30))
    acc.update(rows)
    assert acc.fields(min_samples=30)["status"] == "ok"
    assert acc.fields(min_samples=31) == {
        "n": 30, "baseline_n": 30, "mean": pytest.approx(np.arange(30.0).mean()), "baseline_mean": 1.0,
        "missing": 0, "status": "insufficient_data"}
    few = joint.JointAccumulator(_model(1.0, 0.5, calibration_rows=1000))
    few.update(rows[:29])
    assert few.fields(min_samples=30)["status"] == "insufficient_data"
    empty = joint.JointAccumulator(_model(1.0, 0.5))
    assert empty.fields(min_samples=30)["mean"] is None


def test_incomplete_rows_are_counted_across_updates() -> None:
    acc = joint.JointAccumulator(_model(1.0, 0.5))
    acc.update(np.array([[0.0, 1.0], [np.nan, 1.0]]))
    acc.update(np.array([[0.0, np.inf], [0.0, 2.0], [np.nan, np.nan]]))
    acc.update(np.empty((0, 2)))
    assert (acc.incomplete, acc.n) == (3, 2)
    assert acc.fields(min_samples=1)["missing"] == 3
