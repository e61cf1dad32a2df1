"""Time mlmon against DuckDB, pandas and a `cat` floor on the same generated prediction logs.

    python benchmarks/run.py --lines 1000000 [--features 8] [--data benchmarks/data]
                             [--skip-pandas-above N] [--out FILE]
                             [--repeat R] [--tools mlmon,duckdb,pandas,floor]
                             [--tasks summary,drift] [--forms jsonl,log,gz] [--delete-data]

Every measurement is a whole process (interpreter start and imports included), waited for with
`os.wait4`, so the wall time is the process's and the peak RSS is that child's `ru_maxrss`.
DuckDB and pandas run as `python benchmarks/run.py _worker TOOL TASK FORM FILE TRAIN`; this
file imports only the standard library at the top, so the worker pays the same kind of start-up
cost as `mlmon` (its own imports: duckdb / pandas / numpy / scipy).

The answers are checked against each other: mlmon's record count, success rate and latency
p50/p95/p99/max (overall and per model_version) against DuckDB's (1e-9 relative), and mlmon's
`drifted` list against the features whose DuckDB+scipy KS p-value is < 0.05 after
Benjamini-Hochberg (computed here) with KS D >= 0.1, and per feature KS D and mlmon's
`ks_p_value` against scipy's (mlmon's own `p_value` also weighs the tail test, so it differs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FORMS = {"jsonl": ".jsonl", "log": ".log", "gz": ".jsonl.gz"}
TASKS = ("summary", "drift")
TOOLS = ("mlmon", "mlmon-py", "duckdb", "pandas", "floor")
"""`mlmon` runs the reader it has (native when built); `mlmon-py` forces the pyarrow reader."""
P_THRESHOLD = 0.05
MIN_EFFECT = 0.1
REL_TOL = 1e-9
SUCCESS_VALUES = ("success", "ok")
MARKER = "Prediction: "
UNIT_SEP = "\x1f"  # never occurs in the generated logs: one whole line per CSV field


# --------------------------------------------------------------------------------------------
# Workers: run in their own process (`run.py _worker ...`); print one JSON object on stdout.
# --------------------------------------------------------------------------------------------


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _duckdb_source(path: str, form: str, columns: dict[str, str]) -> str:
    """A FROM-able subquery with the given top-level JSON fields (DuckDB types)."""
    if form in ("jsonl", "gz"):
        cols = "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in columns.items()) + "}"
        return (f"(SELECT * FROM read_json({_sql_str(path)}, format='newline_delimited', "
                f"columns={cols}))")
    # .log: one VARCHAR per line, JSON after the marker, parsed once with from_json
    raw = (f"read_csv({_sql_str(path)}, columns={{'line': 'VARCHAR'}}, delim={_sql_str(UNIT_SEP)}, "
           f"quote='', escape='', header=false, auto_detect=false)")
    shape = json.dumps({k: _json_shape(v) for k, v in columns.items()})
    return (f"(SELECT s.* FROM (SELECT from_json(substr(line, strpos(line, {_sql_str(MARKER)}) + "
            f"{len(MARKER)}), {_sql_str(shape)}) AS s FROM {raw} "
            f"WHERE strpos(line, {_sql_str(MARKER)}) > 0))")


def _json_shape(duck_type: str) -> Any:
    if duck_type == "STRUCT(features DOUBLE[])":
        return {"features": ["DOUBLE"]}
    return duck_type


def worker_duckdb(task: str, form: str, path: str, train: str) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    if task == "summary":
        src = _duckdb_source(path, form, {"model_version": "VARCHAR", "status": "VARCHAR",
                                                "latency_ms": "DOUBLE"})
        ok = ", ".join(_sql_str(v) for v in SUCCESS_VALUES)
        rows = con.sql(f"""
            SELECT grouping(model_version) AS g, model_version,
                   count(*) AS records,
                   count(status) AS status_n,
                   count(*) FILTER (WHERE status IN ({ok})) AS successes,
                   count(*) FILTER (WHERE status IN ({ok})) / count(status) AS success_rate,
                   quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS q,
                   max(latency_ms) AS max
            FROM {src}
            GROUP BY GROUPING SETS ((model_version), ())
            ORDER BY g DESC, model_version
        """).fetchall()
        return {"groups": {("(all)" if g else str(mv)): _summary_row(n, sn, s, rate, q, mx)
                           for g, mv, n, sn, s, rate, q, mx in rows}}
    # drift: features out of DuckDB into numpy, KS against the training columns with scipy
    import numpy as np
    from scipy import stats

    ref = con.sql(f"SELECT * FROM read_csv({_sql_str(train)}, header=true)").fetchnumpy()
    names = list(ref)
    src = _duckdb_source(path, form, {"input": "STRUCT(features DOUBLE[])"})
    sel = ", ".join(f"f[{j + 1}] AS {_quote_ident(n)}" for j, n in enumerate(names))
    log = con.sql(f"SELECT {sel} FROM (SELECT input.features AS f FROM {src})").fetchnumpy()
    return {"records": int(len(next(iter(log.values())))) if log else 0,
            "features": _ks_all(names, ref, log, np, stats)}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _summary_row(n: int, sn: int, s: int, rate: float | None, q: list[float] | None,
                 mx: float | None) -> dict[str, Any]:
    q = q or [None, None, None]
    return {"records": int(n), "status_n": int(sn), "successes": int(s),
            "success_rate": None if rate is None else float(rate),
            "p50": q[0], "p95": q[1], "p99": q[2], "max": mx}


def _ks_all(names: list[str], ref: dict[str, Any], log: dict[str, Any], np: Any,
            stats: Any) -> dict[str, Any]:
    out = {}
    for name in names:
        a = np.asarray(ref[name], dtype=np.float64)
        b = np.asarray(log[name], dtype=np.float64)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        res = stats.ks_2samp(a, b)
        out[name] = {"n": int(len(b)), "statistic": float(res.statistic),
                     "p_value": float(res.pvalue)}
    return out


def worker_pandas(task: str, form: str, path: str, train: str) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    df = pd.read_json(path, lines=True)
    if task == "summary":
        groups = {"(all)": df, **{str(k): g for k, g in df.groupby("model_version")}}
        out = {}
        for key, g in groups.items():
            lat = g["latency_ms"].dropna().to_numpy(dtype=np.float64)
            status = g["status"]
            sn = int(status.notna().sum())
            s = int(status.isin(SUCCESS_VALUES).sum())
            q = [float(x) for x in np.percentile(lat, [50, 95, 99])] if len(lat) else None
            out[key] = _summary_row(len(g), sn, s, s / sn if sn else None, q,
                                    float(lat.max()) if len(lat) else None)
        return {"groups": out}
    from scipy import stats

    ref_df = pd.read_csv(train)
    names = list(ref_df.columns)
    x = np.array(df["input"].map(lambda d: d["features"]).tolist(), dtype=np.float64)
    log = {n: x[:, j] for j, n in enumerate(names)}
    ref = {n: ref_df[n].to_numpy() for n in names}
    return {"records": int(len(df)), "features": _ks_all(names, ref, log, np, stats)}


def worker_main(argv: list[str]) -> None:
    tool, task, form, path, train = argv
    fn = {"duckdb": worker_duckdb, "pandas": worker_pandas}[tool]
    json.dump(fn(task, form, path, train), sys.stdout)


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------


@dataclass
class Measure:
    tool: str
    task: str
    form: str
    walls: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    """user + system CPU seconds of each run: less sensitive than wall time to a busy machine."""
    result: Any = None
    note: str = ""

    @property
    def wall(self) -> float:
        return min(self.walls)

    @property
    def cpu(self) -> float:
        return min(self.cpus) if self.cpus else float("nan")

    @property
    def rss(self) -> float:
        return max(self.rss_mb)


def run_process(cmd: list[str], ok_codes: tuple[int, ...] = (0,), capture: bool = True,
                stdout_to_null: bool = False) -> tuple[float, float, str]:
    """Run cmd as a child; return (wall seconds, peak RSS MiB, stdout text)."""
    wall, rss, text, _ = run_process_cpu(cmd, ok_codes, stdout_to_null=stdout_to_null)
    return wall, rss, text


def run_process_cpu(cmd: list[str], ok_codes: tuple[int, ...] = (0,),
                    stdout_to_null: bool = False) -> tuple[float, float, str, float]:
    """Run cmd as a child; return (wall seconds, peak RSS MiB, stdout text, user+system CPU s)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdout: Any = subprocess.DEVNULL if stdout_to_null else out
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=stdout, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if p.returncode not in ok_codes:
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{err.read().decode()[-3000:]}")
    return wall, ru.ru_maxrss / 1024.0, text, ru.ru_utime + ru.ru_stime  # ru_maxrss: KiB on Linux


