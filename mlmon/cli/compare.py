"""`mlmon compare`: canary analysis, each model version against a control version."""

from __future__ import annotations

from typing import Annotated

import typer

from mlmon.cli.app import _diagnostics, _emit, _exit_for, _fail, _handled, _note, _progress
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
    _budget,
    _check_tz,
    _labels,
    _read_options,
    _selection,
)
from mlmon.errors import ExitCode, OptionError


def parse_tolerances(items: list[str] | None) -> tuple[tuple[str, float], ...]:
    """`success_rate=0.005` (repeatable) to (metric, tolerance) pairs, checked against the metric names."""
    from mlmon.stats.compare import DEFAULT_TOLERANCE

    out = []
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            v = float(value)
        except ValueError:
            v = -1.0
        if not sep or not 0 <= v < float("inf"):  # no NaN, no infinity (1e400)
            raise OptionError(f"--tolerance: {item!r} is not METRIC=VALUE (e.g. success_rate=0.005)")
        if name not in DEFAULT_TOLERANCE and not name.startswith("features."):
            known = ", ".join(DEFAULT_TOLERANCE)
            raise OptionError(f"--tolerance: unknown metric {name!r} (one of {known}, features.<name>)")
        out.append((name, v))
    return tuple(out)


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
            "confidence and features 0.1 (KS D).",
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
    Exit 1 when any metric is worse beyond its tolerance.

    Example (from the repository's root, on its sample_logs/):

    \b
      mlmon compare sample_logs/predictions.jsonl \\
          --control v1.0 --tolerance success_rate=0.005
    """
    with _handled():
        from mlmon.api import compare as run_compare
        from mlmon.api import load_training
        from mlmon.read.records import FieldMap, ReadPlan
        from mlmon.report.compare import compare_json, compare_table
        from mlmon.stats.baseline import load
        from mlmon.stats.compare import CompareOptions

        if min_records_alias is not None:
            _note("compare's --min-records is now --min-group-records (--min-records alerts on too few "
                  "records in summary, drift and check)")
            min_records = min_records_alias
        tolerances = parse_tolerances(tolerance)
        if not 0 < alpha < 1:
            raise OptionError("--alpha must be between 0 and 1")
        if min_records < 2:
            raise OptionError("--min-group-records must be at least 2")
        if not by:
            raise OptionError("--by must name the field that holds the version")
        if baseline_path is not None and reference is not None:
            raise OptionError("give at most one of --baseline FILE or --reference TRAINING_DATA")
        _check_tz(log_timezone)
        base = None
        if baseline_path is not None:
            base = load(baseline_path)
        elif reference is not None:
            base = load_training(reference, exclude={timestamp_field}, max_edges=None)
        fields = FieldMap(
            timestamp=timestamp_field,
            latency=latency_field,
            status=status_field,
            success=success_field,
            prediction=prediction_field,
            pred_class=class_field,
            confidence=confidence_field,
            features=features_field,
        )
        values = (
            frozenset(v.lower() for v in success_value) if success_value else frozenset({"success", "ok"})
        )
        plan = ReadPlan(fields=fields, by=by, record_marker=record_marker, log_timezone=log_timezone,
                        success_values=values)
        with _progress() as on_bytes:
            rep = run_compare(
                logs,
                control=control,
                by=by,
                plan=plan,
                options=_read_options(max_line_bytes, max_decompressed_bytes),
                selection=_selection(since, until, last, log_timezone),
                compare_options=CompareOptions(alpha=alpha, min_records=min_records, tolerance=tolerances,
                                               approx=approx),
                baseline=base,
                budget=_budget(max_bad_lines, strict),
                on_bytes=on_bytes,
                labels=_labels(labels, label_field, join_field, task, positive_class),
            )
        _diagnostics(rep.input)
        _emit(compare_json(rep) if fmt is Fmt.JSON else compare_table(rep, quiet=quiet), fmt, width=width)
    if rep.verdict == "not_enough_data":
        from mlmon.stats.summary import group_label

        thin = ", ".join(group_label(v.version) for v in rep.versions if v.verdict == "not_enough_data")
        _fail(f"not enough data to judge {thin} against {control} (--min-group-records {min_records})",
              ExitCode.DATA_ERROR)
    _exit_for(rep.alerts, fail_on)
