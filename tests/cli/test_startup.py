"""One run imports what its command needs, not the other commands, reports or scipy (cron's fixed cost)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlmon.cli.commands import COMMANDS

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"

_RUN = """
import json, sys
from mlmon.cli import main
sys.argv = ["mlmon", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(OUT, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def _run(args: list[str], tmp_path: Path) -> tuple[int, set[str]]:
    """Run the console script's `main` in a fresh interpreter; (exit code, imported modules)."""
    out = tmp_path / "modules.json"
    code = _RUN.replace("OUT", repr(str(out)))
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, timeout=120
    )
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    return doc["code"], set(doc["modules"])


def _other_commands(name: str) -> set[str]:
    return {f"mlmon.cli.{c}" for c in COMMANDS if c != name}


REPORTS = {"check_report", "compare_report", "drift", "summary", "training", "trend_report"}


@pytest.fixture
def one_line(tmp_path: Path) -> Path:
    log = tmp_path / "one.jsonl"
    with open(SAMPLES / "predictions.jsonl", encoding="utf-8") as f:
        log.write_text(f.readline(), encoding="utf-8")
    return log


def test_summary_of_a_small_log_imports_only_the_summary(one_line: Path, tmp_path: Path) -> None:
    code, modules = _run(["summary", str(one_line)], tmp_path)
    assert code == 0
    assert "mlmon.cli.summary" in modules
    assert not modules & _other_commands("summary")
    assert not modules & {f"mlmon.api.{r}" for r in REPORTS - {"summary"}}
    # the percentile bounds of a small log are exact without scipy; drift's statistics stay out
    assert not {m for m in modules if m == "scipy" or m.startswith("scipy.")}
    assert not modules & {"mlmon.stats.drift", "mlmon.stats.baseline"}


def _loaded(modules: set[str], package: str) -> set[str]:
    return {m for m in modules if m == package or m.startswith(package + ".")}


def test_a_json_summary_of_a_small_log_needs_no_rich_nor_compute(one_line: Path, tmp_path: Path) -> None:
    """The JSON document needs no rich (tables), and a small log needs none of pyarrow.compute's
    kernels (about 0.05 CPU-s to import); the table still needs rich, and is the same otherwise."""
    code, modules = _run(["summary", str(one_line), "--format", "json"], tmp_path)
    assert code == 0
    assert "mlmon._native" in modules  # the native reader read it (pyarrow is still needed for its columns)
    assert not _loaded(modules, "rich")
    assert "pyarrow.compute" not in modules
    assert not modules & {"mlmon.report.render", "mlmon.report.layout"}
    # without --labels, nothing of the labelled-performance path
    assert not modules & {"mlmon.api.quality", "mlmon.stats.labels", "mlmon.stats.performance"}
    code, modules = _run(["summary", str(one_line)], tmp_path)
    assert code == 0
    assert "rich.table" in modules and "mlmon.report.render" in modules
    assert "pyarrow.compute" not in modules


def test_a_small_log_with_a_bad_line_still_reports_it(tmp_path: Path) -> None:
    """What the lazy imports leave out is imported when a run needs it: a bad line's warning and
    the budget's error still reach stderr (through rich), and the JSON document has every record."""
    log = tmp_path / "mixed.jsonl"
    with open(SAMPLES / "predictions.jsonl", encoding="utf-8") as f:
        first = f.readline()
    log.write_text(first + '{"latency_ms": 1,}\n' + first, encoding="utf-8")
    script = "import sys; from mlmon.cli import console; sys.argv[0] = 'mlmon'; console()"
    run = [sys.executable, "-c", script, "summary", str(log), "--format", "json"]
    over = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert over.returncode == 65
    assert f"1 bad line(s) not used; the first:\n  {log}:2: bad_json: " in over.stderr
    assert "pass the budget of 1.00%" in over.stderr
    within = subprocess.run([*run, "--max-bad-lines", "1"], capture_output=True, text=True, timeout=120)
    assert within.returncode == 0, within.stderr
    assert json.loads(within.stdout)["records"] == 2
    assert "1 bad line(s) not used" in within.stderr


def test_drift_imports_only_the_drift(one_line: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    code, _ = _run(["baseline", str(SAMPLES / "training.csv"), "-o", str(baseline)], tmp_path)
    assert code == 0
    code, modules = _run(["drift", str(one_line), "--baseline", str(baseline)], tmp_path)
    assert code == 65  # one record: too few values for any test
    assert "mlmon.cli.drift" in modules
    assert not modules & _other_commands("drift")
    assert not modules & {f"mlmon.api.{r}" for r in REPORTS - {"drift", "training"}}
    # no feature had enough values for a test: scipy.stats was not needed, so not imported
    assert "scipy.stats" not in modules


def test_help_lists_every_command_with_its_help(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlmon.cli import app

    text = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    listed = text.split("Commands:")[1]
    for name in COMMANDS:
        module = __import__(f"mlmon.cli.{name}", fromlist=["cli"])
        doc = module.cli.registered_commands[0].callback.__doc__
        first_words = " ".join(doc.split()[:4])
        assert f"  {name}  " in listed or f"  {name} " in listed, (name, listed)
        assert first_words in " ".join(listed.split()), (name, first_words)


def test_the_console_script_ends_without_teardown_and_loses_no_output(tmp_path: Path) -> None:
    """The console script ends the process without the interpreter's teardown: every byte of
    a large report still arrives, through a pipe and into a file, with the run's exit code."""
    from typer.testing import CliRunner

    from mlmon.cli import app

    log = tmp_path / "big.jsonl"
    with open(SAMPLES / "predictions_named.jsonl", encoding="utf-8") as f:
        log.write_text(f.read() * 3, encoding="utf-8")
    args = ["summary", str(log), "--format", "json", "--by", "input.features.country", "--top-classes", "500"]
    expected = CliRunner().invoke(app, args).stdout
    assert len(expected) > 8192  # more than one buffer of output
    script = "import sys; from mlmon.cli import console; sys.argv[0] = 'mlmon'; console()"
    run = [sys.executable, "-c", script, *args]
    piped = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert (piped.returncode, piped.stdout) == (0, expected)
    out = tmp_path / "out.json"
    with open(out, "w") as f:
        code = subprocess.run(run, stdout=f, timeout=120).returncode
    assert (code, out.read_text()) == (0, expected)
    none = str(tmp_path / "none.jsonl")
    missing = subprocess.run([*run[:3], "summary", none], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 66 and "does not exist" in missing.stderr
