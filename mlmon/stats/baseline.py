"""Training-data profiles: build one from a table, save it as versioned JSON, load and check it."""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon import __version__
from mlmon.errors import BaselineError, raise_if_environment
from mlmon.read.records import Kind, normalize_category
from mlmon.read.tables import infer_kinds, to_number, to_text, utf8_or_null
from mlmon.stats.effects import moments
from mlmon.stats.joint import MAX_FEATURES as MAX_JOINT_FEATURES
from mlmon.stats.joint import PcaModel
from mlmon.stats.joint import fit as fit_joint

PREDICTIONS = {"class": "prediction.class", "confidence": "prediction.confidence",
               "value": "prediction.value"}
"""The predictions a baseline may profile: their key in the file, and their name in results and
rules (`drift.prediction.class`)."""
FORMAT = "mlmon-baseline"
VERSION = 1
GRID_EDGES = 1001
"""Quantile edges kept per numeric feature in a saved baseline (1000 bins)."""


@dataclass(frozen=True)
class NumericProfile:
    n: int
    mean: float
    std: float
    min: float
    max: float
    edges: Sequence[float]
    """Sorted distinct values at which the training CDF is known exactly (an array of 8-byte
    floats, not a tuple: a baseline of 10,000 features x 400 edges is then 64 MB, not 250)."""
    cdf: Sequence[float]
    """Share of training values <= each edge."""
    exact: bool
    """True when the edges are every distinct training value (KS D is then exact)."""
    dropped: int = 0
    """Training values left out as missing or not finite."""


@dataclass(frozen=True)
class CategoricalProfile:
    n: int
    counts: tuple[tuple[str, int], ...]
    """(category, count), most common first."""
    dropped: int = 0


@dataclass(frozen=True)
class FeatureProfile:
    name: str
    kind: Kind
    numeric: NumericProfile | None = None
    categorical: CategoricalProfile | None = None


@dataclass(frozen=True)
class Baseline:
    """What the training data looked like, feature by feature, in column order."""

    source: str
    rows: int
    features: tuple[FeatureProfile, ...]
    left_out: tuple[tuple[str, str], ...] = ()
    """Columns of the training data that are not in the baseline, each with the reason."""
    values_left_out: tuple[tuple[str, str], ...] = ()
    """Features profiled without some of their values, each with the reason (also in `dropped`)."""
    predictions: tuple[FeatureProfile, ...] = ()
    """The model's predictions in the reference, each profiled like a feature and named by
    PREDICTIONS (`prediction.class`, `prediction.confidence`, `prediction.value`); empty for a
    baseline without them (every baseline written before they existed)."""
    multivariate: PcaModel | None = None
    """The joint test's model of the numeric features (mlmon.stats.joint); None when there is
    none (fewer than two numeric features, too few complete rows, or an older baseline)."""
    multivariate_note: str = ""
    """Why there is no joint model, when there is none and the baseline was made by this mlmon."""
    reference_performance: tuple[tuple[str, float], ...] = ()
    """The model's performance on its test set (`accuracy`, `auc`, `mae`...), given with
    `mlmon baseline --reference-metric NAME=VALUE`: what `quality_drop.<metric>` compares with."""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)


def floats(values: Any) -> array[float]:
    """Numbers as a compact array of 8-byte floats (compares equal to another such array)."""
    if isinstance(values, np.ndarray):
        out = array("d")
        out.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
        return out
    return array("d", values)


def numeric_profile(values: np.ndarray, *, max_edges: int | None) -> NumericProfile:
    """Profile of finite numbers; `max_edges=None` keeps every distinct value (exact)."""
    finite = values[np.isfinite(values)]
    dropped = len(values) - len(finite)
    n = len(finite)
    if n == 0:
        return NumericProfile(0, 0.0, 0.0, 0.0, 0.0, floats(()), floats(()), True, dropped)
    s = np.sort(finite)
    uniq, counts = np.unique(s, return_counts=True)
    if max_edges is None or len(uniq) <= max_edges:
        edges = uniq
        cdf = np.cumsum(counts) / n
        exact = True
    else:
        edges = np.unique(np.quantile(s, np.linspace(0, 1, max_edges), method="inverted_cdf"))
        cdf = np.searchsorted(s, edges, side="right") / n
        exact = False
    mean, m2, scale = moments(s)  # scaled first: values near 1.7e308 do not overflow
    std = math.sqrt(m2 / (n - 1)) * scale if n > 1 else 0.0
    return NumericProfile(
        n,
        mean,
        std,
        float(s[0]),
        float(s[-1]),
        floats(edges),
        floats(cdf),
        exact,
        dropped,
    )


