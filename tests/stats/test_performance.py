"""Realized performance: every metric against scikit-learn's, the intervals against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mlmon.stats.labels import Joined, Label
from mlmon.stats.performance import Task, bad_direction, classification, performance, regression


def _joined(truth: list[Label], pred: list[str | None], conf: list[float] | None = None,
            value: list[float] | None = None) -> Joined:
    n = len(truth)
    return Joined(
        tuple(truth), tuple(pred),
        np.array(conf if conf is not None else [math.nan] * n, dtype=float),
        np.array(value if value is not None else [math.nan] * n, dtype=float),
        np.zeros(n, dtype=np.int64), (None,) * n,
    )


def _binary(seed: int, n: int, acc: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    right = rng.random(n) < acc
    p = np.where(right, y, 1 - y)
    conf = np.clip(np.round(rng.normal(np.where(right, 0.85, 0.7), 0.1), 3), 0.5, 1.0)
    return y, p, conf


@pytest.mark.parametrize(("seed", "n"), [(1, 2000), (2, 57), (3, 10_000)])
def test_binary_metrics_are_sklearns(seed: int, n: int) -> None:
    y, p, conf = _binary(seed, n)
    # labels as numbers (a JSON 1), predictions as the reader's class text ("1")
    perf = classification(_joined([float(v) for v in y], [str(v) for v in p], conf.tolist()))
    prob1 = np.where(p == 1, conf, 1 - conf)
    assert perf.positive == "1" and perf.classes == ("0", "1")
    expect = {
        "accuracy": skm.accuracy_score(y, p),
        "macro_f1": skm.f1_score(y, p, average="macro"),
        "auc": skm.roc_auc_score(y, prob1),
        "brier": skm.brier_score_loss(y, prob1),
        "f1.1": skm.f1_score(y, p),
        "f1.0": skm.f1_score(y, p, pos_label=0),
        "precision.1": skm.precision_score(y, p),
        "recall.0": skm.recall_score(y, p, pos_label=0),
    }
    for name, ref in expect.items():
        m = perf.get(name)
        assert m is not None and m.value == pytest.approx(ref, abs=1e-12), name
        assert m.low is not None and m.high is not None and m.low <= m.value <= m.high, name


def test_multiclass_metrics_are_sklearns_and_a_class_never_predicted_has_no_precision() -> None:
    rng = np.random.default_rng(5)
    y = rng.choice(["a", "b", "c", "d"], 500, p=[0.5, 0.3, 0.15, 0.05])
    p = np.where((rng.random(500) < 0.7) & (y != "d"), y, rng.choice(["a", "b", "c"], 500))  # never d
    perf = classification(_joined(y.tolist(), p.tolist()))
    assert perf.get("accuracy").value == pytest.approx(skm.accuracy_score(y, p), abs=1e-12)
    assert perf.get("macro_f1").value == pytest.approx(
        skm.f1_score(y, p, average="macro", zero_division=0), abs=1e-12)
    f1 = skm.f1_score(y, p, average=None, labels=["a", "b", "c", "d"], zero_division=0)
    for c, ref in zip("abcd", f1, strict=True):
        assert perf.get(f"f1.{c}").value == pytest.approx(ref, abs=1e-12)
    d = perf.get("precision.d")
    assert d.value is None and d.reason == "never predicted"
    assert perf.get("auc").value is None and perf.get("auc").reason == "two classes needed"


def test_ece_by_hand() -> None:
    # bins (0.5, 0.6]: conf .55 .6 correct 1 0 -> |0.5 - 0.575|; (0.9, 1]: .95 1.0 both right -> |1 - .975|
    perf = classification(_joined(["1", "1", "0", "0"], ["1", "0", "0", "0"], [0.55, 0.6, 0.95, 1.0]))
    ece = perf.get("ece")
    assert ece is not None and ece.value == pytest.approx((2 * 0.075 + 2 * 0.025) / 4, abs=1e-12)


def test_regression_metrics_are_sklearns() -> None:
    rng = np.random.default_rng(9)
    y = rng.gamma(2.0, 10.0, 3000) + 0.5
    pred = y + rng.normal(0, 3, 3000)
    perf = regression(_joined(y.tolist(), [None] * 3000, value=pred.tolist()))
    assert perf.task is Task.REGRESSION
    assert perf.get("mae").value == pytest.approx(skm.mean_absolute_error(y, pred), abs=1e-12)
    assert perf.get("rmse").value == pytest.approx(math.sqrt(skm.mean_squared_error(y, pred)), abs=1e-12)
    assert perf.get("mape").value == pytest.approx(skm.mean_absolute_percentage_error(y, pred), abs=1e-12)
    mae = perf.get("mae")
    half = 1.96 * np.std(np.abs(pred - y), ddof=1) / math.sqrt(3000)
    assert (mae.low, mae.high) == pytest.approx((mae.value - half, mae.value + half), rel=1e-3)


def test_mape_leaves_out_labels_of_zero_and_says_so() -> None:
    perf = regression(_joined([0.0, 2.0, 4.0], [None] * 3, value=[1.0, 1.0, 5.0]))
    mape = perf.get("mape")
    assert mape.value == pytest.approx((0.5 + 0.25) / 2) and mape.n == 2
    assert mape.reason == "1 labels of 0 left out"


def test_auc_delong_variance_matches_the_pairwise_definition() -> None:
    y, p, conf = _binary(11, 300)
    perf = classification(_joined([str(v) for v in y], [str(v) for v in p], conf.tolist()))
    prob = np.where(p == 1, conf, 1 - conf)
    pos, neg = prob[y == 1], prob[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))
    auc = perf.get("auc")
    assert auc.value == pytest.approx(psi.mean(), abs=1e-12)
    # the interval is DeLong's on the logit scale (delta method), mapped back
    a = auc.value
    logit_half = 1.959963984540054 * se / (a * (1 - a))
    expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert auc.low == pytest.approx(expit(math.log(a / (1 - a)) - logit_half), rel=1e-9)
    assert auc.high == pytest.approx(expit(math.log(a / (1 - a)) + logit_half), rel=1e-9)
    assert auc.high - a < a - auc.low  # asymmetric: squeezed toward 1


def test_directions_and_empty() -> None:
    assert bad_direction("accuracy") == "below" and bad_direction("f1.cat") == "below"
    assert bad_direction("brier") == "above" and bad_direction("mape") == "above"
    empty = performance(_joined([], []), Task.CLASSIFICATION)
    assert empty.n == 0 and empty.get("accuracy").value is None


def test_mean_intervals_are_t_intervals_corrected_for_skewness() -> None:
    from scipy import stats as sps

    from mlmon.stats.performance import _mean_interval

    sym = np.array([-2.0, -1.0, 0.0, 1.0, 2.0] * 20)  # skewness 0: the t interval itself
    m = _mean_interval("mae", sym)
    t = sps.t.interval(0.95, len(sym) - 1, loc=sym.mean(), scale=sps.sem(sym))
    assert (m.low, m.high) == pytest.approx(t, rel=1e-12)
    skewed = np.random.default_rng(3).exponential(1.0, 200) ** 2  # right-skewed, as squared errors
    m = _mean_interval("brier", skewed)
    t = sps.t.interval(0.95, len(skewed) - 1, loc=skewed.mean(), scale=sps.sem(skewed))
    # moved toward the long tail: the upper bound further from the mean than the lower one
    assert m.high - m.value > m.value - m.low and m.high > t[1] and m.low > t[0]
    # Hall's inverse, computed independently: lower = mean - se * g^-1(t), upper = mean - se * g^-1(-t)
    n, sd = len(skewed), skewed.std(ddof=1)
    # the skewness with the sample's sd (ddof 1); scipy's skew divides by the ddof-0 sd instead
    a = sps.skew(skewed) * (np.std(skewed) / sd) ** 3 / math.sqrt(n)
    tq = sps.t.ppf(0.975, n - 1)
    ginv = [(3 / a) * (np.cbrt(1 + a * (q - a / 6)) - 1) for q in (tq, -tq)]
    assert m.low == pytest.approx(skewed.mean() - sd / math.sqrt(n) * ginv[0], rel=1e-12)
    assert m.high == pytest.approx(skewed.mean() - sd / math.sqrt(n) * ginv[1], rel=1e-12)


# --- edges: the metric names a rule may give, the intervals at their limits ---------------------


def test_reference_metrics_parse_and_refuse_by_name_and_range() -> None:
    from mlmon.errors import OptionError
    from mlmon.stats.performance import parse_reference

    got = parse_reference(["accuracy=0.91", " mae = 3.5", "f1.cat=1", "brier=0", "accuracy=0.92"])
    assert got == (("accuracy", 0.92), ("mae", 3.5), ("f1.cat", 1.0), ("brier", 0.0))
    assert parse_reference(["rmse=1e9"]) == (("rmse", 1e9),)  # no upper limit on an error
    for item, says in (
        ("accuracy", "is not NAME=VALUE"), ("speed=1", "is not NAME=VALUE"), ("f1.=0.5", "is not NAME=VALUE"),
        ("f1=0.5", "is not NAME=VALUE"), ("accuracy=1.01", "accuracy is a share from 0 to 1"),
        ("recall.x=-0.1", "recall.x is a share from 0 to 1"), ("mae=-1", "mae is a number at least 0"),
        ("mae=nan", "mae is a number at least 0"), ("mape=inf", "mape is a number at least 0"),
        ("auc=high", "auc is a share from 0 to 1"),
    ):
        with pytest.raises(OptionError) as e:
            parse_reference([item])
        assert says in str(e.value) and repr(item) in str(e.value), item


def test_known_metrics_and_their_ranges() -> None:
    from mlmon.stats.performance import known_metric, metric_range

    for name in ("accuracy", "macro_f1", "auc", "brier", "ece", "mae", "rmse", "mape", "precision.a b",
                 "recall.0", "f1.x.y"):
        assert known_metric(name), name
    for name in ("precision", "f1.", "recall", "speed", "accuracy.x", "", "mae.x"):
        assert not known_metric(name), name
    assert metric_range("accuracy") == (0.0, 1.0) and metric_range("precision.cat") == (0.0, 1.0)
    assert metric_range("ece") == (0.0, 1.0) and metric_range("brier") == (0.0, 1.0)
    assert metric_range("mae") == (0.0, math.inf) and metric_range("mape") == (0.0, math.inf)


def test_classes_are_ordered_numbers_first_by_value() -> None:
    from mlmon.stats.performance import class_order

    assert class_order({"10", "2", "b", "a", "-1", "1.5"}) == ("-1", "1.5", "2", "10", "a", "b")
    assert class_order({"true", "false"}) == ("false", "true")


def test_the_positive_class_is_the_larger_or_the_one_named() -> None:
    from mlmon.stats.performance import _positive

    assert _positive(("0", "1"), None) == "1"
    assert _positive(("0", "1"), "0") == "0"
    assert _positive(("0", "1"), "yes") is None
    assert _positive(("a", "b", "c"), "a") is None and _positive(("a",), None) is None


def test_auc_interval_at_the_edges_stays_inside_zero_to_one() -> None:
    from mlmon.stats.performance import auc_interval

    assert auc_interval(1.0, 0.0) == (1.0, 1.0)
    assert auc_interval(0.0, 0.0) == (0.0, 0.0)
    lo, hi = auc_interval(1.0, 0.0004)  # a perfect AUC: the plain interval, held at 1
    assert (lo, hi) == (pytest.approx(1.0 - 1.959963984540054 * 0.02), 1.0)
    lo, hi = auc_interval(0.0, 0.0004)
    assert (lo, hi) == (0.0, pytest.approx(1.959963984540054 * 0.02))
    assert auc_interval(0.7, 0.0) == (0.7, 0.7)  # no variance: no width
    assert auc_interval(0.7, -1e-18) == (0.7, 0.7)  # a variance rounded below 0
    lo, hi = auc_interval(0.5, 0.01)
    assert (lo, hi) == (pytest.approx(1 / (1 + math.exp(0.1 * 1.959963984540054 / 0.25))),
                        pytest.approx(1 / (1 + math.exp(-0.1 * 1.959963984540054 / 0.25))))
    assert lo == pytest.approx(1 - hi)  # symmetric at 0.5


def test_a_mean_of_one_value_or_of_equal_values() -> None:
    from mlmon.stats.performance import _mean_interval

    assert _mean_interval("mae", np.array([])) == perf_none("mae", 0, "no labelled prediction")
    one = _mean_interval("mae", np.array([2.5]))
    assert (one.value, one.low, one.high, one.n, one.reason) == (2.5, None, None, 1, "one value: no interval")
    flat = _mean_interval("mae", np.array([2.0, 2.0, 2.0]))
    assert (flat.value, flat.low, flat.high, flat.n, flat.reason) == (2.0, 2.0, 2.0, 3, None)


def perf_none(name: str, n: int, reason: str) -> object:
    from mlmon.stats.performance import Metric

    return Metric(name, None, None, None, n, reason)


def test_two_classes_without_confidences_or_with_one_class_among_the_labels() -> None:
    perf = classification(_joined(["0", "1", "1"], ["0", "1", "0"]))
    assert perf.get("auc") == perf_none("auc", 0, "no confidence")
    assert perf.get("brier") == perf_none("brier", 0, "no confidence")
    assert perf.get("ece") == perf_none("ece", 0, "no labelled prediction with a confidence")
    perf = classification(_joined(["1", "1", "1"], ["0", "1", "1"], [0.9, 0.8, 0.7]))
    assert perf.get("auc") == perf_none("auc", 3, "one class among the labels")
    assert perf.get("brier").value == pytest.approx(np.mean([0.9**2, 0.2**2, 0.3**2]))
    three = classification(_joined(["a", "b", "c"], ["a", "b", "b"], [0.9, 0.8, 0.7]))
    assert three.get("auc") == perf_none("auc", 3, "two classes needed")
    one_named = classification(_joined(["a", "b"], ["a", "b"], [0.9, 0.8]), positive="zzz")
    assert one_named.get("auc") == perf_none("auc", 2, "no positive class") and one_named.positive is None


def test_the_named_positive_class_turns_the_probabilities() -> None:
    y, p, conf = _binary(5, 400)
    perf = classification(_joined([str(v) for v in y], [str(v) for v in p], conf.tolist()), positive="0")
    prob0 = np.where(p == 0, conf, 1 - conf)
    assert perf.positive == "0"
    assert perf.get("auc").value == pytest.approx(skm.roc_auc_score(y == 0, prob0), abs=1e-12)
    assert perf.get("brier").value == pytest.approx(skm.brier_score_loss(y == 0, prob0), abs=1e-12)


def _ece_by_hand(conf: list[float], correct: list[bool]) -> float:
    """ECE over the bins (0, 0.1], (0.1, 0.2], ..., (0.9, 1], a confidence of 0 in the first."""
    total = 0.0
    for k in range(10):
        lo, hi = k / 10, (k + 1) / 10
        sel = [i for i, c in enumerate(conf) if (lo < c <= hi) or (k == 0 and c == 0.0)]
        if sel:
            total += abs(sum(correct[i] for i in sel) - sum(conf[i] for i in sel))
    return total / len(conf)


def test_ece_bins_at_their_edges_by_hand() -> None:
    # confidences on the bin edges (0.1 in the first bin, 0.2 in the second), at 0 and at 1
    conf = [0.0, 0.1, 0.1000001, 0.2, 0.5, 0.9, 0.90001, 1.0, 1.0, 0.05]
    truth = ["1", "0", "1", "1", "0", "1", "1", "1", "0", "0"]
    pred = ["1", "1", "1", "0", "0", "1", "0", "1", "1", "1"]
    perf = classification(_joined(truth, pred, conf))
    correct = [t == p for t, p in zip(truth, pred, strict=True)]
    ece = perf.get("ece")
    assert ece.value == pytest.approx(_ece_by_hand(conf, correct), abs=1e-12)
    assert ece.n == 10 and ece.low is not None and ece.high is not None
    assert ece.low <= ece.value <= ece.high


def test_ece_interval_holds_the_value_and_narrows_with_n() -> None:
    rng = np.random.default_rng(21)
    widths = []
    for n in (400, 6400):
        conf = rng.uniform(0.5, 1.0, n)
        right = rng.random(n) < conf - 0.08  # overconfident by 8 points
        y = rng.integers(0, 2, n)
        p = np.where(right, y, 1 - y)
        ece = classification(_joined([str(v) for v in y], [str(v) for v in p], conf.tolist())).get("ece")
        assert ece.n == n and 0.0 < ece.low < ece.value < ece.high < 1.0
        assert ece.value == pytest.approx(_ece_by_hand(conf.tolist(), right.tolist()), abs=1e-12)
        widths.append(ece.high - ece.low)
    # sixteen times the records: about a quarter of the width (the bins' errors shrink as 1/sqrt(n))
    assert 0.15 < widths[1] / widths[0] < 0.4


def test_auc_with_one_or_two_labels_of_a_class_by_delongs_definition() -> None:
    """DeLong's variance from the pairwise definition, where a side has one or two values: a
    single value's variance term is 0 (nothing to vary)."""
    for y in ([1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]):
        yy = np.array(y)
        n = len(y)
        prob1 = np.linspace(0.3, 0.9, n)[np.argsort(np.argsort(-yy + 0.1 * np.arange(n)))]
        pred = ["1"] * n
        perf = classification(_joined([str(v) for v in y], pred, prob1.tolist()))
        pos, neg = prob1[yy == 1], prob1[yy == 0]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
        var = (v10.var(ddof=1) / len(pos) if len(pos) > 1 else 0.0) + (
            v01.var(ddof=1) / len(neg) if len(neg) > 1 else 0.0)
        auc = perf.get("auc")
        assert auc.value == pytest.approx(psi.mean(), abs=1e-12) and auc.n == n
        from mlmon.stats.performance import auc_interval

        assert (auc.low, auc.high) == pytest.approx(auc_interval(psi.mean(), var), abs=1e-12), y
        assert auc.low is not None and math.isfinite(auc.low) and math.isfinite(auc.high)


