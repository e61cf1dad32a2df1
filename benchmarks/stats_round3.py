"""Statistics round 3: long-tail categories, unseen values, percentile cliffs, tails and ties,
compare power. Each cell is a share of runs with a 95% Wilson interval. From a clean checkout:

    nice python benchmarks/stats_round3.py                     # all checks, default runs
    nice python benchmarks/stats_round3.py --checks longtail --runs 100

Runs mlmon's own code (drift accumulator and alert rules, the percentile decision, compare's
tests) on generated data; results go to stdout and to a new file under benchmarks/data/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mlmon.read.records import Kind
from mlmon.stats import baseline as bl
from mlmon.stats.drift import DriftAccumulator, DriftOptions
from mlmon.stats.summary import wilson

HERE = Path(__file__).resolve().parent
Gen = np.random.Generator

import drift_verdicts as dv  # noqa: E402  (the sibling benchmark: features and helpers)


def cell(hits: int, runs: int) -> str:
    lo, hi = wilson(hits, runs)
    return f"{hits / runs:.1%} ({lo:.1%}-{hi:.1%})"


def table(title: str, cols: list[str], rows: list[tuple[str, list[str], str]]) -> list[str]:
    out = ["", title, "", "| case | " + " | ".join(cols) + " | target |",
           "|---|" + "---:|" * len(cols) + "---|"]
    out += [f"| {label} | " + " | ".join(vals) + f" | {target} |" for label, vals, target in rows]
    return out


def cat_counts(counts: np.ndarray, prefix: str = "c") -> dict[str, int]:
    return {f"{prefix}{i}": int(c) for i, c in enumerate(counts) if c}


# ------------------------------------------------------------------ long-tail categories


def longtail(rng: Gen, runs: int, ns: list[int], o: DriftOptions) -> list[tuple[str, list[str], str]]:
    """A 2,000-level Zipf(1.0) column, 20,000-row baseline: stationary logs (any alert naming
    it), and a new 3% category."""
    p = dv.zipf(2000)
    still = np.zeros(len(ns), dtype=int)
    new3 = np.zeros(len(ns), dtype=int)
    for _ in range(runs):
        b = bl.Baseline("train", 20_000, (dv.categorical("city", rng.multinomial(20_000, p)),))
        for j, n in enumerate(ns):
            acc = DriftAccumulator(b)
            acc.add_counts("city", cat_counts(rng.multinomial(n, p)))
            still[j] += "city" in dv.flagged(acc, o)
            k = int(rng.binomial(n, 0.03))
            acc = DriftAccumulator(b)
            acc.add_counts("city", {**cat_counts(rng.multinomial(n - k, p)), "NEW": k} if k else
                           cat_counts(rng.multinomial(n, p)))
            new3[j] += "city" in dv.flagged(acc, o)
    return [("stationary 2,000-level Zipf(1.0), any alert", [cell(int(h), runs) for h in still], "<= 5%"),
            ("same column, new 3% category flagged", [cell(int(h), runs) for h in new3], "(found)")]


def unseen(rng: Gen, runs: int, o: DriftOptions) -> list[tuple[str, list[str], str]]:
    """--reference (an exact profile of 1,000 training rows) and the 20 mixed features at n = 50:
    any alert; a new 3% category in a 20-level column at n = 1,000: flagged."""
    ref = 1_000
    anyalert = unseen_alerts = 0
    for _ in range(runs):
        feats = [bl.FeatureProfile(k, Kind.NUMERIC, numeric=bl.numeric_profile(g(rng, ref), max_edges=None))
                 for k, g in dv.NUMERIC.items()]
        feats += [dv.categorical(k, rng.multinomial(ref, p)) for k, p in dv.CATEGORIES.items()]
        b = bl.Baseline("reference", ref, tuple(feats))
        acc = DriftAccumulator(b)
        acc.update(dv.numeric_table({k: g(rng, 50) for k, g in dv.NUMERIC.items()}))
        for k, p in dv.CATEGORIES.items():
            acc.add_counts(k, cat_counts(rng.multinomial(50, p)))
        alerts = dv.drift_alerts(acc.result(o), o)
        anyalert += bool(alerts)
        unseen_alerts += any(a.metric.startswith("unseen.") for a in alerts)
    p20 = dv.zipf(20)
    found = 0
    for _ in range(runs):
        b = bl.Baseline("train", dv.TRAIN, (dv.categorical("c", rng.multinomial(dv.TRAIN, p20)),))
        k = int(rng.binomial(1_000, 0.03))
        acc = DriftAccumulator(b)
        acc.add_counts("c", {**cat_counts(rng.multinomial(1_000 - k, p20)), "NEW": k})
        found += "c" in dv.flagged(acc, o)
    return [("--reference 1,000 rows, 20 mixed features, n=50: any alert", [cell(anyalert, runs)], "<= 5%"),
            ("  of which an unseen.* alert", [cell(unseen_alerts, runs)], ""),
            ("new 3% category (20-level column), n=1,000: flagged", [cell(found, runs)], ">= 95%")]


CHECKS: dict[str, Callable[..., list[str]]] = {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per cell (default 200)")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--checks", default="longtail,unseen", help="which checks to run")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    o = DriftOptions()
    checks = set(args.checks.split(","))
    started = time.perf_counter()
    lines = [f"Statistics round 3 (seed {args.seed}, {args.runs} runs per cell; share of runs, "
             "95% Wilson interval)."]
    if "longtail" in checks:
        ns = [100, 1_000, 10_000]
        block = table("Long-tail categories (2,000 levels, 20,000-row baseline)", [f"n={n:,}" for n in ns],
                      longtail(rng, args.runs, ns, o))
        lines += block
        print("\n".join(block), flush=True)
    if "unseen" in checks:
        block = table("Unseen values", ["share"], unseen(rng, args.runs, o))
        lines += block
        print("\n".join(block), flush=True)
    lines += ["", f"Total benchmark time {time.perf_counter() - started:.0f} s."]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else HERE / "data" / f"stats_round3-{stamp}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"\n(written to {os.path.relpath(out)}; total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
