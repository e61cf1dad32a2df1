"""The command line: exit codes, messages, accounting in JSON output, hostile text, real processes."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus import (
    FORBIDDEN,
    HOSTILE,
    LOG_PREFIX,
    cli,
    dumps,
    error_line,
    good_lines,
    gzip_bytes,
    join,
    record,
    strict_json,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_logs"


def _files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> None:
    monkeypatch.chdir(tmp_path)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)


def _reconciled(doc: dict) -> None:  # type: ignore[type-arg]
    inp = doc["input"]
    for f in inp["files"]:
        assert f["lines"] == f["records"] + sum(f["reasons"].values()), f
        assert f["bad_lines"] == sum(v for k, v in f["reasons"].items()
                                     if k not in ("blank", "non_record", "incomplete_tail"))
    assert inp["lines"] == inp["records"] + sum(inp["reasons"].values())
    assert inp["lines"] == sum(f["lines"] for f in inp["files"])
    assert inp["records"] == sum(f["records"] for f in inp["files"])
    assert inp["bad_lines"] == sum(f["bad_lines"] for f in inp["files"])
    totals: dict[str, int] = {}
    for f in inp["files"]:
        for k, v in f["reasons"].items():
            totals[k] = totals.get(k, 0) + v
    assert inp["reasons"] == totals


# --- accounting in the JSON output ------------------------------------------------------------


def test_every_line_is_accounted_for_per_file_and_overall(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    dirty = join([*good_lines(400), b"{oops", b"", b"Traceback (most recent call last):",
                  dumps(record(1, latency_ms=-1)), *good_lines(100, 400)]) + b'{"cut'
    _files(tmp_path, monkeypatch, {"dirty.jsonl": dirty, "clean.jsonl.gz": gzip_bytes(join(good_lines(50)))})
    result = cli(["summary", "dirty.jsonl", "clean.jsonl.gz", str(SAMPLES / "predictions.log"), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    _reconciled(doc)
    files = {Path(f["source"]).name: f for f in doc["input"]["files"]}
    assert files["dirty.jsonl"]["reasons"] == {"blank": 1, "non_record": 1, "incomplete_tail": 1,
                                               "bad_json": 1, "invalid_value": 1}
    assert files["dirty.jsonl"]["lines"] == 505 and files["dirty.jsonl"]["records"] == 500
    assert files["clean.jsonl.gz"]["compression"] == "gzip"
    assert files["predictions.log"]["reasons"] == {"non_record": 7}
    assert doc["records"] == doc["records_read"] == 500 + 50 + 2000
    assert "mlmon: warning: 2 bad line(s) not used" in result.stderr


def test_drift_json_accounts_for_every_line(tmp_path: Path) -> None:
    result = cli(["drift", str(SAMPLES / "predictions.jsonl"), str(SAMPLES / "features.csv"),
                  "--reference", str(SAMPLES / "training.csv"), "-f", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.stderr
    doc = strict_json(result.stdout)
    _reconciled(doc)
    assert [f["format"] for f in doc["input"]["files"]] == ["csv", "jsonl"]
    assert doc["records"] == 2500


@pytest.mark.parametrize("command", ["summary", "drift"])
def test_same_files_in_another_order_give_identical_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         command: str) -> None:
    _files(tmp_path, monkeypatch, {
        "b.jsonl": join(good_lines(300, 300)) + b"{bad\n",
        "a.jsonl.gz": gzip_bytes(join(good_lines(300))),
        "c.log": join(good_lines(200, 600, prefix=LOG_PREFIX)),
    })
    extra = [] if command == "summary" else ["--reference", str(SAMPLES / "training_mixed.csv"),
                                              "--features-field", "input.features"]
    runs = [cli([command, *order, "-f", "json", "--fail-on", "never", *extra])
            for order in (["a.jsonl.gz", "b.jsonl", "c.log"], ["c.log", "b.jsonl", "a.jsonl.gz"],
                          ["b.jsonl", "*.log", "a.jsonl.gz", "b.jsonl"])]
    assert all(r.exit_code == 0 for r in runs), [r.stderr for r in runs]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert runs[0].stderr == runs[1].stderr


# --- the bad-line budget ----------------------------------------------------------------------


@pytest.fixture
def three_percent_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    lines = good_lines(97)
    lines[10:10] = [b"{oops", dumps(record(1, latency_ms="slow")), dumps(record(2, latency_ms=float("nan")))]
    _files(tmp_path, monkeypatch, {"f.jsonl": join(lines)})
    return "f.jsonl"


def test_bad_lines_over_the_default_budget(three_percent_bad: str) -> None:
    result = cli(["summary", three_percent_bad])
    assert result.exit_code == 65 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == ("mlmon: error: 3 bad lines of 100 record lines (3.0%) pass the budget of 1.00% "
                         "(bad_json: 1, wrong_type: 1, non_finite: 1); raise --max-bad-lines to accept them")


def test_budget_error_shows_where_the_bad_lines_are(three_percent_bad: str) -> None:
    result = cli(["summary", three_percent_bad])
    assert result.exit_code == 65
    assert "f.jsonl:11: bad_json: {oops" in result.stderr


@pytest.mark.parametrize(("budget", "rc"), [("5%", 0), ("3", 0), ("2", 65), ("0", 65), ("3.5%", 0)])
def test_max_bad_lines(three_percent_bad: str, budget: str, rc: int) -> None:
    assert cli(["summary", three_percent_bad, "--max-bad-lines", budget]).exit_code == rc


def test_strict(three_percent_bad: str) -> None:
    result = cli(["summary", three_percent_bad, "--strict", "--max-bad-lines", "50%"])
    assert result.exit_code == 65
    assert result.stderr.splitlines()[-1] == (
        "mlmon: error: --strict: 3 bad line(s) in the input (bad_json: 1, wrong_type: 1, non_finite: 1)")


@pytest.mark.parametrize("budget", ["lots", "-1", "150%"])
def test_bad_budget_is_a_usage_error(three_percent_bad: str, budget: str) -> None:
    result = cli(["summary", three_percent_bad, "--max-bad-lines", budget])
    assert result.exit_code == 2
    assert "--max-bad-lines" in error_line(result)


def test_max_line_bytes_must_be_positive(three_percent_bad: str) -> None:
    result = cli(["summary", three_percent_bad, "--max-line-bytes", "0"])
    assert result.exit_code == 2 and error_line(result) == "--max-line-bytes must be at least 1 (got 0)"


# --- hostile log text -------------------------------------------------------------------------


def _no_terminal_control(result) -> None:  # type: ignore[no-untyped-def]
    for stream in (result.stdout_bytes, result.stderr_bytes):
        for byte in FORBIDDEN:
            assert byte not in stream, (byte, stream[:2000])


def test_hostile_text_in_summary_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = good_lines(400)
    for i, h in enumerate(HOSTILE):
        lines.append(dumps(record(i, model_version=h, prediction={"class": h, "confidence": 0.9})))
    lines.append(b"{" + HOSTILE[0].encode() + b" not json")  # shown as a bad-line example
    lines.append(dumps(record(9, timestamp=HOSTILE[1])))
    _files(tmp_path, monkeypatch, {"f.jsonl": join(lines)})
    result = cli(["summary", "f.jsonl", "--max-p95-ms", "0"])
    assert result.exit_code == 1  # the p95 alert, so the alert table is drawn too
    _no_terminal_control(result)
    assert "\\x1b]0;pwned\\x07" in result.stdout and "\\u202eevil" in result.stdout
    assert "[bold]x" in result.stdout  # shown as text, not taken as markup
    assert "\\x1b]0;pwned\\x07 not json" in result.stderr

    doc = strict_json(cli(["summary", "f.jsonl", "-f", "json"]).stdout)
    assert {g["group"] for g in doc["groups"]} == {"v1", "v2", *HOSTILE}
    assert {e["text"] for e in doc["input"]["examples"]} >= {"{" + HOSTILE[0] + " not json"}


def _hostile_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train_name: str = "train.csv") -> str:
    """A baseline and a log whose feature names and category values are hostile; returns the log."""
    names = [HOSTILE[0], HOSTILE[3], "[link=file:///etc/passwd]x[/link]"]
    header = ",".join(f'"{n}"' for n in names).encode()
    train = join([header, *[b'%d,%d,"%s"' % (i, i % 7, HOSTILE[i % 3].encode()) for i in range(300)]])
    unseen = ["[b]q", HOSTILE[5]]
    log = join(dumps(record(i, input={"features": {names[0]: i % 290, names[1]: 3,
                                                   names[2]: unseen[i // 2 % 2] if i % 2 else HOSTILE[1]}}))
               for i in range(300))
    name = "\x1b[2Jlog\u202e.jsonl"
    _files(tmp_path, monkeypatch, {train_name: train, name: log})
    made = cli(["baseline", train_name, "-o", "base.json"])
    assert made.exit_code == 0, made.stderr
    return name


def test_hostile_text_in_drift_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = _hostile_drift(tmp_path, monkeypatch)
    result = cli(["drift", name, "--baseline", "base.json"])
    assert result.exit_code == 1, result.stderr  # the categories drifted
    _no_terminal_control(result)
    assert "\\x1b[2Jlog\\u202e.jsonl" in result.stdout  # the file name, escaped
    doc = strict_json(cli(["drift", name, "--baseline", "base.json", "-f", "json"]).stdout)
    assert [f["name"] for f in doc["features"]] == [HOSTILE[0], HOSTILE[3], "[link=file:///etc/passwd]x[/link]"]
    assert [f["n"] for f in doc["features"]] == [300, 300, 300]
    assert {c for c, _ in doc["features"][2]["unseen_categories"]} == {"[b]q", HOSTILE[5]}
    assert doc["input"]["files"][0]["source"] == name


def test_hostile_category_is_not_markup_in_drift_table(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    name = _hostile_drift(tmp_path, monkeypatch)
    result = cli(["drift", name, "--baseline", "base.json"])
    assert "[b]q" in result.stdout  # an unseen category, shown in the table as text


def test_baseline_source_is_not_markup_in_drift_title(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    name = _hostile_drift(tmp_path, monkeypatch, train_name="[bold]train.csv")
    result = cli(["drift", name, "--baseline", "base.json"])
    assert "Drift against [bold]train.csv" in result.stdout


def test_json_output_is_strict_with_non_finite_values(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [dumps(record(i, latency_ms=1e308, prediction=1e308)) for i in range(200)]
    _files(tmp_path, monkeypatch, {"f.jsonl": join(lines)})
    result = cli(["summary", "f.jsonl", "-f", "json"])
    assert result.exit_code == 0
    doc = strict_json(result.stdout)  # never Infinity or NaN in the JSON
    assert doc["latency_ms"]["mean"] == pytest.approx(1e308)  # a finite mean, though the sum overflows
    assert doc["latency_ms"]["max"] == 1e308


# --- baselines --------------------------------------------------------------------------------


@pytest.fixture
def saved_baseline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", "base.json"])
    assert result.exit_code == 0, result.stderr
    return tmp_path / "base.json"


@pytest.mark.parametrize(
    ("damage", "rc", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:300]), 65, r"^bad\.json is not a JSON baseline \("),
        (lambda p: p.write_text(p.read_text().replace('"version": 1', '"version": 7')), 65,
         r"^bad\.json is baseline format version 7; this mlmon reads version 1\. Rebuild it"),
        (lambda p: p.write_bytes(pickle.dumps({"features": []})), 65,
         r"^bad\.json looks like a Python pickle; mlmon never loads pickles"),
        (lambda p: p.write_bytes(pickle.dumps({"features": []}, protocol=0)), 65,
         r"looks like a Python pickle"),
        (lambda p: p.write_text(p.read_text().replace('"mean": ', '"mean": 1.0, "x": ', 1)), 65,
         r"^bad\.json: checksum does not match its content"),
        (lambda p: p.write_text('{"format": "something-else"}'), 65, r"^bad\.json is not an mlmon baseline"),
        (lambda p: p.write_bytes(b""), 65, r"^bad\.json is not a JSON baseline"),
        (lambda p: p.unlink(), 66, r"^cannot read baseline 'bad\.json': No such file or directory$"),
    ],
    ids=["truncated", "other-version", "pickle", "pickle-protocol-0", "edited", "not-a-baseline", "empty",
         "missing"],
)
def test_bad_baseline(saved_baseline: Path, damage, rc: int, message: str) -> None:  # type: ignore[no-untyped-def]
    bad = saved_baseline.parent / "bad.json"
    bad.write_bytes(saved_baseline.read_bytes())
    damage(bad)
    result = cli(["drift", str(SAMPLES / "features.csv"), "--baseline", "bad.json"])
    assert result.exit_code == rc
    assert result.stdout == ""
    import re

    assert re.search(message, error_line(result)), result.stderr


def test_baseline_output_that_cannot_be_written(saved_baseline: Path) -> None:
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", "/nonexistent/dir/b.json"])
    assert result.exit_code == 73  # cannot create output: not "no input", not an internal error
    line = error_line(result)
    assert line == "cannot write '/nonexistent/dir/b.json': No such file or directory"
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(saved_baseline.parent)])
    assert result.exit_code == 73 and "Is a directory" in error_line(result)
    assert not [p for p in saved_baseline.parent.iterdir() if p.name.endswith(".tmp")]  # no temp left


def test_baseline_or_reference_is_required() -> None:
    result = cli(["drift", str(SAMPLES / "features.csv")])
    assert result.exit_code == 2
    assert error_line(result) == "give exactly one of --baseline FILE or --reference TRAINING_DATA"


def test_internal_error_is_short_and_70(three_percent_bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlmon.api.summary

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something impossible")

    monkeypatch.setattr(mlmon.api.summary, "summarize", broken)
    result = cli(["summary", three_percent_bad])
    assert result.exit_code == 70
    assert error_line(result) == ("internal error: RuntimeError: something impossible "
                                  "(run with --debug for a traceback)")


# --- real processes: pipes and signals --------------------------------------------------------


def _mlmon(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlmon", *args]


def _many_groups(tmp_path: Path, n: int) -> Path:
    p = tmp_path / "groups.jsonl"
    p.write_bytes(join(dumps(record(i, model_version=f"model-{i:04d}")) for i in range(n)))
    return p


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_broken_pipe_is_quiet(tmp_path: Path, fmt: str) -> None:
    log = _many_groups(tmp_path, 400 if fmt == "json" else 700)
    proc = subprocess.run(
        f"{' '.join(_mlmon('summary', str(log), '-f', fmt))} | head -1; echo \"rc=${{PIPESTATUS[0]}}\" >&2",
        shell=True, executable="/bin/bash", capture_output=True, cwd=ROOT, timeout=60,
    )
    assert proc.stdout.count(b"\n") == 1
    assert proc.stderr == b"rc=0\n"  # no BrokenPipeError, no "Exception ignored"


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc to see the reader wait")
def test_sigint_exits_130_without_traceback(tmp_path: Path) -> None:
    # A job started in the background by a non-interactive shell (as CI may run the suite) inherits
    # SIGINT ignored, and Python then installs no handler: give the child the default, as a
    # terminal's foreground job has.
    proc = subprocess.Popen(_mlmon("summary", "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdin is not None
        proc.stdin.write(join(good_lines(100)))
        proc.stdin.flush()
        # wait until it has started and is blocked reading stdin (its CPU time stops moving)
        deadline = time.monotonic() + 30
        last, still = -1, 0
        while still < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
            ticks = _cpu_ticks(proc.pid)
            still = still + 1 if ticks == last and ticks > 0 else 0
            last = ticks
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert err == b"mlmon: interrupted\n"
    assert out == b""


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc to see the reader work")
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_sigint_while_workers_are_busy_ends_130_with_one_line(tmp_path: Path, fmt: str) -> None:
    """Ctrl-C while both parse workers are busy on blocks the exact path reads line by line: the
    run ends with 130, one line, no traceback, and no report of a half-read input. How fast it
    stops (it used to finish the blocks in hand: 2.1 s of CPU) is measured by
    `python benchmarks/interrupt.py`, not here: a time depends on how loaded the machine is."""
    path = tmp_path / "bad.jsonl"
    with path.open("wb") as fh:  # 1.5M lines with a latency given as text: every block read in Python
        for _ in range(15):
            fh.write(b"".join(b'{"latency_ms": "%d"}\n' % i for i in range(100_000)))
    env = dict(os.environ, MLMON_READER="python")

    def child() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # On a loaded machine a starved main thread lets the workers run on after the signal;
        # a higher priority (where allowed: root, as CI is) keeps the measure about mlmon.
        with contextlib.suppress(OSError):
            os.nice(-10)

    proc = subprocess.Popen(_mlmon("summary", str(path), "--max-bad-lines", "100%", "--format", fmt),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, preexec_fn=child)
    hz = os.sysconf("SC_CLK_TCK")
    try:
        # wait until it is busy reading (a second of CPU: imports done, blocks being parsed)
        deadline = time.monotonic() + 60
        while _cpu_ticks(proc.pid) < hz and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before the interrupt"
        proc.send_signal(signal.SIGINT)
        _, status, _usage = os.wait4(proc.pid, 0)  # the output is one line: no pipe fills up
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    assert b"Traceback" not in err and err.endswith(b"mlmon: interrupted\n")
    if fmt == "json":
        want = {"error": {"type": "interrupted", "message": "interrupted"}, "exit_code": 130}
        assert json.loads(out) == want
    else:
        assert out == b""


def test_rows_rejected_after_parsing_show_their_own_line(tmp_path: Path) -> None:
    good = '{"latency_ms": 2, "status": "success"}\n' * 200
    path = tmp_path / "neg.jsonl"
    path.write_text(good + '{"latency_ms": -5, "status": "ok"}\n' + good)
    result = cli(["summary", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert f"{path}:201: invalid_value: " + '{"latency_ms": -5, "status": "ok"}' in result.stderr
    doc = json.loads(result.stdout)
    assert doc["input"]["reasons"] == {"invalid_value": 1}
    assert doc["input"]["examples"][0]["text"] == '{"latency_ms": -5, "status": "ok"}'


def test_by_a_field_with_too_many_values_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    rows = ({"request_id": f"r{i}", "latency_ms": 1.0, "status": "success"} for i in range(1500))
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli(["summary", str(path), "--by", "request_id"])
    assert result.exit_code == 2
    assert "more than 1000 distinct values" in error_line(result)
    assert cli(["summary", str(path), "--by", ""]).exit_code == 0


def test_only_the_console_script_keeps_pandas_out(tmp_path: Path) -> None:
    # a stand-in pandas: the console-script process must not import it (pyarrow probes for it)
    (tmp_path / "pandas").mkdir()
    (tmp_path / "pandas" / "__init__.py").write_text("__version__ = '9.9.9'\n")
    probe = (
        "import sys\nfrom mlmon.cli import main\n"
        f"sys.argv = ['mlmon', 'summary', {str(SAMPLES / 'predictions.jsonl')!r}, '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "False"
    # the app run inside another program leaves the import system as it found it
    from typer.testing import CliRunner

    from mlmon.cli import _WithoutPandas, app

    result = CliRunner().invoke(app, ["summary", str(SAMPLES / "predictions.jsonl"), "--format", "json"])
    assert result.exit_code == 0
    assert not any(isinstance(f, _WithoutPandas) for f in sys.meta_path)
