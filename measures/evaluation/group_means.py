"""Each indicator's mean per group before and after inclusion: the raw comparison beside the DiD.

`before` and `after` are the DiD's own split: administrative months before inclusion (`rel < 0`) against
the inclusion month and later (`post`), questionnaire answers at t0 against t1 and t2 together. Return to
work within 12 months has one value per employee, so it only has an `after`. `n` counts the employees
behind a mean (not their months or answers): a mean of fewer than the minimum is suppressed, as everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from measures.contract.tables import GROUPS
from measures.evaluation.suppression import suppress_small_cells
from measures.evaluation.thresholds import MIN_CELL
from measures.indicators.catalogue import ADMIN_MONTHLY

GROUP_MEAN_COLUMNS = ["indicator_id", "group", "phase", "mean", "n", "suppressed"]
PHASES = ("before", "after")
#: `post` -> the phase's code, in the order of the phases' names ("after" sorts before "before")
_PHASE_NAMES = sorted(PHASES)
_PHASE_CODES = {0: _PHASE_NAMES.index("before"), 1: _PHASE_NAMES.index("after")}


def group_means(admin: pd.DataFrame, survey: pd.DataFrame, rtw: pd.DataFrame, min_n: int = MIN_CELL) -> pd.DataFrame:
    """One row per indicator × group × phase that has data, sorted, small cells suppressed."""
    indicators = [ind for ind in ADMIN_MONTHLY if ind in admin]
    keys = _keys(admin) if indicators else None
    parts = [_means(admin, ind, ind, keys) for ind in indicators]
    parts += [_means(answers, "value", str(ind)) for ind, answers in survey.groupby("indicator_id", sort=True)]
    if len(rtw):
        parts.append(_means(rtw.assign(post=1), "rtw_12m", "rtw_12m"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=GROUP_MEAN_COLUMNS)
    table = suppress_small_cells(pd.concat(parts, ignore_index=True), n="n", values=("mean",), min_n=min_n)
    order = {"group": {g: i for i, g in enumerate(GROUPS)}, "phase": {p: i for i, p in enumerate(PHASES)}}
    ranked = table.sort_values(
        ["indicator_id", "group", "phase"], key=lambda c: c.map(order[c.name]) if c.name in order else c
    )
    return ranked[GROUP_MEAN_COLUMNS].reset_index(drop=True)


Keys = tuple[np.ndarray, pd.Index, np.ndarray]


def _keys(frame: pd.DataFrame) -> Keys:
    """The rows' group codes (in the order of the groups' labels), the labels, and the people's codes: text
    hashed once per frame, not once per indicator (and no rows of text selected: seconds a million rows)."""
    group, groups = pd.factorize(frame["group"], sort=True)
    return group, groups, pd.factorize(frame["employee_id"])[0]


def _means(frame: pd.DataFrame, value: str, indicator: str, keys: Keys | None = None) -> pd.DataFrame:
    """Mean and employees per group and phase, grouped on the integer codes of `keys` (the frame's when not
    given): the means add the same rows in the same order as a group-by on the labels, so they are the same to
    the bit."""
    group, groups, who = keys if keys is not None else _keys(frame)
    phase = frame["post"].map(_PHASE_CODES).to_numpy(dtype=float, na_value=np.nan)
    kept = frame[value].notna().to_numpy() & (group >= 0) & ~np.isnan(phase)  # a group-by leaves out missing keys
    cell = group[kept] * len(_PHASE_NAMES) + phase[kept].astype(np.int64)  # (group, phase), in their order
    means = pd.Series(frame[value].to_numpy()[kept]).groupby(cell, sort=True).mean()
    people = who[kept].astype(np.int64)
    span = int(people.max(initial=0)) + 1
    distinct = pd.unique(cell * span + people) // span  # the cell of each distinct (cell, person)
    cells = means.index.to_numpy()
    return pd.DataFrame(
        {
            "indicator_id": indicator,
            "group": np.asarray(groups, dtype=object)[cells // len(_PHASE_NAMES)].astype(str).astype(object),
            "phase": np.array(_PHASE_NAMES, dtype=object)[cells % len(_PHASE_NAMES)],
            "mean": means.to_numpy(),
            "n": np.bincount(distinct, minlength=int(cells.max(initial=-1)) + 1)[cells],
        },
        columns=GROUP_MEAN_COLUMNS[:-1],
    )
