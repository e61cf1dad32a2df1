"""Time `mlmon trend` and `mlmon compare` against `mlmon summary` on one generated log (budget 1.3x).

    python benchmarks/trend.py [--lines 1000000] [--data benchmarks/data] [--repeat 3] [--extra ARGS]
                               [--cases trend,trend-approx,trend-reference,trend-by,compare,compare-approx]

Cases (each against summary): `trend` (--every 1h, plus --extra), `trend-approx` (DDSketch
percentiles), `trend-reference` (drift per window against the generator's training CSV),
`trend-by` (windows per model version), `trend-records` (--every 5000 record windows), `compare`
and `compare-approx` (v2.0 against v1.0).
Each run is a whole process (start-up and imports included), the cases alternating so a
busy machine slows all alike; the best wall time of each is kept. The machine's load average
(`os.getloadavg`) is printed beside the figures, since a shared machine skews them. The log is
the one `benchmarks/generate.py` writes (one record a second, so 1M lines span ~278 hours).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = ("trend", "trend-approx", "trend-reference", "trend-by", "trend-records", "compare", "compare-approx")


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one process (exit 0 or 1)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{shlex.join(cmd)} exited {code}: {err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--every", default="1h")
    ap.add_argument("--extra", default="", help="more trend options, e.g. '--approx'")
    ap.add_argument("--mlmon", default="mlmon")
    ap.add_argument("--cases", default="trend", help="comma-separated: " + ", ".join(CASES))
    args = ap.parse_args(argv)
    log = args.data / f"pred_{args.lines}.jsonl"
    train = args.data / "train_8.csv"
    if not log.exists() or not train.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--lines", str(args.lines),
                        "--features", "8", "--out", str(args.data)], check=True)
    mlmon = shlex.split(args.mlmon)
    trend = [*mlmon, "trend", str(log), "--every", args.every, *shlex.split(args.extra)]
    compare = [*mlmon, "compare", str(log), "--control", "v1.0"]
    every = {
        "trend": trend,
        "trend-approx": [*trend, "--approx"],
        "trend-reference": [*trend, "--reference", str(train)],
        "trend-by": [*trend, "--by", "model_version"],
        "trend-records": [*mlmon, "trend", str(log), "--every", "5000", *shlex.split(args.extra)],
        "compare": compare,
        "compare-approx": [*compare, "--approx"],
    }
    cmds = {"summary": [*mlmon, "summary", str(log), "--format", "json"]}
    for case in args.cases.split(","):
        if case not in every:
            raise SystemExit(f"--cases: unknown case {case!r} (one of {', '.join(CASES)})")
        cmds[case] = [*every[case], "--format", "json"]
    best: dict[str, tuple[float, float, float]] = {}
    loads = []
    for _ in range(args.repeat):
        for name, cmd in cmds.items():
            loads.append(os.getloadavg()[0])
            wall, cpu, rss = timed(cmd)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, min(cpu, best[name][1]) if name in best else cpu, rss)
            else:
                best[name] = (best[name][0], min(cpu, best[name][1]), best[name][2])
    print(f"lines: {args.lines:,}; best of {args.repeat}; load average (1 min) during the runs: "
          f"{min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} cores")
    wall0, cpu0, _ = best["summary"]
    for name, (wall, cpu, rss) in best.items():
        ratio = "" if name == "summary" else f"  vs summary: wall {wall / wall0:.2f}x, cpu {cpu / cpu0:.2f}x"
        print(f"{name:15} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss:6.0f} MiB{ratio}  "
              f"{shlex.join(cmds[name][1:])}")
    if "trend" in best:
        ratio, cpu_ratio = best["trend"][0] / wall0, best["trend"][1] / cpu0
        print(f"trend / summary: wall {ratio:.2f}x, cpu {cpu_ratio:.2f}x (budget 1.3x) "
              f"{'ok' if max(ratio, cpu_ratio) <= 1.3 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
