"""Every field of a baseline file written, read back and checked against numbers derived by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from mlmon.stats import baseline as bl


def test_a_numeric_feature_reads_back_field_by_field(tmp_path: Path) -> None:
    values = [4.0, 1.0, 2.0, 2.0, 8.0]
    b = bl.build(pa.table({"x": values}), source="train.csv", max_edges=None)
    path = tmp_path / "b.json"
    bl.save(b, str(path))
    doc = json.loads(path.read_text())
    x = doc["features"]["x"]
    assert x["kind"] == "numeric" and x["n"] == 5 and x["dropped"] == 0 and x["exact"] is True
    assert x["edges"] == [1.0, 2.0, 4.0, 8.0] and x["cdf"] == [0.2, 0.6, 0.8, 1.0]
    assert x["mean"] == 3.4 and x["min"] == 1.0 and x["max"] == 8.0
    assert abs(x["std"] - float(np.std(values, ddof=1))) < 1e-12
    back = bl.load(str(path))
    assert back.features == b.features and (back.source, back.rows) == ("train.csv", 5)
