"""Alerts to a Prometheus Alertmanager (v2 API): firing with an end time, resolved with one in the past."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlmon.escape import terminal
from mlmon.notify.deliver import Outcome, post_json, redact, with_retries


@dataclass(frozen=True)
class AmAlert:
    """One alert as Alertmanager identifies it (by its labels)."""

    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    starts_at: float
    ends_at: float | None
    """None: firing until Alertmanager's resolve_timeout; in the past: resolved."""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def labels_for(
    rule: str, metric: str, severity: str, group: str | None, extra: dict[str, str]
) -> dict[str, str]:
    labels = {"alertname": rule, "severity": severity, "metric": metric, **extra}
    if group is not None:
        labels["model_version"] = group
    kind, _, feature = metric.partition(".")
    if kind in ("drift", "mean_deviation") and feature:
        labels["feature"] = feature
    return labels


def payload(alerts: list[AmAlert], *, generator_url: str | None = None) -> list[dict[str, Any]]:
    out = []
    for a in alerts:
        doc: dict[str, Any] = {  # log text as visible escapes (bidi, zero-width, controls)
            "labels": {k: terminal(v) for k, v in a.labels},
            "annotations": {k: terminal(v) for k, v in a.annotations},
            "startsAt": _iso(a.starts_at),
        }
        if a.ends_at is not None:
            doc["endsAt"] = _iso(a.ends_at)
        if generator_url:
            doc["generatorURL"] = generator_url
        out.append(doc)
    return out


def send(url: str, alerts: list[AmAlert], *, timeout: float, attempts: int, backoff: float) -> Outcome:
    """POST the alerts to `url`/api/v2/alerts (an empty list sends nothing)."""
    target = redact(url)
    if not alerts:
        return Outcome("alertmanager", target, True, 0, 0)
    endpoint = url.rstrip("/") + "/api/v2/alerts"
    body = payload(alerts)
    used, error = with_retries(
        lambda: post_json(endpoint, body, timeout=timeout), attempts=attempts, backoff=backoff
    )
    return Outcome("alertmanager", target, error is None, 0 if error else len(alerts), used, error)
