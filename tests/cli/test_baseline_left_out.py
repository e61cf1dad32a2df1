"""`mlmon baseline` on training data: every column that is not in the baseline is named with
the reason (stderr and the baseline file), and nothing usable left is bad data (65)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from corpus import cli

from mlmon.stats import baseline as bl

ROOT = Path(__file__).resolve().parents[2]


def test_csv_columns_left_out_are_named_with_the_reason(tmp_path: Path) -> None:
    rows = [b"age,city,empty,day,blob,mostly"]
    for i in range(20):
        mostly = b"\xfe" if i == 3 else b"m%d" % (i % 3)
        rows.append(b"%d,c%d,,2026-01-%02d,\xff%d,%s" % (30 + i, i % 4, i + 1, i, mostly))
    (tmp_path / "t.csv").write_bytes(b"\n".join(rows) + b"\n")
    r = cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == 0, r.stderr
    assert "column 'empty' left out of the baseline: no values" in r.stderr
    assert "column 'day' left out of the baseline: dates and times" in r.stderr
    assert "column 'blob' left out of the baseline: no value is valid UTF-8" in r.stderr
    assert "feature 'mostly': 1 of 20 values not valid UTF-8" in r.stderr
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["columns"] == ["age", "city", "mostly"]
    assert set(doc["left_out"]) == {"empty", "day", "blob"}
    assert doc["values_left_out"] == {"mostly": "1 of 20 values not valid UTF-8"}
    assert doc["features"]["mostly"]["n"] == 19 and doc["features"]["mostly"]["dropped"] == 1
    loaded = bl.load(str(tmp_path / "b.json"))  # the schema takes the new keys; the checksum holds
    assert dict(loaded.left_out) == doc["left_out"]


def test_every_column_left_out_is_bad_data(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"e,f\n,\xff\n,\xfe\n")
    r = cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == 65
    assert "no feature columns to profile" in r.stderr and "'e': no values" in r.stderr
    assert "'f': no value is valid UTF-8" in r.stderr
    assert not (tmp_path / "b.json").exists()


def test_parquet_decimals_are_numbers_and_nested_columns_are_named(tmp_path: Path) -> None:
    from decimal import Decimal

    t = pa.table({
        "price": pa.array([Decimal("1.50"), Decimal("2.25"), None], pa.decimal128(5, 2)),
        "tags": pa.array([["a"], ["b", "c"], []]),
        "when": pa.array([1, 2, 3], pa.timestamp("s")),
        "x": pa.array([1.0, 2.0, 3.0]),
    })
    pq.write_table(t, tmp_path / "t.parquet")
    r = cli(["baseline", str(tmp_path / "t.parquet"), "-o", str(tmp_path / "b.json"), "--exclude", "when"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads((tmp_path / "b.json").read_text())
    assert doc["columns"] == ["price", "x"]
    assert doc["features"]["price"]["kind"] == "numeric"
    assert doc["features"]["price"]["mean"] == pytest.approx((1.5 + 2.25) / 2)
    assert list(doc["left_out"]) == ["tags"] and "lists and objects" in doc["left_out"]["tags"]


def test_a_baseline_with_nothing_left_out_has_no_new_keys(tmp_path: Path) -> None:
    r = cli(["baseline", str(ROOT / "sample_logs" / "training.csv"), "-o", str(tmp_path / "b.json")])
    assert r.exit_code == 0 and "left out" not in r.stderr
    doc = json.loads((tmp_path / "b.json").read_text())
    assert "left_out" not in doc and "values_left_out" not in doc
