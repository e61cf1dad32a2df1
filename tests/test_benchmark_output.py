"""The benchmark writes its results to a new file, never over the tracked results.md."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_module() -> object:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_default_results_file_is_new_and_untracked(tmp_path: Path) -> None:
    run = _run_module()
    out = run.default_out()  # type: ignore[attr-defined]
    assert out.parent == ROOT / "benchmarks" and not out.exists()
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "benchmarks"], capture_output=True,
                             text=True, check=False).stdout.split()
    assert str(out.relative_to(ROOT)) not in tracked
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(out)], check=False)
    assert ignored.returncode == 0  # results of a local run are not committed by accident
    # two runs in the same second still get two files
    first = run.default_out(tmp_path)  # type: ignore[attr-defined]
    first.write_text("x")
    assert run.default_out(tmp_path) != first  # type: ignore[attr-defined]
