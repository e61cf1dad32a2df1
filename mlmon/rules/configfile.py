"""Checks on a config file before tomllib parses it: who may write it, its size, nesting and keys."""

from __future__ import annotations

import os
import re
import stat

from mlmon.errors import ConfigError

MAX_BYTES = 1 << 20
"""Largest config file read, 1 MiB (a thousand rules take about 60 KB)."""
MAX_DEPTH = 100
"""Deepest nesting of arrays and inline tables (`x = [[[...]]]`); Python's parser recurses."""
MAX_KEY_PARTS = 32
"""Most parts of one dotted key or table name (`a.b.c`); the parser's cost grows with their square."""

TRUST_ENV = "MLMON_TRUST_CONFIG"
"""Set to 1 to read a config file that another user owns or may write (a shared CI checkout)."""

_TOKEN = re.compile(
    r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}.,=\n]',
    re.S,
)


def check_shape(text: str, path: str) -> None:
    """ConfigError when the TOML nests deeper than MAX_DEPTH or a key has more than MAX_KEY_PARTS
    parts: found by a linear scan, so a hostile file is refused at once instead of exhausting
    the parser's stack, time or memory. Strings and comments are skipped; syntax is left to tomllib."""
    stack: list[str] = []  # "[" array, "{" inline table, "h" table header
    depth = 0
    key, parts = True, 1
    line = 1
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
            if not stack:
                key, parts = True, 1
        elif tok[0] in "\"'":
            line += tok.count("\n")
        elif tok == "=":
            key = False
        elif tok == ".":
            if key:
                parts += 1
                if parts > MAX_KEY_PARTS:
                    raise ConfigError(
                        f"{path}:{line}: a key of more than {MAX_KEY_PARTS} dotted parts; not a config file"
                    )
        elif tok == "[":
            if key and (not stack or stack[-1] == "h"):
                stack.append("h")  # [table] or [[array.of.tables]]
                continue
            stack.append("[")
            depth += 1
        elif tok == "{":
            stack.append("{")
            depth += 1
            key, parts = True, 1
        elif tok in "]}":
            if stack:
                if stack.pop() != "h":
                    depth -= 1
            key = bool(stack) and stack[-1] == "h"
        elif tok == ",":
            if stack and stack[-1] == "{":
                key, parts = True, 1
        if depth > MAX_DEPTH:
            raise ConfigError(
                f"{path}:{line}: arrays or tables nested more than {MAX_DEPTH} deep; not a config file"
            )


def check_trust(path: str, fd: int) -> None:
    """ConfigError (78) when the open file is owned by another user than the one running mlmon
    (root's own files are trusted too), or when its group or others may write it: such a file
    could point outputs and notifications anywhere, as ssh refuses such an authorized_keys. A
    file in a folder others may write (without the sticky bit /tmp has) is refused too: they
    could replace it. MLMON_TRUST_CONFIG=1 reads it anyway."""
    if os.environ.get(TRUST_ENV, "").strip() in ("1", "yes", "true"):
        return
    st = os.fstat(fd)
    uid = os.geteuid()
    if st.st_uid not in (uid, 0):
        raise ConfigError(
            f"{path}: owned by another user (uid {st.st_uid}), not by the one running mlmon "
            f"(uid {uid}); refusing to use it (set {TRUST_ENV}=1 to trust it)"
        )
    if stat.S_ISREG(st.st_mode) and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "others" if st.st_mode & stat.S_IWOTH else "its group"
        raise ConfigError(
            f"{path}: {who} may write it (mode {stat.S_IMODE(st.st_mode):o}); refusing to use it "
            f"(chmod go-w {path}, or set {TRUST_ENV}=1 to trust it)"
        )
    if not stat.S_ISREG(st.st_mode):
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fst = os.stat(folder)
    except OSError:
        return
    # anyone may replace a file in a folder others may write, unless the sticky bit (/tmp) stops it
    if fst.st_mode & stat.S_IWOTH and not fst.st_mode & stat.S_ISVTX:
        raise ConfigError(
            f"{path}: its folder {folder} may be written by others (mode "
            f"{stat.S_IMODE(fst.st_mode):o}), who could replace the file; refusing to use it "
            f"(chmod o-w {folder}, or set {TRUST_ENV}=1 to trust it)"
        )
