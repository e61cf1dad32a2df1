"""Config files at the command line: every flag is a config key; `mlmon config validate` and `init`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from mlmon.cli.commands import META, LazyGroup
from mlmon.errors import ConfigError, ExitCode

SKIP_PARAMS = {"help", "config", "no_config", "min_records_alias"}
"""Parameters that are no config key (an old option name keeps only its command-line form)."""
NOT_CONFIGURED = {"config"}
"""Commands whose options are not taken from a config file."""


def flag_name(param: Any) -> str:
    """The config key of a parameter: its long flag without dashes (`max-p99-ms`), or its name."""
    longs = [o[2:] for o in getattr(param, "opts", []) if o.startswith("--")]
    return max(longs, key=len) if longs else str(param.name).replace("_", "-")


def _kind(param: Any) -> tuple[str, list[str] | None, bool]:
    """(number|integer|boolean|text, enum choices, takes a list) of a Typer or Click parameter."""
    import enum
    import types
    import typing

    multiple = bool(getattr(param, "multiple", False) or getattr(param, "nargs", 1) == -1)
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if annotation is not None:
        t = annotation
        while typing.get_origin(t) in (typing.Union, types.UnionType, list):
            args = [a for a in typing.get_args(t) if a is not type(None)]
            t = args[0] if args else str
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return "text", [str(m.value) for m in t], multiple
        if t is bool:
            return "boolean", None, multiple
        return {float: "number", int: "integer"}.get(t, "text"), None, multiple
    ptype = getattr(param, "type", None)
    choices = getattr(ptype, "choices", None)
    if choices:
        return "text", [str(getattr(c, "value", c)) for c in choices], multiple
    name = getattr(ptype, "name", "text")
    return {"float": "number", "integer": "integer", "boolean": "boolean"}.get(name, "text"), None, multiple


def _param_schema(param: Any) -> dict[str, Any]:
    kind, choices, multiple = _kind(param)
    one: dict[str, Any]
    if choices:
        one = {"enum": choices}
    elif kind == "text":
        one = {"type": ["string", "number"]}
    else:
        one = {"type": kind}
    if multiple:
        return {"anyOf": [one, {"type": "array", "items": one}]}
    return one


def _commands(group: Any) -> dict[str, Any]:
    every = group.all_commands() if isinstance(group, LazyGroup) else group.commands
    return {n: c for n, c in every.items() if n not in NOT_CONFIGURED}


def settings_schema(group: Any) -> dict[str, Any]:
    """One schema entry per flag of every command (the same flag in two commands must agree)."""
    props: dict[str, Any] = {}
    for cmd in _commands(group).values():
        for p in cmd.params:
            if p.name in SKIP_PARAMS:
                continue
            key, schema = flag_name(p), _param_schema(p)
            if key in props and props[key] != schema:
                props[key] = {"anyOf": [props[key], schema]}
            else:
                props.setdefault(key, schema)
    return props


def _coerce(param: Any, value: Any) -> Any:
    kind, _, multiple = _kind(param)
    if multiple and not isinstance(value, list):
        value = [value]
    if kind == "text":
        value = [str(v) for v in value] if isinstance(value, list) else str(value)
    return value


def default_map(group: Any, settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Config settings as Click defaults for each command that has the flag (flags still win)."""
    out: dict[str, dict[str, Any]] = {}
    for name, cmd in _commands(group).items():
        values = {}
        for p in cmd.params:
            key = flag_name(p)
            if p.name not in SKIP_PARAMS and key in settings:
                values[str(p.name)] = _coerce(p, settings[key])
        out[name] = values
    return out


def _split_config_args(args: list[str]) -> tuple[str | None, bool, list[str]]:
    path, off, rest = None, False, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest += args[i:]
            break
        if a == "--config" and i + 1 < len(args):
            path = args[i + 1]
            i += 2
            continue
        if a.startswith("--config="):
            path = a.split("=", 1)[1]
        elif a == "--no-config":
            off = True
        else:
            rest.append(a)
        i += 1
    return path, off, rest


