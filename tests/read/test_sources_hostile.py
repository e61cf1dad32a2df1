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


# --- encodings and line endings ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
@pytest.mark.parametrize("compress", [None, "gzip"])
def test_utf16_and_utf32_with_a_bom_are_decoded(tmp_path: Path, encoding: str, compress: str | None) -> None:
    import gzip
    import json

    text = b"".join(GOOD).decode()
    if encoding.endswith("-be"):
        data = "\ufeff".encode(encoding) + text.encode(encoding)  # BOM written explicitly
    else:
        data = text.encode(encoding)
    name = tmp_path / ("w.jsonl.gz" if compress else "w.jsonl")
    name.write_bytes(gzip.compress(data) if compress else data)
    result = cli(["summary", str(name), "-f", "json", "--strict"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(b"".join(GOOD))
    want = json.loads(cli(["summary", str(plain), "-f", "json"]).stdout)
    assert doc["input"]["records"] == len(GOOD) and doc["input"]["reasons"] == {}
    assert doc["latency_ms"] == want["latency_ms"]


def test_a_bad_utf16_sequence_costs_one_line(tmp_path: Path) -> None:
    import json

    lines = [line.decode().encode("utf-16-le") for line in GOOD]
    lines[3] = lines[3][:10] + b"\x00\xd8" + lines[3][10:]  # a lone high surrogate
    (tmp_path / "w.jsonl").write_bytes(b"\xff\xfe" + b"".join(lines))
    result = cli(["summary", str(tmp_path / "w.jsonl"), "-f", "json", "--max-bad-lines", "5"])
    doc = json.loads(result.stdout)
    assert doc["input"]["records"] == len(GOOD) - 1
    assert doc["input"]["reasons"] == {"bad_encoding": 1}
    assert "w.jsonl:4: bad_encoding:" in result.stderr
    assert doc["input"]["lines"] == len(GOOD)


def test_utf16_training_csv(tmp_path: Path) -> None:
    csv = (ROOT / "sample_logs" / "training.csv").read_text()
    (tmp_path / "t.csv").write_bytes(csv.encode("utf-16"))
    (tmp_path / "u.csv").write_text(csv)
    a = cli(["baseline", str(tmp_path / "t.csv"), "-o", str(tmp_path / "a.json")])
    b = cli(["baseline", str(tmp_path / "u.csv"), "-o", str(tmp_path / "b.json")])
    assert a.exit_code == b.exit_code == 0, a.stderr
    import json

    fa = json.loads((tmp_path / "a.json").read_text())["features"]
    fb = json.loads((tmp_path / "b.json").read_text())["features"]
    assert fa == fb


@pytest.mark.parametrize("name", ["cr.jsonl", "cr.csv"])
def test_cr_only_line_endings_are_line_breaks(tmp_path: Path, name: str) -> None:
    import json

    if name.endswith(".csv"):
        src = (ROOT / "sample_logs" / "features.csv").read_bytes()
        (tmp_path / "lf.csv").write_bytes(src)
    else:
        src = b"".join(GOOD)
        (tmp_path / "lf.jsonl").write_bytes(src)
    (tmp_path / name).write_bytes(src.replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    lf = tmp_path / ("lf.csv" if name.endswith(".csv") else "lf.jsonl")
    cmd = ["drift", "--reference", str(ROOT / "sample_logs" / "training.csv")] if name.endswith(".csv") \
        else ["summary"]
    got = json.loads(cli([*cmd, str(tmp_path / name), "-f", "json"]).stdout)
    want = json.loads(cli([*cmd, str(lf), "-f", "json"]).stdout)
    assert got["input"]["records"] == want["input"]["records"] > 0
    assert got["input"]["lines"] == want["input"]["lines"]


# --- compressed inputs: cut short, corrupt, bombs, large windows ------------------------------


def _compressed(kind: str, data: bytes) -> bytes:
    import bz2
    import gzip

    import zstandard

    return {"gz": gzip.compress, "bz2": bz2.compress,
            "zst": zstandard.ZstdCompressor().compress}[kind](data)


@pytest.mark.parametrize("kind", ["gz", "bz2", "zst"])
@pytest.mark.parametrize("cut", ["half", "magic"])
def test_a_compressed_file_with_no_readable_line_is_bad_data_not_empty(
    tmp_path: Path, kind: str, cut: str
) -> None:
    blob = _compressed(kind, b"".join(GOOD))
    magic = {"zst": 4, "gz": 2, "bz2": 3}[kind]
    blob = blob[: len(blob) // 2] if cut == "half" else blob[:magic]
    (tmp_path / f"x.jsonl.{kind}").write_bytes(blob)
    (tmp_path / "good.jsonl").write_bytes(b"".join(GOOD))
    bad = str(tmp_path / f"x.jsonl.{kind}")
    for args in ([bad], [bad, str(tmp_path / "good.jsonl")]):
        result = cli(["summary", *args])
        if kind == "gz" and cut == "half":  # gzip streams: the complete lines before the cut are read
            assert result.exit_code == 0 or "truncated" in result.stderr or "ends before" in result.stderr
            continue
        assert result.exit_code == ExitCode.DATA_ERROR, result.stderr
        line = error_line(result)
        assert f"x.jsonl.{kind}" in line and "empty" not in line
        assert "not one line could be read" in line


def test_a_bomb_stops_at_the_ratio_limit(tmp_path: Path) -> None:
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = b"".join(c.compress(b"\n" * (1 << 20)) for _ in range(48)) + c.flush()
    (tmp_path / "bomb.jsonl.gz").write_bytes(blob)
    result = cli(["summary", str(tmp_path / "bomb.jsonl.gz")])
    assert result.exit_code == ExitCode.DATA_ERROR
    assert "--max-decompression-ratio" in error_line(result)
    raised = cli(["summary", str(tmp_path / "bomb.jsonl.gz"), "--max-decompression-ratio", "100000"])
    assert "--max-decompression-ratio" not in raised.stderr  # now it is read (and holds no record)


def test_a_zstd_window_over_128_mib_names_the_option(tmp_path: Path) -> None:
    import zstandard

    params = zstandard.ZstdCompressionParameters(window_log=31, enable_ldm=True, write_content_size=False)
    streaming = zstandard.ZstdCompressor(compression_params=params).compressobj()  # declares its window
    (tmp_path / "w.jsonl.zst").write_bytes(streaming.compress(b"".join(GOOD)) + streaming.flush())
    (tmp_path / "good.jsonl").write_bytes(b"".join(GOOD))
    big = str(tmp_path / "w.jsonl.zst")
    for args in ([big], [big, str(tmp_path / "good.jsonl")]):
        result = cli(["summary", *args])
        assert result.exit_code == ExitCode.DATA_ERROR
        assert "--allow-large-window" in error_line(result)
    result = cli(["summary", str(tmp_path / "w.jsonl.zst"), "--allow-large-window", "-f", "json"])
    assert result.exit_code == 0 and '"records": 40' in result.stdout
