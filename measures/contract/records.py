"""The records validation keeps: a verdict per row (quarantine) and notes per cell (warnings).

Both hold masks and codes while a table is checked, and become frames of categoricals at the end: the
table, file, column, reason and detail of a million bad rows are a handful of distinct strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from measures.contract.arrow_text import TEXT
from measures.contract.read import RawTable
from measures.contract.tables import Column

_MALFORMED = {"too_many_fields": "more fields than the header", "too_few_fields": "fewer fields than the header"}


def empty_records(columns: list[str]) -> pd.DataFrame:
    """No records, with typed columns (text, not object: a table created from it gets VARCHAR, not NULL)."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else TEXT) for c in columns})


def _frame(raw: RawTable, rows: np.ndarray, column, reason, detail) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "table": pd.Categorical([raw.table.name] * n),
            "source_file": pd.Categorical([raw.path.name] * n),
            "row": np.asarray(rows, dtype=np.int64),
            "column": pd.Categorical(column),
            "reason": pd.Categorical(reason),
            "detail": pd.Categorical(detail),
        }
    )


class Verdict:
    """The first problem of each row: a reason code, the column, a detail and, for a row quarantined because
    of its parent, the root cause."""

    def __init__(self, raw: RawTable):
        n = len(raw.frame)
        self.raw = raw
        self.ok = np.ones(n, dtype=bool)  # kept alongside `reason`: asking an object array is slow
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)
        self.root = np.full(n, None, dtype=object)

    def flag(
        self,
        mask: np.ndarray | pd.Series,
        column: str,
        reason: str,
        detail: str | np.ndarray,
        roots: np.ndarray | None = None,
    ) -> None:
        """Record `reason` for the rows in `mask` that have no problem yet; `detail` may vary per row."""
        mask = np.asarray(mask, dtype=bool) & self.ok
        if not mask.any():
            return
        self.ok &= ~mask
        self.reason[mask], self.column[mask] = reason, column
        self.detail[mask] = detail[mask] if isinstance(detail, np.ndarray) else detail
        if roots is not None:
            self.root[mask] = roots[mask]

    def records(self) -> pd.DataFrame:
        """Malformed lines and quarantined rows, in file order."""
        bad = ~self.ok
        malformed = self.raw.malformed
        rows = np.concatenate([np.array([r for r, _ in malformed], dtype=np.int64), self.raw.rows[bad]])
        order = np.argsort(rows, kind="stable")
        column = np.concatenate([np.array(["*"] * len(malformed), dtype=object), self.column[bad]])[order]
        reason = np.concatenate([np.array([r for _, r in malformed], dtype=object), self.reason[bad]])[order]
        detail = np.concatenate([np.array([_MALFORMED[r] for _, r in malformed], dtype=object), self.detail[bad]])
        return _frame(self.raw, rows[order], column, reason, detail[order])

    def rejected(self, loaded: pd.DataFrame, id_columns: list[str]) -> pd.DataFrame | None:
        """The ids of the quarantined rows with where they were wrong (`root`: the parent's root cause, or
        None for the row itself), for the references of later tables."""
        bad = ~self.ok
        if not bad.any():
            return None
        return (
            loaded.loc[bad, id_columns]
            .reset_index(drop=True)
            .assign(row=self.raw.rows[bad], column=self.column[bad], reason=self.reason[bad], root=self.root[bad])
        )


def root_causes(rejected: pd.DataFrame, file: str, picked: np.ndarray) -> np.ndarray:
    """The root cause of each picked rejected row (index into `rejected`, -1 for none) as text."""
    causes = np.full(len(picked), None, dtype=object)
    for index in np.unique(picked[picked >= 0]):
        row = rejected.iloc[index]
        own = f"{file} row {row['row']}, column {row['column']} ({row['reason']})"
        causes[picked == index] = own if row["root"] is None else row["root"]
    return causes


class NoteBook:
    """Warnings: cells emptied or changed, rows kept."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self.notes: list[tuple[np.ndarray, str, str, str]] = []
        self._emptied: dict[str, np.ndarray] = {}
        self._spellings: list[tuple[Column, np.ndarray]] = []

    def add(self, mask: np.ndarray, column: str, reason: str, detail: str, emptied: bool = False) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if emptied:
            self._emptied[column] = self.emptied(column, len(mask)) | mask
            detail = f"{detail}; cell emptied, row kept" if detail else "cell emptied, row kept"
        self.notes.append((mask, column, reason, detail))

    def emptied(self, column: str, n: int) -> np.ndarray:
        return self._emptied.get(column, np.zeros(n, dtype=bool))

    def spellings(self, column: Column, alias: np.ndarray) -> None:
        """Cells read through an alias of the column (index into its aliases, -1 for none)."""
        if (alias >= 0).any():
            self._spellings.append((column, alias))

    def count(self, reason: str, ok: np.ndarray) -> int:
        return int(sum((mask & ok).sum() for mask, _, r, _ in self.notes if r == reason))

    def records(self, ok: np.ndarray) -> pd.DataFrame:
        """One warning per cell, and one per spelling and column (at its first row), for rows that loaded."""
        parts = []
        for mask, column, reason, detail in self.notes:
            rows = self.raw.rows[mask & ok]
            parts.append((rows, [column] * len(rows), [reason] * len(rows), [detail] * len(rows)))
        for enum, alias in self._spellings:
            spellings = list(enum.aliases.items())
            counts = np.bincount(alias[ok & (alias >= 0)], minlength=len(spellings))
            for index in np.flatnonzero(counts):
                first = self.raw.rows[np.flatnonzero(ok & (alias == index))[0]]
                spelling, value = spellings[index]
                detail = f"'{spelling}' read as '{value}' in {counts[index]} row{'s' if counts[index] > 1 else ''}"
                parts.append((np.array([first]), [enum.name], ["spelling_mapped"], [detail]))
        if not parts:
            return empty_records(["table", "source_file", "row", "column", "reason", "detail"])
        rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
        order = np.argsort(rows, kind="stable")
        flat = [np.concatenate([np.asarray(p[i], dtype=object) for p in parts])[order] for i in (1, 2, 3)]
        return _frame(self.raw, rows[order], *flat)
