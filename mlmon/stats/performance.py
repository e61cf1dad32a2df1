"""Realized performance of labelled predictions: the metrics, each with a 95% interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from mlmon.read.reader import InputReport
from mlmon.stats.labels import Carry, JoinAccounting, Joined, as_class
from mlmon.stats.summary import wilson

Z95 = 1.959963984540054
BOOTSTRAP = 2000
"""Resamples for the F1 and ECE intervals (of the confusion matrix and the bins: cheap at any n)."""
ECE_BINS = 10
SEED = 20261207


class Task(StrEnum):
    CLASSIFICATION = "classification"
    REGRESSION = "regression"


HIGHER_IS_BETTER = ("accuracy", "macro_f1", "auc", "precision", "recall", "f1")
"""Metrics (or metric families, before the `.class`) that are bad when low; the rest
(brier, ece, mae, rmse, mape) are bad when high."""


def bad_direction(metric: str) -> str:
    """`below` for a metric whose low values are bad (accuracy...), `above` for the others."""
    return "below" if metric.split(".", 1)[0] in HIGHER_IS_BETTER else "above"


@dataclass(frozen=True)
class Metric:
    """One performance metric with its 95% interval; `value` None with a `reason` when it cannot
    be computed."""

    name: str
    """`accuracy`, `macro_f1`, `auc`, `brier`, `ece`, `precision.<class>`, `recall.<class>`,
    `f1.<class>`, `mae`, `rmse`, `mape`: the rule is `quality.<name>`."""
    value: float | None
    low: float | None
    high: float | None
    n: int
    """Labelled predictions the metric is over."""
    reason: str | None = None

    @property
    def direction(self) -> str:
        return bad_direction(self.name)


@dataclass(frozen=True)
class Performance:
    """The metrics of one set of labelled predictions (all of them, a group, a window)."""

    task: Task
    n: int
    metrics: tuple[Metric, ...]
    classes: tuple[str, ...] = ()
    """Classification: the classes seen in labels or predictions, in order."""
    positive: str | None = None
    """Binary classification: the class whose probability AUC and Brier score use."""

    def get(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


def _none(name: str, n: int, reason: str) -> Metric:
    return Metric(name, None, None, None, n, reason)


def class_order(classes: set[str]) -> tuple[str, ...]:
    """Numbers by value, then text: `2` before `10`; `false` before `true`."""

    def key(c: str) -> tuple[int, float, str]:
        try:
            return (0, float(c), c)
        except ValueError:
            return (1, 0.0, c)

    return tuple(sorted(classes, key=key))


def _proportion(name: str, hits: int, n: int, why: str) -> Metric:
    if n == 0:
        return _none(name, 0, why)
    lo, hi = wilson(hits, n)
    return Metric(name, hits / n, lo, hi, n)


def _mean_interval(name: str, x: np.ndarray) -> Metric:
    """The mean of `x` with a 95% interval: the t interval corrected for skewness (Hall)."""
    n = len(x)
    if n == 0:
        return _none(name, 0, "no labelled prediction")
    from scipy import stats as sps

    mean = float(np.mean(x))
    if n < 2:
        return Metric(name, mean, None, None, n, "one value: no interval")

    sd = float(np.std(x, ddof=1))
    tq = float(sps.t.ppf(0.975, n - 1))
    se = sd / math.sqrt(n)
    if sd == 0.0:
        return Metric(name, mean, mean, mean, n)
    # Hall's (1992) transformation of the t statistic for a skewed mean: squared and absolute
    # errors are skewed right, and the plain t interval misses on the high side (Brier at n = 200:
    # 92.9% plain, 95.1% so)
    a = float(np.mean((x - mean) ** 3)) / sd**3 / math.sqrt(n)

    def inverse(t: float) -> float:
        if abs(a) < 1e-12:
            return t
        return float((3.0 / a) * (np.cbrt(1.0 + a * (t - a / 6.0)) - 1.0))

    return Metric(name, mean, mean - se * inverse(tq), mean - se * inverse(-tq), n)


def _f1s(cm: np.ndarray) -> np.ndarray:
    """Per-class F1 from confusion matrices [..., true, pred]; 0 where a class has no TP, FP, FN."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    denom = cm.sum(axis=-1) + cm.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)