def ensure_data(args: argparse.Namespace) -> dict[str, Path]:
    data: Path = args.data
    files = {form: data / f"pred_{args.lines}{ext}" for form, ext in FORMS.items()}
    files["train"] = data / f"train_{args.features}.csv"
    if not all(p.exists() for p in files.values()):
        cmd = [sys.executable, str(HERE / "generate.py"), "--lines", str(args.lines),
               "--features", str(args.features), "--out", str(data)]
        print("generating:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    else:
        # the training CSV depends on K only; make sure it has K columns
        header = files["train"].open().readline().strip().split(",")
        if len(header) != args.features:
            raise SystemExit(f"{files['train']} has {len(header)} columns, expected {args.features}")
    return files


def mlmon_cmd(mlmon: list[str], task: str, path: Path, train: Path) -> list[str]:
    if task == "summary":
        return [*mlmon, "summary", str(path), "--format", "json"]
    return [*mlmon, "drift", str(path), "--reference", str(train), "--format", "json"]


def floor_cmds(form: str, path: Path) -> dict[str, list[str]]:
    py_read = ("import sys,gzip\nf=(gzip.open if sys.argv[1].endswith('.gz') else open)(sys.argv[1],'rb')\n"
               "while f.read(1<<20): pass")
    cat = ["zcat" if form == "gz" else "cat", str(path)]
    return {"cat": cat, "python-read": [sys.executable, "-c", py_read, str(path)]}


PARSER_FLOOR = Path(__file__).resolve().parent / "parser_floor"


def parser_floor(path: Path, n: int) -> list[Measure]:
    """The validate-only floor (parser_floor/): strict parsers checking and skipping every line on
    one thread, file already in memory; built with cargo when it is missing. Its seconds are the
    parse of all lines on one core (wall = CPU); two cores could at best halve the wall time."""
    binary = PARSER_FLOOR / "target" / "release" / "parser-floor"
    if not binary.exists():
        if shutil.which("cargo") is None:
            print("  parser floor: skipped (no cargo to build benchmarks/parser_floor)")
            return []
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=PARSER_FLOOR, check=True)
    out = subprocess.run([str(binary), str(path), "3"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = re.match(r"\s+(\S+) \((.+?)\)\s+(\d+) ns/line", line)
        if m:
            secs = int(m.group(3)) * n / 1e9
            found.append(Measure(f"floor:{m.group(1)}", "validate", "jsonl", [secs], [0.0], [secs],
                                 note=f"{m.group(2)}, one thread, {m.group(3)} ns/line"))
            print(f"  floor:{m.group(1):<12} validate jsonl {secs:8.3f} s on one core ({m.group(3)} ns/line)")
    return found


def from_mlmon_summary(doc: dict[str, Any]) -> dict[str, Any]:
    def row(d: dict[str, Any]) -> dict[str, Any]:
        lat = d["latency_ms"]
        return {"records": d["records"], "status_n": d["success_n"], "successes": d["successes"],
                "success_rate": d["success_rate"], "p50": lat["p50"], "p95": lat["p95"],
                "p99": lat["p99"], "max": lat["max"]}

    groups = {"(all)": row(doc)}
    for g in doc.get("groups", []):
        groups[g["group"]] = row(g)
    return {"groups": groups}


def from_mlmon_drift(doc: dict[str, Any]) -> dict[str, Any]:
    # mlmon's p_value combines KS with its tail test (and the mean test sits beside it); the
    # KS p-value scipy's ks_2samp gives is ks_p_value, so that is what is compared
    feats = {f["name"]: {"n": f["n"], "statistic": f["statistic"],
                         "p_value": f.get("ks_p_value", f["p_value"]),
                         "p_value_adjusted": f["p_value_adjusted"], "drift": f["drift"]}
             for f in doc["features"]}
    return {"records": doc["records"], "features": feats, "drifted": sorted(doc["drifted"])}


def benjamini_hochberg(ps: list[float]) -> list[float]:
    """BH-adjusted p-values (step-up, monotone, capped at 1)."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    adj = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        adj[i] = min(1.0, running)
    return adj


def reference_drift(res: dict[str, Any]) -> dict[str, Any]:
    """Add BH-adjusted p-values and the drift verdict to a DuckDB/pandas KS result."""
    names = list(res["features"])
    adj = benjamini_hochberg([res["features"][n]["p_value"] for n in names])
    for n, a in zip(names, adj, strict=True):
        f = res["features"][n]
        f["p_value_adjusted"] = a
        f["drift"] = a < P_THRESHOLD and f["statistic"] >= MIN_EFFECT
    res["drifted"] = sorted(n for n in names if res["features"][n]["drift"])
    return res


def close(a: Any, b: Any, rel: float = REL_TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=0.0)


def compare_summary(got: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    problems = []
    g1, g2 = got["groups"], ref["groups"]
    if set(g1) != set(g2):
        problems.append(f"groups differ: {sorted(g1)} vs {sorted(g2)}")
    for key in sorted(set(g1) & set(g2)):
        for k in ("records", "status_n", "successes", "success_rate", "p50", "p95", "p99", "max"):
            if not close(g1[key][k], g2[key][k]):
                problems.append(f"{key} {k}: {g1[key][k]!r} vs {g2[key][k]!r}")
    return problems


def compare_drift(got: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    problems = []
    if got["records"] != ref["records"]:
        problems.append(f"records: {got['records']} vs {ref['records']}")
    if got["drifted"] != ref["drifted"]:
        problems.append(f"drifted: {got['drifted']} vs {ref['drifted']}")
    for n, f in ref["features"].items():
        g = got["features"].get(n)
        if g is None:
            problems.append(f"{n}: missing")
            continue
        if g["n"] != f["n"]:
            problems.append(f"{n} n: {g['n']} vs {f['n']}")
        # KS D is a difference of two CDFs: compare absolutely (its rounding is ~1e-16)
        if g["statistic"] is None or abs(g["statistic"] - f["statistic"]) > 1e-9:
            problems.append(f"{n} KS D: {g['statistic']!r} vs {f['statistic']!r}")
        if not close(g["p_value"], f["p_value"], rel=1e-6) and max(g["p_value"], f["p_value"]) > 1e-300:
            problems.append(f"{n} p-value: {g['p_value']!r} vs {f['p_value']!r}")
    return problems


def fmt_wall(s: float) -> str:
    return f"{s:.3f}" if s < 10 else f"{s:.2f}"


def fmt_rate(lines: int, s: float) -> str:
    r = lines / s
    return f"{r / 1e6:.2f} M" if r >= 1e6 else f"{r / 1e3:.0f} k"


def default_out(folder: Path = HERE) -> Path:
    """A new results file named by the UTC time: a run never overwrites the tracked results.md."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out, n = folder / f"results-{stamp}.md", 1
    while out.exists():
        n += 1
        out = folder / f"results-{stamp}-{n}.md"
    return out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        worker_main(argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=8)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--skip-pandas-above", type=int, default=1_000_000,
                    help="run pandas only when --lines is at most this (default 1000000)")
    ap.add_argument("--out", type=Path, default=None,
                    help="results file (default: a new benchmarks/results-<UTC time>.md, never the "
                    "tracked results.md)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; best wall is kept")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--forms", default=",".join(FORMS))
    ap.add_argument("--mlmon", default="mlmon",
                    help="command that runs mlmon (default: mlmon on PATH; e.g. 'python -m mlmon')")
    ap.add_argument("--delete-data", action="store_true",
                    help="delete the pred_N.* files afterwards (the training CSV is kept)")
    args = ap.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    tasks = [t for t in args.tasks.split(",") if t]
    forms = [f for f in args.forms.split(",") if f]
    for name, got, allowed in (("--tools", tools, TOOLS), ("--tasks", tasks, TASKS),
                               ("--forms", forms, tuple(FORMS))):
        if bad := set(got) - set(allowed):
            ap.error(f"{name}: unknown {sorted(bad)}; choose from {', '.join(allowed)}")
    mlmon = shlex.split(args.mlmon)
    if {"mlmon", "mlmon-py"} & set(tools) and shutil.which(mlmon[0]) is None:
        raise SystemExit(f"{mlmon[0]} is not on PATH")

    files = ensure_data(args)
    compile_bytecode()
    fingerprint_start = mlmon_fingerprint()
    load_start = os.getloadavg()[0]
    n = args.lines
    train = files["train"]
    # warm the page cache so every tool reads from memory
    for form in forms:
        run_process(["cat", str(files[form])], stdout_to_null=True)

    measures: list[Measure] = []

    def measure(tool: str, task: str, form: str, cmd: list[str], ok: tuple[int, ...] = (0,),
                parse: bool = True, null_out: bool = False) -> Measure:
        m = Measure(tool, task, form)
        for _ in range(args.repeat):
            wall, rss, text, cpu = run_process_cpu(cmd, ok, stdout_to_null=null_out)
            m.walls.append(wall)
            m.rss_mb.append(rss)
            m.cpus.append(cpu)
        if parse:
            m.result = json.loads(text)
        print(f"  {tool:<12} {task:<8} {form:<6} {fmt_wall(m.wall):>8} s  {m.cpu:6.2f} CPU s  "
              f"{m.rss:8.0f} MiB",
              flush=True)
        measures.append(m)
        return m

    help_wall = None
    if "mlmon" in tools:
        walls = [run_process([*mlmon, "--help"])[0] for _ in range(5)]
        help_wall = min(walls)
        print(f"mlmon --help: best of 5 {help_wall:.3f} s (all: {', '.join(f'{w:.3f}' for w in walls)})")

    worker = [sys.executable, str(Path(__file__).resolve()), "_worker"]
    for task in tasks:
        for form in forms:
            f = str(files[form])
            for tool, env in (("mlmon", []), ("mlmon-py", ["env", "MLMON_READER=python"])):
                if tool in tools:
                    m = measure(tool, task, form, env + mlmon_cmd(mlmon, task, files[form], train), (0, 1))
                    m.result = (from_mlmon_summary if task == "summary" else from_mlmon_drift)(m.result)
            if "duckdb" in tools:
                m = measure("duckdb", task, form, worker + ["duckdb", task, form, f, str(train)])
                if task == "drift":
                    reference_drift(m.result)
            if "pandas" in tools and form == "jsonl" and n <= args.skip_pandas_above:
                m = measure("pandas", task, form, worker + ["pandas", task, form, f, str(train)])
                if task == "drift":
                    reference_drift(m.result)
    if "floor" in tools:
        for form in forms:
            for name, cmd in floor_cmds(form, files[form]).items():
                measure(f"floor:{name}", "read", form, cmd, parse=False, null_out=True)
        if "jsonl" in forms:
            measures += parser_floor(files["jsonl"], n)

    report = render(args, measures, help_wall, tools)
    fingerprint_end = mlmon_fingerprint()
    report += f"\nmlmon source fingerprint: {fingerprint_start}"
    if fingerprint_end != fingerprint_start:
        report += (f" at the start, {fingerprint_end} at the end: **mlmon's source changed during "
                   "the run**; rerun for numbers from one version")
    report += (f"; 1-min load average {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
               f" (mlmon command: `{args.mlmon}`).\n")
    out = args.out or default_out()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"results written to {out}")
    print()
    print(report)
    if args.delete_data:
        for form in FORMS:
            files[form].unlink(missing_ok=True)
        print(f"deleted pred_{n}.* in {args.data}")


