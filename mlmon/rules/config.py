"""Config files (`mlmon.toml`, `[tool.mlmon]`): find, parse with tomllib, validate with jsonschema."""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlmon.errors import ConfigError
from mlmon.rules.configfile import MAX_BYTES, check_shape, check_trust

CONFIG_NAME = "mlmon.toml"
PYPROJECT = "pyproject.toml"

SUMMARY_METRICS: dict[str, str] = {
    "records": "below",
    "success_rate": "below",
    "error_rate": "above",
    "latency_ms.mean": "above",
    "latency_ms.p50": "above",
    "latency_ms.p95": "above",
    "latency_ms.p99": "above",
    "latency_ms.max": "above",
    "confidence.mean": "below",
    "confidence.low_share": "above",
    "predictions_out_of_range": "above",
    "requests_per_second": "below",
    "age_seconds": "above",
}
"""Metrics of the serving summary, each with the direction that is bad by default."""

FEATURE_METRICS: dict[str, str] = {
    "drift": "above", "mean_deviation": "above", "unseen": "above", "missing_share": "above",
    "out_of_range": "above", "type_errors": "above",
}
"""Per-feature metrics: `drift.<feature>` (the drift effect), `mean_deviation.<feature>`,
`unseen.<feature>` (share of values in categories training never had), `missing_share.<feature>`
(share of records without a value, limits on its rise over training's), `out_of_range.<feature>`
(share of numeric values outside training's [min, max]), `type_errors.<feature>` (share of
records whose value had the wrong type); `*` is every feature."""

FEATURE_PREFIXES = tuple(k + "." for k in FEATURE_METRICS)
"""Metric name prefixes of the per-feature rules (they need a baseline)."""

_FEATURE = re.compile(r"^(drift|mean_deviation|unseen|missing_share|out_of_range|type_errors)\.(.+)$")


RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["metric"],
    "properties": {
        "metric": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 1},
        "warning": {"type": "number"},
        "critical": {"type": "number"},
        "direction": {"enum": ["above", "below"]},
        "for": {"type": "integer", "minimum": 1},
        "by": {"type": "string"},
        "description": {"type": "string"},
        "runbook_url": {"type": "string"},
    },
}


