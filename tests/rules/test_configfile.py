"""A config file checked before tomllib reads it (mlmon/rules/configfile.py), called directly:
nesting and dotted keys counted at their limits (strings and comments skipped), and who may
write the file or its folder."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from mlmon.errors import ConfigError, ExitCode
from mlmon.rules import configfile
from mlmon.rules.configfile import MAX_DEPTH, MAX_KEY_PARTS, TRUST_ENV, check_shape, check_trust


def _refused(text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        check_shape(text, "c.toml")
    assert exc.value.exit_code == ExitCode.CONFIG
    return str(exc.value)


def test_the_limits() -> None:
    assert (MAX_DEPTH, MAX_KEY_PARTS, configfile.MAX_BYTES) == (100, 32, 1 << 20)


@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ("{a=", "}")])
def test_nesting_at_the_limit_passes_and_one_more_is_refused(open_: str, close: str) -> None:
    ok = "x = " + open_ * MAX_DEPTH + "1" + close * MAX_DEPTH + "\n"
    check_shape(ok, "c.toml")
    assert tomllib.loads(ok)  # the parser takes what the scan let through
    deep = "a = 1\n\nx = " + open_ * (MAX_DEPTH + 1) + "1" + close * (MAX_DEPTH + 1) + "\n"
    assert _refused(deep) == "c.toml:3: arrays or tables nested more than 100 deep; not a config file"


def test_closing_brackets_bring_the_depth_back() -> None:
    # many shallow arrays in a row never add up to a deep one
    check_shape("x = [" + "[1]," * (MAX_DEPTH + 5) + "]\n", "c.toml")
    check_shape("x = [" + "{a=[1]}," * (MAX_DEPTH + 5) + "]\n", "c.toml")
    check_shape("[t]\n" * (MAX_DEPTH + 5) + "[[r]]\n" * (MAX_DEPTH + 5), "c.toml")


def test_table_headers_are_not_nesting() -> None:
    text = "".join(f"[[rules]]\nmetric = 'records'\nwarning = [{i}]\n" for i in range(MAX_DEPTH + 5))
    check_shape(text, "c.toml")


def test_a_dotted_key_at_the_limit_passes_and_one_more_part_is_refused() -> None:
    ok = ".".join(["k"] * MAX_KEY_PARTS) + " = 1\n"
    check_shape(ok, "c.toml")
    bad = "a = 1\n" + ".".join(["k"] * (MAX_KEY_PARTS + 1)) + " = 1\n"
    assert _refused(bad) == "c.toml:2: a key of more than 32 dotted parts; not a config file"
    header = "[" + ".".join(["t"] * (MAX_KEY_PARTS + 1)) + "]\n"
    assert "a key of more than 32 dotted parts" in _refused(header)


def test_dots_in_values_and_each_new_line_start_the_count_again() -> None:
    # a value's dots (a float, a date) are not key parts; each line's key is counted on its own
    lines = "".join(".".join(["k"] * (MAX_KEY_PARTS - 1)) + f"{i} = 1.5\n" for i in range(3))
    check_shape(lines + "v = " + "1." * 0 + "2.5\n", "c.toml")
    check_shape(
        "x = {" + ", ".join(".".join(["k"] * MAX_KEY_PARTS) + f"{i} = 1" for i in range(3)) + "}\n", "c.toml"
    )
    inline = "x = {" + ".".join(["k"] * (MAX_KEY_PARTS + 1)) + " = 1}\n"
    assert "dotted parts" in _refused(inline)
    in_array = "x = [{" + ", ".join(".".join(["k"] * MAX_KEY_PARTS) + f"{i} = 1" for i in range(3)) + "}]\n"
    check_shape(in_array, "c.toml")


def test_keys_after_an_array_value_in_a_table() -> None:
    text = "[t]\nx = [1, 2]\n" + ".".join(["k"] * MAX_KEY_PARTS) + " = 1\n"
    check_shape(text, "c.toml")


def test_line_numbers_count_newlines_inside_strings() -> None:
    text = (
        "a = \"\"\"\nx\ny\n\"\"\"\nb = '''\nz\n'''\n" + "x = " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    )
    assert _refused(text).startswith("c.toml:8: ")


def test_strings_and_comments_hide_their_brackets_and_dots() -> None:
    text = (
        "# "
        + "[" * 300
        + "a." * 300
        + "\n"
        + 'a = "'
        + "[" * 300
        + '"\n'
        + "b = '"
        + "{" * 300
        + "'\n"
        + 'c = """'
        + "[" * 300
        + '\\"""'
        + '"""\n'
        + "d = '''"
        + "a." * 300
        + "'''\n"
    )
    check_shape(text, "c.toml")


def _file(tmp_path: Path, mode: int = 0o600, folder_mode: int = 0o700) -> tuple[str, int]:
    d = tmp_path / "cfg"
    d.mkdir()
    p = d / "mlmon.toml"
    p.write_text("")
    p.chmod(mode)
    d.chmod(folder_mode)
    return str(p), os.open(p, os.O_RDONLY)


def _trust_error(path: str, fd: int) -> str:
    try:
        with pytest.raises(ConfigError) as exc:
            check_trust(path, fd)
    finally:
        os.close(fd)
    assert exc.value.exit_code == ExitCode.CONFIG
    return str(exc.value)


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRUST_ENV, raising=False)


