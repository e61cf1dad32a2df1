"""Every command line the README, the docs and `--help` show, run as a user would (a subprocess,
no terminal, 80 columns, cron's empty environment): on the sample logs as shipped, and on a copy
whose newest record is 5 weeks old, where each either fails or dates its verdict line."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from readme_docs import PAGES, README, ROOT

SAMPLES = ROOT / "sample_logs"
MLMON = [sys.executable, "-m", "mlmon"]
VERDICT_COMMANDS = ("summary", "drift", "trend", "compare", "check")
"""Commands that give a verdict; baseline and config write files and judge nothing."""


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """As cron runs it: no terminal, an empty environment but PATH (and the interpreter's
    location), 80 columns."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "80", "LANG": "C.UTF-8"}
    if argv[0] == "mlmon":
        argv = [*MLMON, *argv[1:]]
    return subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=300, check=False)


def _joined(lines: list[str]) -> list[str]:
    """Lines continued with a backslash joined; `# comments` dropped."""
    out: list[str] = []
    buf = ""
    for line in lines:
        line = re.sub(r"\s+#\s.*$", "", line.rstrip())
        if line.endswith("\\"):
            buf += line[:-1].strip() + " "
            continue
        out.append((buf + line.strip()).strip())
        buf = ""
    return [x for x in out if x]


def help_examples() -> list[list[str]]:
    """The example command lines of every command's --help (as printed at 80 columns), in an
    order where each one's inputs exist: baselines and configs first."""
    order = [("baseline",), ("config", "init"), ("config", "validate"), ("summary",), ("drift",),
             ("trend",), ("compare",), ("check",)]
    found: list[list[str]] = []
    for cmd in order:
        text = run(["mlmon", *cmd, "--help"], ROOT).stdout
        block = text.split("Example", 1)[1].split("\nArguments:")[0].split("\nOptions:")[0]
        lines = [ln for ln in block.splitlines()[1:] if ln.strip()]
        starts = [i for i, ln in enumerate(lines) if ln.strip().startswith("mlmon ")]
        commands = _joined([lines[i] for i in range(starts[0], len(lines))] if starts else [])
        assert commands, f"mlmon {' '.join(cmd)} --help shows no example"
        found += [shlex.split(c) for c in commands if c.startswith("mlmon ")]
    return found


def doc_commands() -> list[tuple[str, list[str]]]:
    """(page, argv) of every mlmon command line in the README's and the docs' code blocks (the
    crontab line from `&& mlmon` on, a CI step from `run:` on)."""
    out: list[tuple[str, list[str]]] = []
    for name, text in [("README.md", README), *((f"docs/{n}", t) for n, t in PAGES.items())]:
        for block in re.findall(r"```(?:sh|cron|yaml)\n(.*?)```", text, re.S):
            for line in _joined(block.splitlines()):
                m = re.search(r"(?:^|&& |run: )(mlmon .*)$", line)
                if m:
                    out.append((name, shlex.split(m.group(1))))
    return out


_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)([T ])(\d\d:\d\d:\d\d)")


def _shift(text: str, delta: timedelta) -> str:
    def one(m: re.Match[str]) -> str:
        t = datetime.strptime(f"{m.group(1)} {m.group(3)}", "%Y-%m-%d %H:%M:%S") + delta
        return t.strftime("%Y-%m-%d") + m.group(2) + t.strftime("%H:%M:%S")

    return _STAMP.sub(one, text)


def stale_samples(dest: Path, age: timedelta) -> datetime:
    """sample_logs/ copied to `dest` with every time moved so that the newest record is `age` old."""
    last = json.loads((SAMPLES / "predictions.jsonl").read_text().splitlines()[-1])["timestamp"]
    newest = datetime.fromisoformat(last).astimezone(UTC).replace(tzinfo=None)
    target = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - age
    delta = timedelta(seconds=round((target - newest).total_seconds()))
    dest.mkdir(parents=True)
    for f in SAMPLES.iterdir():
        if f.suffix in (".jsonl", ".log", ".csv"):
            (dest / f.name).write_text(_shift(f.read_text(), delta))
        elif f.is_file():
            shutil.copy(f, dest / f.name)
    return target


def sandbox(base: Path, samples: Path | None = None, *, prepared: bool = True) -> Path:
    """A user's folder: sample_logs/ (and ../sample_logs/, as the quickstart runs in demo/),
    logs/ with the prediction log under the names the docs use, a baseline and a config made
    the documented way. Returns the working directory."""
    work = base / "demo"
    work.mkdir(parents=True)
    src = samples or SAMPLES
    if samples is None:
        shutil.copytree(SAMPLES, base / "sample_logs")
    (work / "sample_logs").symlink_to(base / "sample_logs")
    logs = work / "logs"
    logs.mkdir()
    for name in ("predictions.log", "today.jsonl", "predictions.jsonl"):
        shutil.copy(src / "predictions.jsonl", logs / name)
    import gzip

    (logs / "predictions.jsonl.gz").write_bytes(gzip.compress((src / "predictions.jsonl").read_bytes()))
    made = (["mlmon", "baseline", "sample_logs/training.csv", "-o", "baseline.json"],
            ["mlmon", "config", "init", "sample_logs/predictions.jsonl", "--baseline", "baseline.json",
             "-o", "mlmon.toml"])
    for argv in made if prepared else ():
        r = run(argv, work)
        assert r.returncode == 0, r.stderr
    return work


def _local(argv: list[str]) -> list[str]:
    """System paths of a server recipe moved into the user's folder."""
    out = []
    for a in argv:
        a = a.replace("/var/lib/prometheus/node-exporter/", "").replace("/var/log/model/", "logs/")
        out.append(a)
    return out


