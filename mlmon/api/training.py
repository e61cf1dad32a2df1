"""Reference data for drift: training files and prediction logs profiled into a baseline."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlmon.api.selection import Budget, Selection, _read
from mlmon.errors import DataError, NoInputError, OptionError, raise_if_environment
from mlmon.read.reader import ReadOptions, check_budget
from mlmon.read.records import (
    CONFIDENCE,
    FEATURE_PREFIX,
    PRED_CLASS,
    PRED_VALUE,
    FeatureSpec,
    Kind,
    ReadPlan,
    normalize_category,
)
from mlmon.read.sources import DEFAULT_MAX_RATIO, Format, ReadNotes, Source, expand, open_source
from mlmon.read.tables import excel_separator, sniff_delimiter
from mlmon.stats import baseline as baseline_mod
from mlmon.stats.baseline import Baseline

CSV_TRAINING_BLOCK = 16 << 20
"""pyarrow's block for training CSV: a row longer than this is refused, naming the size."""
MAX_TRAINING_BYTES = 1 << 30
"""Most bytes of training data (after decompression) read: it is read whole to be profiled, so
`/dev/zero`, a never-ending pipe or a compression bomb stops here with exit 65."""


def _read_whole(stream: Any, name: str) -> bytes:
    """The whole training file, at most MAX_TRAINING_BYTES (a DataError past that)."""
    data = stream.read(MAX_TRAINING_BYTES + 1)
    if len(data) > MAX_TRAINING_BYTES:
        raise DataError(
            f"{name}: training data larger than {MAX_TRAINING_BYTES:,} bytes (it is read whole to "
            "be profiled); give a sample of it, or Parquet"
        )
    return bytes(data)


def _read_parquet(pf: Any, name: str, limit: int) -> pa.Table:
    """The whole Parquet training file, decoded batch by batch, at most `limit` bytes of columns
    (a DataError past that): a file of a few kilobytes can decode to gigabytes."""
    batches = []
    decoded = 0
    for batch in pf.iter_batches(batch_size=65536):
        decoded += batch.nbytes
        if decoded > limit:
            raise DataError(
                f"{name}: training data decodes to more than {limit:,} bytes (it is read whole to "
                "be profiled); give a sample of it"
            )
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=pf.schema_arrow)


def _refuse_device(source: Source) -> None:
    """A device (`/dev/zero`, `/dev/urandom`) is never training data: it never ends."""
    import os
    import stat

    if source.path == "-":
        return
    try:
        mode = os.stat(source.path).st_mode
    except OSError:
        return  # open_source says why
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise DataError(f"{source.name}: a device, not a training data file")


