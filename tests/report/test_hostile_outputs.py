"""The shared hostile corpus (tests/hostile_strings.py) fed through every output as model versions,
feature names and a rule name, each output then read by its real consumer: the terminal table and
stderr, JSON, JUnit (junitparser), Markdown (markdown-it, GFM tables), Prometheus (prometheus_client's
parser and promtool), CSV (the csv module), the Slack-compatible webhook, Alertmanager's API body and
an email (aiosmtpd)."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from corpus import cli
from hostile_strings import HOSTILE, raw_unsafe
from services import Mailbox, Receiver, binary, receiver, smtp_server  # noqa: F401

from mlmon import escape

# every string but the lone surrogate, which no JSON reader passes (it is a bad line); the
# escapers get it directly below
IN_LOGS = tuple(h for h in HOSTILE if "\ud800" not in h)
FEATURES = tuple(
    h for h in IN_LOGS if h.startswith(("<", "esc", "bidi", "zw", "tag", "crlf", "line", "=cmd"))
)
PER_GROUP = 30
RULE_NAME = "p50 \u202e<!channel> =cmd|\x1b[2J"


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = random.Random(7)
    with open(tmp_path / "log.jsonl", "w") as fh:
        for i, version in enumerate(IN_LOGS):
            for j in range(PER_GROUP):
                feats = {name: rng.gauss(0, 1) for name in FEATURES}
                rec = {"timestamp": f"2026-11-01T10:{i % 60:02d}:{j:02d}Z", "latency_ms": 50.0 + j,
                       "status": "ok", "model_version": version, "input": {"features": feats},
                       "prediction": 0.5}
                fh.write(json.dumps(rec) + "\n")
        fh.write('{"bad": \x1b[2J\u202eevil\n')  # a bad line, shown on stderr
    with open(tmp_path / "train.jsonl", "w") as fh:
        for _ in range(300):
            fh.write(json.dumps({"input": {"features": {n: rng.gauss(3, 1) for n in FEATURES}}}) + "\n")
    (tmp_path / "mlmon.toml").write_text(
        'logs = ["log.jsonl"]\nreference = "train.jsonl"\nmax-bad-lines = 10\n'
        '[[rules]]\nmetric = "latency_ms.p50"\nwarning = 1\nby = "model_version"\n'
        f"name = {json.dumps(RULE_NAME)}\n"
        '[[rules]]\nmetric = "drift.*"\n'
    )


def _results(tmp_path: Path) -> list[dict[str, Any]]:
    r = cli(["check", "-f", "json"])
    assert r.exit_code == 1, r.stderr
    return list(json.loads(r.stdout)["results"])


def test_every_output_holds_the_corpus_escaped_and_parses_with_its_consumer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(tmp_path, monkeypatch)
    results = _results(tmp_path)
    names = {x["name"] for x in results}
    # latency, and per feature drift plus the default missing_share and type_errors rules
    assert RULE_NAME in names and len(results) == 1 + 3 * len(FEATURES)
    shown: dict[str, str] = {}
    for fmt in ("table", "junit", "markdown", "prometheus", "csv"):
        r = cli(["check", "-f", fmt])
        assert r.exit_code == 1, r.stderr
        assert raw_unsafe(r.stdout) == [], (fmt, raw_unsafe(r.stdout))
        assert raw_unsafe(r.stderr) == [], (fmt, raw_unsafe(r.stderr))
        shown[fmt] = r.stdout
    assert "evil" in cli(["check", "-f", "table"]).stderr  # the bad line was shown, escaped

    # JUnit: a real JUnit reader sees one test case per rule, names escaped but whole
    from junitparser import JUnitXml

    cases = [case for suite in JUnitXml.fromstring(shown["junit"].encode()) for case in suite]
    assert len(cases) == len(results)
    assert any(c.name == escape.xml_text(RULE_NAME) for c in cases)

    # Markdown (GFM): one table row per rule, no link, no HTML, no heading from log text
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(shown["markdown"])
    assert sum(t.type == "tr_open" for t in tokens) == len(results) + 1
    inline = [c for t in tokens if t.children for c in t.children]
    assert not [c for c in inline if c.type in ("link_open", "html_inline", "image")]
    assert not [t for t in tokens if t.type in ("html_block",)]
    assert sum(t.type == "heading_open" for t in tokens) == 1

    # Prometheus: prometheus_client's own parser and promtool both accept it
    from prometheus_client.parser import text_string_to_metric_families

    families = list(text_string_to_metric_families(shown["prometheus"]))
    versions = {s.labels.get("model_version") for f in families for s in f.samples} - {None}
    assert {escape.prom_label(v) for v in IN_LOGS} <= versions
    proc = subprocess.run([binary("promtool"), "check", "metrics"], input=shown["prometheus"].encode(),
                          capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # CSV: one row per rule, no cell a spreadsheet would run
    rows = list(csv.reader(io.StringIO(shown["csv"])))
    assert len(rows) == len(results) + 1
    assert not [c for row in rows[1:] for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_notifications_carry_the_corpus_escaped_for_their_reader(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,  # noqa: F811
    smtp_server: Mailbox,  # noqa: F811
) -> None:
    _setup(tmp_path, monkeypatch)
    mail = f"smtp://{smtp_server.host}:{smtp_server.port}?to=oncall@example.com"
    r = cli(["check", "--notify", f"webhook:{receiver.url}", "--alertmanager", receiver.url,
             "--notify", mail, "-f", "json"])
    assert r.exit_code == 1, r.stderr
    assert all(n["ok"] for n in json.loads(r.stdout)["notifications"]), r.stdout
    bodies = receiver.wait_for(2)
    hook = next(b for b in bodies if isinstance(b, dict))
    alerts = next(b for b in bodies if isinstance(b, list))
    # Slack mrkdwn: no ping, no disguised link, nothing invisible
    text = json.dumps(hook, ensure_ascii=False)
    assert "<!channel>" not in text and "<https://evil.example|" not in text
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example|click here&gt;" in text
    for part in [hook["text"], *(a[k] for a in hook["attachments"] for k in ("title", "text", "fallback"))]:
        assert "<" not in part and ">" not in part, part
    assert raw_unsafe(text) == []
    # Alertmanager: label and annotation values escaped, the groups still apart
    values = [v for a in alerts for part in ("labels", "annotations") for v in a[part].values()]
    assert raw_unsafe("".join(values)) == []
    features = {a["labels"].get("feature") for a in alerts} - {None}
    assert features == {escape.terminal(f) for f in FEATURES}  # escaped, and still apart
    # email: one Subject, no injected header, one body line per alert
    (msg,) = smtp_server.messages
    assert msg["Bcc"] is None and "\n" not in str(msg["Subject"])
    body = msg.get_payload()
    assert raw_unsafe(body.replace("\r\n", "\n")) == []
    assert not [line for line in body.splitlines() if line.startswith("Bcc:")]


@pytest.mark.parametrize("text", HOSTILE)
def test_each_escaper_leaves_nothing_raw(text: str) -> None:
    for fn in (escape.terminal, escape.one_line, escape.xml_text, escape.markdown, escape.csv_cell,
               escape.prom_label, escape.mrkdwn, escape.header):
        out = fn(text)
        assert raw_unsafe(out) == [], (fn.__name__, out)
        assert out.encode("utf-8")  # no lone surrogate is left to fail an encoder
    assert "\n" not in escape.header(text) and "\r" not in escape.header(text)
    assert "<" not in escape.mrkdwn(text) and ">" not in escape.mrkdwn(text)
    assert escape.csv_cell(text)[:1] not in ("=", "+", "-", "@")
    md = escape.markdown(text)
    assert "|" not in md.replace("\\|", "")
