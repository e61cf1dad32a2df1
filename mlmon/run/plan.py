"""A check run's plan from its config: the rules (threshold keys and [[rules]]), what to read, the
drift and label options, the files a --state run follows; and one evaluation of them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from mlmon.api import options as opt
from mlmon.errors import OptionError
from mlmon.rules.config import FEATURE_PREFIXES


@contextlib.contextmanager
def _no_progress() -> Iterator[None]:
    yield None


def threshold_rules(settings: dict[str, Any], by: str | None) -> tuple[Any, ...]:
    """The summary's threshold keys (`max-p99-ms = "250:400"`) as rules, per group when grouped;
    a bare number keeps the summary's severity for it."""
    from mlmon.rules.alerts import RULES, Severity
    from mlmon.rules.config import Rule

    rules = []
    for field, (metric, single, upper) in RULES.items():
        key = field.replace("_", "-")
        if settings.get(key) is None:
            continue
        t = opt.parse_threshold(str(settings[key]), f"--{key}")
        if isinstance(t, float):
            warn, crit = (t, None) if single is Severity.WARNING else (None, t)
        else:
            warn, crit = t.warning, t.critical
        direction = "above" if upper else "below"
        rules.append(Rule(metric, f"{metric} (--{key})", warn, crit, direction, by=by))
    # the traffic gates of summary and drift: one value is critical
    for key, metric, direction, parse in (
        ("min-records", "records", "below", lambda v: opt.parse_threshold(v, "--min-records")),
        ("max-age", "age_seconds", "above", opt.parse_max_age),
    ):
        if settings.get(key) is None:
            continue
        t = parse(str(settings[key]))
        warn, crit = (None, float(t)) if isinstance(t, int | float) else (t.warning, t.critical)
        rules.append(Rule(metric, f"{metric} (--{key})", warn, crit, direction))
    return tuple(rules)


_PLAN_KEYS = ("timestamp_field", "latency_field", "status_field", "success_field", "success_value",
              "features_field", "prediction_field", "class_field", "confidence_field", "record_marker",
              "log_timezone")
"""The reading options of a config (keys as the flags: `timestamp-field`) that make the read plan."""


def read_plan(s: dict[str, Any], by: str | None) -> Any:
    """The read plan of a config's settings, as the commands make theirs (mlmon.api.reading)."""
    from mlmon.api.reading import Reading

    given = {name: s[key] for name in _PLAN_KEYS if (key := name.replace("_", "-")) in s}
    return Reading(**given).plan(by)


