"""`mlmon check`: every rule of the config in one pass over the logs, for cron and CI."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from mlmon.cli.app import _diagnostics, _handled, _progress, _stderr, app, mark_interrupted
from mlmon.cli.options import (
    FailOn,
    FailOnOpt,
    Last,
    Since,
    Until,
    _budget,
    _check_tz,
    _read_options,
    _selection,
    parse_range,
)
from mlmon.errors import ExitCode, MlmonError, OptionError


class CheckFmt(StrEnum):
    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    PROMETHEUS = "prometheus"
    CSV = "csv"
    NAGIOS = "nagios"


EXTENSIONS = {
    ".json": CheckFmt.JSON,
    ".xml": CheckFmt.JUNIT,
    ".md": CheckFmt.MARKDOWN,
    ".prom": CheckFmt.PROMETHEUS,
    ".csv": CheckFmt.CSV,
    ".txt": CheckFmt.TABLE,
}


def parse_outputs(specs: list[str]) -> list[tuple[CheckFmt, str]]:
    """`-o FORMAT:FILE` or `-o FILE` (format from the extension: .xml junit, .md, .prom, .csv, .json)."""
    out = []
    for spec in specs:
        head, sep, rest = spec.partition(":")
        if sep and head in CheckFmt.__members__.values():
            if not rest:
                raise OptionError(f"-o {spec}: give a file after {head}: ('-' for stdout)")
            out.append((CheckFmt(head), rest))
            continue
        import os

        ext = os.path.splitext(spec)[1].lower()
        if ext not in EXTENSIONS:
            raise OptionError(
                f"-o {spec}: say which format, e.g. -o junit:{spec} (formats: "
                f"{', '.join(f.value for f in CheckFmt)}; or end the name in "
                f"{', '.join(EXTENSIONS)})"
            )
        out.append((EXTENSIONS[ext], spec))
    return out


def threshold_rules(settings: dict[str, Any], by: str | None) -> tuple[Any, ...]:
    """The summary's threshold keys (`max-p99-ms = "250:400"`) as rules, per group when grouped;
    a bare number keeps the summary's severity for it."""
    from mlmon.cli.options import parse_threshold
    from mlmon.rules.alerts import RULES, Severity
    from mlmon.rules.config import Rule

    rules = []
    for field, (metric, single, upper) in RULES.items():
        key = field.replace("_", "-")
        if settings.get(key) is None:
            continue
        t = parse_threshold(str(settings[key]), f"--{key}")
        if isinstance(t, float):
            warn, crit = (t, None) if single is Severity.WARNING else (None, t)
        else:
            warn, crit = t.warning, t.critical
        direction = "above" if upper else "below"
        rules.append(Rule(metric, f"{metric} (--{key})", warn, crit, direction, by=by))
    from mlmon.cli.options import parse_max_age

    # the traffic gates of summary and drift: one value is critical
    for key, metric, direction, parse in (
        ("min-records", "records", "below", lambda v: parse_threshold(v, "--min-records")),
        ("max-age", "age_seconds", "above", parse_max_age),
    ):
        if settings.get(key) is None:
            continue
        t = parse(str(settings[key]))
        warn, crit = (None, float(t)) if isinstance(t, int | float) else (t.warning, t.critical)
        rules.append(Rule(metric, f"{metric} (--{key})", warn, crit, direction))
    return tuple(rules)


def _plan(s: dict[str, Any], by: str | None) -> Any:
    from mlmon.read.records import FieldMap, ReadPlan

    fields = FieldMap(
        timestamp=s.get("timestamp-field", "timestamp"),
        latency=s.get("latency-field", "latency_ms"),
        status=s.get("status-field", "status"),
        success=s.get("success-field", "success"),
        features=s.get("features-field", "input.features"),
        prediction=s.get("prediction-field", "prediction"),
        pred_class=s.get("class-field", "prediction.class"),
        confidence=s.get("confidence-field", "prediction.confidence"),
    )
    values = s.get("success-value")
    if isinstance(values, str):
        values = [values]
    return ReadPlan(
        fields=fields,
        by=by,
        record_marker=s.get("record-marker"),
        log_timezone=s.get("log-timezone", "UTC"),
        success_values=frozenset(v.lower() for v in values) if values else frozenset({"success", "ok"}),
    )


