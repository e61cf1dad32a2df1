"""Alerts by email with smtplib: `smtp://host:port?to=...&from=...` (smtps:// for TLS, starttls=1)."""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
import threading
import urllib.parse
from email.message import EmailMessage

from mlmon.escape import header, terminal
from mlmon.notify.deliver import Outcome, Permanent, Retryable, redact, with_retries
from mlmon.notify.transport import Expired

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
        self.cafile = q.get("cafile", [None])[0]
        """A private CA's certificates (PEM) to verify the server with, instead of the system's."""
        self.insecure = q.get("insecure", ["0"])[0] in ("1", "true", "yes")
        """Send the password over plain SMTP (no TLS): refused unless asked for."""
        self.user = urllib.parse.unquote(p.username) if p.username else None
        self.to = [a for v in q.get("to", []) for a in v.split(",") if a]
        self.sender = q.get("from", [f"mlmon@{socket.gethostname()}"])[0]
        if not self.to:
            raise ValueError("say who receives the email: smtp://host:port?to=team@example.com")
        for address in (*self.to, self.sender):
            if terminal(address) != address or not address.isprintable():
                # a line break (CR, LF, U+2028) in a header would add headers (Bcc:) or stop the
                # message being built; an invisible character would disguise the address
                raise ValueError(
                    f"{terminal(address)!r} is not an email address "
                    "(it holds a control or invisible character)"
                )
        self.where = redact(url)
        if self.user and not (self.tls or self.starttls or self.insecure):
            raise ValueError(
                "a user is given but the connection has no TLS, so the password would travel in "
                "clear: use smtps:// or ?starttls=1 (or ?insecure=1 to send it anyway)"
            )

    def context(self) -> ssl.SSLContext:
        """TLS that verifies the server's certificate and name against the system's CA store,
        or against `?cafile=` (a private CA)."""
        try:
            return ssl.create_default_context(cafile=self.cafile)
        except (OSError, ssl.SSLError) as exc:
            shown = terminal(str(self.cafile))
            raise Permanent(f"{self.where}: cannot use cafile {shown!r}: {exc}") from None


def message(target: SmtpTarget, subject: str, text: str) -> EmailMessage:
    """The email: the subject through the header escaper (one line: no header can be added),
    each body line through the terminal escaper (controls, bidi and invisible characters shown)."""
    msg = EmailMessage()
    msg["Subject"] = header(subject)
    msg["From"] = target.sender
    msg["To"] = ", ".join(target.to)
    msg.set_content("\n".join(terminal(line) for line in text.split("\n")))
    return msg


class _Deadline:
    """Ends an SMTP exchange at its deadline: the socket is shut down from a timer thread, so a
    server that trickles one byte a second cannot hold the run (smtplib's timeout is per read)."""

    def __init__(self, client: smtplib.SMTP, seconds: float) -> None:
        self.client = client
        self.expired = False
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def _expire(self) -> None:
        self.expired = True
        sock = getattr(self.client, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, under any TLS

    def __enter__(self) -> _Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()


def _send_once(target: SmtpTarget, msg: EmailMessage, timeout: float) -> None:
    """One delivery, all of it (connect, TLS, login, message) within `timeout` seconds."""
    context = target.context() if (target.tls or target.starttls) else None
    client = (
        smtplib.SMTP_SSL(timeout=timeout, context=context) if target.tls else smtplib.SMTP(timeout=timeout)
    )
    client._host = target.host  # type: ignore[attr-defined]  # the name TLS verifies
    deadline = _Deadline(client, timeout)
    try:
        with deadline:
            client.connect(target.host, target.port)
            if target.starttls:
                client.starttls(context=context)
            if target.user:
                password = os.environ.get(PASSWORD_ENV)
                if password is None:
                    raise Permanent(f"{target.where}: a user is given but {PASSWORD_ENV} is not set")
                client.login(target.user, password)
            client.send_message(msg)
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
    except smtplib.SMTPAuthenticationError as exc:
        raise Permanent(f"{target.where}: login refused ({exc.smtp_code})") from None
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise Permanent(f"{target.where}: {type(exc).__name__}") from None
    except ssl.SSLCertVerificationError as exc:
        raise Permanent(
            f"{target.where}: the server's certificate is not trusted ({exc.verify_message}); "
            "for a private CA give ?cafile=/path/to/ca.pem"
        ) from None
    except ValueError as exc:  # smtplib or ssl refused an argument: another attempt cannot help
        raise Permanent(f"{target.where}: {terminal(str(exc))[:300]}") from None
    except (OSError, smtplib.SMTPException) as exc:
        if deadline.expired or isinstance(exc, TimeoutError):
            raise Expired(f"{target.where}: no complete exchange within {timeout:g} s") from None
        raise Retryable(f"{target.where}: {type(exc).__name__}: {terminal(str(exc))[:300]}") from None
    finally:
        with contextlib.suppress(OSError):
            client.close()


def send(
    url: str, subject: str, text: str, count: int, *, timeout: float, attempts: int, backoff: float
) -> Outcome:
    try:
        target = SmtpTarget(url)
    except ValueError as exc:
        return Outcome("smtp", redact(url), False, 0, 0, str(exc))
    if count == 0:
        return Outcome("smtp", target.where, True, 0, 0)
    try:
        msg = message(target, subject, text)
    except (ValueError, TypeError, LookupError) as exc:  # the email package refused a header
        return Outcome("smtp", target.where, False, 0, 0, f"cannot build the email: {terminal(str(exc))}")
    used, error = with_retries(lambda: _send_once(target, msg, timeout), attempts=attempts, backoff=backoff)
    return Outcome("smtp", target.where, error is None, 0 if error else count, used, error)
