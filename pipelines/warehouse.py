"""The DuckDB warehouse: every table keyed by delivery, written in transactions, one writer at a time.

DuckDB allows one process to open a database file at a time, so every connection takes a file lock and
waits for it (two `pilot run`s at once both succeed, one after the other at this point). Each asset
replaces its delivery's rows in a single transaction: a run killed halfway leaves the previous rows, and
the next run completes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from dagster_duckdb import DuckDBResource
from filelock import FileLock

from measures.contract.arrow_text import TEXT
from measures.contract.tables import TABLES
from toc.errors import UserError

LOCK_TIMEOUT_SECONDS = 3600
ROW = "_row"  # the written order of a result table
_ARROW_TEXT = {pa.string(): TEXT, pa.large_string(): TEXT}
_SQL_TYPES = {
    "id": "VARCHAR",
    "enum": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "month": "DATE",
    "number": "DOUBLE",
}


def contract_ddl() -> dict[str, str]:
    """CREATE TABLE statements for the contract tables, from the contract itself."""
    ddl = {}
    for table in TABLES.values():
        columns = ", ".join(f'"{c.name}" {_SQL_TYPES[c.kind]}' for c in table.columns)
        ddl[table.name] = f'CREATE TABLE IF NOT EXISTS "{table.name}" (delivery VARCHAR NOT NULL, {columns})'
    return ddl


class Warehouse(DuckDBResource):
    """Dagster's DuckDB resource with a lock around every connection."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.database}.lock", timeout=LOCK_TIMEOUT_SECONDS), super().get_connection() as conn:
            yield conn

    def replace(self, delivery: str, frames: Mapping[str, pd.DataFrame]) -> None:
        """Replace the delivery's rows of each table by `frames`, all in one transaction.

        A table that does not exist yet is created from its frame (contract tables from the contract).
        """
        with self.get_connection() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                for name, frame in frames.items():
                    _write(conn, name, delivery, frame)
                conn.execute("COMMIT")
            except Exception:
                conn.execute("ROLLBACK")
                raise

    def read(self, table: str, delivery: str) -> pd.DataFrame:
        """The delivery's rows of one table, without the delivery column."""
        with self.get_connection() as conn:
            if not _exists(conn, table):
                raise UserError(f"the warehouse has no table '{table}' yet: materialize the ingest assets first")
            # A fixed row order, so that floating-point sums (and the output files) repeat to the byte: the
            # contract tables by their key, the results exactly in the order they were written.
            if table in TABLES:
                order = ", ".join(f'"{k}"' for k in TABLES[table].key)
                query = f'SELECT * EXCLUDE (delivery) FROM "{table}" WHERE delivery = ? ORDER BY {order}'
            else:
                query = f'SELECT * EXCLUDE (delivery, {ROW}) FROM "{table}" WHERE delivery = ? ORDER BY {ROW}'
            # Through Arrow: text stays in Arrow buffers instead of a Python object per cell (a million rows
            # of ids would otherwise cost hundreds of megabytes), dates become datetime64.
            arrow = conn.sql(query, params=[delivery]).to_arrow_table()
            return arrow.to_pandas(types_mapper=_ARROW_TEXT.get, date_as_object=False)

    def read_many(self, tables: list[str], delivery: str) -> dict[str, pd.DataFrame]:
        return {t: self.read(t, delivery) for t in tables}


def _add_missing_columns(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """A result table written by an older version lacks new columns: add them (older rows get NULL)."""
    have = {r[0] for r in conn.execute(f'DESCRIBE "{name}"').fetchall()}
    for column, sql_type, *_ in conn.execute("DESCRIBE staged").fetchall():
        if column not in have:
            conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {sql_type}')


def _exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    # fetchall, not fetchone: a half-read result blocks the connection's next query
    return bool(
        conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0]
    )


def _write(conn: duckdb.DuckDBPyConnection, name: str, delivery: str, frame: pd.DataFrame) -> None:
    staged = frame.assign(delivery=delivery)
    if name not in TABLES:
        staged[ROW] = range(len(staged))
    conn.register("staged", staged)
    try:
        if name in TABLES:
            conn.execute(contract_ddl()[name])
        elif not _exists(conn, name):
            conn.execute(f'CREATE TABLE "{name}" AS SELECT * FROM staged LIMIT 0')
        else:
            _add_missing_columns(conn, name)
        conn.execute(f'DELETE FROM "{name}" WHERE delivery = ?', [delivery])
        conn.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM staged')
    finally:
        conn.unregister("staged")
