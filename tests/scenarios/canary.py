"""A day's log as a new user would meet it: a bad hour, a drift that lasts, and a canary that errs.

- 12 hours from 2026-11-01 00:00Z, 1,500 requests an hour, 90% on v1.0 (control) and 10% on v1.1.
- 03:00-04:00: latency doubles for every version (the bad hour).
- from 05:00 on: the feature `age` moves from N(40, 10) to N(45, 10) (half a standard deviation).
- v1.1 fails 5% of its requests, v1.0 0.5%; otherwise the versions behave and are fed alike.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2026, 11, 1, tzinfo=UTC)
HOURS = 12
PER_HOUR = 1500
BAD_HOUR = 3
DRIFT_FROM = 5


def write(folder: Path, seed: int = 11) -> tuple[Path, Path]:
    """The log and the training data (CSV) it was trained on."""
    rng = np.random.default_rng(seed)
    lines = []
    for h in range(HOURS):
        offsets = np.sort(rng.uniform(0, 3600, PER_HOUR))
        canary = rng.random(PER_HOUR) < 0.10
        latency = rng.lognormal(np.log(30), 0.5, PER_HOUR) * (2 if h == BAD_HOUR else 1)
        age = rng.normal(45 if h >= DRIFT_FROM else 40, 10, PER_HOUR)
        income = rng.lognormal(10, 0.4, PER_HOUR)
        fails = rng.random(PER_HOUR) < np.where(canary, 0.05, 0.005)
        cls = rng.choice(["cat", "dog"], PER_HOUR, p=[0.6, 0.4])
        conf = rng.beta(8, 2, PER_HOUR)
        for i in range(PER_HOUR):
            lines.append(json.dumps({
                "timestamp": (START + timedelta(hours=h, seconds=float(offsets[i]))).isoformat(),
                "model_version": "v1.1" if canary[i] else "v1.0",
                "input": {"features": {"age": round(float(age[i]), 2), "income": round(float(income[i]), 2)}},
                "prediction": {"class": str(cls[i]), "confidence": round(float(conf[i]), 3)},
                "latency_ms": round(float(latency[i]), 2),
                "status": "error" if fails[i] else "success",
            }))
    log = folder / "day.jsonl"
    log.write_text("\n".join(lines) + "\n")
    train = folder / "training.csv"
    n = 5000
    rows = zip(rng.normal(40, 10, n).round(2), rng.lognormal(10, 0.4, n).round(2), strict=True)
    train.write_text("age,income\n" + "".join(f"{a},{b}\n" for a, b in rows))
    return log, train