def load_training(
    path: str,
    *,
    exclude: set[str] | None = None,
    max_edges: int | None = baseline_mod.GRID_EDGES,
    named: frozenset[str] = frozenset(),
    max_bytes: int | None = None,
    max_ratio: float | None = None,
) -> Baseline:
    """Profile training data from CSV, Parquet or JSON lines (flat objects, or `input.features`).

    `named`: columns the user asked to leave out (`--exclude`); each must be a column (a typo
    would profile the column meant, an ID or a label, as a feature). `max_bytes` and
    `max_ratio`: --max-decompressed-bytes and --max-decompression-ratio (at most
    MAX_TRAINING_BYTES is read, compressed or not). `exclude` defaults to the timestamp column;
    `max_edges` to the grid of `mlmon baseline` (None: every distinct value, exact KS)."""
    if not isinstance(path, str | os.PathLike):
        hint = "; for a DataFrame use mlmon.Baseline.from_frame(df)" if hasattr(path, "columns") else ""
        what = type(path).__name__
        raise OptionError(f"load_training takes the path of one training file, not {what}{hint}")
    path = os.fspath(path)
    if exclude is None:
        exclude = {"timestamp"}
    table, name = training_table(path, max_bytes=max_bytes, max_ratio=max_ratio)
    for col in sorted(named - set(table.column_names)):
        import difflib

        close = difflib.get_close_matches(col, table.column_names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "columns: " + ", ".join(table.column_names[:12])
        raise OptionError(f"--exclude {col!r}: {name} has no such column; {hint}")
    return baseline_mod.build(table, source=name, max_edges=max_edges, exclude=exclude)


def training_table(
    path: str, *, max_bytes: int | None = None, max_ratio: float | None = None
) -> tuple[pa.Table, str]:
    """One training file (CSV, Parquet or JSON lines) read whole as a table, and its name."""
    sources = expand([path])
    if len(sources) != 1:
        raise NoInputError(f"training data must be one file; {path!r} names {len(sources)}")
    source: Source = sources[0]
    notes = ReadNotes()
    _refuse_device(source)
    limit = min(max_bytes or MAX_TRAINING_BYTES, MAX_TRAINING_BYTES)
    stream, fmt = open_source(
        source, notes, max_decompressed_bytes=limit, max_ratio=max_ratio or DEFAULT_MAX_RATIO
    )
    try:
        if fmt is Format.PARQUET:
            import pyarrow.parquet as pq

            stream.close()
            table = _read_parquet(pq.ParquetFile(source.path), source.name, limit)
        elif fmt is Format.CSV:
            import pyarrow.csv as pcsv

            data = _read_whole(stream, source.name)
            first = data[: data.find(b"\n")]
            hint = excel_separator(first)
            if hint is not None:  # Excel's `sep=;` line: the header is the next line
                data = data[data.find(b"\n") + 1 :]
            delim = hint or sniff_delimiter(data[: data.find(b"\n")], source.path)
            try:
                table = pcsv.read_csv(
                    pa.BufferReader(data),
                    read_options=pcsv.ReadOptions(block_size=CSV_TRAINING_BLOCK),
                    parse_options=pcsv.ParseOptions(delimiter=delim),
                )
            except pa.ArrowInvalid as exc:
                where = _bad_csv_row(data, delim, skipped=1 if hint is not None else 0)
                if where is None:
                    raise
                raise DataError(
                    f"{source.name}:{where}: cannot read training data as csv: {_first_line(exc)}"
                    " (training data is read whole: mend or drop that row)"
                ) from None
        else:
            import pyarrow.json as pj

            from mlmon.read.jsonlines import too_deep_line

            data = _read_whole(stream, source.name)
            if b'"format": "mlmon-baseline"' in data[:200]:
                raise DataError(
                    f"{source.name} is an mlmon baseline, not training data (drift, trend, compare and "
                    "check take it with --baseline)"
                )
            deep = too_deep_line(data)
            if deep is not None:
                raise DataError(f"{source.name}:{deep}: a value nested too deep to read as training data")
            table = _flatten(pj.read_json(pa.BufferReader(data)))
            table = _unchecked_text_as_binary(table)
    except DataError as exc:
        if str(exc).startswith(source.name):
            raise
        raise DataError(f"{source.name}: {exc}") from None
    except (pa.ArrowException, OSError) as exc:  # pyarrow's IO errors (a damaged Parquet footer) are OSError
        raise_if_environment(exc)
        raise DataError(
            f"{source.name}: cannot read training data as {fmt.value}: {_first_line(exc)}"
        ) from None
    finally:
        stream.close()
    if notes.truncated:
        raise DataError(f"{source.name}: {notes.truncated}")
    if table.num_rows == 0:
        raise DataError(f"{source.name}: training data has no rows")
    _refuse_duplicate_columns(table, source.name)
    return table, source.name


PREDICTION_COLUMNS = {"class": "prediction.class", "confidence": "prediction.confidence",
                      "value": "prediction.value"}
"""Columns of a training-predictions file (`mlmon baseline --predictions`), and the prediction
each profiles; a column `prediction` is the class when it holds text, the value when numbers."""


def load_predictions(
    path: str, *, max_edges: int | None, max_bytes: int | None = None, max_ratio: float | None = None
) -> tuple[tuple[baseline_mod.FeatureProfile, ...], list[str]]:
    """The predictions of a training-predictions file (the model's outputs on its training or
    test data: columns `class`, `confidence`, `value` or `prediction`), profiled as the
    baseline's `predictions`; and the file's other columns (not used)."""
    from mlmon.read.tables import to_number, to_text

    table, name = training_table(path, max_bytes=max_bytes, max_ratio=max_ratio)
    chosen: dict[str, pa.ChunkedArray] = {}
    for col in table.column_names:
        key = col.lower()
        if key == "prediction":
            t = table.column(col).type
            key = "value" if pa.types.is_floating(t) else "class"  # whole numbers are classes
        if key in PREDICTION_COLUMNS and PREDICTION_COLUMNS[key] not in chosen:
            chosen[PREDICTION_COLUMNS[key]] = table.column(col)
    unused = [c for c in table.column_names if c.lower() not in (*PREDICTION_COLUMNS, "prediction")]
    if not chosen:
        raise DataError(
            f"{name}: no prediction column; a training-predictions file has columns named class, "
            f"confidence, value or prediction (it has {', '.join(table.column_names[:8])})"
        )
    out = []
    for pred, col in chosen.items():
        arr = col.combine_chunks()
        if pred == "prediction.class":
            text, _ = to_text(arr, len(arr))
            out.append(baseline_mod.FeatureProfile(pred, Kind.CATEGORICAL,
                                                   categorical=baseline_mod.categorical_profile(text)))
            continue
        num, _ = to_number(arr, len(arr))
        values = np.asarray(num.to_numpy(zero_copy_only=False), dtype=np.float64)
        if pred == "prediction.confidence" and ((values < 0) | (values > 1)).any():
            raise DataError(f"{name}: a confidence outside [0, 1]")
        profile = baseline_mod.numeric_profile(values, max_edges=max_edges)
        out.append(baseline_mod.FeatureProfile(pred, Kind.NUMERIC, numeric=profile))
    order = list(PREDICTION_COLUMNS.values())
    return tuple(sorted(out, key=lambda f: order.index(f.name))), unused


def _bad_csv_row(data: bytes, delim: str, *, skipped: int) -> str | None:
    """Where the first row pyarrow refuses is: its line number when every row is one line (no
    quote in the file), else its row number; None when pyarrow names no row."""
    import pyarrow.csv as pcsv

    refused: list[int] = []

    def note(row: pcsv.InvalidRow) -> str:
        if row.number is not None:
            refused.append(row.number)
        return "error"

    try:  # one thread: pyarrow numbers rows only then
        pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(block_size=CSV_TRAINING_BLOCK, use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter=delim, invalid_row_handler=note),
        )
    except pa.ArrowInvalid:
        pass
    if not refused:
        return None
    number = refused[0]  # among the non-blank rows, the header being row 1
    if b'"' in data:
        return f" row {number} (the header is row 1)"
    rows = 0
    for line_no, line in enumerate(data.splitlines(), start=1 + skipped):
        rows += bool(line)
        if rows == number:
            return str(line_no)
    return f" row {number} (the header is row 1)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    if "straddl" in text:  # pyarrow's words for a row longer than its block
        return f"a row longer than {CSV_TRAINING_BLOCK >> 20} MiB"
    return text


