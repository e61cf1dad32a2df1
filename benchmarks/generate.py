"""Generate large synthetic prediction logs for benchmarking mlmon.

    python benchmarks/generate.py --lines N --features K --out DIR [--seed S] [--gzip-level L]

Writes, deterministically for a given (N, K, seed):

* ``DIR/pred_N.jsonl``     N JSON-lines prediction records (the sample_logs shape).
* ``DIR/pred_N.log``       the same records behind a Python ``logging`` prefix
                           (``YYYY-MM-DD HH:MM:SS,mmm - __main__ - INFO - Prediction: {...}``).
* ``DIR/pred_N.jsonl.gz``  gzip of the .jsonl (level 1 by default).
* ``DIR/train_K.csv``      100000 training rows, header ``f0,...,f{K-1}``, undrifted.

Feature j ~ Normal(mu_j, sd_j) with mu_j in [-1, 1] and sd_j in [0.5, 2] drawn from the seed.
Drift: in the second half of the log (records N//2 ..), features f0 and f1 have their mean
shifted by +0.5 sd_j; all other features are undrifted.

Records are generated with numpy in batches and formatted with one %-format per line
(no json.dumps); gzip compression runs in a background thread (zlib releases the GIL).
"""

from __future__ import annotations

import argparse
import gzip
import queue
import threading
import time
from pathlib import Path

import numpy as np

BATCH = 100_000
N_TRAIN = 100_000
START = np.datetime64("2026-11-01T10:00:00.000", "ms")
DRIFT_FEATURES = 2
DRIFT_SHIFT_SD = 0.5
ERROR_RATE = 0.02
CLASS_P = [0.5, 0.3, 0.2]
LOG_PREFIX_TAIL = b" - __main__ - INFO - Prediction: "


def feature_params(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    mu = np.round(rng.uniform(-1.0, 1.0, k), 2)
    sd = np.round(rng.uniform(0.5, 2.0, k), 2)
    return mu, sd


def clean(a: np.ndarray, decimals: int) -> np.ndarray:
    """Round, and turn -0.0 into 0.0 so '%.4f' never prints '-0.0000'."""
    return np.round(a, decimals) + 0.0


def timestamps(first: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """ISO-ish timestamps (no offset) as an (n,) 'S23' array: one per second + random ms."""
    ms = (np.arange(first, first + n, dtype=np.int64) * 1000) + rng.integers(0, 1000, n)
    ts = START + ms.astype("timedelta64[ms]")
    return np.datetime_as_string(ts, unit="ms").astype("S23")


def to_asctime(iso: np.ndarray) -> np.ndarray:
    """'2026-11-01T10:00:00.123' -> '2026-11-01 10:00:00,123', vectorised on the bytes."""
    b = iso.copy().view(np.uint8).reshape(-1, 23)
    b[:, 10] = ord(" ")
    b[:, 19] = ord(",")
    return b.view("S23").ravel()


def line_format(k: int) -> str:
    feats = ", ".join(["%.4f"] * k)
    return (
        '{"timestamp": "%s+00:00", "model_version": "%s", "input": {"features": ['
        + feats
        + ']}, "prediction": {"class": %d, "confidence": %.3f}, "latency_ms": %.2f, '
        '"status": "%s"}\n'
    )


def make_batch(
    rng: np.random.Generator,
    first: int,
    n: int,
    total: int,
    mu: np.ndarray,
    sd: np.ndarray,
    fmt: str,
) -> tuple[bytes, bytes]:
    k = mu.size
    x = rng.standard_normal((n, k)) * sd + mu
    drifted = np.arange(first, first + n) >= total // 2
    x[drifted, :DRIFT_FEATURES] += DRIFT_SHIFT_SD * sd[:DRIFT_FEATURES]
    x = clean(x, 4)
    iso = timestamps(first, n, rng)
    asct = to_asctime(iso)
    version = np.where(np.arange(first, first + n) % 2 == 0, "v1.0", "v2.0")
    cls = rng.choice(3, n, p=CLASS_P)
    conf = clean(rng.beta(8.0, 2.0, n), 3)
    lat = clean(rng.gamma(2.0, 15.0, n), 2)
    status = np.where(rng.random(n) < ERROR_RATE, "error", "success")

    cols = [iso.astype(str).tolist(), version.tolist()]
    cols += x.T.tolist()
    cols += [cls.tolist(), conf.tolist(), lat.tolist(), status.tolist()]
    lines = [fmt % row for row in zip(*cols, strict=True)]
    jsonl = "".join(lines).encode()
    prefixes = [a + LOG_PREFIX_TAIL for a in asct.tolist()]
    log = b"".join([p + s.encode() for p, s in zip(prefixes, lines, strict=True)])
    return jsonl, log


def gzip_worker(path: Path, level: int, q: queue.Queue[bytes | None]) -> None:
    with gzip.GzipFile(path, "wb", compresslevel=level, mtime=0) as gz:
        while (chunk := q.get()) is not None:
            gz.write(chunk)


def write_training(path: Path, rng: np.random.Generator, mu: np.ndarray, sd: np.ndarray) -> None:
    k = mu.size
    fmt = ",".join(["%.4f"] * k) + "\n"
    with open(path, "wb") as fh:
        fh.write((",".join(f"f{j}" for j in range(k)) + "\n").encode())
        for start in range(0, N_TRAIN, BATCH):
            n = min(BATCH, N_TRAIN - start)
            x = clean(rng.standard_normal((n, k)) * sd + mu, 4)
            fh.write("".join(fmt % tuple(row) for row in x.tolist()).encode())


def human(nbytes: int) -> str:
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{nbytes} B"
        size /= 1024
    raise AssertionError


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/data"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gzip-level", type=int, default=1, choices=range(1, 10))
    args = ap.parse_args(argv)
    n, k = args.lines, args.features
    if n < 1 or k < 1:
        ap.error("--lines and --features must be >= 1")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng_params, rng_log, rng_train = (
        np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(3)
    )
    mu, sd = feature_params(rng_params, k)
    fmt = line_format(k)

    t0 = time.perf_counter()
    jsonl_path = out / f"pred_{n}.jsonl"
    log_path = out / f"pred_{n}.log"
    gz_path = out / f"pred_{n}.jsonl.gz"
    train_path = out / f"train_{k}.csv"

    q: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    gz_thread = threading.Thread(target=gzip_worker, args=(gz_path, args.gzip_level, q))
    gz_thread.start()
    try:
        with open(jsonl_path, "wb") as fj, open(log_path, "wb") as fl:
            for first in range(0, n, BATCH):
                jsonl, log = make_batch(rng_log, first, min(BATCH, n - first), n, mu, sd, fmt)
                fj.write(jsonl)
                fl.write(log)
                q.put(jsonl)
    finally:
        q.put(None)
        gz_thread.join()
    write_training(train_path, rng_train, mu, sd)
    elapsed = time.perf_counter() - t0

    for p in (jsonl_path, log_path, gz_path, train_path):
        print(f"{p}  {human(p.stat().st_size)} ({p.stat().st_size:,} bytes)")
    print(f"gzip level {args.gzip_level}; {n:,} lines x {k} features in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