def load_for(group: Any, path: str | None, *, discover: bool = True) -> Any:
    """The config of a run: `--config FILE`, else the nearest one from the working directory up."""
    from mlmon.rules.config import Config, find_config, load_config

    if path is None and discover:
        path = os.environ.get("MLMON_CONFIG") or find_config()
    if path is None:
        return Config(None)
    return load_config(path, settings_schema(group))


def _check_fits(cmd: Any, name: str, config: Any, ctx: Any) -> None:
    """Every config value this command takes converts to its option's type: a value another
    command could take (`min-records = "1000:100"`, a WARN:CRIT threshold, given to a command
    whose --min-records is a count) is exit 78 naming the file, the key and the command, not a
    usage error in the option parser's words."""
    if config.path is None or cmd is None:
        return
    for p in cmd.params:
        key = flag_name(p)
        if p.name in SKIP_PARAMS or key not in config.settings or p.is_eager or p.callback is not None:
            continue
        value = config.settings[key]
        try:
            p.process_value(ctx, _coerce(p, value))
        except Exception:  # the parser's own error (typer's or click's wording): said here instead
            kind, choices, _ = _kind(p)
            what = {"integer": "a whole number", "number": "a number", "boolean": "true or false"}.get(
                kind, "text")
            if choices:
                what = "one of " + ", ".join(choices)
            raise ConfigError(
                f"{config.path}: {key} = {json.dumps(value)}: `mlmon {name}` cannot take it; its "
                f"--{key} takes {what}"
            ) from None


class ConfiguredGroup(LazyGroup):
    """Takes `--config FILE` / `--no-config` from any command's arguments and loads the config
    (or finds one from the working directory up) before the command parses its options, so that
    every flag's default comes from the file and a flag on the command line still wins."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        if name is None or name in NOT_CONFIGURED or "--help" in rest:
            return name, cmd, rest
        path, off, rest = _split_config_args(rest)
        path = path or ctx.meta.get("mlmon.root_config")
        try:
            config = load_for(self, path, discover=not off)
            _check_fits(cmd, name, config, ctx)
        except ConfigError as exc:
            from mlmon.report.render import safe

            if "--nagios" in rest:
                from mlmon.report.nagios import unknown_line

                text, code = unknown_line(str(exc))
                typer.echo(text, nl=False)
                raise typer.Exit(code) from None
            from mlmon.cli.runtime import json_error

            if name == "check":
                from mlmon.cli.checkout import failed_run_textfiles

                # node_exporter must not keep the last good run's metrics; CI reads the reports
                failed_run_textfiles(rest, str(exc), int(ExitCode.CONFIG), path)
            typer.echo(f"mlmon: error: {safe(str(exc))}", err=True)
            json_error(str(exc), int(ExitCode.CONFIG))  # --format json: stdout still holds a document
            raise typer.Exit(int(ExitCode.CONFIG)) from None
        ctx.meta[META] = config
        if config.path is not None:
            ctx.default_map = default_map(self, config.settings)
        return name, cmd, rest


config_app = typer.Typer(
    name="config",
    help="Check or start a config file (mlmon.toml, or [tool.mlmon] in pyproject.toml).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@config_app.command("validate")
def validate(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            help="The config file; default: the nearest mlmon.toml or pyproject.toml up from here."
        ),
    ] = None,
) -> None:
    """Check a config file without reading any log: TOML syntax, every key and rule.
    Exit 0 when valid, 78 with the key path and the problem when not.

    Example:

    \b
      mlmon config validate mlmon.toml
    """
    from mlmon.cli.runtime import handled
    from mlmon.rules.config import find_config

    group = ctx.find_root().command
    with handled():
        found = path or find_config()
        if found is None:
            raise ConfigError(
                "no config file: no mlmon.toml, nor a pyproject.toml with [tool.mlmon], from here up"
            )
        config = load_for(group, found)
        n = len(config.rules)
        typer.echo(f"{found}: valid ({len(config.settings)} setting(s), {n} rule(s))")


def _toml_value(v: Any) -> str:
    return json.dumps(v)


@config_app.command("init")
def init(
    log: Annotated[str, typer.Argument(help="A prediction log to take field names and values from.")],
    baseline: Annotated[
        str | None, typer.Option("--baseline", "-b", help="A baseline (mlmon baseline) for drift rules.")
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="Where to write it ('-' for stdout).")] = (
        "mlmon.toml"
    ),
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Write a commented starter config from a log (and a baseline): thresholds start a little
    beyond what the log shows today, so a healthy service passes; tighten them to your targets.

    Example (from the repository's root, on its sample_logs/):

    \b
      mlmon baseline sample_logs/training.csv -o baseline.json
      mlmon config init sample_logs/predictions.jsonl \\
          --baseline baseline.json -o mlmon.toml
    """
    from mlmon.cli.runtime import handled
    from mlmon.outfile import write_output

    with handled():
        from mlmon.cli.runtime import refuse_overwriting_inputs

        refuse_overwriting_inputs([("-o", output)], [log, *([baseline] if baseline else [])])
        text = starter(log, baseline, where=None if output == "-" else output)
        if output != "-" and os.path.exists(output) and not force:
            from mlmon.errors import OptionError

            raise OptionError(f"{output} exists; use --force to replace it")
        write_output(output, text)
        if output != "-":
            typer.echo(f"wrote {output}", err=True)


