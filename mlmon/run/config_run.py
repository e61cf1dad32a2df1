"""A `check` run of a config: evaluate its rules (with --state, on the lines new since the last run),
deliver, write the outputs (the caller's), and commit the state last; `mlmon.check` for programs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from mlmon.api import options as opt
from mlmon.run.check_run import RETENTION, CheckRun, check_run
from mlmon.run.deliver import Deliveries
from mlmon.run.plan import (
    evaluate,
    follow_plan,
    label_follow_plan,
    log_paths,
    with_follow_notes,
    with_label_files,
)


def run_config(
    cfg: Any,
    *,
    logs: list[str] | None = None,
    baseline: str | None = None,
    by: str = "model_version",
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    state: str | None = None,
    deliveries: Deliveries | None = None,
    retention: float = RETENTION,
    views: bool = False,
    write_outputs: Callable[[CheckRun], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    progress: Callable[[], AbstractContextManager[Callable[[int], None] | None]] | None = None,
    read_options: Callable[[int, int | None], Any] = opt.read_options,
) -> CheckRun:
    """One run of the config `cfg` (a rules.config.Config): its rules over `logs` (or its `logs`),
    each delivery, `write_outputs(run)` before the state file (with `state`) is replaced."""

    def read(prev: Any, now: float | None) -> tuple[Any, tuple[Any, ...]]:
        if prev is None:
            rep, _ = evaluate(cfg, logs, baseline, by, since, until, last, views=views, progress=progress,
                              read_options=read_options)
            return rep, ()
        from mlmon.api.quality import LabelFollow
        from mlmon.stats.labels import WaitLimits

        with follow_plan(cfg, logs, prev) as planned, contextlib.ExitStack() as stack:
            lplan = label_follow_plan(cfg, prev)
            follow = None
            if lplan is not None:
                stack.enter_context(lplan)
                follow = LabelFollow(tuple(lplan.sources), prev.waiting, float(now or 0.0),
                                     WaitLimits(max_age=retention))
            rep, _ = evaluate(cfg, logs, baseline, by, since, until, last, inputs=planned.sources, now=now,
                              views=views, progress=progress, read_options=read_options, label_follow=follow)
        rep = with_label_files(with_follow_notes(rep, planned, on_note, lplan), lplan)
        return rep, tuple(planned.files(rep.input.files))

    run = check_run(read, state=state, deliveries=deliveries or Deliveries(),
                    write_outputs=write_outputs or (lambda run: None), retention=retention)
    return dataclasses.replace(run, config=cfg.path)


def check(
    config: str | os.PathLike[str] | dict[str, Any] | None = None,
    logs: str | Sequence[str] | None = None,
    *,
    baseline: str | None = None,
    by: str = "model_version",
    since: str | None = None,
    until: str | None = None,
    last: str | None = None,
    state: str | None = None,
    alertmanager: Sequence[str] = (),
    notify: Sequence[str] = (),
    push: str | None = None,
    push_job: str = "mlmon",
    labels: dict[str, str] | None = None,
    notify_timeout: float = 10.0,
    alert_ttl: str = "2h",
    repeat_interval: str | None = None,
    state_retention: str = "30d",
    runbook_url: str | None = None,
) -> CheckRun:
    """Every rule of a config (`mlmon check`): `config` the path of an mlmon.toml (or a pyproject
    with [tool.mlmon]), or a dict of the same keys (`{"logs": [...], "max-p99-ms": "250:400",
    "rules": [...]}`). With `state`, only the lines new since the last run are read and the state
    file is committed last; `alertmanager`, `notify` and `push` deliver as the flags do. The run's
    `report` has one row per rule in `to_pandas()`; `to_dict()` is the JSON of `mlmon check -f json`."""
    cfg = _config(config)
    paths = [logs] if isinstance(logs, str) else (list(logs) if logs else None)
    log_paths(cfg, paths)  # no logs at all is an OptionError now, before anything is delivered
    seconds = {name: opt.parse_duration(text, f"--{name.replace('_', '-')}") / 1e9
               for name, text in (("alert_ttl", alert_ttl), ("state_retention", state_retention))}
    deliveries = Deliveries(
        alertmanager=tuple(alertmanager),
        notify=tuple(notify),
        push=push,
        push_job=push_job,
        alert_ttl=seconds["alert_ttl"],
        timeout=notify_timeout,
        repeat_interval=(opt.parse_duration(repeat_interval, "--repeat-interval") / 1e9
                         if repeat_interval else None),
        labels={**cfg.settings.get("labels", {}), **(labels or {})},
        runbook_url=runbook_url,
    )
    return run_config(cfg, logs=paths, baseline=baseline, by=by, since=since, until=until, last=last,
                      state=state, deliveries=deliveries, retention=seconds["state_retention"])


def _config(config: str | os.PathLike[str] | dict[str, Any] | None) -> Any:
    """A Config from a path (read and validated as the CLI reads it, without the per-flag schema),
    a dict of settings and `rules`, or None (the nearest mlmon.toml from here up, else empty)."""
    from mlmon.errors import OptionError
    from mlmon.rules.config import Config, find_config, load_config, parse_rules

    if config is None:
        found = os.environ.get("MLMON_CONFIG") or find_config()
        return load_config(found, None) if found else Config(None)
    if isinstance(config, dict):
        settings = {k: v for k, v in config.items() if k != "rules"}
        by = settings.get("by", "model_version") or None
        rules = parse_rules(list(config.get("rules", [])), path="<config>", by=by)
        return Config(None, settings, rules)
    if isinstance(config, str | os.PathLike):
        return load_config(os.fspath(config), None)
    raise OptionError(f"config must be a path or a dict of settings, not {type(config).__name__}")
