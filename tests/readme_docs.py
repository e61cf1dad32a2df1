"""The README and the docs/ pages it links to, as one text for the tests that hold them to the code."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PAGES = {p.name: p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))}
# the pages in the order the README's contents list them, then the README (whose quickstart repeats
# commands the pages explain: a test that takes the first block naming a command gets the page's)
ORDER = ["reading.md", "commands.md", "cron.md", "ci.md", "output.md", "bad-input.md", "internals.md",
         "performance.md"]
DOCS = "\n".join([*(PAGES[n] for n in ORDER if n in PAGES),
                  *(t for n, t in PAGES.items() if n not in ORDER), README])
