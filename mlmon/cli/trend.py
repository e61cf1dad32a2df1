"""`mlmon trend`: serving health (and drift) window by window, with alerts that must persist."""

from __future__ import annotations

import sys
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
from mlmon.cli.runtime import diagnostics, emit, exit_for, fail, handled, note, note_absent_by, progress
from mlmon.errors import ExitCode


def _limit(help_text: str) -> object:
    return typer.Option(help=help_text, metavar="WARN[:CRIT]", show_default=False)


MaxP95 = Annotated[str | None, _limit("p95 latency limit in ms per window, WARN[:CRIT] (e.g. 250:400).")]
MaxP99 = Annotated[str | None, _limit("p99 latency limit in ms per window, WARN[:CRIT] (e.g. 250:400).")]
MinSuccess = Annotated[
    str | None,
    _limit("Lowest success rate per window, WARN[:CRIT] (e.g. 0.99:0.95); one number is critical."),
]
MaxError = Annotated[
    str | None, _limit("Highest error rate per window, WARN[:CRIT] (e.g. 0.01:0.05); one number is critical.")
]
MaxLowConf = Annotated[
    str | None, _limit("Highest share of predictions below --low-confidence per window, WARN[:CRIT].")
]
MaxOutOfRange = Annotated[
    str | None, _limit("Most numeric predictions outside --prediction-range per window, WARN[:CRIT].")
]


cli = one_command()


