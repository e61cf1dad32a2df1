"""The JSON Schema of a baseline file (version 1) and the check that every field obeys it.

jsonschema checks each field's type and range. Long number arrays (edges, CDFs) and large
category maps are checked by a few keywords of our own (`x-numbers`, `x-counts`, ...) that do
the same checks on the whole array at once: plain jsonschema spends ~10 us per number, which
is 20 s for a thousand features. Cross-field rules (one CDF value per edge, counts that add up
to n, columns that match the features) are keywords too, so every violation is reported the
same way: the field's path and what is wrong with it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

MAX_BASELINE_BYTES = 256 << 20
"""A baseline file larger than this is refused before it is parsed (a thousand numeric
features at the default grid take about 45 MB)."""
MAX_EDGES = 100_001
"""Quantile edges per numeric feature (the largest `mlmon baseline --grid`)."""
MAX_TOTAL_EDGES = 5_000_000
"""Quantile edges over all features (5,000 numeric features at the default grid)."""
MAX_CATEGORIES = 1_000_000
"""Distinct categories per categorical feature."""
MAX_COLUMNS = 100_000
"""Features per baseline."""
MAX_NAME = 65_536
"""Characters in a column name, a category or the source text."""
MAX_COUNT = 2**63 - 1
"""Largest row or value count (an int64)."""
CDF_SLACK = 1e-9
"""How far the last CDF value may sit from 1 (rounding of count / n)."""

_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
_NUMBER = {"type": "number", "minimum": -1.7976931348623157e308, "maximum": 1.7976931348623157e308}
"""A number that fits a float (an integer like 10**400 does not)."""

NUMERIC = {
    "type": "object",
    "required": ["kind", "n", "mean", "std", "min", "max", "exact", "dropped", "edges", "cdf"],
    "additionalProperties": False,
    "properties": {
        "kind": {"const": "numeric"},
        "n": _COUNT,
        "mean": _NUMBER,
        "std": {**_NUMBER, "minimum": 0},
        "min": _NUMBER,
        "max": _NUMBER,
        "exact": {"type": "boolean"},
        "dropped": _COUNT,
        "edges": {"type": "array", "maxItems": MAX_EDGES, "x-numbers": {"increasing": "strict"}},
        "cdf": {
            "type": "array",
            "maxItems": MAX_EDGES,
            "x-numbers": {"minimum": 0, "maximum": 1, "increasing": "non-strict"},
        },
    },
    "x-numeric-profile": True,
}

CATEGORICAL = {
    "type": "object",
    "required": ["kind", "n", "dropped", "counts"],
    "additionalProperties": False,
    "properties": {
        "kind": {"const": "categorical"},
        "n": _COUNT,
        "dropped": _COUNT,
        "counts": {"type": "object", "maxProperties": MAX_CATEGORIES, "x-counts": {"minimum": 1}},
        "shares": {"type": "object", "maxProperties": MAX_CATEGORIES, "x-shares": True},
    },
    "x-categorical-profile": True,
}

_PROFILE = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": ["numeric", "categorical"]}},
    "if": {"properties": {"kind": {"const": "numeric"}}},
    "then": NUMERIC,
    "else": CATEGORICAL,
}

PREDICTIONS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "class": {**CATEGORICAL, "properties": {**CATEGORICAL["properties"],  # type: ignore[dict-item]
                                                "kind": {"const": "categorical"}}},
        "confidence": NUMERIC,
        "value": NUMERIC,
    },
}
"""The predictions' profiles (optional: older baselines have none): the class is categorical,
the confidence and a regression value numeric."""

MAX_JOINT_FEATURES = 200
"""Numeric features in the joint model (mlmon.stats.joint.MAX_FEATURES)."""

MULTIVARIATE = {
    "type": "object",
    "required": ["method", "features", "mean", "scale", "components", "explained", "fit_rows",
                 "calibration_rows", "error_mean", "error_std"],
    "additionalProperties": False,
    "properties": {
        "method": {"const": "pca_reconstruction"},
        "features": {"type": "array", "minItems": 2, "maxItems": MAX_JOINT_FEATURES, "uniqueItems": True,
                     "items": {"type": "string", "maxLength": MAX_NAME}},
        "mean": {"type": "array", "maxItems": MAX_JOINT_FEATURES, "x-numbers": {}},
        "scale": {"type": "array", "maxItems": MAX_JOINT_FEATURES, "x-numbers": {"minimum": 1e-300}},
        "components": {"type": "array", "minItems": 1, "maxItems": MAX_JOINT_FEATURES - 1,
                       "items": {"type": "array", "maxItems": MAX_JOINT_FEATURES,
                                 "x-numbers": {"minimum": -1, "maximum": 1}}},
        "explained": {"type": "number", "minimum": 0, "maximum": 1},
        "fit_rows": {**_COUNT, "minimum": 2},
        "calibration_rows": {**_COUNT, "minimum": 2},
        "error_mean": {**_NUMBER, "minimum": 0},
        "error_std": {**_NUMBER, "minimum": 0},
    },
    "x-multivariate": True,
}
"""The joint test's PCA model (optional: older baselines have none)."""

