"""The DuckDB warehouse: declared tables, written in transactions, one writer at a time.

Rules:
- Every table has a declared schema: the contract tables from the contracts of the study designs
  (`measures.designs`: the AKC pilot's tables under their own names, another design's prefixed by its id,
  `passend_werk__cases`), the result tables from their declarations (`measures.evaluation.results`). A table is never created from the
  first frame written (an empty first frame would give columns of type NULL, and every later write with a
  value would fail). A frame with a column that is not declared is a bug and is refused.
- A warehouse written by an older version is migrated when it is first opened by a process: a table whose
  columns or types differ from the declaration is rebuilt with the declared columns, values cast, columns
  that are no longer declared dropped (`migrate`).
- Rows carry their scope: the contract tables, the quarantine and the ingest summary the `delivery` they came
  from; the analysis results (trends, effects, event study, balance) the `evaluation` (partition) that
  computed them. Each write replaces its scope's rows of every table it touches in one transaction: a run
  killed halfway leaves the previous rows, and the next run completes.
- DuckDB allows one process to open a database file at a time, so every connection takes a file lock and
  waits for it (two `pilot run`s at once both succeed, one after the other at this point).
- `rewrite` copies the database into a fresh file and puts it in place under the lock: rows deleted from
  DuckDB otherwise stay in the file's blocks until they happen to be reused (`pilot erase` needs them gone).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from dagster_duckdb import DuckDBResource
from filelock import FileLock
from pydantic import Field

from measures.contract.arrow_text import TEXT
from measures.contract.tables import AKC, Contract
from measures.designs.load import all_designs
from measures.evaluation.results import RESULTS
from pipelines import settings

LOCK_TIMEOUT_SECONDS = 3600
ROW = "_row"  # the written order of a result table
_ARROW_TEXT = {pa.string(): TEXT, pa.large_string(): TEXT}
_CONTRACT_SQL = {
    "id": "VARCHAR",
    "enum": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "month": "DATE",
    "number": "DOUBLE",
}
_RESULT_SQL = {"text": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP"}
#: Result tables kept in the warehouse, with the column that scopes their rows.
_STORED_RESULTS = {
    "quarantine": "delivery",
    "warnings": "delivery",
    "ingest_summary": "delivery",
    "trends": "evaluation",
    "effects": "evaluation",
    "estimates": "evaluation",
    "event_study": "evaluation",
    "survival_curves": "evaluation",
    "rmst": "evaluation",
    "balance": "evaluation",
    "assumptions": "evaluation",
    "preregistration": "evaluation",
    "milestones": "evaluation",
    "survival": "evaluation",
    "trajectories": "evaluation",
    "erasures": None,
}


@dataclass(frozen=True)
class StoredTable:
    """A warehouse table as declared: its scope column (if any), its data columns with SQL types."""

    name: str
    scope: str | None
    columns: tuple[tuple[str, str], ...]  # (name, SQL type) of the data columns, in order
    key: tuple[str, ...] = ()  # contract tables: the contract key, which also orders their rows
    ordered: bool = False  # result tables: kept in the order they were written (`_row`)

    @property
    def data_columns(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def all_columns(self) -> list[tuple[str, str]]:
        scope = [(self.scope, "VARCHAR")] if self.scope else []
        row = [(ROW, "BIGINT")] if self.ordered else []
        return scope + list(self.columns) + row

    def ddl(self, name: str | None = None) -> str:
        columns = ", ".join(f'"{c}" {t}{" NOT NULL" if c == self.scope else ""}' for c, t in self.all_columns)
        return f'CREATE TABLE IF NOT EXISTS "{name or self.name}" ({columns})'


def stored_name(contract: Contract, table: str) -> str:
    """The warehouse table of a contract's table: the AKC pilot's under its own name, another design's prefixed
    by the design that declares the contract (`passend_werk__cases`)."""
    return table if contract.id == AKC.id else f"{contract.id.replace('-', '_')}__{table}"


def _contracts() -> list[Contract]:
    """Every contract of the shipped study designs, the AKC pilot's first, each once."""
    found = {AKC.id: AKC} | {d.contract.id: d.contract for d in all_designs().values()}
    return list(found.values())


