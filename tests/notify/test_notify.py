"""Notifications end to end: a real Alertmanager routing to a webhook receiver, a Slack-style
webhook, a real SMTP server; failures reported without secrets and without changing exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import cli, dumps, join, record
from services import Mailbox, Receiver, Service, alertmanager, receiver, smtp_server  # noqa: F401

from mlmon.notify.deliver import Retryable, redact, with_retries

N = 1200


def _log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latency: float, rules: str = "") -> None:
    monkeypatch.chdir(tmp_path)
    # model version v2 (every third record) has the given latency, v1 answers in 5 ms
    lines = [dumps(record(i, latency_ms=latency if i % 3 == 0 else 5.0)) for i in range(N)]
    (tmp_path / "log.jsonl").write_bytes(join(lines))
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\n[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\ncritical = 500\n'
        'name = "p50 latency"\nby = "model_version"\n' + rules
    )


def test_alertmanager_fires_and_resolves_through_its_route(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
) -> None:
    am, hook = alertmanager
    _log(tmp_path, monkeypatch, 900.0)
    r = cli(["check", "--alertmanager", am.url, "--state", "st.json", "-f", "json"])
    assert r.exit_code == 1
    (note,) = json.loads(r.stdout)["notifications"]
    assert note == {**note, "kind": "alertmanager", "ok": True, "sent": 1}
    (first,) = hook.wait_for(1)
    assert first["status"] == "firing"
    (alert,) = first["alerts"]
    assert alert["labels"]["alertname"] == "p50 latency"
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["metric"] == "latency_ms.p50"
    assert alert["labels"]["model_version"] == "v2"
    # the p50's 95% lower bound is what was compared (all of v2's values are 900: so is the bound)
    assert alert["annotations"]["summary"] == (
        "latency_ms.p50 900 ms (lower 95%) > 500 ms (critical) for model_version v2, estimate 900 ms"
    )
    # the log recovers (new lines only, read incrementally): the alert resolves
    with open(tmp_path / "log.jsonl", "ab") as fh:
        fh.write(join(dumps(record(i, latency_ms=5.0)) for i in range(N, 3 * N)))
    r = cli(["check", "--alertmanager", am.url, "--state", "st.json", "-f", "json"])
    assert r.exit_code == 0, r.stdout
    bodies = hook.wait_for(2)
    assert bodies[1]["status"] == "resolved"
    assert bodies[1]["alerts"][0]["labels"] == alert["labels"]


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def test_webhook_gets_slack_compatible_body_on_change_only(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
) -> None:
    _log(tmp_path, monkeypatch, 200.0)
    args = ["check", "--notify", f"webhook:{receiver.url}", "--state", "st.json"]
    assert cli(args).exit_code == 1
    (body,) = receiver.wait_for(1)
    assert body["text"] == (
        "mlmon: 1 firing\nWARNING: latency_ms.p50 200 ms (lower 95%) &gt; 100 ms (warning) for "
        "model_version v2, estimate 200 ms"
    )
    (att,) = body["attachments"]
    assert (
        att["color"] == "warning"
        and "p50 latency" not in att["text"]
        and "latency_ms.p50 200 ms (lower 95%) &gt; 100 ms" in att["text"]  # Slack mrkdwn: > as &gt;
    )
    # same state again: nothing new to tell (each run reads only the lines appended since)
    _append(
        tmp_path / "log.jsonl",
        join(dumps(record(i, latency_ms=201.0 if i % 3 == 0 else 5.0)) for i in range(N)),
    )
    assert cli(args).exit_code == 1
    assert len(receiver.bodies) == 1
    # --repeat-interval 1s after a pause: told again
    import time

    time.sleep(1.1)
    _append(
        tmp_path / "log.jsonl",
        join(dumps(record(i, latency_ms=202.0 if i % 3 == 0 else 5.0)) for i in range(N)),
    )
    assert cli([*args, "--repeat-interval", "1s"]).exit_code == 1
    assert len(receiver.wait_for(2)) == 2
    # escalation to critical is a change
    _append(
        tmp_path / "log.jsonl",
        join(dumps(record(i, latency_ms=900.0 if i % 3 == 0 else 5.0)) for i in range(N)),
    )
    assert cli(args).exit_code == 1
    assert receiver.wait_for(3)[2]["attachments"][0]["color"] == "danger"


def test_webhook_url_from_the_environment_and_failures_keep_the_exit_code(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
) -> None:
    _log(tmp_path, monkeypatch, 200.0)
    monkeypatch.setenv("TEAM_HOOK", receiver.url + "/T000/secret-token")
    receiver.status = 500
    r = cli(["check", "--notify", "webhook:env:TEAM_HOOK", "--notify-timeout", "2", "-f", "json"])
    assert r.exit_code == 1  # the alert decides, not the failed notification
    (note,) = json.loads(r.stdout)["notifications"]
    assert note == {
        **note,
        "kind": "webhook",
        "ok": False,
        "attempts": 3,
        "error": f"{redact(receiver.url)}: HTTP 500",
    }
    assert "secret-token" not in r.stdout + r.stderr
    assert "mlmon: warning: webhook notification to http://127.0.0.1:" in r.stderr
    # healthy run with a failing notifier target: still 0 (nothing to send, nothing fails)
    _log(tmp_path, monkeypatch, 5.0)
    r = cli(["check", "--notify", "webhook:env:NOT_SET"])
    assert r.exit_code == 0


def test_email_through_a_real_smtp_server(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Mailbox,  # noqa: F811
) -> None:
    _log(tmp_path, monkeypatch, 900.0)
    url = f"smtp://{smtp_server.host}:{smtp_server.port}?to=oncall@example.com&from=mlmon@example.com"
    r = cli(["check", "--notify", url, "-f", "json"])
    assert r.exit_code == 1
    (note,) = json.loads(r.stdout)["notifications"]
    assert note["ok"] and note["sent"] == 1
    (msg,) = smtp_server.messages
    assert msg["To"] == "oncall@example.com" and msg["Subject"] == "[mlmon] 1 firing, 0 resolved"
    text = msg.get_payload(decode=True).decode("utf-8")  # quoted-printable as sent
    assert "CRITICAL: latency_ms.p50 900 ms (lower 95%) > 500 ms (critical) for model_version v2" in text


def test_smtp_login_needs_the_password_from_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Mailbox,  # noqa: F811
) -> None:
    _log(tmp_path, monkeypatch, 900.0)
    monkeypatch.delenv("MLMON_SMTP_PASSWORD", raising=False)
    url = f"smtp://alice@{smtp_server.host}:{smtp_server.port}?to=oncall@example.com&insecure=1"
    r = cli(["check", "--notify", url, "-f", "json"])
    assert r.exit_code == 1
    (note,) = json.loads(r.stdout)["notifications"]
    assert not note["ok"] and note["attempts"] == 1 and "MLMON_SMTP_PASSWORD is not set" in note["error"]
    assert smtp_server.messages == []


def test_a_password_over_plain_smtp_is_refused_unless_asked_for(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Mailbox,  # noqa: F811
) -> None:
    _log(tmp_path, monkeypatch, 900.0)
    monkeypatch.setenv("MLMON_SMTP_PASSWORD", "hunter2")
    url = f"smtp://alice@{smtp_server.host}:{smtp_server.port}?to=oncall@example.com"
    r = cli(["check", "--notify", url, "-f", "json"])
    assert r.exit_code == 1  # the alert decides
    (note,) = json.loads(r.stdout)["notifications"]
    assert note == {**note, "ok": False, "attempts": 0}
    assert "the password would travel in clear" in note["error"] and "?insecure=1" in note["error"]
    assert smtp_server.messages == [] and "hunter2" not in r.stdout + r.stderr


def test_retries_are_bounded_with_backoff() -> None:
    waits: list[float] = []
    calls = []

    def send() -> None:
        calls.append(1)
        raise Retryable("down")

    used, error = with_retries(send, attempts=4, backoff=0.5, sleep=waits.append)
    assert (used, error, len(calls)) == (4, "down", 4)
    assert waits == [0.5, 1.0, 2.0]


def test_redact_keeps_only_scheme_host_port() -> None:
    assert redact("https://user:pw@hooks.slack.com/services/T0/B0/XYZ?x=1") == "https://hooks.slack.com"
    assert redact("smtp://bob@mail.example.com:587?to=a@b") == "smtp://mail.example.com:587"


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        # httpx's InvalidURL is no HTTPError: an unclosed IPv6 bracket was exit 70
        (["--alertmanager", "http://[::1"], "(a URL that cannot be parsed)"),
        (["--notify", "webhook:http://user:pw@[::1/T0/secret?tok=1"], "(a URL that cannot be parsed)"),
        # no scheme, or one httpx cannot speak: reported once, not retried with backoff
        (["--alertmanager", "127.0.0.1:9093"], "(not a URL: scheme://host[:port] expected)"),
        (["--alertmanager", "ftp://127.0.0.1/"], "ftp://127.0.0.1"),
    ],
)
def test_a_notification_url_that_cannot_work_is_one_failed_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: list[str], shown: str
) -> None:
    _log(tmp_path, monkeypatch, 900.0)
    r = cli(["check", *target, "-f", "json"])
    assert r.exit_code == 1, r.stderr  # the alert decides, not the notification
    (note,) = json.loads(r.stdout)["notifications"]
    assert note == {**note, "ok": False, "attempts": 1, "target": shown}
    assert "not a usable http(s) URL" in note["error"]
    assert "secret" not in r.stdout + r.stderr and "pw" not in r.stderr


@pytest.mark.parametrize(
    "query",
    [
        "to=oncall@example.com%0d%0aBcc:all@example.com",
        "to=a@b.c&from=x%0aBcc:y@z",
        "to=a@b.c&from=x%E2%80%A8Bcc:y@z",  # U+2028 LINE SEPARATOR
        "to=a@b.c&from=x%C2%85y@z",  # U+0085 NEXT LINE
        "to=a%E2%80%AE@b.c",  # U+202E: a disguised address
    ],
)
def test_a_line_break_in_an_email_address_is_refused_not_sent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: Mailbox,  # noqa: F811
    query: str,
) -> None:
    # the header could not be built: exit 70; a header-injection attempt must reach no mailbox
    _log(tmp_path, monkeypatch, 900.0)
    r = cli(["check", "--notify", f"smtp://{smtp_server.host}:{smtp_server.port}?{query}", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    (note,) = json.loads(r.stdout)["notifications"]
    assert note == {**note, "ok": False, "attempts": 0}
    assert "is not an email address (it holds a control or invisible character)" in note["error"]
    assert smtp_server.messages == []