@dataclass(frozen=True)
class CheckArgs:
    """The command line of one `check` run, parsed once."""

    logs: list[str] | None
    baseline: str | None
    fmt: CheckFmt
    outputs: list[tuple[CheckFmt, str]]
    by: str
    since: str | None
    until: str | None
    last: str | None
    fail_on: FailOn
    state: str | None
    repeat_interval: float | None
    alertmanager: list[str]
    notify: list[str]
    push: str | None
    push_job: str
    alert_ttl: float
    timeout: float


@app.command()
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
    baseline_path: Annotated[
        str | None, typer.Option("--baseline", "-b", help="A baseline (mlmon baseline) for drift rules.")
    ] = None,
    fmt: Annotated[
        CheckFmt,
        typer.Option(
            "--format", "-f", help="Standard output: table, json, junit, markdown, prometheus, csv or nagios."
        ),
    ] = CheckFmt.TABLE,
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
            help="Remember between runs in this file: read only new lines (rotation and truncation "
            "handled), alerts firing and since when, `for` counts. Locked while a run uses it."
        ),
    ] = None,
    repeat_interval: Annotated[
        str | None,
        typer.Option(help="With --state: notify again about an alert still firing after this long (4h)."),
    ] = None,
    alertmanager: Annotated[
        list[str] | None,
        typer.Option(
            help="Post firing (and, with --state, resolved) alerts to this Alertmanager (http://host:9093); "
            "repeatable."
        ),
    ] = None,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            help="Also send alerts to webhook:URL (a Slack-compatible body) or smtp://host:port?to=ADDRESS; "
            "env:NAME takes the URL from an environment variable; repeatable."
        ),
    ] = None,
    push: Annotated[
        str | None, typer.Option(help="Push the prometheus metrics to this Pushgateway (http://host:9091).")
    ] = None,
    push_job: Annotated[str, typer.Option(help="The job label of pushed metrics.")] = "mlmon",
    alert_ttl: Annotated[
        str,
        typer.Option(help="Alertmanager keeps a firing alert this long unless the next run sends it again."),
    ] = "2h",
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
            help="drift.* warning threshold when a rule gives none (default 0.1).", show_default=False
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
) -> None:
    """Run every rule of the config file in one pass over the logs (summary and drift share the
    read) and give one result per rule: ok, warning, critical or no data.

    Exit 0 when every rule is ok, 1 when one is at or above --fail-on, 65 when a rule has no
    data (nothing checked is never a pass), 78 for a bad config file. Rules come from [[rules]]
    in the config and from the summary threshold keys (max-p99-ms = "250:400", ...). A failed
    notification is reported on stderr and in the JSON, and does not change the exit code.

    Example:

    \b
      mlmon check --config mlmon.toml \\
          -o junit:mlmon.xml -o markdown:summary.md
    """
    del config  # taken by the command group before the options are parsed
    from mlmon.cli.config import META
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
    }
    # the same flags as summary and drift; the config file gave their defaults, the command line wins
    cfg = dataclasses.replace(
        cfg, settings={**cfg.settings, **{k: v for k, v in given.items() if v is not None}}
    )
    if nagios:
        raise typer.Exit(_nagios(cfg, logs, baseline_path, by, since, until, last))
    with _handled():
        if notify_timeout <= 0 or notify_timeout != notify_timeout:
            raise OptionError("--notify-timeout must be a positive number of seconds")
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
        )
        code = _run(cfg, args)
    raise typer.Exit(code)


def _seconds(text: str, option: str) -> float:
    from mlmon.cli.options import parse_duration

    try:
        return parse_duration(text) / 1e9
    except OptionError:
        raise OptionError(f"{option}: {text!r} is not a duration like 30s, 60m, 2h or 1d") from None


