"""Alerts to a webhook as a Slack-compatible JSON body (`text`, and one attachment per alert)."""

from __future__ import annotations

from typing import Any

from mlmon.escape import mrkdwn, one_line
from mlmon.notify.deliver import Outcome, post_json, redact, with_retries

COLOR = {"critical": "danger", "warning": "warning", "resolved": "good"}


def body(events: list[tuple[str, str, str]], *, title: str) -> dict[str, Any]:
    """events: (state: firing|resolved, severity, message). Slack shows `text` (the count, then one
    line per alert) and the attachments.
    Log text (messages, the title's labels) goes through the Slack mrkdwn escaper: `<!channel>`
    cannot ping a channel, `<https://x|click>` cannot disguise a link."""
    firing = sum(1 for s, _, _ in events if s == "firing")
    resolved = len(events) - firing
    parts = [f"{firing} firing"] if firing else []
    if resolved:
        parts.append(f"{resolved} resolved")
    # each alert on its own line, with its value and limit (a line break in log text is escaped)
    lines = [
        f"{'RESOLVED' if state == 'resolved' else sev.upper()}: {mrkdwn(one_line(message))}"
        for state, sev, message in events
    ]
    return {
        "text": "\n".join([f"{mrkdwn(title)}: {', '.join(parts)}", *lines]),
        "attachments": [
            {
                "color": COLOR["resolved" if state == "resolved" else sev],
                "title": f"{'RESOLVED' if state == 'resolved' else sev.upper()}",
                "text": mrkdwn(message),
                "fallback": f"[{state}] {mrkdwn(message)}",
            }
            for state, sev, message in events
        ],
    }


def send(
    url: str, events: list[tuple[str, str, str]], *, title: str, timeout: float, attempts: int, backoff: float
) -> Outcome:
    target = redact(url)
    if not events:
        return Outcome("webhook", target, True, 0, 0)
    doc = body(events, title=title)
    used, error = with_retries(
        lambda: post_json(url, doc, timeout=timeout), attempts=attempts, backoff=backoff
    )
    return Outcome("webhook", target, error is None, 0 if error else len(events), used, error)