def find(measures: list[Measure], tool: str, task: str, form: str) -> Measure | None:
    return next((m for m in measures if (m.tool, m.task, m.form) == (tool, task, form)), None)


def render(args: argparse.Namespace, measures: list[Measure], help_wall: float | None,
           tools: list[str]) -> str:
    n = args.lines
    lines_out: list[str] = []
    mismatches: list[str] = []
    rows = []
    for m in measures:
        duck = find(measures, "duckdb", m.task, m.form)
        pand = find(measures, "pandas", m.task, m.form)
        r_duck = r_pand = r_cpu = agree = "–"
        if m.tool.startswith("mlmon"):
            if duck:
                r_duck = f"{m.wall / duck.wall:.2f}"
                r_cpu = f"{m.cpu / duck.cpu:.2f}"
            if pand:
                r_pand = f"{m.wall / pand.wall:.2f}"
        if m.tool in ("mlmon", "mlmon-py", "pandas") and duck:
            cmp = compare_summary if m.task == "summary" else compare_drift
            problems = cmp(m.result, duck.result)
            agree = verdict(m.task, problems)
            mismatches += [f"{m.tool} vs duckdb, {m.task} {m.form}: {p}" for p in problems]
        elif m.tool == "duckdb" and m.form != "jsonl":
            # DuckDB against itself across the three forms
            base = find(measures, "duckdb", m.task, "jsonl")
            if base:
                cmp = compare_summary if m.task == "summary" else compare_drift
                problems = cmp(m.result, base.result)
                agree = "= jsonl" if not problems else "**NO**"
                mismatches += [f"duckdb {m.form} vs duckdb jsonl, {m.task}: {p}" for p in problems]
        rss = "–" if m.task == "validate" else f"{m.rss:.0f}"  # the parser floor runs in memory
        rows.append([m.tool, m.task, m.form, fmt_wall(m.wall), f"{m.cpu:.2f}", rss,
                     fmt_rate(n, m.wall), r_duck, r_cpu, r_pand, agree])
    if help_wall is not None:
        rows.append(["mlmon", "--help", "–", fmt_wall(help_wall), "–", "–", "–", "–", "–", "–", "–"])

    head = ["tool", "task", "form", "wall s", "CPU s", "peak RSS MB", "lines/s", "mlmon/DuckDB",
            "CPU mlmon/DuckDB", "mlmon/pandas", "answers agree"]
    lines_out.append(f"## {n:,} lines × {args.features} features\n")
    lines_out.append(env_line(args))
    lines_out.append("")
    lines_out.append(f"`mlmon` rows: {reader_line(shlex.split(args.mlmon))}; `mlmon-py` rows: the same "
                     "mlmon with MLMON_READER=python (pyarrow reader).")
    lines_out.append("")
    lines_out.append("| " + " | ".join(head) + " |")
    lines_out.append("|" + "|".join("---" if i < 3 else "---:" for i in range(len(head) - 1)) + "|:---:|")
    for r in rows:
        lines_out.append("| " + " | ".join(r) + " |")
    lines_out.append("")
    lines_out.append(f"Wall = best of {args.repeat} whole-process run(s); CPU s = least user+system "
                     "CPU seconds of the runs (less sensitive to other load than wall); peak RSS = "
                     "the child's `ru_maxrss` from `os.wait4` (MiB); lines/s = lines in the file / wall. "
                     "pandas runs only on .jsonl"
                     + ("" if n <= args.skip_pandas_above else
                        f" and was skipped (--skip-pandas-above {args.skip_pandas_above:,})") + ".")
    if any(m.task == "validate" for m in measures):
        lines_out.append("")
        lines_out.append("`floor:*` validate rows: the validate-only floor (`benchmarks/parser_floor`): "
                         "a strict parser checking and skipping every line of the .jsonl, already in "
                         "memory, on one thread (best of 3 rounds; its wall and CPU are the same). No "
                         "strict reader runs below it; two cores could at best halve its wall time.")
    lines_out.append("")
    drift_tables(lines_out, measures)
    if mismatches:
        lines_out.append("### Mismatches\n")
        lines_out += [f"- {p}" for p in mismatches]
    elif any(m.tool == "duckdb" for m in measures) and "mlmon" in tools:
        lines_out.append("All checked answers agree (summary: records, success rate, p50/p95/p99/max "
                         "overall and per model_version within 1e-9 relative; drift: the drifted set, "
                         "and per feature n, KS D within 1e-9 and p within 1e-6 relative).")
    lines_out.append("")
    return "\n".join(lines_out)


