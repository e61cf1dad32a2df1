"""Scale: mlmon's local engine against --engine dask on a LocalCluster, and a read from object storage.

    python benchmarks/scale.py [--lines 10000000] [--files 40] [--workers 2] [--repeat 1] [--s3]

Makes LINES lines in FILES files (benchmarks/generate.py's log of LINES/FILES lines, copied FILES
times: each copy is a file of its own), then times, as whole processes on the same files:

* `mlmon summary DIR -f json` and `mlmon drift DIR --baseline B -f json` with the local engine;
* the same with `--engine dask --scheduler ADDRESS` on a `distributed.LocalCluster` of WORKERS
  single-threaded worker processes on 127.0.0.1 (started once, before the timings; its start is
  timed on its own), checking that the JSON is byte for byte the local engine's;
* with `--s3`, one file read from an S3-compatible server on 127.0.0.1 (moto's server mode) against
  the same file on disk: the cost of the fsspec path itself (not of a real store's network).

CPU s is user + system: of the mlmon process for the local engine; of the mlmon process plus the
workers (their getrusage, before and after) for the Dask engine. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _worker_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, bytes]:
    """Wall s, CPU s and stdout of one mlmon process."""
    cpu0, t0 = _cpu_children(), time.perf_counter()
    got = subprocess.run([sys.executable, "-m", "mlmon", *args], capture_output=True, env=env)
    wall, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    if got.returncode not in (0, 1):
        raise SystemExit(f"mlmon {' '.join(args)} failed ({got.returncode}): {got.stderr.decode()[-2000:]}")
    return wall, cpu, got.stdout


def make_logs(data: Path, lines: int, files: int) -> tuple[Path, Path]:
    """FILES copies of one generated log of LINES/FILES lines, and the training CSV."""
    per = lines // files
    folder = data / f"scale_{lines}_{files}"
    source = data / f"pred_{per}.jsonl"
    train = data / "train_8.csv"
    if not source.exists() or not train.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--lines", str(per), "--out", str(data)],
                       check=True)
    if not folder.exists() or len(list(folder.iterdir())) != files:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for k in range(files):
            shutil.copyfile(source, folder / f"part-{k:03d}.jsonl")
    return folder, train


def best(times: list[tuple[float, float, bytes]]) -> tuple[float, float, bytes]:
    return min(times, key=lambda t: t[0])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--tasks", default="summary,drift")
    ap.add_argument("--s3", action="store_true", help="also time one file read from a local S3 server")
    a = ap.parse_args(argv)
    import distributed

    folder, train = make_logs(a.data, a.lines, a.files)
    baseline = a.data / "scale_baseline.json"
    if not baseline.exists():
        run(["baseline", str(train), "-o", str(baseline)])
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    started = time.perf_counter() - t0
    client = distributed.Client(cluster.scheduler_address)
    rows = []
    try:
        for task in a.tasks.split(","):
            extra = ["--baseline", str(baseline)] if task == "drift" else []
            base = [task, str(folder), *extra, "-f", "json"]
            local = best([run(base) for _ in range(a.repeat)])
            timed = []
            for _ in range(a.repeat):
                before = sum(client.run(_worker_cpu).values())
                wall, cpu, out = run([*base, "--engine", "dask", "--scheduler", cluster.scheduler_address])
                cpu += sum(client.run(_worker_cpu).values()) - before
                timed.append((wall, cpu, out))
            dask = best(timed)
            rows.append((task, local, dask, dask[2] == local[2]))
    finally:
        client.close()
        cluster.close()
    gib = sum(p.stat().st_size for p in folder.iterdir()) / 2**30
    print(f"{a.lines:,} lines in {a.files} files ({gib:.2f} GiB), "
          f"{os.cpu_count()} cores, load average {load:.1f} at the start; LocalCluster({a.workers}) "
          f"started in {started:.1f} s (not in the times); best of {a.repeat}\n")
    print("| task | local s (CPU s) | dask s (CPU s) | dask/local wall | dask/local CPU "
          "| local lines per CPU-s | same JSON |")
    print("|---|---:|---:|---:|---:|---:|:---:|")
    for task, local, dask, same in rows:
        print(f"| {task} | {local[0]:.1f} ({local[1]:.1f}) | {dask[0]:.1f} ({dask[1]:.1f}) | "
              f"{dask[0] / local[0]:.2f} | {dask[1] / local[1]:.2f} | {a.lines / local[1] / 1e6:.2f} M | "
              f"{'yes' if same else 'NO'} |")
    if a.s3:
        s3_row(folder / "part-000.jsonl")


def s3_row(path: Path) -> None:
    """One file from an S3-compatible server on 127.0.0.1 against the same file on disk."""
    import socket

    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(path), "bench", path.name)
        disk = best([run(["summary", str(path), "-f", "json"], env) for _ in range(3)])
        remote = best([run(["summary", f"s3://bench/{path.name}", "-f", "json"], env) for _ in range(3)])
    finally:
        server.terminate()
        server.wait()
    size = path.stat().st_size / 2**20
    print(f"\nOne file ({size:.0f} MiB) from an S3-compatible server on 127.0.0.1, best of 3: "
          f"disk {disk[0]:.2f} s ({disk[1]:.2f} CPU s), s3:// {remote[0]:.2f} s ({remote[1]:.2f} CPU s "
          f"in mlmon; the server's own CPU not counted): {remote[0] / disk[0]:.2f}x wall")


if __name__ == "__main__":
    main()
