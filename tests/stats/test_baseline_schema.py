"""Baseline validation: every field's type, range and size is checked before use, with its path.

The checksum is a plain SHA-256 of the JSON, so each hostile file here carries a recomputed
checksum: the schema alone must refuse it (exit 65 in the CLI, never 70)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from corpus import cli, error_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlmon.errors import BaselineError, ExitCode
from mlmon.read.records import FEATURE_PREFIX
from mlmon.stats import baseline as bl
from mlmon.stats import baseline_schema
from mlmon.stats.drift import DriftAccumulator


def _checksum(body: dict[str, Any]) -> str:
    payload = {k: v for k, v in body.items() if k != "checksum"}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _valid_body() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    n = 500
    table = pa.table({
        "x": rng.normal(5, 2, n),
        "k": rng.integers(0, 4, n),
        "country": rng.choice(np.array(["US", "DE", "FR"], dtype=object), n).tolist(),
    })
    return bl.to_json(bl.build(table, source="train.csv", max_edges=101))


def _write(tmp_path: Path, body: Any, *, checksum: bool = True) -> str:
    if checksum and isinstance(body, dict):
        body["checksum"] = _checksum(body)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(body))
    return str(path)


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        d: Any = body
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = value

    return edit


def _apply(fn: Callable[[Any], None]) -> Callable[[dict[str, Any]], None]:
    return fn


X = ("features", "x")
C = ("features", "country")

# (edit, the field path the message must name)
HOSTILE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "negative cdf": (_set(*X, "cdf", 0, value=-0.5), "features.x.cdf[0]"),
    "cdf above 1": (_set(*X, "cdf", 3, value=1.5), "features.x.cdf[3]"),
    "decreasing cdf": (_apply(lambda b: b["features"]["x"]["cdf"].reverse()), "features.x.cdf"),
    "last cdf not 1": (_set(*X, "cdf", -1, value=0.5), "features.x.cdf[100]"),
    "empty edges with stats": (_apply(lambda b: b["features"]["x"].update(edges=[], cdf=[])), "features.x"),
    "cdf longer than edges": (_apply(lambda b: b["features"]["x"]["cdf"].append(1.0)), "features.x.cdf"),
    "edge a string": (_set(*X, "edges", 2, value="3"), "features.x.edges[2]"),
    "edge a bool": (_set(*X, "edges", 0, value=False), "features.x.edges[0]"),
    "std -1": (_set(*X, "std", value=-1), "features.x.std"),
    "n -5": (_set(*X, "n", value=-5), "features.x.n"),
    "n a float": (_set(*X, "n", value=500.5), "features.x.n"),
    "n a bool": (_set(*X, "n", value=True), "features.x.n"),
    "n 10**30": (_set(*X, "n", value=10**30), "features.x.n"),
    "mean a string": (_set(*X, "mean", value="5"), "features.x.mean"),
    "min above max": (_set(*X, "min", value=1e9), "features.x.min"),
    "exact a string": (_set(*X, "exact", value="true"), "features.x.exact"),
    "dropped negative": (_set(*X, "dropped", value=-1), "features.x.dropped"),
    "rows -1": (_set("rows", value=-1), "rows"),
    "rows below n": (_set("rows", value=3), "features.x.n"),
    "version a bool": (_set("version", value=True), "version"),
    "source a list": (_set("source", value=["a"]), "source"),
    "duplicate column": (_apply(lambda b: b["columns"].append("x")), "columns"),
    "column without profile": (_apply(lambda b: b["columns"].append("y")), "features"),
    "profile without column": (_apply(lambda b: b["columns"].remove("k")), "features.k"),
    "no columns": (_apply(lambda b: b.update(columns=[], features={})), "columns"),
    "unknown kind": (_set(*X, "kind", value="text"), "features.x.kind"),
    "feature a list": (_set(*X, value=[1, 2]), "features.x"),
    "unknown field": (_set(*X, "extra", value=1), "features.x"),
    "negative count": (_set(*C, "counts", "US", value=-3), 'features.country.counts.US'),
    "zero count": (_set(*C, "counts", "US", value=0), "features.country.counts.US"),
    "count a string": (_set(*C, "counts", "US", value="3"), "features.country.counts.US"),
    "count a float": (_set(*C, "counts", "US", value=3.5), "features.country.counts.US"),
    "counts a list": (_set(*C, "counts", value=[["US", 3]]), "features.country.counts"),
    "zero total": (_apply(lambda b: b["features"]["country"].update(counts={}, shares={})),
                   "features.country.counts"),
    "counts off n": (_set(*C, "n", value=7), "features.country.counts"),
    "share above 1": (_set(*C, "shares", "US", value=2.0), "features.country.shares.US"),
    "checksum not hex": (_apply(lambda b: None), "checksum"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_field_is_refused_with_its_path(tmp_path: Path, case: str) -> None:
    edit, where = HOSTILE[case]
    body = _valid_body()
    edit(body)
    if case == "checksum not hex":
        body["checksum"] = "sha256:" + "Z" * 64
        path = _write(tmp_path, body, checksum=False)
        with pytest.raises(BaselineError, match="checksum"):
            bl.load(path)
        return
    path = _write(tmp_path, body)
    with pytest.raises(BaselineError) as info:
        bl.load(path)
    message = str(info.value)
    if case == "version a bool":
        assert "version true" in message
        return
    assert "invalid baseline" in message and f": {where}" in message, message


@pytest.mark.parametrize("where", ['"mean": 1e400', '"rows": 1e400', "[1e400"])
def test_a_number_too_large_for_a_float_is_bad_data(tmp_path: Path, where: str) -> None:
    body = _valid_body()
    text = json.dumps(body)
    if where == "[1e400":
        text = text.replace('"edges": [', '"edges": [1e400, ', 1)
    else:
        key = where.split(":")[0]
        text = re.sub(key + r": [-0-9.e]+", where, text, count=1)
        assert where in text
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match="a number too large for a float") as info:
        bl.load(str(path))
    field = {'"mean": 1e400': "features.x.mean:", '"rows": 1e400': "rows:", "[1e400": "features.x.edges[0]:"}
    assert field[where] in str(info.value)


@pytest.mark.parametrize("field", [("features", "x", "mean"), ("features", "x", "edges", 0),
                                   ("features", "x", "cdf", 2), ("features", "country", "shares", "US")])
def test_an_integer_too_large_for_a_float_names_its_field(tmp_path: Path, field: tuple[Any, ...]) -> None:
    body = _valid_body()
    _set(*field, value=10**400)(body)
    with pytest.raises(BaselineError, match="invalid baseline: " + r"\.".join(map(str, field[:-1]))):
        bl.load(_write(tmp_path, body))


def test_a_huge_integer_is_bad_data(tmp_path: Path) -> None:
    text = json.dumps(_valid_body()).replace('"rows": 500', '"rows": ' + "9" * 5000, 1)
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match="not a JSON baseline"):
        bl.load(str(path))


def test_too_many_edges_is_refused_naming_the_field(tmp_path: Path) -> None:
    body = _valid_body()
    k = baseline_schema.MAX_EDGES + 1
    f = body["features"]["x"]
    f["edges"] = list(range(k))
    f["cdf"] = [(i + 1) / k for i in range(k)]
    f["min"], f["max"] = 0, k - 1
    path = _write(tmp_path, body)
    with pytest.raises(BaselineError, match=r"features\.x\.(edges|cdf): is too long: 100002 items"):
        bl.load(path)


def test_file_over_the_size_cap_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _valid_body())
    monkeypatch.setattr(baseline_schema, "MAX_BASELINE_BYTES", 1000)
    with pytest.raises(BaselineError, match="larger than"):
        bl.load(path)


def test_valid_baselines_pass(tmp_path: Path) -> None:
    body = _valid_body()
    assert baseline_schema.first_violation(body) is None
    b = bl.load(_write(tmp_path, body))
    assert b.columns == ("x", "k", "country")


def test_feature_name_needing_quotes_is_shown_quoted(tmp_path: Path) -> None:
    body = _valid_body()
    body["features"]["a b"] = body["features"].pop("x")
    body["columns"][0] = "a b"
    body["features"]["a b"]["std"] = -2
    with pytest.raises(BaselineError, match=r'features\["a b"\]\.std'):
        bl.load(_write(tmp_path, body))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


def _paths(d: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d[:3]):
            out += _paths(v, (*prefix, i))
    return out


BODY = _valid_body()
PATHS = [p for p in _paths(BODY) if p[0] != "checksum"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(PATHS), value=JSON_VALUES)
def test_any_edit_is_refused_or_safe_to_use(tmp_path: Path, where: tuple[Any, ...], value: Any) -> None:
    """Replace any one field with any JSON value: load refuses it (65) or drift can use it."""
    body = json.loads(json.dumps(BODY))
    _set(*where, value=value)(body)
    try:
        b = bl.load(_write(tmp_path, body))
    except BaselineError:
        return
    acc = DriftAccumulator(b)
    acc.update(pa.table({
        FEATURE_PREFIX + "x": pa.array([1.0, 5.0, 9.0] * 20),
        FEATURE_PREFIX + "k": pa.array([0.0, 1.0, 7.0] * 20),
        FEATURE_PREFIX + "country": pa.array(["US", "DE", "XX"] * 20),
    }))
    for r in acc.result():
        assert r.status in ("ok", "insufficient_data", "not_in_log")


def test_cli_drift_with_hostile_baseline_exits_65_naming_the_field(tmp_path: Path) -> None:
    body = _valid_body()
    body["features"]["x"]["cdf"][0] = -1
    path = _write(tmp_path, body)
    log = tmp_path / "log.jsonl"
    log.write_text('{"timestamp": "2026-11-01T10:00:00Z", "input": {"features": {"x": 1}}}\n')
    result = cli(["drift", str(log), "--baseline", path])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert "features.x.cdf[0]" in error_line(result)


def test_too_many_edges_in_all_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = _valid_body()
    monkeypatch.setattr(baseline_schema, "MAX_TOTAL_EDGES", 50)
    baseline_schema._VALIDATOR = None
    try:
        with pytest.raises(BaselineError, match=r"hold \d+ edges in all, more than the limit of 50"):
            bl.load(_write(tmp_path, body))
    finally:
        baseline_schema._VALIDATOR = None
