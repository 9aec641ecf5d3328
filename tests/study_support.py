"""Shared by the study tests: a whole simulated drop cut into partial deliveries, changed or filtered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from measures.contract.tables import TABLES

Rows = Callable[[pd.DataFrame], pd.Series]


def read_drop(drop: Path) -> dict[str, pd.DataFrame]:
    """Every table of a CSV drop, as text (what the deliverer wrote)."""
    return {
        name: pd.read_csv(drop / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in TABLES
        if (drop / f"{name}.csv").exists()
    }


def write_drop(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


def part(drop: Path, folder: Path, **rows: Rows | bool) -> Path:
    """A partial delivery: for each named table, all its rows (True) or those a function selects."""
    whole = read_drop(drop)
    chosen = {
        name: (frame if select is True else frame.loc[select(frame)])  # type: ignore[operator]
        for name, select in rows.items()
        for frame in [whole[name]]
    }
    return write_drop(folder, chosen)


def effects(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "effects.csv").set_index("indicator_id")


def assert_same_effects(a: Path, b: Path, tolerance: float = 1e-9) -> None:
    """The same indicators with the same estimates, intervals, p-values and counts."""
    left, right = effects(a), effects(b)
    assert list(left.index) == list(right.index)
    numbers = ["estimate", "se", "ci_low", "ci_high", "p_value", "n_employers", "n_employees", "n_obs"]
    difference = (left[numbers] - right[numbers]).abs().max().max()
    assert difference <= tolerance, (left[numbers] - right[numbers]).abs().max()
    assert left["method"].equals(right["method"])
