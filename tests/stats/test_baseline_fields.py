"""Every field of a baseline file written, read back and checked against numbers derived by hand;
every column left out and every file refused with its exact message."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import errno
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from mlmon import __version__
from mlmon.errors import BaselineError, EnvironmentFailure, NoInputError
from mlmon.read.records import Kind
from mlmon.stats import baseline as bl
from mlmon.stats import baseline_schema as schema
from mlmon.stats.joint import MAX_FEATURES


def _full(rng: np.random.Generator) -> bl.Baseline:
    """A baseline with every optional part: predictions, a joint model, columns and values left
    out, reference performance."""
    n = 400
    x = rng.normal(10, 2, n)
    table = pa.table({
        "x": x,
        "y": x * 3 + rng.normal(0, 1, n),
        "country": rng.choice(np.array(["US", "DE", "FR"], dtype=object), n).tolist(),
        "raw": pa.array([b"\xff" if i % 4 == 0 else b"ok" for i in range(n)], pa.binary()),
        "day": pa.array([dt.date(2026, 1, 1)] * n),
    })
    b = bl.build(table, source="train.parquet", max_edges=None)
    preds = (
        bl.FeatureProfile("prediction.class", Kind.CATEGORICAL,
                          categorical=bl.categorical_profile(pa.array(["cat", "dog", "cat", None]))),
        bl.FeatureProfile("prediction.confidence", Kind.NUMERIC,
                          numeric=bl.numeric_profile(np.array([0.5, 0.75, 1.0]), max_edges=None)),
    )
    perf = (("accuracy", 0.875), ("auc", 0.9))
    return dataclasses.replace(b, predictions=preds, reference_performance=perf)


def test_every_part_of_a_baseline_reads_back(tmp_path: Path, rng: np.random.Generator) -> None:
    b = _full(rng)
    assert b.columns == ("x", "y", "country", "raw")
    assert b.left_out == (("day", "dates and times (date32[day]) are not features"),)
    assert b.values_left_out == (("raw", "100 of 400 values not valid UTF-8"),)
    assert b.multivariate is not None and b.multivariate.features == ("x", "y") and b.multivariate_note == ""
    path = tmp_path / "b.json"
    bl.save(b, str(path))
    back = bl.load(str(path))
    for f in dataclasses.fields(bl.Baseline):
        assert getattr(back, f.name) == getattr(b, f.name), f.name
    doc = json.loads(path.read_text())
    assert doc["created_by"] == f"mlmon {__version__}" and doc["source"] == "train.parquet"
    assert doc["rows"] == 400 and doc["columns"] == ["x", "y", "country", "raw"]
    assert doc["left_out"] == {"day": "dates and times (date32[day]) are not features"}
    assert doc["values_left_out"] == {"raw": "100 of 400 values not valid UTF-8"}
    assert doc["reference_performance"] == {"accuracy": 0.875, "auc": 0.9}
    assert doc["predictions"]["class"] == {
        "kind": "categorical", "n": 3, "dropped": 1, "counts": {"cat": 2, "dog": 1},
        "shares": {"cat": 2 / 3, "dog": 1 / 3}}
    conf = doc["predictions"]["confidence"]
    assert (conf["kind"], conf["n"], conf["mean"], conf["min"], conf["max"]) == ("numeric", 3, 0.75, 0.5, 1.0)
    assert conf["edges"] == [0.5, 0.75, 1.0] and conf["cdf"] == [1 / 3, 2 / 3, 1.0] and conf["std"] == 0.25
    raw = doc["features"]["raw"]
    assert raw == {"kind": "categorical", "n": 300, "dropped": 100, "counts": {"ok": 300},
                   "shares": {"ok": 1.0}}
    m = doc["multivariate"]
    model = b.multivariate
    assert m == {
        "method": "pca_reconstruction", "features": ["x", "y"], "mean": list(model.mean),
        "scale": list(model.scale), "components": [list(r) for r in model.components],
        "explained": model.explained, "fit_rows": model.fit_rows, "calibration_rows": model.calibration_rows,
        "error_mean": model.error_mean, "error_std": model.error_std,
    }
    assert model.fit_rows + model.calibration_rows == 400 and 0 < model.explained <= 1
    assert model.error_mean > 0 and model.error_std > 0


def test_a_baseline_without_optional_parts_writes_none_of_them(tmp_path: Path) -> None:
    b = bl.build(pa.table({"x": [1.0, 2.0, 4.0]}), source="s", max_edges=None)
    assert b.multivariate is None and b.multivariate_note == "fewer than two numeric features"
    doc = bl.to_json(b)
    assert set(doc) == {"format", "version", "created_by", "source", "rows", "columns", "features",
                        "checksum"}
    path = tmp_path / "b.json"
    bl.save(b, str(path))
    back = bl.load(str(path))
    assert back.multivariate is None and back.predictions == () and back.reference_performance == ()
    assert back.left_out == () and back.values_left_out == ()
    assert back.multivariate_note == (
        "the baseline has no joint model (made before mlmon had one, or from fewer than two numeric "
        "features); rebuild it with `mlmon baseline` to test joint drift")


def test_a_numeric_feature_reads_back_field_by_field(tmp_path: Path) -> None:
    values = [4.0, 1.0, 2.0, 2.0, 8.0, np.nan]
    b = bl.build(pa.table({"x": values}), source="train.csv", max_edges=None)
    path = tmp_path / "b.json"
    bl.save(b, str(path))
    x = json.loads(path.read_text())["features"]["x"]
    assert x["kind"] == "numeric" and x["n"] == 5 and x["dropped"] == 1 and x["exact"] is True
    assert x["edges"] == [1.0, 2.0, 4.0, 8.0] and x["cdf"] == [0.2, 0.6, 0.8, 1.0]
    assert x["mean"] == 3.4 and x["min"] == 1.0 and x["max"] == 8.0
    assert x["std"] == pytest.approx(float(np.std(values[:5], ddof=1)), rel=1e-15)
    back = bl.load(str(path))
    assert back.features == b.features and (back.source, back.rows) == ("train.csv", 6)
    p = back.features[0].numeric
    assert p is not None and isinstance(p.n, int) and isinstance(p.exact, bool)


# --------------------------------------------------------------------- profiles


def test_exact_while_the_distinct_values_fit_the_grid() -> None:
    values = np.array([3.0, 1.0, 2.0, 1.0])
    at = bl.numeric_profile(values, max_edges=3)  # three distinct values, three edges: exact
    assert at.exact and list(at.edges) == [1.0, 2.0, 3.0] and list(at.cdf) == [0.5, 0.75, 1.0]
    over = bl.numeric_profile(values, max_edges=2)
    assert not over.exact and list(over.edges) == [1.0, 3.0] and list(over.cdf) == [0.5, 1.0]


def test_profiles_of_one_value_and_of_none() -> None:
    one = bl.numeric_profile(np.array([7.5, np.nan]), max_edges=None)
    assert (one.n, one.mean, one.std, one.min, one.max, one.dropped) == (1, 7.5, 0.0, 7.5, 7.5, 1)
    none = bl.numeric_profile(np.array([np.nan, -np.inf, np.inf]), max_edges=None)
    assert (none.n, none.mean, none.std, none.min, none.max, none.exact, none.dropped) == (
        0, 0.0, 0.0, 0.0, 0.0, True, 3)
    assert list(none.edges) == [] and list(none.cdf) == []
    cats = bl.categorical_profile(pa.array(["c", None, "a", "b", "c", "b", None], pa.string()))
    assert cats == bl.CategoricalProfile(5, (("b", 2), ("c", 2), ("a", 1)), 2)  # ties by name
    empty = bl.categorical_profile(pa.array([None, None], pa.string()))
    assert empty == bl.CategoricalProfile(0, (), 2)
    assert bl.floats(np.array([1, 2], dtype=np.int64)) == bl.floats([1.0, 2.0])
    assert bl.floats(np.array([1.5, 2.5])[::2]).tolist() == [1.5]


def test_columns_that_cannot_be_features_are_named_with_the_reason() -> None:
    n = 4
    table = pa.table({
        "nothing": pa.nulls(n),
        "all_null": pa.array([None] * n, pa.float64()),
        "bad_bytes": pa.array([b"\xff", b"\xfe", None, b"\x80"], pa.binary()),
        "some_bad": pa.array([b"a", b"\xff", None, b"b"], pa.large_binary()),
        "price": pa.array([decimal.Decimal("1.25"), decimal.Decimal("2.50"), None, decimal.Decimal("4.00")],
                          pa.decimal128(5, 2)),
        "when": pa.array([1, 2, 3, 4], pa.timestamp("s")),
        "tags": pa.array([[1], [2], [], None], pa.list_(pa.int64())),
        "fixed": pa.array([b"abc"] * n, pa.binary(3)),
        "ts": pa.array([1, 2, 3, 4], pa.int64()),
        "flag": pa.array([True, False, True, True]),
        "word": pa.array(["a", "b", "a", "a"], pa.large_string()),
        "code": pa.array(["x", "y", "x", "x"]).dictionary_encode(),
    })
    b = bl.build(table, source="t", max_edges=None, exclude={"ts"})
    assert b.columns == ("some_bad", "price", "flag", "word", "code")
    assert b.left_out == (
        ("nothing", "no values"), ("all_null", "no values"), ("bad_bytes", "no value is valid UTF-8"),
        ("when", "dates and times (timestamp[s]) are not features"),
        ("tags", "lists and objects (list<item: int64>) are not features"),
        ("fixed", "values of type fixed_size_binary[3] are not features"),
    )
    assert b.values_left_out == (("some_bad", "1 of 3 values not valid UTF-8"),)
    some_bad, price = b.features[0], b.features[1]
    assert some_bad.categorical == bl.CategoricalProfile(2, (("a", 1), ("b", 1)), 2)
    assert price.kind is Kind.NUMERIC and price.numeric is not None
    assert list(price.numeric.edges) == [1.25, 2.5, 4.0] and price.numeric.dropped == 1
    # every bad byte string read back: nothing left out when all are valid
    fine = bl.build(pa.table({"b": pa.array([b"a", b"b"], pa.binary())}), source="t", max_edges=None)
    assert fine.values_left_out == () and fine.features[0].categorical.counts == (("a", 1), ("b", 1))


def test_no_feature_columns_names_the_first_five_reasons() -> None:
    table = pa.table({f"c{i}": pa.nulls(2) for i in range(7)})
    with pytest.raises(BaselineError) as info:
        bl.build(table, source="train.csv")
    assert str(info.value) == ("train.csv: no feature columns to profile ('c0': no values; 'c1': no values; "
                               "'c2': no values; 'c3': no values; 'c4': no values)")
    with pytest.raises(BaselineError) as info:
        bl.build(pa.table({"ts": [1, 2]}), source="t.csv", exclude={"ts"})
    assert str(info.value) == "t.csv: no feature columns to profile"


def test_the_joint_model_takes_two_to_the_most_numeric_features(rng: np.random.Generator) -> None:
    rows = 4 * MAX_FEATURES + 10
    base = rng.normal(0, 1, rows)
    two = {f"f{i}": base + rng.normal(0, 1, rows) for i in range(2)}
    model, note = bl.joint_model(two, rows)
    assert model is not None and note == "" and model.features == ("f0", "f1")
    most = {f"f{i}": base + rng.normal(0, 1, rows) for i in range(MAX_FEATURES)}
    model, note = bl.joint_model(most, rows)
    assert model is not None and len(model.features) == MAX_FEATURES
    most["extra"] = base
    assert bl.joint_model(most, rows) == (
        None, f"{MAX_FEATURES + 1} numeric features, more than the {MAX_FEATURES} the joint test takes")
    assert bl.joint_model({"f0": base}, rows) == (None, "fewer than two numeric features")
    # the matrix holds each feature in its own column (missing values as NaN)
    gappy = {"a": np.where(np.arange(rows) % 2 == 0, np.nan, base), "b": base * 2 + rng.normal(0, 1, rows)}
    model, _ = bl.joint_model(gappy, rows)
    assert model is not None and model.fit_rows + model.calibration_rows == rows // 2
    assert model.mean[1] == pytest.approx(2 * model.mean[0], abs=0.3)


# --------------------------------------------------------------------- writing


def test_a_baseline_drift_would_refuse_is_never_written(tmp_path: Path) -> None:
    bad = bl.Baseline("s", 1, (bl.FeatureProfile("c", Kind.CATEGORICAL,
                                                 categorical=bl.CategoricalProfile(0, (("a", 0),), 1)),))
    with pytest.raises(BaselineError) as info:
        bl.dumps(bad)
    assert str(info.value).startswith(
        "cannot write this baseline, drift would refuse it: features.c.counts.a: ")
    assert "0 is not a count from 1" in str(info.value)


def test_the_size_limit_is_the_readers_to_the_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.arange(60_000, dtype=np.float64) / 7
    b = bl.build(pa.table({"x": values}), source="s", max_edges=None)
    text = json.dumps(bl.to_json(b), indent=1, allow_nan=False) + "\n"
    size = len(text)
    assert size > 2 << 20
    monkeypatch.setattr(schema, "MAX_BASELINE_BYTES", size)
    assert bl.dumps(b) == text  # exactly the limit: written
    path = tmp_path / "b.json"
    bl.save(b, str(path))
    assert path.read_text() == text and bl.load(str(path)).features == b.features  # and read
    monkeypatch.setattr(schema, "MAX_BASELINE_BYTES", size - 1)
    with pytest.raises(BaselineError) as info:
        bl.dumps(b)
    mib = (size - 1) // 2**20
    assert str(info.value) == (
        f"cannot write this baseline: {size // 2**20} MiB, over the {mib} MiB drift reads; "
        "build it with a smaller --grid or fewer columns")
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == (f"{path} is larger than {mib} MiB, the most a baseline may be; "
                               "build it with a smaller --grid")


# --------------------------------------------------------------------- reading: refusals


@pytest.fixture
def good(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    b = bl.build(pa.table({"x": [1.0, 2.0], "c": ["a", "b"]}), source="s", max_edges=None)
    body = bl.to_json(b)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(body))
    return path, body


def _rewrite(path: Path, body: dict[str, Any]) -> None:
    body = {k: v for k, v in body.items() if k != "checksum"}
    body["checksum"] = bl._checksum(body)
    path.write_text(json.dumps(body))


@pytest.mark.parametrize("value", [[1], [{"a": 1}], {"a": [1]}])
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_old_pickle_is_refused(tmp_path: Path, value: Any, protocol: int) -> None:
    path = tmp_path / "b.pkl"
    path.write_bytes(pickle.dumps(value, protocol=protocol))
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == (
        f"{path} looks like a Python pickle; mlmon never loads pickles (they can run code). "
        "Make a baseline with `mlmon baseline TRAINING_DATA -o FILE`.")


@pytest.mark.parametrize("content", [b"[1, 2", b'{"a": NaN}', b'{"a": -Infinity}', b"\xff\xfe{}",
                                     b"[" * 100_000])
def test_text_that_is_not_json_is_refused_with_the_parsers_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(content)
    try:
        json.loads(content.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(
            ValueError(f"{c} is not valid JSON")))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = str(exc).splitlines()[0][:120]
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == (f"{path} is not a JSON baseline ({why}); make one with `mlmon baseline "
                               "TRAINING_DATA -o FILE`, or give training data with --reference")


def test_a_reason_is_one_line_of_at_most_120_characters() -> None:
    assert bl._short(ValueError("x" * 200 + "\nmore")) == "x" * 120
    assert bl._short(ValueError("first\nsecond")) == "first"
    assert bl._short(ValueError()) == "ValueError"


@pytest.mark.parametrize("body", [[], "x", {"format": "mlmon"}, {"version": 1}])
def test_json_that_is_not_a_baseline(tmp_path: Path, body: Any) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(body))
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == f'{path} is not an mlmon baseline (no "format": "mlmon-baseline")'


@pytest.mark.parametrize(("version", "shown"), [(2, "2"), (0, "0"), (True, "true"), ("1", '"1"'),
                                                (1.0, "1.0"), (None, "null"), ("v" * 60, '"' + "v" * 39)])
def test_another_version_is_named(good: tuple[Path, dict[str, Any]], version: Any, shown: str) -> None:
    path, body = good
    body["version"] = version
    _rewrite(path, body)
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == (f"{path} is baseline format version {shown}; this mlmon reads version 1. "
                               "Rebuild it with `mlmon baseline`.")


def test_damage_and_schema_violations_are_named(good: tuple[Path, dict[str, Any]]) -> None:
    path, body = good
    assert bl.load(str(path)).columns == ("x", "c")
    body["features"]["x"]["n"] = 3
    path.write_text(json.dumps(body))  # the old checksum
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == f"{path}: checksum does not match its content (edited or damaged)"
    _rewrite(path, body)
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == (
        f"{path}: invalid baseline: features.x.n: n + dropped = 3 is more than the 2 rows")
    text = json.dumps(body).replace('"mean": 1.5', '"mean": 1e400')
    path.write_text(text)
    with pytest.raises(BaselineError) as info:
        bl.load(str(path))
    assert str(info.value) == (
        f"{path}: invalid baseline: features.x.mean: a number too large for a float (like 1e400)")


def test_a_baseline_that_cannot_be_read_is_no_input(tmp_path: Path) -> None:
    with pytest.raises(NoInputError) as info:
        bl.load(str(tmp_path / "missing.json"))
    missing = str(tmp_path / "missing.json")
    assert str(info.value) == f"cannot read baseline {missing!r}: No such file or directory"
    with pytest.raises(NoInputError, match="Is a directory"):
        bl.load(str(tmp_path))


# --------------------------------------------------------------------- the schema, field by field


@pytest.fixture
def fresh_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The validator built anew for the test (it is built once a process and kept)."""
    monkeypatch.setattr(schema, "_VALIDATOR", None)