def test_every_metric_row_names_its_count_and_reason() -> None:
    empty = classification(_joined([], []))
    assert empty.task is Task.CLASSIFICATION and empty.n == 0
    assert empty.metrics == (perf_none("accuracy", 0, "no labelled prediction"),)
    perf = classification(_joined(["a", "b", "c"], ["a", "a", "c"]))
    assert perf.task is Task.CLASSIFICATION and perf.n == 3 and perf.classes == ("a", "b", "c")
    for name, n in (("accuracy", 3), ("macro_f1", 3), ("f1.a", 3), ("f1.b", 3), ("precision.a", 2),
                    ("recall.a", 1)):
        assert perf.get(name).n == n and perf.get(name).reason is None, name
    assert perf.get("precision.b") == perf_none("precision.b", 0, "never predicted")
    assert perf.get("auc") == perf_none("auc", 3, "two classes needed")
    assert perf.get("brier") == perf_none("brier", 3, "two classes needed")
    only_pred = classification(_joined(["a", "a"], ["a", "b"]))
    assert only_pred.get("recall.b") == perf_none("recall.b", 0, "not among the labels")
    binary = classification(_joined(["0", "1", "1", "0"], ["0", "1", "0", "0"], [0.9, 0.8, 0.6, 0.7]))
    assert binary.get("auc").n == 4 and binary.get("brier").n == 4
    with pytest.raises(ValueError, match="^every labelled prediction needs a class and a label$"):
        classification(_joined(["a", "b"], ["a", None]))
    with pytest.raises(ValueError, match="^every labelled prediction needs a class and a label$"):
        classification(_joined(["a", None], ["a", "b"]))  # type: ignore[list-item]