def test_an_own_file_in_an_own_folder_is_read(tmp_path: Path) -> None:
    path, fd = _file(tmp_path, 0o644, 0o755)
    check_trust(path, fd)
    os.close(fd)


@pytest.mark.parametrize(("mode", "who"), [(0o620, "its group"), (0o602, "others"), (0o622, "others")])
def test_a_file_others_may_write_is_refused(tmp_path: Path, mode: int, who: str) -> None:
    path, fd = _file(tmp_path, mode)
    assert _trust_error(path, fd) == (
        f"{path}: {who} may write it (mode {mode:o}); refusing to use it "
        f"(chmod go-w {path}, or set MLMON_TRUST_CONFIG=1 to trust it)"
    )


def test_a_folder_others_may_write_is_refused_unless_sticky(tmp_path: Path) -> None:
    path, fd = _file(tmp_path, 0o600, 0o777)
    folder = os.path.dirname(path)
    assert _trust_error(path, fd) == (
        f"{path}: its folder {folder} may be written by others (mode 777), who could replace the file; "
        f"refusing to use it (chmod o-w {folder}, or set MLMON_TRUST_CONFIG=1 to trust it)"
    )
    os.chmod(folder, 0o1777)  # /tmp's sticky bit: others cannot replace it
    fd = os.open(path, os.O_RDONLY)
    check_trust(path, fd)
    os.close(fd)
    os.chmod(folder, 0o770)  # the group may write the folder: that is the owner's choice
    fd = os.open(path, os.O_RDONLY)
    check_trust(path, fd)
    os.close(fd)


def test_a_relative_path_checks_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, fd = _file(tmp_path, 0o600, 0o777)
    os.close(fd)
    monkeypatch.chdir(os.path.dirname(path))
    fd = os.open("mlmon.toml", os.O_RDONLY)
    assert "its folder " + os.path.dirname(path) + " may be written by others" in _trust_error(
        "mlmon.toml", fd
    )


@pytest.mark.parametrize("value", ["1", "yes", "true", " 1 "])
def test_trusting_reads_it_anyway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TRUST_ENV, value)
    path, fd = _file(tmp_path, 0o666, 0o777)
    check_trust(path, fd)
    os.close(fd)


@pytest.mark.parametrize("value", ["0", "", "no", "TRUE2"])
def test_other_values_do_not_trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TRUST_ENV, value)
    path, fd = _file(tmp_path, 0o666)
    assert "others may write it" in _trust_error(path, fd)


def test_a_file_owned_by_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, fd = _file(tmp_path)
    me = os.geteuid()
    if me != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(path, 4321, -1)
    assert _trust_error(path, fd) == (
        f"{path}: owned by another user (uid 4321), not by the one running mlmon (uid 0); "
        "refusing to use it (set MLMON_TRUST_CONFIG=1 to trust it)"
    )


def test_a_file_root_owns_is_trusted_by_every_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, fd = _file(tmp_path)
    if os.fstat(fd).st_uid != 0:
        os.close(fd)
        pytest.skip("needs a file root owns")
    monkeypatch.setattr(os, "geteuid", lambda: 4321)
    check_trust(path, fd)
    os.close(fd)


def test_a_fifo_or_device_is_not_judged_by_its_mode(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o666)
    os.chmod(fifo, 0o666)
    tmp_path.chmod(0o777)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    check_trust(str(fifo), fd)  # not a regular file: its reading is bounded elsewhere
    os.close(fd)


def test_table_headers_before_deep_nesting_do_not_lower_its_depth() -> None:
    text = "[t]\na = 1\n[[r]]\nb = 1\n[u.v]\n" + "x = " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    assert "nested more than 100 deep" in _refused(text)


def test_a_closed_bracket_lowers_the_depth_by_one() -> None:
    # 100 open, one closed, two more opened: 101 deep
    text = "x = " + "[" * MAX_DEPTH + "]" + "[" * 2 + "\n"
    assert "nested more than 100 deep" in _refused(text)
    check_shape("x = " + "[" * MAX_DEPTH + "]" + "[" + "]" * MAX_DEPTH + "\n", "c.toml")


def test_each_key_of_an_inline_table_is_counted_on_its_own() -> None:
    long = ".".join(["k"] * (MAX_KEY_PARTS + 1))
    assert "dotted parts" in _refused("x = {a = 1, " + long + " = 1}\n")
    assert "dotted parts" in _refused("x = {a = [1, 2], " + long + " = 1}\n")


def test_dots_of_numbers_in_arrays_are_no_key_parts() -> None:
    floats = ", ".join(["1.5"] * (MAX_KEY_PARTS + 5))
    check_shape("x = [" + floats + "]\n", "c.toml")
    check_shape("x = [[1], " + floats + "]\n", "c.toml")
    check_shape("x = [{a = 1}, " + floats + "]\n", "c.toml")
    check_shape("x = {a = [1.5, 2.5], b = 3}\n" + "y = [" + floats + "]\n", "c.toml")


def test_a_comma_outside_any_bracket_is_left_to_the_parser() -> None:
    check_shape("a, b = 1\nc = 2, 3\n", "c.toml")  # not TOML: tomllib says so, the scan does not fail
