"""The HTML report's drift: a table of every feature's verdict and effect, and their distributions."""

from __future__ import annotations

from typing import Any

from mlmon.numfmt import number, p_value
from mlmon.report.html_page import esc, num_cell, table


def effect(f: dict[str, Any]) -> str:
    if f["effect_size"] is None:
        return "no effect (" + str(f["status"]).replace("_", " ") + ")"
    return (f"{f['effect_measure']} {number(f['effect_size'], 3)} (95% bounds {number(f['effect_low'], 3)}"
            f" - {number(f['effect_high'], 3)})")


def drift(doc: dict[str, Any], plots: Any) -> str:
    from mlmon.report import plots as pl

    d = doc.get("drift")
    if d is None:
        return ('<h2 id="drift">Drift</h2><p class="note">No baseline given (--baseline or --reference): '
                "drift not checked.</p>")
    feats = sorted(d["features"], key=lambda f: (f["effect_size"] is None, -(f["effect_size"] or 0.0)))
    rows = drift_rows(feats)
    parts = [
        '<h2 id="drift">Drift per feature</h2>',
        f'<p class="note">Against the baseline {esc(d["baseline"]["source"])} '
        f'({d["baseline"]["rows"]:,} rows); '
        f'{len(d["drifted"])} of {len(feats)} features drifted. Sorted by effect.</p>',
        table(["feature", "kind", "verdict", "effect", "low 95%", "high 95%", "adjusted p", "PSI", "n"],
               rows),
    ]
    dists = {x["name"]: x for x in doc.get("distributions", ())}
    t = doc.get("trend")
    over_time = doc.get("every_given") and t is not None and any(w.get("features") for w in t["windows"])
    for f in feats:
        parts.append(f'<h3 id="feature-{esc(f["name"])}">{esc(f["name"])}'
                     f'{" <span class=drifted>(drift)</span>" if f["drift"] else ""}</h3>'
                     f'<p class="note">{esc(effect(f))}</p><div class="plots">')
        x = dists.get(f["name"])
        if x is not None and x["kind"] == "numeric" and x["x"]:
            parts.append(f"<figure>{pl.numeric_distribution(plots, x, effect(f))}</figure>")
        elif x is not None and x["kind"] == "categorical" and x["shares"]:
            parts.append(f"<figure>{pl.categorical_distribution(plots, x, effect(f))}</figure>")
        if over_time and t is not None:
            parts.append(f"<figure>{pl.feature_over_time(plots, f['name'], t['windows'], t['every'])}"
                         "</figure>")
        parts.append("</div>")
    return "".join(parts)


def drift_rows(rows_in: list[dict[str, Any]]) -> list[str]:
    rows = []
    for f in rows_in:
        n = f["name"]
        rows.append(
            f'<tr><td class="t{" drifted" if f["drift"] else ""}">{esc(n)}</td><td class="t">{esc(f["kind"])}'
            f'</td><td class="t">{"drift" if f["drift"] else "-"}</td>'
            + num_cell("effect_size", f["effect_size"], number(f["effect_size"], 3), n)
            + num_cell("effect_low", f["effect_low"], number(f["effect_low"], 3), n)
            + num_cell("effect_high", f["effect_high"], number(f["effect_high"], 3), n)
            + num_cell("p_value_adjusted", f["p_value_adjusted"], p_value(f["p_value_adjusted"]), n)
            + num_cell("psi", f["psi"], number(f["psi"], 3), n)
            + num_cell("n", f["n"], f"{f['n']:,}", n)
            + "</tr>"
        )
    return rows


DRIFT_HEAD = ["name", "kind", "verdict", "effect", "low 95%", "high 95%", "adjusted p", "PSI", "n"]


def predictions_drift(doc: dict[str, Any], plots: Any) -> str:
    """The predictions against the baseline's (when it profiled them): the drift rows and both
    distributions of each."""
    from mlmon.report import plots as pl

    preds = (doc.get("drift") or {}).get("predictions") or []
    if not preds:
        return ""
    dists = {x["name"]: x for x in doc.get("distributions", ())}
    parts = ['<h3 id="predictions-baseline">Predictions against the baseline</h3>',
             table(DRIFT_HEAD, drift_rows(preds), "The model's outputs tested as features are.")]
    parts.append('<div class="plots">')
    for f in preds:
        x = dists.get(f["name"])
        if x is not None and x["kind"] == "numeric" and x["x"]:
            parts.append(f"<figure>{pl.numeric_distribution(plots, x, effect(f))}</figure>")
        elif x is not None and x["kind"] == "categorical" and x["shares"]:
            parts.append(f"<figure>{pl.categorical_distribution(plots, x, effect(f))}</figure>")
    parts.append("</div>")
    return "".join(parts)
