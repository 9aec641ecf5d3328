"""Reading a drop: CSV dialects, XLSX, Parquet, files that are not tables, file-level errors, row numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from drops import assert_balanced, cell, drop_column, insert_line, make_drop, read_rows, set_cell, validate, write_rows

from measures.contract.read import DropError, read_table
from measures.contract.tables import TABLES

FORMATS = ("csv", "csv-nl", "xlsx", "parquet")


@pytest.fixture(scope="module")
def drops(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("formats")
    return {fmt: make_drop(root / fmt, fmt=fmt) for fmt in FORMATS}


@pytest.fixture
def drop(drops, tmp_path) -> Path:
    return Path(shutil.copytree(drops["csv"], tmp_path / "drop"))


def test_every_format_loads_the_same_values(drops):
    loaded = {fmt: validate(folder) for fmt, folder in drops.items()}
    assert (drops["csv-nl"] / "admin.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM, semicolons, decimal comma
    assert ";" in (drops["csv-nl"] / "admin.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert any(
        "," in line.split(";")[4] for line in (drops["csv-nl"] / "admin.csv").read_text("utf-8-sig").splitlines()[1:]
    )
    for fmt, result in loaded.items():
        assert len(result.quarantine()) == 0, (fmt, result.quarantine().head())
    for name in TABLES:
        reference = loaded["csv"].tables[name].loaded
        assert len(reference) > 0
        for fmt in FORMATS[1:]:
            pd.testing.assert_frame_equal(
                loaded[fmt].tables[name].loaded, reference, check_dtype=False, obj=f"{fmt} {name}"
            )


def test_dutch_and_iso_dates_mean_the_same_day(drop):
    set_cell(drop, "employers", 2, "start_date", "1-6-2025")
    set_cell(drop, "employers", 3, "start_date", "01-06-2025")
    set_cell(drop, "employers", 4, "start_date", "2025-06-01")
    result = validate(drop)
    assert len(result.quarantine()) == 0
    assert set(result.tables["employers"].loaded["start_date"]) == {pd.Timestamp("2025-06-01")}


def test_decimal_comma_in_a_comma_separated_file(drop):
    set_cell(drop, "admin", 2, "ao_pct", "62,5")  # quoted by the csv writer
    result = validate(drop)
    assert len(result.quarantine()) == 0
    assert result.tables["admin"].loaded["ao_pct"].iloc[0] == 62.5


def test_utf8_with_bom_and_crlf(drop):
    path = drop / "employers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    result = validate(drop)
    assert len(result.quarantine()) == 0 and len(result.tables["employers"].loaded) == 4


def _workbook(path: Path, sheets: dict[str, list[list]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def test_xlsx_takes_the_sheet_named_after_the_table_else_the_first(drop):
    rows = read_rows(drop, "employers")
    (drop / "employers.csv").unlink()
    _workbook(drop / "employers.xlsx", {"uitleg": [["lees mij"]], "Employers": rows})
    assert validate(drop).tables["employers"].loaded["employer_id"].tolist() == [r[0] for r in rows[1:]]
    _workbook(drop / "employers.xlsx", {"Blad1": rows, "notities": [["employer_id"], ["WG77"]]})
    assert validate(drop).tables["employers"].loaded["employer_id"].tolist() == [r[0] for r in rows[1:]]


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path):
    header = TABLES["employers"].column_names
    good = ["WG01", "intervention", "zorg", "large", "2026-01-01", ""]
    _workbook(
        tmp_path / "employers.xlsx",
        {"employers": [header, good, [], [None] * 6, ["WG02", "x", "zorg", "large", "2026-01-01"]]},
    )
    raw = read_table(tmp_path / "employers.xlsx", TABLES["employers"])
    assert raw.rows.tolist() == [2, 5] and raw.rows_in == 2


def test_parquet_with_nullable_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "employer_id": pd.array(["WG01", "WG02"], dtype="string"),
            "group": ["intervention", "comparison"],
            "sector": ["zorg", "bouw"],
            "size_class": ["large", "small"],
            "start_date": pd.to_datetime(["2026-01-01", "2026-02-01"]),
            "approach": pd.array([None, "MDO"], dtype="string"),
        }
    )
    frame.to_parquet(tmp_path / "employers.parquet")
    raw = read_table(tmp_path / "employers.parquet", TABLES["employers"])
    assert raw.frame["approach"].tolist() == ["", "MDO"]  # not the text "<NA>"
    assert raw.frame["start_date"].tolist() == ["2026-01-01", "2026-02-01"]


def test_files_that_are_not_tables_are_ignored(drop):
    before = validate(drop).summary()
    (drop / "notes.json").write_text("{}")
    (drop / "README.md").write_text("# levering")
    (drop / "toelichting.txt").write_text("zie mail")
    (drop / ".hidden.csv").write_text("garbage\n")
    (drop / "~$admin.xlsx").write_bytes(b"an Excel lock file")
    assert validate(drop).summary() == before


@pytest.mark.parametrize("name", ["foo.csv", "Personeel.xlsx", "extra.parquet"])
def test_an_unknown_table_is_a_file_error(drop, name):
    (drop / name).write_text("a,b\n1,2\n")
    with pytest.raises(DropError, match=name.replace(".", r"\.")):
        validate(drop)


def test_a_missing_required_column_names_file_and_column(drop):
    drop_column(drop, "admin", "ao_pct")
    with pytest.raises(DropError, match=r"admin\.csv: missing required column 'ao_pct'"):
        validate(drop)


def test_a_missing_optional_column_is_fine(drop):
    drop_column(drop, "employers", "approach")
    result = validate(drop)
    assert len(result.quarantine()) == 0
    assert set(result.tables["employers"].loaded["approach"]) == {""}


def test_missing_and_doubled_tables_are_file_errors(drop):
    shutil.copy(drop / "admin.csv", drop / "ADMIN.CSV")
    with pytest.raises(DropError, match="delivered twice"):
        validate(drop)
    (drop / "ADMIN.CSV").unlink()
    (drop / "cases.csv").unlink()
    with pytest.raises(DropError, match=r"missing table.*cases"):
        validate(drop)
    (drop / "activities.csv").unlink()  # activities are optional; cases are not
    with pytest.raises(DropError, match="cases") as info:
        validate(drop)
    assert "activities" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("employers.csv", "employer_id,group,sector,size_class,start_date\n".encode("utf-16")),
        ("employers.xlsx", b"PK\x03\x04 not really a workbook"),
        ("employers.parquet", b"not parquet at all"),
        ("employers.csv", b""),
    ],
)
def test_an_unreadable_file_is_a_clear_file_error(drop, name, content):
    (drop / "employers.csv").unlink()
    (drop / name).write_bytes(content)
    with pytest.raises(DropError, match=rf"^{name.replace('.', '[.]')}: .*(UTF-8|cannot be read|empty)"):
        validate(drop)


def test_windows_1252_text_from_dutch_excel_is_read(drop):
    (drop / "employers.csv").write_bytes(
        "employer_id;group;sector;size_class;start_date\nWG01;intervention;z\xe9rg;large;01-01-2026\n".encode("cp1252")
    )
    raw = read_table(drop / "employers.csv", TABLES["employers"])
    assert raw.frame["sector"].tolist() == ["z\xe9rg"]


def test_blank_lines_are_skipped_and_rows_keep_the_numbers_the_deliverer_sees(drop):
    lines = len(read_rows(drop, "admin"))  # header + data rows
    width = len(read_rows(drop, "admin")[0])
    insert_line(drop, "admin", 3, "")  # file row 3 is blank
    insert_line(drop, "admin", 6, ",".join(read_rows(drop, "admin")[6]) + ",surplus")  # row 6: too many fields
    insert_line(drop, "admin", 9, "," * (width - 3))  # row 9: only delimiters (fewer than the header)
    insert_line(drop, "admin", 10, "   ")  # row 10: spaces only
    set_cell(drop, "admin", 12, "ao_pct", "130")
    assert cell(drop, "admin", 12, "employee_id").startswith("E")
    result = validate(drop)
    q = result.tables["admin"].quarantine
    assert q[["row", "reason"]].values.tolist() == [[6, "too_many_fields"], [12, "out_of_range"]]
    summary = result.summary()["admin"]
    assert summary.rows_in == lines - 1 + 1  # the data rows plus the malformed one; blanks not counted
    assert summary.loaded == lines - 1 - 1
    assert_balanced(result)


def test_a_duplicate_names_the_row_of_the_first_occurrence_after_blank_lines(drop):
    rows = read_rows(drop, "cases")
    write_rows(drop, "cases", [*rows[:2], [], *rows[2:], [], rows[1]])
    q = validate(drop).tables["cases"].quarantine
    assert q[["row", "reason", "detail"]].values.tolist() == [[len(rows) + 3, "duplicate", "same employee_id as row 2"]]


def test_header_with_spaces_and_quotes_and_ids_with_leading_zeros(tmp_path):
    path = tmp_path / "admin.csv"
    path.write_text(
        '"employee_id", employer_id , month,absence_days, ao_pct,loonwaarde_pct,\n007,WG01,2026-01,3, 50,40,\n',
        encoding="utf-8",
    )
    raw = read_table(path, TABLES["admin"])
    assert raw.dropped_columns == []
    assert raw.frame["employee_id"].tolist() == ["007"]
    assert all(str(dtype).startswith("string") for dtype in raw.frame.dtypes)
