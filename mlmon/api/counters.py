"""Cumulative counters kept between `check --state` runs, and groups forgotten after a retention time.

Every series Prometheus treats as a counter accumulates across runs: `predictions_total` by
status, the latency summary's `_count` and `_sum`, the confidence histogram's `_bucket`, `_count`
and `_sum`. Each is a key `KIND|MODEL_VERSION|EXTRA` of a flat dict of numbers (the state file
holds it as it is); KIND ends in `-missing` for the records without the --by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlmon.stats.summary import CONFIDENCE_EDGES, GroupSummary

if TYPE_CHECKING:
    from mlmon.api.check_report import CheckReport

MISSING = "-missing"
PREDICTIONS = "predictions"
LATENCY_COUNT, LATENCY_SUM = "latency_count", "latency_sum"
CONF_BUCKET, CONF_COUNT, CONF_SUM = "confidence_bucket", "confidence_count", "confidence_sum"
KINDS = (PREDICTIONS, LATENCY_COUNT, LATENCY_SUM, CONF_BUCKET, CONF_COUNT, CONF_SUM)


@dataclass(frozen=True)
class Key:
    """One cumulative series: what it counts, for which group, and its extra label value."""

    kind: str
    """One of KINDS."""
    version: str
    """The model_version label ("" for all records, or for the records without the field)."""
    missing: bool
    """The records without the --by field (model_version_missing="true")."""
    extra: str = ""
    """status for predictions, le for confidence_bucket, else empty."""

    def text(self) -> str:
        return f"{self.kind}{MISSING if self.missing else ''}|{self.version}|{self.extra}"

    @property
    def group(self) -> str:
        """The key of its group in `seen`."""
        return group_key(self.version, self.missing)


def parse(key: str) -> Key | None:
    """The Key of a stored text; None for one this version does not know (left alone)."""
    kind, sep, rest = key.partition("|")
    if not sep or "|" not in rest:
        return None
    version, extra = rest.rsplit("|", 1)
    missing = kind.endswith(MISSING)
    kind = kind.removesuffix(MISSING)
    if kind not in KINDS or (kind == CONF_BUCKET and not _is_bound(extra)):
        return None
    return Key(kind, version, missing, extra)


def _is_bound(le: str) -> bool:
    """A bucket's upper bound as Prometheus reads it (`0.5`, `+Inf`); a state file edited by hand
    may hold anything else, which is left alone rather than exported as an invalid `le`."""
    try:
        return float(le) == float(le)  # not nan
    except ValueError:
        return False


def group_key(version: str, missing: bool) -> str:
    return f"missing|{version}" if missing else f"group|{version}"


def prediction_counts(g: GroupSummary) -> dict[str, int]:
    """Records of a group by status: success, error, unknown (no status field)."""
    return {"success": g.successes, "error": g.errors, "unknown": g.records - g.success_n}


def version_of(g: GroupSummary, rep: CheckReport) -> tuple[str, bool]:
    """(model_version, missing) of a group: the overall (shown only without groups) and the
    records without the field both have model_version "", told apart by `missing`."""
    if g is rep.summary.overall or g.group is not None:
        return (g.group if g is not rep.summary.overall and g.group is not None else ""), False
    return "", True


def run_counts(rep: CheckReport) -> dict[Key, float]:
    """This run's contribution to every counter, by group."""
    out: dict[Key, float] = {}
    for g in rep.summary.groups or (rep.summary.overall,):
        version, missing = version_of(g, rep)
        for status, n in prediction_counts(g).items():
            out[Key(PREDICTIONS, version, missing, status)] = n
        ls = g.latency_ms
        if ls.n:
            out[Key(LATENCY_COUNT, version, missing)] = ls.n
            out[Key(LATENCY_SUM, version, missing)] = (ls.mean or 0.0) * ls.n / 1000
        c = g.confidence
        if c.n:
            running = 0
            for edge, (_label, count) in zip(CONFIDENCE_EDGES, c.histogram, strict=True):
                running += count
                out[Key(CONF_BUCKET, version, missing, f"{edge}")] = running
            out[Key(CONF_BUCKET, version, missing, "+Inf")] = c.n
            out[Key(CONF_COUNT, version, missing)] = c.n
            out[Key(CONF_SUM, version, missing)] = (c.mean or 0.0) * c.n
    return out


def add_run(
    totals: dict[str, float], seen: dict[str, float], rep: CheckReport, *, now: float
) -> tuple[dict[str, float], dict[str, float]]:
    """The counters with this run's counts added, and when each group was last seen (now, for
    the groups with records in this run; groups known only from older states count as seen now,
    so an upgrade does not forget them)."""
    out = dict(totals)
    last = dict(seen)
    for text in totals:
        k = parse(text)
        if k is not None:
            last.setdefault(k.group, now)
    for k, n in run_counts(rep).items():
        out[k.text()] = out.get(k.text(), 0) + n
        if k.kind == PREDICTIONS and n:
            last[k.group] = now
    return out, last


def forget(
    totals: dict[str, float], seen: dict[str, float], *, now: float, retention: float
) -> tuple[dict[str, float], dict[str, float], tuple[str, ...]]:
    """Drop the groups with no record for longer than `retention` seconds: their counters leave
    the state and the metrics. Returns the counters and seen times kept, and the groups dropped."""
    gone = {g for g, t in seen.items() if now - t > retention}
    if not gone:
        return totals, seen, ()
    kept = {}
    for text, v in totals.items():
        k = parse(text)
        if k is None or k.group not in gone:
            kept[text] = v
    return kept, {g: t for g, t in seen.items() if g not in gone}, tuple(sorted(gone))