def _declared() -> dict[str, StoredTable]:
    tables = {}
    for contract in _contracts():
        for t in contract.tables:
            name = stored_name(contract, t.name)
            columns = tuple((c.name, _CONTRACT_SQL[c.kind]) for c in t.columns)
            tables[name] = StoredTable(name, "delivery", columns, key=t.key)
    for name, scope in _STORED_RESULTS.items():
        columns = tuple((c.name, _RESULT_SQL[c.type]) for c in RESULTS[name].columns)
        tables[name] = StoredTable(name, scope, columns, ordered=scope is not None)
    return tables


#: Every table the warehouse holds, by name (the manifest and other helpers' tables declare their own DDL).
DECLARED: dict[str, StoredTable] = _declared()
_MIGRATED: set[tuple[str, int]] = set()  # (database, inode) checked by this process


class Warehouse(DuckDBResource):
    """Dagster's DuckDB resource with a lock around every connection and the declared schema in place."""

    database: str = Field(
        default="", description="Path of the DuckDB file (default: warehouse.duckdb in the data folder, when used)."
    )

    @property
    def path(self) -> Path:
        """The database file: the configured one, else the data folder's as it is now (not when loaded)."""
        return Path(self.database) if self.database else settings.warehouse_path()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_SECONDS):
            conn = duckdb.connect(str(path), config={"custom_user_agent": "dagster", **self.connection_config})
            try:
                stamp = (str(path.resolve()), path.stat().st_ino)
                if stamp not in _MIGRATED:
                    migrate(conn)
                    _MIGRATED.add(stamp)
                yield conn
            finally:
                conn.close()

    def replace(self, scope_value: str, frames: Mapping[str, pd.DataFrame]) -> None:
        """Replace the rows of `scope_value` (a delivery or an evaluation) in each table by `frames`, in one
        transaction."""
        with self.get_connection() as conn, transaction(conn):
            for name, frame in frames.items():
                write(conn, name, scope_value, frame)

    def read(self, table: str, scope_value: str) -> pd.DataFrame:
        """The rows of one delivery or evaluation, without the scope column, in their fixed order."""
        return self.read_many([table], scope_value)[table]

    def read_many(self, tables: list[str], scope_value: str) -> dict[str, pd.DataFrame]:
        """`read` of each table, through one connection (opening one costs more than reading a pilot's table)."""
        with self.get_connection() as conn:
            return {t: _read(conn, t, scope_value) for t in tables}

    def rewrite(self) -> None:
        """Copy the database into a fresh file and replace the old one with it, under the lock: deleted rows do
        not survive in free blocks of the new file."""
        path = self.path
        fresh = path.with_name(path.name + ".rewrite")
        with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_SECONDS):
            fresh.unlink(missing_ok=True)
            with duckdb.connect(str(path), config=dict(self.connection_config)) as conn:
                conn.execute("CHECKPOINT")
                conn.execute(f"ATTACH '{fresh}' AS fresh")
                name = conn.execute("SELECT current_database()").fetchall()[0][0]
                conn.execute(f'COPY FROM DATABASE "{name}" TO fresh')
                conn.execute("DETACH fresh")
            os.replace(fresh, path)
            Path(f"{path}.wal").unlink(missing_ok=True)


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def to_pandas(arrow: pa.Table) -> pd.DataFrame:
    """Through Arrow: text stays in Arrow buffers instead of a Python object per cell (a million rows of ids
    would otherwise cost hundreds of megabytes), dates become datetime64."""
    return arrow.to_pandas(types_mapper=_ARROW_TEXT.get, date_as_object=False)


def _read(conn: duckdb.DuckDBPyConnection, table: str, scope_value: str) -> pd.DataFrame:
    stored = DECLARED[table]
    query = f'SELECT {_select(stored)} FROM "{table}" WHERE "{stored.scope}" = ? ORDER BY {_order(stored)}'
    return to_pandas(conn.sql(query, params=[scope_value]).to_arrow_table())