def categorical_profile(values: pa.Array) -> CategoricalProfile:
    values = normalize_category(values)
    present = pc.drop_null(values)
    dropped = len(values) - len(present)
    vc = pc.value_counts(present).to_pylist() if len(present) else []
    counts = tuple(sorted(((d["values"], int(d["counts"])) for d in vc), key=lambda kv: (-kv[1], kv[0])))
    return CategoricalProfile(len(present), counts, dropped)


def build(
    table: pa.Table,
    *,
    source: str,
    max_edges: int | None = GRID_EDGES,
    exclude: set[str] | None = None,
) -> Baseline:
    """Profile every column of a training table (except `exclude`, e.g. the timestamp).

    Columns that cannot be a feature (no values, not valid UTF-8, dates, lists) are left out
    and named in `left_out` with the reason; none is dropped without a word."""
    table, left_out, values_left_out = usable_columns(table, exclude or set())
    kinds = infer_kinds(table, exclude=exclude or set())
    if not kinds:
        why = "; ".join(f"{name!r}: {reason}" for name, reason in left_out[:5])
        raise BaselineError(f"{source}: no feature columns to profile" + (f" ({why})" if why else ""))
    features = []
    numbers: dict[str, np.ndarray] = {}
    for name, kind in kinds.items():
        col = table.column(name).combine_chunks()
        if kind is Kind.NUMERIC:
            arr, _ = to_number(col, len(col))
            values = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
            numbers[name] = values
            features.append(FeatureProfile(name, kind, numeric=numeric_profile(values, max_edges=max_edges)))
        else:
            text, _ = to_text(col, len(col))
            features.append(FeatureProfile(name, kind, categorical=categorical_profile(text)))
    model, note = joint_model(numbers, table.num_rows)
    return Baseline(source, table.num_rows, tuple(features), tuple(left_out), tuple(values_left_out),
                    multivariate=model, multivariate_note=note)


def joint_model(numbers: dict[str, np.ndarray], rows: int) -> tuple[PcaModel | None, str]:
    """The joint test's model from each numeric feature's values (row-aligned, NaN = missing)."""
    if not 2 <= len(numbers) <= MAX_JOINT_FEATURES:  # fit says why, before a matrix is made
        return fit_joint(list(numbers), np.empty((0, len(numbers))))
    matrix = np.empty((rows, len(numbers)), dtype=np.float64)
    for j, values in enumerate(numbers.values()):
        matrix[:, j] = values
    return fit_joint(list(numbers), matrix)


def usable_columns(
    table: pa.Table, exclude: set[str]
) -> tuple[pa.Table, list[tuple[str, str]], list[tuple[str, str]]]:
    """The training table with text that is not UTF-8 made missing (a column with no valid
    value left out) and decimals made floats; the columns left out and the values left out,
    each with the reason."""
    left_out: list[tuple[str, str]] = []
    values_left_out: list[tuple[str, str]] = []
    keep: list[int] = []
    for i, fld in enumerate(table.schema):
        if fld.name in exclude:
            keep.append(i)
            continue
        t = fld.type
        col = table.column(i).combine_chunks()
        reason = None
        if pa.types.is_null(t) or col.null_count == len(col):
            reason = "no values"
        elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
            text, bad = utf8_or_null(col)
            if int(bad.sum()) == len(col) - col.null_count:
                reason = "no value is valid UTF-8"
            else:
                if bad.any():
                    values_left_out.append(
                        (fld.name, f"{int(bad.sum())} of {len(col) - col.null_count} values not valid UTF-8")
                    )
                table = table.set_column(i, fld.name, text)
        elif pa.types.is_decimal(t):
            table = table.set_column(i, fld.name, pc.cast(col, pa.float64(), safe=False))
        elif pa.types.is_temporal(t):
            reason = f"dates and times ({t}) are not features"
        elif pa.types.is_nested(t):
            reason = f"lists and objects ({t}) are not features"
        elif not (
            pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
        ):
            reason = f"values of type {t} are not features"
        if reason is None:
            keep.append(i)
        else:
            left_out.append((fld.name, reason))
    return table.select(keep), left_out, values_left_out


