"""The orders of the smooth test for tied numbers (hour of day, day of month, rounded scores):
power of Neyman's smooth test of order 1 .. 6, of the chi-square on the counts and of the pair
mlmon uses (orders 3 and 6, the smaller p-value: smooth_min_p) over a set of plausible changes,
and the tests themselves simulated on the hour-of-day shift of stats_round3.

    nice python benchmarks/smooth_order.py                 # about a minute
    nice python benchmarks/smooth_order.py --runs 3000

Part 1 is asymptotic and exact to compute: each test's statistic is noncentral chi-square under
a change, with the noncentrality the test's own statistic takes at the change's expected counts
(components on the polynomials orthonormal under the pooled shares, as
mlmon.stats.drift.smooth_test builds them; a baseline of 100,000 values). For each change and
test it finds the log size at which the test has 90% power, and reports each test's efficiency
(the smallest such size over the single tests, divided by its own) averaged over the changes,
and its worst. Part 2 runs mlmon's smooth_test on simulated counts (power and false alarms at n = 1,000).
Results go to stdout and to a new file under benchmarks/data/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import time
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, stats

from mlmon.stats.drift import SMOOTH_ORDERS, smooth_min_p, smooth_test

HERE = Path(__file__).resolve().parent
BASE_N = 100_000
ORDERS = (1, 2, 3, 4, 5, 6)


def _norm(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return p / p.sum()


def _rounded_normal(values: np.ndarray, mu: float, sd: float) -> np.ndarray:
    cuts = np.r_[-np.inf, values[1:] - 0.5, np.inf]
    return _norm(np.diff(stats.norm.cdf(cuts, mu, sd)))


def changes() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(values, baseline shares, changed shares) of tied features with 21 to 50 values."""
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    h = np.arange(24.0)
    cycles = {
        "gentle cycle (1 + 0.3 sin)": _norm(1 + 0.3 * np.sin(2 * np.pi * (h - 9) / 24)),
        "daily cycle (1 + 0.7 sin, stats_round3's)": _norm(1 + 0.7 * np.sin(2 * np.pi * (h - 9) / 24)),
        "peaked cycle": _norm(np.exp(2 * np.cos(2 * np.pi * (h - 14) / 24))),
        "two peaks (9h, 19h)": _norm(
            1 + 0.6 * np.exp(-((h - 9) ** 2) / 4) + 0.8 * np.exp(-((h - 19) ** 2) / 4)
        ),
        "office hours": _norm(0.3 + np.exp(-((h - 13) ** 2) / 18)),
        "night batch at 3h": _norm(1 + 3 * np.exp(-((h - 3) ** 2) / 3)),
        "three meals": _norm(
            0.4 + np.exp(-((h - 8) ** 2) / 2) + np.exp(-((h - 12.5) ** 2) / 2) + np.exp(-((h - 19) ** 2) / 3)
        ),
    }
    for name, p in cycles.items():
        out[f"hour of day, {name}: one hour later"] = (h, p, np.roll(p, 1))
        out[f"hour of day, {name}: one hour earlier"] = (h, p, np.roll(p, -1))
    p = cycles["daily cycle (1 + 0.7 sin, stats_round3's)"]
    out["hour of day, daily cycle: two hours later"] = (h, p, np.roll(p, 2))
    out["hour of day, daily cycle: flatter (0.7 -> 0.5)"] = (
        h,
        p,
        _norm(1 + 0.5 * np.sin(2 * np.pi * (h - 9) / 24)),
    )
    d = np.arange(1.0, 32.0)
    month = _norm(np.r_[np.ones(28), 11 / 12, 11 / 12, 7 / 12])
    first = month.copy()
    first[0] *= 1.5
    out["day of month: day 1 x 1.5"] = (d, month, _norm(first))
    out["day of month: tilted 15% toward the end"] = (d, month, _norm(month * np.linspace(0.85, 1.15, 31)))
    v = np.arange(0.0, 41.0)
    score = _rounded_normal(v, 20, 5)
    out["rounded score N(20, 5): +0.2 sd"] = (v, score, _rounded_normal(v, 21, 5))
    out["rounded score: sd x 1.3"] = (v, score, _rounded_normal(v, 20, 6.5))
    out["rounded score: sd x 0.8"] = (v, score, _rounded_normal(v, 20, 4))
    cut = int(np.searchsorted(np.cumsum(score), 0.95))
    top = score.copy()
    top[cut + 1 :] = 0
    for i in range(cut + 1, len(v)):
        top[min(len(v) - 1, i + 5)] += score[i]
    out["rounded score: top 5% up 1 sd"] = (v, score, _norm(top))
    k = np.arange(0.0, 45.0)
    counts = _norm(stats.poisson.pmf(k, 15))
    out["count Poisson(15): mean 16"] = (k, counts, _norm(stats.poisson.pmf(k, 16)))
    out["count Poisson(15): variance x 1.25"] = (k, counts, _norm(stats.nbinom.pmf(k, 60, 0.8)))
    u = np.arange(1.0, 31.0)
    flat = _norm(np.ones(30))
    out["rating 1..30: tilted 20%"] = (u, flat, _norm(np.linspace(0.9, 1.1, 30)))
    out["rating 1..30: more at both ends"] = (u, flat, _norm(1 + 0.3 * ((u - 15.5) / 14.5) ** 2))
    return out