def _select(stored: StoredTable) -> str:
    return ", ".join(f'"{c}"' for c in stored.data_columns)


def _order(stored: StoredTable) -> str:
    """A fixed row order, so that floating-point sums (and the output files) repeat to the byte: the contract
    tables by their key, the results exactly in the order they were written."""
    return ", ".join(f'"{k}"' for k in stored.key) if stored.key else ROW


def write(conn: duckdb.DuckDBPyConnection, name: str, scope_value: str, frame: pd.DataFrame) -> None:
    """Replace the scope's rows of table `name` by `frame`, cast to the declared types (inside the caller's
    transaction). Declared columns the frame lacks are stored empty."""
    stored = DECLARED[name]
    undeclared = sorted(set(frame.columns) - set(stored.data_columns))
    if undeclared:
        raise ValueError(
            f"table {name}: column(s) {', '.join(undeclared)} are not declared "
            "(declare them in measures/evaluation/results.py or measures/contract/tables.py)"
        )
    staged = frame.reset_index(drop=True)
    staged = staged.assign(**{c: None for c in stored.data_columns if c not in staged.columns})
    if stored.ordered:
        staged[ROW] = range(len(staged))
    conn.register("staged", staged)
    try:
        values = [f'CAST("{c}" AS {t})' for c, t in stored.columns] + ([ROW] if stored.ordered else [])
        names = [f'"{c}"' for c, _ in stored.columns] + ([ROW] if stored.ordered else [])
        if stored.scope:
            conn.execute(f'DELETE FROM "{name}" WHERE "{stored.scope}" = ?', [scope_value])
            values.insert(0, "?")
            names.insert(0, f'"{stored.scope}"')
        params = [scope_value] if stored.scope else []
        conn.execute(f'INSERT INTO "{name}" ({", ".join(names)}) SELECT {", ".join(values)} FROM staged', params)
    finally:
        conn.unregister("staged")


def exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    # fetchall, not fetchone: a half-read result blocks the connection's next query
    query = "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'"
    return bool(conn.execute(query, [table]).fetchall()[0][0])


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Create missing declared tables and rebuild those whose columns or types differ from the declaration
    (a warehouse of an older version: result tables created from their first frame, NULL-typed columns, a
    `delivery` column where results are now scoped by `evaluation`). Returns the tables rebuilt."""
    rebuilt = []
    for stored in DECLARED.values():
        if not exists(conn, stored.name):
            conn.execute(stored.ddl())
            continue
        have = [(r[0], str(r[1]).upper()) for r in conn.execute(f'DESCRIBE "{stored.name}"').fetchall()]
        if have != [(c, t.upper()) for c, t in stored.all_columns]:
            with transaction(conn):
                _rebuild(conn, stored, dict(have))
            rebuilt.append(stored.name)
    return rebuilt


def _rebuild(conn: duckdb.DuckDBPyConnection, stored: StoredTable, have: dict[str, str]) -> None:
    """The table again with the declared columns; values that were there are cast (TRY_CAST: a value that does
    not fit the declared type becomes empty rather than stopping the migration)."""
    renamed = {"evaluation": "delivery"}  # results were scoped by a `delivery` column before studies
    new = f"{stored.name}__migrated"
    conn.execute(f'DROP TABLE IF EXISTS "{new}"')
    conn.execute(stored.ddl(new))
    targets, values = [], []
    for column, sql_type in stored.all_columns:
        source = column if column in have else renamed.get(column)
        if source in have:
            targets.append(f'"{column}"')
            values.append(f'TRY_CAST("{source}" AS {sql_type})')
    if stored.scope:
        scope_source = stored.scope if stored.scope in have else renamed.get(stored.scope)
        if scope_source not in have:  # rows without a scope cannot be told apart: nothing to keep
            values = []
    if values:
        conn.execute(f'INSERT INTO "{new}" ({", ".join(targets)}) SELECT {", ".join(values)} FROM "{stored.name}"')
    conn.execute(f'DROP TABLE "{stored.name}"')
    conn.execute(f'ALTER TABLE "{new}" RENAME TO "{stored.name}"')