def _doc() -> dict[str, Any]:
    table = pa.table({"x": [1.0, 2.0, 4.0, 4.0], "y": [2.0, 1.0, 5.0, 3.0], "c": ["US", "DE", "US", "FR"]})
    b = bl.build(table, source="s", max_edges=None)
    doc = bl.to_json(b)
    doc["multivariate"] = {
        "method": "pca_reconstruction", "features": ["x", "y"], "mean": [2.75, 2.75], "scale": [1.5, 1.7],
        "components": [[0.7, 0.7]], "explained": 0.8, "fit_rows": 2, "calibration_rows": 2,
        "error_mean": 0.5, "error_std": 0.25,
    }
    return doc


def _violation(path: tuple[Any, ...], value: Any) -> str | None:
    doc = _doc()
    _put(doc, path, value)
    return schema.first_violation(doc)


def _put(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        doc = doc[p]
    doc[path[-1]] = value


X = ("features", "x")
CT = ("features", "c")
MV = ("multivariate",)

NOT_UP = "does not increase strictly from the value before it"
NOT_SAME = "does not name the same categories as counts"
NOT_SHARE = "is not a share from 0 to 1"

# (the field, its new value, the whole first violation); each derived from the file format's rules
VIOLATIONS: list[tuple[tuple[Any, ...], Any, str]] = [
    ((*X, "edges"), [1.0, "2", 4.0], 'features.x.edges[1]: "2" is not a number'),
    ((*X, "edges"), [1.0, "y" * 60, 4.0], 'features.x.edges[1]: "' + "y" * 39 + " is not a number"),
    ((*X, "edges"), [1.0, None, 4.0], "features.x.edges[1]: null is not a number"),
    ((*X, "edges"), [1, 2, 10**400], f"features.x.edges[2]: {str(10**400)[:40]} is too large for a float"),
    ((*X, "edges"), [1.0, 2.0, 2.0], f"features.x.edges[2]: 2.0 {NOT_UP}"),
    ((*X, "edges"), [1.0, 4.0, 2.0], f"features.x.edges[2]: 2.0 {NOT_UP}"),
    ((*X, "cdf"), [-0.25, 0.5, 1.0], "features.x.cdf[0]: -0.25 is less than the minimum of 0"),
    ((*X, "cdf"), [0.5, 1.5, 1.0], "features.x.cdf[1]: 1.5 is greater than the maximum of 1"),
    ((*X, "cdf"), [0.5, 0.25, 1.0], "features.x.cdf[1]: 0.25 decreases from the value before it"),
    ((*X, "cdf"), [0.25, 0.5, 0.75], "features.x.cdf[2]: the last CDF value is 0.75, not 1"),
    ((*X, "cdf"), [0.25, 0.5, 1.0, 1.0], "features.x.cdf: has 4 values for 3 edges (one value per edge)"),
    ((*X, "edges"), [1.0, 4.0], "features.x.cdf: has 3 values for 2 edges (one value per edge)"),
    ((*X, "min"), 1.5, "features.x.edges: edges run from 1.0 to 4.0, outside min..max"),
    ((*X, "max"), 3.0, "features.x.edges: edges run from 1.0 to 4.0, outside min..max"),
    ((*X, "min"), 5.0, "features.x.min: min 5.0 is above max 4.0"),
    ((*X, "n"), 5, "features.x.n: n + dropped = 5 is more than the 4 rows"),
    ((*X, "dropped"), 1, "features.x.n: n + dropped = 5 is more than the 4 rows"),
    ((*CT, "counts"), {"US": 2, "DE": True, "FR": 1}, "features.c.counts.DE: true is not a whole count"),
    ((*CT, "counts"), {"US": 2, "DE": 1.0, "FR": 1}, "features.c.counts.DE: 1.0 is not a whole count"),
    ((*CT, "counts"), {"US": 2, "DE": 0, "FR": 2},
     f"features.c.counts.DE: 0 is not a count from 1 to {2**63 - 1}"),
    ((*CT, "counts"), {"US": 2, "DE": 2**63, "FR": 1},
     f"features.c.counts.DE: {2**63} is not a count from 1 to {2**63 - 1}"),
    ((*CT, "counts"), {"US": 2, "DE": 2, "FR": 1}, "features.c.counts: the counts add up to 5, not n = 4"),
    ((*CT, "shares"), {"US": 0.5, "DE": 0.25}, f"features.c.shares: {NOT_SAME}"),
    ((*CT, "shares"), {"US": 0.5, "DE": 0.25, "XX": 0.25},
     f"features.c.shares: {NOT_SAME}"),
    ((*CT, "shares"), {"US": 0.5, "DE": -0.25, "FR": 0.25}, f"features.c.shares.DE: -0.25 {NOT_SHARE}"),
    ((*CT, "shares"), {"US": 1.5, "DE": 0.25, "FR": 0.25}, f"features.c.shares.US: 1.5 {NOT_SHARE}"),
    ((*CT, "shares"), {"US": 0.5, "DE": "x", "FR": 0.25}, 'features.c.shares.DE: "x" is not a number'),
    ((*CT, "shares"), {"US": 0.5, "DE": 10**400, "FR": 0.25},  # a message over 160 characters is cut
     "features.c.shares.DE: " + f"{10**400} is not a share from 0 to 1"[:157] + "..."),
    ((*MV, "mean"), [1.0], "multivariate.mean: has 1 values for 2 features"),
    ((*MV, "scale"), [1.0, 1.0, 1.0], "multivariate.scale: has 3 values for 2 features"),
    ((*MV, "scale"), [1.0, 0.0], "multivariate.scale[1]: 0.0 is less than the minimum of 1e-300"),
    ((*MV, "components"), [[0.7, 0.7], [0.7, -0.7]],
     "multivariate.components: 2 components for 2 features (at most 1)"),
    ((*MV, "components"), [[0.7]], "multivariate.components[0]: has 1 values for 2 features"),
    ((*MV, "features"), ["x", "c"], 'multivariate.features: "c" is not a numeric feature of the baseline'),
    ((*MV, "features"), ["x", "z"], 'multivariate.features: "z" is not a numeric feature of the baseline'),
    ((*MV, "features"), ["x", "x"], "multivariate.features: holds the same name twice"),
    ((*MV, "components"), [], "multivariate.components: needs at least 1 item(s)"),
    (("columns",), ["x", "y", "c", "d"], 'features: column "d" has no profile'),
    (("columns",), ["x", "y"], 'features.c: "c" is not one of the columns'),
    (("source",), "s" * (schema.MAX_NAME + 1),
     f"source: is too long: {schema.MAX_NAME + 1} characters, more than the limit of {schema.MAX_NAME}"),
    (("created_by",), "m" * 201, "created_by: is too long: 201 characters, more than the limit of 200"),
]


@pytest.mark.parametrize(("path", "value", "want"), VIOLATIONS, ids=[w for *_, w in VIOLATIONS])
def test_each_violation_is_named_with_its_field(fresh_validator: None, path: tuple[Any, ...], value: Any,
                                                 want: str) -> None:
    assert _violation(path, value) == want


# values at the edge of each rule, all allowed
ALLOWED: list[tuple[tuple[Any, ...], Any]] = [
    ((*X, "cdf"), [0.0, 0.0, 1.0]),
    ((*X, "cdf"), [0.5, 0.5, 1.0]),
    ((*X, "cdf"), [0.25, 0.5, 1.0 - 5e-10]),
    ((*X, "min"), 1.0),
    ((*X, "edges"), [1, 2, 4]),
    ((*MV, "scale"), [1.0, 1e-300]),
    ((*MV, "components"), [[1.0, -1.0]]),
    ((*CT, "counts"), {"US": 2, "DE": 1, "FR": 1}),
    (("source",), "s" * schema.MAX_NAME),
    (("created_by",), "m" * 200),
    ((*CT, "shares"), {"US": 1.0, "DE": 0.0, "FR": 0}),
    ((*CT, "shares"), {"US": 1}),  # a share of a category counts does not name: refused
]


@pytest.mark.parametrize(("path", "value"), ALLOWED, ids=[repr(v)[:30] for _, v in ALLOWED])
def test_values_at_the_edge_of_each_rule_are_allowed(fresh_validator: None, path: tuple[Any, ...],
                                                     value: Any) -> None:
    if path == (*CT, "shares") and value == {"US": 1}:
        assert _violation(path, value) == f"features.c.shares: {NOT_SAME}"
        return
    assert _violation(path, value) is None


def test_counts_and_names_at_their_largest(fresh_validator: None) -> None:
    doc = _doc()
    big = 2**63 - 1
    doc["rows"] = big
    doc["features"]["c"].update(n=big, counts={"US": big}, shares={"US": 1.0})
    assert schema.first_violation(doc) is None
    long_name = "k" * schema.MAX_NAME
    doc["features"]["c"].update(n=1, counts={long_name: 1}, shares={long_name: 1.0})
    assert schema.first_violation(doc) is None
    longer = "k" * (schema.MAX_NAME + 1)
    doc["features"]["c"].update(n=1, counts={longer: 1}, shares={longer: 1.0})
    got = schema.first_violation(doc)
    assert got is not None and got.endswith(f"a category name is longer than {schema.MAX_NAME} characters")
    assert got.startswith('features.c.counts["' + "k" * 40 + '..."]')


def test_a_feature_with_no_values_has_no_edges(fresh_validator: None) -> None:
    doc = _doc()
    x = doc["features"]["x"]
    x.update(n=0, dropped=4, edges=[], cdf=[], mean=0.0, std=0.0, min=5.0, max=1.0)  # min > max: n = 0
    doc["multivariate"]["features"] = ["y", "x"]
    assert schema.first_violation(doc) is None
    x.update(edges=[1.0], cdf=[1.0], min=1.0, max=1.0)
    assert schema.first_violation(doc) == "features.x.edges: a feature with n = 0 has no edges"
    x.update(n=4, dropped=0, edges=[], cdf=[])
    assert schema.first_violation(doc) == "features.x.edges: a feature with n = 4 needs at least one edge"


def test_edges_in_all_are_limited(fresh_validator: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MAX_TOTAL_EDGES", 7)  # x holds 3 edges, y 4
    assert schema.first_violation(_doc()) is None
    monkeypatch.setattr(schema, "MAX_TOTAL_EDGES", 6)
    assert schema.first_violation(_doc()) == "features: hold 7 edges in all, more than the limit of 6"


def test_field_paths_are_written_as_a_reader_would_type_them() -> None:
    assert schema.field_path([]) == "(the document)"
    assert schema.field_path(["features", "x", "cdf", 3]) == "features.x.cdf[3]"
    assert schema.field_path([0, "a"]) == "[0].a"
    assert schema.field_path(["features", "a b", "n"]) == 'features["a b"].n'
    assert schema.field_path(["f", "1x"]) == 'f["1x"]'
    assert schema.field_path(["f", "k" * 80]) == "f." + "k" * 80
    assert schema.field_path(["f", "k" * 81]) == 'f["' + "k" * 80 + '..."]'
    assert schema.field_path(["f", "é" * 81]) == "f[" + json.dumps("é" * 80 + "...") + "]"


def test_long_messages_are_cut_and_limits_say_their_unit(fresh_validator: None) -> None:
    doc = _doc()
    doc["features"]["x"]["kind"] = "k" * 300
    got = schema.first_violation(doc)
    assert got is not None and got.startswith("features.x.kind: ")
    message = got[len("features.x.kind: "):]
    assert len(message) == 160 and message.endswith("...") and "\n" not in message
    doc = _doc()
    doc["left_out"] = {f"c{i}": "r" for i in range(schema.MAX_COLUMNS + 1)}
    assert schema.first_violation(doc) == (
        f"left_out: is too long: {schema.MAX_COLUMNS + 1} entries, more than the limit of "
        f"{schema.MAX_COLUMNS}")
    doc = _doc()
    doc["features"]["x"]["edges"] = list(range(schema.MAX_EDGES + 1))
    got = schema.first_violation(doc)
    assert got is not None and got.endswith(
        f": is too long: {schema.MAX_EDGES + 1} items, more than the limit of {schema.MAX_EDGES}")
    doc = _doc()
    doc["features"]["x"]["n"] = "4"
    assert schema.first_violation(doc) == "features.x.n: '4' is not of type 'integer'"


def test_the_first_number_too_large_for_a_float_is_found() -> None:
    inf = float("inf")
    assert schema.non_finite_path({"a": 1.0, "b": [1.0, 2.0], "c": {"d": [1, inf]}}) == ["c", "d", 1]
    assert schema.non_finite_path({"a": [1.0, -inf], "b": inf}) == ["a", 1]
    assert schema.non_finite_path([{"x": 1}, {"y": float("nan")}]) == [1, "y"]
    assert schema.non_finite_path({"a": [1, "x", inf]}) == ["a", 2]
    assert schema.non_finite_path({"a": [1.0, 2.0], "b": "inf"}) == []
    assert schema.non_finite_path(inf) == []  # the document itself: no path


def test_the_earliest_problem_of_an_array_is_named(fresh_validator: None) -> None:
    """A value above 1 at 1 and a decrease at 2: the one at 1 is named; and the other way round."""
    for cdf, want in (([0.5, 1.5, 0.25, 1.0], "features.x.cdf[1]: 1.5 is greater than the maximum of 1"),
                      ([0.5, 0.25, 1.5, 1.0], "features.x.cdf[1]: 0.25 decreases from the value before it"),
                      ([-0.5, 0.25, 0.1, 1.0], "features.x.cdf[0]: -0.5 is less than the minimum of 0")):
        doc = _doc()
        doc["features"]["x"].update(edges=[1.0, 2.0, 3.0, 4.0], cdf=cdf)
        assert schema.first_violation(doc) == want


def test_a_message_of_160_characters_is_shown_whole(fresh_validator: None) -> None:
    tail = " is not one of ['numeric', 'categorical']"
    for length, shown in ((160, None), (161, 160)):
        kind = "k" * (length - len(tail) - 2)  # its repr adds two quotes
        doc = _doc()
        doc["features"]["x"]["kind"] = kind
        got = schema.first_violation(doc)
        assert got is not None
        message = got[len("features.x.kind: "):]
        whole = repr(kind) + tail
        assert len(whole) == length
        assert message == (whole if shown is None else whole[:157] + "...")


def test_grid_edges_are_training_values_at_the_grid_quantiles() -> None:
    """1..10 on a grid of 3 edges: the quantiles 0, 0.5 and 1, each the smallest value with at
    least that share at or below it (5, not the 5.5 an interpolation gives)."""
    p = bl.numeric_profile(np.arange(10, 0, -1, dtype=np.float64), max_edges=3)
    assert not p.exact and list(p.edges) == [1.0, 5.0, 10.0] and list(p.cdf) == [0.1, 0.5, 1.0]
    assert (p.n, p.min, p.max, p.mean) == (10, 1.0, 10.0, 5.5)
    assert p.std == pytest.approx(float(np.std(np.arange(1, 11), ddof=1)), rel=1e-15)


def test_numbers_written_as_integers_are_read_as_floats(good: tuple[Path, dict[str, Any]]) -> None:
    """A baseline edited by hand may hold 2 for 2.0: every float field is read as a float."""
    path, body = good
    x = body["features"]["x"]
    x.update(mean=2, std=1, min=1, max=2, edges=[1, 2], cdf=[0.5, 1])
    body["reference_performance"] = {"accuracy": 1}
    _rewrite(path, body)
    b = bl.load(str(path))
    p = b.features[0].numeric
    assert p is not None
    for v in (p.mean, p.std, p.min, p.max, *p.edges, *p.cdf, b.reference_performance[0][1]):
        assert type(v) is float
    assert (p.mean, p.std, p.min, p.max) == (2.0, 1.0, 1.0, 2.0)
    assert type(p.n) is int and type(p.dropped) is int and type(p.exact) is bool
    counts = b.features[1].categorical
    assert counts is not None and counts.counts == (("a", 1), ("b", 1)) and type(counts.n) is int


def test_a_machine_out_of_file_handles_is_not_blamed_on_the_baseline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_handles(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(bl, "open", no_handles, raising=False)
    with pytest.raises(EnvironmentFailure) as info:
        bl.load(str(tmp_path / "b.json"))
    assert str(info.value) == (
        "the system refused a resource: Too many open files (raise the limit: ulimit -n)")


def test_spread_of_two_values_and_of_values_near_the_largest_float() -> None:
    two = bl.numeric_profile(np.array([1.0, 3.0]), max_edges=None)
    assert two.std == pytest.approx(2**0.5, rel=1e-15) and two.mean == 2.0
    huge = bl.numeric_profile(np.array([1.5e308, -1.5e308, 0.0]), max_edges=None)
    # deviations 1.5e308, -1.5e308, 0: the sample variance is (2 * 1.5e308**2) / 2
    assert huge.mean == 0.0 and huge.std == pytest.approx(1.5e308, rel=1e-15)


LONG = "n" * 100  # a name longer than the 80 characters a message shows


def test_long_names_are_cut_in_messages(fresh_validator: None) -> None:
    shown = json.dumps(LONG)[:80]  # the quote and 79 characters
    doc = _doc()
    doc["columns"].append(LONG)
    assert schema.first_violation(doc) == f"features: column {shown} has no profile"
    doc = _doc()
    doc["features"][LONG] = doc["features"].pop("c")
    doc["columns"] = ["x", "y"]
    got = schema.first_violation(doc)
    assert got == 'features["' + "n" * 80 + f'..."]: {shown} is not one of the columns'
    doc = _doc()
    doc["multivariate"]["features"] = ["x", LONG]
    assert schema.first_violation(doc) == (
        f"multivariate.features: {shown} is not a numeric feature of the baseline")
    doc = _doc()
    doc["features"]["c"]["counts"]["DE"] = LONG
    assert schema.first_violation(doc) == (
        f"features.c.counts.DE: {json.dumps(LONG)[:40]} is not a whole count")
    doc = _doc()
    doc["features"]["c"]["shares"]["DE"] = LONG
    assert schema.first_violation(doc) == f"features.c.shares.DE: {json.dumps(LONG)[:40]} is not a number"


def test_a_key_of_80_characters_is_shown_whole() -> None:
    key = "a b" + "k" * 77
    assert schema.field_path(["f", key]) == "f[" + json.dumps(key) + "]"
    assert schema.field_path(["f", key + "k"]) == "f[" + json.dumps(key + "...") + "]"


def test_the_share_named_is_the_one_out_of_range(fresh_validator: None) -> None:
    for shares in ({"US": 0.0, "DE": 1.5, "FR": 0.25}, {"US": 1.0, "DE": -0.5, "FR": 0.25}):
        doc = _doc()
        doc["features"]["c"]["shares"] = shares
        assert schema.first_violation(doc) == f"features.c.shares.DE: {shares['DE']!r} {NOT_SHARE}"


def test_rows_and_counts_agree_down_to_zero_rows(fresh_validator: None) -> None:
    doc = _doc()
    doc["rows"] = 0
    messages = {e.message for e in schema.validator().iter_errors(doc)}
    assert "n + dropped = 4 is more than the 0 rows" in messages
    doc = _doc()
    doc["features"]["x"] = [1, 2]  # not a profile: the features after it are still checked
    doc["features"]["y"]["n"] = 5
    assert schema.first_violation(doc) == "features.y.n: n + dropped = 5 is more than the 4 rows"


def test_a_feature_of_one_value_needs_an_edge_and_min_at_most_max(fresh_validator: None) -> None:
    doc = _doc()
    doc["features"]["x"].update(n=1, dropped=0, edges=[], cdf=[])
    messages = {e.message for e in schema.validator().iter_errors(doc)}
    assert "a feature with n = 1 needs at least one edge" in messages
    doc["features"]["x"].update(edges=[2.0], cdf=[1.0], min=3.0, max=1.0)
    messages = {e.message for e in schema.validator().iter_errors(doc)}
    assert "min 3.0 is above max 1.0" in messages
