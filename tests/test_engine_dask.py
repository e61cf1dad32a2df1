"""--engine dask: the same JSON as the local engine, byte for byte, on a LocalCluster of two worker
processes on 127.0.0.1 (started for this module, stopped after); bad files fail as locally; a
worker killed mid-run has its task run again."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

distributed = pytest.importorskip(
    "distributed", reason="pip install -e '.[test]' installs dask (the dask extra)"
)

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ("age", "income", "score")


def _line(rng: random.Random, i: int, version: str) -> str:
    ok = rng.random() > 0.03
    rec = {
        "timestamp": f"2026-11-01T{10 + i // 3600 % 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
        "model_version": version,
        "input": {"features": {"age": rng.randint(18, 90), "income": round(rng.lognormvariate(10, 1), 2),
                               "score": round(rng.gauss(0, 1), 4)}},
        "prediction": {"class": rng.choice("abc"), "confidence": round(rng.random(), 3)},
        "latency_ms": round(rng.lognormvariate(3, 0.6), 2),
        "status": "success" if ok else "error",
    }
    return json.dumps(rec)


def write_logs(folder: Path, files: int, lines: int, seed: int = 7) -> list[Path]:
    """`files` logs of `lines` records each (two model versions), one gzipped, a few bad lines."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(files):
        rows = [_line(rng, k * lines + i, "v2" if (k + i) % 4 == 0 else "v1") for i in range(lines)]
        if k % 3 == 1:
            rows.insert(rng.randrange(len(rows)), "not json {" + "x" * k)
        if k % 5 == 2:
            bad = '{"timestamp": "2026-11-01T10:00:00Z", "latency_ms": "slow"}'
            rows.insert(rng.randrange(len(rows)), bad)
        data = ("\n".join(rows) + "\n").encode()
        path = folder / f"part-{k:03d}.jsonl"
        if k == 1:
            path = path.with_suffix(".jsonl.gz")
            path.write_bytes(gzip.compress(data))
        else:
            path.write_bytes(data)
        out.append(path)
    return out


