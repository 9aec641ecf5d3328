"""The manifest: every file ever ingested, registered by its SHA-256 (what, when, outcome).

A raw file is never copied into storage (it may hold the very identifiers that must not be stored); the
manifest keeps its name, checksum, size and what became of it. Registering the same file again adds
nothing; a changed file under the same name is a new version. A drop is known by its delivery key (column
`drop_path`, named so by an older version), never by its folder: a folder's name may identify a person.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines.warehouse import Warehouse

DDL = """CREATE TABLE IF NOT EXISTS manifest (
    sha256 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, drop_path VARCHAR NOT NULL, size_bytes BIGINT,
    version INTEGER NOT NULL, delivery VARCHAR NOT NULL, registered_at TIMESTAMP NOT NULL, outcome VARCHAR,
    PRIMARY KEY (drop_path, file_name, sha256))"""


def register_files(warehouse: Warehouse, delivery: str, drop: Path, checksums: dict[str, str]) -> pd.DataFrame:
    """Register the drop's files; returns one row per file with its version and whether it is new."""
    drop_path = delivery
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    with warehouse.get_connection() as conn:
        conn.execute(DDL)
        _migrate(conn)
        for name, sha in sorted(checksums.items()):
            known = conn.execute(
                "SELECT version FROM manifest WHERE drop_path = ? AND file_name = ? AND sha256 = ?",
                [drop_path, name, sha],
            ).fetchone()
            if known:
                rows.append({"file_name": name, "sha256": sha, "version": known[0], "new": False})
                continue
            version = conn.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM manifest WHERE drop_path = ? AND file_name = ?",
                [drop_path, name],
            ).fetchall()[0][0]
            size = (Path(drop) / name).stat().st_size
            conn.execute(
                "INSERT INTO manifest VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                [sha, name, drop_path, size, version, delivery, now],
            )
            rows.append({"file_name": name, "sha256": sha, "version": version, "new": True})
    return pd.DataFrame(rows, columns=["file_name", "sha256", "version", "new"])


def _migrate(conn) -> None:
    """An older version keyed files by their folder: key them by delivery, one row per delivery, file and
    checksum (the same files registered from two folders were two rows then)."""
    if not conn.execute("SELECT count(*) FROM manifest WHERE drop_path <> delivery").fetchall()[0][0]:
        return
    conn.execute(
        "DELETE FROM manifest WHERE rowid NOT IN (SELECT min(rowid) FROM manifest GROUP BY delivery, file_name, sha256)"
    )
    conn.execute("UPDATE manifest SET drop_path = delivery WHERE drop_path <> delivery")


def record_outcomes(warehouse: Warehouse, delivery: str, outcomes: dict[str, tuple[str, str]]) -> None:
    """outcomes: file name -> (sha256, outcome text)."""
    drop_path = delivery
    with warehouse.get_connection() as conn:
        conn.execute(DDL)
        for name, (sha, outcome) in outcomes.items():
            conn.execute(
                "UPDATE manifest SET outcome = ? WHERE drop_path = ? AND file_name = ? AND sha256 = ?",
                [outcome, drop_path, name, sha],
            )