def _rel(path: str, where: str | None) -> str:
    """A path as the written file reads it: relative to that file's folder (config paths are), so a
    committed config checks the files next to it on every machine, not the author's."""
    base = os.path.dirname(os.path.abspath(where)) if where else os.getcwd()
    return os.path.relpath(os.path.abspath(path), base)


def _n(v: float) -> str:
    """A threshold or a measured value without float noise: 94.76, not 94.76140000000004."""
    from mlmon.numfmt import number

    return number(v).replace(",", "")


def _p99_note(p99: float | None, n: int) -> str:
    shown = "-" if p99 is None else _n(p99)
    return f"1.5x (warning) and 3x (critical) the log's p99 latency, {shown} ms ({n:,} latencies)"


def starter(log: str, baseline: str | None, *, where: str | None = None) -> str:
    """The text of a starter config: settings and rules with thresholds from the log's values,
    each with a comment saying what it was derived from; paths relative to `where` (the file)."""
    from mlmon.api import check
    from mlmon.rules.config import Rule
    from mlmon.stats.baseline import load

    base = load(baseline) if baseline else None
    rep = check([log], (Rule("records", "records"),), baseline=base)
    o = rep.summary.overall
    lat = o.latency_ms
    # per-version rules only where the records have a model_version to group by
    grouped = any(g.group is not None for g in rep.summary.groups)

    def up(v: float | None, factor: float) -> float | None:
        return None if v is None else float(f"{v * factor:.3g}")

    lines = [
        "# mlmon config: `mlmon check` runs every rule below in one pass over the logs.",
        "# Every flag of `mlmon summary` / `mlmon drift` / `mlmon check` is a key here, with the same",
        "# name (flags on the command line win). Relative paths are relative to this file.",
        f"# Made by `mlmon config init` from {os.path.basename(log)}"
        + (f" and {os.path.basename(baseline)}" if baseline else "")
        + f" ({o.records} records).",
        "",
        f"logs = [{_toml_value(_rel(log, where))}]",
    ]
    if baseline:
        lines.append(f"baseline = {_toml_value(_rel(baseline, where))}")
    from mlmon.numfmt import duration

    span = o.span_seconds or 0.0
    per_hour = o.records * 3600 / span if span >= 60 else float(o.records)
    lines += [
        '# last = "60m"            # only the last hour up to the newest record',
        '# max-age = "2h"          # critical when the newest record is older: a dead service',
        '# by = "model_version"    # group field (rules with by = "model_version" check each group)',
        '# fail-on = "warning"     # exit 1 on warning or critical; "critical" or "never"',
        "",
        "# Each rule: metric (as in the JSON output), warning and/or critical thresholds;",
        '# direction ("above" or "below": which side is bad) defaults per metric; for = N',
        "# consecutive runs (with --state) before it fires; by = the group field; name.",
        "",
        "[[rules]]",
        'metric = "records"',
        f"warning = {max(1, int(per_hour // 10))}",
        "critical = 1",
        f"# warning: a tenth of the {per_hour:,.0f} records an hour this log had ({o.records:,} over "
        f"{duration(span)}),",
        '# for the hour an hourly `mlmon check --state` run (or last = "60m") reads: fewer means',
        "# the service may be down or its traffic gone",
    ]

    def rule(metric: str, warn: float | None, crit: float | None, note: str, by: bool = False) -> None:
        nonlocal lines
        if warn is None and crit is None:
            lines += ["", f"# [[rules]] metric = {_toml_value(metric)}: no value in this log yet"]
            return
        lines += ["", "[[rules]]", f"metric = {_toml_value(metric)}"]
        if warn is not None:
            lines.append(f"warning = {_n(warn)}")
        if crit is not None:
            lines.append(f"critical = {_n(crit)}")
        if by and grouped:
            lines.append('by = "model_version"')
        lines.append(f"# {note}")

    rule("latency_ms.p99", up(lat.p99, 1.5), up(lat.p99, 3), _p99_note(lat.p99, lat.n), by=True)
    sr = o.success_rate
    rule(
        "success_rate",
        None if sr is None else round(max(0.0, sr - (1 - sr) - 0.005), 4),
        None if sr is None else round(max(0.0, sr - 3 * (1 - sr) - 0.02), 4),
        f"the log's success rate, {'-' if sr is None else _n(sr)} ({o.success_n:,} records), less twice\n"
        "# its error rate and 0.5 points (warning), less four times and 2 points (critical)",
        by=True,
    )
    ls = o.confidence.low_share
    rule(
        "confidence.low_share",
        None if ls is None else round(min(1.0, ls * 1.5 + 0.02), 4),
        None,
        f"1.5x the log's share below confidence {_n(o.confidence.low_threshold)}, "
        f"{'-' if ls is None else _n(ls)} ({o.confidence.n:,} predictions), + 2 points",
    )
    if base is not None:
        lines += [
            "",
            "[[rules]]",
            'metric = "drift.*"        # every baseline feature: the verdict of `mlmon drift`',
            "# warning = 0.1            # or your own limits on the effect (KS D, total variation)",
            "# critical = 0.25          # (critical when even the lower 95% bound reaches it)",
            "",
            "[[rules]]",
            'metric = "mean_deviation.*"  # numeric features: a mean shown to move past 20% is critical',
            "# critical = 0.2",
            "",
            "[[rules]]",
            'metric = "unseen.*"       # categories training never had: warning past 1%, critical past 5%',
            "# warning = 0.01",
            "# critical = 0.05",
            "",
            *([
                "[[rules]]",
                'metric = "drift.multivariate"  # the numeric features together: a correlation broke',
                "# warning = 0.1            # limits on the rise of the PCA reconstruction error,",
                "# critical = 0.5           # in reference standard deviations",
                "",
            ] if base.multivariate is not None else []),
            "# missing_share.* runs by default with a baseline: records without a feature's value,",
            "# against training's share. A rule of your own replaces the default:",
            "# [[rules]]",
            '# metric = "missing_share.*"',
            "# warning = 0.01           # the share's rise over training's (a share, 0 to 1)",
            "# critical = 0.1",
        ]
    return "\n".join(lines) + "\n"