def _run(cfg: Any, a: CheckArgs) -> int:
    from mlmon.cli.runstate import run_with_state

    try:
        rep, outcomes, totals = run_with_state(cfg, a)
    except MlmonError:
        _failed_run_metrics(a)
        raise
    _diagnostics(rep.input)
    for o in outcomes:
        if not o.ok:
            from mlmon.report.render import safe

            _stderr().print(
                f"mlmon: warning: {o.kind} notification to {safe(o.target)} failed after "
                f"{o.attempts} attempt(s): {safe(o.error or '')}",
                markup=False,
            )
    notes = [plain_outcome(o) for o in outcomes]
    _write_all(rep, cfg, a, notes, totals)
    return _exit_code(rep, a.fail_on)


def plain_outcome(o: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(o)


def _failed_run_metrics(a: CheckArgs) -> None:
    """A run that failed still tells Prometheus: mlmon_run_success 0 (textfile and Pushgateway)."""
    import contextlib
    import time

    from mlmon.errors import OutputError
    from mlmon.outfile import write_output
    from mlmon.report.prometheus import check_prometheus

    text = check_prometheus(None, now=time.time(), success=False)
    for f, path in a.outputs:
        if f is CheckFmt.PROMETHEUS and path != "-":
            with contextlib.suppress(OutputError):
                write_output(path, text)
    if a.push:
        from mlmon.cli.runstate import push_metrics

        push_metrics(a, None, success=False, totals=None)


def _drift_options(s: dict[str, Any]) -> Any:
    """The drift test settings given (flags or config keys); DriftOptions' defaults for the rest."""
    from mlmon.stats.drift import DriftOptions

    kinds = {
        "p-threshold": float,
        "min-effect": float,
        "mean-tolerance": float,
        "min-samples": int,
        "critical-effect": float,
        "max-unseen-share": float,
    }
    given = {k.replace("-", "_"): conv(s[k]) for k, conv in kinds.items() if s.get(k) is not None}
    o = DriftOptions(**given)
    if not 0 < o.p_threshold <= 1 or o.min_effect < 0 or o.min_samples < 2:
        raise OptionError("--p-threshold must be in (0, 1], --min-effect >= 0, --min-samples >= 2")
    return o


def log_paths(cfg: Any, logs: list[str] | None) -> list[str]:
    """The logs of a run: the arguments, else `logs` in the config file."""
    paths = logs or cfg.settings.get("logs")
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise OptionError("no logs: give LOG... or set logs = [...] in the config file")
    return [str(p) for p in paths]


def _evaluate(
    cfg: Any,
    logs: list[str] | None,
    baseline_path: str | None,
    by: str,
    since: str | None,
    until: str | None,
    last: str | None,
    inputs: list[Any] | None = None,
    now: float | None = None,
) -> tuple[Any, Any]:
    """Run the check; `inputs` (planned sources, --state) replaces the paths when given."""
    from mlmon.api import check as run_check
    from mlmon.api import load_training
    from mlmon.stats.baseline import load
    from mlmon.stats.summary import SummaryOptions

    s: dict[str, Any] = dict(cfg.settings)
    paths: list[Any] = log_paths(cfg, logs) if inputs is None else inputs
    tz = s.get("log-timezone", "UTC")
    _check_tz(tz)
    group = by or None
    rules = threshold_rules(s, group) + cfg.rules
    if not rules:
        raise OptionError(
            "no rules: add [[rules]] to the config file (mlmon config init writes a starter) "
            "or threshold keys such as max-p99-ms"
        )
    base = None
    if baseline_path:
        base = load(baseline_path)
    elif s.get("reference"):
        base = load_training(
            str(s["reference"]), exclude={s.get("timestamp-field", "timestamp")}, max_edges=None
        )
    elif any(r.metric.startswith(("drift.", "mean_deviation.", "unseen.")) for r in rules):
        raise OptionError('drift rules need a baseline: --baseline FILE or baseline = "..." in the config')
    with _progress() as on_bytes:
        rep = run_check(
            paths,
            rules,
            baseline=base,
            plan=_plan(s, group),
            options=_read_options(int(s.get("max-line-bytes", 16 << 20)), s.get("max-decompressed-bytes")),
            selection=_selection(since, until, last, tz, s.get("window-rows")),
            summary=SummaryOptions(
                low_confidence=float(s.get("low-confidence", 0.5)),
                prediction_range=parse_range(s.get("prediction-range")),
            ),
            drift=_drift_options(s),
            budget=_budget(str(s.get("max-bad-lines", "1%")), bool(s.get("strict", False))),
            now=now,
            on_bytes=on_bytes,
        )
    return rep, None


def render(
    rep: Any,
    fmt: CheckFmt,
    cfg: Any,
    fail_on: FailOn,
    notifications: list[dict[str, Any]],
    totals: dict[str, float] | None = None,
) -> Any:
    """The text (or rich renderable for the table) of one output format."""
    from mlmon.report.checks import check_json, check_table

    if fmt is CheckFmt.TABLE:
        return check_table(rep)
    if fmt is CheckFmt.JSON:
        return check_json(rep, config=cfg.path, notifications=notifications)
    if fmt is CheckFmt.JUNIT:
        from mlmon.report.junit import check_junit

        return check_junit(rep, fail_rank=_fail_rank(fail_on))
    if fmt is CheckFmt.MARKDOWN:
        from mlmon.report.markdown import check_markdown

        return check_markdown(rep)
    if fmt is CheckFmt.PROMETHEUS:
        from mlmon.report.prometheus import check_prometheus

        return check_prometheus(rep, now=rep.now, success=run_success(rep), totals=totals)
    if fmt is CheckFmt.CSV:
        from mlmon.report.csvout import check_csv

        return check_csv(rep)
    from mlmon.report.nagios import nagios_line

    return nagios_line(rep)[0]


def run_success(rep: Any) -> bool:
    """Every rule was checked (none had no data)."""
    from mlmon.rules.check import Status

    return all(r.status is not Status.NO_DATA for r in rep.results)


def _fail_rank(fail_on: FailOn) -> int:
    return {FailOn.WARNING: 1, FailOn.CRITICAL: 2, FailOn.NEVER: 3}[fail_on]


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import io

    from rich.console import Console

    console = Console(record=True, width=120, file=io.StringIO(), highlight=False, color_system=None)
    console.print(value)
    return console.export_text()


def _write_all(
    rep: Any, cfg: Any, a: CheckArgs, notes: list[dict[str, Any]], totals: dict[str, float] | None
) -> None:
    from mlmon.cli.app import _emit
    from mlmon.cli.options import Fmt
    from mlmon.outfile import write_output

    for f, path in a.outputs:
        write_output(path, _to_text(render(rep, f, cfg, a.fail_on, notes, totals)))
    shown = render(rep, a.fmt, cfg, a.fail_on, notes, totals)
    _emit(shown, Fmt.TABLE if not isinstance(shown, str) else Fmt.JSON)


def _exit_code(rep: Any, fail_on: FailOn) -> int:
    from mlmon.rules.alerts import Severity
    from mlmon.rules.check import Status

    missing = [r.name for r in rep.results if r.status is Status.NO_DATA]
    if missing:
        _stderr().print(
            f"mlmon: error: {len(missing)} rule(s) had no data, so they were not checked: "
            + ", ".join(missing[:5])
            + (" ..." if len(missing) > 5 else ""),
            markup=False,
        )
        return int(ExitCode.DATA_ERROR)
    worst = max((a.severity.rank for a in rep.alerts), default=-1)
    if fail_on is not FailOn.NEVER and worst >= Severity(fail_on.value).rank:
        return int(ExitCode.ALERT)
    return int(ExitCode.OK)


def _nagios(cfg: Any, logs: Any, baseline_path: Any, by: str, since: Any, until: Any, last: Any) -> int:
    """Monitoring-plugin mode: every outcome, errors included, is one line and exit 0-3."""
    from mlmon.report.nagios import nagios_line, unknown_line

    try:
        rep, _ = _evaluate(cfg, logs, baseline_path, by, since, until, last)
    except MlmonError as exc:
        text, code = unknown_line(str(exc))
    except KeyboardInterrupt:
        mark_interrupted()
        text, code = unknown_line("interrupted")
    except Exception as exc:  # noqa: BLE001  (a plugin must answer UNKNOWN, never a traceback)
        text, code = unknown_line(f"internal error: {type(exc).__name__}: {exc}")
    else:
        text, code = nagios_line(rep)
    sys.stdout.write(text)
    sys.stdout.flush()
    return code
