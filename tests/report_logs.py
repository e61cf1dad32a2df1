"""Generated logs for the HTML report and watch tests (and docs/make_screenshots.py): a training
CSV and a prediction log with named features that drift after some hours, optionally hostile."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2026, 11, 1, 0, 0, 0, tzinfo=UTC)
COUNTRIES = ["US", "DE", "FR", "GB", "IN"]
SHARES = [0.4, 0.2, 0.15, 0.15, 0.1]
HOSTILE_TEXT = (
    "<script>alert(1)</script>",
    "</svg><img src=x onerror=alert(2)>",
    "javascript:alert(3)",
    "\u202eevil\u202c",
    "$x^2$ & \"quoted\" 'single'",
)


def feature_names(n_numeric: int) -> list[str]:
    base = ["age", "income", "session_length"]
    return (base + [f"score_{i}" for i in range(n_numeric - len(base))])[:n_numeric]


def _numeric(rng: np.random.Generator, name: str, n: int, shift: float) -> np.ndarray:
    if name == "income":
        return np.round(rng.lognormal(10.8 + shift * 0.5, 0.5, n), 2)
    if name == "age":
        return np.round(rng.normal(40 + shift * 12, 12, n), 1)
    if name == "session_length":
        return np.round(rng.gamma(2.0, 90.0 * (1 + shift), n), 1)
    return np.round(rng.normal(shift, 1.0, n), 4)


def write_training(path: Path, *, n_numeric: int = 3, rows: int = 3000, seed: int = 1,
                   hostile_column: bool = False) -> list[str]:
    """A training CSV: `n_numeric` numeric features and a categorical `country` (plus a
    hostile-named numeric column); returns the feature names."""
    rng = np.random.default_rng(seed)
    names = feature_names(n_numeric)
    cols = {n: _numeric(rng, n, rows, 0.0) for n in names}
    cols["country"] = rng.choice(COUNTRIES, rows, p=SHARES)
    if hostile_column:
        cols[HOSTILE_TEXT[0]] = np.round(rng.normal(0, 1, rows), 3)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(cols))
        for i in range(rows):
            w.writerow([cols[c][i] for c in cols])
    return list(cols)


def log_lines(*, hours: float = 8, per_hour: int = 360, n_numeric: int = 3, drift_after: float = 4.0,
              seed: int = 2, hostile: bool = False, start: datetime = START) -> list[str]:
    """JSON lines over `hours`: v1.0 throughout, a canary v2.0 (slower, more errors) from half way;
    after `drift_after` hours age, income and session_length shift and a new country "XX"
    appears. With `hostile`, hostile text in model versions, categories and a feature name."""
    rng = np.random.default_rng(seed)
    names = feature_names(n_numeric)
    n = int(hours * per_hour)
    out = []
    step = 3600.0 / per_hour
    for i in range(n):
        t = start + timedelta(seconds=i * step)
        h = i / per_hour
        shift = 1.0 if h >= drift_after else 0.0
        version = "v2.0" if h >= hours / 2 and i % 3 == 0 else "v1.0"
        if hostile and i % 97 == 5:
            version = HOSTILE_TEXT[i % len(HOSTILE_TEXT)]
        feats: dict[str, object] = {nm: float(_numeric(rng, nm, 1, shift)[0]) for nm in names}
        if shift and rng.random() < 0.1:
            country = "XX"
        else:
            country = str(rng.choice(COUNTRIES, p=SHARES))
        if hostile and i % 50 == 7:
            country = HOSTILE_TEXT[(i // 50) % len(HOSTILE_TEXT)]
        feats["country"] = country
        if hostile:
            feats[HOSTILE_TEXT[0]] = float(np.round(rng.normal(0, 1), 3))
        scale = 22.0 if version == "v2.0" else 15.0
        err = 0.06 if version == "v2.0" else 0.01
        rec = {
            "timestamp": t.isoformat(timespec="milliseconds"),
            "model_version": version,
            "input": {"features": feats},
            "prediction": {"class": int(rng.choice(3, p=[0.5, 0.3, 0.2])),
                           "confidence": round(float(rng.beta(8 - 2 * shift, 2)), 3)},
            "latency_ms": round(float(rng.gamma(2.0, scale)), 2),
            "status": "error" if rng.random() < err else "success",
        }
        out.append(json.dumps(rec))
    if hostile:
        out.append('{"timestamp": "2026-11-01T01:00:00Z", "model_version": "<script>alert(4)</script>", '
                   '"latency_ms": NaN, "status": "\u202eevil"}')
    return out


def write_log(path: Path, **kw: object) -> int:
    lines = log_lines(**kw)  # type: ignore[arg-type]
    path.write_text("\n".join(lines) + "\n")
    return len(lines)
