"""Drift verdicts on planted changes and on stationary data: power, false alarms, categorical
changes, and drift time for wide logs. One command, from a clean checkout:

    python benchmarks/drift_verdicts.py            # about 10 minutes on a busy 2-core machine
    python benchmarks/drift_verdicts.py --runs 50 --wide ''   # a quicker look

Each run draws fresh training data (100,000 rows, profiled into a saved-baseline grid of 1001
edges, as `mlmon baseline` does) and a fresh log, and runs mlmon's drift accumulator and alert
rules on them (the same code as `mlmon drift`; categories are fed as counts). A run "flags" a
feature when any alert names it (drift, mean deviation, unseen). The wide check times the whole
`mlmon drift` command on generated JSON-lines logs. Results go to stdout and to a new file under
benchmarks/data/ (never over a tracked file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from mlmon.read.records import FEATURE_PREFIX, Kind
from mlmon.rules.alerts import drift_alerts
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions

TRAIN = 100_000
HERE = Path(__file__).resolve().parent
Gen = np.random.Generator


# ------------------------------------------------------------------ features and profiles


def numeric(name: str, values: np.ndarray) -> bl.FeatureProfile:
    return bl.FeatureProfile(name, Kind.NUMERIC, numeric=bl.numeric_profile(values, max_edges=bl.GRID_EDGES))


def categorical(name: str, counts: np.ndarray) -> bl.FeatureProfile:
    pairs = sorted(((f"c{i}", int(c)) for i, c in enumerate(counts) if c), key=lambda kv: (-kv[1], kv[0]))
    profile = bl.CategoricalProfile(int(counts.sum()), tuple(pairs))
    return bl.FeatureProfile(name, Kind.CATEGORICAL, categorical=profile)


def zipf(k: int) -> np.ndarray:
    p = 1 / np.arange(1, k + 1)
    return p / p.sum()


NUMERIC: dict[str, Callable[[Gen, int], np.ndarray]] = {
    "normal_50_10": lambda r, n: r.normal(50, 10, n),
    "mean_near_0": lambda r, n: r.normal(0.02, 1, n),
    "mean_0.15sd": lambda r, n: r.normal(0.15, 1, n),
    "normal_neg": lambda r, n: r.normal(-3, 2, n),
    "lognormal": lambda r, n: r.lognormal(0, 1, n),
    "exponential": lambda r, n: r.exponential(2, n),
    "gamma": lambda r, n: r.gamma(2, 3, n),
    "student_t3": lambda r, n: r.standard_t(3, n),
    "flag_5%": lambda r, n: (r.random(n) < 0.05).astype(float),
    "flag_30%": lambda r, n: (r.random(n) < 0.30).astype(float),
    "flag_50%": lambda r, n: (r.random(n) < 0.50).astype(float),
    "count_binom": lambda r, n: r.binomial(5, 0.3, n).astype(float),
    "count_poisson": lambda r, n: np.minimum(r.poisson(1.5, n), 5).astype(float),
    "uniform": lambda r, n: r.uniform(0, 100, n),
    "mean_1000_sd_1": lambda r, n: r.normal(1000, 1, n),
}
CATEGORIES: dict[str, np.ndarray] = {
    "cat_2": np.array([0.7, 0.3]),
    "cat_5": zipf(5),
    "cat_10": zipf(10),
    "cat_20": zipf(20),
    "cat_40": zipf(40),
}


def flagged(acc: DriftAccumulator, o: DriftOptions) -> set[str]:
    """Names of the features any alert names."""
    alerts = drift_alerts(acc.result(o), o)
    return {a.metric.split(".", 1)[1] for a in alerts}


def numeric_table(cols: dict[str, np.ndarray]) -> pa.Table:
    return pa.table({FEATURE_PREFIX + k: pa.array(v) for k, v in cols.items()})


# ------------------------------------------------------------------ the checks


def power(rng: Gen, runs: int, ns: list[int], o: DriftOptions) -> dict[str, list[float]]:
    """A 0.2 sd shift and a 1.5x scale change in one feature (alone in its baseline)."""
    hits = {"0.2 sd shift": np.zeros(len(ns)), "1.5x scale": np.zeros(len(ns))}
    for _ in range(runs):
        b = bl.Baseline("train", TRAIN, (numeric("x", rng.normal(0, 1, TRAIN)),))
        for j, n in enumerate(ns):
            shifted, scaled = rng.normal(0.2, 1, n), rng.normal(0, 1.5, n)
            for label, log in (("0.2 sd shift", shifted), ("1.5x scale", scaled)):
                acc = DriftAccumulator(b)
                acc.update(numeric_table({"x": log}))
                hits[label][j] += "x" in flagged(acc, o)
    return {k: (v / runs).tolist() for k, v in hits.items()}


def false_alarms(rng: Gen, runs: int, ns: list[int], o: DriftOptions) -> tuple[list[float], dict[str, int]]:
    """20 stationary mixed features: the share of runs with any alert, and who raised them."""
    anyalert = np.zeros(len(ns))
    who: dict[str, int] = {}
    for _ in range(runs):
        feats = [numeric(k, g(rng, TRAIN)) for k, g in NUMERIC.items()]
        feats += [categorical(k, rng.multinomial(TRAIN, p)) for k, p in CATEGORIES.items()]
        b = bl.Baseline("train", TRAIN, tuple(feats))
        for j, n in enumerate(ns):
            acc = DriftAccumulator(b)
            acc.update(numeric_table({k: g(rng, n) for k, g in NUMERIC.items()}))
            for k, p in CATEGORIES.items():
                counts = rng.multinomial(n, p)
                acc.add_counts(k, {f"c{i}": int(c) for i, c in enumerate(counts) if c})
            names = flagged(acc, o)
            anyalert[j] += bool(names)
            for name in names:
                who[f"{name} (n={n:,})"] = who.get(f"{name} (n={n:,})", 0) + 1
    return (anyalert / runs).tolist(), who


def categorical_changes(rng: Gen, runs: int, ns: list[int], o: DriftOptions) -> dict[str, list[float]]:
    """A renamed category (5% and 20% of traffic) and a 0/1 flag going from 5% to 10%."""
    shares = np.array([0.45, 0.25, 0.15, 0.10, 0.05])
    hits = {"renamed 5% category": np.zeros(len(ns)), "renamed 20% category": np.zeros(len(ns)),
            "flag 5% -> 10%": np.zeros(len(ns))}
    for _ in range(runs):
        b = bl.Baseline("train", TRAIN, (categorical("c", rng.multinomial(TRAIN, shares)),
                                         numeric("flag", (rng.random(TRAIN) < 0.05).astype(float))))
        for j, n in enumerate(ns):
            for label, renamed in (("renamed 5% category", 4), ("renamed 20% category", 2)):
                counts = rng.multinomial(n, shares)
                log = {f"c{i}": int(c) for i, c in enumerate(counts) if c and i != renamed}
                log["C_RENAMED"] = int(counts[renamed])
                acc = DriftAccumulator(b)
                acc.add_counts("c", log)
                acc.update(numeric_table({"flag": (rng.random(n) < 0.05).astype(float)}))
                hits[label][j] += "c" in flagged(acc, o)
            acc = DriftAccumulator(b)
            acc.add_counts("c", {f"c{i}": int(c) for i, c in enumerate(rng.multinomial(n, shares))})
            acc.update(numeric_table({"flag": (rng.random(n) < 0.10).astype(float)}))
            hits["flag 5% -> 10%"][j] += "flag" in flagged(acc, o)
    return {k: (v / runs).tolist() for k, v in hits.items()}


def wide(widths: list[int], lines: int, rng: Gen, data: Path) -> list[tuple[int, float, float, int, int]]:
    """`mlmon drift` on LINES records with K named features (and a baseline of 1,000 training
    rows, --grid 1001 or what fits 4M edges), whole process; returns (K, wall seconds, CPU
    seconds, peak resident MB, exit code: 0 or 1, an alert, both fine). Values are rounded to 3
    decimals and written as JSON producers do (no `-0.0`: a line holding one takes the exact,
    slower path of the native reader)."""
    out = []
    data.mkdir(parents=True, exist_ok=True)
    for k in widths:
        names = [f"f{i}" for i in range(k)]
        train, log = data / f"wide_train_{k}.csv", data / f"wide_log_{k}.jsonl"
        base = data / f"wide_base_{k}.json"
        with open(train, "w") as fh:
            fh.write(",".join(names) + "\n")
            for row in np.round(rng.normal(size=(1000, k)), 3) + 0.0:
                fh.write(",".join(map(str, row.tolist())) + "\n")
        with open(log, "w") as fh:
            for i, row in enumerate(np.round(rng.normal(size=(lines, k)), 3) + 0.0):
                rec = {"timestamp": f"2026-11-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
                       "input": {"features": dict(zip(names, row.tolist(), strict=True))}}
                fh.write(json.dumps(rec) + "\n")
        mlmon = [sys.executable, "-m", "mlmon"]
        grid = str(min(bl.GRID_EDGES, 4_000_000 // k))  # a baseline holds at most 5M edges in all
        subprocess.run([*mlmon, "baseline", str(train), "-o", str(base), "--grid", grid],
                       check=True, capture_output=True)
        t = time.perf_counter()
        proc = subprocess.Popen([*mlmon, "drift", str(log), "-b", str(base), "-f", "json"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.append((k, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, proc.returncode))
        for p in (train, log, base):
            p.unlink()
    return out


# ------------------------------------------------------------------ report


def row(label: str, values: list[float], target: str) -> str:
    return f"| {label} | " + " | ".join(f"{v:.1%}" for v in values) + f" | {target} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per cell (default 200)")
    ap.add_argument("--power-runs", type=int, default=None, help="runs per power cell (default: --runs / 2)")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--p-threshold", type=float, default=DriftOptions.p_threshold)
    ap.add_argument("--checks", default="power,false,categorical", help="which checks to run")
    ap.add_argument("--wide", default="1000,10000", help="feature counts for the timing check ('' skips it)")
    ap.add_argument("--wide-lines", type=int, default=1000)
    ap.add_argument("--out", default=None, help="markdown file to write (default: new, in benchmarks/data/)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    o = DriftOptions(p_threshold=args.p_threshold)
    checks = set(args.checks.split(","))
    power_runs = args.power_runs or max(1, args.runs // 2)
    started = time.perf_counter()
    lines = [f"Drift verdicts with the default options (p {o.p_threshold}, min effect {o.min_effect}, "
             f"mean tolerance {o.mean_tolerance}, unseen share {o.max_unseen_share}); training {TRAIN:,} "
             f"rows on a {bl.GRID_EDGES}-edge grid; seed {args.seed}.", ""]

    ns_power = [1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000]
    pw = power(rng, power_runs, ns_power, o) if "power" in checks else {}
    lines += [f"Power: share of runs flagging the changed feature ({power_runs} runs per cell)", "",
              "| change | " + " | ".join(f"n={n:,}" for n in ns_power) + " | target |",
              "|---|" + "---:|" * len(ns_power) + "---|"]
    lines += [row(k, v, ">= 90%, never falling") for k, v in pw.items()]
    print("\n".join(lines), flush=True)

    ns_fa = [50, 100, 1_000, 10_000, 100_000]
    fa, who = false_alarms(rng, args.runs, ns_fa, o) if "false" in checks else ([], {})
    block = ["", "False alarms: share of runs with any alert, 20 stationary mixed features "
             f"({args.runs} runs per cell)",
             "", "| data | " + " | ".join(f"n={n:,}" for n in ns_fa) + " | target |",
             "|---|" + "---:|" * len(ns_fa) + "---|"]
    block += [row("20 mixed features", fa, "<= 5%")] if fa else []
    if who:
        block += ["", "Alerts by feature: " + ", ".join(f"{k}: {v}" for k, v in sorted(who.items()))]
    lines += block
    print("\n".join(block), flush=True)

    ns_cat = [1_000, 10_000, 100_000, 1_000_000]
    cat = categorical_changes(rng, args.runs, ns_cat, o) if "categorical" in checks else {}
    block = ["", f"Categorical changes: share of runs flagging the feature ({args.runs} runs per cell)", "",
             "| change | " + " | ".join(f"n={n:,}" for n in ns_cat) + " | target |",
             "|---|" + "---:|" * len(ns_cat) + "---|"]
    block += [row(k, v, ">= 90% at n >= 1000") for k, v in cat.items()]
    lines += block
    print("\n".join(block), flush=True)

    if args.wide:
        widths = [int(w) for w in args.wide.split(",")]
        res = wide(widths, args.wide_lines, rng, HERE / "data")
        block = ["", f"Wide logs: `mlmon drift`, {args.wide_lines:,} lines, whole process", "",
                 "| features | wall s | CPU s | CPU ms per feature | peak MB | exit |",
                 "|---:|---:|---:|---:|---:|---:|"]
        block += [f"| {k:,} | {w:.1f} | {c:.1f} | {1000 * c / k:.2f} | {mb:,} | {rc} |"
                  for k, w, c, mb, rc in res]
        lines += block
        print("\n".join(block), flush=True)

    lines += ["", f"Total benchmark time {time.perf_counter() - started:.0f} s."]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else HERE / "data" / f"drift_verdicts-{stamp}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"\n(written to {os.path.relpath(out)}; total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
