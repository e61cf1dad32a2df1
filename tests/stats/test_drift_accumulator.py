"""Drift's accumulator on small tables: the slot counts (native and numpy), the tails, merging,
the missing, wrong-type and out-of-range counts, predictions and the joint matrix, each field
checked against numpy/scipy on the same values."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlmon.read.records import CONFIDENCE, FEATURE_PREFIX, PRED_CLASS, PRED_VALUE, TYPE_ERRORS, Kind
from mlmon.stats import baseline as bl
from mlmon.stats import drift as dm
from mlmon.stats.drift import DriftAccumulator, DriftOptions


def train(**cols: object) -> bl.Baseline:
    return bl.build(pa.table({k: pa.array(v) for k, v in cols.items()}), source="t", max_edges=None)


def feats(**cols: object) -> pa.Table:
    return pa.table({FEATURE_PREFIX + k: v if isinstance(v, pa.Array) else pa.array(v)
                     for k, v in cols.items()})


def by_hand_slots(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(2 * len(edges) + 1, dtype=np.int64)
    for x in values:
        j = int(np.searchsorted(edges, x, side="left"))
        out[2 * j + int(j < len(edges) and edges[j] == x)] += 1
    return out


@pytest.mark.parametrize("n", [3, 40, 400])
def test_slot_counts_by_numpy_and_natively_agree_with_a_count_by_hand(n: int) -> None:
    rng = np.random.default_rng(n)
    edges = np.array([-1.0, 0.0, 0.5, 2.0, 7.0])
    p = bl.NumericProfile(10, 0.0, 1.0, -1.0, 7.0, edges.tolist(), [0.1, 0.3, 0.6, 0.9, 1.0], True)
    values = np.concatenate([rng.choice(np.r_[edges, -3.0, -0.5, 0.2, 1.0, 5.0, 9.0], n), [7.0, -1.0]])
    want = by_hand_slots(edges, values)
    for native in (True, False):
        st = dm._Numeric(p, np.zeros(11, dtype=np.int64))
        if not native:
            st._native_count = None
        st.update(values[: n // 2])
        st.update(values[n // 2:])
        st.count_pending()
        assert st.counts.tolist() == want.tolist()
        assert st.pending == [] and st.pending_n == 0
        st.count_pending()  # nothing pending: nothing changes
        assert st.counts.tolist() == want.tolist()


def test_values_are_counted_once_a_batch_is_full() -> None:
    p = bl.NumericProfile(10, 0.0, 1.0, 0.0, 1.0, [0.0, 1.0], [0.5, 1.0], True)
    st = dm._Numeric(p, np.zeros(5, dtype=np.int64))
    st.update(np.zeros(dm.COUNT_BATCH - 1))
    assert st.counts.sum() == 0 and st.pending_n == dm.COUNT_BATCH - 1
    st.update(np.ones(1))
    assert st.counts.tolist() == [0, dm.COUNT_BATCH - 1, 0, 1, 0] and st.pending_n == 0


def test_a_profile_without_edges_counts_everything_in_one_slot() -> None:
    p = bl.NumericProfile(0, 0.0, 0.0, 0.0, 0.0, [], [], True)
    st = dm._Numeric(p, np.zeros(1, dtype=np.int64))
    st.update(np.array([1.0, 2.0, 3.0]))
    st.count_pending()
    assert st.counts.tolist() == [3] and st.below == 0.0 and st.above == 0.0


def test_tails_sum_the_distances_beyond_the_edges() -> None:
    p = bl.NumericProfile(10, 0.0, 1.0, 0.0, 4.0, [0.0, 2.0, 4.0], [0.2, 0.6, 1.0], True)
    st = dm._Numeric(p, np.zeros(7, dtype=np.int64))
    st.update(np.array([-1.0, -0.5, 0.0, 3.0, 4.0, 6.0]))
    st.update(np.array([-2.0, 10.0]))
    st.update(np.array([], dtype=float))
    assert st.below == pytest.approx(1.0 + 0.5 + 2.0) and st.above == pytest.approx(2.0 + 6.0)
    assert st.n == 8 and st.mean == pytest.approx(np.mean([-1, -0.5, 0, 3, 4, 6, -2, 10]))
    assert st.std == pytest.approx(np.std([-1, -0.5, 0, 3, 4, 6, -2, 10], ddof=1))
    assert st.m2 == pytest.approx(np.var([-1, -0.5, 0, 3, 4, 6, -2, 10]) * 8) and st.scale == 1.0


def test_raw_values_are_kept_up_to_the_small_sample_and_merge() -> None:
    p = bl.NumericProfile(100, 0.0, 1.0, 0.0, 1.0, [float(i) for i in range(30)],
                          [(i + 1) / 30 for i in range(30)], True)
    a = dm._Numeric(p, np.zeros(61, dtype=np.int64))
    b = dm._Numeric(p, np.zeros(61, dtype=np.int64))
    assert a.small == []
    a.update(np.arange(10.0))
    b.update(np.arange(5.0))
    a.merge(b)
    assert a.small is not None and np.concatenate(a.small).tolist() == list(range(10)) + list(range(5))
    assert a.n == 15 and a.pending_n == 15
    a.count_pending()
    assert a.counts.sum() == 15
    # more than SMALL_SAMPLE values: the raw ones are dropped
    a.update(np.zeros(dm.SMALL_SAMPLE - 15))
    assert a.small is not None
    a.update(np.zeros(1))
    assert a.small is None
    c = dm._Numeric(p, np.zeros(61, dtype=np.int64))
    c.update(np.zeros(dm.SMALL_SAMPLE))
    d = dm._Numeric(p, np.zeros(61, dtype=np.int64))
    d.update(np.zeros(1))
    c.merge(d)
    assert c.small is None and c.n == dm.SMALL_SAMPLE + 1
    e = dm._Numeric(p, np.zeros(61, dtype=np.int64))
    e.update(np.zeros(3))
    e.merge(c)
    assert e.small is None and e.n == dm.SMALL_SAMPLE + 4


def test_raw_values_are_not_kept_where_no_exact_ks_needs_them() -> None:
    edges, cdf = [float(i) for i in range(60)], [(i + 1) / 60 for i in range(60)]
    big = bl.NumericProfile(dm.SMALL_SAMPLE + 1, 0.0, 1.0, 0.0, 1.0, edges, cdf, True)
    assert dm._Numeric(big, np.zeros(121, dtype=np.int64)).small is None
    grid = bl.NumericProfile(100, 0.0, 1.0, 0.0, 1.0, edges, cdf, False)
    assert dm._Numeric(grid, np.zeros(121, dtype=np.int64)).small is None
    flag = bl.NumericProfile(100, 0.5, 0.5, 0.0, 1.0, [0.0, 1.0], [0.5, 1.0], True)
    assert dm._Numeric(flag, np.zeros(5, dtype=np.int64)).small is None
    at_limit = bl.NumericProfile(dm.SMALL_SAMPLE, 0.0, 1.0, 0.0, 1.0, edges, cdf, True)
    assert dm._Numeric(at_limit, np.zeros(121, dtype=np.int64)).small == []


def test_numeric_state_pickles_without_its_counter() -> None:
    p = bl.NumericProfile(10, 0.0, 1.0, 0.0, 1.0, [0.0, 1.0], [0.5, 1.0], True)
    st = dm._Numeric(p, np.zeros(5, dtype=np.int64))
    st.update(np.array([0.0, 0.5, 1.0, 2.0]))
    assert "_native_count" not in st.__getstate__()
    back = pickle.loads(pickle.dumps(st))
    back.count_pending()
    st.count_pending()
    assert back.counts.tolist() == st.counts.tolist() == [0, 1, 1, 1, 1]
    assert (back._native_count is None) == (dm.native_counter(np.array([0.0, 1.0])) is None)


def test_categories_merge_and_total() -> None:
    a = dm._Categories(frozenset(["x", "y"]))
    a.update({"x": 3, "z": 2})
    b = dm._Categories(frozenset(["x", "y"]))
    b.update({"y": 4, "z": 1, "w": 5})
    a.merge(b)
    assert dict(a.seen) == {"x": 3, "y": 4}
    assert a.unseen.total == 8 and a.total() == 15
    assert {c.name: c.count for c in a.unseen.result(10).top} == {"z": 3, "w": 5}


# ------------------------------------------------------------------ whole runs on small tables


def test_missing_type_errors_and_counted_values_by_hand() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, 200).tolist()
    b = train(x=x + [None] * 10, c=(["a", "b"] * 105))
    acc = DriftAccumulator(b)
    n = 80
    xs = pa.array(rng.normal(0, 1, n).tolist()[:60] + [None] * 20, pa.float64())
    cs = pa.array(["a", "b"] * 30 + [None] * 20, pa.string())
    # rows 60..64 had text where x is a number (feature 0), rows 65, 66 a wrong type for both
    errs = [None] * 60 + ["0"] * 5 + ["0,1"] * 2 + [None] * 13
    t = pa.table({FEATURE_PREFIX + "x": xs, FEATURE_PREFIX + "c": cs,
                  TYPE_ERRORS: pa.array(errs, pa.string())})
    acc.update(t.slice(0, 50))
    acc.update(t.slice(50))
    acc.update(pa.table({FEATURE_PREFIX + "x": pa.array(rng.normal(0, 1, 20).tolist())}))  # no column c
    acc.add_counts("c", {"a": 12, "b": 8})
    res = {r.name: r for r in acc.result()}
    assert acc.records == 100
    rx, rc = res["x"], res["c"]
    assert rx.type_errors == 7 and rc.type_errors == 2
    assert rx.missing == 20 - 7 and rc.missing == 20 - 2 + 20 - 20  # the 20 counted are not missing
    assert rx.records == rc.records == 100
    assert rx.n == 80 and rc.n == 80
    assert rx.missing_share == pytest.approx(13 / 100)
    assert rx.baseline_missing_share == pytest.approx(10 / 210)
    want = stats.fisher_exact([[13, 87], [10, 200]], alternative="greater").pvalue
    assert rx.missing_p_value == pytest.approx(want, rel=1e-9)
    assert rc.missing_p_value is not None and rc.missing_share == pytest.approx(18 / 100)
    assert rc.baseline_missing_share == 0.0


def test_counted_beyond_the_missing_is_not_negative() -> None:
    b = train(c=["a", "b"] * 50)
    acc = DriftAccumulator(b)
    acc.update(pa.table({"other": pa.array([1.0] * 10)}))
    acc.add_counts("c", {"a": 30, "b": 30})
    r = acc.result()[0]
    assert r.missing == 0 and r.records == 10 and r.missing_p_value is None


def test_out_of_range_fields_by_hand() -> None:
    rng = np.random.default_rng(5)
    tr = rng.normal(0, 1, 300)
    lg = np.concatenate([rng.normal(0, 1, 90), [tr.max() + 1, tr.min() - 1, tr.max(), tr.min()] + [9.0] * 6])
    r = {x.name: x for x in run_of(train(x=tr.tolist()), x=lg)}["x"]
    outside = int(np.sum(lg > tr.max()) + np.sum(lg < tr.min()))
    assert outside >= 8 and r.out_of_range == outside  # the min and max themselves are inside
    assert r.out_of_range_share == pytest.approx(outside / 100)
    assert r.out_of_range_expected == pytest.approx(2 / 301)
    assert r.out_of_range_p_value == pytest.approx(stats.betabinom.sf(outside - 1, 100, 2, 299), rel=1e-9)
    assert r.out_of_range_low < outside / 100 < r.out_of_range_high
    assert r.out_of_range_p_value_adjusted is not None


def run_of(
    b: bl.Baseline, o: DriftOptions | None = None, **cols: object
) -> tuple[dm.FeatureDrift, ...]:
    acc = DriftAccumulator(b)
    acc.update(feats(**{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in cols.items()}))
    return acc.result(o)


def test_constant_feature_needs_more_than_chance() -> None:
    rng = np.random.default_rng(9)
    tr = rng.normal(0, 1, 500)
    b = train(x=tr.tolist(), c=["a"] * 250 + ["b"] * 250, flag=[0.0] * 475 + [1.0] * 25)
    res = {r.name: r for r in run_of(b, x=[0.5] * 40, c=["a"] * 40, flag=[0.0] * 40)}
    # x: one value in 40 draws has chance sum(share^40) ~ 0; c: 2 * 0.5^40; flag: 0.95^40 = 0.13
    assert res["x"].constant is True and res["c"].constant is True
    assert res["flag"].constant is False  # 0.95^40 + 0.05^40 is above 0.05 / 3
    res = {r.name: r for r in run_of(b, x=rng.normal(0, 1, 40), c=["a", "b"] * 20,
                                                   flag=[0.0] * 39 + [1.0])}
    assert not any(r.constant for r in res.values())
    # fewer values than --min-samples: not judged
    res = {r.name: r for r in run_of(b, x=[0.5] * 29, c=["a"] * 29, flag=[0.0] * 29)}
    assert not any(r.constant for r in res.values())


def test_constant_chance_is_bonferroni_over_the_features() -> None:
    # one feature: 0.9^n + 0.1^n against 0.05; n = 29 gives 0.047 (under), n = 28 0.0523 (over)
    b = train(flag=[0.0] * 900 + [1.0] * 100)
    for n, want in ((29, True), (28, False)):
        o = DriftOptions(min_samples=20)
        assert 0.9**n + 0.1**n < 0.05 if want else 0.9**n + 0.1**n > 0.05
        assert run_of(b, o, flag=[0.0] * n)[0].constant is want
    # a category at 0.9 / 0.1: the same chance
    b = train(c=["a"] * 900 + ["b"] * 100)
    assert run_of(b, DriftOptions(min_samples=20), c=["a"] * 29)[0].constant is True
    assert run_of(b, DriftOptions(min_samples=20), c=["a"] * 28)[0].constant is False


def test_a_constant_training_feature_is_never_called_constant() -> None:
    b = train(x=[2.0] * 100, c=["a"] * 100)
    res = {r.name: r for r in run_of(b, x=[2.0] * 50, c=["a"] * 50)}
    assert not res["x"].constant and not res["c"].constant
    b = train(c=["a"] * 100 + ["b"] * 0)
    assert not run_of(b, c=["b"] * 50)[0].constant  # one unseen value only: not training's


def test_a_single_unseen_value_where_training_had_several_is_constant() -> None:
    b = train(c=["a", "b"] * 100)
    r = run_of(b, c=["z"] * 50)[0]
    assert r.constant is True and r.unseen_share == 1.0


def test_predictions_are_tested_as_features_in_one_bh_family() -> None:
    rng = np.random.default_rng(11)
    tr_conf = rng.uniform(0.5, 1.0, 300)
    b = train(x=rng.normal(0, 1, 300).tolist())
    preds = (bl.FeatureProfile("prediction.class", Kind.CATEGORICAL,
                               categorical=bl.CategoricalProfile(300, (("cat", 150), ("dog", 150)))),
             bl.FeatureProfile("prediction.confidence", Kind.NUMERIC,
                               numeric=bl.build(pa.table({"v": tr_conf}), source="t", max_edges=None)
                               .features[0].numeric),
             bl.FeatureProfile("prediction.value", Kind.NUMERIC,
                               numeric=bl.build(pa.table({"v": tr_conf}), source="t", max_edges=None)
                               .features[0].numeric))
    b = bl.Baseline(b.source, b.rows, b.features, predictions=preds)
    n = 100
    log_conf = rng.uniform(0.3, 0.8, n)
    t = pa.table({FEATURE_PREFIX + "x": pa.array(rng.normal(0, 1, n)),
                  PRED_CLASS: pa.array(["CAT", "dog"] * 50), CONFIDENCE: pa.array(log_conf)})
    acc = DriftAccumulator(b)
    acc.update(t.slice(0, 40))
    other = DriftAccumulator(b)
    other.update(t.slice(40))
    acc.merge(other)
    res = {r.name: r for r in acc.result()}
    assert [res[k].role for k in ("x", "prediction.class", "prediction.confidence")] == [
        "feature", "prediction", "prediction"]
    pc_, conf, val = res["prediction.class"], res["prediction.confidence"], res["prediction.value"]
    # the class is read like a category from the reader's column (here new to training: CAT)
    assert pc_.n == n and pc_.unseen_categories == (("CAT", 0.5),)
    assert conf.n == n and conf.statistic == pytest.approx(stats.ks_2samp(tr_conf, log_conf).statistic)
    assert val.status == "missing" and val.n == 0 and val.missing == n  # no pred_value column at all
    ps = [r.p_value for r in res.values() if r.p_value is not None]
    ps += [r.mean_p_value for r in res.values() if r.mean_p_value is not None]
    ps += [r.missing_p_value for r in res.values() if r.missing_p_value is not None]
    ps += [r.out_of_range_p_value for r in res.values() if r.out_of_range_p_value is not None]
    got = [r.p_value_adjusted for r in res.values() if r.p_value is not None]
    assert got == pytest.approx(stats.false_discovery_control(ps)[: len(got)], rel=1e-12)


def test_prediction_table_and_matrix_by_hand() -> None:
    preds = bl.Baseline("t", 10, (
        bl.FeatureProfile("prediction.class", Kind.CATEGORICAL,
                          categorical=bl.CategoricalProfile(2, (("a", 2),))),
        bl.FeatureProfile("prediction.value", Kind.NUMERIC,
                          numeric=bl.NumericProfile(2, 0.0, 1.0, 0.0, 1.0, [0.0], [1.0], True)),
    ))
    t = pa.table({PRED_CLASS: pa.array(["TRUE", "b", None]), "feature:x": pa.array([1.0, None, 3.0])})
    out = dm._prediction_table(t, set(t.column_names), preds)
    assert out.column_names == [FEATURE_PREFIX + "prediction.class", FEATURE_PREFIX + "prediction.value"]
    assert out.column(0).to_pylist() == ["true", "b", None]
    assert out.column(1).to_pylist() == [None, None, None] and out.column(1).type == pa.float64()
    t2 = pa.table({PRED_VALUE: pa.array([0.5, 1.5, None])})
    assert dm._prediction_table(t2, set(t2.column_names), preds).column(1).to_pylist() == [0.5, 1.5, None]
    m = dm._matrix(t, set(t.column_names), ("x", "y"))
    assert m.shape == (3, 2)
    assert m[:, 0].tolist()[0] == 1.0 and np.isnan(m[1, 0]) and m[2, 0] == 3.0 and np.isnan(m[:, 1]).all()


def test_type_errors_by_hand() -> None:
    t = pa.table({TYPE_ERRORS: pa.array(["0", "1,2", None, "0,2", "0"])})
    assert dm._type_errors(t, set(t.column_names), ["a", "b", "c"]) == {"a": 3, "b": 1, "c": 2}
    none = pa.table({TYPE_ERRORS: pa.array([None, None], pa.string())})
    assert dm._type_errors(none, set(none.column_names), ["a"]) == {}
    assert dm._type_errors(pa.table({"x": [1]}), {"x"}, ["a"]) == {}


def test_merge_of_accumulators_is_the_whole() -> None:
    rng = np.random.default_rng(13)
    b = train(x=rng.normal(0, 1, 300).tolist() + [None] * 5, c=["a", "b", "c"] * 101 + ["d", "e"])
    xs = rng.normal(0.2, 1, 120).tolist()
    cs = list(rng.choice(np.array(["a", "b", "c", "new"], dtype=object), 120))
    errs = [None] * 110 + ["1"] * 10
    full = pa.table({FEATURE_PREFIX + "x": pa.array(xs[:100] + [None] * 20),
                     FEATURE_PREFIX + "c": pa.array(cs[:110] + [None] * 10),
                     TYPE_ERRORS: pa.array(errs, pa.string())})
    whole = DriftAccumulator(b)
    whole.update(full)
    whole.add_counts("c", {"a": 3})
    parts = [DriftAccumulator(b) for _ in range(3)]
    for i, part in enumerate(parts):
        part.update(full.slice(40 * i, 40))
    parts[2].add_counts("c", {"a": 3})
    parts[0].merge(parts[1])
    parts[0].merge(parts[2])
    a, w = parts[0].result(), whole.result()
    assert parts[0].records == whole.records == 120
    for ra, rw in zip(a, w, strict=True):
        for k in ("n", "missing", "type_errors", "records", "statistic", "p_value", "mean", "out_of_range",
                  "unseen_share", "missing_p_value"):
            want = getattr(rw, k)
            assert getattr(ra, k) == (want if want is None else pytest.approx(want, rel=1e-12)), k


def test_tables_of_another_schema_are_taken_apart_and_held_until_settled() -> None:
    rng = np.random.default_rng(17)
    b = train(x=rng.normal(0, 1, 100).tolist())
    acc = DriftAccumulator(b)
    acc.update(feats(x=[1.0, 2.0]))
    acc.update(pa.table({FEATURE_PREFIX + "x": pa.array([3, 4], pa.int64())}))  # another schema
    assert acc.records == 2  # the first table taken when the second's schema differs
    acc.settle()
    assert acc.records == 4 and acc.numeric["x"].counts.sum() == 4
    acc.update(feats(x=[5.0]))
    acc.file_done()
    assert acc.records == 5
    acc.settle()
    acc.settle()
    assert acc.records == 5


def test_a_large_table_is_taken_at_once() -> None:
    b = train(x=[float(i) for i in range(100)])
    acc = DriftAccumulator(b)
    acc.update(feats(x=np.zeros(dm.TABLE_CELLS - 1).tolist()))
    assert acc.records == 0
    acc.update(feats(x=[0.0]))
    assert acc.records == dm.TABLE_CELLS


def test_joint_row_reads_the_joint_tests_fields() -> None:
    rng = np.random.default_rng(19)
    z = rng.normal(0, 1, (600, 3))
    b = bl.build(pa.table({"a": z[:, 0], "b": z[:, 0] + 0.1 * z[:, 1], "c": z[:, 2]}), source="t",
                 max_edges=None)
    if b.multivariate is None:
        pytest.skip("no joint model for this baseline")
    acc = DriftAccumulator(b)
    lg = rng.normal(0, 1, (200, 3))
    acc.update(feats(a=lg[:, 0], b=lg[:, 1], c=lg[:, 2]))  # a and b no longer move together
    res = {r.name: r for r in acc.result()}
    from mlmon.stats import joint

    r = res[joint.NAME]
    assert r.role == joint.NAME and r.kind == joint.NAME and r.test == joint.METHOD
    assert r.effect_measure == "error_rise_sd" and r.records == 200 and r.n == 200
    assert r.status == "ok" and r.p_value is not None and r.p_value_adjusted is not None
    assert r.drift is True


def test_joint_test_merges() -> None:
    rng = np.random.default_rng(23)
    z = rng.normal(0, 1, (600, 3))
    b = bl.build(pa.table({"a": z[:, 0], "b": z[:, 0] + 0.1 * z[:, 1], "c": z[:, 2]}), source="t",
                 max_edges=None)
    if b.multivariate is None:
        pytest.skip("no joint model for this baseline")
    from mlmon.stats import joint

    lg = rng.normal(0, 1, (200, 3))
    whole, first, second = DriftAccumulator(b), DriftAccumulator(b), DriftAccumulator(b)
    whole.update(feats(a=lg[:, 0], b=lg[:, 1], c=lg[:, 2]))
    first.update(feats(a=lg[:100, 0], b=lg[:100, 1], c=lg[:100, 2]))
    second.update(feats(a=lg[100:, 0], b=lg[100:, 1], c=lg[100:, 2]))
    first.merge(second)
    w = {r.name: r for r in whole.result()}[joint.NAME]
    m = {r.name: r for r in first.result()}[joint.NAME]
    assert m.n == w.n == 200 and m.statistic == pytest.approx(w.statistic, rel=1e-9)


# ------------------------------------------------------------------ a category's result


def test_a_category_absent_from_the_log_is_missing_and_one_value_is_enough_at_min_samples_one() -> None:
    b = train(c=["a", "b"] * 50, x=[float(i) for i in range(100)])
    res = {r.name: r for r in run_of(b, x=[1.0] * 40)}
    assert res["c"].status == "missing" and res["c"].n == 0 and res["c"].test is None
    assert res["c"].effect_measure is None and res["c"].p_value is None
    res = {r.name: r for r in run_of(b, DriftOptions(min_samples=1), c=["a"], x=[1.0])}
    assert res["c"].status == "ok" and res["c"].n == 1 and res["c"].test == "chi_square"
    assert res["x"].status == "ok" and res["x"].n == 1
    res = {r.name: r for r in run_of(b, c=["a"] * 29, x=[1.0] * 29)}
    assert res["c"].status == "insufficient_data" and res["c"].test == "chi_square"
    assert res["c"].p_value is None
    assert res["c"].effect_measure == "tv" and res["x"].status == "insufficient_data"
    res = {r.name: r for r in run_of(b, c=["a"] * 30, x=[1.0] * 30)}
    assert res["c"].status == "ok" and res["x"].status == "ok"
    small = train(c=["a", "b"] * 14 + ["a"], x=[float(i) for i in range(29)])  # 29 training values
    res = {r.name: r for r in run_of(small, c=["a"] * 40, x=[1.0] * 40)}
    assert res["c"].status == "insufficient_data" and res["x"].status == "insufficient_data"
    assert res["c"].baseline_n == 29 and res["c"].kind == "categorical" and res["x"].kind == "numeric"


def test_unseen_values_past_the_top_ten_pool_under_a_name_of_their_own() -> None:
    # training has a category named like the pool, and the log a new one named like its
    # first alternative: the pool takes neither's count
    base = {"a": 500, "b": 399, "(other unseen)": 100, "'": 1}
    b = train(c=[k for k, v in base.items() for _ in range(v)])
    new = {"(other unseen)'": 12, **{f"n{i}": 12 - i for i in range(1, 12)}}
    log = ["a"] * 40 + ["b"] * 30 + ["(other unseen)"] * 10 + [k for k, v in new.items() for _ in range(v)]
    r = run_of(b, c=log)[0]
    m = len(log)
    assert m == 80 + 78
    assert r.unseen_distinct == 12 and r.unseen_share == pytest.approx(78 / m)
    assert r.unseen_other_share == pytest.approx(3 / m)  # n10 and n11
    assert r.unseen_categories == tuple((k, v / m) for k, v in list(new.items())[:10])
    # every new value is rare (expected under 5): they pool into one column with the bulk
    tbl = np.array([[500, 399, 100, 1], [40, 30, 10, 78]])  # the apostrophe pools with the new ones
    assert r.statistic == pytest.approx(stats.chi2_contingency(tbl, correction=False).statistic, rel=1e-12)
    tv = 0.5 * np.abs(tbl[0] / 1000 - tbl[1] / m).sum()
    assert r.effect_size == pytest.approx(tv, rel=1e-12)


def test_merged_counts_add_and_raw_values_up_to_the_limit_are_kept() -> None:
    p = bl.NumericProfile(100, 0.0, 1.0, 0.0, 1.0, [float(i) for i in range(60)],
                          [(i + 1) / 60 for i in range(60)], True)
    a = dm._Numeric(p, np.zeros(121, dtype=np.int64))
    b = dm._Numeric(p, np.zeros(121, dtype=np.int64))
    a.update(np.zeros(dm.SMALL_SAMPLE - 1))
    b.update(np.array([0.0]))
    a.count_pending()
    b.count_pending()
    a.merge(b)
    assert a.counts[1] == dm.SMALL_SAMPLE and a.counts.sum() == dm.SMALL_SAMPLE
    assert a.small is not None and sum(len(x) for x in a.small) == dm.SMALL_SAMPLE  # at the limit: kept


def test_counts_added_twice_add_up() -> None:
    b = train(c=["a", "b"] * 50)
    acc = DriftAccumulator(b)
    acc.update(pa.table({"other": pa.array([1.0] * 60)}))
    acc.add_counts("c", {"a": 20})
    acc.add_counts("c", {"b": 20})
    r = acc.result()[0]
    # 60 records, 40 values given in bulk: 20 records without a value
    assert r.n == 40 and r.missing == 20 and r.records == 60


def test_counts_given_on_both_sides_of_a_merge_add_up() -> None:
    b = train(c=["a", "b"] * 50)
    no_column = pa.table({"other": pa.array([1.0] * 30)})
    for first_gives in (True, False):
        x, y = DriftAccumulator(b), DriftAccumulator(b)
        x.update(no_column)
        y.update(no_column)
        if first_gives:
            x.add_counts("c", {"a": 15, "b": 15})
        y.add_counts("c", {"a": 10, "b": 10})
        x.merge(y)
        r = x.result()[0]
        given = 50 if first_gives else 20
        assert r.records == 60 and r.n == given and r.missing == 60 - given


def test_one_value_is_constant_only_below_the_chance_limit() -> None:
    # training a/b half and half: one value in 2 draws has chance 0.5^2 + 0.5^2 = 0.5 exactly
    b = train(c=["a", "b"] * 50)
    at = DriftOptions(min_samples=2, p_threshold=0.5)
    assert run_of(b, at, c=["a", "a"])[0].constant is False  # below, not at
    above = DriftOptions(min_samples=2, p_threshold=0.5000001)
    assert run_of(b, above, c=["a", "a"])[0].constant is True


def test_wrong_types_on_both_sides_of_a_merge_add_up() -> None:
    b = train(x=[float(i) for i in range(100)])
    t = pa.table({FEATURE_PREFIX + "x": pa.array([1.0, None, None], pa.float64()),
                  TYPE_ERRORS: pa.array([None, "0", "0"], pa.string())})
    x, y = DriftAccumulator(b), DriftAccumulator(b)
    x.update(t)
    y.update(t)
    y.update(t)
    x.merge(y)
    r = x.result()[0]
    assert r.type_errors == 6 and r.missing == 0 and r.records == 9


# ------------------------------------------------------------------ a number's result


def test_few_valued_number_with_values_training_never_had() -> None:
    b = train(x=[0.0] * 400 + [1.0] * 400 + [2.0] * 200)
    log = [0.0] * 40 + [1.0] * 30 + [2.0] * 20 + [5.0] * 5 + [1.5] * 5
    r = run_of(b, x=log)[0]
    assert r.test == "chi_square" and r.effect_measure == "tv" and r.status == "ok"
    tbl = np.array([[400, 400, 200, 0], [40, 30, 20, 10]])
    assert r.statistic == pytest.approx(stats.chi2_contingency(tbl, correction=False).statistic, rel=1e-12)
    assert r.unseen_categories == (("(not a training value)", 0.1),) and r.unseen_share == pytest.approx(0.1)
    # no training value is a singleton: the predicted unseen share is 0 (Jeffreys' half count)
    p_new = stats.betabinom.sf(9, 100, 0.5, 1000.5)
    assert r.unseen_p_value == pytest.approx(p_new, rel=1e-9)
    assert r.p_value == pytest.approx(2 * p_new, rel=1e-9)
    assert r.effect_size == pytest.approx(0.1, rel=1e-12)
    margin = sum(np.sqrt((np.log(2**4 - 2) + np.log(80)) / (2 * n)) for n in (100, 1000))
    assert r.effect_low == pytest.approx(max(0.0, 0.1 - margin))
    assert r.effect_high == pytest.approx(0.1 + margin)
    assert r.mean == pytest.approx(np.mean(log)) and r.smooth_components is None and r.tail_p_value is None
    # only training values: no unseen column, no novelty test
    r = run_of(b, x=[0.0] * 40 + [1.0] * 40 + [2.0] * 20)[0]
    assert r.unseen_categories == () and r.unseen_p_value is None and r.unseen_share == 0.0
    ref = stats.chi2_contingency(np.array([[400, 400, 200], [40, 40, 20]]), correction=False)
    assert r.statistic == pytest.approx(ref.statistic, abs=1e-12) and r.p_value == pytest.approx(ref.pvalue)


def _smooth_n_r2(values: np.ndarray, base: np.ndarray, log: np.ndarray, k: int) -> tuple[float, float]:
    x = np.repeat(values, (base + log).astype(int))
    y = np.concatenate([np.r_[np.zeros(int(b_)), np.ones(int(l_))] for b_, l_ in zip(base, log, strict=True)])
    design = np.vander((x - x.mean()) / x.std(), k + 1, increasing=True)
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    stat = len(y) * (1 - resid @ resid / np.sum((y - y.mean()) ** 2))
    return float(stat), float(stats.chi2.sf(stat, k))


def test_hour_of_day_with_a_value_training_never_had() -> None:
    from scipy import integrate

    hours = np.arange(24.0)
    b = train(x=np.repeat(hours, 100).tolist())
    log = np.r_[np.repeat(hours, 5), np.repeat(hours[:6], 3), [99.0] * 6]
    r = run_of(b, x=log)[0]
    assert r.test == "smooth" and r.p_method == "asymptotic" and r.effect_measure == "tv"
    # the slot of values above every edge stands at their mean (99): values, then counts
    values = np.r_[hours, 99.0]
    base = np.r_[np.full(24, 100.0), 0.0]
    got = np.r_[np.full(24, 5.0) + np.r_[np.full(6, 3.0), np.zeros(18)], 6.0]
    found = {k: _smooth_n_r2(values, base, got, k) for k in (3, 6)}
    k = min(found, key=lambda j: found[j][1])
    stat, p = found[k]
    a, bq = stats.chi2.isf(p, 3), stats.chi2.isf(p, 6)
    inner = integrate.quad(lambda t: stats.chi2.pdf(t, 3) * stats.chi2.sf(bq - t, 3), 0, a, limit=200)[0]
    p_min = min(1.0, stats.chi2.sf(a, 3) + inner)
    p_new = stats.betabinom.sf(5, len(log), 0.5, 2400.5)
    assert r.smooth_components == k and r.statistic == pytest.approx(stat, rel=1e-9)
    assert r.unseen_p_value == pytest.approx(p_new, rel=1e-9)
    assert r.p_value == pytest.approx(min(1.0, 2 * min(p_min, p_new)), rel=1e-6)


@pytest.mark.parametrize("grid", [False, True])
def test_ks_effect_bounds_are_dkw_plus_a_grid_bin(grid: bool) -> None:
    rng = np.random.default_rng(29)
    tr, lg = rng.normal(0, 1, 3000), rng.normal(0.3, 1, 300)
    b = bl.build(pa.table({"x": tr}), source="t", max_edges=101 if grid else None)
    prof = b.features[0].numeric
    assert prof is not None and prof.exact is not grid
    r = run_of(b, x=lg)[0]
    margin = sum(np.sqrt(np.log(80) / (2 * n)) for n in (3000, 300))
    bin_mass = float(np.max(np.diff(np.asarray(prof.cdf), prepend=0.0))) if grid else 0.0
    assert r.test == "ks" and r.effect_measure == "ks_d" and r.effect_size == r.statistic
    assert r.effect_low == pytest.approx(max(0.0, r.statistic - margin), rel=1e-12)
    assert r.effect_high == pytest.approx(min(1.0, r.statistic + margin + bin_mass), rel=1e-12)
    assert r.p_value == pytest.approx(min(1.0, 2 * min(r.ks_p_value, r.tail_p_value)), rel=1e-12)
    if not grid:
        assert r.statistic == pytest.approx(stats.ks_2samp(tr, lg).statistic, abs=1e-12)
        assert r.ks_p_value == pytest.approx(stats.ks_2samp(tr, lg).pvalue, rel=1e-9)
        assert r.p_method == "exact"
    else:
        en = round(3000 * 300 / 3300)
        assert r.ks_p_value == pytest.approx(stats.kstwo.sf(r.statistic, en), rel=1e-9)
        assert r.p_method == "asymptotic"


def test_constant_at_exactly_min_samples_values_and_not_with_a_new_value_beside() -> None:
    rng = np.random.default_rng(31)
    b = train(x=rng.normal(0, 1, 500).tolist(), c=["a"] * 250 + ["b"] * 250)
    res = {r.name: r for r in run_of(b, x=[0.5] * 30, c=["a"] * 30)}
    assert res["x"].constant is True and res["c"].constant is True
    res = {r.name: r for r in run_of(b, x=[0.5] * 30, c=["a"] * 29 + ["new"])}
    assert res["c"].constant is False  # a seen and an unseen value: two values
    res = {r.name: r for r in run_of(b, x=[0.5] * 30, c=["new"] * 29 + ["newer"])}
    assert res["c"].constant is False


def test_a_feature_missing_from_the_log_gets_no_missing_test() -> None:
    b = train(x=[float(i) for i in range(100)], y=[float(i) for i in range(100)])
    res = {r.name: r for r in run_of(b, x=[1.0] * 50)}
    y = res["y"]
    assert y.status == "missing" and y.missing == 50 and y.records == 50 and y.missing_share == 1.0
    assert y.missing_p_value is None and y.missing_increased is None
    assert y.mean is None and y.baseline_mean == pytest.approx(49.5) and y.test is None
    assert y.out_of_range == 0 and y.out_of_range_p_value is None
    x = res["x"]
    assert x.missing == 0 and x.missing_p_value is None and x.out_of_range == 0


def test_unseen_values_counted_in_bulk_always_pool() -> None:
    # 30 new values of 10 each: the top ten listed, twenty counted in bulk (200 values, enough
    # for a column of their own, but they pool with the rare listed ones into one column)
    b = train(c=["a"] * 500 + ["b"] * 500)
    log = ["a"] * 100 + ["b"] * 100 + [f"u{i:02d}" for i in range(30) for _ in range(10)]
    r = run_of(b, c=log)[0]
    assert r.unseen_distinct == 30 and r.unseen_share == pytest.approx(0.6)
    assert r.unseen_other_share == pytest.approx(0.4)
    tbl = np.array([[500.0, 500.0, 0.0], [100.0, 100.0, 300.0]])
    e, g = (tbl[0] + 0.5) / (tbl[0] + 0.5).sum(), (tbl[1] + 0.5) / (tbl[1] + 0.5).sum()
    assert r.psi == pytest.approx(np.sum((g - e) * np.log(g / e)), rel=1e-12)
    tv = 0.5 * np.abs(tbl[0] / 1000 - tbl[1] / 500).sum()
    margin = sum(np.sqrt((np.log(2**3 - 2) + np.log(80)) / (2 * n)) for n in (500, 1000))
    assert r.effect_size == pytest.approx(tv) and r.effect_low == pytest.approx(max(0.0, tv - margin))
