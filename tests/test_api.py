"""Record selection (--since, --until, --last, --window-rows) against a plain filter of the records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from mlmon.api import Selection
from mlmon.api.selection import _Selector
from mlmon.cli import app
from mlmon.read.records import SEQ, TIMESTAMP

START = datetime(2026, 11, 1, 10, 0, 0, tzinfo=UTC)
N = 3000


def _records(rng: np.random.Generator) -> list[dict[str, object]]:
    recs = []
    for i in range(N):
        recs.append(
            {
                "timestamp": (START + timedelta(seconds=i)).isoformat(),
                "model_version": "v1",
                "input": {"features": [float(i % 97), float(rng.normal())]},
                "latency_ms": float(i),
                "status": "success",
            }
        )
    order = rng.permutation(N)  # input need not be sorted
    return [recs[i] for i in order]


@pytest.fixture
def log(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, list[dict[str, object]]]:
    recs = _records(rng)
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path, recs


def _summary(args: list[str]) -> dict[str, object]:
    result = CliRunner().invoke(app, ["summary", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _expected(recs: list[dict[str, object]], lo: datetime, hi: datetime) -> np.ndarray:
    return np.array(
        [r["latency_ms"] for r in recs if lo <= datetime.fromisoformat(str(r["timestamp"])) <= hi]
    )


def test_last_ends_at_the_newest_record(log: tuple[Path, list[dict[str, object]]]) -> None:
    path, recs = log
    doc = _summary([str(path), "--last", "10m"])
    newest = START + timedelta(seconds=N - 1)
    want = _expected(recs, newest - timedelta(minutes=10), newest)
    assert doc["records"] == len(want) == 601
    assert doc["filtered_out"] == N - len(want)
    assert doc["latency_ms"]["p50"] == np.percentile(want, 50)
    assert doc["latency_ms"]["max"] == want.max()


def test_since_until_and_last_with_until(log: tuple[Path, list[dict[str, object]]]) -> None:
    path, recs = log
    lo, hi = START + timedelta(seconds=100), START + timedelta(seconds=250)
    doc = _summary([str(path), "--since", lo.isoformat(), "--until", hi.isoformat()])
    want = _expected(recs, lo, hi)
    assert doc["records"] == len(want) == 151
    assert doc["latency_ms"]["p95"] == np.percentile(want, 95)
    doc = _summary([str(path), "--last", "60s", "--until", hi.isoformat()])
    assert doc["records"] == len(_expected(recs, hi - timedelta(seconds=60), hi)) == 61


def test_naive_since_is_read_in_the_log_timezone(log: tuple[Path, list[dict[str, object]]]) -> None:
    path, _ = log  # records from 10:00 to 10:50 UTC
    # 11:00 in Berlin (CET in November) is 10:00 UTC: every record is at or after it
    doc = _summary([str(path), "--since", "2026-11-01 11:00:00", "--log-timezone", "Europe/Berlin"])
    assert doc["records"] == N
    # read as UTC, 11:00 is after the last record: an empty window
    result = CliRunner().invoke(app, ["summary", str(path), "--since", "2026-11-01 11:00:00"])
    assert result.exit_code == 1


def test_empty_range_is_a_records_alert(log: tuple[Path, list[dict[str, object]]]) -> None:
    path, _ = log
    result = CliRunner().invoke(app, ["summary", str(path), "--since", "2030-01-01T00:00:00Z"])
    assert result.exit_code == 1
    assert "0 records in the window" in result.stdout


def test_window_rows_equals_drift_on_the_newest_rows(
    tmp_path: Path, log: tuple[Path, list[dict[str, object]]]
) -> None:
    path, recs = log
    train = tmp_path / "train.csv"
    rng = np.random.default_rng(7)
    train.write_text("a,b\n" + "".join(f"{i % 97},{rng.normal()}\n" for i in range(2000)))
    newest = sorted(recs, key=lambda r: str(r["timestamp"]))[-1000:]
    only = tmp_path / "newest.jsonl"
    only.write_text("".join(json.dumps(r) + "\n" for r in newest))
    runner = CliRunner()
    a = runner.invoke(
        app, ["drift", str(path), "--reference", str(train), "--window-rows", "1000", "-f", "json"]
    )
    b = runner.invoke(app, ["drift", str(only), "--reference", str(train), "-f", "json"])
    da, db = json.loads(a.stdout), json.loads(b.stdout)
    assert da["records"] == 1000 and da["filtered_out"] == N - 1000
    for fa, fb in zip(da["features"], db["features"], strict=True):
        assert fa["n"] == fb["n"] == 1000
        assert fa["statistic"] == fb["statistic"] and fa["p_value"] == fb["p_value"]
        assert fa["mean"] == pytest.approx(fb["mean"], rel=1e-12)


def _table(ts: list[int | None], seq0: int) -> pa.Table:
    return pa.table(
        {
            TIMESTAMP: pa.array(ts, pa.timestamp("ns", tz="UTC")),
            SEQ: pa.array(np.arange(seq0, seq0 + len(ts)), pa.int64()),
        }
    )


def test_selector_window_rows_keeps_the_newest_across_many_tables(rng: np.random.Generator) -> None:
    ts = rng.permutation(5000).tolist()
    sel = _Selector(Selection(window_rows=100))
    out = []
    for start in range(0, 5000, 37):  # many small tables: pruning runs while reading
        out += sel.feed(_table(ts[start : start + 37], start))
    assert out == []
    kept = pa.concat_tables(sel.finish())
    got = sorted(pa.compute.cast(kept.column(TIMESTAMP), pa.int64()).to_pylist())
    assert got == list(range(4900, 5000))
    assert sel.filtered_out == 4900


def test_selector_last_prunes_but_keeps_the_window(rng: np.random.Generator) -> None:
    sec = 10**9
    ts = (rng.permutation(20000) * sec).tolist()
    sel = _Selector(Selection(last_ns=60 * sec))
    for start in range(0, 20000, 500):
        sel.feed(_table(ts[start : start + 500], start))
    kept = pa.concat_tables(sel.finish())
    got = sorted(pa.compute.cast(kept.column(TIMESTAMP), pa.int64()).to_pylist())
    assert got == [s * sec for s in range(19999 - 60, 20000)]
    assert sel.filtered_out == 20000 - 61


def test_last_drops_records_without_a_timestamp() -> None:
    sel = _Selector(Selection(last_ns=10**12))
    sel.feed(_table([None, 5, None, 7], 0))
    kept = pa.concat_tables(sel.finish())
    assert kept.num_rows == 2 and sel.filtered_out == 2


def test_window_rows_orders_by_exact_nanoseconds_with_missing_times() -> None:
    base = 1_793_527_200 * 10**9  # nanoseconds near 2026: floats would round them to 256 ns
    ts = [base + 3, None, base + 1, base + 2, base]
    sel = _Selector(Selection(window_rows=2))
    sel.feed(_table(ts, 0))
    kept = pa.concat_tables(sel.finish())
    assert pa.compute.cast(kept.column(TIMESTAMP), pa.int64()).to_pylist() == [base + 3, base + 2]


def test_training_json_lines_with_invalid_utf8_leaves_those_values_out(tmp_path):
    """A JSON-lines training file holding a Latin-1 byte in a string: that value is left out
    and said so (it was a crash, then the whole file refused); a column of nothing else is
    left out with the reason."""
    from mlmon import api

    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"a": 1.5, "b": "x", "c": "\xe9"}\n{"a": 2.5, "b": "v\xe9", "c": "\xff"}\n')
    b = api.load_training(str(path), exclude=set(), max_edges=None)
    assert b.columns == ("a", "b")
    assert dict(b.values_left_out) == {"b": "1 of 2 values not valid UTF-8"}
    assert dict(b.left_out) == {"c": "no value is valid UTF-8"}
    feature = b.features[1].categorical
    assert feature is not None and feature.counts == (("x", 1),) and feature.dropped == 1