def verdict(task: str, problems: list[str]) -> str:
    if not problems:
        return "yes"
    if task == "drift" and not any(p.startswith(("records", "drifted")) or " n:" in p or "missing" in p
                                   for p in problems):
        return "drifted set yes; KS D/p **NO**"
    return "**NO**"


def drift_tables(out: list[str], measures: list[Measure]) -> None:
    ml = [m for m in measures if m.tool == "mlmon" and m.task == "drift"]
    for m in ml[:1]:
        duck = find(measures, "duckdb", "drift", m.form)
        out.append(f"Drift detail ({m.form}; mlmon vs DuckDB+scipy `ks_2samp`, BH computed by the runner):\n")
        out.append("| feature | mlmon D | DuckDB+scipy D | mlmon p (KS and tail, BH) | runner KS p (BH) "
                   "| mlmon drift | runner drift |")
        out.append("|---|---:|---:|---:|---:|:---:|:---:|")
        for name, f in m.result["features"].items():
            d = duck.result["features"].get(name, {}) if duck else {}
            out.append(f"| {name} | {f['statistic']:.6f} | {_g(d.get('statistic'), '.6f')} | "
                       f"{f['p_value_adjusted']:.3g} | {_g(d.get('p_value_adjusted'), '.3g')} | "
                       f"{'yes' if f['drift'] else 'no'} | "
                       f"{'–' if not d else ('yes' if d['drift'] else 'no')} |")
        out.append("")


