"""One corpus of hostile strings, shared by every test of an output's escaper: what a log line can
put in a model version, a feature name, a status or a rule name."""

from __future__ import annotations

import re

HOSTILE: tuple[str, ...] = (
    "plain",
    "nul\x00byte",
    "bell\x07and\x08backspace",
    "esc\x1b[2J\x1b[Hclear",  # clear the screen
    "title\x1b]0;owned\x07",  # set the terminal title
    "link\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hidden link
    "csi\x9b31mred",  # C1 CSI, one byte
    "c1\x85next\x8dline",
    "del\x7fchar",
    "bidi drift.evil\u202egnp.exe",  # shows as drift.evilexe.png
    "lre\u202ax\u202by\u202cz\u202dw",
    "iso\u2066a\u2067b\u2068c\u2069",
    "zw\u200bsp\u200cnj\u200dj\u2060wj\ufeffbom",
    "tag\U000e0041\U000e0042\U000e007f",
    "lone\ud800surrogate",
    "cr\rlf\nline",
    "crlf\r\nBcc: all@example.com",
    "line\u2028sep\u2029para",
    "quotes\"'`",
    "cdata]]>end",
    "pipe|cell|",
    "<!channel> ping",
    "<https://evil.example|click here>",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2-2",
    "@SUM(1)",
    "amp&lt;",
    "markdown **bold** [x](https://evil.example) # h",
    "<script>alert(1)</script>",
    "back\\slash\\n",
)

VISIBLE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)
"""A character none of mlmon's outputs may hold raw (LF aside, which formats use themselves)."""


def raw_unsafe(text: str) -> list[str]:
    """The characters of `text` that must never reach an output raw."""
    return sorted({f"U+{ord(c):04X}" for c in VISIBLE.findall(text)})
