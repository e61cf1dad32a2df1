"""The public library (`import mlmon`): frames in and out, the CLI's JSON from `to_dict()`, clear errors,
and the Python examples of the README and docs/python.md, run as written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from readme_docs import PAGES, README
from typer.testing import CliRunner

import mlmon
from mlmon.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
LOG = str(SAMPLES / "predictions.jsonl")


def cli(args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(app, args)
    return r.exit_code, r.stdout


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.fixture
def samples_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding sample_logs/, as the docs' examples expect."""
    (tmp_path / "sample_logs").symlink_to(SAMPLES)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page", ["README.md", "python.md"])
def test_the_python_examples_run_as_written(page: str, samples_here: Path) -> None:
    text = README if page == "README.md" else PAGES[page]
    blocks = python_blocks(text)
    assert blocks, f"{page} has no Python example"
    scope: dict[str, object] = {}
    for block in blocks:  # one notebook: each block sees the names of the blocks before it
        exec(compile(block, page, "exec"), scope)
    if page == "python.md":
        health, drift = scope["health"], scope["drift"]
        assert isinstance(health, mlmon.SummaryReport) and isinstance(drift, mlmon.DriftReport)
        drifted = scope["drifted"]
        assert isinstance(drifted, pd.DataFrame)
        assert list(drifted["name"]) == [f.name for f in drift.features if f.drift]
        assert (samples_here / "baseline.json").exists()


# -- the CLI prints to_json(): one document, built once ------------------------------------------------


def test_summary_json_is_to_dict() -> None:
    args = ["summary", LOG, "--max-p99-ms", "100:400", "--last", "30m", "-f", "json"]
    code, out = cli(args)
    rep = mlmon.summarize(LOG, max_p99_ms="100:400", last="30m")
    assert code == 1  # the p99 of v2.0 is above 100 ms: an alert, in both
    assert rep.alerts
    assert out == rep.to_json()
    assert json.loads(out) == rep.to_dict()


def test_drift_json_is_to_dict(tmp_path: Path) -> None:
    base = str(tmp_path / "b.json")
    assert cli(["baseline", str(SAMPLES / "training.csv"), "-o", base])[0] == 0
    code, out = cli(["drift", LOG, "--baseline", base, "--by", "model_version", "-f", "json"])
    rep = mlmon.detect_drift(LOG, baseline=base, by="model_version")
    assert code == 1
    assert out == rep.to_json()
    assert rep.to_dict()["groups"]


def test_trend_json_is_to_dict() -> None:
    code, out = cli(["trend", LOG, "--every", "10m", "--max-p99-ms", "250", "-f", "json"])
    rep = mlmon.trend(LOG, every="10m", max_p99_ms=250)
    assert code in (0, 1)
    assert out == rep.to_json()
    assert len(rep.to_pandas()) == len(rep.windows) > 1


def test_compare_json_is_to_dict() -> None:
    code, out = cli(["compare", LOG, "--control", "v1.0", "-f", "json"])
    rep = mlmon.compare(LOG, control="v1.0")
    assert out == rep.to_json()
    assert rep.to_dict()["control"] == "v1.0"
    frame = rep.to_pandas()
    assert set(frame["version"]) == {"v2.0"}
    assert len(frame) == sum(len(v.metrics) + len(v.traffic) for v in rep.versions)


def test_check_json_is_to_dict(tmp_path: Path) -> None:
    config = tmp_path / "mlmon.toml"
    config.write_text(f'logs = ["{LOG}"]\nmax-p99-ms = "100:400"\n')
    code, out = cli(["check", "--config", str(config), "-f", "json"])
    run = mlmon.check(str(config))
    assert code == 1 and run.report.alerts  # the p99 of v2.0 is above 100 ms
    assert out == run.to_json()
    assert run.to_pandas()["name"].tolist() == [r["name"] for r in json.loads(out)["results"]]
    # a dict of the same keys runs the same rules
    again = mlmon.check({"logs": [LOG], "max-p99-ms": "100:400"})
    assert again.to_dict()["results"] == run.to_dict()["results"]
    assert again.to_dict()["config"] is None


def test_check_with_state_reads_only_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "live.jsonl"
    lines = (SAMPLES / "predictions.jsonl").read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:1000]))
    config = {"logs": [str(log)], "min-success-rate": "0.5"}
    state = str(tmp_path / "state.json")
    first = mlmon.check(config, state=state)
    assert first.report.records == 1000
    with open(log, "a") as f:
        f.write("".join(lines[1000:1300]))
    second = mlmon.check(config, state=state)
    assert second.report.records == 300
    assert second.totals is not None and second.totals


# -- frames in --------------------------------------------------------------------------------------------


def _without_input(doc: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in doc.items() if k != "input"}


def test_a_dataframe_gives_what_its_file_gives() -> None:
    frame = pd.read_json(LOG, lines=True, precise_float=True)  # pandas rounds floats otherwise
    from_file = mlmon.summarize(LOG)
    from_frame = mlmon.summarize(frame)
    assert _without_input(from_frame.to_dict()) == _without_input(from_file.to_dict())
    assert [f.source for f in from_frame.input.files] == ["<DataFrame>"]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    from_table = mlmon.summarize(table)
    assert _without_input(from_table.to_dict()) == _without_input(from_file.to_dict())
    assert [f.source for f in from_table.input.files] == ["<pyarrow.Table>"]