def _percentile(draws: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [0.025, 0.975], axis=0)
    return float(lo), float(hi)


def _roc_auc(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """ROC AUC (the Mann-Whitney statistic, ties counted half) and DeLong's variance."""
    from scipy import stats as sps  # only with labels: a summary without them starts without scipy

    pos, neg = score[y], score[~y]
    n1, n0 = len(pos), len(neg)
    ranks = sps.rankdata(score)
    auc = (float(ranks[y].sum()) - n1 * (n1 + 1) / 2) / (n1 * n0)
    v10 = (ranks[y] - sps.rankdata(pos)) / n0
    v01 = 1.0 - (ranks[~y] - sps.rankdata(neg)) / n1
    var = (np.var(v10, ddof=1) / n1 if n1 > 1 else 0.0) + (np.var(v01, ddof=1) / n0 if n0 > 1 else 0.0)
    return auc, float(var)


def auc_interval(auc: float, var: float) -> tuple[float, float]:
    """The 95% interval of ROC AUC from DeLong's variance, on the logit scale (the delta method:
    the logit's standard error is the AUC's over AUC (1 - AUC)), mapped back: it stays inside
    (0, 1) and is asymmetric near 1, where the plain interval undercovers (91% at n = 200
    measured, against 94% on the logit scale). An AUC of 0 or 1 has [0, 1]'s edge as its bound."""
    if auc <= 0.0 or auc >= 1.0 or var <= 0.0:
        half = Z95 * math.sqrt(max(var, 0.0))
        return max(0.0, auc - half), min(1.0, auc + half)
    logit = math.log(auc / (1.0 - auc))
    half = Z95 * math.sqrt(var) / (auc * (1.0 - auc))
    return 1.0 / (1.0 + math.exp(-(logit - half))), 1.0 / (1.0 + math.exp(-(logit + half)))


def _ece(conf: np.ndarray, correct: np.ndarray, rng: np.random.Generator) -> Metric:
    """Expected calibration error of the top-label confidence over 10 equal bins ((0, 0.1], ...,
    (0.9, 1]; 0 falls in the first); interval: the bins' counts resampled (multinomial) and each
    bin's accuracy and confidence drawn around its means with their covariance: the percentile
    interval of the draws, its lower bound corrected for the ECE's upward bias."""
    n = len(conf)
    if n == 0:
        return _none("ece", 0, "no labelled prediction with a confidence")
    b = np.clip(np.ceil(conf * ECE_BINS).astype(np.int64) - 1, 0, ECE_BINS - 1)
    counts = np.bincount(b, minlength=ECE_BINS)
    acc = np.bincount(b, weights=correct, minlength=ECE_BINS)
    cs = np.bincount(b, weights=conf, minlength=ECE_BINS)
    value = float(np.sum(np.abs(acc - cs)) / n)
    used = np.flatnonzero(counts)
    m_acc = acc[used] / counts[used]
    m_conf = cs[used] / counts[used]
    cov = np.zeros((len(used), 2, 2))
    for j, k in enumerate(used):
        sel = b == k
        if counts[k] > 1:
            cov[j] = np.cov(np.vstack([correct[sel], conf[sel]]))
    draws = np.empty(BOOTSTRAP)
    shares = counts[used] / n
    m = rng.multinomial(n, shares, size=BOOTSTRAP)
    z = rng.standard_normal((BOOTSTRAP, len(used), 2))
    # a 2x2 covariance's square root through its Cholesky factor (with a jitter for singular ones)
    chol = np.linalg.cholesky(cov + 1e-15 * np.eye(2))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(m > 0, 1 / np.sqrt(np.maximum(m, 1)), 0.0)
    noise = np.einsum("bjk,jlk->bjl", z, chol) * scale[..., None]
    gaps = np.abs((m_acc - m_conf)[None, :] + noise[..., 0] - noise[..., 1])
    draws = np.sum(gaps * m, axis=1) / n
    lo, hi = _percentile(draws)
    # a sample's ECE overstates the population's (a sum of absolute gaps), the more so at small n,
    # and the draws overstate the sample's alike: they sit about two such biases above the
    # population's ECE. The lower bound is the lower of the percentile bound moved down by twice
    # the draws' bias and the basic bootstrap's (2 ECE - the upper percentile), which allows for
    # the bias too: the side a `quality.ece` rule decides on errs low (the upper bound stays)
    bias = max(0.0, float(np.mean(draws)) - value)
    low = min(lo - 2.0 * bias, 2.0 * value - hi, value)
    return Metric("ece", value, max(0.0, low), max(hi, value), n)


def classification(j: Joined, *, positive: str | None = None) -> Performance:
    """Accuracy, per-class precision/recall/F1, macro-F1; for two classes with confidences, ROC
    AUC and the Brier score of the positive class's probability; the ECE of the confidence."""
    truth = [as_class(t) for t in j.truth]
    pred = list(j.pred_class)
    n = len(truth)
    classes = class_order({c for c in truth if c is not None} | {c for c in pred if c is not None})
    if n == 0:
        return Performance(Task.CLASSIFICATION, 0, (_none("accuracy", 0, "no labelled prediction"),))
    index = {c: i for i, c in enumerate(classes)}
    t = np.array([index[c] for c in truth if c is not None])
    p = np.array([index[c] for c in pred if c is not None])
    if len(t) != n or len(p) != n:
        raise ValueError("every labelled prediction needs a class and a label")
    k = len(classes)
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    correct = t == p
    rng = np.random.default_rng(SEED)
    out = [_proportion("accuracy", int(correct.sum()), n, "no labelled prediction")]
    # F1 intervals: the confusion matrix resampled as a whole (the bootstrap of the pairs)
    draws = rng.multinomial(n, cm.ravel() / n, size=BOOTSTRAP).reshape(BOOTSTRAP, k, k)
    f1 = _f1s(cm)
    f1_draws = _f1s(draws)
    lo, hi = _percentile(f1_draws.mean(axis=1))
    macro = float(f1.mean())
    out.append(Metric("macro_f1", macro, min(lo, macro), max(hi, macro), n))
    positive = _positive(classes, positive)
    conf = j.confidence
    has_conf = ~np.isnan(conf)
    if positive is not None and k == 2:
        pos = index[positive]
        y = t[has_conf] == pos
        prob = np.where(p[has_conf] == pos, conf[has_conf], 1.0 - conf[has_conf])
        m = int(has_conf.sum())
        if m == 0:
            out += [_none("auc", 0, "no confidence"), _none("brier", 0, "no confidence")]
        else:
            if y.all() or not y.any():
                out.append(_none("auc", m, "one class among the labels"))
            else:
                auc, var = _roc_auc(y, prob)
                lo, hi = auc_interval(auc, var)
                out.append(Metric("auc", auc, lo, hi, m))
            out.append(_mean_interval("brier", (prob - y) ** 2))
    else:
        why = "two classes needed" if k != 2 else "no positive class"
        out += [_none("auc", n, why), _none("brier", n, why)]
    out.append(_ece(conf[has_conf], correct[has_conf].astype(float), rng))
    for i, c in enumerate(classes):
        tp = int(cm[i, i])
        out.append(_proportion(f"precision.{c}", tp, int(cm[:, i].sum()), "never predicted"))
        out.append(_proportion(f"recall.{c}", tp, int(cm[i, :].sum()), "not among the labels"))
        lo, hi = _percentile(f1_draws[:, i])
        out.append(Metric(f"f1.{c}", float(f1[i]), min(lo, float(f1[i])), max(hi, float(f1[i])), n))
    return Performance(Task.CLASSIFICATION, n, tuple(out), classes, positive)


def _positive(classes: tuple[str, ...], positive: str | None) -> str | None:
    if len(classes) != 2:
        return None
    if positive is not None:
        return positive if positive in classes else None
    return classes[1]  # the larger: 1 of 0/1, true of false


def regression(j: Joined) -> Performance:
    """MAE, RMSE and MAPE (a share; over the labels that are not 0), each with a t interval of the
    mean (RMSE: the square root of the mean squared error's bounds)."""
    y = np.array([float(v) for v in j.truth], dtype=np.float64)
    e = j.pred_value - y
    n = len(y)
    mae = _mean_interval("mae", np.abs(e))
    mse = _mean_interval("rmse", e * e)
    rmse = Metric(
        "rmse",
        None if mse.value is None else math.sqrt(mse.value),
        None if mse.low is None else math.sqrt(max(0.0, mse.low)),
        None if mse.high is None else math.sqrt(mse.high),
        n,
        mse.reason,
    )
    nz = y != 0
    mape = _mean_interval("mape", np.abs(e[nz]) / np.abs(y[nz]))
    if not nz.all() and mape.reason is None:
        why = f"{int((~nz).sum())} labels of 0 left out"
        mape = Metric("mape", mape.value, mape.low, mape.high, mape.n, why)
    return Performance(Task.REGRESSION, n, (mae, rmse, mape))


def performance(j: Joined, task: Task, *, positive: str | None = None) -> Performance:
    return regression(j) if task is Task.REGRESSION else classification(j, positive=positive)


_NAMES = ("accuracy", "macro_f1", "auc", "brier", "ece", "mae", "rmse", "mape")
_PER_CLASS = ("precision", "recall", "f1")
SHARE_METRICS = ("accuracy", "macro_f1", "auc", "brier", "ece", *_PER_CLASS)
"""Metrics (or families) whose values are shares from 0 to 1."""


def known_metric(name: str) -> bool:
    """`accuracy`, ..., or `f1.<class>` (any class name)."""
    family, dot, cls = name.partition(".")
    return (name in _NAMES) or (family in _PER_CLASS and dot == "." and bool(cls))


def metric_range(name: str) -> tuple[float, float]:
    return (0.0, 1.0) if name.split(".", 1)[0] in SHARE_METRICS else (0.0, math.inf)


def parse_reference(items: list[str]) -> tuple[tuple[str, float], ...]:
    """`accuracy=0.91` items to (name, value) pairs; an unknown name or a value out of its range is
    an OptionError naming the item."""
    from mlmon.errors import OptionError

    out: dict[str, float] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not known_metric(name):
            raise OptionError(
                f"--reference-metric: {item!r} is not NAME=VALUE with NAME one of {', '.join(_NAMES)}, "
                "precision.CLASS, recall.CLASS, f1.CLASS (e.g. accuracy=0.91)"
            )
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        lo, hi = metric_range(name)
        if not (math.isfinite(value) and lo <= value <= hi):
            what = "a share from 0 to 1" if hi == 1.0 else "a number at least 0"
            raise OptionError(f"--reference-metric: {item!r}: {name} is {what}")
        out[name] = value
    return tuple(out.items())


@dataclass(frozen=True)
class GroupPerformance:
    group: str | None
    """The --by field's value; None for the labelled predictions without it."""
    performance: Performance


@dataclass(frozen=True)
class QualityReport:
    """Realized performance of the selected predictions that have labels."""

    labels_input: InputReport
    """How the labels files' lines were used (bad lines, rows without the label field...)."""
    accounting: JoinAccounting
    task: Task
    overall: Performance
    groups: tuple[GroupPerformance, ...] = ()
    """Per --by group (empty without --by)."""
    reference: tuple[tuple[str, float], ...] = ()
    """The model's reference performance from the baseline (metric, value), for `quality_drop`."""
    join_field: str = "request_id"
    label_field: str = "label"
    carry: Carry | None = None
    """--state: the predictions and labels still waiting, for the state file (not in the JSON)."""

    def reference_value(self, metric: str) -> float | None:
        return dict(self.reference).get(metric)
