"""`mlmon baseline`: profile training data into a baseline file."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    ConfigFile,
    FeaturesField,
    LargeWindow,
    Last,
    LogTz,
    Marker,
    MaxBad,
    MaxDecomp,
    MaxLine,
    MaxRatio,
    NoConfig,
    Since,
    Strict,
    TimestampField,
    Until,
    check_tz,
    reading,
)
from mlmon.cli.runtime import handled, progress, refuse_overwriting_inputs, stderr
from mlmon.errors import OptionError

cli = one_command()


@cli.command()
def baseline(
    training_data: Annotated[
        list[str],
        typer.Argument(
            help="Training data (one CSV, Parquet or JSON-lines file), or prediction logs whose "
            "records hold the features field (files, folders, globs; may be compressed).",
            metavar="DATA...",
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help=(
                "Where to write the baseline JSON; - for stdout. A regular file is replaced "
                "atomically; a device or FIFO is written into; a symlink is followed."
            ),
        ),
    ],
    config: ConfigFile = None,
    no_config: NoConfig = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            help="Columns that are not features (repeatable); the timestamp field is always left out."
        ),
    ] = None,
    timestamp_field: TimestampField = "timestamp",
    grid: Annotated[
        int,
        typer.Option(
            help="Quantile edges kept per numeric feature: KS D is measured at them (within one "
            "bin, 1/(grid-1), of the true D). 10001 for a ten times finer D and a ten times larger file."
        ),
    ] = 1001,
    features_field: FeaturesField = "input.features",
    record_marker: Marker = None,
    log_timezone: LogTz = "UTC",
    since: Since = None,
    until: Until = None,
    last: Last = None,
    window_rows: Annotated[
        int | None, typer.Option(help="Prediction logs: profile only the newest N records.")
    ] = None,
    predictions: Annotated[
        str | None,
        typer.Option(
            "--predictions",
            help="The model's predictions on its training or test data (CSV, Parquet or JSON lines "
            "with columns class, confidence, value or prediction), profiled so drift tests the "
            "log's predictions against them. Prediction logs need none: their predictions are "
            "profiled from the records.",
            metavar="FILE",
        ),
    ] = None,
    max_bad_lines: MaxBad = "1%",
    strict: Strict = False,
    max_line_bytes: MaxLine = 16 << 20,
    max_decompressed_bytes: MaxDecomp = None,
    max_decompression_ratio: MaxRatio = 1000.0,
    allow_large_window: LargeWindow = False,
    reference_metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=VALUE",
            help="The model's performance on its test set, e.g. accuracy=0.91 or mae=3.2 (repeatable; "
            "accuracy, macro_f1, auc, brier, ece, mae, rmse, mape, precision.CLASS, recall.CLASS, "
            "f1.CLASS): `check --labels` alerts on a drop from it (quality_drop.<metric>).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Profile training data, or last week's prediction logs, into a baseline file for
    `mlmon drift --baseline`.

    Per numeric feature: n, mean, std, min, max and a quantile grid; per categorical
    feature (text, booleans): category counts. Versioned JSON with a checksum, never pickle.
    JSON-lines logs whose records hold the features field (--features-field) are read as
    `mlmon drift` reads them, with the same field, marker, time-zone and selection options.

    Examples (from the repository's root, on its sample_logs/):

    \b
      mlmon baseline sample_logs/training.csv -o baseline.json
      mlmon baseline sample_logs/predictions.jsonl \\
          --since 2026-11-01 --until 2026-11-08 -o week.json
    """
    read = reading(locals())  # first: the parameters alone
    now = time.time_ns()
    with handled():
        from mlmon.api import load_training
        from mlmon.report.render import safe
        from mlmon.stats.baseline import save
        from mlmon.stats.baseline_schema import MAX_EDGES, MAX_TOTAL_EDGES

        if not 11 <= grid <= MAX_EDGES:
            raise OptionError(f"--grid must be from 11 to {MAX_EDGES}")
        refuse_overwriting_inputs([("-o", output)], [*training_data, *([predictions] if predictions else [])])
        from mlmon.api import profile_log, sample_features

        check_tz(log_timezone)
        if window_rows is not None and window_rows < 1:
            raise OptionError("--window-rows must be at least 1")
        plan = read.plan()
        kinds, list_len = sample_features(training_data, plan)
        if kinds or list_len or len(training_data) > 1:
            if exclude:  # profile_log has no columns to leave out: --exclude was dropped without a word
                raise OptionError(
                    "--exclude leaves out columns of one training table; these inputs are read as "
                    f"prediction logs (their features from {features_field!r}), where it does not apply"
                )
            with progress(training_data) as on_bytes:
                b = profile_log(
                    training_data,
                    plan=plan,
                    options=read.limits(),
                    selection=read.selection(window_rows, now_ns=now),
                    budget=read.budget(),
                    max_edges=grid,
                    on_bytes=on_bytes,
                )
        else:
            if since or until or last or window_rows:
                raise OptionError(
                    "--since/--until/--last/--window-rows select records of prediction logs; "
                    f"{training_data[0]!r} has no features field {features_field!r}"
                )
            b = load_training(
                training_data[0],
                exclude={timestamp_field, *(exclude or [])},
                max_edges=grid,
                named=frozenset(exclude or []),
                max_bytes=max_decompressed_bytes,
                max_ratio=max_decompression_ratio,
            )
        if predictions is not None:
            import dataclasses

            from mlmon.api.training import load_predictions

            profiled, unused = load_predictions(
                predictions, max_edges=grid, max_bytes=max_decompressed_bytes,
                max_ratio=max_decompression_ratio,
            )
            b = dataclasses.replace(b, predictions=profiled)
            if unused:
                stderr().print(
                    f"mlmon: note: columns of {safe(predictions)} that are not predictions, not used: "
                    + ", ".join(safe(c) for c in unused[:8]) + (" ..." if len(unused) > 8 else ""),
                    markup=False, highlight=False,
                )
        numeric = [f.numeric for f in b.features if f.numeric is not None]
        total = sum(len(p.edges) for p in numeric)
        if total > MAX_TOTAL_EDGES:
            fits = MAX_TOTAL_EDGES // len(numeric)
            raise OptionError(
                f"{len(numeric)} numeric features at --grid {grid} hold {total:,} edges, more than "
                f"the {MAX_TOTAL_EDGES:,} a baseline may hold; give --grid {fits} or less"
            )
        if reference_metric:
            import dataclasses

            from mlmon.stats.performance import parse_reference

            b = dataclasses.replace(b, reference_performance=parse_reference(reference_metric))
        save(b, output)
        for name, reason in b.left_out:
            stderr().print(
                f"mlmon: note: column '{safe(name)}' left out of the baseline: {safe(reason)}",
                markup=False, highlight=False,
            )
        for name, reason in b.values_left_out:
            stderr().print(
                f"mlmon: note: feature '{safe(name)}': {safe(reason)}, left out (counted as dropped)",
                markup=False, highlight=False,
            )
        if b.multivariate is None and b.multivariate_note:
            stderr().print(f"mlmon: note: no joint (multivariate) drift model: {safe(b.multivariate_note)}",
                            markup=False, highlight=False)
        where = "standard output" if output == "-" else safe(output)
        stderr().print(
            f"mlmon: wrote {where}: {len(b.features)} features from {b.rows} rows "
            f"({sum(1 for f in b.features if f.numeric)} numeric, "
            f"{sum(1 for f in b.features if f.categorical)} categorical)"
            + (f"; predictions: {', '.join(f.name.removeprefix('prediction.') for f in b.predictions)}"
               if b.predictions else "")
            + (f"; a joint model of {len(b.multivariate.features)} numeric features"
               if b.multivariate is not None else ""),
            markup=False,
            highlight=False,
        )
