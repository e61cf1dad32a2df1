"""Statistics round 3: long-tail categories, unseen values, percentile cliffs, tails, ties,
compare power, trend evidence. Each cell is a share of runs with a 95% Wilson interval. From a clean checkout:

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
import pyarrow as pa

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


# ------------------------------------------------------------------ tails and ties


HOURS = 1 + 0.7 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24)
HOURS = HOURS / HOURS.sum()
"""Hour of day with a daily cycle (traffic peaks mid-afternoon, lowest before dawn)."""


def tails(rng: Gen, runs: int) -> list[tuple[str, list[str], str]]:
    """Saved baselines (100,000 training rows, grid of 1001): the top 5% of a feature doubled
    (normal and lognormal) at n = 1,000; the same features stationary (false alarms)."""
    cases = {"normal(50, 10), top 5% doubled": lambda r, n: r.normal(50, 10, n),
             "lognormal(0, 1), top 5% doubled": lambda r, n: r.lognormal(0, 1, n)}
    hits = dict.fromkeys(cases, 0)
    still = dict.fromkeys(cases, 0)
    o = DriftOptions()
    for _ in range(runs):
        for label, g in cases.items():
            train = g(rng, dv.TRAIN)
            b = bl.Baseline("train", dv.TRAIN, (dv.numeric("x", train),))
            log = g(rng, 1_000)
            acc = DriftAccumulator(b)
            acc.update(dv.numeric_table({"x": log}))
            still[label] += "x" in dv.flagged(acc, o)
            log[log > np.quantile(train, 0.95)] *= 2
            acc = DriftAccumulator(b)
            acc.update(dv.numeric_table({"x": log}))
            hits[label] += "x" in dv.flagged(acc, o)
    return [(k, [cell(hits[k], runs), cell(still[k], runs)], ">= 90% found") for k in cases]


def ties(rng: Gen, runs: int) -> list[tuple[str, list[str], str]]:
    """Hour of day (a saved baseline of 100,000 rows, a daily cycle) shifted by one hour at
    n = 1,000, and stationary (false alarms)."""
    o = DriftOptions()
    hour_hit = hour_still = 0
    for _ in range(runs):
        train = rng.choice(24, dv.TRAIN, p=HOURS).astype(float)
        b = bl.Baseline("train", dv.TRAIN, (dv.numeric("hour", train),))
        log = rng.choice(24, 1_000, p=HOURS)
        acc = DriftAccumulator(b)
        acc.update(dv.numeric_table({"hour": log.astype(float)}))
        hour_still += "hour" in dv.flagged(acc, o)
        acc = DriftAccumulator(b)
        acc.update(dv.numeric_table({"hour": ((log + 1) % 24).astype(float)}))
        hour_hit += "hour" in dv.flagged(acc, o)
    return [("hour of day (daily cycle), shifted one hour", [cell(hour_hit, runs), cell(hour_still, runs)],
             ">= 90% found")]


# ------------------------------------------------------------------ trend evidence


def _windows(b: bl.Baseline, logs: list[dict[str, np.ndarray]], o: DriftOptions, first: int = 0) -> list:  # type: ignore[type-arg]
    """Windows as trend makes them (only what evidence reads: status, start, each feature's drift)."""
    from mlmon.stats.windows import Window

    out = []
    for i, cols in enumerate(logs, start=first):
        acc = DriftAccumulator(b)
        acc.update(dv.numeric_table({k: v for k, v in cols.items() if k in dv.NUMERIC}))
        for k in dv.CATEGORIES:
            if k in cols:
                acc.add_counts(k, cat_counts(cols[k]))
        out.append(Window(f"w{i:03d}", f"w{i + 1:03d}", i, i + 1, "ok", None, acc.result(o)))  # type: ignore[arg-type]
    return out


def first_alarm(ws: list, b: bl.Baseline, o: DriftOptions) -> int | None:  # type: ignore[type-arg]
    """The first window at which `trend` run on the log up to it would fire on evidence. Evidence
    ending at a window uses only the windows up to it, at a threshold that does not depend on the
    log's length, so one pass over the whole log finds the same first window as a run after each."""
    from mlmon.stats.evidence import accumulate

    starts = {w.window_start: i for i, w in enumerate(ws)}
    return min((starts[v.last] for v in accumulate(ws, b, o)), default=None)


def trend_evidence(rng: Gen, runs: int, show: list[str] | None = None) -> list[tuple[str, list[str], str]]:
    """48 windows of 500 records, the 20 mixed features (saved baselines of 100,000 rows):
    stationary logs with any evidence alert in any window (as trend run after each window);
    a 0.1 sd shift of one normal feature from window 30, found by window 47 (18 windows). The
    shifted log is the stationary one with the shift added from window 30 (its first 30 windows
    are the same, so only its last 18 are judged anew). `show` collects what fired."""
    o = DriftOptions()
    still = found = 0
    delays: list[int] = []
    for _ in range(runs):
        feats = [dv.numeric(k, g(rng, dv.TRAIN)) for k, g in dv.NUMERIC.items()]
        feats += [dv.categorical(k, rng.multinomial(dv.TRAIN, p)) for k, p in dv.CATEGORIES.items()]
        b = bl.Baseline("train", dv.TRAIN, tuple(feats))
        log = [{**{k: g(rng, 500) for k, g in dv.NUMERIC.items()},
                **{k: rng.multinomial(500, p) for k, p in dv.CATEGORIES.items()}} for _ in range(48)]
        ws = _windows(b, log, o)
        at = first_alarm(ws, b, o)
        still += at is not None
        if show is not None:
            from mlmon.stats.evidence import accumulate

            show += [f"{e.feature} ({e.test}, {e.windows} windows, p {e.p_value:.2g})"
                     for e in accumulate(ws, b, o)]
        shifted = [{**cols, "normal_50_10": cols["normal_50_10"] + 0.1 * 10} for cols in log[30:]]
        ws = ws[:30] + _windows(b, shifted, o, first=30)
        at = first_alarm(ws, b, o)
        if at is not None and at >= 30:
            found += 1
            delays.append(at - 30 + 1)
    med = f"{np.median(delays):.0f}" if delays else "-"
    return [("stationary 48-window logs with any alert", [cell(still, runs)], "<= 5%"),
            (f"0.1 sd shift from window 30 found by window 47 (median {med} windows)", [cell(found, runs)],
             ">= 80%")]


# ------------------------------------------------------------------ percentile cliffs


def _interpolated_above(rng: Gen, n: int, rank: float, limit_u: float, runs: int) -> int:
    """Runs in which the value at a fractional 0-based rank of n uniform values (the order
    statistics either side, interpolated) is above limit_u, mapped through a lognormal's
    quantile function (latency-like; the interpolation makes the shape matter a little)."""
    from scipy.stats import norm

    k = int(np.floor(rank))
    t = rank - k
    u1 = rng.beta(k + 1, n - k, runs)  # the (k+1)-th smallest of n uniforms
    u2 = u1 + (1 - u1) * (rng.beta(1, n - k - 1, runs) if n - k - 1 > 0 else 0.0)
    x1, x2 = np.exp(norm.ppf(u1)), np.exp(norm.ppf(np.minimum(u2, 1 - 1e-16)))
    return int(np.count_nonzero((1 - t) * x1 + t * x2 > np.exp(norm.ppf(limit_u))))


def cliffs(rng: Gen, runs: int) -> tuple[list[str], float, int]:
    """True p99 at the limit: the share of samples alerting, at every n from 20 to 2,000 and at
    neighbouring pairs (n, n + 1) on a grid to 100,000; the largest step between neighbours."""
    from mlmon.stats.percentile import bound_ranks

    ns = list(range(20, 2001)) + sorted({int(round(x)) + d for x in np.geomspace(2000, 100_000, 40)
                                         for d in (0, 1)})
    rate: dict[int, float] = {}
    for n in ns:
        lo = bound_ranks(n, 0.99)[0]
        rate[n] = 0.0 if lo is None else _interpolated_above(rng, n, lo, 0.99, runs) / runs
    steps = [(max(rate[n], rate[n + 1]) / min(rate[n], rate[n + 1]), n) for n in ns
             if n + 1 in rate and min(rate[n], rate[n + 1]) > 0]
    worst, at = max(steps)
    show = [20, 50, 100, 200, 299, 300, 500, 999, 1000, 1001, 2000, 10_000, 100_000]
    show = [min(rate, key=lambda m: abs(m - x)) for x in show]
    old999 = _interpolated_above(rng, 999, _old_rank(999), 0.99, runs) / runs
    old1000 = _interpolated_above(rng, 1000, 999 * 0.99, 0.99, runs) / runs
    lines = ["| n | " + " | ".join(f"{n:,}" for n in show) + " |", "|---|" + "---:|" * len(show),
             "| alert rate | " + " | ".join(f"{rate[n]:.1%}" for n in show) + " |", "",
             f"Largest step between neighbouring n (n = 20 .. 2,000, and pairs to 100,000): "
             f"{worst:.2f}x (at n = {at:,}); target <= 1.5x. The rule before this round: "
             f"{old999:.1%} at n = 999 (lower bound), {old1000:.1%} at n = 1,000 (point estimate)."]
    return lines, worst, at


def _old_rank(n: int) -> float:
    from scipy.stats import binom

    f = binom.cdf(np.arange(n), n, 0.99)
    return float(np.flatnonzero(f <= 0.05)[-1])


# ------------------------------------------------------------------ compare


def _versions(rng: Gen, n: int, err: tuple[float, float]) -> pa.Table:
    """Two versions (control `a`, treatment `b`) of n records each: lognormal latencies, a
    success flag with the given error rates, a class and a confidence, the same law otherwise."""
    from mlmon.read.records import CONFIDENCE, GROUP, LATENCY, PRED_CLASS, SUCCESS

    return pa.table({
        GROUP: pa.array(["a"] * n + ["b"] * n),
        LATENCY: pa.array(rng.lognormal(3, 0.5, 2 * n)),
        SUCCESS: pa.array(np.concatenate([rng.random(n) >= err[0], rng.random(n) >= err[1]])),
        PRED_CLASS: pa.array(rng.choice(["x", "y", "z"], 2 * n, p=[0.5, 0.3, 0.2]).tolist()),
        CONFIDENCE: pa.array(rng.beta(5, 2, 2 * n)),
    })


def compare(rng: Gen, runs: int, ns: list[int]) -> list[tuple[str, list[str], str]]:
    """1% -> 2% errors: `b` worse on success_rate; identical versions: `b` worse on anything."""
    from mlmon.stats.compare import CompareAccumulator

    found = np.zeros(len(ns), dtype=int)
    false = np.zeros(len(ns), dtype=int)
    for _ in range(runs):
        for j, n in enumerate(ns):
            for err, hits in (((0.01, 0.02), found), ((0.01, 0.01), false)):
                acc = CompareAccumulator()
                acc.update(_versions(rng, n, err))
                (v,) = acc.result("a")
                if err[1] > err[0]:
                    hits[j] += any(m.metric == "success_rate" and m.verdict == "worse" for m in v.metrics)
                else:
                    hits[j] += v.verdict == "worse"
    return [("errors 1% -> 2%: success_rate worse", [cell(int(h), runs) for h in found], ">= 80% at 10,000"),
            ("identical versions: verdict worse", [cell(int(h), runs) for h in false], "<= 5%")]


CHECKS: dict[str, Callable[..., list[str]]] = {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per cell (default 200)")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--checks", default="longtail,unseen,tails,ties,cliffs,compare",
                    help="which checks to run (and trend)")
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
    if "cliffs" in checks:
        runs = 50 * args.runs
        block, _, _ = cliffs(rng, runs)
        block = ["", f"Percentile verdicts: true p99 at the limit, lognormal latencies, {runs:,} samples "
                 "per n (share whose 95% lower bound is above the limit)", "", *block]
        lines += block
        print("\n".join(block), flush=True)
    if "tails" in checks:
        block = table("Tails at n = 1,000 (saved baseline of 100,000 rows)",
                      ["changed: flagged", "stationary: flagged"], tails(rng, args.runs))
        lines += block
        print("\n".join(block), flush=True)
    if "ties" in checks:
        block = table("Ties at n = 1,000 (saved baseline of 100,000 rows)",
                      ["changed: flagged", "stationary: flagged"], ties(rng, args.runs))
        lines += block
        print("\n".join(block), flush=True)
    if "trend" in checks:
        runs = max(20, args.runs // 2)
        fired: list[str] = []
        block = table(f"trend: evidence over windows ({runs} logs per cell)", ["share"],
                      trend_evidence(rng, runs, fired))
        block += ["", "Evidence in the stationary logs: " + ("; ".join(fired) or "none")]
        lines += block
        print("\n".join(block), flush=True)
    if "compare" in checks:
        ns = [1_000, 10_000, 100_000]
        block = table("compare: two versions, n records each (default tolerances)", [f"n={n:,}" for n in ns],
                      compare(rng, args.runs, ns))
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
