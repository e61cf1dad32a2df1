"""Realized performance from labels: power and false alarms of the accuracy rules, agreement with
scikit-learn, and the measured coverage of every metric's 95% interval.
One command, from a clean checkout (scikit-learn comes with the test extra):

    python benchmarks/realized.py              # about 5 minutes on a busy 2-core machine
    python benchmarks/realized.py --runs 50    # a quicker look
    python benchmarks/realized.py --coverage   # interval coverage only, 1,000 runs a cell (~15 min)

Each run draws a fresh labelled log of a binary classifier (true class 1 in 40%; the model right
with probability `acc`; its confidence about 0.85 when right and 0.70 when wrong, clipped to
[0.5, 1]) and of a regression model (gamma labels, normal errors), joins predictions to labels
through mlmon's join (every prediction has a label), computes the metrics with mlmon's code and
evaluates `quality.accuracy` and `quality_drop.accuracy` as `mlmon check` does. The population
value of each metric (for coverage) is the metric of one draw of 2,000,000 rows. Results go to
stdout and to a new file under benchmarks/data/ (never over a tracked file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
from sklearn import metrics as skm

from mlmon.read.reader import InputReport
from mlmon.read.records import CONFIDENCE, GROUP, KEY, PRED_CLASS, PRED_VALUE, TIMESTAMP
from mlmon.rules.check import Status, evaluate
from mlmon.rules.config import Rule
from mlmon.stats.labels import JoinAccumulator, LabelIndex
from mlmon.stats.performance import GroupPerformance, Performance, QualityReport, Task, performance
from mlmon.stats.summary import SummaryAccumulator

HERE = Path(__file__).resolve().parent
Gen = np.random.Generator
CLASS_METRICS = ("accuracy", "macro_f1", "auc", "brier", "ece", "f1.1", "precision.1", "recall.0")
REG_METRICS = ("mae", "rmse", "mape")


def binary(rng: Gen, n: int, acc: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = (rng.random(n) < 0.4).astype(np.int64)
    right = rng.random(n) < acc
    p = np.where(right, y, 1 - y)
    conf = np.clip(np.round(rng.normal(np.where(right, 0.85, 0.70), 0.1), 3), 0.5, 1.0)
    return y, p, conf


def regression_data(rng: Gen, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.gamma(3.0, 10.0, n) + 1.0
    return y, y + rng.normal(0.5, 4.0, n)


def joined_perf(truth: list[object], pred_class: list[str | None], conf: np.ndarray, value: np.ndarray,
                task: Task) -> tuple[Performance, QualityReport]:
    """Through the join as `check --labels` runs it: a labels table and a predictions table."""
    n = len(truth)
    keys = [f"r{i}" for i in range(n)]
    index = LabelIndex()
    text = [t if isinstance(t, str) else None for t in truth]
    num = [None if isinstance(t, str) else float(t) for t in truth]  # type: ignore[arg-type]
    index.update(pa.table({GROUP: pa.array(keys, pa.string()), PRED_CLASS: pa.array(text, pa.string()),
                           PRED_VALUE: pa.array(num, pa.float64())}))
    join = JoinAccumulator(index)
    join.update(pa.table({
        TIMESTAMP: pa.array(np.zeros(n, dtype=np.int64), pa.timestamp("ns", "UTC")),
        KEY: pa.array(keys, pa.string()),
        PRED_CLASS: pa.array(pred_class, pa.string()),
        CONFIDENCE: pa.array(conf, pa.float64(), mask=np.isnan(conf)),
        PRED_VALUE: pa.array(value, pa.float64(), mask=np.isnan(value)),
    }))
    joined, acc = join.result(regression=task is Task.REGRESSION)
    perf = performance(joined, task)
    return perf, QualityReport(pa_input(), acc, task, perf, (GroupPerformance(None, perf),),
                               (("accuracy", 0.90),))


def pa_input() -> InputReport:
    return InputReport((), 0, 0, {}, 0, ())


def classification_case(rng: Gen, n: int, acc: float) -> tuple[Performance, QualityReport, dict[str, float]]:
    y, p, conf = binary(rng, n, acc)
    perf, q = joined_perf([float(v) for v in y], [str(v) for v in p], conf, np.full(n, np.nan),
                          Task.CLASSIFICATION)
    prob = np.where(p == 1, conf, 1 - conf)
    ref = {
        "accuracy": skm.accuracy_score(y, p), "macro_f1": skm.f1_score(y, p, average="macro"),
        "auc": skm.roc_auc_score(y, prob), "brier": skm.brier_score_loss(y, prob),
        "f1.1": skm.f1_score(y, p), "precision.1": skm.precision_score(y, p),
        "recall.0": skm.recall_score(y, p, pos_label=0),
    }
    return perf, q, ref


def regression_case(rng: Gen, n: int) -> tuple[Performance, dict[str, float]]:
    y, pred = regression_data(rng, n)
    perf, _ = joined_perf(list(y), [None] * n, np.full(n, np.nan), pred, Task.REGRESSION)
    ref = {"mae": skm.mean_absolute_error(y, pred), "rmse": math.sqrt(skm.mean_squared_error(y, pred)),
           "mape": skm.mean_absolute_percentage_error(y, pred)}
    return perf, ref


def population(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    big = 2_000_000
    y, p, conf = binary(rng, big, 0.90)
    from mlmon.stats.labels import Joined
    from mlmon.stats.performance import classification, regression

    j = Joined(tuple(str(v) for v in y), tuple(str(v) for v in p), conf, np.full(big, np.nan),
               np.zeros(big, dtype=np.int64), (None,) * big)
    out = {m: classification(j).get(m).value for m in CLASS_METRICS}  # type: ignore[union-attr]
    yr, pr = regression_data(rng, big)
    jr = Joined(tuple(yr.tolist()), (None,) * big, np.full(big, np.nan), pr, np.zeros(big, dtype=np.int64),
                (None,) * big)
    out.update({m: regression(jr).get(m).value for m in REG_METRICS})  # type: ignore[union-attr]
    return {k: float(v) for k, v in out.items() if v is not None}


RULES = (
    Rule("quality_drop.accuracy", "drop > 0", warning=0.0),
    Rule("quality_drop.accuracy", "drop > 0.02", warning=0.02),
    Rule("quality.accuracy", "accuracy < 0.88", warning=0.88, direction="below"),
)


def fired(q: QualityReport) -> list[bool]:
    empty = SummaryAccumulator().result()
    return [r.status in (Status.WARNING, Status.CRITICAL)
            for r in evaluate(RULES, empty, None, now=0.0, quality=q)]


def direct(truth: list[object], pred_class: list[str | None], conf: np.ndarray, value: np.ndarray,
           task: Task) -> Performance:
    """The metrics without the join (the join is exact: the tests and the main benchmark hold it)."""
    from mlmon.stats.labels import Joined

    n = len(truth)
    j = Joined(tuple(truth), tuple(pred_class), conf, value, np.zeros(n, dtype=np.int64),  # type: ignore[arg-type]
               (None,) * n)
    return performance(j, task)


def coverage(a: argparse.Namespace) -> str:
    """The share of runs whose 95% interval holds the population value, per metric and n, with
    the Wilson 95% interval of that share."""
    from mlmon.stats.summary import wilson

    ns = [int(x) for x in a.ns.split(",")]
    truth = population(a.seed + 1)
    rng = np.random.default_rng(a.seed)
    cover: dict[tuple[str, int], int] = {}
    miss_low: dict[tuple[str, int], int] = {}
    for n in ns:
        for _ in range(a.runs):
            y, p, conf = binary(rng, n, 0.90)
            perf = direct([str(v) for v in y], [str(v) for v in p], conf, np.full(n, np.nan),
                          Task.CLASSIFICATION)
            yr, pr = regression_data(rng, n)
            rperf = direct(list(yr), [None] * n, np.full(n, np.nan), pr, Task.REGRESSION)
            for m in (*CLASS_METRICS, *REG_METRICS):
                mm = (perf if m in CLASS_METRICS else rperf).get(m)
                assert mm is not None and mm.low is not None and mm.high is not None
                cover[(m, n)] = cover.get((m, n), 0) + int(mm.low <= truth[m] <= mm.high)
                miss_low[(m, n)] = miss_low.get((m, n), 0) + int(truth[m] < mm.low)
    lines = [f"Coverage of the 95% intervals, {a.runs} runs a cell, seed {a.seed} "
             "(python benchmarks/realized.py --coverage)", "",
             "Share of runs whose interval holds the population value (the metric of one draw of "
             "2,000,000 rows), with its Wilson 95% interval; in brackets, the misses with the value "
             "below the interval / above it.", "",
             "| metric | population value | " + " | ".join(f"n={n:,}" for n in ns) + " |",
             "|---|---|" + "---|" * len(ns)]
    for m in (*CLASS_METRICS, *REG_METRICS):
        cells = []
        for n in ns:
            k = cover[(m, n)]
            lo, hi = wilson(k, a.runs)
            below = miss_low[(m, n)]
            above = a.runs - k - below
            cells.append(f"{100 * k / a.runs:.1f}% ({100 * lo:.1f}-{100 * hi:.1f}) [{below}/{above}]")
        lines.append(f"| {m} | {truth[m]:.4f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per cell (default 200; 1,000 with --coverage)")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--ns", default=None, help="sample sizes (default 200,500,2000,10000; with --coverage "
                    "200,1000,10000)")
    ap.add_argument("--out", default=None, help="markdown file to write (default: new, in benchmarks/data/)")
    ap.add_argument("--coverage", action="store_true",
                    help="only the intervals' coverage (default then: 1,000 runs, n = 200, 1,000, 10,000)")
    a = ap.parse_args()
    if a.coverage:
        a.runs = a.runs or 1000
        a.ns = a.ns or "200,1000,10000"
        _write(coverage(a), a.out, "coverage")
        return
    a.runs = a.runs or 200
    a.ns = a.ns or "200,500,2000,10000"
    ns = [int(x) for x in a.ns.split(",")]
    truth = population(a.seed + 1)
    rng = np.random.default_rng(a.seed)
    power: dict[tuple[float, int], np.ndarray] = {}
    cover: dict[tuple[str, int], int] = {}
    worst_diff = 0.0
    for n in ns:
        for acc in (0.90, 0.85):
            hits = np.zeros(len(RULES))
            for _ in range(a.runs):
                perf, q, ref = classification_case(rng, n, acc)
                hits += fired(q)
                for k, v in ref.items():
                    worst_diff = max(worst_diff, abs(perf.get(k).value - v))  # type: ignore[union-attr,operator]
                if acc == 0.90:
                    for m in CLASS_METRICS:
                        mm = perf.get(m)
                        ok = mm is not None and mm.low is not None and mm.high is not None \
                            and mm.low <= truth[m] <= mm.high
                        cover[(m, n)] = cover.get((m, n), 0) + int(ok)
            power[(acc, n)] = hits / a.runs
        for _ in range(a.runs):
            rperf, rref = regression_case(rng, n)
            for k, v in rref.items():
                worst_diff = max(worst_diff, abs(rperf.get(k).value - v))  # type: ignore[union-attr,operator]
            for m in REG_METRICS:
                mm = rperf.get(m)
                ok = mm is not None and mm.low is not None and mm.high is not None \
                    and mm.low <= truth[m] <= mm.high
                cover[(m, n)] = cover.get((m, n), 0) + int(ok)
    head = "| case | rule | " + " | ".join(f"n={n:,}" for n in ns) + " |"
    lines = [f"Realized performance, {a.runs} runs a cell, seed {a.seed} (python benchmarks/realized.py)", "",
             "Rules on a binary model with labels for every prediction; reference accuracy 0.90 "
             "(the baseline's). Share of runs where the rule fires:", "", head,
             "|---|---|" + "---|" * len(ns)]
    for acc, what in ((0.90, "stationary: accuracy 0.90"), (0.85, "accuracy 0.90 -> 0.85")):
        for i, r in enumerate(RULES):
            cells = " | ".join(f"{100 * power[(acc, n)][i]:.1f}%" for n in ns)
            lines.append(f"| {what} | {r.name} | {cells} |")
    lines += ["", "Coverage of the 95% intervals (share of runs whose interval holds the population "
              "value; binary model at accuracy 0.90, regression model):", "",
              "| metric | population value | " + " | ".join(f"n={n:,}" for n in ns) + " |",
              "|---|---|" + "---|" * len(ns)]
    for m in (*CLASS_METRICS, *REG_METRICS):
        cells = " | ".join(f"{100 * cover[(m, n)] / a.runs:.1f}%" for n in ns)
        lines.append(f"| {m} | {truth[m]:.4f} | {cells} |")
    lines += ["", f"Largest difference from scikit-learn (accuracy_score, f1_score, precision_score, "
              f"recall_score, roc_auc_score, brier_score_loss, mean_absolute_error, mean_squared_error, "
              f"mean_absolute_percentage_error) over every run: {worst_diff:.3g}"]
    _write("\n".join(lines) + "\n", a.out, "realized")


def _write(text: str, to: str | None, stem: str) -> None:
    print(text)
    out = Path(to) if to else HERE / "data" / f"{stem}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.md"
    if out.exists():
        raise SystemExit(f"{out} exists; not overwritten")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
