"""A delivery that leaves nothing (or too little) to evaluate is refused with one message naming the root cause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from drops import find_row, make_drop, read_rows, replace_value, set_cell, validate, write_rows

from measures.contract.usability import UnusableDelivery, check_usable


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_drop(tmp_path_factory.mktemp("usable") / "drop")


@pytest.fixture
def drop(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "drop"))


def _refusal(drop: Path) -> str:
    with pytest.raises(UnusableDelivery) as info:
        check_usable(validate(drop))
    return str(info.value)


def test_the_base_drop_is_usable(base):
    check_usable(validate(base))


def test_every_admin_row_quarantined_is_refused_naming_the_reason(drop):
    rows = read_rows(drop, "admin")
    column = rows[0].index("ao_pct")
    write_rows(drop, "admin", [rows[0]] + [[*r[:column], "130", *r[column + 1 :]] for r in rows[1:]])
    assert _refusal(drop) == "admin.csv: no usable row; most often out_of_range (first admin.csv row 2, column ao_pct)"


def test_a_quarantine_share_above_the_threshold_is_refused(drop):
    rows = read_rows(drop, "cases")
    half = (len(rows) - 1) // 2 + 1
    for row in range(2, 2 + half):
        set_cell(drop, "cases", row, "absence_start", "2025-02-30")
    message = _refusal(drop)
    assert message.startswith(f"cases.csv: {half} of {len(rows) - 1} rows quarantined, more than 50%")
    check_usable(validate(drop), max_share=0.9)  # a looser threshold lets it through


def test_a_delivery_without_comparison_employers_is_refused(drop):
    replace_value(drop, "employers", "group", "comparison", "intervention")
    assert _refusal(drop) == "no usable employer in the comparison group: no employer of employers.csv is in it"


def test_comparison_employers_without_cases_are_refused(drop):
    employers = read_rows(drop, "employers")
    comparison = {r[0] for r in employers[1:] if r[1] == "comparison"}
    for table in ("cases", "admin", "survey"):
        rows = read_rows(drop, table)
        write_rows(drop, table, [rows[0]] + [r for r in rows[1:] if r[1] not in comparison])
    assert _refusal(drop) == (
        f"no usable employer in the comparison group: its {len(comparison)} employer(s) have no usable case in cases.csv"
    )


def test_quarantined_comparison_employers_are_named_as_the_root_cause(drop):
    row = find_row(drop, "employers", group="comparison")
    rows = read_rows(drop, "employers")
    for number, cells in enumerate(rows[1:], start=2):
        if cells[1] == "comparison":
            set_cell(drop, "employers", number, "group", "vergelijkingsgroep?")
    message = _refusal(drop)
    assert "more than 50%" in message or "comparison group" in message
    assert f"employers.csv row {row}, column group" in message


def test_a_header_only_cases_file_is_refused(drop):
    write_rows(drop, "cases", read_rows(drop, "cases")[:1])
    message = _refusal(drop)
    assert message.startswith("cases.csv: no usable row; the file holds no rows")


def test_a_header_only_employers_file_is_refused_naming_the_root_cause(drop):
    write_rows(drop, "employers", read_rows(drop, "employers")[:1])
    message = _refusal(drop)
    assert message == "employers.csv: no usable row; the file holds no rows"
