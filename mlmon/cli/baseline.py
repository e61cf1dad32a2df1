"""`mlmon baseline`: profile training data into a baseline file."""

from __future__ import annotations

from typing import Annotated

import typer

from mlmon.cli.app import _handled, _stderr, app
from mlmon.cli.options import TimestampField
from mlmon.errors import OptionError


@app.command()
def baseline(
    training_data: Annotated[
        str, typer.Argument(help="Training data: CSV, Parquet or JSON lines (may be compressed).")
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help=(
                "Where to write the baseline JSON; - for stdout. A regular file is replaced "
                "atomically; a device or FIFO is written into; a symlink is followed."
            ),
        ),
    ],
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            help="Columns that are not features (repeatable); the timestamp field is always left out."
        ),
    ] = None,
    timestamp_field: TimestampField = "timestamp",
    grid: Annotated[
        int, typer.Option(help="Quantile edges kept per numeric feature (more = finer KS).")
    ] = 1001,
) -> None:
    """Profile training data into a baseline file for `mlmon drift --baseline`.

    Per numeric feature: n, mean, std, min, max and a quantile grid; per categorical
    feature (text, booleans): category counts. Versioned JSON with a checksum, never pickle.
    """
    with _handled():
        from mlmon.api import load_training
        from mlmon.report.render import safe
        from mlmon.stats.baseline import save
        from mlmon.stats.baseline_schema import MAX_EDGES

        if not 11 <= grid <= MAX_EDGES:
            raise OptionError(f"--grid must be from 11 to {MAX_EDGES}")
        b = load_training(training_data, exclude={timestamp_field, *(exclude or [])}, max_edges=grid)
        save(b, output)
        where = "standard output" if output == "-" else safe(output)
        _stderr().print(
            f"mlmon: wrote {where}: {len(b.features)} features from {b.rows} rows "
            f"({sum(1 for f in b.features if f.numeric)} numeric, "
            f"{sum(1 for f in b.features if f.categorical)} categorical)",
            markup=False,
            highlight=False,
        )
