"""write_output: atomic for regular files, written into for devices and FIFOs, errors are OutputError."""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from corpus import cli, error_line

from mlmon import outfile
from mlmon.errors import ExitCode, OutputError
from mlmon.outfile import write_output

SAMPLES = Path(__file__).resolve().parents[1] / "sample_logs"


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_umask_permissions(tmp_path: Path, mask: int, mode: int) -> None:
    old = os.umask(mask)
    try:
        write_output(str(tmp_path / "out.json"), "{}\n")
    finally:
        os.umask(old)
    st = (tmp_path / "out.json").stat()
    assert stat.S_IMODE(st.st_mode) == mode
    assert (tmp_path / "out.json").read_text() == "{}\n"
    assert _leftovers(tmp_path) == []


def test_replacing_a_regular_file_keeps_its_mode_and_leaves_no_temp(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "out.json"
    target.write_text("old content that is longer than the new one\n")
    target.chmod(0o640)
    old_inode = target.stat().st_ino
    write_output(str(target), b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != old_inode  # replaced by rename, not rewritten in place
    assert _leftovers(tmp_path) == []


def test_symlink_is_followed_to_its_target(tmp_path: Path, umask: None) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "base.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_output(str(link), "new\n")
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text() == "new\n"
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "real") == []


def test_dangling_symlink_creates_its_target(tmp_path: Path, umask: None) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    write_output(str(link), "x\n")
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "x\n"


def test_symlink_loop_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OutputError, match="a'"):
        write_output(str(tmp_path / "a"), "x")


def test_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read)
    reader.start()
    write_output(str(fifo), "through the pipe\n")
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert _leftovers(tmp_path) == []


def test_symlink_to_a_fifo_writes_into_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "out"
    link.symlink_to(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_output(str(link), b"abc")
    reader.join(timeout=10)
    assert got == [b"abc"] and link.is_symlink() and stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_null_stays_a_character_device() -> None:
    before = os.stat("/dev/null")
    write_output("/dev/null", "discarded\n")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_device_is_an_output_error() -> None:
    with pytest.raises(OutputError, match="No space left"):
        write_output("/dev/full", "x" * 10)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_directory_and_missing_folder_are_output_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="Is a directory"):
        write_output(str(tmp_path), "x")
    with pytest.raises(OutputError, match="No such file"):
        write_output(str(tmp_path / "nope" / "out.json"), "x")
    with pytest.raises(OutputError):
        write_output("", "x")


def test_failed_write_keeps_the_old_file_and_removes_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.json"
    target.write_text("precious\n")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outfile.os, "write", full)
    with pytest.raises(OutputError, match="No space left"):
        write_output(str(target), "new\n")
    assert target.read_text() == "precious\n"
    assert _leftovers(tmp_path) == []


def test_dash_is_stdout(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    write_output("-", "to stdout\n")
    assert capfdbinary.readouterr().out == b"to stdout\n"


# --- through the CLI ---------------------------------------------------------------------------


def test_baseline_to_dev_null_keeps_the_device(tmp_path: Path) -> None:
    before = os.stat("/dev/null")
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", "/dev/null"])
    assert result.exit_code == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_baseline_to_dev_full_exits_73() -> None:
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", "/dev/full"])
    assert result.exit_code == ExitCode.CANT_CREATE
    assert "No space left" in error_line(result)


def test_baseline_into_a_fifo_and_through_a_symlink(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", str(link)])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert got and got[0].startswith(b"{") and b'"format": "mlmon-baseline"' in got[0]
    assert stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink()


def test_baseline_to_stdout(tmp_path: Path) -> None:
    result = cli(["baseline", str(SAMPLES / "training.csv"), "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert '"format": "mlmon-baseline"' in result.stdout
    assert "wrote standard output" in result.stderr