_NAMED_REASONS: dict[str, Any] = {
    "type": "object",
    "maxProperties": MAX_COLUMNS,
    "propertyNames": {"maxLength": MAX_NAME},
    "additionalProperties": {"type": "string", "maxLength": 500},
}
"""Columns (or their values) not in the baseline, each with the reason."""

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "mlmon baseline, version 1",
    "type": "object",
    "required": ["format", "version", "source", "rows", "columns", "features", "checksum"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": "mlmon-baseline"},
        "version": {"type": "integer", "const": 1},
        "created_by": {"type": "string", "maxLength": 200},
        "source": {"type": "string", "maxLength": MAX_NAME},
        "rows": _COUNT,
        "columns": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_COLUMNS,
            "uniqueItems": True,
            "items": {"type": "string", "maxLength": MAX_NAME},
        },
        "left_out": _NAMED_REASONS,
        "values_left_out": _NAMED_REASONS,
        "reference_performance": {
            "type": "object",
            "maxProperties": 1000,
            "propertyNames": {"minLength": 1, "maxLength": MAX_NAME},
            "additionalProperties": {"type": "number"},
        },
        "features": {
            "type": "object",
            "maxProperties": MAX_COLUMNS,
            "propertyNames": {"maxLength": MAX_NAME},
            "additionalProperties": _PROFILE,
        },
        "predictions": PREDICTIONS,
        "multivariate": MULTIVARIATE,
        "checksum": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
    },
    "x-baseline": True,
}


def _err(message: str, *path: str | int) -> Any:
    from jsonschema import ValidationError

    return ValidationError(message, path=list(path))


def _is_numbers(values: list[Any]) -> bool:
    """Every item an int or a float, and nothing else (not a bool, not a string)."""
    return set(map(type, values)) <= {int, float}


def _as_floats(values: list[Any]) -> np.ndarray | None:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (OverflowError, ValueError, TypeError):
        return None
    return arr if bool(np.all(np.isfinite(arr))) else None


