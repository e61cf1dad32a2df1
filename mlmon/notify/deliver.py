"""Delivery shared by the notifiers: outcomes, bounded retries with backoff, secrets kept out of text."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TIMEOUT = 10.0
ATTEMPTS = 3
BACKOFF = 0.5
"""Seconds before the second attempt; doubled for each further one."""


@dataclass(frozen=True)
class Outcome:
    """What became of one notification target in this run."""

    kind: str
    """alertmanager, webhook, smtp or pushgateway."""
    target: str
    """Where it went, without credentials, path or query (they may hold secrets)."""
    ok: bool
    sent: int
    """Alerts (or metric sets) delivered."""
    attempts: int
    error: str | None = None


class Retryable(Exception):
    """A failure worth another attempt (connection refused, timeout, HTTP 5xx or 429)."""


class Permanent(Exception):
    """A failure another attempt will not fix (HTTP 4xx, authentication refused)."""


def redact(url: str) -> str:
    """scheme://host[:port] only: user, password, path and query of a URL can be secrets."""
    try:
        p = urllib.parse.urlsplit(url)
        host = p.hostname
        port = f":{p.port}" if p.port else ""
    except ValueError:
        return "(a URL that cannot be parsed)"
    if not p.scheme or not host:
        return "(not a URL: scheme://host[:port] expected)"
    return f"{p.scheme}://{host}{port}"


def with_retries(
    send: Callable[[], None],
    *,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, str | None]:
    """Run `send` until it works, at most `attempts` times; (attempts used, last error or None)."""
    error: str | None = None
    for i in range(1, attempts + 1):
        try:
            send()
            return i, None
        except Permanent as exc:
            return i, str(exc)
        except Retryable as exc:
            error = str(exc)
        if i < attempts:
            sleep(backoff * 2 ** (i - 1))
    return attempts, error


def post_json(
    url: str, body: Any, *, timeout: float = TIMEOUT, headers: dict[str, str] | None = None
) -> None:
    """POST JSON (mlmon/notify/transport: one deadline for the whole exchange, a bounded answer,
    no redirects); raise Retryable or Permanent (messages without the URL's secrets)."""
    from mlmon.notify import transport

    where = redact(url)
    r = transport.post_json(url, body, timeout=timeout, headers=headers)
    if r.status >= 500 or r.status == 429:
        raise Retryable(f"{where}: HTTP {r.status}")
    if r.status >= 400:
        raise Permanent(f"{where}: HTTP {r.status}: {_clean(r.text(200), url)}")
    if not 200 <= r.status < 300:
        # only 2xx is delivered; 3xx (a redirect, not followed) and 1xx are not
        raise Permanent(f"{where}: HTTP {r.status}: not delivered (redirects are not followed)")


def _clean(text: str, url: str) -> str:
    """An error text with the full URL (and its path) removed."""
    parts: tuple[str, ...]
    try:
        p = urllib.parse.urlsplit(url)
        parts = (p.path, p.query, p.password or "", p.username or "")
    except ValueError:  # cannot be split: leave out the whole URL only
        parts = ()
    for secret in (url, *parts):
        if secret and len(secret) > 1:
            text = text.replace(secret, "...")
    return " ".join(text.split())
