"""The README and docs/report.md show PNG screenshots of the report and of watch: each picture they
link is in the repository, a real PNG with content, and made by docs/make_screenshots.py."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pictures(page: Path) -> list[Path]:
    return [(page.parent / p).resolve() for p in re.findall(r"\]\(([^)\s]+\.png)\)", page.read_text())]


def test_readme_and_docs_show_report_and_watch_pictures() -> None:
    image = pytest.importorskip("PIL.Image")
    readme = _pictures(ROOT / "README.md")
    docs = _pictures(ROOT / "docs" / "report.md")
    names = {p.name for p in readme}
    assert any(n.startswith("report") for n in names) and "watch.png" in names  # the README shows both
    made = (ROOT / "docs" / "make_screenshots.py").read_text()
    for png in {*readme, *docs}:
        assert png.is_file(), png
        assert png.parent == ROOT / "docs" / "img"
        assert f"'{png.name}'" in made or f'"{png.name}"' in made, f"{png.name} is not made by the script"
        with image.open(png) as im:
            assert im.format == "PNG"
            px = np.asarray(im.convert("L"), dtype=np.float64)
        assert px.shape[1] >= 380 and px.shape[0] >= 200
        # text and plots on a background (white for the report, dark for the terminal): not blank
        background = np.bincount(px.astype(np.int64).ravel()).argmax()
        ink = (np.abs(px - background) > 60).mean()
        assert px.std() > 20 and 0.01 < ink < 0.6, (png.name, ink)
    # the report's pictures are as wide as the browser windows the tests use
    widths = {}
    for png in {*readme, *docs}:
        with image.open(png) as im:
            widths[png.name] = im.size[0]
    assert widths.get("report-top.png", 1280) == 1280 and widths.get("report-phone.png", 390) == 390
