"""`mlmon drift`: feature drift of prediction logs against a baseline."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    ConfigFile,
    EngineName,
    FailOn,
    FailOnOpt,
    FeaturesField,
    Fmt,
    FormatOpt,
    Include,
    LargeWindow,
    Last,
    Logs,
    LogTz,
    Marker,
    MaxAge,
    MaxBad,
    MaxDecomp,
    MaxLine,
    MaxRatio,
    MinRecords,
    NoConfig,
    Quiet,
    Scheduler,
    Since,
    Strict,
    TimestampField,
    Until,
    Width,
    reading,
)
from mlmon.cli.runtime import diagnostics, emit, exit_for, handled, note, note_absent_by, progress

cli = one_command()


@cli.command()
def drift(
    logs: Logs,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="A baseline made by `mlmon baseline`.")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Training data to profile on the fly (exact KS) instead of --baseline.")
    ] = None,
    fmt: FormatOpt = Fmt.TABLE,
    quiet: Quiet = False,
    include: Include = None,
    width: Width = None,
    p_threshold: Annotated[
        float,
        typer.Option(help="Drift and mean alerts need a p-value below this, adjusted (BH) across all tests."),
    ] = 0.05,
    min_effect: Annotated[
        float,
        typer.Option(
            help="...and an effect that may reach this: the upper 95% bound of KS D (numbers) or of "
            "the total variation (categories, few-valued numbers). 0 = p-value only."
        ),
    ] = 0.05,
    mean_tolerance: Annotated[
        float,
        typer.Option(
            help="Mean alert when the mean moves more than this share of the larger of |baseline "
            "mean| and baseline std (0.2 = 20%), and the move is significant."
        ),
    ] = 0.2,
    min_samples: Annotated[
        int, typer.Option(help="Fewer values than this give insufficient_data: no verdict, no alert.")
    ] = 30,
    critical_effect: Annotated[
        float,
        typer.Option(
            help="Drift is critical when the effect's lower 95% bound reaches this; else a warning."
        ),
    ] = 0.25,
    max_unseen_share: Annotated[
        float,
        typer.Option(
            help="Alert when more than this share of a feature's values were never seen in training."
        ),
    ] = 0.01,
    critical_unseen_share: Annotated[
        float,
        typer.Option(help="The same beyond this share is critical (a --fail-on critical gate stops)."),
    ] = 0.05,
    window_rows: Annotated[
        int | None, typer.Option(help="Compare only the newest N records (by timestamp).")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(help="Also a drift table per value of this field (dotted path), e.g. model_version."),
    ] = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    min_records: MinRecords = None,
    max_age: MaxAge = None,
    fail_on: FailOnOpt = FailOn.WARNING,
    timestamp_field: TimestampField = "timestamp",
    features_field: FeaturesField = "input.features",
    record_marker: Marker = None,
    log_timezone: LogTz = "UTC",
    max_bad_lines: MaxBad = "1%",
    strict: Strict = False,
    max_line_bytes: MaxLine = 16 << 20,
    max_decompressed_bytes: MaxDecomp = None,
    max_decompression_ratio: MaxRatio = 1000.0,
    allow_large_window: LargeWindow = False,
    engine: EngineName = "local",
    scheduler: Scheduler = None,
) -> None:
    """Data drift of each feature against the training baseline: KS for numbers, chi-square
    for categories and few-valued numbers (0/1 flags, small counts), a Welch test of each
    mean (the 20% rule), unseen categories, features missing from the log; p-values adjusted
    with Benjamini-Hochberg across all tests.

    Example (from the repository's root, on its sample_logs/):

    \b
      mlmon baseline sample_logs/training.csv -o baseline.json
      mlmon drift sample_logs/predictions.jsonl \\
          --baseline baseline.json --format json
    """
    read = reading(locals())  # first: the parameters alone
    now = time.time_ns()
    with handled():
        from mlmon.api.entry import detect_drift
        from mlmon.report.render import drift_json, drift_table

        rep = detect_drift(
            logs, baseline_path, reference=reference, p_threshold=p_threshold, min_effect=min_effect,
            mean_tolerance=mean_tolerance, min_samples=min_samples, critical_effect=critical_effect,
            max_unseen_share=max_unseen_share, critical_unseen_share=critical_unseen_share,
            window_rows=window_rows, by=by, min_records=min_records, max_age=max_age,
            now=now / 1e9, on_note=note, progress=progress, reading=read,
        )
        diagnostics(rep.input)
        note_absent_by(rep.by, rep.groups, rep.records, rep.input.fields_seen)
        emit(drift_json(rep) if fmt is Fmt.JSON else drift_table(rep, quiet=quiet), fmt, width=width)
    exit_for(rep.alerts, fail_on)