def _unchecked_text_as_binary(table: pa.Table) -> pa.Table:
    """The JSON reader keeps invalid UTF-8 in strings unchecked: such a column becomes bytes,
    whose values that are not UTF-8 the baseline leaves out (and says so)."""
    for i, fld in enumerate(table.schema):
        try:
            table.column(i).validate(full=True)
        except pa.ArrowInvalid:
            if not pa.types.is_string(fld.type):
                raise
            table = table.set_column(i, fld.name, table.column(i).cast(pa.binary()))
    return table


def _refuse_duplicate_columns(table: pa.Table, name: str) -> None:
    """Two columns with one name (a CSV header `a,a`, or `x` next to `input.features.x`)
    cannot both be profiled under that name: say which, rather than guess."""
    from collections import Counter

    twice = sorted(c for c, k in Counter(table.column_names).items() if k > 1)
    if twice:
        shown = ", ".join(repr(c) for c in twice[:5]) + (" ..." if len(twice) > 5 else "")
        raise DataError(f"{name}: training data has more than one column named {shown}; rename or drop them")


def _flatten(table: pa.Table) -> pa.Table:
    """Struct columns (`input.features.x`) become plain columns named by their last key, taken
    whole (a key `score.v2` stays `score.v2`); when two last keys are the same, by the dotted path."""
    paths: list[tuple[str, ...]] = [(n,) for n in table.column_names]
    columns = list(table.columns)
    while any(pa.types.is_struct(c.type) for c in columns):
        next_paths: list[tuple[str, ...]] = []
        next_columns = []
        for path, col in zip(paths, columns, strict=True):
            if not pa.types.is_struct(col.type):
                next_paths.append(path)
                next_columns.append(col)
                continue
            arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            for i, child in enumerate(arr.flatten()):
                next_paths.append((*path, col.type.field(i).name))
                next_columns.append(child)
        paths, columns = next_paths, next_columns
    names = [p[-1] for p in paths]
    if len(set(names)) != len(names):
        names = [".".join(p) for p in paths]
    return pa.table(columns, names=names)


