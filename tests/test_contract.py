"""The data contract, written once: consistent in itself, valid examples, and the data dictionary derived from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from drops import reference
from typer.testing import CliRunner

from cli.pilot import app
from measures.contract.arrow_text import TEXT
from measures.contract.read import RawTable
from measures.contract.tables import CONTRACT_VERSION, GROUPS, TABLES, WAVES
from measures.contract.templates import data_dictionary
from measures.contract.validate import validate_table

runner = CliRunner()


def test_the_tables_in_load_order():
    assert list(TABLES) == ["employers", "activities", "cases", "admin", "survey"]
    assert [t.name for t in TABLES.values() if not t.required] == ["activities"]
    assert GROUPS == ("intervention", "comparison") and WAVES == ("t0", "t1", "t2")
    assert TABLES["employers"].column("group").values == GROUPS
    assert TABLES["survey"].column("wave").values == WAVES


def test_keys_and_references_point_at_real_columns_of_earlier_tables():
    order = list(TABLES)
    for name, table in TABLES.items():
        assert len(set(table.column_names)) == len(table.column_names)
        for key in table.key:
            assert key in table.required_columns and not table.column(key).nullable, (name, key)
        for column in table.columns:
            if column.references:
                target, target_column = column.references.split(".")
                assert order.index(target) < order.index(name), (name, column.name)
                assert target_column in TABLES[target].column_names


def test_every_column_is_documented_in_both_languages():
    for table in TABLES.values():
        assert table.description_nl and table.description_en
        for column in table.columns:
            assert column.description_nl and column.description_en, column.name
            assert column.nullable or column.example, column.name
            if column.kind == "enum":
                assert column.values and set(column.aliases.values()) <= set(column.values)
            if column.minimum is not None:
                assert column.maximum is not None and column.minimum < column.maximum


@pytest.mark.parametrize("name", list(TABLES))
def test_the_examples_pass_the_contract(name):
    table = TABLES[name]
    frame = pd.DataFrame({c.name: pd.Series([c.example], dtype=TEXT) for c in table.columns})
    raw = RawTable(table=table, path=Path(f"{name}.csv"), sha256="", frame=frame, rows=np.array([2]), rows_in=1)
    result = validate_table(raw, {}, reference())  # no earlier tables: references are not checked
    assert result.quarantine.empty, result.quarantine.to_dict("records")
    assert len(result.loaded) == 1


def test_ranges_of_the_administrative_numbers():
    admin = TABLES["admin"]
    assert (admin.column("ao_pct").minimum, admin.column("ao_pct").maximum) == (0, 100)
    assert (admin.column("absence_days").minimum, admin.column("absence_days").maximum) == (0, 31)
    assert admin.column("loonwaarde_pct").nullable and not admin.column("ao_pct").nullable
    assert admin.column("ao_pct").rule("nl") == "getal van 0 t/m 100"
    assert admin.column("ao_pct").rule("en") == "number from 0 to 100"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", ("Kolom", "Verplicht", "sleutel", "ja", "nee")), ("en", ("Column", "Required", "key", "yes", "no"))],
)
def test_the_data_dictionary_lists_every_table_and_column(lang, words):
    text = data_dictionary(lang)
    assert f"(v{CONTRACT_VERSION})" in text.splitlines()[0]
    for word in words:
        assert word in text
    for table in TABLES.values():
        assert f"## `{table.name}`" in text
        for column in table.columns:
            line = next(
                line
                for line in text.splitlines()
                if line.startswith(f"| `{column.name}` |")
                and (column.description_nl if lang == "nl" else column.description_en) in line
            )
            assert column.rule(lang) in line
    assert text != data_dictionary("en" if lang == "nl" else "nl")


def test_pilot_contract_prints_the_data_dictionary():
    for lang in ("nl", "en"):
        done = runner.invoke(app, ["contract", "--lang", lang])
        assert done.exit_code == 0
        assert done.stdout == data_dictionary(lang) + "\n"
    assert runner.invoke(app, ["contract"]).stdout == data_dictionary("nl") + "\n"
    refused = runner.invoke(app, ["contract", "--lang", "fr"])
    assert refused.exit_code == 1 and "one of nl, en" in refused.output
