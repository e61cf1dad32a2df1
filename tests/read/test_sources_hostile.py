"""Hostile inputs to the source layer: links, loops, spellings, unreadable folders, encodings."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from corpus import cli, error_line

from mlmon.errors import ExitCode, NoInputError
from mlmon.read.sources import expand

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "sample_logs" / "predictions.jsonl").read_bytes().splitlines(keepends=True)[:40]


def test_a_hard_link_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(b"".join(GOOD))
    os.link(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    assert [s.path for s in expand([str(tmp_path)])] == [str(tmp_path / "a.jsonl")]
    assert len(expand([str(tmp_path / "b.jsonl"), str(tmp_path / "a.jsonl")])) == 1
    result = cli(["summary", str(tmp_path), "-f", "json"])
    assert result.exit_code == 0 and '"records": 40' in result.stdout


def test_order_and_names_do_not_depend_on_spelling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "fs").mkdir()
    (tmp_path / "in" / "ties.jsonl").write_bytes(b"".join(GOOD[:20]))
    (tmp_path / "fs" / "b.jsonl").write_bytes(b"".join(GOOD[20:]))
    spellings = [["in/ties.jsonl", "fs/b.jsonl"], ["./in/ties.jsonl", "fs/b.jsonl"],
                 ["fs//b.jsonl", "in/../in/ties.jsonl"], [str(tmp_path / "in/ties.jsonl"), "./fs/b.jsonl"]]
    orders = {tuple(os.path.abspath(s.path) for s in expand(sp)) for sp in spellings}
    assert len(orders) == 1
    outs = {cli(["drift", *sp, "--reference", str(ROOT / "sample_logs" / "training.csv"), "-f", "json",
                 "--window-rows", "25"]).stdout.replace(str(tmp_path) + "/", "")
            for sp in spellings[:3]}
    assert len(outs) == 1


def test_a_glob_through_a_symlink_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.jsonl").write_bytes(b"".join(GOOD))
    (tmp_path / "sub" / "up").symlink_to("..")
    (tmp_path / "sub" / "self").symlink_to(".")
    got: list[list[str]] = []
    worker = threading.Thread(target=lambda: got.append([s.path for s in expand([f"{tmp_path}/**/*.jsonl"])]))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the glob did not finish"
    assert got == [[str(tmp_path / "sub" / "x.jsonl")]]


def test_glob_with_double_star_matches_as_glob_does(tmp_path: Path) -> None:
    import glob

    for name in ("a.jsonl", "d/b.jsonl", "d/e/c.jsonl", "d/.h/x.jsonl", ".hid/y.jsonl", "d/z.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"{}\n")
    for pattern in ("**/*.jsonl", "d/**/*.jsonl", "**/c.jsonl", "d/**", "*/e/*.jsonl"):
        want = sorted(p for p in glob.glob(f"{tmp_path}/{pattern}", recursive=True) if os.path.isfile(p))
        assert [s.path for s in expand([f"{tmp_path}/{pattern}"])] == want, pattern


def test_an_unreadable_subfolder_is_no_input_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.jsonl").write_bytes(b"".join(GOOD))
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(NoInputError, match="cannot read folder .*locked.*Permission denied"):
        expand([str(tmp_path)])
    with pytest.raises(NoInputError, match="locked.*Permission denied"):
        expand([str(tmp_path / "locked")])
    result = cli(["summary", str(tmp_path)])
    assert result.exit_code == ExitCode.NO_INPUT and "locked" in error_line(result)
