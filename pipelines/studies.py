"""A study in the warehouse: its rows as assembled from its deliveries, and what each delivery changed.

Rules:
- Every row of a contract table keeps the delivery it came from. The study *as of* a delivery holds, for each
  contract key, the row of the newest delivery (in the registry's order) up to and including that one: later
  deliveries revise earlier rows, rows are never counted twice, and a key that a later delivery does not repeat
  keeps its earlier row. A partition's panels are built from exactly these rows.
- A delivery's loaded rows are counted against the study as it stood before it: `new` (a key the study did not
  hold), `revised` (a key it held with other values) and `unchanged` (the same values again);
  `loaded = new + revised + unchanged`.
- A delivery is loaded once. Whether it is loaded is whether the warehouse holds its ingest summary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

import duckdb
import pandas as pd

from measures.contract.tables import AKC, Contract
from measures.contract.validate import DropResult, IngestSummary
from measures.evaluation.results import DELIVERIES, EFFECTS_OVER_TIME
from pipelines.deliveries import Delivery, DeliveryError, deliveries
from pipelines.warehouse import DECLARED, ROW, Warehouse, stored_name, to_pandas, transaction, write

_RANKS = "delivery_ranks"


@contextmanager
def _ranked(conn: duckdb.DuckDBPyConnection, deliveries: Sequence[str]) -> Iterator[None]:
    """The deliveries with their order (0 = oldest), as a view the queries join."""
    conn.register(_RANKS, pd.DataFrame({"delivery": list(deliveries), "rank": range(len(deliveries))}))
    try:
        yield
    finally:
        conn.unregister(_RANKS)


def _current(table: str, columns: str, n_deliveries: int) -> str:
    """The newest row per contract key among the ranked deliveries (of one delivery: its rows)."""
    if n_deliveries == 1:
        return f'SELECT {columns} FROM "{table}" t JOIN {_RANKS} r ON t.delivery = r.delivery'
    keys = ", ".join(f't."{k}"' for k in DECLARED[table].key)
    return (
        f'SELECT {columns} FROM "{table}" t JOIN {_RANKS} r ON t.delivery = r.delivery '
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY r.rank DESC) = 1"
    )


def _columns(table: str, alias: str = "t") -> str:
    return ", ".join(f'{alias}."{c}"' for c in DECLARED[table].data_columns)


def study_rows(conn: duckdb.DuckDBPyConnection, table: str, deliveries: Sequence[str]) -> pd.DataFrame:
    """The (stored) table as the study holds it after `deliveries` (oldest first), ordered by the contract key."""
    order = ", ".join(f'"{k}"' for k in DECLARED[table].key)
    if len(deliveries) == 1:  # a drop on its own, or a study's first delivery: no newer row to prefer
        query = f'SELECT {_columns(table)} FROM "{table}" t WHERE delivery = ? ORDER BY {order}'
        return to_pandas(conn.sql(query, params=list(deliveries)).to_arrow_table())
    with _ranked(conn, deliveries):
        query = f"SELECT * FROM ({_current(table, _columns(table), len(deliveries))}) ORDER BY {order}"
        return to_pandas(conn.sql(query).to_arrow_table())


def study_tables(
    warehouse: Warehouse, tables: Sequence[str], deliveries: Sequence[str], contract: Contract = AKC
) -> dict[str, pd.DataFrame]:
    """The contract's `tables` as the study holds them after `deliveries`, by contract table name."""
    with warehouse.get_connection() as conn:
        return {name: study_rows(conn, stored_name(contract, name), deliveries) for name in tables}


def count_changes(conn: duckdb.DuckDBPyConnection, table: str, delivery: str, prior: Sequence[str]) -> tuple[int, int]:
    """(revised, unchanged) of the delivery's stored rows of `table` against the study after `prior`."""
    if not prior:
        return 0, 0
    keys = DECLARED[table].key
    joined = " AND ".join(f'm."{k}" = p."{k}"' for k in keys)
    same = " AND ".join(f'm."{c}" IS NOT DISTINCT FROM p."{c}"' for c in DECLARED[table].data_columns)
    with _ranked(conn, prior):
        query = (
            f"WITH prior AS ({_current(table, _columns(table), len(prior))}), "
            f'mine AS (SELECT {_columns(table)} FROM "{table}" t WHERE delivery = ?) '
            f'SELECT count(p."{keys[0]}") - count(*) FILTER (WHERE {same}), count(*) FILTER (WHERE {same}) '
            f"FROM mine m LEFT JOIN prior p ON {joined}"
        )
        revised, unchanged = conn.execute(query, [delivery]).fetchall()[0]
    return int(revised), int(unchanged)


