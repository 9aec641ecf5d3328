"""Small test drops: a valid simulated drop written into tmp_path, and helpers to spoil single cells or lines.

Row numbers are those the deliverer sees in the file: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pandas as pd

from measures.contract.validate import DropResult, Reference, validate_drop
from measures.evaluation.simulate import SimulationSpec, write_drop
from measures.indicators.catalogue import drop_reference

#: Small but complete: both groups, every table, a few questionnaire indicators.
SMALL = {"employers": 4, "employees_per_employer": 4, "survey_indicators": 3}
TABLE_NAMES = ("employers", "activities", "cases", "admin", "survey")


def make_drop(folder: Path, seed: int = 11, fmt: str = "csv", **overrides) -> Path:
    """A valid drop in `folder` (with truth.json); returns the folder."""
    write_drop(SimulationSpec(**({"seed": seed} | SMALL | overrides)), folder, fmt)
    return folder


@cache
def reference() -> Reference:
    return drop_reference()  # reads every shipped ToC: once per test session


def validate(folder: Path) -> DropResult:
    return validate_drop(folder, reference())


def read_rows(folder: Path, table: str) -> list[list[str]]:
    """All lines of a CSV table as lists of cells; index 0 is the header (file row 1)."""
    with open(folder / f"{table}.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    with open(folder / f"{table}.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def cell(folder: Path, table: str, row: int, column: str) -> str:
    rows = read_rows(folder, table)
    return rows[row - 1][rows[0].index(column)]


def set_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Replace one cell; `row` is the file row (2 = first data row)."""
    rows = read_rows(folder, table)
    rows[row - 1][rows[0].index(column)] = value
    write_rows(folder, table, rows)


def find_row(folder: Path, table: str, **where: str) -> int:
    """The file row of the first data row whose cells equal `where`."""
    rows = read_rows(folder, table)
    for number, cells in enumerate(rows[1:], start=2):
        if all(cells[rows[0].index(k)] == v for k, v in where.items()):
            return number
    raise LookupError(f"no row in {table} with {where}")


def copy_row(folder: Path, table: str, row: int) -> int:
    """Append a copy of `row` at the end; returns the new row's number."""
    rows = read_rows(folder, table)
    rows.append(list(rows[row - 1]))
    write_rows(folder, table, rows)
    return len(rows)


def insert_line(folder: Path, table: str, before_row: int, text: str) -> None:
    """Insert a raw line (may be blank or malformed) so that it becomes file row `before_row`."""
    path = folder / f"{table}.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines.insert(before_row - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def drop_column(folder: Path, table: str, column: str) -> None:
    rows = read_rows(folder, table)
    index = rows[0].index(column)
    write_rows(folder, table, [r[:index] + r[index + 1 :] for r in rows])


def add_column(folder: Path, table: str, column: str, value: str) -> None:
    rows = read_rows(folder, table)
    write_rows(folder, table, [rows[0] + [column]] + [[*r, value] for r in rows[1:]])


def quarantine_of(result: DropResult, table: str) -> pd.DataFrame:
    return result.tables[table].quarantine


def only_problem(result: DropResult, table: str) -> dict:
    """The single quarantined row of `table` (asserts there is exactly one in the whole drop)."""
    q = result.quarantine()
    assert len(q) == 1, q.to_string()
    record = q.iloc[0].to_dict()
    assert record["table"] == table
    return record


def assert_balanced(result: DropResult) -> None:
    """rows_in = loaded + quarantined in every table."""
    for name, s in result.summary().items():
        assert s.rows_in == s.loaded + s.quarantined, (name, s)


def replace_value(folder: Path, table: str, column: str, old: str, new: str) -> int:
    """Replace every `old` in one column of a table; returns how many cells changed."""
    rows = read_rows(folder, table)
    index, changed = rows[0].index(column), 0
    for cells in rows[1:]:
        if cells and cells[index] == old:
            cells[index], changed = new, changed + 1
    write_rows(folder, table, rows)
    return changed


def quarantine_text(result: DropResult) -> str:
    """Everything the quarantine records, except the row numbers, as text."""
    q = result.quarantine()
    return q.drop(columns=["row"]).to_csv(index=False)
