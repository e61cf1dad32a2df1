"""`mlmon report`: one self-contained HTML page with plots of serving health, drift and inputs."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from mlmon.api.options import label_options
from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    ClassField,
    ConfidenceField,
    ConfigFile,
    FailOn,
    FailOnOpt,
    FeaturesField,
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
    Since,
    StatusField,
    Strict,
    SuccessField,
    SuccessValue,
    TaskChoice,
    TaskOpt,
    TimestampField,
    Until,
    check_tz,
    parse_threshold,
    reading,
)
from mlmon.cli.runtime import (
    diagnostics,
    exit_for,
    handled,
    needs_matplotlib,
    picked,
    progress,
    refuse_overwriting_inputs,
)
from mlmon.errors import OptionError

cli = one_command()


def _limit(help_text: str) -> object:
    return typer.Option(help=help_text, metavar="WARN[:CRIT]", show_default=False)


@cli.command()
def report(
    logs: Logs,
    output: Annotated[str, typer.Option("--output", "-o", help="The HTML file to write (- for stdout).")],
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="A baseline made by `mlmon baseline`: adds drift.")
    ] = None,
    reference: Annotated[
        str | None, typer.Option(help="Training data to profile on the fly instead of --baseline.")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(help="Window length of the plots over time (15m, 1h, 1d); with a baseline also "
                     "each feature's drift per window. Default: a length that gives at most 48 windows."),
    ] = None,
    by: Annotated[str, typer.Option(help="Field whose values are plotted apart.")] = "model_version",
    title: Annotated[str, typer.Option(help="The page's title.")] = "mlmon report",
    since: Since = None,
    until: Until = None,
    last: Last = None,
    max_p95_ms: Annotated[str | None, _limit("p95 latency limit in ms, WARN[:CRIT]; drawn, alerted.")] = None,
    max_p99_ms: Annotated[str | None, _limit("p99 latency limit in ms, WARN[:CRIT]; drawn, alerted.")] = None,
    min_success_rate: Annotated[
        str | None, _limit("Lowest success rate, WARN[:CRIT] (e.g. 0.99:0.95); drawn and alerted.")
    ] = None,
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
    config: ConfigFile = None,
    no_config: NoConfig = False,
) -> None:
    """A self-contained HTML report (inline SVG plots, no script, nothing loaded from the
    network): the verdict and alerts with what to do, serving health over time per model
    version, drift per feature with both distributions, predictions, realized quality (with
    --labels), and the input accounting.
    The exit code is the one summary and drift would give (1 on an alert); the page is written
    either way.

    Example:

    \b
      mlmon report logs/*.jsonl --baseline baseline.json --every 1h -o report.html
      mlmon report sample_logs/predictions_ids.jsonl \\
          --labels sample_logs/labels.csv -o report.html
    """
    read = reading(locals())  # first: the parameters alone
    now = time.time_ns()
    del config, no_config  # taken by the command group before the options are parsed
    with handled():
        needs_matplotlib()
        from mlmon.api import load_training
        from mlmon.api.options import parse_every
        from mlmon.api.report_data import build_report
        from mlmon.outfile import write_output
        from mlmon.report.html import render_html, report_doc
        from mlmon.rules.alerts import SummaryThresholds
        from mlmon.stats.baseline import load

        if baseline_path is not None and reference is not None:
            raise OptionError("give at most one of --baseline FILE or --reference TRAINING_DATA")
        every_ns = None
        if every is not None:
            every_ns, _rows = parse_every(every)
            if every_ns is None:
                raise OptionError("--every: the report's windows are durations (15m, 1h, 1d), not records")
        check_tz(log_timezone)
        refuse_overwriting_inputs([("--output", output)], logs)
        thresholds = SummaryThresholds(
            max_p95_ms=parse_threshold(max_p95_ms, "--max-p95-ms"),
            max_p99_ms=parse_threshold(max_p99_ms, "--max-p99-ms"),
            min_success_rate=parse_threshold(min_success_rate, "--min-success-rate"),
        )
        base = None
        if baseline_path is not None:
            base = load(baseline_path)
        elif reference is not None:
            base = load_training(reference, exclude={timestamp_field}, max_edges=None)
        plan = read.plan()
        logs = picked(logs, None)
        with progress(logs) as on_bytes:
            data = build_report(
                logs, baseline=base, plan=plan,
                options=read.limits(), selection=read.selection(now_ns=now), thresholds=thresholds,
                every_ns=every_ns, by=by, budget=read.budget(), on_bytes=on_bytes,
                labels=label_options(labels, label_field, join_field, task.value, positive_class),
            )
        diagnostics(data.summary.input)
        page = render_html(report_doc(data, thresholds=thresholds, title=title))
        write_output(output, page)
        alerts = data.summary.alerts + (data.drift.alerts if data.drift is not None else ())
    exit_for(alerts, fail_on)