def is_loaded(warehouse: Warehouse, delivery: Delivery) -> bool:
    with warehouse.get_connection() as conn:
        query = "SELECT count(*) FROM ingest_summary WHERE delivery = ?"
        return bool(conn.execute(query, [delivery.delivery_key]).fetchall()[0][0])


def delivery_table(warehouse: Warehouse, deliveries: Sequence[Delivery]) -> pd.DataFrame:
    """deliveries.csv: per delivery (oldest first) and delivered table what it brought."""
    keys = [d.delivery_key for d in deliveries]
    dates = {d.delivery_key: d.date for d in deliveries}
    with warehouse.get_connection() as conn, _ranked(conn, keys):
        query = (
            f"SELECT s.delivery, s.* EXCLUDE (delivery, {ROW}) FROM ingest_summary s "
            f"JOIN {_RANKS} r ON s.delivery = r.delivery ORDER BY r.rank, s.{ROW}"
        )
        summary = to_pandas(conn.sql(query).to_arrow_table())
    summary["delivery_date"] = pd.to_datetime(summary["delivery"].map(dates))
    return summary.reindex(columns=DELIVERIES.column_names).reset_index(drop=True)


def effects_over_time(warehouse: Warehouse, current: Delivery, indicators: Sequence[str]) -> pd.DataFrame:
    """effects_over_time.csv: the effects on `indicators` of every evaluation of the current one's study that is
    in the warehouse and speaks for a date up to the current one's (its cut-off, else its delivery date), in
    time order; deliveries of the same day in the order they were registered."""
    registered = {d.delivery_key: i for i, d in enumerate(deliveries(current.study))}
    with warehouse.get_connection() as conn:
        keys = [r[0] for r in conn.execute("SELECT DISTINCT evaluation FROM effects").fetchall()]
    evaluations = []
    for key in keys:
        try:
            parsed = Delivery.parse(key)
        except DeliveryError:  # a key of an older version
            continue
        if parsed.study == current.study and parsed.delivery_key in registered:
            evaluations.append(parsed)

    def order(e: Delivery) -> tuple:
        return (e.as_of, registered[e.delivery_key], e.cutoff or e.date)

    chosen = sorted((e for e in evaluations if order(e) <= order(current)), key=order)
    by_key = {e.key: e for e in chosen}
    with warehouse.get_connection() as conn, _ranked(conn, list(by_key)):
        marks = ", ".join("?" for _ in indicators) or "NULL"
        query = (
            "SELECT f.evaluation, f.indicator_id, f.estimate, f.ci_low, f.ci_high, f.p_value, f.n_employers, "
            f"f.n_employees FROM effects f JOIN {_RANKS} r ON f.evaluation = r.delivery "
            f"WHERE f.indicator_id IN ({marks}) ORDER BY r.rank, f.indicator_id"
        )
        table = to_pandas(conn.sql(query, params=list(indicators)).to_arrow_table())
    evaluation = table["evaluation"].map(by_key)
    table["date"] = pd.to_datetime(evaluation.map(lambda e: e.as_of))
    table["cutoff"] = pd.to_datetime(evaluation.map(lambda e: e.cutoff))
    return table.reindex(columns=EFFECTS_OVER_TIME.column_names).reset_index(drop=True)


def load_delivery(
    warehouse: Warehouse, delivery: Delivery, prior: Sequence[str], result: DropResult, contract: Contract = AKC
) -> dict[str, IngestSummary]:
    """Store a validated delivery in one transaction: its loaded rows, its quarantine and its ingest summary,
    counted against the study after `prior` (the earlier deliveries' keys, oldest first)."""
    key = delivery.delivery_key
    summary = result.summary()
    with warehouse.get_connection() as conn, transaction(conn):
        for name, table in result.tables.items():
            write(conn, stored_name(contract, name), key, table.loaded)
        write(conn, "quarantine", key, result.quarantine())
        write(conn, "warnings", key, result.warnings())
        for name in summary:
            revised, unchanged = count_changes(conn, stored_name(contract, name), key, prior)
            summary[name] = replace(summary[name], revised=revised, unchanged=unchanged)
        write(conn, "ingest_summary", key, pd.DataFrame([s.as_row() for s in summary.values()]))
    return summary


def stored_summary(warehouse: Warehouse, delivery: Delivery) -> dict[str, IngestSummary]:
    """The ingest summary of a loaded delivery, by table."""
    rows = warehouse.read("ingest_summary", delivery.delivery_key).to_dict("records")
    return {row["table"]: IngestSummary.from_row(row) for row in rows}
