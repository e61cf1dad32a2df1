"""The escapers log text goes through, checked on every code point of each class they promise to
escape (C0, DEL, C1 with the 8-bit CSI U+009B, bidi controls, invisible and odd spaces), on the
characters they must leave alone, and end to end: a model version holding each C1 control never
reaches the terminal table raw."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import cli, dumps, join, record

from mlmon.report.csvout import guard
from mlmon.report.markdown import md
from mlmon.report.render import safe

C0 = list(range(0x00, 0x20))
DEL = [0x7F]
C1 = list(range(0x80, 0xA0))
BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
INVISIBLE = [0x00A0, 0x00AD, 0x180E, *range(0x200B, 0x200E), 0x2060, 0xFEFF, *range(0xFFF9, 0xFFFC)]
SPACES = [*range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000]
SEPARATORS = [0x2028, 0x2029]
CLASSES = {
    "C0": C0, "DEL": DEL, "C1": C1, "bidi": BIDI, "invisible": INVISIBLE, "spaces": SPACES,
    "separators": SEPARATORS,
}
ESCAPED = sorted({c for cs in CLASSES.values() for c in cs})


def _escape(c: int) -> str:
    """What the README promises a control becomes: `\\xNN` below U+0100, `\\uNNNN` above."""
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


@pytest.mark.parametrize("name", list(CLASSES))
def test_every_code_point_of_each_class_is_escaped(name: str) -> None:
    for c in CLASSES[name]:
        ch = chr(c)
        assert safe(ch) == _escape(c), (name, hex(c))
        # anywhere in a string, every time it occurs, and the text around it kept
        assert safe(f"a{ch}b{ch}{ch}c") == f"a{_escape(c)}b{_escape(c)}{_escape(c)}c", (name, hex(c))


def test_the_8bit_csi_cannot_start_an_escape_sequence() -> None:
    # U+009B is CSI on terminals that honour C1 controls: "\x9b2J" clears the screen
    out = safe("model\x9b2J\x9b31mred\x9d0;title\x9c")
    assert out == "model\\x9b2J\\x9b31mred\\x9d0;title\\x9c"
    assert not any(0x80 <= ord(ch) < 0xA0 for ch in out)


def test_visible_text_is_left_alone() -> None:
    kept = [chr(c) for c in range(0x20, 0x7F)]
    kept += [chr(c) for c in range(0xA1, 0x100) if c != 0xAD]
    kept += list("ЖжΩλ中文日本語한국어עבריתالعربية😀é") + ["e\u0301"]  # RTL letters are not controls
    for ch in kept:
        assert safe(ch) == ch, hex(ord(ch[0]))
    text = "".join(kept)
    assert safe(text) == text


def test_output_holds_no_code_point_it_promised_to_escape() -> None:
    every = "".join(chr(c) for c in ESCAPED)
    for out in (safe(every), md(every), guard(every)):
        assert not set(out) & set(every)


def test_markdown_and_csv_escape_controls_too() -> None:
    for c in ESCAPED:
        assert _escape(c).replace("\\", "\\\\") == md(chr(c)), hex(c)
        assert guard(chr(c)) == _escape(c), hex(c)
    assert md("`x`|*y*") == "\\`x\\`\\|\\*y\\*"
    assert guard("=1+1") == "'=1+1" and guard("\t=1") == "\\x09=1"


def test_a_c1_control_in_a_model_version_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    versions = [f"v{chr(c)}1" for c in C1]
    log = tmp_path / "log.jsonl"
    log.write_bytes(join(dumps(record(i, model_version=versions[i % len(versions)])) for i in range(320)))
    r = cli(["summary", str(log)])
    assert r.exit_code == 0, r.stdout + r.stderr
    raw = [c for c in C1 if chr(c) in r.stdout + r.stderr]
    assert raw == []
    # each version is still told apart, by its escape
    for c in C1:
        assert f"v{_escape(c)}1" in r.stdout, hex(c)


def test_each_format_escaper_word_for_word() -> None:
    from mlmon import escape

    # beyond U+FFFF: eight hex digits (a tag character spells hidden text)
    assert escape.terminal("a\U000e0041b") == "a\\U000e0041b"
    # one line: every run of whitespace one space, then controls escaped
    assert escape.one_line("  a \n\t b\x1b  c\r\n") == "a b\\x1b c"
    assert escape.header("x\ny" + "z" * 300) == ("x y" + "z" * 300)[:200]
    assert len(escape.header("z" * 201)) == 200 and escape.header("z" * 300, 10) == "z" * 10
    # Markdown: & as an entity, markup characters backslashed
    assert escape.markdown("a & <b>") == "a &amp; \\<b\\>"
    # Slack: & < > as Slack asks, so <!channel> cannot ping
    assert escape.mrkdwn("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
    # XML 1.0 forbids U+FFFE and U+FFFF: written as visible escapes
    assert escape.xml_text("a\ufffeb\uffffc\x1b") == "a\\ufffeb\\uffffc\\x1b"
    assert escape.prom_label('v"1\x1b\u202e') == 'v"1\\x1b\\u202e'
    assert escape.unknown_line("bad | thing\nhere") == "MLMON UNKNOWN - bad / thing here\n"
