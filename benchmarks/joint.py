"""Joint (multivariate) drift and prediction drift verdicts on planted changes and on stationary data.
One command, from a clean checkout:

    python benchmarks/joint.py               # about 10 minutes on a busy 2-core machine
    python benchmarks/joint.py --runs 50     # a quicker look

Each run draws fresh training data (20,000 rows of 10 normal features, x1 and x2 correlated at
0.8, plus the model's predictions: a class of three and a confidence), profiles it into a saved
baseline (the 1001-edge grid and the joint PCA model, written to JSON and read back, as `mlmon
baseline` and `mlmon drift --baseline` do), and then draws fresh logs for each case and size and
runs mlmon's drift accumulator and alert rules on them (the same code as `mlmon drift`). A run
"flags" a case when the alert named fires; the stationary rows count that alert (and any alert at
all). Each rate has its Wilson 95% interval. Results go to stdout and to a new file under
benchmarks/data/ (never over a tracked file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
from scipy import stats

from mlmon.read.records import CONFIDENCE, FEATURE_PREFIX, PRED_CLASS
from mlmon.rules.alerts import drift_alerts
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions

TRAIN = 20_000
FEATURES = 10
RHO = 0.8
CLASS_SHARES = (0.45, 0.30, 0.25)
HERE = Path(__file__).resolve().parent
Gen = np.random.Generator


def names() -> list[str]:
    return [f"x{i}" for i in range(1, FEATURES + 1)]


def features(rng: Gen, n: int, rho: float) -> dict[str, np.ndarray]:
    """Normal(50, 10) features; x1 and x2 correlated at rho (each marginal unchanged by rho)."""
    z = rng.standard_normal((n, FEATURES))
    z[:, 1] = rho * z[:, 0] + np.sqrt(1 - rho * rho) * z[:, 1]
    return {name: 50 + 10 * z[:, j] for j, name in enumerate(names())}


def predictions(
    rng: Gen, n: int, shares: tuple[float, ...], conf_shift: float
) -> tuple[np.ndarray, np.ndarray]:
    cls = rng.choice(len(shares), size=n, p=np.asarray(shares)).astype(str)
    conf = np.clip(rng.beta(8, 3, n) + conf_shift, 0, 1)
    return cls, conf


def training(rng: Gen, folder: Path) -> bl.Baseline:
    cols = features(rng, TRAIN, RHO)
    b = bl.build(pa.table(cols), source="training", max_edges=bl.GRID_EDGES)
    cls, conf = predictions(rng, TRAIN, CLASS_SHARES, 0.0)
    preds = (
        bl.FeatureProfile("prediction.class", bl.Kind.CATEGORICAL,
                          categorical=bl.categorical_profile(pa.array(cls))),
        bl.FeatureProfile("prediction.confidence", bl.Kind.NUMERIC,
                          numeric=bl.numeric_profile(conf, max_edges=bl.GRID_EDGES)),
    )
    import dataclasses

    path = folder / "baseline.json"
    bl.save(dataclasses.replace(b, predictions=preds), str(path))
    return bl.load(str(path))  # a saved baseline: what drift --baseline reads


def log(rng: Gen, n: int, case: dict[str, float]) -> pa.Table:
    cols = {FEATURE_PREFIX + k: v for k, v in features(rng, n, case.get("rho", RHO)).items()}
    shares = CLASS_SHARES if "class" not in case else (0.45 + case["class"], 0.30 - case["class"] / 2,
                                                       0.25 - case["class"] / 2)
    cls, conf = predictions(rng, n, shares, case.get("confidence", 0.0))
    cols[PRED_CLASS] = pa.array(cls)
    cols[CONFIDENCE] = pa.array(conf)
    return pa.table(cols)


def alert_metrics(base: bl.Baseline, table: pa.Table, o: DriftOptions) -> list[str]:
    acc = DriftAccumulator(base)
    acc.update(table)
    return [a.metric for a in drift_alerts(acc.result(o), o)]


CASES: list[tuple[str, dict[str, float], str]] = [
    ("stationary (x1, x2 at 0.8)", {}, "drift.multivariate <= 5%"),
    ("stationary (x1, x2 at 0.8)", {}, "any alert <= 5%"),
    ("x1, x2 correlation 0.8 -> 0, marginals unchanged", {"rho": 0.0},
     "drift.multivariate >= 90% at n=1,000"),
    ("x1, x2 correlation 0.8 -> 0.5", {"rho": 0.5}, "drift.multivariate"),
    ("stationary predictions", {}, "drift.prediction.* <= 5%"),
    ("class 0 share 45% -> 55%", {"class": 0.10}, "drift.prediction.class"),
    ("confidence 0.05 lower", {"confidence": -0.05}, "drift.prediction.confidence"),
]
SIZES = (200, 1_000, 10_000)


def flagged(metrics: list[str], rule: str) -> bool:
    name = rule.split()[0]
    if name == "any":
        return bool(metrics)
    if name.endswith(".*"):
        return any(m.startswith(name[:-1]) for m in metrics)
    return name in metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261207)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    o = DriftOptions()
    hits = {(i, n): 0 for i in range(len(CASES)) for n in SIZES}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            base = training(rng, Path(tmp))
            for n in SIZES:
                seen: dict[str, list[str]] = {}
                for i, (_label, case, rule) in enumerate(CASES):
                    key = repr(sorted(case.items()))
                    if key not in seen:  # the stationary rows share one log per run and size
                        seen[key] = alert_metrics(base, log(rng, n, case), o)
                    hits[(i, n)] += flagged(seen[key], rule)
    lines = [
        f"Joint and prediction drift, {args.runs} runs a cell, seed {args.seed}; training {TRAIN:,} rows x "
        f"{FEATURES} normal features (x1, x2 at correlation {RHO}) and predictions, a saved baseline; "
        "rate (Wilson 95% interval)",
        "",
        "| case | flagged by | " + " | ".join(f"n={n:,}" for n in SIZES) + " |",
        "|---|---|" + "---|" * len(SIZES),
    ]
    for i, (label, _, rule) in enumerate(CASES):
        cells = []
        for n in SIZES:
            k = hits[(i, n)]
            ci = stats.binomtest(k, args.runs).proportion_ci(method="wilson")
            cells.append(f"{100 * k / args.runs:.1f}% ({100 * ci.low:.1f}-{100 * ci.high:.1f})")
        lines.append(f"| {label} | {rule} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = HERE / "data"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"joint-{stamp}.md").write_text(text)


if __name__ == "__main__":
    main()