def _dated(r: subprocess.CompletedProcess[str]) -> bool:
    """Non-zero, or the verdict (the first line; JSON's `freshness`) says the newest record's age."""
    if r.returncode != 0:
        return True
    out = r.stdout.lstrip()
    if out.startswith("{"):
        return bool(json.loads(out).get("freshness", {}).get("stale"))
    first = out.splitlines()[0] if out else ""
    return bool(re.search(r"newest (\d+ days|\d+ day( \d+h)?|\d+h( \d+m)?) ago", first))


def test_the_docs_and_help_show_commands() -> None:
    docs = doc_commands()
    assert len(docs) >= 10 and len(help_examples()) >= 10
    cron = [argv for page, argv in docs if page == "docs/cron.md"]
    assert cron and all("--state" in a for a in cron)
    # the recommended hourly config has the staleness gate
    assert re.search(r'^max-age = "\d+[hm]"', PAGES["cron.md"], re.M)


def test_help_examples_run_as_written_on_the_sample_logs(tmp_path: Path) -> None:
    work = sandbox(tmp_path, prepared=False)  # the examples make their baseline and config
    for argv in help_examples():
        r = run(argv, work)
        # 0 healthy, 1 an alert: both are answers; 2, 65, 66, 70, 78 mean the example is wrong
        assert r.returncode in (0, 1), f"{shlex.join(argv)}: exit {r.returncode}: {r.stderr}"
        if argv[1] in VERDICT_COMMANDS and "json" not in argv:
            first = r.stdout.splitlines()[0]
            assert first.startswith(("OK:", "ALERT:")), (argv, first)


@pytest.mark.parametrize("source", ["docs", "help"])
def test_every_recipe_fails_or_dates_a_log_that_stopped_five_weeks_ago(tmp_path: Path, source: str) -> None:
    stale_samples(tmp_path / "sample_logs", timedelta(weeks=5))
    work = sandbox(tmp_path, tmp_path / "sample_logs")
    (work / "cron").mkdir()
    cron_toml = re.search(r"```toml\n(logs = .*?)```", PAGES["cron.md"], re.S)
    assert cron_toml is not None
    (work / "cron" / "mlmon.toml").write_text(cron_toml.group(1))
    shutil.copytree(work / "logs", work / "cron" / "logs")
    commands = help_examples() if source == "help" else [argv for _, argv in doc_commands()]
    checked = 0
    pages = {tuple(argv): page for page, argv in doc_commands()}
    for argv in commands:
        if argv[1] not in VERDICT_COMMANDS:
            continue
        cwd = work / "cron" if pages.get(tuple(argv)) == "docs/cron.md" else work
        r = run(_local(argv), cwd)
        assert r.returncode != 70, r.stderr
        assert _dated(r), f"{shlex.join(argv)} passed a log that stopped 5 weeks ago:\n{r.stdout}"
        checked += 1
    assert checked >= 5


def test_the_age_in_the_verdict_line_is_the_newest_records(tmp_path: Path) -> None:
    """`--last 1h` counts back from the newest record: on a log 5 weeks old it still finds an hour
    of records, and the line says how old they are (35 days), in every command's first line."""
    stale_samples(tmp_path / "s", timedelta(days=35, hours=2))
    log = str(tmp_path / "s" / "predictions.jsonl")
    for argv in (["summary", log, "--last", "1h", "-q"], ["drift", log, "--reference",
                 str(tmp_path / "s" / "training.csv"), "--last", "1h", "-q"],
                 ["trend", log, "--every", "10m", "-q"], ["compare", log, "--control", "v1.0", "-q"]):
        r = run(["mlmon", *argv], tmp_path)
        assert r.returncode in (0, 1), r.stderr
        first = r.stdout.splitlines()[0]
        assert re.match(r"(OK|ALERT): ", first), first
        assert "newest 35 days ago" in first, first
    fresh = tmp_path / "fresh.jsonl"
    now = datetime.now(UTC)
    fresh.write_text("".join(
        json.dumps({"timestamp": (now - timedelta(seconds=10 * (99 - i))).isoformat(), "latency_ms": 5.0,
                    "status": "success"}) + "\n" for i in range(100)))
    r = run(["mlmon", "summary", str(fresh), "--last", "1h", "-q"], tmp_path)
    assert r.returncode == 0 and "newest" not in r.stdout, r.stdout  # a live log is not dated
    # --max-age is the gate that fails it instead
    gate = run(["mlmon", "summary", log, "--last", "1h", "--max-age", "2h", "-q"], tmp_path)
    assert gate.returncode == 1 and "age_seconds" in gate.stdout


def test_quiet_output_fits_80_columns_and_opens_with_the_verdict(tmp_path: Path) -> None:
    work = sandbox(tmp_path)
    log = "sample_logs/predictions.jsonl"
    for argv in (["summary", log, "--max-p99-ms", "50", "--min-success-rate", "0.999"],
                 ["drift", log, "--baseline", "baseline.json"],
                 ["trend", log, "--every", "10m", "--max-p99-ms", "50"],
                 ["compare", log, "--control", "v1.0"],
                 ["check", "--config", "mlmon.toml"]):
        r = run(["mlmon", *argv, "-q"], work)
        assert r.returncode in (0, 1, 65), r.stderr
        lines = r.stdout.splitlines()
        assert re.match(r"(OK|ALERT|NO DATA): ", lines[0]), (argv, lines[0])
        assert all(len(ln) <= 80 for ln in lines), (argv, max(lines, key=len))
        full = run(["mlmon", *argv], work)
        assert full.stdout.splitlines()[0] == lines[0]  # the same verdict with or without -q
