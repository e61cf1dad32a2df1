"""Data-quality verdicts on planted incidents and on stationary data: missing values, values
outside the training range and constant features.
One command, from a clean checkout:

    python benchmarks/quality.py              # about 10 minutes on a busy 2-core machine
    python benchmarks/quality.py --runs 50    # a quicker look

Each run draws fresh training data (20,000 rows of 10 numeric features, profiled into a saved-
baseline grid of 1001 edges, as `mlmon baseline` does; the `income` feature has 5% nulls, the
others none) and a fresh log, and runs mlmon's drift accumulator and alert rules on it (the same
code as `mlmon drift`). A run "flags" a case when the alert named in the table fires; the
stationary rows count any alert of that kind (and any alert at all). Results go to stdout and
to a new file under benchmarks/data/ (never over a tracked file).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from mlmon.read.records import FEATURE_PREFIX
from mlmon.rules.alerts import drift_alerts
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions

TRAIN = 20_000
FEATURES = 10
HERE = Path(__file__).resolve().parent
Gen = np.random.Generator


def names() -> list[str]:
    return ["income"] + [f"x{i}" for i in range(1, FEATURES)]


def training(rng: Gen) -> bl.Baseline:
    cols = {}
    for name in names():
        v = rng.normal(50, 10, TRAIN)
        if name == "income":
            v[rng.random(TRAIN) < 0.05] = np.nan  # 5% null in training
        cols[name] = v
    return bl.build(pa.table(cols), source="training", max_edges=bl.GRID_EDGES)


def log(rng: Gen, n: int, null_share: dict[str, float]) -> pa.Table:
    """Null shares per feature; `far:<name>` is the share of that feature's values moved 6 sd up
    (beyond training's max, mostly), `constant:<name>` makes it one value."""
    cols = {}
    for name in names():
        mask = rng.random(n) < null_share.get(name, 0.0)
        v = rng.normal(50, 10, n)
        v[rng.random(n) < null_share.get("far:" + name, 0.0)] += 60
        if null_share.get("constant:" + name):
            v[:] = 50.0
        cols[FEATURE_PREFIX + name] = pa.array(v, pa.float64(), mask=mask)
    return pa.table(cols)


def alert_metrics(base: bl.Baseline, table: pa.Table, o: DriftOptions) -> list[str]:
    acc = DriftAccumulator(base)
    acc.update(table)
    return [a.metric for a in drift_alerts(acc.result(o), o)]


CASES: list[tuple[str, dict[str, float], str]] = [
    ("stationary (income 5% null, others 0%)", {"income": 0.05}, "missing_share.* <= 5%"),
    ("stationary (income 5% null, others 0%)", {"income": 0.05}, "any alert (drift too) <= 5%"),
    ("x1: 10% missing (training 0%)", {"income": 0.05, "x1": 0.10}, "missing_share.x1 >= 95% at n=1,000"),
    ("income: 10% missing (training 5%)", {"income": 0.10}, "missing_share.income"),
    ("income: 15% missing (training 5%)", {"income": 0.15}, "missing_share.income"),
    ("x1: 1% missing (training 0%)", {"income": 0.05, "x1": 0.01}, "missing_share.x1"),
    ("stationary (income 5% null, others 0%)", {"income": 0.05}, "out_of_range.* <= 5%"),
    ("x1: 2% of values 6 sd up", {"income": 0.05, "far:x1": 0.02}, "out_of_range.x1"),
    ("x1: 5% of values 6 sd up", {"income": 0.05, "far:x1": 0.05}, "out_of_range.x1"),
    ("x1: constant", {"income": 0.05, "constant:x1": 1.0}, "constant.x1"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per cell (default 200)")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--ns", default="200,1000,10000")
    ap.add_argument("--out", default=None, help="markdown file to write (default: new, in benchmarks/data/)")
    args = ap.parse_args()
    ns = [int(x) for x in args.ns.split(",")]
    rng = np.random.default_rng(args.seed)
    o = DriftOptions()
    rates: dict[str, list[float]] = {}
    for label, shares, target in CASES:
        wanted = target.split()[0]
        hits = np.zeros(len(ns))
        for _ in range(args.runs):
            base = training(rng)
            for j, n in enumerate(ns):
                got = alert_metrics(base, log(rng, n, shares), o)
                if wanted == "any":
                    hits[j] += bool(got)
                elif wanted.endswith(".*"):
                    hits[j] += any(m.startswith(wanted[:-1]) for m in got)
                else:
                    hits[j] += wanted in got
        rates[label + target] = list(hits / args.runs)
        print(label, target, [f"{r:.1%}" for r in rates[label + target]], flush=True)
    lines = [
        f"# Data quality: flagged share of runs ({args.runs} runs a cell, seed {args.seed}, "
        f"training {TRAIN:,} rows x {FEATURES} features, saved-baseline grid)",
        "",
        "| case | flagged by | " + " | ".join(f"n={n:,}" for n in ns) + " |",
        "|---|---|" + "---|" * len(ns),
    ]
    for label, _, target in CASES:
        cells = " | ".join(f"{r:.1%}" for r in rates[label + target])
        lines.append(f"| {label} | {target} | {cells} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out) if args.out else HERE / "data" / f"quality-{dt.datetime.now():%Y%m%d-%H%M%S}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        raise SystemExit(f"{out} exists; not overwriting")
    out.write_text(text)


if __name__ == "__main__":
    main()
