"""Empty templates derived from the contract: CSV and XLSX headers, sheets named after the tables, readable back."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from drops import make_drop, read_rows, validate
from typer.testing import CliRunner

from cli.pilot import app
from measures.contract.read import read_table
from measures.contract.tables import TABLES
from measures.contract.templates import data_dictionary, write_templates

runner = CliRunner()


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("templates") / "sjablonen"  # created by write_templates
    written = write_templates(out)
    assert sorted(p.name for p in written) == sorted(f"{t}{s}" for t in TABLES for s in (".csv", ".xlsx"))
    return out


def test_csv_templates_hold_only_the_header(templates):
    for table in TABLES.values():
        text = (templates / f"{table.name}.csv").read_text(encoding="utf-8")
        assert text == ",".join(table.column_names) + "\n"


@pytest.mark.parametrize("name", list(TABLES))
def test_xlsx_templates_open_with_openpyxl_with_a_sheet_named_after_the_table(templates, name):
    book = openpyxl.load_workbook(templates / f"{name}.xlsx")
    assert book.sheetnames[0] == name and book.active.title == name
    sheet = book[name]
    assert [c.value for c in sheet[1]] == TABLES[name].column_names
    assert sheet.max_row == 1  # empty: only the header
    explained = [row[0] for row in book["toelichting"].iter_rows(min_row=2, values_only=True)]
    assert explained == TABLES[name].column_names


def test_enum_columns_get_a_drop_down_list(templates):
    sheet = openpyxl.load_workbook(templates / "employers.xlsx")["employers"]
    lists = {rule.formula1 for rule in sheet.data_validations.dataValidation}
    assert '"intervention,comparison"' in lists and '"small,medium,large"' in lists


def test_the_data_dictionary_is_written_beside_the_templates(templates):
    assert (templates / "datacontract.nl.md").read_text(encoding="utf-8") == data_dictionary("nl")
    assert (templates / "datacontract.en.md").read_text(encoding="utf-8") == data_dictionary("en")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_empty_template_reads_as_an_empty_table(templates, suffix):
    for table in TABLES.values():
        raw = read_table(templates / f"{table.name}{suffix}", table)
        assert (raw.rows_in, len(raw.frame), raw.dropped_columns) == (0, 0, [])
        assert list(raw.frame.columns) == table.column_names


def test_filled_in_xlsx_templates_make_a_valid_drop(templates, tmp_path):
    source = make_drop(tmp_path / "source")
    drop = tmp_path / "drop"
    drop.mkdir()
    for name in TABLES:
        shutil.copy(templates / f"{name}.xlsx", drop / f"{name}.xlsx")
        book = openpyxl.load_workbook(drop / f"{name}.xlsx")
        for row in read_rows(source, name)[1:]:
            book[name].append([value if value != "" else None for value in row])
        book.save(drop / f"{name}.xlsx")
    expected, result = validate(source), validate(drop)
    assert len(result.quarantine()) == 0
    for name in TABLES:
        assert result.tables[name].loaded.equals(expected.tables[name].loaded), name


def test_pilot_template_writes_the_templates(tmp_path):
    done = runner.invoke(app, ["template", "--out", str(tmp_path / "t")])
    assert done.exit_code == 0, done.output
    names = {p.name for p in (tmp_path / "t").iterdir()}
    assert names == {f"{t}{s}" for t in TABLES for s in (".csv", ".xlsx")} | {
        "datacontract.nl.md",
        "datacontract.en.md",
    }
    assert openpyxl.load_workbook(tmp_path / "t" / "admin.xlsx")["admin"]["E1"].value == "ao_pct"


def test_committed_data_dictionaries_are_current():
    """docs/datacontract.*.md are generated from the contract (`pilot contract --lang ..`); regenerate on change."""
    from pathlib import Path

    from measures.contract.templates import data_dictionary

    docs = Path(__file__).resolve().parents[1] / "docs"
    for lang in ("nl", "en"):
        assert (docs / f"datacontract.{lang}.md").read_text(encoding="utf-8") == data_dictionary(lang) + "\n", lang