def noncentrality(v: np.ndarray, p: np.ndarray, q: np.ndarray, m: float, order: int) -> float:
    """The smooth statistic of `order` at the expected counts of a log of m values drawn from q
    against a baseline of BASE_N drawn from p (as smooth_test computes it)."""
    w = (BASE_N * p + m * q) / (BASE_N + m)
    x = v - w @ v
    x = x / np.sqrt(w @ (x * x))
    root = np.sqrt(w)[:, None]
    basis, _ = np.linalg.qr(np.vander(x, order + 1, increasing=True) * root)
    h = (basis / root)[:, 1:]
    theta = q @ h - p @ h
    return float(np.sum(theta**2) / (1 / m + 1 / BASE_N))


def chi_noncentrality(p: np.ndarray, q: np.ndarray, m: float) -> float:
    w = (BASE_N * p + m * q) / (BASE_N + m)
    return float(np.sum((q - p) ** 2 / w) / (1 / m + 1 / BASE_N))


def power(lam: float, df: int, alpha: float) -> float:
    return float(stats.ncx2.sf(stats.chi2.isf(alpha, df), df, lam))


@functools.cache
def _pair_critical(alpha: float) -> float:
    """The smaller p-value of the pair SMOOTH_ORDERS at which smooth_min_p is alpha."""
    return float(optimize.brentq(lambda t: smooth_min_p(SMOOTH_ORDERS, t) - alpha, alpha / 2, alpha))


def pair_power(lam1: float, lam2: float, alpha: float) -> float:
    """Power of the pair (mlmon's test): the lower order's statistic is noncentral chi-square
    with lam1, the further components an independent one with lam2 - lam1."""
    k1, k2 = SMOOTH_ORDERS
    c = _pair_critical(alpha)
    a, b = float(stats.chi2.isf(c, k1)), float(stats.chi2.isf(c, k2))
    inside = integrate.quad(
        lambda t: (
            stats.ncx2.pdf(t, k1, max(lam1, 1e-12)) * stats.ncx2.cdf(b - t, k2 - k1, max(lam2 - lam1, 1e-12))
        ),
        0,
        min(a, b),
        limit=200,
    )[0]
    return 1 - inside


def size_for(
    v: np.ndarray, p: np.ndarray, q: np.ndarray, test: int | str, alpha: float, target: float
) -> float:
    """Log size at which the test reaches `target` power (inf when it never does below 1e9)."""
    if test == "chi":

        def gap(m: float) -> float:
            return power(chi_noncentrality(p, q, m), len(v) - 1, alpha) - target
    elif test == "pair":
        k1, k2 = SMOOTH_ORDERS

        def gap(m: float) -> float:
            return pair_power(noncentrality(v, p, q, m, k1), noncentrality(v, p, q, m, k2), alpha) - target
    else:

        def gap(m: float) -> float:
            return power(noncentrality(v, p, q, m, int(test)), int(test), alpha) - target

    try:
        return float(optimize.brentq(gap, 2, 1e9))
    except ValueError:
        return float("inf")


def efficiencies(alpha: float, target: float) -> tuple[list[str], np.ndarray]:
    tests: list[int | str] = [*ORDERS, "chi", "pair"]
    rows, names = [], []
    for name, (v, p, q) in changes().items():
        sizes = np.array([size_for(v, p, q, t, alpha, target) for t in tests])
        rows.append(sizes[:-1].min() / sizes)  # against the best single test (the pair can exceed 1)
        names.append(name)
    return names, np.array(rows)


