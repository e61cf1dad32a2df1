"""`mlmon summary`: serving health and model behaviour of prediction logs."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    ClassField,
    ConfidenceField,
    ConfigFile,
    EngineName,
    FailOn,
    FailOnOpt,
    Fmt,
    FormatOpt,
    Include,
    JoinField,
    LabelField,
    LabelsOpt,
    LargeWindow,
    Last,
    LatencyField,
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
    PositiveClass,
    PredictionField,
    Quiet,
    Scheduler,
    Since,
    StatusField,
    Strict,
    SuccessField,
    SuccessValue,
    TaskChoice,
    TaskOpt,
    TimestampField,
    Until,
    Width,
    reading,
)
from mlmon.cli.runtime import diagnostics, emit, exit_for, handled, note, note_absent_by, progress

cli = one_command()


@cli.command()
def summary(
    logs: Logs,
    config: ConfigFile = None,
    no_config: NoConfig = False,
    fmt: FormatOpt = Fmt.TABLE,
    quiet: Quiet = False,
    include: Include = None,
    width: Width = None,
    by: Annotated[
        str, typer.Option(help="Group by this field (dotted path); '' for no grouping.")
    ] = "model_version",
    since: Since = None,
    until: Until = None,
    last: Last = None,
    low_confidence: Annotated[float, typer.Option(help="Confidence below this counts as low.")] = 0.5,
    top_classes: Annotated[
        int,
        typer.Option(
            min=0,
            max=10_000,
            help="Predicted classes listed by name, the most frequent first; the rest are counted "
            "(classes_other) with the number of distinct classes (classes_distinct).",
        ),
    ] = 20,
    prediction_range: Annotated[
        str | None, typer.Option(help="LOW,HIGH: numeric predictions outside it are counted (e.g. 0,1000).")
    ] = None,
    max_p95_ms: Annotated[
        str | None,
        typer.Option(
            help="p95 latency limit in ms, WARN[:CRIT] (250 = warning above 250; 250:400 = also "
            "critical above 400; :400 = critical only).",
            metavar="WARN[:CRIT]",
            show_default=False,
        ),
    ] = None,
    max_p99_ms: Annotated[
        str | None,
        typer.Option(
            help="p99 latency limit in ms, WARN[:CRIT] like --max-p95-ms.",
            metavar="WARN[:CRIT]",
            show_default=False,
        ),
    ] = None,
    min_success_rate: Annotated[
        str | None,
        typer.Option(
            help="Lowest success rate, WARN[:CRIT] (0.99:0.95 = warning below 0.99, critical below "
            "0.95); one number is critical.",
            metavar="WARN[:CRIT]",
            show_default=False,
        ),
    ] = None,
    max_error_rate: Annotated[
        str | None,
        typer.Option(
            help="Highest error rate, WARN[:CRIT] (e.g. 0.01:0.05); one number is critical.",
            metavar="WARN[:CRIT]",
            show_default=False,
        ),
    ] = None,
    max_low_confidence_share: Annotated[
        str | None,
        typer.Option(
            help="Highest share of predictions below --low-confidence, WARN[:CRIT] (e.g. 0.1:0.3).",
            metavar="WARN[:CRIT]",
            show_default=False,
        ),
    ] = None,
    max_out_of_range: Annotated[
        str | None,
        typer.Option(
            help="Most numeric predictions outside --prediction-range, WARN[:CRIT] counts (e.g. 0:100).",
            metavar="WARN[:CRIT]",
            show_default=False,
        ),
    ] = None,
    min_samples: Annotated[
        int, typer.Option(help="Rates and latency percentiles from fewer values get no verdict.")
    ] = 30,
    min_records: MinRecords = None,
    max_age: MaxAge = None,
    fail_on: FailOnOpt = FailOn.WARNING,
    timestamp_field: TimestampField = "timestamp",
    latency_field: LatencyField = "latency_ms",
    status_field: StatusField = "status",
    success_field: SuccessField = "success",
    success_value: SuccessValue = None,
    prediction_field: PredictionField = "prediction",
    class_field: ClassField = "prediction.class",
    confidence_field: ConfidenceField = "prediction.confidence",
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
    labels: LabelsOpt = None,
    label_field: LabelField = "label",
    join_field: JoinField = "request_id",
    task: TaskOpt = TaskChoice.AUTO,
    positive_class: PositiveClass = None,
) -> None:
    """Serving health and model behaviour: counts, success rate, latency percentiles,
    class shares and confidence, per model version and overall.

    Examples (from the repository's root, on its sample_logs/):

    \b
      mlmon summary sample_logs/predictions.jsonl \\
          --last 60m --max-p99-ms 250 --min-success-rate 0.99
      mlmon summary sample_logs/predictions.jsonl \\
          --last 1h --max-age 2h -q  # for cron mail
      mlmon summary sample_logs/predictions_ids.jsonl \\
          --labels sample_logs/labels.csv
    """
    read = reading(locals())  # first: the parameters alone
    now = time.time_ns()
    with handled():
        from mlmon.api.entry import summarize

        rep = summarize(
            logs, by=by, low_confidence=low_confidence, top_classes=top_classes,
            prediction_range=prediction_range, max_p95_ms=max_p95_ms, max_p99_ms=max_p99_ms,
            min_success_rate=min_success_rate, max_error_rate=max_error_rate,
            max_low_confidence_share=max_low_confidence_share, max_out_of_range=max_out_of_range,
            min_samples=min_samples, min_records=min_records, max_age=max_age,
            labels=labels, label_field=label_field, join_field=join_field, task=task.value,
            positive_class=positive_class, now=now / 1e9, on_note=note, progress=progress, reading=read,
        )
        diagnostics(rep.input)
        note_absent_by(rep.by, rep.result.groups, rep.records, rep.input.fields_seen)
        for m in rep.missing:
            note(f"{m.metric} not measured: {m.message}")
        if fmt is Fmt.JSON:  # the library's document: no rich (mlmon.report.render imports it for tables)
            emit(rep.to_json(), fmt)
        else:
            from mlmon.report.render import summary_table

            emit(summary_table(rep, by=rep.by, quiet=quiet), fmt, width=width)
    exit_for(rep.alerts, fail_on)
