"""Alerts by email with smtplib: `smtp://host:port?to=...&from=...` (smtps:// for TLS, starttls=1)."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
import urllib.parse
from email.message import EmailMessage

from mlmon.notify.deliver import Outcome, Permanent, Retryable, redact, with_retries

PASSWORD_ENV = "MLMON_SMTP_PASSWORD"
"""The SMTP password is read from the environment, never from the URL or the config file."""


class SmtpTarget:
    """Where and how to send: parsed from the URL once."""

    def __init__(self, url: str) -> None:
        p = urllib.parse.urlsplit(url)
        if p.scheme not in ("smtp", "smtps") or not p.hostname:
            raise ValueError("give smtp://host:port?to=ADDRESS (or smtps:// for TLS)")
        q = urllib.parse.parse_qs(p.query)
        self.host = p.hostname
        self.port = p.port or (465 if p.scheme == "smtps" else 25)
        self.tls = p.scheme == "smtps"
        self.starttls = q.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.user = urllib.parse.unquote(p.username) if p.username else None
        self.to = [a for v in q.get("to", []) for a in v.split(",") if a]
        self.sender = q.get("from", [f"mlmon@{socket.gethostname()}"])[0]
        if not self.to:
            raise ValueError("say who receives the email: smtp://host:port?to=team@example.com")
        for address in (*self.to, self.sender):
            if any(ord(c) < 32 or ord(c) == 127 for c in address):
                # a line break in a header would add headers (Bcc:) or stop the message being built
                raise ValueError(f"{address!r} is not an email address (it holds a control character)")
        self.where = redact(url)


def message(target: SmtpTarget, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = " ".join(subject.split())[:200]
    msg["From"] = target.sender
    msg["To"] = ", ".join(target.to)
    msg.set_content(text)
    return msg


def _send_once(target: SmtpTarget, msg: EmailMessage, timeout: float) -> None:
    try:
        cls = smtplib.SMTP_SSL if target.tls else smtplib.SMTP
        with cls(target.host, target.port, timeout=timeout) as s:
            if target.starttls:
                s.starttls(context=ssl.create_default_context())
            if target.user:
                password = os.environ.get(PASSWORD_ENV)
                if password is None:
                    raise Permanent(f"{target.where}: a user is given but {PASSWORD_ENV} is not set")
                s.login(target.user, password)
            s.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise Permanent(f"{target.where}: login refused ({exc.smtp_code})") from None
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise Permanent(f"{target.where}: {type(exc).__name__}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise Retryable(f"{target.where}: {type(exc).__name__}: {exc}") from None


def send(
    url: str, subject: str, text: str, count: int, *, timeout: float, attempts: int, backoff: float
) -> Outcome:
    try:
        target = SmtpTarget(url)
    except ValueError as exc:
        return Outcome("smtp", redact(url), False, 0, 0, str(exc))
    if count == 0:
        return Outcome("smtp", target.where, True, 0, 0)
    msg = message(target, subject, text)
    used, error = with_retries(lambda: _send_once(target, msg, timeout), attempts=attempts, backoff=backoff)
    return Outcome("smtp", target.where, error is None, 0 if error else count, used, error)