def test_regression_rows_by_hand_with_one_value_and_with_labels_of_zero() -> None:
    perf = regression(_joined([2.0, 4.0, 8.0], [None] * 3, value=[3.0, 3.0, 6.0]))
    assert perf.task is Task.REGRESSION and perf.n == 3
    err = np.array([1.0, -1.0, -2.0])
    rmse, mse = perf.get("rmse"), np.mean(err**2)
    assert rmse.value == pytest.approx(math.sqrt(mse))
    from scipy import stats as sps

    from mlmon.stats.performance import _mean_interval

    sq = _mean_interval("x", err**2)
    assert (rmse.low, rmse.high) == pytest.approx((math.sqrt(max(0.0, sq.low)), math.sqrt(sq.high)))
    assert rmse.n == 3 and rmse.reason is None and perf.get("mape").reason is None
    assert sps.t.ppf(0.975, 2) > 4  # three values: a wide interval, the rmse's low bound held at 0
    one = regression(_joined([2.0], [None], value=[3.5]))
    r = one.get("rmse")
    assert (r.value, r.low, r.high, r.n, r.reason) == (1.5, None, None, 1, "one value: no interval")
    m = one.get("mae")
    assert (m.name, m.value, m.reason) == ("mae", 1.5, "one value: no interval")
    zeros = regression(_joined([0.0, 2.0, 4.0, 8.0], [None] * 4, value=[1.0, 1.0, 5.0, 6.0]))
    mape = zeros.get("mape")
    want = _mean_interval("mape", np.array([0.5, 0.25, 0.25]))
    assert (mape.value, mape.low, mape.high, mape.n) == (want.value, want.low, want.high, 3)
    assert mape.reason == "1 labels of 0 left out"


