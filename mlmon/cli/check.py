"""`mlmon check`: every rule of the config in one pass over the logs, for cron and CI."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from mlmon.cli.checkout import nagios_run, run
from mlmon.cli.checkplan import CheckArgs, CheckFmt, parse_outputs
from mlmon.cli.commands import one_command
from mlmon.cli.options import (
    FailOn,
    FailOnOpt,
    LabelsOpt,
    Last,
    NoConfig,
    PositiveClass,
    Quiet,
    Since,
    TaskChoice,
    Until,
)
from mlmon.cli.runtime import handled, refuse_overwriting_inputs
from mlmon.errors import OptionError
from mlmon.run.plan import log_paths

cli = one_command()


@cli.command()
def check(
    ctx: typer.Context,
    logs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Log files, directories or globs; default: `logs` in the config file.", show_default=False
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="Config file; default: mlmon.toml, or [tool.mlmon] in pyproject.toml, from here up.",
        ),
    ] = None,
    no_config: NoConfig = False,
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="A baseline (mlmon baseline) for drift rules.")
    ] = None,
    fmt: Annotated[
        CheckFmt,
        typer.Option(
            "--format",
            "-f",
            help="Standard output: table, json, junit, markdown, prometheus, csv or nagios.",
            metavar="FORMAT",
        ),
    ] = CheckFmt.TABLE,
    quiet: Quiet = False,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            help="Also write FORMAT:FILE (repeatable), e.g. -o junit:report.xml -o prometheus:mlmon.prom; "
            "FILE alone takes the format from its extension (.xml .md .prom .csv .json).",
        ),
    ] = None,
    nagios: Annotated[
        bool,
        typer.Option(
            help="Monitoring-plugin mode: one status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, "
            "3 UNKNOWN (every error, and no data)."
        ),
    ] = False,
    by: Annotated[
        str, typer.Option(help="Group by this field; rules with `by` check each group.")
    ] = "model_version",
    since: Since = None,
    until: Until = None,
    last: Last = None,
    fail_on: FailOnOpt = FailOn.WARNING,
    state: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Remember between runs in this file: read only new lines (rotation and truncation "
            "handled), alerts firing and since when, `for` counts. Locked while a run uses it."
        ),
    ] = None,
    rotated: Annotated[
        list[str] | None,
        typer.Option(
            metavar="GLOB",
            help="With --state: where rotated copies of the logs also go (logrotate's olddir), e.g. "
            "'old/predictions.log*'; repeatable. Copies beside each log (.1, .2.gz, -20261207, "
            ".2026-12-07) are found without it.",
        ),
    ] = None,
    repeat_interval: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="With --state: notify again about an alert still firing after this long (e.g. 4h; "
            "without it, webhooks and email hear only of changes).",
        ),
    ] = None,
    alertmanager: Annotated[
        list[str] | None,
        typer.Option(
            metavar="URL",
            help="Post firing (and, with --state, resolved) alerts to this Alertmanager (http://host:9093); "
            "repeatable."
        ),
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TARGET",
            help="Also send alerts to webhook:URL (a Slack-compatible body) or smtp://host:port?to=ADDRESS; "
            "env:NAME takes the URL from an environment variable; repeatable."
        ),
    ] = None,
    push: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Push the prometheus metrics to this Pushgateway (http://host:9091)."),
    ] = None,
    push_job: Annotated[str, typer.Option(metavar="NAME", help="The job label of pushed metrics.")] = "mlmon",
    label: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEY=VALUE",
            help="Add this label to every alert, every Prometheus series and the Pushgateway grouping "
            "key, e.g. --label service=fraud-model (repeatable; also labels = {...} in the config).",
        ),
    ] = None,
    state_retention: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="With --state: forget a group (model_version) with no record for this long; its "
            "counters leave the state and the metrics.",
        ),
    ] = "30d",
    alert_ttl: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="Alertmanager keeps a firing alert this long unless the next run sends it again.",
        ),
    ] = "2h",
    runbook_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Alertmanager's runbook_url annotation for rules without their own (a rule's "
            "runbook_url in the config); an http(s) URL.",
        ),
    ] = None,
    notify_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each notification attempt (3 attempts, with backoff).")
    ] = 10.0,
    timestamp_field: Annotated[
        str | None,
        typer.Option(help="Dotted path of the timestamp field (default timestamp).", show_default=False),
    ] = None,
    latency_field: Annotated[
        str | None,
        typer.Option(help="Dotted path of the latency in ms (default latency_ms).", show_default=False),
    ] = None,
    status_field: Annotated[
        str | None, typer.Option(help="Dotted path of the status text (default status).", show_default=False)
    ] = None,
    success_field: Annotated[
        str | None,
        typer.Option(
            help="Dotted path of a boolean success flag, used when there is no status (default success).",
            show_default=False,
        ),
    ] = None,
    success_value: Annotated[
        list[str] | None,
        typer.Option(
            help="Status values that mean success (repeatable; default success, ok).", show_default=False
        ),
    ] = None,
    prediction_field: Annotated[
        str | None,
        typer.Option(help="Dotted path of the prediction (default prediction).", show_default=False),
    ] = None,
    class_field: Annotated[
        str | None,
        typer.Option(
            help="Dotted path of the predicted class (default prediction.class).", show_default=False
        ),
    ] = None,
    confidence_field: Annotated[
        str | None,
        typer.Option(
            help="Dotted path of the confidence (default prediction.confidence).", show_default=False
        ),
    ] = None,
    features_field: Annotated[
        str | None,
        typer.Option(help="Dotted path of the features (default input.features).", show_default=False),
    ] = None,
    record_marker: Annotated[
        str | None,
        typer.Option(
            help="Only lines containing this text are records; their JSON follows it.", show_default=False
        ),
    ] = None,
    log_timezone: Annotated[
        str | None,
        typer.Option(
            help="Time zone of timestamps written without an offset (default UTC).", show_default=False
        ),
    ] = None,
    max_bad_lines: Annotated[
        str | None,
        typer.Option(
            help="Bad lines allowed before exit 65: a share (1%, the default) or a count.", show_default=False
        ),
    ] = None,
    strict: Annotated[
        bool | None,
        typer.Option("--strict/--no-strict", help="Any bad line or truncated file is fatal (exit 65)."),
    ] = None,
    max_line_bytes: Annotated[
        int | None,
        typer.Option(
            help="Lines longer than this many bytes are skipped and counted (default 16 MiB).",
            show_default=False,
        ),
    ] = None,
    max_decompressed_bytes: Annotated[
        int | None,
        typer.Option(help="Stop when a compressed input expands past this many bytes.", show_default=False),
    ] = None,
    low_confidence: Annotated[
        float | None,
        typer.Option(help="Confidence below this counts as low (default 0.5).", show_default=False),
    ] = None,
    prediction_range: Annotated[
        str | None,
        typer.Option(
            help="LOW,HIGH: numeric predictions outside it are counted, e.g. 0,1000.", show_default=False
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Training data to profile on the fly (exact KS) instead of --baseline.", show_default=False
        ),
    ] = None,
    p_threshold: Annotated[
        float | None,
        typer.Option(help="Drift needs a BH-adjusted p-value below this (default 0.05).", show_default=False),
    ] = None,
    min_effect: Annotated[
        float | None,
        typer.Option(
            help="drift.* warning threshold when a rule gives none (default 0.05).", show_default=False
        ),
    ] = None,
    mean_tolerance: Annotated[
        float | None,
        typer.Option(
            help="mean_deviation.* warning threshold when a rule gives none (default 0.2).",
            show_default=False,
        ),
    ] = None,
    min_samples: Annotated[
        int | None,
        typer.Option(help="Fewer feature values than this are no data (default 30).", show_default=False),
    ] = None,
    critical_effect: Annotated[
        float | None,
        typer.Option(
            help="drift.* critical threshold when a rule gives none (default 0.25).", show_default=False
        ),
    ] = None,
    window_rows: Annotated[
        int | None, typer.Option(help="Check only the newest N records (by timestamp).", show_default=False)
    ] = None,
    labels: LabelsOpt = None,
    label_field: Annotated[
        str | None,
        typer.Option(help="Dotted path of the true label or value in the labels files [default: label].",
                     show_default=False),
    ] = None,
    join_field: Annotated[
        str | None,
        typer.Option(help="Dotted path of the key in the labels files and the log [default: request_id].",
                     show_default=False),
    ] = None,
    task: Annotated[
        TaskChoice | None,
        typer.Option("--task", help="auto, classification or regression (see summary) [default: auto].",
                     show_default=False),
    ] = None,
    positive_class: PositiveClass = None,
) -> None:
    """Run every rule of the config file in one pass over the logs (summary and drift share the
    read) and give one result per rule: ok, warning, critical or no data.

    Exit 0 when every rule is ok, 1 when one is at or above --fail-on, 65 when a rule has no
    data (nothing checked is never a pass), 78 for a bad config file. Rules come from [[rules]]
    in the config and from the summary threshold keys (max-p99-ms = "250:400", ...). A failed
    notification is reported on stderr and in the JSON, and does not change the exit code.

    Examples (from the repository's root, with the mlmon.toml that `mlmon config init`
    writes from its sample_logs/):

    \b
      mlmon check --config mlmon.toml -q
      mlmon check --config mlmon.toml --fail-on critical \\
          -o junit:mlmon.xml -o markdown:summary.md
    """
    del config, no_config  # taken by the command group before the options are parsed
    from mlmon.cli.commands import META
    from mlmon.rules.config import Config

    cfg: Config = ctx.meta.get(META) or Config(None)
    given = {
        "timestamp-field": timestamp_field,
        "latency-field": latency_field,
        "status-field": status_field,
        "success-field": success_field,
        "success-value": success_value,
        "prediction-field": prediction_field,
        "class-field": class_field,
        "confidence-field": confidence_field,
        "features-field": features_field,
        "record-marker": record_marker,
        "log-timezone": log_timezone,
        "max-bad-lines": max_bad_lines,
        "strict": strict,
        "max-line-bytes": max_line_bytes,
        "max-decompressed-bytes": max_decompressed_bytes,
        "low-confidence": low_confidence,
        "prediction-range": prediction_range,
        "reference": reference,
        "p-threshold": p_threshold,
        "min-effect": min_effect,
        "mean-tolerance": mean_tolerance,
        "min-samples": min_samples,
        "critical-effect": critical_effect,
        "window-rows": window_rows,
        "rotated": rotated,
        "label-files": labels,
        "label-field": label_field,
        "join-field": join_field,
        "task": None if task is None else task.value,
        "positive-class": positive_class,
    }
    # the same flags as summary and drift; the config file gave their defaults, the command line wins
    cfg = dataclasses.replace(
        cfg, settings={**cfg.settings, **{k: v for k, v in given.items() if v is not None}}
    )
    if nagios:
        given_flags = {
            "-o": output, "--state": state, "--alertmanager": alertmanager, "--notify": notify, "--push": push
        }
        unused = [flag for flag, value in given_flags.items() if value]
        if unused:
            # they were dropped without a word: no report file, no state (every run read the whole log)
            import sys

            from mlmon.report.nagios import unknown_line

            text, code = unknown_line(
                f"--nagios does not use {', '.join(unused)}; drop them, or use -f nagios (the same line, "
                "mlmon's exit codes) with them"
            )
            sys.stdout.write(text)
            raise typer.Exit(code)
        raise typer.Exit(nagios_run(cfg, logs, baseline_path, by, since, until, last))
    with handled():
        if notify_timeout <= 0 or notify_timeout != notify_timeout:
            raise OptionError("--notify-timeout must be a positive number of seconds")
        if push and not push_job:
            raise OptionError("--push-job must not be empty (the Pushgateway groups pushed metrics by job)")
        from mlmon.rules.identity import parse_label_flags

        try:
            flagged = parse_label_flags(label or [])
        except ValueError as exc:
            raise OptionError(f"--label {exc}") from None
        retention = _seconds(state_retention, "--state-retention")
        if retention <= 0:
            raise OptionError("--state-retention must be longer than 0 (e.g. 30d)")
        args = CheckArgs(
            logs=logs,
            baseline=baseline_path,
            fmt=fmt,
            outputs=parse_outputs(output or []),
            by=by,
            since=since,
            until=until,
            last=last,
            fail_on=fail_on,
            state=state,
            repeat_interval=_seconds(repeat_interval, "--repeat-interval") if repeat_interval else None,
            alertmanager=list(alertmanager or []),
            notify=list(notify or []),
            push=push,
            push_job=push_job,
            alert_ttl=_seconds(alert_ttl, "--alert-ttl"),
            timeout=notify_timeout,
            runbook_url=_runbook(runbook_url, _from_config(ctx, "runbook_url", cfg.path)),
            quiet=quiet,
            labels={**cfg.settings.get("labels", {}), **dict(flagged)},
            retention=retention,
        )
        written = [("-o", path) for _, path in args.outputs] + ([("--state", state)] if state else [])
        also_read = (baseline_path, cfg.settings.get("reference"), cfg.path)
        read = [*log_paths(cfg, logs), *(p for p in also_read if p)]
        refuse_overwriting_inputs(written, read)
        code = run(cfg, args)
    raise typer.Exit(code)


def _seconds(text: str, option: str) -> float:
    from mlmon.cli.options import parse_duration

    try:
        return parse_duration(text) / 1e9
    except OptionError:
        raise OptionError(f"{option}: {text!r} is not a duration like 30s, 60m, 2h or 1d") from None


def _from_config(ctx: typer.Context, name: str, path: str | None) -> str | None:
    """The config file a parameter's value came from (None when the command line gave it)."""
    source = ctx.get_parameter_source(name)
    return path if source is not None and source.name == "DEFAULT_MAP" else None


def _runbook(url: str | None, config: str | None) -> str | None:
    """--runbook-url (or `runbook-url` in the config file, exit 78 naming it), an http(s) URL."""
    if url is None:
        return None
    from mlmon.errors import ConfigError, OptionError
    from mlmon.rules.config import check_url

    if config is not None:
        return check_url(url, f"{config}: runbook-url")
    try:
        return check_url(url, "--runbook-url")
    except ConfigError as exc:
        raise OptionError(str(exc)) from None