def _profile_json(f: FeatureProfile) -> dict[str, Any]:
    if f.numeric is not None:
        p = f.numeric
        return {
                "kind": f.kind.value,
                "n": p.n,
                "mean": p.mean,
                "std": p.std,
                "min": p.min,
                "max": p.max,
                "exact": p.exact,
                "dropped": p.dropped,
                "edges": list(p.edges),
                "cdf": list(p.cdf),
            }
    c = f.categorical
    assert c is not None
    return {
        "kind": f.kind.value,
        "n": c.n,
        "dropped": c.dropped,
        "counts": dict(c.counts),
        "shares": {k: v / c.n for k, v in c.counts} if c.n else {},
    }


def _joint_json(m: PcaModel) -> dict[str, Any]:
    return {
        "method": "pca_reconstruction",
        "features": list(m.features),
        "mean": list(m.mean),
        "scale": list(m.scale),
        "components": [list(r) for r in m.components],
        "explained": m.explained,
        "fit_rows": m.fit_rows,
        "calibration_rows": m.calibration_rows,
        "error_mean": m.error_mean,
        "error_std": m.error_std,
    }


def to_json(b: Baseline) -> dict[str, Any]:
    feats = {f.name: _profile_json(f) for f in b.features}
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created_by": f"mlmon {__version__}",
        "source": b.source,
        "rows": b.rows,
        "columns": list(b.columns),
        "features": feats,
    }
    if b.predictions:
        keys = {v: k for k, v in PREDICTIONS.items()}
        body["predictions"] = {keys[f.name]: _profile_json(f) for f in b.predictions}
    if b.multivariate is not None:
        body["multivariate"] = _joint_json(b.multivariate)
    if b.left_out:
        body["left_out"] = dict(b.left_out)
    if b.values_left_out:
        body["values_left_out"] = dict(b.values_left_out)
    if b.reference_performance:
        body["reference_performance"] = dict(b.reference_performance)
    body["checksum"] = _checksum(body)
    return body


def _checksum(body: dict[str, Any]) -> str:
    payload = {k: v for k, v in body.items() if k != "checksum"}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def dumps(b: Baseline) -> str:
    """The baseline file's text: versioned JSON with a checksum. Checked with the reader's own
    schema and size limit first (one set of limits): a baseline that `load` would refuse (a
    feature of 1,000,001 categories, a file over 256 MiB) is never written (BaselineError, 65)."""
    from mlmon.stats import baseline_schema as schema

    doc = to_json(b)
    problem = schema.first_violation(doc)
    if problem is not None:
        raise BaselineError(f"cannot write this baseline, drift would refuse it: {problem}")
    text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    if len(text) > schema.MAX_BASELINE_BYTES:
        raise BaselineError(
            f"cannot write this baseline: {len(text) >> 20} MiB, over the {schema.MAX_BASELINE_BYTES >> 20} "
            "MiB drift reads; build it with a smaller --grid or fewer columns"
        )
    return text