def config_schema(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSON Schema of a config file: the given settings (one per command-line flag) and rules;
    None takes any setting (the library, which has no flags to check them against)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": settings is None,
        "properties": {
            **(settings or {}),
            "rules": {"type": "array", "items": RULE_SCHEMA},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }


def check_url(url: str, where: str) -> str:
    """An http(s) URL with a host (a runbook's), or ConfigError naming `where`."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL (give https://host/page)")
    return url


@dataclass(frozen=True)
class Rule:
    """One check: a metric against warning and critical thresholds."""

    metric: str
    name: str
    warning: float | None = None
    critical: float | None = None
    direction: str = "above"
    """`above`: values above a threshold are bad; `below`: values below are bad."""
    for_runs: int = 1
    """Consecutive breaching runs (with --state) before the rule fires."""
    by: str | None = None
    """Evaluate per group (this field must be the grouping field) as well as overall."""
    description: str | None = None
    runbook_url: str | None = None
    """An http(s) URL: the page on-call opens for this rule (Alertmanager's `runbook_url`)."""


@dataclass(frozen=True)
class Config:
    """A loaded, validated config file."""

    path: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    """Flag values by the flag's name without dashes (`max-p99-ms`), paths made absolute."""
    rules: tuple[Rule, ...] = ()


DEFAULT_RULES = ("missing_share", "type_errors")
"""Per-feature rules a check with a baseline runs at their default limits."""


def default_rules(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The rules a check with a baseline runs besides its own: `missing_share.*` and
    `type_errors.*` at their default limits, each unless a rule names that metric already (a rule
    of your own replaces it)."""
    return tuple(
        Rule(f"{kind}.*", f"{kind}.*") for kind in DEFAULT_RULES
        if not any(r.metric.startswith(kind + ".") for r in rules)
    )


def find_config(start: str | None = None) -> str | None:
    """The nearest `mlmon.toml`, or `pyproject.toml` with a `[tool.mlmon]` table, from `start` up."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, CONFIG_NAME)
        if os.path.isfile(candidate):
            return candidate
        py = os.path.join(here, PYPROJECT)
        if os.path.isfile(py):
            try:
                if "mlmon" in _load_toml(py).get("tool", {}):
                    return py
            except ConfigError:
                if _mentions_mlmon(py):  # ours, but untrusted or malformed: say so, never skip it
                    raise
            except (OSError, ValueError, AttributeError) as e:  # not TOML, not UTF-8: not ours
                if _mentions_mlmon(py):
                    raise ConfigError(f"{py}: [tool.mlmon] cannot be read: {e}") from None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _mentions_mlmon(path: str) -> bool:
    """Whether a pyproject.toml that could not be loaded holds a `[tool.mlmon]` table (by its text)."""
    try:
        with open(path, "rb") as fh:
            return re.search(rb"^\s*\[\s*tool\s*\.\s*mlmon\s*[\].]", fh.read(MAX_BYTES), re.M) is not None
    except OSError:
        return False


def _load_toml(path: str) -> dict[str, Any]:
    """Parse a TOML file; a UTF-8 byte order mark (Windows editors write one) is skipped. Before
    tomllib sees it: who may write it, its size, its nesting and its keys (configfile)."""
    with open(path, "rb") as fh:
        check_trust(path, fh.fileno())
        data = fh.read(MAX_BYTES + 1)  # bounded: `--config /dev/zero` must not read forever
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES:,} bytes; not a config file")
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    check_shape(text, path)
    try:
        return tomllib.loads(text)
    except RecursionError:  # a nesting the scan did not see: still the file's fault
        raise ConfigError(f"{path}: nested too deeply; not a config file") from None


def read_toml(path: str) -> dict[str, Any]:
    """The mlmon table of a config file: the whole of `mlmon.toml`, `[tool.mlmon]` of a pyproject."""
    try:
        doc = _load_toml(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None
    if os.path.basename(path) == PYPROJECT:
        tool = doc.get("tool", {})
        if not isinstance(tool, dict) or not isinstance(tool.get("mlmon"), dict):
            raise ConfigError(f"{path}: no [tool.mlmon] table")
        return dict(tool["mlmon"])
    return doc


def _key_path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def validate(doc: dict[str, Any], settings: Mapping[str, Any] | None, *, path: str) -> None:
    """Raise ConfigError naming the key path of the first problem (jsonschema does the checking)."""
    import jsonschema

    schema = config_schema(settings)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(e.absolute_path), e.validator))
    if not errors:
        return
    err = errors[0]
    where = list(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = err.schema.get("properties", {})
        instance = err.instance if isinstance(err.instance, dict) else {}
        unknown = [k for k in instance if k not in allowed]
        key = unknown[0] if unknown else "?"
        hint = difflib.get_close_matches(key, list(allowed), n=1)
        more = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ConfigError(f"{path}: {_key_path([*where, key])}: unknown key{more}")
    if err.validator == "required":
        raise ConfigError(f"{path}: {_key_path(where)}: {err.message}")
    raise ConfigError(f"{path}: {_key_path(where)}: {err.message}")


QUALITY_PREFIXES = ("quality.", "quality_drop.")
"""Realized-performance rules (they need --labels): `quality.<metric>` against limits on the
metric, `quality_drop.<metric>` against limits on its fall from the baseline's reference."""


def metric_direction(metric: str) -> str | None:
    """The bad direction of a metric name, or None when it is not a known metric."""
    if metric in SUMMARY_METRICS:
        return SUMMARY_METRICS[metric]
    if metric.startswith(QUALITY_PREFIXES):
        from mlmon.stats.performance import bad_direction, known_metric

        kind, _, name = metric.partition(".")
        if not known_metric(name):
            return None
        return "above" if kind == "quality_drop" else bad_direction(name)
    m = _FEATURE.match(metric)
    return FEATURE_METRICS[m.group(1)] if m else None


_SHARES = ("success_rate", "error_rate", "confidence.mean", "confidence.low_share")


def _limit_range(metric: str) -> tuple[float, float, str]:
    """The values a limit of this metric can take: (lowest, highest, in words)."""
    if metric.startswith("quality."):
        from mlmon.stats.performance import metric_range

        if metric_range(metric.partition(".")[2])[1] == 1.0:
            return 0.0, 1.0, "a share from 0 to 1 (0.05, not 5 for 5%)"
    if metric == "drift.multivariate":  # the joint test's effect: a rise in reference sd
        return 0.0, math.inf, "a number at least 0 (the rise of the reconstruction error in reference sd)"
    if metric in _SHARES or metric.startswith(
        ("unseen.", "drift.", "missing_share.", "out_of_range.", "type_errors.")
    ):
        return 0.0, 1.0, "a share from 0 to 1 (0.05, not 5 for 5%)"
    return 0.0, math.inf, "a number at least 0"


_QUOTED = re.compile(r'^(drift|mean_deviation|unseen)\."(.+)"$')


def _unquoted(metric: str) -> str:
    """`drift."score.v2"` is `drift.score.v2`: a feature name is everything after the metric's
    first dot, taken whole (a key of the features object, never a path); quotes may show it."""
    m = _QUOTED.match(metric)
    return f"{m.group(1)}.{m.group(2)}" if m else metric


def parse_rules(items: list[dict[str, Any]], *, path: str, by: str | None) -> tuple[Rule, ...]:
    """Validated rule tables to Rules; semantic checks that a schema cannot state."""
    rules: list[Rule] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        where = f"{path}: rules[{i}]"
        metric = _unquoted(item["metric"])
        default = metric_direction(metric)
        if default is None:
            known = [*SUMMARY_METRICS, "drift.*", "mean_deviation.*", "unseen.*", "missing_share.*",
                     "out_of_range.*", "type_errors.*", "quality.accuracy", "quality_drop.accuracy"]
            hint = difflib.get_close_matches(metric, known, n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(
                f"{where}.metric: unknown metric {metric!r}{more}; known: "
                f"{', '.join(SUMMARY_METRICS)}, drift.<feature>, mean_deviation.<feature>, unseen.<feature>, "
                "missing_share.<feature>, out_of_range.<feature>, type_errors.<feature> (or .*), "
                "quality.<metric> and quality_drop.<metric> (accuracy, macro_f1, auc, brier, ece, mae, "
                "rmse, mape, precision.<class>, recall.<class>, f1.<class>)"
            )
        direction = item.get("direction", default)
        warn, crit = item.get("warning"), item.get("critical")
        limited = metric in SUMMARY_METRICS or metric.startswith(QUALITY_PREFIXES)
        if warn is None and crit is None and limited:
            raise ConfigError(
                f"{where}: give warning and/or critical for {metric!r}; without a limit the rule "
                "can never fail (only the per-feature rules, drift.*, mean_deviation.*, unseen.*, "
                "missing_share.*, out_of_range.* and type_errors.*, have default limits)"
            )
        low, high, unit = _limit_range(metric)
        for key, v in (("warning", warn), ("critical", crit)):
            if v is not None and not math.isfinite(v):
                raise ConfigError(f"{where}.{key}: must be a finite number")
            if v is not None and not low <= v <= high:
                raise ConfigError(f"{where}.{key}: {v:g} is out of range for {metric!r}: {unit}")
        if warn is not None and crit is not None:
            if direction == "above" and crit < warn:
                raise ConfigError(
                    f"{where}.critical: {crit:g} is below warning {warn:g}; for a metric that is bad "
                    f'when high, critical must be at least warning (or set direction = "below")'
                )
            if direction == "below" and crit > warn:
                raise ConfigError(
                    f"{where}.critical: {crit:g} is above warning {warn:g}; for a metric that is bad "
                    f'when low, critical must be at most warning (or set direction = "above")'
                )
        rule_by = item.get("by") or None
        if rule_by is not None and rule_by != by:
            raise ConfigError(
                f"{where}.by: {rule_by!r} is not the grouping field of this run ({by!r}); "
                f"set `by = {rule_by!r}` at the top level to group the records by it"
            )
        if "runbook_url" in item:
            check_url(item["runbook_url"], f"{where}.runbook_url")
        name = item.get("name") or metric
        if name in names:
            raise ConfigError(f"{where}.name: {name!r} is used by another rule; give each rule its own name")
        names.add(name)
        rules.append(
            Rule(
                metric=metric,
                name=name,
                warning=warn,
                critical=crit,
                direction=direction,
                for_runs=item.get("for", 1),
                by=rule_by,
                description=item.get("description"),
                runbook_url=item.get("runbook_url"),
            )
        )
    return tuple(rules)


PATH_KEYS = ("logs", "baseline", "reference", "state", "rotated", "label-files")
"""Settings that are paths: relative ones are relative to the config file's folder (cron runs
in $HOME, a person in the project folder: both must mean the same files)."""
OUTPUT_KEY = "output"
"""`output = ["junit:report.xml", "summary.md"]`: the file of each FORMAT:FILE is a path too."""
_FORMAT = re.compile(r"^[a-z]+$")


def _resolve(value: Any, base: str) -> Any:
    if isinstance(value, list):
        return [_resolve(v, base) for v in value]
    if isinstance(value, str) and value != "-" and value:
        value = os.path.expanduser(value)
        if not os.path.isabs(value):
            return os.path.normpath(os.path.join(base, value))
    return value


def _resolve_output(value: Any, base: str) -> Any:
    if isinstance(value, list):
        return [_resolve_output(v, base) for v in value]
    if not isinstance(value, str):
        return value
    head, sep, rest = value.partition(":")
    if sep and _FORMAT.match(head):
        return f"{head}:{_resolve(rest, base)}" if rest else value
    return _resolve(value, base)


def _setting(key: str, value: Any, base: str) -> Any:
    if key in PATH_KEYS:
        return _resolve(value, base)
    if key == OUTPUT_KEY:
        return _resolve_output(value, base)
    return value


def load_config(path: str, settings: Mapping[str, Any] | None) -> Config:
    """Read and validate a config file against the settings schema (one entry per flag)."""
    doc = read_toml(path)
    validate(doc, settings, path=path)
    base = os.path.dirname(os.path.abspath(path))
    values = {k: _setting(k, v, base) for k, v in doc.items() if k != "rules"}
    if "labels" in values:
        from mlmon.rules.identity import check_labels

        try:
            values["labels"] = check_labels(values["labels"])
        except ValueError as exc:
            raise ConfigError(f"{path}: labels: {exc}") from None
    if "label" in values:
        from mlmon.rules.identity import parse_label_flags

        try:
            parse_label_flags(values["label"] if isinstance(values["label"], list) else [values["label"]])
        except ValueError as exc:
            raise ConfigError(f"{path}: label: {exc}") from None
    by = values.get("by", "model_version") or None
    rules = parse_rules(doc.get("rules", []), path=path, by=by)
    return Config(path, values, rules)