def test_performance_dispatches_by_task_and_passes_the_positive_class() -> None:
    j = _joined(["0", "1", "1", "0"], ["0", "1", "0", "0"], [0.9, 0.8, 0.6, 0.7])
    assert performance(j, Task.CLASSIFICATION, positive="0").positive == "0"
    assert performance(j, Task.CLASSIFICATION).positive == "1"
    r = performance(_joined([1.0, 2.0], [None] * 2, value=[1.5, 2.5]), Task.REGRESSION)
    assert r.task is Task.REGRESSION and r.get("mae").value == 0.5


def test_metric_families_read_the_name_before_the_first_dot() -> None:
    from mlmon.stats.performance import metric_range

    assert bad_direction("f1.a.b") == "below" and bad_direction("recall.x.y.z") == "below"
    assert bad_direction("mae") == "above"
    assert metric_range("precision.v1.2") == (0.0, 1.0) and metric_range("f1.a.b") == (0.0, 1.0)


def test_a_reference_item_splits_at_its_first_equals_sign() -> None:
    from mlmon.errors import OptionError
    from mlmon.stats.performance import parse_reference

    with pytest.raises(OptionError, match="accuracy is a share from 0 to 1"):
        parse_reference(["accuracy=0.9=1"])
    with pytest.raises(OptionError) as e:
        parse_reference(["speed=1"])
    assert str(e.value) == (
        "--reference-metric: 'speed=1' is not NAME=VALUE with NAME one of accuracy, macro_f1, auc, brier, "
        "ece, mae, rmse, mape, precision.CLASS, recall.CLASS, f1.CLASS (e.g. accuracy=0.91)")


def test_the_same_predictions_give_the_same_intervals_every_run() -> None:
    y, p, conf = _binary(8, 300)
    j = _joined([str(v) for v in y], [str(v) for v in p], conf.tolist())
    assert classification(j) == classification(j)