def write_training(path: Path, n: int = 3000, seed: int = 3) -> Path:
    rng = random.Random(seed)
    rows = ["age,income,score"]
    rows += [f"{rng.randint(18, 80)},{round(rng.lognormvariate(10, 0.9), 2)},{round(rng.gauss(0.1, 1), 4)}"
             for _ in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A LocalCluster of two single-threaded worker processes on 127.0.0.1, no dashboard."""
    c = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        # no dashboard; the scheduler's health and metrics pages on a free port of 127.0.0.1
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    try:
        yield c.scheduler_address
    finally:
        c.close()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("engine") / "logs"
    write_logs(folder, files=9, lines=900)
    return folder


def mlmon(*args: str, cwd: Path | None = None) -> Result:
    """The CLI in this process (a subprocess would pay the imports again each time)."""
    from mlmon.cli import app

    here = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})
    finally:
        os.chdir(here)


@pytest.mark.parametrize(
    "args",
    [
        ("summary",),
        ("summary", "--by", "model_version", "--max-p99-ms", "40"),
        ("summary", "--since", "2026-11-01T10:30:00Z", "--until", "2026-11-01T11:00:00Z"),
        ("drift", "--by", "model_version"),
    ],
    ids=["summary", "summary-by", "summary-window", "drift-by"],
)
def test_the_dask_engine_gives_the_local_json_byte_for_byte(
    cluster: str, logs: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    extra: tuple[str, ...] = ()
    if args[0] == "drift":
        base = tmp_path / "baseline.json"
        made = mlmon("baseline", str(write_training(tmp_path / "train.csv")), "-o", str(base))
        assert made.exit_code == 0, made.stderr
        extra = ("--baseline", str(base))
    # relative paths: the workers open them by absolute path, the names shown stay as given
    local = mlmon(*args, "logs", *extra, "-f", "json", cwd=logs.parent)
    remote = mlmon(*args, "logs", *extra, "-f", "json", "--engine", "dask", "--scheduler", cluster,
                   cwd=logs.parent)
    assert local.exit_code in (0, 1), local.stderr
    assert remote.exit_code == local.exit_code, remote.stderr
    assert remote.stdout == local.stdout
    assert remote.stderr == local.stderr  # the same bad-line examples, from the same files and lines
    doc = json.loads(local.stdout)
    assert len(doc["input"]["files"]) == 9
    assert doc["input"]["files"][0]["source"] == "logs/part-000.jsonl"


@pytest.mark.parametrize("fold", [1000, 4000])
def test_latencies_folded_here_and_not_on_the_workers_give_the_same_json(
    cluster: str, logs: Path, monkeypatch: pytest.MonkeyPatch, fold: int
) -> None:
    """Past FOLD_VALUES latencies are folded into distinct values and counts; a worker's file may
    stay under it where the whole read here does not. The answer must not depend on that."""
    from mlmon.stats import summary

    monkeypatch.setattr(summary, "FOLD_VALUES", fold)  # here only: the workers keep the default
    local = mlmon("summary", "logs", "-f", "json", cwd=logs.parent)
    remote = mlmon("summary", "logs", "-f", "json", "--engine", "dask", "--scheduler", cluster,
                   cwd=logs.parent)
    assert local.exit_code in (0, 1) and remote.exit_code == local.exit_code
    assert remote.stdout == local.stdout


def test_a_bad_file_is_reported_as_locally(cluster: str, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_logs(folder, files=4, lines=200)
    (folder / "part-002.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00broken")  # not one line can be read
    (folder / "part-003.jsonl").write_text("")  # an empty file beside it is fine
    local = mlmon("summary", str(folder))
    remote = mlmon("summary", str(folder), "--engine", "dask", "--scheduler", cluster)
    assert local.exit_code == remote.exit_code == 65
    assert remote.stderr == local.stderr
    assert "part-002.jsonl.gz" in remote.stderr and "Traceback" not in remote.stderr


def test_without_a_scheduler_a_cluster_of_this_machine_runs_for_the_read(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    write_logs(folder, files=3, lines=300, seed=5)
    local = mlmon("summary", str(folder), "-f", "json")
    remote = mlmon("summary", str(folder), "-f", "json", "--engine", "dask")
    assert local.exit_code in (0, 1) and remote.exit_code == local.exit_code, remote.stderr
    assert remote.stdout == local.stdout


def test_what_the_dask_engine_cannot_do_is_refused_with_exit_2(cluster: str, logs: Path) -> None:
    got = mlmon("summary", str(logs), "--engine", "dask", "--scheduler", cluster, "--last", "1h")
    assert got.exit_code == 2 and "--last without --until" in got.stderr
    got = mlmon("summary", str(logs), "--scheduler", cluster)
    assert got.exit_code == 2 and "--scheduler needs --engine dask" in got.stderr
    got = mlmon("summary", str(logs), "--engine", "spark")
    assert got.exit_code == 2 and "choose local or dask" in got.stderr


def test_an_unreachable_scheduler_is_the_environment(logs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services import free_port

    from mlmon.engine import dask

    monkeypatch.setattr(dask, "CONNECT_SECONDS", 3.0)
    got = mlmon("summary", str(logs), "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert got.exit_code == 71
    assert "cannot reach the Dask scheduler" in got.stderr and "Traceback" not in got.stderr


def test_a_worker_killed_mid_run_has_its_task_run_again(cluster: str, tmp_path: Path) -> None:
    """Runs last in the module: the killed worker's nanny starts a new one."""
    from mlmon.api.summary import summarize
    from mlmon.read.reader import ReadOptions

    folder = tmp_path / "big"
    paths = [str(p) for p in write_logs(folder, files=4, lines=15_000, seed=11)]
    local = summarize(paths)
    got: dict[str, object] = {}

    def run() -> None:
        try:
            got["report"] = summarize(paths, options=ReadOptions(engine="dask", scheduler=cluster))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            got["error"] = exc

    with distributed.Client(cluster, timeout=30) as client:
        pids = client.run(os.getpid)
        thread = threading.Thread(target=run)
        thread.start()
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            processing = client.processing().items()
            busy = [w for w, tasks in processing if any("read_part" in str(t) for t in tasks)]
            if busy:
                victim = busy[0]
                os.kill(pids[victim], signal.SIGKILL)
            else:
                time.sleep(0.02)
        thread.join(timeout=300)
    assert victim is not None, "no read task was seen running"
    assert "error" not in got, got.get("error")
    from mlmon.report.render import summary_json

    assert summary_json(got["report"], by=None) == summary_json(local, by=None)  # type: ignore[arg-type]
