"""What an alert tells on-call, as a real Alertmanager holds it and as a webhook and an email
carry it: value and limit in people's units, the records and logs, what to do, the runbook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import cli, dumps, join, record
from services import Mailbox, Receiver, Service, alertmanager, get, receiver, smtp_server  # noqa: F401

from mlmon.rules.guidance import what_to_do

N = 1200


def _log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str, *, version: str = "v2") -> None:
    monkeypatch.chdir(tmp_path)
    # every third record is `version`, answering in 412 ms and failing one time in two
    lines = [
        dumps(
            record(i, latency_ms=412.0, model_version=version, status="error" if i % 2 else "success")
            if i % 3 == 0
            else record(i, latency_ms=5.0, status="success")
        )
        for i in range(N)
    ]
    (tmp_path / "app.log").write_bytes(join(lines))
    (tmp_path / "mlmon.toml").write_text('logs = ["app.log"]\nby = "model_version"\n' + rules)


RULES = (
    '[[rules]]\nmetric = "latency_ms.p99"\nwarning = 300\ncritical = 400\nby = "model_version"\n'
    'runbook_url = "https://runbooks.example.com/latency"\n'
    '[[rules]]\nmetric = "success_rate"\nwarning = 0.95\nby = "model_version"\n'
)


def test_alertmanager_holds_summary_description_runbook_value_threshold(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
) -> None:
    am, _ = alertmanager
    _log(tmp_path, monkeypatch, RULES)
    wiki = "https://wiki.example.com/mlmon"
    r = cli(["check", "--alertmanager", am.url, "--runbook-url", wiki, "-f", "json"])
    assert r.exit_code == 1, r.stdout
    doc = json.loads(r.stdout)
    held = {a["labels"]["alertname"]: a for a in json.loads(get(f"{am.url}/api/v2/alerts"))}
    assert set(held) == {"latency_ms.p99", "success_rate"}
    lat = held["latency_ms.p99"]["annotations"]
    # a third of the records take 412 ms: the p99 of all records decides (the worst, as v2's);
    # its 95% lower bound is what was compared, labelled, the estimate beside it
    assert lat["summary"] == (
        "latency_ms.p99 412 ms (lower 95%) > 400 ms (critical) for all records, estimate 412 ms"
    )
    assert (lat["value"], lat["threshold"], lat["estimate"]) == ("412 ms (lower 95%)", "400 ms", "412 ms")
    assert lat["runbook_url"] == "https://runbooks.example.com/latency"  # the rule's own
    desc = lat["description"]
    assert desc != lat["summary"]
    assert f"Checked {doc['records']:,} records from " in desc and " in app.log." in desc
    todo = what_to_do("latency_ms.p99")
    assert todo and f"What to do: {todo}" in desc
    # success rate of v2: half its requests fail, from the log, not a fixed number
    v2 = [i for i in range(N) if i % 3 == 0]
    rate = sum(1 for i in v2 if i % 2 == 0) / len(v2)
    ok = held["success_rate"]["annotations"]
    assert ok["value"] == ok["estimate"] == f"{rate * 100:.2f}%" and ok["threshold"] == "95.00%"
    assert ok["summary"] == f"success_rate {ok['value']} < 95.00% (warning) for model_version v2"
    assert ok["runbook_url"] == "https://wiki.example.com/mlmon"  # the global one
    assert f"What to do: {what_to_do('success_rate')}" in ok["description"]


def test_no_runbook_given_no_runbook_annotation(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alertmanager: tuple[Service, Receiver],  # noqa: F811
) -> None:
    am, _ = alertmanager
    _log(tmp_path, monkeypatch, RULES.replace('runbook_url = "https://runbooks.example.com/latency"\n', ""))
    assert cli(["check", "--alertmanager", am.url]).exit_code == 1
    held = json.loads(get(f"{am.url}/api/v2/alerts"))
    assert len(held) == 2 and all("runbook_url" not in a["annotations"] for a in held)
    want = {"summary", "description", "value", "threshold", "estimate"}
    assert all(want <= set(a["annotations"]) for a in held)


@pytest.mark.parametrize("url", ["ftp://x.example.com/a", "runbooks/latency", "https://", "https://a b/c"])
def test_a_runbook_that_is_not_an_http_url_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    _log(tmp_path, monkeypatch, RULES.replace("https://runbooks.example.com/latency", url))
    r = cli(["check"])
    assert r.exit_code == 78, r.stdout + r.stderr
    assert "rules[0].runbook_url" in r.stderr and "not an http(s) URL" in r.stderr
    _log(tmp_path, monkeypatch, "")
    r = cli(["check", "--runbook-url", url])
    assert r.exit_code == 2 and "--runbook-url" in r.stderr and "Traceback" not in r.stderr
    _log(tmp_path, monkeypatch, f'runbook-url = "{url}"\n' + RULES.replace(url, "https://a.example.com/"))
    r = cli(["check"])
    assert r.exit_code == 78 and "mlmon.toml: runbook-url: " in r.stderr and "not an http(s) URL" in r.stderr


def test_webhook_and_email_give_each_alert_with_value_and_limit(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
    smtp_server: Mailbox,  # noqa: F811
) -> None:
    # a hostile group name: it may neither ping a channel nor forge a line
    _log(tmp_path, monkeypatch, RULES, version="<!channel>\nCRITICAL: fake")
    mail = f"smtp://{smtp_server.host}:{smtp_server.port}?to=oncall@example.com&from=mlmon@example.com"
    r = cli(["check", "--notify", f"webhook:{receiver.url}", "--notify", mail])
    assert r.exit_code == 1
    (body,) = receiver.wait_for(1)
    head, *lines = body["text"].split("\n")
    assert head == "mlmon: 2 firing"
    assert lines == [
        "CRITICAL: latency_ms.p99 412 ms (lower 95%) &gt; 400 ms (critical) for all records, estimate 412 ms",
        lines[1],
    ]
    assert lines[1].startswith("WARNING: success_rate ") and lines[1].endswith(
        "% &lt; 95.00% (warning) for model_version &lt;!channel&gt; CRITICAL: fake"
    )
    (msg,) = smtp_server.messages
    text = msg.get_payload(decode=True).decode("utf-8")  # quoted-printable as sent
    body_lines = text.splitlines()
    assert body_lines[0] == (
        "CRITICAL: latency_ms.p99 412 ms (lower 95%) > 400 ms (critical) for all records, estimate 412 ms"
    )
    assert body_lines[1].startswith("WARNING: success_rate ") and body_lines[1].endswith(
        "% < 95.00% (warning) for model_version <!channel> CRITICAL: fake"
    )
    assert sum(1 for line in body_lines if line.startswith("CRITICAL:")) == 1  # no forged line
    assert f"Checked {N:,} records from " in text and " in app.log." in text
    assert f"- latency_ms.p99: {what_to_do('latency_ms.p99')}" in text


def test_a_resolved_alert_says_what_fired_and_its_value_now(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
) -> None:
    _log(tmp_path, monkeypatch, '[[rules]]\nmetric = "latency_ms.p50"\nwarning = 100\nby = "model_version"\n')
    args = ["check", "--notify", f"webhook:{receiver.url}", "--state", "st.json"]
    assert cli(args).exit_code == 1
    (fired,) = receiver.wait_for(1)
    with open(tmp_path / "app.log", "ab") as fh:  # the service recovers: 5 ms for everyone
        fh.write(join(dumps(record(i, latency_ms=5.0, status="success")) for i in range(N, 2 * N)))
    r = cli([*args, "-f", "json"])
    assert r.exit_code == 0, r.stdout
    head, line = receiver.wait_for(2)[1]["text"].split("\n")
    assert head == "mlmon: 1 resolved"
    assert line == "RESOLVED: latency_ms.p50 5 ms (ok) for all records"
    assert fired["text"].split("\n")[1].startswith("WARNING: latency_ms.p50 412 ms")