def _fits_float(v: int | float) -> bool:
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _numbers(validator: Any, spec: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    """`x-numbers`: an array of finite numbers, within bounds, optionally increasing."""
    if not isinstance(instance, list) or not instance:
        return
    if not _is_numbers(instance):
        i = next(i for i, v in enumerate(instance) if type(v) not in (int, float))
        yield _err(f"{json.dumps(instance[i])[:40]} is not a number", i)
        return
    arr = _as_floats(instance)
    if arr is None:
        i = next(i for i, v in enumerate(instance) if not _fits_float(v))
        yield _err(f"{str(instance[i])[:40]} is too large for a float", i)
        return
    problems: list[tuple[int, str]] = []
    if "minimum" in spec and (low := arr < spec["minimum"]).any():
        i = _first(low)
        problems.append((i, f"{instance[i]!r} is less than the minimum of {spec['minimum']}"))
    if "maximum" in spec and (high := arr > spec["maximum"]).any():
        i = _first(high)
        problems.append((i, f"{instance[i]!r} is greater than the maximum of {spec['maximum']}"))
    step = np.diff(arr)
    if spec.get("increasing") == "strict" and (bad := step <= 0).any():
        i = _first(bad) + 1
        problems.append((i, f"{instance[i]!r} does not increase strictly from the value before it"))
    elif spec.get("increasing") == "non-strict" and (bad := step < 0).any():
        i = _first(bad) + 1
        problems.append((i, f"{instance[i]!r} decreases from the value before it"))
    if problems:
        i, message = min(problems)
        yield _err(message, i)


def _counts(validator: Any, spec: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    """`x-counts`: an object of category -> whole count within bounds."""
    if not isinstance(instance, dict) or not instance:
        return
    values = list(instance.values())
    if set(map(type, values)) != {int}:
        key = next(k for k, v in instance.items() if type(v) is not int)
        yield _err(f"{json.dumps(instance[key])[:40]} is not a whole count", key)
        return
    low = next((k for k, v in instance.items() if v < spec["minimum"] or v > MAX_COUNT), None)
    if low is not None:
        yield _err(f"{instance[low]} is not a count from {spec['minimum']} to {MAX_COUNT}", low)
    for key in instance:
        if len(key) > MAX_NAME:
            yield _err(f"a category name is longer than {MAX_NAME} characters", key[:40] + "...")
            return


def _shares(validator: Any, spec: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """`x-shares`: an object of category -> share in [0, 1]."""
    if not isinstance(instance, dict) or not instance:
        return
    values = list(instance.values())
    if not _is_numbers(values):
        key = next(k for k, v in instance.items() if type(v) not in (int, float))
        yield _err(f"{json.dumps(instance[key])[:40]} is not a number", key)
        return
    arr = _as_floats(values)
    if arr is None or ((arr < 0) | (arr > 1)).any():
        key = next(k for k, v in instance.items() if not (_fits_float(v) and 0 <= v <= 1))
        yield _err(f"{instance[key]!r} is not a share from 0 to 1", key)


def _numeric_profile(validator: Any, spec: Any, d: Any, schema: Any) -> Iterator[Any]:
    """`x-numeric-profile`: the fields of a numeric feature agree with each other."""
    if not isinstance(d, dict) or not all(k in d for k in NUMERIC["required"]):  # type: ignore[attr-defined]
        return  # "required" reports it
    edges, cdf, n = d["edges"], d["cdf"], d["n"]
    if not (isinstance(edges, list) and isinstance(cdf, list) and type(n) is int):
        return  # the field's own type check reports it
    if len(edges) != len(cdf):
        yield _err(f"has {len(cdf)} values for {len(edges)} edges (one value per edge)", "cdf")
        return
    if n == 0 and edges:
        yield _err("a feature with n = 0 has no edges", "edges")
    if n > 0 and not edges:
        yield _err(f"a feature with n = {n} needs at least one edge", "edges")
    if cdf and _is_numbers(cdf) and abs(float(cdf[-1]) - 1.0) > CDF_SLACK:
        yield _err(f"the last CDF value is {cdf[-1]!r}, not 1", "cdf", len(cdf) - 1)
    lo, hi = d["min"], d["max"]
    numbers = all(type(v) in (int, float) for v in (lo, hi))
    if numbers and n > 0 and lo > hi:
        yield _err(f"min {lo!r} is above max {hi!r}", "min")
    if numbers and edges and _is_numbers(edges) and (edges[0] < lo or edges[-1] > hi):
        yield _err(f"edges run from {edges[0]!r} to {edges[-1]!r}, outside min..max", "edges")


def _multivariate(validator: Any, spec: Any, d: Any, schema: Any) -> Iterator[Any]:
    """`x-multivariate`: one mean and scale per feature, each component a feature wide, fewer
    components than features."""
    if not isinstance(d, dict) or not all(isinstance(d.get(k), list) for k in ("features", "mean", "scale",
                                                                               "components")):
        return
    width = len(d["features"])
    for key in ("mean", "scale"):
        if len(d[key]) != width:
            yield _err(f"has {len(d[key])} values for {width} features", key)
    if len(d["components"]) >= width:
        yield _err(f"{len(d['components'])} components for {width} features (at most {width - 1})",
                   "components")
    for i, row in enumerate(d["components"]):
        if isinstance(row, list) and len(row) != width:
            yield _err(f"has {len(row)} values for {width} features", "components", i)
            return


def _categorical_profile(validator: Any, spec: Any, d: Any, schema: Any) -> Iterator[Any]:
    """`x-categorical-profile`: the counts add up to n; shares, when present, match them."""
    if not isinstance(d, dict) or not isinstance(d.get("counts"), dict) or type(d.get("n")) is not int:
        return
    counts = d["counts"]
    if set(map(type, counts.values())) - {int}:
        return  # x-counts reports it
    total = sum(counts.values())
    if total != d["n"]:
        yield _err(f"the counts add up to {total}, not n = {d['n']}", "counts")
    shares = d.get("shares")
    if isinstance(shares, dict) and total and set(shares) != set(counts):
        yield _err("does not name the same categories as counts", "shares")


def _baseline(validator: Any, spec: Any, body: Any, schema: Any) -> Iterator[Any]:
    """`x-baseline`: one feature per column, and no row count below a feature's."""
    if not isinstance(body, dict):
        return
    columns, features, rows = body.get("columns"), body.get("features"), body.get("rows")
    if isinstance(columns, list) and isinstance(features, dict):
        names = [c for c in columns if isinstance(c, str)]
        missing = next((c for c in names if c not in features), None)
        if missing is not None:
            yield _err(f"column {json.dumps(missing)[:80]} has no profile", "features")
        named = set(names)  # once: a set per feature made this quadratic in the feature count
        extra = next((f for f in features if f not in named), None)
        if extra is not None:
            yield _err(f"{json.dumps(extra)[:80]} is not one of the columns", "features", extra)
        joint = body.get("multivariate")
        if features and missing is None and extra is None and isinstance(joint, dict) \
                and isinstance(joint.get("features"), list):
            bad = next((f for f in joint["features"] if isinstance(f, str) and (
                f not in features or (isinstance(features[f], dict)
                                      and features[f].get("kind") == "categorical"))), None)
            if bad is not None:
                yield _err(f"{json.dumps(bad)[:80]} is not a numeric feature of the baseline",
                           "multivariate", "features")
    if isinstance(features, dict):
        total = sum(len(d["edges"]) for d in features.values()
                    if isinstance(d, dict) and isinstance(d.get("edges"), list))
        if total > MAX_TOTAL_EDGES:
            yield _err(f"hold {total} edges in all, more than the limit of {MAX_TOTAL_EDGES}", "features")
    if type(rows) is int and rows >= 0 and isinstance(features, dict):
        for name, d in features.items():
            if not isinstance(d, dict):
                continue
            n, dropped = d.get("n"), d.get("dropped")
            if type(n) is int and type(dropped) is int and n + dropped > rows:
                yield _err(f"n + dropped = {n + dropped} is more than the {rows} rows", "features", name, "n")


_VALIDATOR: Any = None


def validator() -> Any:
    """The baseline validator (built once; importing jsonschema takes a moment)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        from jsonschema import Draft202012Validator, validators

        cls = validators.extend(
            Draft202012Validator,
            {
                "x-numbers": _numbers,
                "x-counts": _counts,
                "x-shares": _shares,
                "x-numeric-profile": _numeric_profile,
                "x-categorical-profile": _categorical_profile,
                "x-baseline": _baseline,
                "x-multivariate": _multivariate,
            },
        )
        _VALIDATOR = cls(SCHEMA)
    return _VALIDATOR


def field_path(parts: Any) -> str:
    """`features["x y"].cdf[3]` from the parts of a JSON path."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p.isidentifier() and len(p) <= 80:
            out += ("." if out else "") + p
        else:
            out += "[" + json.dumps(p if len(p) <= 80 else p[:80] + "...") + "]"
    return out or "(the document)"


def first_violation(body: Any) -> str | None:
    """`path: what is wrong` for the first violation in document order, or None when valid."""
    from jsonschema.exceptions import relevance

    errors = list(validator().iter_errors(body))
    if not errors:
        return None
    # the error on the deepest field says the most: `features.x.kind: 'text' is not one of ...`
    # rather than its consequence `features.x: 'counts' is a required property`
    best = max(errors, key=lambda e: (len(e.absolute_path), relevance(e)))
    return f"{field_path(best.absolute_path)}: {_message(best)}"


def _message(error: Any) -> str:
    limits = {"maxItems": "items", "maxProperties": "entries", "maxLength": "characters"}
    if error.validator in limits:
        size = len(error.instance) if hasattr(error.instance, "__len__") else "too many"
        unit = limits[error.validator]
        return f"is too long: {size} {unit}, more than the limit of {error.validator_value}"
    if error.validator == "minItems":
        return f"needs at least {error.validator_value} item(s)"
    if error.validator == "uniqueItems":
        return "holds the same name twice"
    text = str(error.message).replace("\n", " ")
    if len(text) > 160:
        text = text[:157] + "..."
    return text


def non_finite_path(doc: Any) -> list[str | int]:
    """The path of the first number in `doc` that is not finite (json parses 1e400 as inf)."""
    stack: list[tuple[list[str | int], Any]] = [([], doc)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return path
        if isinstance(v, dict):
            stack.extend((path + [k], x) for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            if v and set(map(type, v)) <= {int, float} and _as_floats(v) is not None:
                continue
            stack.extend((path + [i], x) for i, x in reversed(list(enumerate(v))))
    return []