SAMPLE_BYTES = 1 << 18
"""How much of each JSON-lines log (at most 8 files) is looked at for feature names."""


def _sample_fields(paths: list[str], plan: ReadPlan, field: str) -> Iterator[Any]:
    """The value at dotted `field` of each record among the first lines (SAMPLE_BYTES) of the
    first JSON-lines files (at most 8; stdin, other formats and unreadable files left out);
    None where a record lacks it."""
    import json

    from mlmon.read.jsonlines import record_text

    marker = plan.record_marker.encode() if plan.record_marker else None
    for source in [s for s in expand(paths) if s.path != "-"][:8]:
        try:
            stream, fmt = open_source(source, ReadNotes())
        except (NoInputError, DataError):
            continue
        try:
            if fmt is not Format.JSONL:
                continue
            lines = stream.read(SAMPLE_BYTES).split(b"\n")[:-1]
        except (OSError, DataError):
            continue
        finally:
            stream.close()
        for line in lines:
            text = record_text(line, marker)
            try:
                rec = json.loads(text) if text is not None else None
            except (ValueError, RecursionError):
                continue
            for part in field.split("."):
                rec = rec.get(part) if isinstance(rec, dict) else None
            yield rec


def sample_features(paths: list[str], plan: ReadPlan) -> tuple[dict[str, Kind], int | None]:
    """The features in the first records of the first JSON-lines files: named ones (name ->
    kind, in order of first appearance; text or booleans make a feature categorical), and the
    length of positional ones when the features field holds lists."""
    kinds: dict[str, Kind] = {}
    list_len: int | None = None
    for rec in _sample_fields(paths, plan, plan.fields.features):
        if isinstance(rec, list) and list_len is None:
            list_len = len(rec)
        if not isinstance(rec, dict):
            continue
        for k, v in rec.items():
            if isinstance(v, str | bool):
                kinds[str(k)] = Kind.CATEGORICAL
            elif isinstance(v, int | float) and str(k) not in kinds:
                kinds[str(k)] = Kind.NUMERIC
    return kinds, list_len


def has_predictions(paths: list[str], plan: ReadPlan) -> bool:
    """Whether a record among the first lines of the first JSON-lines files has the prediction
    field (`--prediction-field`): only then are the serving fields read to profile it."""
    return any(rec is not None for rec in _sample_fields(paths, plan, plan.fields.prediction))


def log_feature_names(paths: list[str], plan: ReadPlan) -> set[str]:
    """Names of the named (object) features in the first records of the first JSON-lines files."""
    return set(sample_features(paths, plan)[0])


