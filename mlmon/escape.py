"""Escapers for log text, one per output format (terminal, XML, Markdown, CSV, Prometheus labels,
Slack mrkdwn, email): standard library only, so the error boundary can use them when nothing else
can be imported."""

from __future__ import annotations

import re

_INVISIBLE = (
    "\x00-\x1f\x7f-\xa0"  # C0, DEL, C1 (\x9b is a one-byte CSI), no-break space
    "\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"  # soft hyphen, joiners, fillers
    "\u2000-\u200f\u2028-\u202f\u205f-\u206f"  # odd spaces, zero-width, LRM/RLM, line separators,
    # bidi embeddings and overrides (U+202A-202E), invisible operators, isolates (U+2066-2069)
    "\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"  # variation selectors, BOM, annotations
    "\ud800-\udfff"  # lone surrogates (from surrogateescape or JSON "\ud800")
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef"  # tag characters
)
_UNSAFE = re.compile(f"[{_INVISIBLE}]")


def _esc(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c < 0x100:
        return f"\\x{c:02x}"
    return f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"


def terminal(text: str) -> str:
    """Visible escapes (`\\x1b`, `\\u202e`, `\\U000e0041`) for everything that could drive a
    terminal or hide what a text says: C0, DEL and C1 controls, bidi controls, zero-width and
    other invisible characters, tag characters and lone surrogates. Printable text is kept."""
    return _UNSAFE.sub(_esc, text)


def one_line(text: str) -> str:
    """`terminal`, with runs of whitespace made one space (for a status line or a header)."""
    return " ".join(terminal(" ".join(text.split())).split())


def xml_text(text: str) -> str:
    """Text for an XML attribute or element (the XML library escapes `<`, `&` and quotes):
    invisible characters as visible escapes, so the characters XML 1.0 forbids (most C0
    controls, lone surrogates, U+FFFE) never reach the file."""
    return terminal(text).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~!])")


def markdown(text: str) -> str:
    """Text in GitHub-flavoured Markdown (a table cell, a heading): invisible characters as
    visible escapes, `&` as an entity, and each character that can start markup or end a cell
    (`\\ ` * _ [ ] < > | ~ !`) backslash-escaped; a line break cannot end the row."""
    return _MD_SPECIAL.sub(r"\\\1", terminal(text).replace("&", "&amp;"))


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs: one that begins with a formula
    character (`= + - @`, tab, CR) gets a leading `'`; invisible characters are escaped. The
    csv module adds the quoting."""
    text = terminal(text)
    return "'" + text if text.startswith(_FORMULA) else text


def prom_label(text: str) -> str:
    """A Prometheus label value: invisible characters and controls (CR, ESC, bidi) as visible
    escapes; prometheus_client then escapes backslash, double quote and line feed as the
    exposition format says."""
    return terminal(text)


def mrkdwn(text: str) -> str:
    """Slack mrkdwn: `&`, `<` and `>` escaped as Slack asks, so `<!channel>` cannot ping and
    `<https://x|click>` cannot disguise a link; invisible characters as visible escapes."""
    return terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header(text: str, limit: int = 200) -> str:
    """An email header value: one line (a line break would start a new header), escaped, cut."""
    return one_line(text)[:limit]


def unknown_line(message: str) -> str:
    """The monitoring-plugin status line for any error of the tool (exit 3)."""
    return f"MLMON UNKNOWN - {one_line(message).replace('|', '/')}\n"
