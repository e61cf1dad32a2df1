"""CSV and Parquet logs with typed columns: native timestamps, integers, booleans, dictionaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpus import cli

ROOT = Path(__file__).resolve().parents[2]
N = 400
START = 1_793_527_200  # 2026-11-01T10:00:00Z


def _serving(ts: pa.Array) -> pa.Table:
    rng = np.random.default_rng(7)
    status = np.where(rng.random(N) < 0.95, "success", "error")
    return pa.table(
        {
            "timestamp": ts,
            "model_version": pa.array(np.where(np.arange(N) % 4 == 0, "v2", "v1")).dictionary_encode(),
            "latency_ms": pa.array(rng.integers(5, 300, N), pa.int32()),
            "status": pa.array(status).dictionary_encode(),
            "success": pa.array(status == "success"),
            "prediction": pa.array(rng.integers(0, 3, N), pa.int64()),
        }
    )


def _seconds() -> np.ndarray:
    return START + np.arange(N, dtype=np.int64)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Berlin"])
def test_parquet_native_timestamps(tmp_path: Path, unit: str, tz: str | None) -> None:
    scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    ts = pa.array(_seconds() * scale, pa.timestamp(unit, tz=tz))
    path = tmp_path / "log.parquet"
    pq.write_table(_serving(ts), path)
    r = cli(["summary", str(path), "-f", "json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["records"] == N
    assert doc["first_timestamp"].startswith("2026-11-01T10:00:00")  # the instant, not shifted
    assert doc["last_timestamp"].startswith("2026-11-01T10:06:39")
    assert {g["group"] for g in doc["groups"]} == {"v1", "v2"}
    lat = _serving(ts).column("latency_ms").to_numpy()
    assert doc["latency_ms"]["p50"] == pytest.approx(float(np.percentile(lat, 50)))
    # the time selection works on native timestamps too
    last = json.loads(cli(["summary", str(path), "-f", "json", "--last", "60s"]).stdout)
    assert last["records"] == 61


def test_naive_parquet_timestamps_are_read_in_the_log_timezone(tmp_path: Path) -> None:
    ts = pa.array(_seconds() * 10**6, pa.timestamp("us"))
    path = tmp_path / "log.parquet"
    pq.write_table(_serving(ts), path)
    doc = json.loads(cli(["summary", str(path), "-f", "json", "--log-timezone", "Europe/Berlin"]).stdout)
    assert doc["first_timestamp"].startswith("2026-11-01T09:00:00")  # 10:00 in Berlin (CET) is 09:00Z


def test_parquet_feature_log_with_typed_columns_drifts(tmp_path: Path) -> None:
    import pyarrow.csv as pcsv

    training = pcsv.read_csv(ROOT / "sample_logs/training.csv")
    feats = pcsv.read_csv(ROOT / "sample_logs/features.csv")
    n = feats.num_rows
    feats = feats.set_column(
        feats.schema.get_field_index("timestamp"),
        "timestamp",
        pa.array((START + np.arange(n)) * 10**9, pa.timestamp("ns", tz="UTC")),
    )
    clicks = pa.array(np.asarray(feats.column("clicks").to_numpy(), dtype=np.int64), pa.int64())
    feats = feats.set_column(feats.schema.get_field_index("clicks"), "clicks", clicks)
    path = tmp_path / "features.parquet"
    pq.write_table(feats, path)
    r = cli(["drift", str(path), "--reference", str(ROOT / "sample_logs/training.csv"), "-f", "json"])
    assert r.exit_code in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    assert doc["records"] == n
    names = {f["name"] for f in doc["features"]}
    assert names == set(training.column_names) - {"timestamp"}
    assert all(f["status"] == "ok" for f in doc["features"])


def test_typed_categories_and_booleans_in_parquet_and_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 600
    country = rng.choice(["US", "DE", "FR"], n)
    mobile = rng.random(n) < 0.4
    amount = rng.integers(10**15, 2 * 10**15, n)  # integers past 2**53
    train = pa.table({"country": pa.array(country), "mobile": pa.array(mobile), "amount": pa.array(amount)})
    pq.write_table(train, tmp_path / "train.parquet")
    assert cli(["baseline", str(tmp_path / "train.parquet"), "-o", str(tmp_path / "b.json")]).exit_code == 0
    log = pa.table(
        {
            "timestamp": pa.array((START + np.arange(n)) * 1000, pa.timestamp("ms", tz="UTC")),
            "country": pa.array(country).dictionary_encode(),
            "mobile": pa.array(mobile),
            "amount": pa.array(amount, pa.int64()),
        }
    )
    pq.write_table(log, tmp_path / "log.parquet")
    with open(tmp_path / "log.csv", "w") as fh:
        fh.write("timestamp,country,mobile,amount\n")
        for i in range(n):
            when = f"2026-11-01 10:{i // 60 % 60:02d}:{i % 60:02d}"
            fh.write(f"{when},{country[i]},{str(mobile[i]).lower()},{amount[i]}\n")
    for name in ("log.parquet", "log.csv"):
        r = cli(["drift", str(tmp_path / name), "-b", str(tmp_path / "b.json"), "-f", "json"])
        assert r.exit_code == 0, (name, r.stderr)
        doc = json.loads(r.stdout)
        by = {f["name"]: f for f in doc["features"]}
        assert doc["records"] == n
        assert by["country"]["status"] == "ok" and not by["country"]["drift"]
        assert by["mobile"]["status"] == "ok" and not by["mobile"]["drift"], by["mobile"]
        assert by["amount"]["mean"] == pytest.approx(float(amount.mean()), rel=1e-12)