def profile_log(
    paths: list[str],
    *,
    plan: ReadPlan | None = None,
    options: ReadOptions | None = None,
    selection: Selection | None = None,
    budget: Budget | None = None,
    max_edges: int | None = baseline_mod.GRID_EDGES,
    on_bytes: Callable[[int], None] | None = None,
) -> Baseline:
    """A baseline from prediction logs (last week's traffic as the reference): the features
    field of the selected records, read as `detect_drift` reads it. Named features keep their
    names; positional (list) features are named feature_0, feature_1, ... in order."""
    plan = plan or ReadPlan()
    kinds, list_len = sample_features(paths, plan)
    if kinds:
        specs = tuple(FeatureSpec(n, k) for n, k in kinds.items())
    elif list_len:
        specs = tuple(FeatureSpec(f"feature_{i}", Kind.NUMERIC) for i in range(list_len))
    else:
        raise DataError(
            f"no record in the first lines has a features field {plan.fields.features!r} (an object "
            "or a list); give --features-field, or --record-marker for a prefixed log"
        )
    with_predictions = has_predictions(paths, plan)
    rplan = ReadPlan(
        fields=plan.fields,
        by=None,
        summary=with_predictions,
        features=specs,
        record_marker=plan.record_marker,
        log_timezone=plan.log_timezone,
    )
    # numbers are kept (8 bytes a value: the profile's quantiles are exact); categories are
    # counted as the tables come, so they cost one count per distinct category
    numbers: dict[str, list[np.ndarray]] = {s.name: [] for s in specs if s.kind is Kind.NUMERIC}
    counts: dict[str, Counter[str]] = {s.name: Counter() for s in specs if s.kind is not Kind.NUMERIC}
    dropped: Counter[str] = Counter()
    rows = 0
    # the predictions, profiled as features are: the class counted, confidence and value kept
    pred_numbers: dict[str, list[np.ndarray]] = {CONFIDENCE: [], PRED_VALUE: []}
    pred_classes: Counter[str] = Counter()

    def add(t: pa.Table) -> None:
        nonlocal rows
        rows += t.num_rows
        if with_predictions:
            for col_name, chunks in pred_numbers.items():
                chunks.append(np.asarray(t.column(col_name).to_numpy(), dtype=np.float64))
            cls = normalize_category(t.column(PRED_CLASS).combine_chunks())
            for d in pc.value_counts(pc.drop_null(cls)).to_pylist():
                pred_classes[d["values"]] += int(d["counts"])
        for name, chunks in numbers.items():
            col = t.column(FEATURE_PREFIX + name)
            chunks.append(np.asarray(col.to_numpy(), dtype=np.float64))  # null -> nan
        for name, counter in counts.items():
            col = normalize_category(t.column(FEATURE_PREFIX + name).combine_chunks())
            dropped[name] += col.null_count
            for d in pc.value_counts(pc.drop_null(col)).to_pylist():
                counter[d["values"]] += int(d["counts"])

    got = _read(
        paths, rplan, tuple(FEATURE_PREFIX + s.name for s in specs), options or ReadOptions(),
        selection or Selection(), add, on_bytes,
    )
    b = budget or Budget()
    check_budget(got.report, max_bad=b.max_bad, strict=b.strict)
    if rows == 0:
        raise DataError(f"no record selected to profile ({got.report.records} valid records read)")
    feats = []
    kept: dict[str, np.ndarray] = {}
    for s in specs:
        if s.kind is Kind.NUMERIC:
            values = np.concatenate(numbers.pop(s.name))
            kept[s.name] = values
            feats.append(baseline_mod.FeatureProfile(
                s.name, s.kind, numeric=baseline_mod.numeric_profile(values, max_edges=max_edges)))
        else:
            c = counts[s.name]
            ordered = tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
            profile = baseline_mod.CategoricalProfile(sum(c.values()), ordered, dropped[s.name])
            feats.append(baseline_mod.FeatureProfile(s.name, s.kind, categorical=profile))
    source = ", ".join(f.source for f in got.report.files) if got.report.files else ", ".join(paths)
    model, note = baseline_mod.joint_model(kept, rows)
    kept.clear()
    preds: list[baseline_mod.FeatureProfile] = []
    if pred_classes:
        ordered = tuple(sorted(pred_classes.items(), key=lambda kv: (-kv[1], kv[0])))
        n = sum(pred_classes.values())
        classes = baseline_mod.CategoricalProfile(n, ordered, rows - n)
        preds.append(baseline_mod.FeatureProfile("prediction.class", Kind.CATEGORICAL, categorical=classes))
    for col_name, name in ((CONFIDENCE, "prediction.confidence"), (PRED_VALUE, "prediction.value")):
        chunks = pred_numbers[col_name]
        values = np.concatenate(chunks) if chunks else np.empty(0)
        if np.isfinite(values).any():
            preds.append(baseline_mod.FeatureProfile(
                name, Kind.NUMERIC, numeric=baseline_mod.numeric_profile(values, max_edges=max_edges)))
    return Baseline(source, rows, tuple(feats), predictions=tuple(preds), multivariate=model,
                    multivariate_note=note)
