"""Text held as Arrow strings, and lookups of ids done by Arrow's hash kernels.

A million pseudonyms as Python objects cost hundreds of megabytes and a Python call per cell; as Arrow
strings they are one buffer, and strip, match, compare and look-up run in C++.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: The pandas dtype of all text the toolkit reads or loads.
TEXT = pd.ArrowDtype(pa.string())


def arrow(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The values as Arrow strings (no copy when they are Arrow strings already)."""
    return pa.array(values.astype(TEXT))


def positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """For each value, the position of the equal key in `keys` (the first, if repeated), or -1."""
    return pc.index_in(arrow(values), value_set=arrow(keys)).fill_null(-1).to_numpy(zero_copy_only=False)