@cli.command()
def trend(
    logs: Logs,
    every: Annotated[
        str,
        typer.Option(
            help="Window length (15m, 1h, 1d, 1w; aligned to the clock of --log-timezone, weeks start "
            "on Monday) or a number of records (5000: consecutive records in read order).",
            show_default=False,
        ),
    ],
    config: ConfigFile = None,
    no_config: NoConfig = False,
    fmt: FormatOpt = Fmt.TABLE,
    quiet: Quiet = False,
    width: Width = None,
    by: Annotated[
        str | None,
        typer.Option(
            help="Also windows per value of this field (dotted path), e.g. model_version: each version's "
            "rows on the same clock windows, judged as the whole is.",
        ),
    ] = None,
    since: Since = None,
    until: Until = None,
    last: Last = None,
    min_records: Annotated[
        int,
        typer.Option(
            "--min-window-records",
            help="Windows with fewer records show 'too few records' and never alert (no verdict below N).",
        ),
    ] = 30,
    min_records_alias: Annotated[
        int | None, typer.Option("--min-records", hidden=True, help="Old name of --min-window-records.")
    ] = None,
    smooth: Annotated[
        int | None,
        typer.Option(help="Add a rolling value over this many windows (success rate pooled, p99 averaged)."),
    ] = None,
    approx: Annotated[
        bool,
        typer.Option(
            help="Latency percentiles from a DDSketch per window: within 1% of the exact value at that "
            "rank, in fixed memory (for long ranges)."
        ),
    ] = False,
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="Also drift per window against this baseline.")
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="Training data to profile on the fly instead of --baseline (on the 1,000-bin "
                     "grid of a saved baseline, so each window's drift state is fixed-size)."),
    ] = None,
    p_threshold: Annotated[float, typer.Option(help="Drift needs a BH-adjusted p-value below this.")] = 0.05,
    min_effect: Annotated[
        float,
        typer.Option(help="...and an effect whose upper 95% bound reaches this (as in `mlmon drift`)."),
    ] = 0.05,
    critical_effect: Annotated[
        float,
        typer.Option(help="Drift is critical when the effect's lower 95% bound reaches this (as in drift)."),
    ] = 0.25,
    low_confidence: Annotated[float, typer.Option(help="Confidence below this counts as low.")] = 0.5,
    prediction_range: Annotated[
        str | None, typer.Option(help="LOW,HIGH: numeric predictions outside it are counted (e.g. 0,1000).")
    ] = None,
    max_p95_ms: MaxP95 = None,
    max_p99_ms: MaxP99 = None,
    min_success_rate: MinSuccess = None,
    max_error_rate: MaxError = None,
    max_low_confidence_share: MaxLowConf = None,
    max_out_of_range: MaxOutOfRange = None,
    for_windows: Annotated[
        int,
        typer.Option(
            "--for",
            help="A rule fires only when crossed in this many consecutive windows up to the last "
            "(as Prometheus' for); the last window decides the exit code.",
        ),
    ] = 1,
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence/--no-evidence",
            help="With a baseline, features alert on evidence accumulated over the latest windows "
            "(their mean pooled over 1, 2, 4, ... windows), with the false-alarm rate over all the "
            "log's windows held at 5%; --no-evidence: each window's own drift alerts, with --for.",
        ),
    ] = True,
    include_partial: Annotated[
        bool,
        typer.Option(
            "--include-partial",
            help="Also judge the last window when the selection ends before it does (the newest record "
            "or --until falls inside it); by default a window still filling is shown, marked, and not "
            "judged.",
        ),
    ] = False,
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
    """Serving health window by window: records, requests/s, success rate, p50/p95/p99 latency,
    low-confidence share (and drift per feature with --baseline). Windows without traffic are
    rows with 0 records. Records without a timestamp belong to no window; they are counted.

    Examples (from the repository's root, on its sample_logs/):

    \b
      mlmon trend sample_logs/predictions.jsonl --every 10m \\
          --max-p99-ms 250 --for 3
      mlmon trend sample_logs/predictions.jsonl --every 10m \\
          --by model_version
      mlmon trend sample_logs/predictions_ids.jsonl --every 1h \\
          --labels sample_logs/labels.csv
    """
    read = reading(locals())  # first: the parameters alone
    with handled():
        from mlmon.api.entry import trend
        from mlmon.report.trend import trend_json, trend_table

        if min_records_alias is not None:
            note("trend's --min-records is now --min-window-records (--min-records alerts on too few "
                  "records in summary, drift and check)")
            min_records = min_records_alias
        rep = trend(
            logs, every=every, by=by, min_window_records=min_records, smooth=smooth, approx=approx,
            baseline=baseline_path, reference=reference, p_threshold=p_threshold, min_effect=min_effect,
            critical_effect=critical_effect, low_confidence=low_confidence,
            prediction_range=prediction_range, max_p95_ms=max_p95_ms, max_p99_ms=max_p99_ms,
            min_success_rate=min_success_rate, max_error_rate=max_error_rate,
            max_low_confidence_share=max_low_confidence_share, max_out_of_range=max_out_of_range,
            for_windows=for_windows, evidence=evidence, include_partial=include_partial,
            labels=labels, label_field=label_field, join_field=join_field, task=task.value,
            positive_class=positive_class, progress=progress, reading=read,
        )
        diagnostics(rep.input)
        note_absent_by(rep.by, rep.groups, rep.records, rep.input.fields_seen)
        checks = [max_p95_ms, max_p99_ms, min_success_rate, max_error_rate, max_low_confidence_share,
                  max_out_of_range, baseline_path or reference]
        judged = rep.windows[:-1] if rep.partial_excluded else rep.windows
        if rep.partial_excluded:
            w = rep.windows[-1]
            note(f"the last window ({w.window_start}) is partial: the selection ends before "
                  f"{w.window_end}; it is shown, not judged (--include-partial judges it)")
        last_window = judged[-1] if judged else None
        if any(c is not None for c in checks) and rep.partial_excluded and not judged:
            fail(
                f"the only window ({rep.windows[-1].window_start}) is partial: nothing complete to "
                "check (give --include-partial, or a shorter --every)",
                ExitCode.DATA_ERROR,
            )
        if any(c is not None for c in checks) and 0 < len(judged) < for_windows:
            # an unbroken run of N windows cannot happen in fewer: "no alerts" would mean nothing,
            # so this is never a pass (as a last window too small to check is not; no window at
            # all is the records alert)
            fail(
                f"--for {for_windows} needs {for_windows} windows in a row; the selection has "
                f"{len(judged)} complete, so no rule can fire (lower --for, or select a longer span)",
                ExitCode.DATA_ERROR,
            )
        if any(c is not None for c in checks) and last_window is not None and last_window.status != "ok":
            # the last window decides, and it holds too little to check: that is never a pass
            fail(
                f"the last window ({last_window.window_start}) has {last_window.summary.records} records, "
                f"fewer than --min-window-records {min_records}: nothing to check now",
                ExitCode.DATA_ERROR,
            )
        if fmt is Fmt.JSON:
            emit(trend_json(rep), fmt)
        else:
            emit(trend_table(rep, sparklines=sys.stdout.isatty(), quiet=quiet), fmt, width=width)
    exit_for(rep.alerts, fail_on)
