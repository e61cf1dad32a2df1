"""Baselines: profiles, JSON save/load round-trip, refusing anything that is not a baseline."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from mlmon.errors import BaselineError, NoInputError
from mlmon.read.records import Kind, normalize_category
from mlmon.stats import baseline as bl


def sample_baseline(rng: np.random.Generator, max_edges: int | None = bl.GRID_EDGES) -> bl.Baseline:
    n = 3000
    table = pa.table({
        "x": rng.normal(5, 2, n),
        "k": rng.integers(0, 7, n),
        "w": pa.array(np.where(rng.random(n) < 0.1, np.nan, rng.exponential(3, n))),
        "country": rng.choice(np.array(["US", "DE", "FR"], dtype=object), n).tolist(),
        "mobile": (rng.random(n) < 0.3).tolist(),
        "ts": pa.array(np.arange(n), pa.int64()),
    })
    return bl.build(table, source="train.parquet", max_edges=max_edges, exclude={"ts"})


def _checksum(body: dict) -> str:
    payload = {k: v for k, v in body.items() if k != "checksum"}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------- profiles


def test_numeric_profile_exact_by_hand() -> None:
    p = bl.numeric_profile(np.array([3.0, 1.0, 2.0, 2.0, np.nan, np.inf, 2.0]), max_edges=None)
    assert (p.n, p.dropped, p.exact) == (5, 2, True)
    assert tuple(p.edges) == (1.0, 2.0, 3.0)
    assert p.cdf == pytest.approx((0.2, 0.8, 1.0))
    assert (p.min, p.max) == (1.0, 3.0)
    assert p.mean == pytest.approx(2.0)
    assert p.std == pytest.approx(np.std([3, 1, 2, 2, 2], ddof=1))


def test_numeric_profile_grid(rng: np.random.Generator) -> None:
    x = rng.normal(size=20000)
    p = bl.numeric_profile(x, max_edges=101)
    assert not p.exact
    assert len(p.edges) <= 101
    assert p.edges[0] == x.min() and p.edges[-1] == x.max()
    edges = np.array(p.edges)
    assert np.all(np.diff(edges) > 0)
    want = [np.mean(x <= e) for e in edges]
    assert p.cdf == pytest.approx(want, abs=1e-12)
    # each grid bin holds about 1/100 of the data
    between = np.diff(np.concatenate(([0.0], p.cdf)))
    assert between[1:].max() <= 0.0101


def test_build_kinds_and_exclude(rng: np.random.Generator) -> None:
    b = sample_baseline(rng)
    assert b.columns == ("x", "k", "w", "country", "mobile")
    kinds = {f.name: f.kind for f in b.features}
    assert kinds == {"x": Kind.NUMERIC, "k": Kind.NUMERIC, "w": Kind.NUMERIC,
                     "country": Kind.CATEGORICAL, "mobile": Kind.CATEGORICAL}
    w = b.features[2].numeric
    assert w is not None and w.dropped + w.n == 3000 and w.dropped > 0
    mobile = dict(b.features[4].categorical.counts)
    assert set(mobile) == {"true", "false"} and sum(mobile.values()) == 3000
    with pytest.raises(BaselineError):
        bl.build(pa.table({"ts": [1, 2]}), source="t", exclude={"ts"})


def test_booleans_from_csv_and_json_are_the_same_category() -> None:
    got = normalize_category(pa.array(["True", "FALSE", "true", "x", None, "TrUe", "yes"]))
    assert got.to_pylist() == ["true", "false", "true", "x", None, "true", "yes"]

    csv = pcsv.read_csv(io.BytesIO(b"flag,name\nTrue,a\nFalse,b\nTrue,c\n"))
    as_text = pa.table({"flag": ["TRUE", "false", "True"], "name": ["a", "b", "c"]})
    as_bool = pa.table({"flag": [True, False, True], "name": ["a", "b", "c"]})
    want = (("true", 2), ("false", 1))
    for t in (csv, as_text, as_bool):
        b = bl.build(t, source="t", max_edges=None)
        assert b.features[0].kind is Kind.CATEGORICAL
        assert b.features[0].categorical.counts == want


def test_json_log_true_matches_training_csv_true(tmp_path: Path) -> None:
    from mlmon import api

    train = tmp_path / "train.csv"
    train.write_text("flag,amount\n" + "".join(
        f"{'True' if i % 3 else 'False'},{i}\n" for i in range(90)))
    log = tmp_path / "log.jsonl"
    log.write_text("".join(
        json.dumps({"timestamp": f"2026-11-01T10:00:{i:02d}Z",
                    "input": {"features": {"flag": bool(i % 3), "amount": i}}}) + "\n"
        for i in range(60)))
    b = api.load_training(str(train), exclude=set(), max_edges=None)
    rep = api.detect_drift([str(log)], b)
    flag = {f.name: f for f in rep.features}["flag"]
    assert flag.status == "ok" and flag.n == 60
    assert flag.unseen_categories == ()
    assert flag.effect_size == pytest.approx(0.0, abs=1e-12)
    assert flag.statistic == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------- save / load


@pytest.mark.parametrize("max_edges", [None, 101])
def test_save_load_round_trip(tmp_path: Path, rng: np.random.Generator,
                              max_edges: int | None) -> None:
    b = sample_baseline(rng, max_edges)
    path = tmp_path / "b.json"
    bl.save(b, str(path))
    loaded = bl.load(str(path))
    assert loaded == b
    body = json.loads(path.read_text())
    assert body["format"] == "mlmon-baseline" and body["version"] == 1
    assert body["checksum"] == _checksum(body)
    # a second save of the loaded baseline writes the same file
    again = tmp_path / "again.json"
    bl.save(loaded, str(again))
    assert again.read_text() == path.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mlmon-")] == []


@pytest.fixture
def saved(tmp_path: Path, rng: np.random.Generator) -> Path:
    path = tmp_path / "b.json"
    bl.save(sample_baseline(rng), str(path))
    return path


@pytest.mark.parametrize("protocol", [0, 1, 2, pickle.HIGHEST_PROTOCOL])
def test_load_refuses_pickle(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "b.pkl"
    path.write_bytes(pickle.dumps({"format": "mlmon-baseline", "version": 1}, protocol=protocol))
    with pytest.raises(BaselineError, match="pickle"):
        bl.load(str(path))


def test_load_refuses_truncated_json(saved: Path) -> None:
    text = saved.read_text()
    saved.write_text(text[: len(text) // 2])
    with pytest.raises(BaselineError, match="not a JSON baseline"):
        bl.load(str(saved))


def test_load_refuses_other_version(saved: Path) -> None:
    body = json.loads(saved.read_text())
    body["version"] = 2
    body["checksum"] = _checksum(body)  # a well-formed file, just another version
    saved.write_text(json.dumps(body))
    with pytest.raises(BaselineError, match="version 2"):
        bl.load(str(saved))


def test_load_refuses_checksum_mismatch(saved: Path) -> None:
    body = json.loads(saved.read_text())
    body["features"]["x"]["mean"] += 1.0
    saved.write_text(json.dumps(body, indent=1))
    with pytest.raises(BaselineError, match="checksum"):
        bl.load(str(saved))


def test_load_refuses_edited_text(saved: Path) -> None:
    text = saved.read_text()
    rows = '"rows": 3000'
    assert rows in text
    saved.write_text(text.replace(rows, '"rows": 3001'))
    with pytest.raises(BaselineError, match="checksum"):
        bl.load(str(saved))


@pytest.mark.parametrize("content", ['{"hello": 1}', "[1, 2, 3]", '"text"',
                                     '{"format": "other", "version": 1}', "",
                                     '{"format": "mlmon-baseline", "version": 1, "x": NaN}'])
def test_load_refuses_json_that_is_not_a_baseline(tmp_path: Path, content: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=str(path)):
        bl.load(str(path))


def test_load_refuses_malformed_body_with_good_checksum(saved: Path) -> None:
    body = json.loads(saved.read_text())
    del body["features"]["x"]["edges"]
    body["checksum"] = _checksum(body)
    saved.write_text(json.dumps(body))
    with pytest.raises(BaselineError, match="features.x: 'edges' is a required property"):
        bl.load(str(saved))


@pytest.mark.parametrize("change", ["repeat", "reverse"])
def test_load_refuses_edges_that_do_not_increase(saved: Path, change: str) -> None:
    body = json.loads(saved.read_text())
    edges = body["features"]["x"]["edges"]
    assert len(edges) >= 2
    if change == "repeat":
        edges[1] = edges[0]  # drift counting relies on strictly increasing edges
    else:
        edges.reverse()
    body["checksum"] = _checksum(body)
    saved.write_text(json.dumps(body))
    with pytest.raises(BaselineError, match="increase strictly"):
        bl.load(str(saved))


def test_load_missing_file_is_no_input(tmp_path: Path) -> None:
    with pytest.raises(NoInputError):
        bl.load(str(tmp_path / "missing.json"))