HOURS = _norm(1 + 0.7 * np.sin(2 * np.pi * (np.arange(24) - 9) / 24))
"""stats_round3's hour of day."""


def simulate(rng: np.random.Generator, runs: int) -> dict[str, tuple[float, float, float, float]]:
    """mlmon's smooth_test on the counts of stats_round3's hour of day (a baseline of 100,000,
    a log of 1,000): per order, the share of runs with p < 0.025 and p < 0.05 after the one-hour
    shift, and without it."""
    slots = np.zeros(49)
    slots[1::2] = np.arange(24.0)
    slots[2:-1:2] = np.arange(24.0)[:-1] + 0.5
    tests = {f"order {k}": (k,) for k in ORDERS} | {"orders 3 and 6 (mlmon)": SMOOTH_ORDERS}
    ps: dict[str, list[tuple[float, float]]] = {k: [] for k in tests}
    for _ in range(runs):
        base, shifted, still = np.zeros(49), np.zeros(49), np.zeros(49)
        base[1::2] = rng.multinomial(BASE_N, HOURS)
        shifted[1::2] = np.roll(rng.multinomial(1_000, HOURS), 1)
        still[1::2] = rng.multinomial(1_000, HOURS)
        for label, orders in tests.items():
            ps[label].append(
                (smooth_test(slots, base, shifted, orders)[1], smooth_test(slots, base, still, orders)[1])
            )
    out = {}
    for k, pairs in ps.items():
        a = np.array(pairs)
        out[k] = (
            float(np.mean(a[:, 0] < 0.025)),
            float(np.mean(a[:, 0] < 0.05)),
            float(np.mean(a[:, 1] < 0.025)),
            float(np.mean(a[:, 1] < 0.05)),
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000, help="simulated runs of part 2 (default 2000)")
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    started = time.perf_counter()
    heads = [f"order {k}" for k in ORDERS] + ["chi-square", "orders 3 and 6 (mlmon)"]
    lines = [
        "Smooth test order for tied numbers (mlmon takes the smaller p-value of orders "
        f"{SMOOTH_ORDERS[0]} and {SMOOTH_ORDERS[1]}, smooth_min_p).",
        "",
        "Part 1: efficiency at 90% power (smallest log size reaching it over the single tests, divided by "
        f"the test's own; {len(changes())} changes, baseline of {BASE_N:,}; noncentral chi-square).",
        "",
        "| level | | " + " | ".join(heads) + " |",
        "|---|---|" + "---:|" * len(heads),
    ]
    detail: list[str] = []
    for alpha, label in (
        (0.025, "0.025 (a lone feature beside its mean test)"),
        (0.05 / 40, "0.00125 (BH's first step, 20 features)"),
    ):
        names, eff = efficiencies(alpha, 0.9)
        lines.append(f"| {label} | mean | " + " | ".join(f"{e:.3f}" for e in eff.mean(axis=0)) + " |")
        lines.append("| | worst | " + " | ".join(f"{e:.2f}" for e in eff.min(axis=0)) + " |")
        if alpha == 0.025:
            detail = [
                "",
                "Efficiency by change at level 0.025:",
                "",
                "| change | " + " | ".join(heads) + " |",
                "|---|" + "---:|" * len(heads),
            ]
            detail += [
                f"| {n} | " + " | ".join(f"{e:.2f}" for e in row) + " |"
                for n, row in zip(names, eff, strict=True)
            ]
    lines += detail
    sim = simulate(np.random.default_rng(args.seed), args.runs)
    lines += [
        "",
        f"Part 2: mlmon's smooth_test, hour of day shifted one hour at n = 1,000 ({args.runs:,} runs; "
        "share of runs with p below the level; 95% Wilson half-width about "
        f"{1.96 * np.sqrt(0.08 / args.runs):.1%} near 92%)",
        "",
        "| order | shifted: p < 0.025 | shifted: p < 0.05 | stationary: p < 0.025 | stationary: p < 0.05 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {k} | " + " | ".join(f"{x:.1%}" for x in row) + " |" for k, row in sim.items()]
    lines += ["", f"Total time {time.perf_counter() - started:.0f} s."]
    print("\n".join(lines), flush=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else HERE / "data" / f"smooth_order-{stamp}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"\n(written to {os.path.relpath(out)})")


if __name__ == "__main__":
    main()
