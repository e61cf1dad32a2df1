"""`mlmon compare`: canary analysis, each model version against a control version."""

from __future__ import annotations

from typing import Annotated

import typer

from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    ClassField,
    ConfidenceField,
    ConfigFile,
    FailOn,
    FailOnOpt,
    FeaturesField,
    Fmt,
    FormatOpt,
    JoinField,
    LabelField,
    LabelsOpt,
    LargeWindow,
    Last,
    LatencyField,
    Logs,
    LogTz,
    Marker,
    MaxBad,
    MaxDecomp,
    MaxLine,
    MaxRatio,
    NoConfig,
    PositiveClass,
    PredictionField,
    Quiet,
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
from mlmon.cli.runtime import diagnostics, emit, exit_for, fail, handled, note, progress
from mlmon.errors import ExitCode

cli = one_command()


@cli.command()
def compare(
    logs: Logs,
    control: Annotated[
        str, typer.Option(help="The version the others are compared with (e.g. v1.0).", show_default=False)
    ],
    by: Annotated[str, typer.Option(help="Field (dotted path) that names the version.")] = "model_version",
    config: ConfigFile = None,
    no_config: NoConfig = False,
    fmt: FormatOpt = Fmt.TABLE,
    quiet: Quiet = False,
    width: Width = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            help="METRIC=VALUE, repeatable: the difference that still passes. Defaults: latency "
            "metrics 0.1 (10% shift), success_rate 0.01 (one point), classes 0.05 (total variation), "
            "confidence and features 0.1 (KS D); with --labels, quality.accuracy 0.01 (a fall in points) "
            "and quality.mae 0.1 (a relative rise).",
            show_default=False,
        ),
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="A difference is real below this BH-adjusted p-value (or 95% interval).")
    ] = 0.05,
    min_records: Annotated[
        int,
        typer.Option(
            "--min-group-records",
            help="Fewer values than this on either side gives 'not enough data' (no verdict below N).",
        ),
    ] = 30,
    min_records_alias: Annotated[
        int | None, typer.Option("--min-records", hidden=True, help="Old name of --min-group-records.")
    ] = None,
    baseline_path: Annotated[
        str | None,
        typer.Option("--baseline", "-b", help="Names the features to compare the versions' traffic on."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Training data that names the features (instead of --baseline).")
    ] = None,
    approx: Annotated[
        bool,
        typer.Option(
            help="Round latencies, confidences and numeric features to within 1% (DDSketch buckets): "
            "memory stays bounded per version; p-values are asymptotic.",
        ),
    ] = False,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    fail_on: FailOnOpt = FailOn.WARNING,
    timestamp_field: TimestampField = "timestamp",
    latency_field: LatencyField = "latency_ms",
    status_field: StatusField = "status",
    success_field: SuccessField = "success",
    success_value: SuccessValue = None,
    prediction_field: PredictionField = "prediction",
    class_field: ClassField = "prediction.class",
    confidence_field: ConfidenceField = "prediction.confidence",
    features_field: FeaturesField = "input.features",
    record_marker: Marker = None,
    log_timezone: LogTz = "UTC",
    max_bad_lines: MaxBad = "1%",
    strict: Strict = False,
    max_line_bytes: MaxLine = 16 << 20,
    max_decompressed_bytes: MaxDecomp = None,
    max_decompression_ratio: MaxRatio = 1000.0,
    allow_large_window: LargeWindow = False,
    labels: LabelsOpt = None,
    label_field: LabelField = "label",
    join_field: JoinField = "request_id",
    task: TaskOpt = TaskChoice.AUTO,
    positive_class: PositiveClass = None,
) -> None:
    """Canary analysis: each version against --control on the same time span. Latency (Mann-Whitney U;
    p50/p95/p99 shifts with intervals), success rate (two-proportion test), class shares (chi-square),
    confidence (KS), and with --baseline each feature (is the traffic the same?). BH across the tests.
    With --labels, each version's accuracy (or MAE) against the control's.
    Exit 1 when any metric is worse beyond its tolerance.

    Example (from the repository's root, on its sample_logs/):

    \b
      mlmon compare sample_logs/predictions.jsonl \\
          --control v1.0 --tolerance success_rate=0.005
    """
    read = reading(locals())  # first: the parameters alone
    with handled():
        from mlmon.api.entry import compare as run_compare
        from mlmon.report.compare import compare_json, compare_table

        if min_records_alias is not None:
            note("compare's --min-records is now --min-group-records (--min-records alerts on too few "
                  "records in summary, drift and check)")
            min_records = min_records_alias
        rep = run_compare(
            logs, control=control, by=by, tolerance=tolerance, alpha=alpha, min_group_records=min_records,
            baseline=baseline_path, reference=reference, approx=approx,
            labels=labels, label_field=label_field, join_field=join_field, task=task.value,
            positive_class=positive_class, progress=progress, reading=read,
        )
        diagnostics(rep.input)
        emit(compare_json(rep) if fmt is Fmt.JSON else compare_table(rep, quiet=quiet), fmt, width=width)
    if rep.verdict == "not_enough_data":
        from mlmon.stats.summary import group_label

        thin = ", ".join(group_label(v.version) for v in rep.versions if v.verdict == "not_enough_data")
        fail(f"not enough data to judge {thin} against {control} (--min-group-records {min_records})",
              ExitCode.DATA_ERROR)
    exit_for(rep.alerts, fail_on)
