"""`mlmon report`: the page's numbers are the JSON's, it is self-contained, escaped, and it renders in
a real browser (headless Chromium) at desktop and phone widths without loading anything."""

from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corpus import cli, strict_json
from report_logs import feature_names, write_log, write_training
from services import binary

from mlmon.numfmt import ms, number, p_value, percent

try:
    import matplotlib  # noqa: F401
except ImportError:  # an environment installed before the report extra: CI installs it (.[test])
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise
    pytest.skip("matplotlib is not installed: pip install -e '.[test]'", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")
"""Chromium's own update and sign-in checks: not requests of the page."""
URL_ATTRS = {"href", "xlink:href", "src", "action", "formaction", "poster", "data", "srcset"}


class Page(HTMLParser):
    """Every start tag with its attributes, the number cells, and the visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: dict[tuple[str, str | None], tuple[Any, str]] = {}
        self.text: list[str] = []
        self._cell: tuple[str, str | None, Any] | None = None
        self._buf: list[str] = []
        self._skip = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("style",):
            self._skip += 1
        if tag == "td" and "data-metric" in a:
            raw = a["data-value"] or ""
            self._cell = (a["data-metric"] or "", a.get("data-group"), json.loads(raw) if raw else None)
            self._buf = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._skip -= 1
        if tag == "td" and self._cell is not None:
            metric, group, value = self._cell
            self.cells[(metric, group)] = (value, "".join(self._buf))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)
        if self._cell is not None:
            self._buf.append(data)

    @property
    def visible(self) -> str:
        return " ".join(self.text)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("sample")
    base = d / "baseline.json"
    assert cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(base)]).exit_code == 0
    log = str(SAMPLES / "predictions.jsonl")
    page = d / "report.html"
    r = cli(["report", log, "--baseline", str(base), "--every", "5m", "--max-p99-ms", "100",
             "-o", str(page)])
    summary = strict_json(cli(["summary", log, "--by", "model_version", "--max-p99-ms", "100", "-f", "json"])
                          .stdout)
    drift = strict_json(cli(["drift", log, "--baseline", str(base), "-f", "json"]).stdout)
    return {"dir": d, "page": page, "exit": r.exit_code, "summary": summary, "drift": drift,
            "stderr": r.stderr}


def test_numbers_in_the_page_are_the_json(sample: dict[str, Any]) -> None:
    assert sample["exit"] == 1, sample["stderr"]  # the p99 limit is crossed: an alert, as summary says
    p = Page(sample["page"].read_text())
    s = sample["summary"]
    checked = 0
    for g in [*s["groups"], {**s, "group": "all"}]:
        key = g["group"]
        for metric, value, shown in (
            ("records", g["records"], f"{g['records']:,}"),
            ("success_rate", g["success_rate"], percent(g["success_rate"], decimals=2)),
            ("latency_ms.p50", g["latency_ms"]["p50"], ms(g["latency_ms"]["p50"])),
            ("latency_ms.p95", g["latency_ms"]["p95"], ms(g["latency_ms"]["p95"])),
            ("latency_ms.p99", g["latency_ms"]["p99"], ms(g["latency_ms"]["p99"])),
            ("requests_per_second", g["requests_per_second"], number(g["requests_per_second"])),
        ):
            assert p.cells[(metric, key)] == (value, shown), (metric, key)
            checked += 1
    assert checked == 6 * (len(s["groups"]) + 1)
    for f in sample["drift"]["features"]:
        n = f["name"]
        assert p.cells[("effect_size", n)] == (f["effect_size"], number(f["effect_size"], 3))
        assert p.cells[("effect_low", n)][0] == f["effect_low"]
        assert p.cells[("effect_high", n)][0] == f["effect_high"]
        assert p.cells[("p_value_adjusted", n)] == (f["p_value_adjusted"], p_value(f["p_value_adjusted"]))
        assert p.cells[("psi", n)][0] == f["psi"]
    # the drift table is sorted by effect, largest first
    rows = re.findall(r'data-metric="effect_size" data-group="([^"]+)"', sample["page"].read_text())
    effects = [next(f["effect_size"] for f in sample["drift"]["features"] if f["name"] == n) for n in rows]
    assert effects == sorted(effects, reverse=True)
    # every alert of summary and drift is on the page, with what to do
    for a in s["alerts"] + sample["drift"]["alerts"]:
        assert a["message"] in p.visible
    # what to do, once per topic (all drift alerts share one text)
    from mlmon.rules.guidance import topic, what_to_do

    topics = {topic(a["metric"]) for a in s["alerts"] + sample["drift"]["alerts"]}
    assert p.visible.count("What to do:") == len(topics) >= 2
    for a in s["alerts"] + sample["drift"]["alerts"]:
        assert (what_to_do(a["metric"]) or "See this metric's section below.") in p.visible


def docs_sizes() -> tuple[int, int]:
    """The page sizes docs/report.md gives (bytes): the sample logs', and 30 features over 48 windows'."""
    text = re.sub(r"\s+", " ", (ROOT / "docs" / "report.md").read_text())
    m = re.search(r"make a page of about [\d.]+ MB \((\d+) KB\); 30 features over 48 hourly windows "
                  r"about ([\d.]+) MB", text)
    assert m is not None, "docs/report.md no longer gives the page sizes"
    return int(m.group(1)) * 1024, round(float(m.group(2)) * 1024 * 1024)


def test_page_is_self_contained_and_accessible(sample: dict[str, Any]) -> None:
    text = sample["page"].read_text()
    size = len(text.encode())
    assert size <= 2 * 1024 * 1024
    stated = docs_sizes()[0]
    assert abs(size - stated) / stated < 0.15, (size, stated)  # the docs give the size it has
    p = Page(text)
    names = [t for t, _ in p.tags]
    assert "script" not in names and "img" not in names and "link" not in names and "iframe" not in names
    csp = [a for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    for tag, attrs in p.tags:
        for k, v in attrs.items():
            assert not k.startswith("on"), (tag, k)
            if k in URL_ATTRS:
                assert (v or "").startswith("#"), (tag, k, v)  # only references inside the page
    svgs = [a for t, a in p.tags if t == "svg"]
    assert len(svgs) >= 1 + 2 * len(sample["drift"]["features"])  # health, ECDF and over-time plots
    for a in svgs:
        assert a.get("role") == "img" and a.get("aria-labelledby")
    assert names.count("title") - 1 == len(svgs) and names.count("desc") == len(svgs)
    for f in sample["drift"]["features"]:
        assert f"{f['name']}: cumulative distribution" in p.visible
        assert f"{f['name']}: drift per 5m window" in p.visible
    for label in ("latency (ms)", "success rate (%)", "requests per window", "share of values ≤ x"):
        assert label in p.visible


def _hostile(tmp: Path) -> tuple[Path, Any]:
    train = tmp / "train.csv"
    write_training(train, hostile_column=True)
    log = tmp / "h.jsonl"
    write_log(log, hostile=True)
    page = tmp / "h.html"
    r = cli(["report", str(log), "--reference", str(train), "--every", "1h", "-o", str(page)])
    return page, r


def test_hostile_log_text_is_escaped(tmp_path: Path) -> None:
    page, r = _hostile(tmp_path)
    assert r.exit_code == 1, r.stderr
    text = page.read_text()
    p = Page(text)
    names = {t for t, _ in p.tags}
    assert not names & {"script", "img", "iframe", "object", "embed", "a", "link", "base", "form"}
    for tag, attrs in p.tags:
        assert not any(k.startswith("on") for k in attrs), tag
        for k in URL_ATTRS & set(attrs):  # a URL only ever points inside the page
            assert (attrs[k] or "").startswith("#"), (tag, k, attrs[k])
    assert "\u202e" not in text and "\\u202e" in text  # the bidi override is shown, never obeyed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # a model version, a category, a column name
    assert "&lt;/svg&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    assert "javascript:alert(3)" in p.visible  # as text, never as a link
    assert "$x^2$" in p.visible  # a dollar sign is not matplotlib math
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in text  # the bad line's example


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = binary("chromium")
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp / 'profile'}",
         "--disable-background-networking", "--no-first-run", "--disable-extensions", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", f"--log-net-log={tmp / 'net.json'}", *args],
        capture_output=True, text=True, timeout=180,
    )


def page_urls(tmp: Path) -> set[str]:
    """The URLs the browser requested, Chromium's own update checks left out."""
    urls = set(re.findall(r'"url":"([^"]+)"', (tmp / "net.json").read_text()))
    return {u for u in urls if not any(re.match(rf"https?://([a-z0-9-]+\.)*{re.escape(h)}/", u)
                                       for h in BROWSER_HOSTS)}


def consoled(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln]


def test_the_browser_checks_work(tmp_path: Path) -> None:
    """The two detectors below see what they look for: a request to the network, a CSP refusal."""
    ctl = tmp_path / "ctl.html"
    ctl.write_text("<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
                   "</head><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>")
    r = chromium(tmp_path, "--dump-dom", ctl.as_uri())
    assert any("Content Security Policy" in ln for ln in consoled(r.stderr)), r.stderr
    ctl.write_text('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    chromium(tmp_path, "--dump-dom", ctl.as_uri())
    assert "http://127.0.0.1:9/x.png" in page_urls(tmp_path)


def pixels(png: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(png).convert("L"), dtype=np.float64)


def colours(png: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(png).convert("RGB"), dtype=np.int64)


def render_in_browser(tmp: Path, page: Path, alerts: list[str], features: list[str]) -> None:
    """Load `page` in headless Chromium: no console message, no request but the file itself;
    screenshots at 1280 and 390 px have content; the DOM's text holds each feature and alert."""
    r = chromium(tmp, "--dump-dom", page.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    assert consoled(r.stderr) == []
    assert page_urls(tmp) <= {page.as_uri()}
    dom = Page(r.stdout)
    assert not {"script", "img"} & {t for t, _ in dom.tags}
    text = re.sub(r"\s+", " ", dom.visible)
    for f in features:
        assert f in text, f
    for a in alerts:
        assert re.sub(r"\s+", " ", a) in text, a
    for width in (1280, 390):
        shot = tmp / f"shot{width}.png"
        height = 2000 if width > 1000 else 6000  # on a phone the plots come after a longer scroll
        r = chromium(tmp, f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri())
        assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
        assert consoled(r.stderr) == []
        px = pixels(shot)
        assert px.shape[1] == width
        assert px.std() > 20  # text and plots, not a blank page
        dark = (px < 128).mean()
        assert 0.01 < dark < 0.5
        rows = (px < 200).any(axis=1).mean()  # content from top to bottom of the shot, not one strip
        assert rows > 0.3
        # the plots are drawn: their bars and bands in the palette's sky blue (which the page's own
        # style never uses), their lines in blue and vermillion
        rgb = colours(shot)
        for colour, least in (((86, 180, 233), 0.005), ((0, 114, 178), 0.001), ((213, 94, 0), 0.0002)):
            share = (np.abs(rgb - np.array(colour)).max(axis=2) < 16).mean()
            assert share > least, (width, colour, share)


def test_sample_report_in_chromium(sample: dict[str, Any], tmp_path: Path) -> None:
    alerts = [a["message"] for a in sample["summary"]["alerts"] + sample["drift"]["alerts"]]
    features = [f["name"] for f in sample["drift"]["features"]]
    render_in_browser(tmp_path, sample["page"], alerts, features)


def test_drifted_8_hour_log_in_chromium(tmp_path: Path) -> None:
    train, log, page = tmp_path / "train.csv", tmp_path / "d.jsonl", tmp_path / "d.html"
    write_training(train)
    write_log(log, hours=8)
    r = cli(["report", str(log), "--reference", str(train), "--every", "1h", "--max-p99-ms", "150",
             "--min-success-rate", "0.98:0.95", "-o", str(page)])
    assert r.exit_code == 1, r.stderr
    drift = strict_json(cli(["drift", str(log), "--reference", str(train), "-f", "json"]).stdout)
    summary = strict_json(cli(["summary", str(log), "--by", "model_version", "--max-p99-ms", "150",
                               "--min-success-rate", "0.98:0.95", "-f", "json"]).stdout)
    assert set(drift["drifted"]) >= {"age", "income", "session_length", "country"}
    alerts = [a["message"] for a in summary["alerts"] + drift["alerts"]]
    assert any(a["metric"].startswith("unseen.") for a in drift["alerts"])
    text = page.read_text()
    assert "XX (unseen)" in text  # the category training never had is marked in its plot
    render_in_browser(tmp_path, page, alerts, [*feature_names(3), "country"])


def test_30_features_48_windows_stays_small(tmp_path: Path) -> None:
    train, log, page = tmp_path / "train.csv", tmp_path / "w.jsonl", tmp_path / "w.html"
    write_training(train, n_numeric=30, rows=2000)
    write_log(log, hours=48, per_hour=60, n_numeric=30, drift_after=24)
    r = cli(["report", str(log), "--reference", str(train), "--every", "1h", "-o", str(page)])
    assert r.exit_code == 1, r.stderr
    size = os.path.getsize(page)
    assert size <= 5 * 1024 * 1024, size
    stated = docs_sizes()[1]
    assert abs(size - stated) / stated < 0.15, (size, stated)  # the docs give the size it has
    text = page.read_text()
    p = Page(text)
    # the page is the one named: 30 numeric features and a categorical one, each with its
    # distribution and its 48 windows, and the health plots over 48 windows
    features = re.findall(r'<h3 id="feature-([^"]+)"', text)
    assert len(features) == 31 and set(feature_names(30)) | {"country"} == set(features)
    assert len(re.findall(r"drift per 1h window", p.visible)) == 31
    assert re.findall(r"(\d+) windows of 1h, \d+ requests", p.visible) == ["48"] * 3  # v1.0, v2.0, all
    drifted = [int(n) for n in re.findall(r"; (\d+) of 48 windows with values drifted", p.visible)]
    assert len(drifted) == 31 and max(drifted) >= 20  # the shifted features drift in the second day
    assert sum(t == "svg" for t, _ in p.tags) >= 3 + 2 * 31
    # past the first few of a topic, the alerts fold away, each still on the page
    listed = re.findall(r'<li data-metric="(drift\.[^"]+)"', text)
    marked = re.findall(r'<td class="t drifted">([^<]+)</td>', text)
    assert {f"drift.{n}" for n in marked} <= set(listed) and len(marked) > 5
    assert f"{len(listed) - 5} more <code>drift</code> alerts" in text


def test_report_needs_output_and_one_baseline(tmp_path: Path) -> None:
    log = str(SAMPLES / "predictions.jsonl")
    r = cli(["report", log, "--baseline", "a.json", "--reference", "b.csv", "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "at most one" in r.stderr
    r = cli(["report", log, "--every", "500", "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "durations" in r.stderr
    r = cli(["report", log, "-o", log])
    assert r.exit_code == 2 and "which this run reads" in r.stderr
    r = cli(["report", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 66 and not (tmp_path / "x.html").exists()
    # without a baseline: serving health only, and the page says drift was not checked
    r = cli(["report", log, "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 0, r.stderr
    assert "drift not checked" in (tmp_path / "x.html").read_text()


def test_check_writes_the_same_page(sample: dict[str, Any], tmp_path: Path) -> None:
    log = str(SAMPLES / "predictions.jsonl")
    conf = tmp_path / "mlmon.toml"
    r = cli(["config", "init", log, "--baseline", str(sample["dir"] / "baseline.json"), "-o", str(conf)])
    assert r.exit_code == 0, r.stderr
    page = tmp_path / "check.html"
    r = cli(["check", "--config", str(conf), "-f", "json", "-o", f"html:{page}"])
    doc = strict_json(r.stdout)
    assert r.exit_code == 1 and doc["status"] == "warning"
    text = page.read_text()
    p = Page(text)
    assert "script" not in {t for t, _ in p.tags}
    assert "ALERT: " in p.visible and "Content-Security-Policy" in text
    for res in doc["results"]:
        assert p.cells[("value", res["name"])][0] == res["value"]
    for a in doc["alerts"]:
        assert a["message"] in p.visible
    # the serving table and the drift table carry the same numbers as summary and drift
    for f in sample["drift"]["features"]:
        assert p.cells[("effect_size", f["name"])][0] == f["effect_size"]
    assert p.cells[("latency_ms.p99", "all")][0] == sample["summary"]["latency_ms"]["p99"]
    # the plots of `mlmon report` on the same logs: health over time per version with the rules'
    # limits drawn, and both distributions of each feature
    report = Page(sample["page"].read_text())
    for f in sample["drift"]["features"]:
        assert f"{f['name']}: cumulative distribution" in p.visible or f"{f['name']}: share" in p.visible
    assert "latency (ms)" in p.visible and "success rate (%)" in p.visible
    assert any(f"Serving health of {g['group']}" in p.visible for g in sample["summary"]["groups"])
    rule_limits = [r for r in doc["results"] if r["metric"] == "latency_ms.p99"]
    if rule_limits and rule_limits[0]["warning"] is not None:
        assert f"warning limit {rule_limits[0]['warning']:g} ms (p99)" in p.visible
    svgs = sum(t == "svg" for t, _ in p.tags)
    assert svgs >= 2 + len(sample["drift"]["features"])  # health per version, features, predictions
    # the same page: every section title of the report's page is there (the report adds the
    # per-window drift of --every, which a check does not have)
    heads = [t for t, _ in report.tags if t in ("h2",)]
    assert [t for t, _ in p.tags if t == "h2"] == heads
    # the name's extension picks the format too
    r = cli(["check", "--config", str(conf), "-o", str(tmp_path / "again.html")])
    assert r.exit_code == 1 and (tmp_path / "again.html").read_text().startswith("<!DOCTYPE html>")


def test_report_docs_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sh block of docs/report.md, from a copy of sample_logs/ (its paths are relative)."""
    import shlex
    import shutil

    text = (ROOT / "docs" / "report.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None
    shutil.copytree(SAMPLES, tmp_path / "sample_logs")
    monkeypatch.chdir(tmp_path)
    commands = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert commands[0] == "mkdir -p demo && cd demo"
    (tmp_path / "demo").mkdir()
    monkeypatch.chdir(tmp_path / "demo")
    codes = []
    for line in commands[1:]:
        argv = shlex.split(line)
        assert argv[0] == "mlmon"
        codes.append(cli(argv[1:]).exit_code)
    assert codes == [0, 1]  # the baseline; the report, whose p99 limit and drift are alerts
    page = (tmp_path / "demo" / "report.html").read_text()
    assert "ALERT: " in page and "income: cumulative distribution" in page


def test_the_shared_hostile_corpus_reaches_the_page_escaped(tmp_path: Path) -> None:
    """Every string of tests/hostile_strings.py as a model version, a category and a bad line:
    the page holds none of their unsafe characters raw, and no markup of theirs."""
    from hostile_strings import HOSTILE, raw_unsafe

    train = tmp_path / "train.csv"
    write_training(train)
    lines = log_lines_with(HOSTILE)
    log = tmp_path / "h.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    page = tmp_path / "h.html"
    r = cli(["report", str(log), "--reference", str(train), "--max-bad-lines", "100%", "-o", str(page)])
    assert r.exit_code in (0, 1), r.stderr
    text = page.read_text()
    assert raw_unsafe(text.replace("\n", "")) == []
    p = Page(text)
    assert not {"script", "img", "a", "iframe", "link"} & {t for t, _ in p.tags}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def log_lines_with(strings: tuple[str, ...]) -> list[str]:
    from report_logs import log_lines

    base = [json.loads(x) for x in log_lines(hours=1, per_hour=600)]
    out = []
    for i, rec in enumerate(base):
        s = strings[i % len(strings)]
        if i % 3 == 0:
            rec["model_version"] = s
        if i % 5 == 0:
            rec["input"]["features"]["country"] = s
        out.append(json.dumps(rec))
    out += [f"not a record {s}" for s in strings]  # shown as examples of lines not used
    return out


def test_realized_quality_with_labels_is_the_summary_json(tmp_path: Path) -> None:
    """With --labels, the page's realized quality is summary --labels' (each metric's value, and
    its interval shown), and trend --labels' window by window is drawn."""
    log, labels = str(SAMPLES / "predictions_ids.jsonl"), str(SAMPLES / "labels.csv")
    page = tmp_path / "q.html"
    r = cli(["report", log, "--labels", labels, "--every", "10m", "-o", str(page)])
    assert r.exit_code == 0, r.stderr
    q = strict_json(cli(["summary", log, "--labels", labels, "--by", "model_version", "-f", "json"])
                    .stdout)["quality"]
    trend = strict_json(cli(["trend", log, "--labels", labels, "--every", "10m", "-f", "json"]).stdout)
    text = page.read_text()
    p = Page(text)
    checked = 0
    for g in q["groups"]:
        assert p.cells[("quality.labelled", g["group"])][0] == g["labelled"]
        for name in ("accuracy", "macro_f1", "auc", "brier", "ece"):
            m = g["metrics"][name]
            value, shown = p.cells[(f"quality.{name}", g["group"])]
            assert value == m["value"]
            assert shown == f"{number(m['value'])} [{number(m['low'])}, {number(m['high'])}]"
            checked += 1
    assert checked == 5 * len(q["groups"]) >= 5
    assert f"{q['join']['labelled']:,} of {q['join']['predictions']:,} predictions labelled" in p.visible
    labelled = sum(w["labelled"] for w in trend["quality"]["windows"])
    assert f"({labelled} labelled in {len(trend['quality']['windows'])} windows)" in p.visible
    assert "Realized quality per 10m window" in p.visible
    # without labels the section is not there
    r = cli(["report", log, "-o", str(tmp_path / "n.html")])
    assert r.exit_code == 0 and "Realized quality" not in (tmp_path / "n.html").read_text()


def test_check_page_with_labels_has_the_realized_quality(tmp_path: Path) -> None:
    log, labels = str(SAMPLES / "predictions_ids.jsonl"), str(SAMPLES / "labels.csv")
    conf = tmp_path / "m.toml"
    conf.write_text("max-p99-ms = 1000\n")
    page = tmp_path / "c.html"
    r = cli(["check", log, "--config", str(conf), "--labels", labels, "-f", "json", "-o", f"html:{page}"])
    assert r.exit_code == 0, r.stderr
    q = strict_json(cli(["summary", log, "--labels", labels, "--by", "model_version", "-f", "json"])
                    .stdout)["quality"]
    p = Page(page.read_text())
    for g in q["groups"]:
        assert p.cells[("quality.accuracy", g["group"])][0] == g["metrics"]["accuracy"]["value"]
    assert "Realized quality" in p.visible and f"Serving health of {q['groups'][0]['group']}" in p.visible


def test_predictions_against_a_baseline_that_profiled_them(tmp_path: Path) -> None:
    """A baseline of the log's first hours profiles its predictions: the page's Predictions
    section tests the classes and confidence against it, with drift's numbers and both
    distributions drawn."""
    log, base, page = tmp_path / "d.jsonl", tmp_path / "b.json", tmp_path / "p.html"
    write_log(log, hours=8)
    assert cli(["baseline", str(log), "--until", "2026-11-01T03:59:59Z", "-o", str(base)]).exit_code == 0
    r = cli(["report", str(log), "--baseline", str(base), "-o", str(page)])
    assert r.exit_code == 1, r.stderr
    drift = strict_json(cli(["drift", str(log), "--baseline", str(base), "-f", "json"]).stdout)
    preds = drift["predictions"]
    assert {f["name"] for f in preds} == {"prediction.class", "prediction.confidence"}
    p = Page(page.read_text())
    for f in preds:
        assert p.cells[("effect_size", f["name"])][0] == f["effect_size"]
        assert p.cells[("p_value_adjusted", f["name"])][0] == f["p_value_adjusted"]
    assert "prediction.confidence: cumulative distribution" in p.visible  # confidence falls after 4 h
    assert "prediction.class: category shares" in p.visible
    assert any(f["drift"] for f in preds if f["name"] == "prediction.confidence")
