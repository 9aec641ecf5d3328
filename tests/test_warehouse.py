"""The warehouse's declared tables: never typed by a first frame, older files migrated when opened, undeclared
columns refused, and a rewrite that leaves no deleted row in the file."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from measures.contract.validate import QUARANTINE_COLUMNS
from measures.evaluation.effects import EFFECT_COLUMNS
from measures.evaluation.event_studies import EVENT_COLUMNS
from measures.evaluation.results import RESULTS, results_dictionary
from measures.evaluation.trends import TREND_COLUMNS
from pipelines.warehouse import DECLARED, Warehouse

QUARANTINED = pd.DataFrame(
    {
        "table": ["admin"],
        "source_file": ["admin.csv"],
        "row": [5],
        "column": ["ao_pct"],
        "reason": ["out_of_range"],
        "detail": ["must be between 0 and 100"],
    }
)


def _types(conn: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(f'DESCRIBE "{table}"').fetchall()}


def test_an_older_warehouse_with_null_typed_columns_is_migrated_when_opened(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:  # as an older version left it: tables typed by their first frame
        conn.execute(
            'CREATE TABLE quarantine AS SELECT NULL AS "table", NULL AS source_file, 0::BIGINT AS "row", '
            "NULL AS \"column\", NULL AS reason, NULL AS detail, 'old' AS delivery, 0::BIGINT AS _row LIMIT 0"
        )
        conn.execute(
            "CREATE TABLE effects AS SELECT 'ao_pct' AS indicator_id, -1.5 AS estimate, NULL AS p_value_wild, "
            "'no estimate' AS method, 'drop-1a75bd898931' AS delivery, 0::BIGINT AS _row"
        )
        conn.execute(
            "CREATE TABLE cases (delivery VARCHAR NOT NULL, employee_id VARCHAR, employer_id VARCHAR, "
            "absence_start DATE, inclusion_date DATE, end_date DATE)"
        )
        conn.execute("INSERT INTO cases VALUES ('old', 'E1', 'WG01', '2026-01-01', '2026-05-01', NULL)")
        with pytest.raises(duckdb.ConversionException):  # the failure of issue 15, as it was
            conn.execute("INSERT INTO quarantine SELECT 'admin', 'admin.csv', 5, 'ao_pct', 'x', 'y', 'old', 0")

    warehouse = Warehouse(database=str(path))
    with warehouse.get_connection() as conn:
        for name, stored in DECLARED.items():
            assert list(_types(conn, name).items()) == list(stored.all_columns), name
        assert conn.execute("SELECT evaluation, estimate, method FROM effects").fetchall() == [
            ("drop-1a75bd898931", -1.5, "no estimate")
        ]
        assert conn.execute("SELECT delivery, employee_id FROM cases").fetchall() == [("old", "E1")]
    warehouse.replace("d2", {"quarantine": QUARANTINED})
    warehouse.replace("e2", {"effects": pd.DataFrame({"indicator_id": ["ao_pct"], "p_value_wild": [0.04]})})
    assert warehouse.read("quarantine", "d2").to_dict("records") == QUARANTINED.to_dict("records")
    assert warehouse.read("effects", "e2")["p_value_wild"].tolist() == [0.04]


def test_an_empty_first_result_leaves_every_column_typed(tmp_path):
    warehouse = Warehouse(database=str(tmp_path / "warehouse.duckdb"))
    empty = {"quarantine": QUARANTINED.iloc[:0], "effects": pd.DataFrame({c: [] for c in EFFECT_COLUMNS})}
    warehouse.replace("first", empty)
    effects = pd.DataFrame({"indicator_id": ["ao_pct"], "estimate": [-10.2], "method": ["TWFE"], "n_obs": [12]})
    warehouse.replace("second", {"quarantine": QUARANTINED, "effects": effects})
    assert len(warehouse.read("quarantine", "second")) == 1
    with warehouse.get_connection() as conn:
        assert '"NULL"' not in {t for name in DECLARED for t in _types(conn, name).values()}


def test_an_undeclared_column_is_refused(tmp_path):
    warehouse = Warehouse(database=str(tmp_path / "warehouse.duckdb"))
    with pytest.raises(ValueError, match=r"surprise.*not declared"):
        warehouse.replace("e", {"effects": pd.DataFrame({"indicator_id": ["x"], "surprise": [1]})})


def test_a_rewrite_leaves_no_deleted_row_in_the_file(tmp_path):
    """DuckDB keeps deleted rows in the file until their blocks are reused; a rewrite does not. Storage without
    compression here, so that every stored id is visible in the bytes."""
    path = tmp_path / "warehouse.duckdb"
    warehouse = Warehouse(database=str(path), connection_config={"force_compression": "uncompressed"})
    ids = [f"p_{i:04d}a9c3f2e71b" for i in range(200)]
    admin = pd.DataFrame(
        {
            "employee_id": [e for e in ids for _ in range(12)],
            "employer_id": "WG01",
            "month": list(pd.date_range("2026-01-01", periods=12, freq="MS")) * len(ids),
            "absence_days": 3.0,
            "ao_pct": 50.0,
            "loonwaarde_pct": None,
        }
    )
    warehouse.replace("d1", {"admin": admin})
    gone, kept = ids[7].encode(), ids[8].encode()
    with warehouse.get_connection() as conn:
        conn.execute("DELETE FROM admin WHERE employee_id = ?", [ids[7]])
        conn.execute("CHECKPOINT")
    assert gone in path.read_bytes()  # deleted, yet still in the file
    warehouse.rewrite()
    content = path.read_bytes()
    assert gone not in content and kept in content
    assert len(warehouse.read("admin", "d1")) == 199 * 12


def test_the_csv_columns_come_from_the_declarations():
    assert RESULTS["effects"].csv_columns == EFFECT_COLUMNS and "df" not in EFFECT_COLUMNS
    assert RESULTS["event_study"].csv_columns == EVENT_COLUMNS
    assert RESULTS["trends"].csv_columns == TREND_COLUMNS
    assert RESULTS["quarantine"].column_names == QUARANTINE_COLUMNS
    for table in RESULTS.values():
        assert all(c.description_nl and c.description_en for c in table.columns), table.name


def test_committed_results_dictionaries_are_current():
    """docs/results.*.md are generated from the declarations (`pilot contract --results --lang ..`)."""
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    for lang in ("nl", "en"):
        assert (docs / f"results.{lang}.md").read_text(encoding="utf-8") == results_dictionary(lang) + "\n", lang


def test_an_older_manifest_keyed_by_folder_is_migrated(tmp_path):
    """An older version keyed files by folder: the same files seen from two folders were two rows. They become
    one row per delivery, and registering the delivery again finds it."""
    from pipelines.manifest import DDL, register_files

    warehouse = Warehouse(database=str(tmp_path / "warehouse.duckdb"))
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "cases.csv").write_text("employee_id\n")
    with warehouse.get_connection() as conn:
        conn.execute(DDL)
        for folder in ("/old/a", "/old/b"):
            conn.execute(
                "INSERT INTO manifest VALUES ('abc', 'cases.csv', ?, 10, 1, 'kapot-38a32393417d', now(), NULL)",
                [folder],
            )
    files = register_files(warehouse, "kapot-38a32393417d", tmp_path / "drop", {"cases.csv": "abc"})
    assert files["new"].tolist() == [False]
    with warehouse.get_connection() as conn:
        rows = conn.execute("SELECT drop_path, delivery FROM manifest").fetchall()
    assert rows == [("kapot-38a32393417d", "kapot-38a32393417d")]
