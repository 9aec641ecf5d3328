"""Small-cell suppression: primary (fewer than the minimum) and secondary (a single hidden cell next to a total)."""

from __future__ import annotations

import pandas as pd
import pytest

from measures.evaluation.suppression import suppress_small_cells
from measures.evaluation.thresholds import MIN_CELL


def _table(counts: list[int], sets: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "cell": [f"c{i}" for i in range(len(counts))],
            "n": counts,
            "mean": [float(10 * i + 1) for i in range(len(counts))],
        }
    )
    return frame.assign(set=sets) if sets else frame


def test_the_default_minimum_is_ten():
    assert MIN_CELL == 10
    out = suppress_small_cells(_table([9, 10, 11]), values=["mean"])
    assert out["suppressed"].tolist() == [1, 0, 0]


def test_primary_suppression_empties_values_and_n():
    table = _table([0, 3, 10, 25])
    out = suppress_small_cells(table, values=["mean"], min_n=10)
    assert out["suppressed"].tolist() == [0, 1, 0, 0]  # a cell of nobody reveals nobody
    assert out["n"].tolist()[0] == 0 and pd.isna(out["n"].iloc[1]) and out["n"].tolist()[2:] == [10, 25]
    assert pd.isna(out["mean"].iloc[1]) and out["mean"].iloc[2] == 21.0
    assert str(out["n"].dtype) == "Int64" and pd.api.types.is_float_dtype(out["mean"])
    assert table["n"].tolist() == [0, 3, 10, 25] and "suppressed" not in table  # the input is not changed


def test_text_values_become_empty_too():
    table = _table([4, 40]).assign(label=["klein", "groot"])
    out = suppress_small_cells(table, values=["label"])
    assert out["label"].tolist() == [None, "groot"]


def test_without_margins_there_is_no_secondary_suppression():
    out = suppress_small_cells(_table([3, 12, 50]), values=["mean"])
    assert out["suppressed"].tolist() == [1, 0, 0]


def test_a_single_suppressed_cell_next_to_a_total_takes_the_next_smallest_along():
    table = _table([3, 40, 12, 30], sets=["a"] * 4)
    out = suppress_small_cells(table, values=["mean"], margins=["set"])
    assert out["suppressed"].tolist() == [1, 0, 1, 0]
    assert out["n"].isna().tolist() == [True, False, True, False]
    assert out["mean"].isna().tolist() == [True, False, True, False]


def test_secondary_suppression_works_per_set():
    sets = ["a", "a", "a", "b", "b", "b", "c", "c"]
    table = _table([2, 15, 20, 4, 6, 30, 50, 60], sets=sets)
    out = suppress_small_cells(table, values=["mean"], margins=["set"])
    # a: one hidden -> the next smallest (15) too; b: two hidden already -> unchanged; c: none hidden
    assert out["suppressed"].tolist() == [1, 1, 0, 1, 1, 0, 0, 0]


def test_a_set_of_one_cell_needs_no_complement():
    out = suppress_small_cells(_table([5, 50], sets=["a", "b"]), margins=["set"])
    assert out["suppressed"].tolist() == [1, 0]


def test_suppressed_cells_cannot_be_recovered_from_the_total():
    table = _table([7, 11, 25, 13], sets=["a"] * 4)
    out = suppress_small_cells(table, margins=["set"])
    total = int(table["n"].sum())
    hidden = out["n"].isna()
    assert hidden.sum() >= 2  # total minus the shown cells leaves at least two unknowns
    assert total - int(out.loc[~hidden, "n"].sum()) == int(table.loc[hidden, "n"].sum())


def test_the_minimum_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        suppress_small_cells(_table([5]), min_n=0)
