"""Small-cell suppression for every table people see: primary and secondary.

Primary: a cell based on fewer than `min_n` people (but more than none) is suppressed. Secondary: when a
table also shows the total of a set of cells, a single suppressed cell in that set could be recovered by
subtraction, so the next smallest cell of the set is suppressed too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from measures.evaluation.thresholds import MIN_CELL


def suppress_small_cells(
    table: pd.DataFrame,
    n: str = "n",
    values: Sequence[str] = (),
    min_n: int = MIN_CELL,
    margins: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A copy with `suppressed` (0/1) and the `values` and `n` of suppressed cells emptied.

    `margins`: columns that define the sets of cells whose total is shown (for secondary suppression);
    None when no totals are shown next to the cells.
    """
    if min_n < 1:
        raise ValueError(f"the minimum cell size must be at least 1, not {min_n}")
    out = table.copy()
    counts = pd.to_numeric(out[n], errors="coerce")
    suppressed = (counts > 0) & (counts < min_n)
    if margins is not None and len(out):
        suppressed = _secondary(out.assign(_n=counts, _s=suppressed), list(margins))
    out["suppressed"] = suppressed.astype(int).to_numpy()
    mask = (out["suppressed"] == 1).to_numpy()
    for column in values:  # numbers stay numbers (NaN, an empty CSV field); anything else becomes None
        if pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].where(~mask)
        else:
            out[column] = out[column].astype("object").where(~mask, None)
    out[n] = pd.array(
        [None if hidden or pd.isna(v) else int(v) for v, hidden in zip(out[n], mask, strict=True)], dtype="Int64"
    )
    return out


def _secondary(frame: pd.DataFrame, margins: list[str]) -> pd.Series:
    suppressed = frame["_s"].copy()
    groups = frame.groupby(margins, sort=False).groups.values() if margins else [frame.index]
    for index in groups:
        cells = frame.loc[index]
        if int(suppressed.loc[index].sum()) == 1 and len(cells) > 1:
            candidates = cells.loc[~suppressed.loc[index]].sort_values("_n", kind="stable")
            suppressed.loc[candidates.index[0]] = True
    return suppressed


def smallest_group(frame: pd.DataFrame, people: str = "employee_id", group: str = "treated_group") -> int:
    """The number of distinct ``people`` in the smaller of the two groups (``group`` 0/1; 0 when one is
    empty). The ids are hashed once and counted in an array (a group-by nunique on a million text ids takes
    a tenth of a second each time, and every estimate asks)."""
    codes, uniques = pd.factorize(frame[people])
    known = codes >= 0
    seen = np.zeros((len(uniques), 2), dtype=bool)
    seen[codes[known], frame[group].to_numpy(dtype=np.int64)[known]] = True
    return int(seen.sum(axis=0).min())