def test_a_feature_frame_drifts_as_its_csv() -> None:
    base = mlmon.Baseline.from_file(SAMPLES / "training.csv")
    from_csv = mlmon.detect_drift(str(SAMPLES / "features.csv"), baseline=base)
    from_frame = mlmon.detect_drift(pd.read_csv(SAMPLES / "features.csv"), baseline=base)
    assert from_frame.to_dict()["features"] == from_csv.to_dict()["features"]
    frame = from_frame.to_pandas()
    features = frame[frame["role"] == "feature"]
    assert features["name"].tolist() == list(base.columns)  # one row per feature
    assert frame[frame["role"] == "multivariate"]["name"].tolist() == ["multivariate"]  # and the joint test


def test_baseline_from_a_frame_profiles_as_from_its_file(tmp_path: Path) -> None:
    train = pd.read_csv(SAMPLES / "training.csv")
    by_frame = mlmon.Baseline.from_frame(train)
    by_file = mlmon.Baseline.from_file(SAMPLES / "training.csv")
    assert by_frame.columns == by_file.columns
    assert by_frame.rows == by_file.rows == len(train)
    frame = by_frame.to_pandas()
    assert frame["mean"].tolist() == pytest.approx(train[list(by_frame.columns)].mean().tolist())
    by_frame.save(tmp_path / "b.json")
    again = mlmon.Baseline.from_file(tmp_path / "b.json")
    assert again.to_dict() == by_frame.to_dict()
    # the file the CLI writes from the same training data is the file .save writes
    assert cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(tmp_path / "cli.json")])[0] == 0
    by_file.save(tmp_path / "lib.json")
    assert (tmp_path / "lib.json").read_text() == (tmp_path / "cli.json").read_text()


# -- frames out, the notebook view --------------------------------------------------------------------------


def test_summary_frame_has_one_row_per_group() -> None:
    rep = mlmon.summarize(LOG)
    frame = rep.to_pandas()
    assert frame["scope"].tolist() == ["overall", "group", "group"]
    assert frame["group"].tolist()[1:] == ["v1.0", "v2.0"]
    assert frame["records"].tolist() == [rep.records, *(g.records for g in rep.result.groups)]
    assert frame["latency_ms.p99"].iloc[0] == rep.result.overall.latency_ms.p99


def test_the_html_view_escapes_log_text(tmp_path: Path) -> None:
    log = tmp_path / "hostile.jsonl"
    line = {"timestamp": "2026-11-01T10:00:00Z", "model_version": "<script>alert(1)</script>",
            "latency_ms": 5, "status": "success"}
    log.write_text("\n".join(json.dumps({**line, "latency_ms": i}) for i in range(40)) + "\n")
    view = mlmon.summarize(str(log), max_p99_ms=1)._repr_html_()
    assert "<script>" not in view
    assert "&lt;script&gt;" in view
    assert "ALERT" in view


# -- errors ------------------------------------------------------------------------------------------------


def test_misuse_is_a_clear_error_not_a_type_error() -> None:
    from mlmon.api import load_training

    frame = pd.read_csv(SAMPLES / "training.csv")
    with pytest.raises(mlmon.OptionError, match="Baseline.from_frame"):
        load_training(frame)  # type: ignore[arg-type]
    assert load_training(str(SAMPLES / "training.csv")).rows == len(frame)  # defaults for the rest
    with pytest.raises(mlmon.OptionError, match="a pandas DataFrame or a pyarrow Table"):
        mlmon.summarize(42)
    with pytest.raises(mlmon.OptionError, match="exactly one of"):
        mlmon.detect_drift(LOG)
    with pytest.raises(mlmon.OptionError, match="Baseline.from_file"):
        mlmon.Baseline.from_frame(str(SAMPLES / "training.csv"))
    with pytest.raises(mlmon.OptionError, match="--max-p99-ms"):
        mlmon.summarize(LOG, max_p99_ms="fast")
    with pytest.raises(mlmon.NoInputError):
        mlmon.summarize(str(SAMPLES / "nothing-here.jsonl"))
    with pytest.raises(mlmon.BaselineError):
        mlmon.detect_drift(LOG, baseline=str(SAMPLES / "predictions.jsonl"))
    assert issubclass(mlmon.DataError, mlmon.MlmonError)
    assert mlmon.DataError.exit_code == mlmon.ExitCode.DATA_ERROR


def test_a_frame_error_names_the_frame_not_a_temporary_file() -> None:
    frame = pd.DataFrame({"timestamp": ["2026-11-01T10:00:00Z"], "latency_ms": [5.0]})
    with pytest.raises(mlmon.DataError) as info:
        mlmon.detect_drift(frame, baseline=mlmon.Baseline.from_file(SAMPLES / "training.csv"))
    assert "frame.parquet" not in str(info.value)


# -- the command line stays light ---------------------------------------------------------------------------


def test_mlmon_help_and_a_summary_never_import_pandas(tmp_path: Path) -> None:
    script = (
        "import json, sys\nfrom mlmon.cli import main\nsys.argv = ['mlmon', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    for args in (["--help"], ["summary", LOG, "-f", "json"]):
        proc = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
        )
        modules = set(json.loads(proc.stderr.strip().splitlines()[-1]))
        assert "mlmon.cli" in modules
        assert not {m for m in modules if m == "pandas" or m.startswith("pandas.")}, args
    proc = subprocess.run([sys.executable, "-c", "import mlmon, sys; print('pandas' in sys.modules)"],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False"