def _g(x: Any, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def compile_bytecode() -> None:
    """Run mlmon as `pip install .` leaves it: its modules compiled to bytecode once, not at every run.

    An editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every mlmon module
    in every timed run (about 0.2 CPU-s), which no installed copy pays."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(HERE.parent / "mlmon"), quiet=1)


def mlmon_fingerprint() -> str:
    """sha256 (12 hex) of the installed mlmon package's .py files, to tie numbers to a source state."""
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("mlmon")
    if spec is None or spec.origin is None:
        return "?"
    h = hashlib.sha256()
    for f in sorted(Path(spec.origin).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def reader_line(mlmon: list[str]) -> str:
    """What `mlmon --version` says about its JSON-lines reader."""
    try:
        out = subprocess.run([*mlmon, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "reader unknown"
    found = [ln for ln in out.splitlines() if ln.startswith("JSON-lines reader:")]
    return found[0] if found else "reader unknown (mlmon --version does not say)"


def env_line(args: argparse.Namespace) -> str:
    def version(mod: str) -> str:
        try:
            from importlib.metadata import version as v

            return v(mod)
        except Exception:
            return "?"

    try:
        rev = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(HERE), "status", "--porcelain", "--", "../mlmon"],
                               capture_output=True, text=True).stdout.strip()
        rev = f"git {rev}{' + uncommitted mlmon/ changes' if dirty else ''}"
    except OSError:
        rev = "?"
    cpu = ""
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import importlib.util

    spec = importlib.util.find_spec("mlmon")
    where = Path(spec.origin).parent if spec and spec.origin else None
    if where is not None and where.resolve() != (HERE.parent / "mlmon").resolve():
        rev = f"source in {where}"
    return (f"{os.cpu_count()} CPU ({cpu or platform.machine()}), Python {platform.python_version()}, "
            f"mlmon {version('mlmon')} ({rev}), duckdb {version('duckdb')}, "
            f"pandas {version('pandas')}, numpy {version('numpy')}, scipy {version('scipy')}; "
            f"files in page cache.")


if __name__ == "__main__":
    main()
