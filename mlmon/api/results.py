"""What every result of the library gives: its JSON document, a tidy pandas frame, and a notebook view."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def import_pandas() -> Any:
    """pandas, imported on first use (a program that never asks for a frame never loads it)."""
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is a dependency
        from mlmon.errors import OptionError

        raise OptionError(f"to_pandas() needs pandas, which cannot be imported: {exc}") from None
    return pandas


def tidy(rows: list[dict[str, Any]], first: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per item; nested objects flattened to dotted columns (`latency_ms.p99`), the
    `first` columns leading. Lists (class shares, a window's features) stay as Python lists."""
    pd = import_pandas()
    frame = pd.json_normalize(rows, sep=".") if rows else pd.DataFrame(columns=list(first))
    lead = [c for c in first if c in frame.columns]
    return frame[lead + [c for c in frame.columns if c not in lead]]


class Result:
    """The methods every result shares; a result defines `to_dict` and `_rows`."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON document, the one `mlmon COMMAND --format json` prints."""
        raise NotImplementedError

    def to_json(self) -> str:
        """The JSON document as text, byte for byte what `--format json` prints."""
        from mlmon.api.documents import dump

        return dump(self.to_dict())

    def _rows(self, doc: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """The tidy rows of the document, and the columns that lead."""
        raise NotImplementedError

    def to_pandas(self) -> pd.DataFrame:
        """A tidy frame: one row per group, feature, window or rule (see each result)."""
        rows, first = self._rows(self.to_dict())
        return tidy(rows, first)

    def _repr_html_(self) -> str:
        """The notebook view: the verdict, each alert, and the tidy frame. Every text from a log
        (a group's name, a feature's, a category) is escaped."""
        doc = self.to_dict()
        alerts = doc.get("alerts") or []
        head = f"mlmon {doc.get('command', '')}: {doc.get('records', '?')} records"
        verdict = "ALERT" if alerts else "OK"
        parts = [f"<p><b>{_e(verdict)}</b> {_e(head)}</p>"]
        if alerts:
            items = "".join(
                f"<li>{_e(str(a.get('severity', '')))}: {_e(str(a.get('message', '')))}</li>" for a in alerts
            )
            parts.append(f"<ul>{items}</ul>")
        try:
            frame = self.to_pandas()
        except Exception:  # noqa: BLE001  (a view must show something; the JSON is the fallback)
            parts.append(f"<pre>{_e(self.to_json())}</pre>")
        else:
            parts.append(frame.to_html(escape=True, max_rows=60, na_rep="", index=False))
        return '<div class="mlmon">' + "".join(parts) + "</div>"


def _e(text: str) -> str:
    """Text for HTML: escaped, and invisible or control characters shown as escapes."""
    from mlmon.escape import terminal

    return html.escape(terminal(text))