def drift_options(s: dict[str, Any]) -> Any:
    """The drift test settings given (flags or config keys); DriftOptions' defaults for the rest."""
    from mlmon.stats.drift import DriftOptions

    kinds = {
        "p-threshold": float,
        "min-effect": float,
        "mean-tolerance": float,
        "min-samples": int,
        "critical-effect": float,
        "max-unseen-share": float,
        "critical-unseen-share": float,
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


def rotated_paths(cfg: Any, given: list[str] | None = None) -> list[str]:
    """Where rotated copies of the logs go besides their own folder (`rotated` in the config,
    relative to it; --rotated, relative to the working directory)."""
    paths = given or cfg.settings.get("rotated") or []
    if isinstance(paths, str):
        paths = [paths]
    return [str(p) for p in paths]


def follow_plan(cfg: Any, logs: list[str] | None, prev: Any) -> Any:
    """The reads of a --state run (an open FollowPlan: use it in a `with`)."""
    from mlmon.read.follow import plan

    return plan(log_paths(cfg, logs), prev.files, rotated=rotated_paths(cfg), since=prev.last_run)


def label_follow_plan(cfg: Any, prev: Any) -> Any:
    """The reads of the labels files in a --state run (an open FollowPlan, or None without labels)."""
    from mlmon.run.label_files import label_plan

    opts = check_labels(dict(cfg.settings))
    if opts is None:
        return None
    return label_plan(list(opts.paths), prev.waiting.files, prev.waiting.tables, since=prev.last_run)


def with_label_files(rep: Any, planned: Any) -> Any:
    """The report of a --state run with the labels files to remember in its state (the carry)."""
    import dataclasses

    q = rep.quality
    if planned is None or q is None or q.carry is None:
        return rep
    files = tuple(planned.files(q.labels_input.files))
    carry = dataclasses.replace(q.carry, files=files, tables=planned.digests)
    return dataclasses.replace(rep, quality=dataclasses.replace(q, carry=carry))


def with_follow_notes(
    rep: Any, planned: Any, on_note: Callable[[str], None] | None = None, labels: Any = None
) -> Any:
    """The report of a --state run with what the plan found: files lost (with an `input_lost`
    result, a warning) and own files left out of the folders read; `labels`, the labels files'
    plan, adds its lost files to the same warning."""
    import dataclasses

    from mlmon.rules.check import RuleResult, Status

    if labels is not None and labels.lost:
        planned = dataclasses.replace(planned, lost=(*planned.lost, *labels.lost))
    rep = dataclasses.replace(
        rep, input=dataclasses.replace(rep.input, lost=planned.lost, left_out=planned.left_out)
    )
    if rep.input.lines and not rep.input.records:
        parts = ", ".join(f"{k}: {v}" for k, v in rep.input.reasons.items())
        if on_note is not None:
            on_note(f"{rep.input.lines} new line(s) since the last run, none a record ({parts})")
    if not planned.lost:
        return rep
    total = sum(x.bytes for x in planned.lost)
    names = ", ".join(x.source for x in planned.lost[:3]) + (" ..." if len(planned.lost) > 3 else "")
    lost = RuleResult(
        name="input_lost",
        metric="input_lost",
        status=Status.WARNING,
        value=float(len(planned.lost)),
        warning=0.0,
        critical=None,
        direction="above",
        message=f"{len(planned.lost)} followed file(s) gone before this run read them to the end, "
        f"at least {total} bytes never read: {names} (rotated away or deleted; keep more rotated "
        "copies, name where they go with `rotated`, or run more often)",
    )
    results = (*rep.results, lost)
    alerts = tuple(x for x in (r.alert() for r in results) if x is not None)
    return dataclasses.replace(rep, results=results, alerts=alerts)


def evaluate(
    cfg: Any,
    logs: list[str] | None,
    baseline_path: str | None,
    by: str,
    since: str | None,
    until: str | None,
    last: str | None,
    inputs: list[Any] | None = None,
    now: float | None = None,
    views: bool = False,
    *,
    progress: Callable[[], AbstractContextManager[Callable[[int], None] | None]] | None = None,
    read_options: Callable[[int, int | None], Any] = opt.read_options,
    label_follow: Any = None,
) -> tuple[Any, Any]:
    """Run the check; `inputs` (planned sources, --state) replaces the paths when given; `views`
    (an HTML output) keeps windows and distributions for the page's plots; `progress` (the CLI's
    progress line) gives the callback of bytes read; `read_options` makes the ReadOptions;
    `label_follow` (--state with labels) the labels files' new lines and what earlier runs kept."""
    from mlmon.api import check as run_check
    from mlmon.api import load_training
    from mlmon.stats.baseline import load
    from mlmon.stats.summary import SummaryOptions

    s: dict[str, Any] = dict(cfg.settings)
    paths: list[Any] = log_paths(cfg, logs) if inputs is None else inputs
    tz = s.get("log-timezone", "UTC")
    opt.check_tz(tz)
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
    elif any(r.metric.startswith(FEATURE_PREFIXES) for r in rules):
        raise OptionError('drift rules need a baseline: --baseline FILE or baseline = "..." in the config')
    with (progress or _no_progress)() as on_bytes:
        rep = run_check(
            paths,
            rules,
            baseline=base,
            plan=read_plan(s, group),
            options=read_options(int(s.get("max-line-bytes", 16 << 20)), s.get("max-decompressed-bytes")),
            selection=opt.selection(since, until, last, tz, s.get("window-rows")),
            summary=SummaryOptions(
                low_confidence=float(s.get("low-confidence", 0.5)),
                prediction_range=opt.parse_range(s.get("prediction-range")),
            ),
            drift=drift_options(s),
            budget=opt.budget(str(s.get("max-bad-lines", "1%")), bool(s.get("strict", False))),
            now=now,
            on_bytes=on_bytes,
            incremental=inputs is not None,
            views=views,
            labels=check_labels(s),
            label_follow=label_follow,
        )
    return rep, None


def check_labels(s: dict[str, Any]) -> Any:
    """LabelOptions from the settings (label-files, label-field, join-field, task, positive-class)."""
    files = s.get("label-files")
    if isinstance(files, str):
        files = [files]
    positive = s.get("positive-class")
    return opt.label_options(
        files, str(s.get("label-field", "label")), str(s.get("join-field", "request_id")),
        str(s.get("task", "auto")), None if positive is None else str(positive),
    )
