"""`mlmon check` inputs: the config file and flags turned into rules, a read plan and one run."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from enum import StrEnum

from mlmon.cli.options import FailOn
from mlmon.errors import OptionError


class CheckFmt(StrEnum):
    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    PROMETHEUS = "prometheus"
    CSV = "csv"
    NAGIOS = "nagios"
    HTML = "html"


EXTENSIONS = {
    ".json": CheckFmt.JSON,
    ".xml": CheckFmt.JUNIT,
    ".md": CheckFmt.MARKDOWN,
    ".prom": CheckFmt.PROMETHEUS,
    ".csv": CheckFmt.CSV,
    ".txt": CheckFmt.TABLE,
    ".html": CheckFmt.HTML,
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
    import os

    seen: dict[str, tuple[CheckFmt, str]] = {}
    for fmt, path in out:
        key = os.path.realpath(path)
        if path != "-" and key in seen:
            first_fmt, first = seen[key]
            # the last write would replace the first: one of the two reports would be lost
            raise OptionError(
                f"-o {fmt.value}:{path} and -o {first_fmt.value}:{first} are the same file; "
                "give each format its own file"
            )
        seen[key] = (fmt, path)
    return out


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
    quiet: bool = False
    """Table output: only the verdict line and the rules that are not ok (cron mail)."""
    labels: dict[str, str] = _field(default_factory=dict)
    """The run's identity: added to every alert, series and the Pushgateway grouping key."""
    retention: float = 30 * 86400.0
    """Seconds a group (model_version) may go without a record before --state forgets it."""
    runbook_url: str | None = None
    """Alertmanager's runbook_url for rules without their own."""


