"""The one error boundary of the console script: every class of failure (config parsing, start-up,
imports, memory, file descriptors, the clock, a bug) ends with one line on stderr, the JSON error
document with --format json, the UNKNOWN status line with --nagios, and its documented exit code."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlmon.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]
LOG = str(ROOT / "sample_logs" / "predictions.jsonl")
TRAIN = str(ROOT / "sample_logs" / "training.csv")


def _run(
    args: list[str], tmp_path: Path, prelude: str = "", limits: dict[int, int] | None = None
) -> tuple[int, str, str]:
    """The console script (through `mlmon.cli.console`) after `prelude` ran in its process, with
    resource limits set in the child before Python starts."""
    code = (
        f"import sys\n{prelude}\nsys.argv = ['mlmon', *sys.argv[1:]]\n"
        "from mlmon.cli import console\nconsole()\n"
    )

    def limit() -> None:
        for which, value in (limits or {}).items():
            resource.setrlimit(which, (value, value))

    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        preexec_fn=limit if limits else None,
    )
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def _one_error(stdout: str, stderr: str, code: int, words: str) -> dict[str, Any]:
    """One `mlmon: error:` line naming `words`, no traceback; the JSON document on stdout."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlmon: error: "), stderr
    assert words in lines[0], lines[0]
    assert "Traceback" not in stderr
    doc = json.loads(stdout)
    assert doc["exit_code"] == code
    assert doc["error"]["type"] == ExitCode(code).name.lower()
    assert doc["error"]["message"] == lines[0].removeprefix("mlmon: error: ")
    return dict(doc)


def _nagios_unknown(rc: int, stdout: str, words: str) -> None:
    assert rc == 3
    (line,) = stdout.splitlines()
    assert line.startswith("MLMON UNKNOWN - ") and words in line, stdout


@pytest.fixture
def deep_toml(tmp_path: Path) -> Path:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    return path


def test_a_deeply_nested_config_is_78_with_one_line_and_json(tmp_path: Path, deep_toml: Path) -> None:
    rc, out, err = _run(["summary", LOG, "--config", str(deep_toml), "-f", "json"], tmp_path)
    assert rc == ExitCode.CONFIG
    _one_error(out, err, 78, "nested more than 100 deep")
    rc, out, err = _run(["config", "validate", str(deep_toml)], tmp_path)
    assert rc == ExitCode.CONFIG and "nested more than 100 deep" in err and "Traceback" not in err
    rc, out, _ = _run(["check", LOG, "--config", str(deep_toml), "--nagios"], tmp_path)
    _nagios_unknown(rc, out, "nested more than 100 deep")


def test_a_dotted_key_of_200000_parts_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "dots.toml"
    path.write_text("a" + ".a" * 200_000 + " = 1\n")  # about 400 KB; tomllib is quadratic here
    rc, out, err = _run(["summary", LOG, "--config", str(path), "-f", "json"], tmp_path)
    assert rc == ExitCode.CONFIG
    _one_error(out, err, 78, "a key of more than 32 dotted parts")


def test_nesting_and_dotted_keys_in_strings_and_comments_are_not_counted(tmp_path: Path) -> None:
    from mlmon.rules.config import _load_toml

    path = tmp_path / "mlmon.toml"
    path.write_text(
        '# [[[[[[ a.b.c.d\nby = "' + "[" * 300 + '"\nnote = """\n' + "a." * 300 + '\n"""\n'
        "[[rules]]\nmetric = 'drift.x'\nwarning = 1.5\n"
    )
    doc = _load_toml(str(path))
    assert doc["by"] == "[" * 300 and doc["rules"][0]["warning"] == 1.5


def _raising_at_import(exc: str) -> str:
    """A prelude that makes the run's first import of mlmon.stats.summary (inside every command,
    after start-up) raise `exc`, as memory, file descriptors or a bug would."""
    return (
        "import errno, os, importlib.abc\n"
        "class Boom(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == 'mlmon.stats.summary': raise {exc}\n"
        "sys.meta_path.insert(0, Boom())\n"
    )


@pytest.mark.parametrize(
    ("prelude", "code", "words"),
    [
        # a lazy import failing inside a command (numpy cannot be loaded)
        ("sys.modules['numpy'] = None", ExitCode.ENVIRONMENT, "cannot load numpy"),
        # an import failing before any command (typer cannot be loaded): no rich, no typer
        ("sys.modules['typer'] = None", ExitCode.ENVIRONMENT, "cannot load typer"),
        # memory runs out inside a command
        (_raising_at_import("MemoryError()"), ExitCode.ENVIRONMENT, "out of memory"),
        # too many open files, raised by the system
        (
            _raising_at_import("OSError(errno.EMFILE, os.strerror(errno.EMFILE))"),
            ExitCode.ENVIRONMENT,
            "Too many open files (raise the limit: ulimit -n)",
        ),
        # the system clock past 2262 (as faketime '2300-01-01' sets it)
        (
            "import time\ntime.time = lambda: 10413792000.0",
            ExitCode.ENVIRONMENT,
            "the system clock (year 2300)",
        ),
        # a genuine bug: 70, and only then
        (
            _raising_at_import("ZeroDivisionError('x')"),
            ExitCode.INTERNAL,
            "internal error: ZeroDivisionError",
        ),
    ],
    ids=["import-in-command", "import-at-start", "memory", "emfile", "clock-2300", "bug"],
)
def test_every_failure_class_has_its_code_line_json_and_nagios_3(
    tmp_path: Path, prelude: str, code: int, words: str
) -> None:
    rc, out, err = _run(["summary", LOG, "-f", "json"], tmp_path, prelude)
    assert rc == code, err
    _one_error(out, err, code, words)
    (tmp_path / "mlmon.toml").write_text('[[rules]]\nmetric = "latency_ms.p99"\nwarning = 1000\n')
    rc, out, err = _run(["check", LOG, "--nagios"], tmp_path, prelude)
    _nagios_unknown(rc, out, words)
    assert "Traceback" not in err


def test_too_few_file_descriptors_is_an_environment_failure_never_bad_data(tmp_path: Path) -> None:
    # ulimit -n: Python itself needs a few; past that each limit either runs or is exit 71
    seen = set()
    for n in range(5, 9):
        rc, out, err = _run(
            ["drift", LOG, "--reference", TRAIN, "-f", "json"], tmp_path, limits={resource.RLIMIT_NOFILE: n}
        )
        seen.add(rc)
        if rc == ExitCode.ENVIRONMENT:
            _one_error(out, err, rc, "Too many open files")
        else:
            assert rc == ExitCode.ALERT, err  # the sample drifts: the run's own answer
    assert ExitCode.ENVIRONMENT in seen


def test_a_low_memory_limit_is_71_with_one_line_before_any_library_loads(tmp_path: Path) -> None:
    rc, out, err = _run(["drift", LOG, "--reference", TRAIN, "-f", "json"], tmp_path,
                        limits={resource.RLIMIT_AS: 180_000 * 1024})
    assert rc == ExitCode.ENVIRONMENT
    _one_error(out, err, rc, "the virtual memory limit (ulimit -v) is 175 MiB")


def test_the_boundary_imports_nothing_heavy() -> None:
    code = (
        "import sys\nimport mlmon.cli\nimport mlmon.cli.boundary\n"
        "heavy = [m for m in ('numpy', 'rich', 'typer', 'pyarrow') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "[]"
