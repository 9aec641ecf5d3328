"""Erasure on request (withdrawn consent, AVG art. 17): one employee out of a study, and out of every stored byte.

`pilot erase --study ID --employee PSEUDONYM`:
1. deletes every row with that `employee_id` from the contract tables of the study's deliveries (cases, admin,
   survey), in one transaction, and records the erasure in the warehouse table `erasures` (when, which table,
   how many rows; never the pseudonym);
2. rewrites the DuckDB file (`Warehouse.rewrite`): DuckDB keeps deleted rows in the file until their blocks
   are reused, so the database is copied into a fresh file that replaces the old one under the lock;
3. removes the study's derived files that hold person-level rows: the panel store's Parquet files of its
   evaluations (the next evaluation builds them again);
4. removes the table files of the study's deliveries in the landing folder that hold the pseudonym (they are
   loaded; the registry remembers the folder's new contents as the same delivery, so it is not taken for a
   new one);
5. searches every file in the data folder (`AD_PILOT_DATA`: warehouse, registry, panels, outputs, the Dagster
   instance with its event log and compute logs) for the pseudonym as a whole token, and fails naming the
   files where it is still found (files the toolkit did not write, such as a drop kept in the data folder,
   are the evaluator's to clean).

Results already computed (effects, trends, ...) are aggregates over at least `MIN_CELL` people and hold no
pseudonym; they are replaced when the study is evaluated again (`pilot run --study ID`), which then equals an
evaluation of deliveries that never held the employee. The ingest counts (`ingest.json`, `deliveries.csv`)
keep describing the deliveries as they arrived. Drop folders outside the data folder are not touched.
"""

from __future__ import annotations

import datetime as dt
import mmap
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from filelock import FileLock

from measures.contract.tables import TABLES
from pipelines import settings
from pipelines.deliveries import (
    Delivery,
    DeliveryError,
    add_alias,
    deliveries,
    digest_of,
    file_checksums,
    landed,
)
from pipelines.warehouse import LOCK_TIMEOUT_SECONDS, Warehouse, transaction, write
from toc.errors import UserError

#: The contract tables that hold rows of an employee.
EMPLOYEE_TABLES = tuple(name for name, t in TABLES.items() if "employee_id" in t.column_names)


class ErasureIncomplete(UserError):
    """The rows are erased, but the pseudonym is still found in files of the data folder."""


@dataclass(frozen=True)
class Erasure:
    study: str
    erased_at: dt.datetime
    rows: dict[str, int]  # table -> rows removed
    removed_files: list[str] = field(default_factory=list)  # "<delivery key>/<file>" removed from the landing folder
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def erase_employee(study: str, employee: str) -> Erasure:
    """Erase one employee from a study (see the module's rules); the pseudonym is not stored or printed."""
    found = deliveries(study)
    if not found:
        raise DeliveryError(f"study {study} has no deliveries")
    if not employee.strip():
        raise UserError("--employee: give the employee's pseudonym")
    warehouse = Warehouse()
    rows = _delete_rows(warehouse, study, [d.delivery_key for d in found], employee)
    warehouse.rewrite()
    _remove_panels(study)
    removed = _remove_landed_files(found, employee)
    notes = [f"removed from the landing folder: {', '.join(removed)}"] if removed else []
    erasure = Erasure(study, dt.datetime.now(dt.UTC).replace(tzinfo=None), rows, removed, notes)
    remaining = files_holding(settings.data_dir(), employee)
    if remaining:
        raise ErasureIncomplete(
            f"erased {erasure.total} rows, but the pseudonym is still in {len(remaining)} file(s) of the data folder: "
            f"{', '.join(remaining)} (not written by the toolkit: remove the employee from them)"
        )
    return erasure


def _delete_rows(warehouse: Warehouse, study: str, keys: list[str], employee: str) -> dict[str, int]:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    marks = ", ".join("?" for _ in keys)
    with warehouse.get_connection() as conn, transaction(conn):
        rows = {}
        for table in EMPLOYEE_TABLES:
            where = f"employee_id = ? AND delivery IN ({marks})"
            rows[table] = int(
                conn.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', [employee, *keys]).fetchall()[0][0]
            )
            conn.execute(f'DELETE FROM "{table}" WHERE {where}', [employee, *keys])
        if not sum(rows.values()):
            raise UserError(f"study {study} holds no rows of that employee: nothing erased")
        record = pd.DataFrame({"study": study, "erased_at": now, "table": list(rows), "rows": list(rows.values())})
        write(conn, "erasures", "", record.loc[record["rows"] > 0])
    return {t: n for t, n in rows.items() if n}


def _remove_panels(study: str) -> None:
    """The panel store's files of every evaluation of the study (person-level rows, rebuilt when needed)."""
    folder = settings.data_dir() / "panels"
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        try:
            evaluation = Delivery.parse(path.name)
        except DeliveryError:
            continue
        if evaluation.study == study:
            shutil.rmtree(path)


def _remove_landed_files(found: list[Delivery], employee: str) -> list[str]:
    by_digest = {d.digest: d for d in found}
    removed = []
    for _, folder in landed(found[0].study):
        delivery = by_digest.get(digest_of(file_checksums(folder)))
        if delivery is None:
            continue
        for path in sorted(p for p in folder.iterdir() if p.name in file_checksums(folder)):
            if _holds(path, employee):
                path.unlink()
                removed.append(f"{delivery.delivery_key}/{path.name}")
        if file_checksums(folder):
            add_alias(delivery, digest_of(file_checksums(folder)))
    return removed


def files_holding(folder: Path, token: str) -> list[str]:
    """Files under `folder` that hold `token`, relative to it: as a whole token in their bytes (not inside a
    longer id), or, for the formats that compress text (DuckDB, Parquet), in any text value they hold."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and _holds(p, token))


def _holds(path: Path, token: str) -> bool:
    if path.stat().st_size == 0:
        return False
    if path.suffix == ".parquet" and _parquet_holds(path, token):
        return True
    if path.suffix == ".duckdb" and _duckdb_holds(path, token):
        return True
    pattern = re.compile(rb"(?<![A-Za-z0-9_])" + re.escape(token.encode("utf-8")) + rb"(?![A-Za-z0-9_])")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return pattern.search(data) is not None


def _parquet_holds(path: Path, token: str) -> bool:
    table = pq.read_table(path)
    return any(
        pc.any(pc.match_substring(column.cast(pa.string()), token)).as_py()
        for column, field_ in zip(table.columns, table.schema, strict=True)
        if pa.types.is_string(field_.type)
        or pa.types.is_large_string(field_.type)
        or pa.types.is_dictionary(field_.type)
    )


def _duckdb_holds(path: Path, token: str) -> bool:
    """Whether any text column of any table holds the token (what a query sees; rows deleted but still in the
    file's blocks are what `Warehouse.rewrite` removes)."""
    with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_SECONDS), duckdb.connect(str(path), read_only=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        return any(
            conn.execute(f'SELECT count(*) FROM "{t}" WHERE contains("{c}", ?)', [token]).fetchall()[0][0]
            for t, c in columns
        )