def save(b: Baseline, path: str) -> None:
    """Write through mlmon.outfile: atomic for a regular file, written into for a device or FIFO,
    `-` for stdout. Raises OutputError when it cannot be written."""
    from mlmon.outfile import write_output

    write_output(path, dumps(b))


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def load(path: str) -> Baseline:
    """Read and check a baseline file; anything else is refused with a clear message.

    Every field is checked against the baseline schema (mlmon.stats.baseline_schema) before
    it is used, also when the checksum matches: the checksum catches damage, not edits."""
    from mlmon.errors import NoInputError
    from mlmon.stats import baseline_schema as schema

    try:
        with open(path, "rb") as fh:
            data = fh.read(schema.MAX_BASELINE_BYTES + 1)
    except OSError as exc:
        raise_if_environment(exc)
        raise NoInputError(f"cannot read baseline {path!r}: {exc.strerror or exc}") from None
    if len(data) > schema.MAX_BASELINE_BYTES:
        raise BaselineError(
            f"{path} is larger than {schema.MAX_BASELINE_BYTES >> 20} MiB, the most a baseline may be; "
            "build it with a smaller --grid"
        )
    if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q"):
        raise BaselineError(
            f"{path} looks like a Python pickle; mlmon never loads pickles "
            "(they can run code). Make a baseline with `mlmon baseline TRAINING_DATA -o FILE`."
        )
    try:
        body = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BaselineError(
            f"{path} is not a JSON baseline ({_short(exc)}); make one with `mlmon baseline TRAINING_DATA "
            "-o FILE`, or give training data with --reference"
        ) from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise BaselineError(f'{path} is not an mlmon baseline (no "format": "{FORMAT}")')
    version = body.get("version")
    if type(version) is not int or version != VERSION:
        raise BaselineError(
            f"{path} is baseline format version {json.dumps(version)[:40]}; this mlmon reads "
            f"version {VERSION}. Rebuild it with `mlmon baseline`."
        )
    try:
        checksum = _checksum(body)
    except ValueError:  # a number too large for a float (1e400) was parsed as infinity
        where = schema.field_path(schema.non_finite_path(body))
        raise BaselineError(
            f"{path}: invalid baseline: {where}: a number too large for a float (like 1e400)"
        ) from None
    if body.get("checksum") != checksum:
        raise BaselineError(f"{path}: checksum does not match its content (edited or damaged)")
    problem = schema.first_violation(body)
    if problem is not None:
        raise BaselineError(f"{path}: invalid baseline: {problem}")
    return _from_json(body)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _profile_from(name: str, d: dict[str, Any]) -> FeatureProfile:
    kind = Kind(d["kind"])
    if kind is Kind.NUMERIC:
        p = NumericProfile(
            int(d["n"]),
            float(d["mean"]),
            float(d["std"]),
            float(d["min"]),
            float(d["max"]),
            floats(d["edges"]),
            floats(d["cdf"]),
            bool(d["exact"]),
            int(d["dropped"]),
        )
        return FeatureProfile(str(name), kind, numeric=p)
    counts = tuple((str(k), int(v)) for k, v in d["counts"].items())
    profile = CategoricalProfile(int(d["n"]), counts, int(d["dropped"]))
    return FeatureProfile(str(name), kind, categorical=profile)


def _joint_from(d: dict[str, Any]) -> PcaModel:
    return PcaModel(
        tuple(str(f) for f in d["features"]),
        floats(d["mean"]),
        floats(d["scale"]),
        tuple(tuple(float(v) for v in r) for r in d["components"]),
        float(d["explained"]),
        int(d["fit_rows"]),
        int(d["calibration_rows"]),
        float(d["error_mean"]),
        float(d["error_std"]),
    )


def _from_json(body: dict[str, Any]) -> Baseline:
    feats = [_profile_from(str(name), body["features"][name]) for name in body["columns"]]
    preds = tuple(_profile_from(PREDICTIONS[k], body["predictions"][k])
                  for k in PREDICTIONS if k in body.get("predictions", {}))
    joint = body.get("multivariate")
    return Baseline(
        str(body["source"]),
        int(body["rows"]),
        tuple(feats),
        tuple((str(k), str(v)) for k, v in body.get("left_out", {}).items()),
        tuple((str(k), str(v)) for k, v in body.get("values_left_out", {}).items()),
        preds,
        _joint_from(joint) if joint is not None else None,
        "" if joint is not None else "the baseline has no joint model (made before mlmon had one, "
        "or from fewer than two numeric features); rebuild it with `mlmon baseline` to test joint drift",
        tuple((str(k), float(v)) for k, v in body.get("reference_performance", {}).items()),
    )
