"""Generate the deterministic sample logs shipped in ``sample_logs/``.

Run from anywhere: ``python sample_logs/make_samples.py``. Uses only the stdlib and numpy,
with a fixed seed, so the output files are byte-for-byte reproducible.

Files written next to this script:

* ``training.csv``            5000 training rows, 8 numeric features.
* ``predictions.jsonl``       2000 prediction records (JSON lines); the second half drifts.
* ``predictions.log``         the same records behind a Python ``logging`` prefix, plus a few
                              non-record lines (startup lines and one traceback).
* ``features.csv``            500 rows of per-request features logged to CSV, no drift.
* ``training_mixed.csv``      2000 rows: numeric ``amount``/``hour``, categorical
                              ``country``/``is_mobile``.
* ``predictions_named.jsonl`` 1000 records with named features; the second half drifts in
                              ``country`` only.
* ``predictions_ids.jsonl``   2000 predictions of a binary model over four hours, each with a
                              ``request_id``; right 90% of the time for two hours, then 78%.
* ``labels.csv``              the true ``label`` of 1,400 of them (70%, as labels arrive later),
                              one label repeated and one for a request not in the log.

Injected drift in ``predictions.jsonl`` / ``predictions.log`` (records 1000..1999):

* ``age`` and ``income``: mean shifted by +0.8 x the training standard deviation.
* ``session_length``: standard deviation x1.8 at the same mean (gamma shape / 3.24,
  scale x 3.24).
* the other five features: unchanged.
* class shares 50/30/20 -> 40/30/30 %, confidence Beta(8, 2) -> Beta(6, 2.5),
  model v2.0 (every other record in the second half) has latency Gamma(2, 22) instead of
  Gamma(2, 15).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

SEED = 20261101
OUT_DIR = Path(__file__).resolve().parent

N_TRAIN = 5000
N_PRED = 2000
N_FEATURES_CSV = 500
N_TRAIN_MIXED = 2000
N_PRED_NAMED = 1000

START = datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC)

FEATURES = [
    "age",
    "income",
    "session_length",
    "clicks",
    "tenure_days",
    "score_a",
    "score_b",
    "score_c",
]
INT_FEATURES = {"clicks", "tenure_days"}

# Drift in the second half of predictions.jsonl.
MEAN_SHIFT_SD = 0.8  # age, income: mean + 0.8 training sd
SESSION_SD_FACTOR = 1.8  # session_length: sd x 1.8, same mean

SESSION_SHAPE = 2.0
SESSION_SCALE = 90.0  # seconds -> mean 180 s

CLASS_P_BEFORE = [0.5, 0.3, 0.2]
CLASS_P_AFTER = [0.4, 0.3, 0.3]
CONF_BETA_BEFORE = (8.0, 2.0)
CONF_BETA_AFTER = (6.0, 2.5)
LATENCY_SHAPE = 2.0
LATENCY_SCALE = {"v1.0": 15.0, "v2.0": 22.0}
ERROR_RATE = 0.02

COUNTRIES = ["US", "DE", "FR", "GB", "IN", "BR"]
COUNTRY_P_BEFORE = [0.40, 0.18, 0.14, 0.12, 0.10, 0.06]
# Second half: US share halved, new category "XX" at 8 %, the rest scaled up to fill.
_REST = 1.0 - COUNTRY_P_BEFORE[0] / 2 - 0.08
_REST_SCALE = _REST / sum(COUNTRY_P_BEFORE[1:])
COUNTRIES_AFTER = COUNTRIES + ["XX"]
COUNTRY_P_AFTER = (
    [COUNTRY_P_BEFORE[0] / 2] + [p * _REST_SCALE for p in COUNTRY_P_BEFORE[1:]] + [0.08]
)
# Requests per hour of day (unequal, daytime peak), normalised below.
HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 8, 9, 9, 8, 6, 4, 3], dtype=float
)


# --------------------------------------------------------------------------- helpers


def iso_ms(ts: datetime) -> str:
    """``2026-11-01T10:00:00.000+00:00``"""
    return ts.isoformat(timespec="milliseconds")


def log_asctime(ts: datetime) -> str:
    """``2026-11-01 10:00:00,000`` (Python logging's default asctime format)."""
    return ts.strftime("%Y-%m-%d %H:%M:%S") + f",{ts.microsecond // 1000:03d}"


def r(x: float, nd: int) -> float:
    """Round, and turn -0.0 into 0.0."""
    return round(float(x), nd) + 0.0


def draw_features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The undrifted (training) feature distributions."""
    return {
        "age": np.clip(rng.normal(40.0, 12.0, n), 18.0, 90.0),
        "income": rng.lognormal(np.log(50_000.0), 0.5, n),
        "session_length": rng.gamma(SESSION_SHAPE, SESSION_SCALE, n),
        "clicks": rng.poisson(3.0, n).astype(float),
        "tenure_days": np.floor(rng.exponential(400.0, n)),
        "score_a": rng.normal(0.0, 1.0, n),
        "score_b": rng.normal(0.5, 1.2, n),
        "score_c": rng.normal(-0.3, 0.8, n),
    }


def draw_features_drifted(
    rng: np.random.Generator, n: int, train_sd: dict[str, float]
) -> dict[str, np.ndarray]:
    cols = draw_features(rng, n)
    cols["age"] = np.clip(cols["age"] + MEAN_SHIFT_SD * train_sd["age"], 18.0, 90.0)
    cols["income"] = cols["income"] + MEAN_SHIFT_SD * train_sd["income"]
    # Same mean (k * theta), sd x f: shape / f^2, scale * f^2.
    f2 = SESSION_SD_FACTOR**2
    cols["session_length"] = rng.gamma(SESSION_SHAPE / f2, SESSION_SCALE * f2, n)
    return cols


def fmt_csv_value(name: str, v: float) -> str:
    if name in INT_FEATURES:
        return str(int(v))
    return repr(r(v, 4))


def write_text(path: Path, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- files


def make_training(rng: np.random.Generator) -> dict[str, np.ndarray]:
    cols = draw_features(rng, N_TRAIN)
    lines = [",".join(FEATURES)]
    for i in range(N_TRAIN):
        lines.append(",".join(fmt_csv_value(f, cols[f][i]) for f in FEATURES))
    write_text(OUT_DIR / "training.csv", lines)
    return cols


def make_predictions(rng: np.random.Generator, train: dict[str, np.ndarray]) -> list[dict]:
    half = N_PRED // 2
    train_sd = {f: float(np.std(train[f])) for f in FEATURES}
    first = draw_features(rng, half)
    second = draw_features_drifted(rng, N_PRED - half, train_sd)
    feats = {f: np.concatenate([first[f], second[f]]) for f in FEATURES}

    versions = ["v1.0"] * half + ["v1.0" if j % 2 == 0 else "v2.0" for j in range(N_PRED - half)]
    classes = np.concatenate(
        [rng.choice(3, half, p=CLASS_P_BEFORE), rng.choice(3, N_PRED - half, p=CLASS_P_AFTER)]
    )
    conf = np.concatenate(
        [rng.beta(*CONF_BETA_BEFORE, half), rng.beta(*CONF_BETA_AFTER, N_PRED - half)]
    )
    lat_scale = np.array([LATENCY_SCALE[v] for v in versions])
    latency = rng.gamma(LATENCY_SHAPE, 1.0, N_PRED) * lat_scale
    is_error = rng.random(N_PRED) < ERROR_RATE

    records = []
    for i in range(N_PRED):
        ts = START + timedelta(seconds=i)
        records.append(
            {
                "timestamp": iso_ms(ts),
                "model_version": versions[i],
                "input": {"features": [r(feats[f][i], 4) for f in FEATURES]},
                "prediction": {"class": int(classes[i]), "confidence": r(conf[i], 3)},
                "latency_ms": r(latency[i], 2),
                "status": "error" if is_error[i] else "success",
            }
        )

    write_text(OUT_DIR / "predictions.jsonl", [json.dumps(rec) for rec in records])

    prefix = "{} - __main__ - {} - {}"
    started = log_asctime(START - timedelta(milliseconds=500))
    lines = [prefix.format(started, "INFO", "Model loaded from /models/v1.0")]
    for i, rec in enumerate(records):
        ts = START + timedelta(seconds=i)
        if i == half:
            loaded = log_asctime(ts - timedelta(milliseconds=500))
            lines.append(prefix.format(loaded, "INFO", "Model loaded from /models/v2.0"))
        lines.append(prefix.format(log_asctime(ts), "INFO", "Prediction: " + json.dumps(rec)))
        if i == 699:  # after record 700
            failed = log_asctime(ts + timedelta(milliseconds=500))
            lines.append(prefix.format(failed, "ERROR", "Prediction failed"))
            lines += [
                "Traceback (most recent call last):",
                '  File "/app/serve.py", line 42, in predict',
                '    raise ValueError("bad input")',
                "ValueError: bad input",
            ]
    write_text(OUT_DIR / "predictions.log", lines)
    return records


def make_features_csv(rng: np.random.Generator) -> None:
    cols = draw_features(rng, N_FEATURES_CSV)
    lines = ["timestamp," + ",".join(FEATURES)]
    for i in range(N_FEATURES_CSV):
        ts = iso_ms(START + timedelta(seconds=i))
        lines.append(ts + "," + ",".join(fmt_csv_value(f, cols[f][i]) for f in FEATURES))
    write_text(OUT_DIR / "features.csv", lines)


def draw_mixed(rng: np.random.Generator, n: int, countries: list[str], p: list[float]) -> dict:
    return {
        "amount": np.round(rng.lognormal(np.log(40.0), 0.9, n), 2),
        "hour": rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()),
        "country": rng.choice(countries, n, p=p),
        "is_mobile": rng.random(n) < 0.6,
    }


def make_mixed(rng: np.random.Generator) -> None:
    cols = draw_mixed(rng, N_TRAIN_MIXED, COUNTRIES, COUNTRY_P_BEFORE)
    lines = ["amount,hour,country,is_mobile"]
    for i in range(N_TRAIN_MIXED):
        lines.append(
            f"{r(cols['amount'][i], 2)!r},{int(cols['hour'][i])},"
            f"{cols['country'][i]},{bool(cols['is_mobile'][i])}"
        )
    write_text(OUT_DIR / "training_mixed.csv", lines)

    half = N_PRED_NAMED // 2
    a = draw_mixed(rng, half, COUNTRIES, COUNTRY_P_BEFORE)
    b = draw_mixed(rng, N_PRED_NAMED - half, COUNTRIES_AFTER, COUNTRY_P_AFTER)
    feats = {k: np.concatenate([a[k], b[k]]) for k in a}
    classes = rng.choice(3, N_PRED_NAMED, p=CLASS_P_BEFORE)
    conf = rng.beta(*CONF_BETA_BEFORE, N_PRED_NAMED)
    latency = rng.gamma(LATENCY_SHAPE, LATENCY_SCALE["v1.0"], N_PRED_NAMED)
    is_error = rng.random(N_PRED_NAMED) < ERROR_RATE
    out = []
    for i in range(N_PRED_NAMED):
        rec = {
            "timestamp": iso_ms(START + timedelta(seconds=i)),
            "model_version": "v1.0",
            "input": {
                "features": {
                    "amount": r(feats["amount"][i], 2),
                    "hour": int(feats["hour"][i]),
                    "country": str(feats["country"][i]),
                    "is_mobile": bool(feats["is_mobile"][i]),
                }
            },
            "prediction": {"class": int(classes[i]), "confidence": r(conf[i], 3)},
            "latency_ms": r(latency[i], 2),
            "status": "error" if is_error[i] else "success",
        }
        out.append(json.dumps(rec))
    write_text(OUT_DIR / "predictions_named.jsonl", out)


def make_labelled(rng: np.random.Generator) -> None:
    """A binary model's predictions with request ids, and the labels that came in later."""
    preds: list[str] = []
    labels: list[str] = ["request_id,label"]
    for i in range(2000):
        ts = START + timedelta(seconds=7.2 * i)
        truth = int(rng.random() < 0.4)
        right = rng.random() < (0.90 if i < 1000 else 0.78)
        pred = truth if right else 1 - truth
        conf = float(np.clip(rng.normal(0.88 if right else 0.72, 0.08), 0.5, 0.999))
        rid = f"req-{i:05d}"
        preds.append(json.dumps({
            "timestamp": iso_ms(ts), "request_id": rid, "model_version": "v3.1",
            "prediction": {"class": pred, "confidence": r(conf, 3)},
            "latency_ms": r(float(rng.gamma(2.0, 12.0)), 2), "status": "success",
        }))
        if rng.random() < 0.7:
            labels.append(f"{rid},{truth}")
    labels.append(labels[1])  # delivered twice: used once
    labels.append("req-99999,1")  # a request not in the log
    write_text(OUT_DIR / "predictions_ids.jsonl", preds)
    write_text(OUT_DIR / "labels.csv", labels)


def main() -> None:
    rng_train, rng_pred, rng_feat, rng_mixed = (
        np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(4)
    )
    train = make_training(rng_train)
    make_predictions(rng_pred, train)
    make_features_csv(rng_feat)
    make_mixed(rng_mixed)
    make_labelled(np.random.default_rng(SEED + 22))
    for name in (
        "training.csv",
        "predictions.jsonl",
        "predictions.log",
        "features.csv",
        "training_mixed.csv",
        "predictions_named.jsonl",
        "predictions_ids.jsonl",
        "labels.csv",
    ):
        path = OUT_DIR / name
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
