"""Validating a drop against the contract: every row is loaded or quarantined with its reason.

Checks run column-wise on whole columns (a million rows pass in seconds). A row is quarantined for the
first problem found, in this order: the parser's verdict (too many or too few fields), the cells in
contract column order, rules across columns, references to other tables, and finally duplicates (the
first occurrence of a key loads, later copies are quarantined). Reasons name the position and the
rule, never the offending value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from measures.contract.arrow_text import TEXT, arrow, positions
from measures.contract.privacy import bsn_like, scrub_text
from measures.contract.read import RawTable, discover, read_table
from measures.contract.tables import TABLES, Column, Table

QUARANTINE_COLUMNS = ["table", "source_file", "row", "column", "reason", "detail"]


@dataclass(frozen=True)
class SurveyRule:
    """What a survey answer for one indicator must look like."""

    respondent: str
    minimum: float
    maximum: float
    integer: bool


@dataclass(frozen=True)
class Reference:
    """What other tables and catalogues a drop is checked against."""

    survey: Mapping[str, SurveyRule]
    activities: frozenset[str]


@dataclass(frozen=True)
class IngestSummary:
    """What became of one delivered table. The one record behind `pilot validate --json`, the warehouse's
    `ingest_summary` table and ingest.json; names of dropped columns only, never values."""

    table: str
    source_file: str
    sha256: str
    rows_in: int
    loaded: int
    quarantined: int
    dropped_columns: tuple[str, ...] = ()
    scrubbed_cells: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reason -> rows

    def as_json(self) -> dict:
        """The per-table object of ingest.json (keyed by table there; `pilot validate --json` adds sha256)."""
        return {
            "rows_in": self.rows_in,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "source_file": self.source_file,
            "dropped_columns": list(self.dropped_columns),
            "scrubbed_cells": self.scrubbed_cells,
            "reasons": dict(sorted(self.reasons.items())),
        }

    def as_row(self) -> dict:
        """A row of the warehouse's `ingest_summary` (lists and mappings as JSON text)."""
        data = self.as_json()
        as_text = {name: json.dumps(data[name]) for name in ("dropped_columns", "reasons")}
        return {"table": self.table, "sha256": self.sha256} | data | as_text

    @classmethod
    def from_row(cls, row: Mapping) -> IngestSummary:
        return cls(
            table=row["table"],
            source_file=row["source_file"],
            sha256=row.get("sha256") or "",
            rows_in=int(row["rows_in"]),
            loaded=int(row["loaded"]),
            quarantined=int(row["quarantined"]),
            dropped_columns=tuple(json.loads(row["dropped_columns"])),
            scrubbed_cells=int(row["scrubbed_cells"]),
            reasons=json.loads(row["reasons"]),
        )


@dataclass(frozen=True)
class TableResult:
    name: str
    source_file: str
    sha256: str
    rows_in: int
    loaded: pd.DataFrame  # typed contract columns of the rows that passed
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS
    dropped_columns: list[str] = field(default_factory=list)
    scrubbed_cells: int = 0

    def summary(self) -> IngestSummary:
        reasons = self.quarantine["reason"].value_counts().sort_index()
        return IngestSummary(
            table=self.name,
            source_file=self.source_file,
            sha256=self.sha256,
            rows_in=self.rows_in,
            loaded=len(self.loaded),
            quarantined=len(self.quarantine),
            dropped_columns=tuple(self.dropped_columns),
            scrubbed_cells=self.scrubbed_cells,
            reasons={str(k): int(v) for k, v in reasons.items()},
        )


@dataclass(frozen=True)
class DropResult:
    tables: dict[str, TableResult]

    def summary(self) -> dict[str, IngestSummary]:
        return {name: result.summary() for name, result in self.tables.items()}

    def quarantine(self) -> pd.DataFrame:
        frames = [r.quarantine for r in self.tables.values() if len(r.quarantine)]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else "object") for c in QUARANTINE_COLUMNS})
        return pd.concat(frames, ignore_index=True)


def validate_drop(drop: Path, reference: Reference) -> DropResult:
    """Read and check every table of a drop. File-level problems raise `DropError`."""
    return validate_tables(read_drop(drop), reference)


def read_drop(drop: Path) -> dict[str, RawTable]:
    """Every table of the drop, read (all file errors first), in the contract's load order."""
    files = discover(drop)
    return {name: read_table(files[name], table) for name, table in TABLES.items() if name in files}


def validate_tables(raws: Mapping[str, RawTable], reference: Reference) -> DropResult:
    """Check tables in the contract's load order (not the files' alphabetical order), so that every foreign
    key is checked against the table it points at."""
    results: dict[str, TableResult] = {}
    for name, raw in raws.items():
        results[name] = validate_table(raw, results, reference)
    return DropResult(results)


def validate_table(raw: RawTable, earlier: Mapping[str, TableResult], reference: Reference) -> TableResult:
    table, frame = raw.table, raw.frame
    verdict = _Verdict(len(frame))
    typed: dict[str, pd.Series] = {}
    scrubbed = 0
    for column in table.columns:
        typed[column.name], n = _check_column(column, frame[column.name], verdict)
        scrubbed += n
    loaded = pd.DataFrame(typed)
    _check_rows(table.name, loaded, verdict, reference)
    _check_references(table, loaded, verdict, earlier)
    _check_duplicates(table, loaded, verdict, raw.rows)
    quarantine = pd.concat([_malformed_frame(raw), verdict.frame(raw)], ignore_index=True)
    # the row number stays a whole number (an empty part would make the concatenation float: "row 5.0")
    quarantine = quarantine.astype({"row": "int64"}).sort_values("row", kind="stable").reset_index(drop=True)
    return TableResult(
        name=table.name,
        source_file=raw.path.name,
        sha256=raw.sha256,
        rows_in=raw.rows_in,
        loaded=loaded.loc[verdict.ok].reset_index(drop=True),
        quarantine=quarantine,
        dropped_columns=raw.dropped_columns,
        scrubbed_cells=scrubbed,
    )


class _Verdict:
    """The first problem of each row: a reason code, the column and a detail."""

    def __init__(self, n: int):
        self.ok = np.ones(n, dtype=bool)  # kept alongside `reason`: asking an object array is slow
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)

    def flag(self, mask: np.ndarray | pd.Series, column: str, reason: str, detail: str | np.ndarray) -> None:
        """Record `reason` for the rows in `mask` that have no problem yet; `detail` may vary per row."""
        mask = np.asarray(mask, dtype=bool) & self.ok
        if not mask.any():
            return
        self.ok &= ~mask
        self.reason[mask], self.column[mask] = reason, column
        self.detail[mask] = detail[mask] if isinstance(detail, np.ndarray) else detail

    def frame(self, raw: RawTable) -> pd.DataFrame:
        bad = ~self.ok
        return pd.DataFrame(
            {
                "table": raw.table.name,
                "source_file": raw.path.name,
                "row": raw.rows[bad],
                "column": self.column[bad],
                "reason": self.reason[bad],
                "detail": self.detail[bad],
            }
        )


def _malformed_frame(raw: RawTable) -> pd.DataFrame:
    details = {"too_many_fields": "more fields than the header", "too_few_fields": "fewer fields than the header"}
    return pd.DataFrame(
        {
            "table": raw.table.name,
            "source_file": raw.path.name,
            "row": [row for row, _ in raw.malformed],
            "column": "*",
            "reason": [reason for _, reason in raw.malformed],
            "detail": [details[reason] for _, reason in raw.malformed],
        }
    )


def _check_column(column: Column, text: pd.Series, verdict: _Verdict) -> tuple[pd.Series, int]:
    """Parse one column into its type, flagging what does not parse or break its rules."""
    text = text.str.strip()
    empty = (text == "").to_numpy(dtype=bool, na_value=True)
    if not column.nullable:
        verdict.flag(empty, column.name, "missing_value", "required value is empty")
    if column.kind == "id":
        verdict.flag(bsn_like(text), column.name, "bsn_like", "looks like a BSN; deliver a pseudonym instead")
        return text, 0
    if column.kind == "text":
        return scrub_text(text) if column.scrub else (text, 0)
    if column.kind == "enum":
        value = text.str.lower().replace(column.aliases) if column.aliases else text.str.lower()
        verdict.flag(
            ~empty & ~value.isin(column.values).to_numpy(),
            column.name,
            "not_allowed",
            f"must be one of {', '.join(column.values)}",
        )
        return value, 0
    if column.kind == "number":
        value = parse_number(text)
        _check_number(value, empty, column.name, column.minimum, column.maximum, column.integer, verdict)
        return value, 0
    value = parse_date(text) if column.kind == "date" else parse_month(text)
    reason = "bad_date" if column.kind == "date" else "bad_month"
    shape = "YYYY-MM-DD or DD-MM-YYYY" if column.kind == "date" else "YYYY-MM"
    verdict.flag(~empty & value.isna().to_numpy(), column.name, reason, f"not a {column.kind} ({shape})")
    return value, 0


def _check_number(
    value: pd.Series,
    empty: np.ndarray,
    name: str,
    minimum: float | None,
    maximum: float | None,
    integer: bool,
    verdict: _Verdict,
) -> None:
    verdict.flag(~empty & value.isna().to_numpy(), name, "not_a_number", "not a number")
    if minimum is not None:
        verdict.flag((value < minimum).to_numpy(), name, "out_of_range", f"must be between {minimum:g} and {maximum:g}")
    if maximum is not None:
        verdict.flag((value > maximum).to_numpy(), name, "out_of_range", f"must be between {minimum:g} and {maximum:g}")
    if integer:
        verdict.flag((value.notna() & (value % 1 != 0)).to_numpy(), name, "not_whole", "must be a whole number")


_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def parse_number(text: pd.Series) -> pd.Series:
    """Numbers with a decimal point or a Dutch decimal comma; anything else becomes NaN.

    In Arrow's kernels: a regular expression says which cells are numbers, and only those are cast."""
    values = arrow(text.astype(TEXT).str.strip().str.replace(",", ".", regex=False))
    valid = pc.match_substring_regex(values, _NUMBER)
    numbers = pc.cast(pc.if_else(valid, values, pa.scalar(None, pa.string())), pa.float64())
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def parse_date(text: pd.Series) -> pd.Series:
    """ISO (2026-03-01, also with a time part) or Dutch (01-03-2026, 1-3-2026) dates; else NaT."""
    iso = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    dutch = pd.to_datetime(text, format="%d-%m-%Y", errors="coerce")
    return iso.fillna(dutch).astype("datetime64[ns]")


_MONTHS = (
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})(?:-\d{1,2})?$",  # 2026-03, 2026-03-01
    r"^(?P<month>\d{1,2})-(?P<year>\d{4})$",
)  # Dutch 03-2026


def parse_month(text: pd.Series) -> pd.Series:
    """A calendar month as its first day: 2026-03, 2026-03-01 or Dutch 03-2026; else NaT.

    Year and month are pulled out with Arrow's regular expressions and checked as numbers, so that a
    million months parse without a Python call per cell."""
    values = arrow(text)
    year = np.full(len(text), -1, dtype=np.int64)
    month = np.zeros(len(text), dtype=np.int64)
    for pattern in _MONTHS:
        parts = pc.extract_regex(values, pattern)
        matched = parts.is_valid()
        found = matched.to_numpy(zero_copy_only=False) & (year < 0)
        for name, target in (("year", year), ("month", month)):
            digits = pc.if_else(matched, parts.field(name), "0")  # unmatched rows hold no digits
            target[found] = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)[found]
    ok = (year >= 1900) & (month >= 1) & (month <= 12)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]").astype("datetime64[ns]")
    return pd.Series(np.where(ok, months, np.datetime64("NaT")), index=text.index, dtype="datetime64[ns]")


def _check_rows(name: str, loaded: pd.DataFrame, verdict: _Verdict, reference: Reference) -> None:
    """Rules across the columns of one row."""
    if name == "cases":
        verdict.flag(
            (loaded["inclusion_date"] < loaded["absence_start"]).to_numpy(),
            "inclusion_date",
            "date_order",
            "inclusion_date is before absence_start",
        )
        verdict.flag(
            (loaded["end_date"] < loaded["absence_start"]).to_numpy(),
            "end_date",
            "date_order",
            "end_date is before absence_start",
        )
    elif name == "activities":
        bare = loaded["activity_id"].str.replace(r"^.*/", "", regex=True)  # "toc/node" or "node"
        verdict.flag(
            ~bare.isin(reference.activities).to_numpy(),
            "activity_id",
            "unknown_activity",
            "not an activity of a shipped ToC",
        )
        loaded["activity_id"] = bare
    elif name == "survey":
        _check_answers(loaded, verdict, reference.survey)


def _check_answers(survey: pd.DataFrame, verdict: _Verdict, rules: Mapping[str, SurveyRule]) -> None:
    known = survey["indicator_id"].isin(list(rules)).to_numpy()
    verdict.flag(~known, "indicator_id", "unknown_indicator", "not a questionnaire indicator of the catalogue")
    for indicator, rule in rules.items():
        rows = (survey["indicator_id"] == indicator).to_numpy()
        if not rows.any():
            continue
        verdict.flag(
            rows & (survey["respondent"] != rule.respondent).to_numpy(),
            "respondent",
            "wrong_respondent",
            f"{indicator} is answered by the {rule.respondent}",
        )
        # rows of other indicators count as empty here, so that only this indicator's scale applies
        _check_number(survey["value"].where(rows), ~rows, "value", rule.minimum, rule.maximum, rule.integer, verdict)


def _check_references(
    table: Table, loaded: pd.DataFrame, verdict: _Verdict, earlier: Mapping[str, TableResult]
) -> None:
    """Foreign keys: a referenced row must have been loaded (not merely delivered)."""
    for column in table.columns:
        if not column.references:
            continue
        target_table, target_column = column.references.split(".")
        if target_table not in earlier:
            continue
        target = earlier[target_table].loaded
        if target_table == "cases" and column.name == "employer_id":
            # the employer of an answer or admin row must be the employee's employer in cases
            position = positions(loaded["employee_id"], target["employee_id"])
            expected = arrow(target["employer_id"]).take(pa.array(position, mask=position < 0))  # null: unknown
            mismatch = pc.not_equal(expected, arrow(loaded["employer_id"])).fill_null(False)
            verdict.flag(
                mismatch.to_numpy(zero_copy_only=False),
                column.name,
                "employer_mismatch",
                "employer_id differs from the employee's employer in cases",
            )
            continue
        subject = target_column.removesuffix("_id")
        verdict.flag(
            ~loaded[column.name].isin(target[target_column]).to_numpy(),
            column.name,
            f"unknown_{subject}",
            f"{column.name} is not in {target_table}",
        )


def _check_duplicates(table: Table, loaded: pd.DataFrame, verdict: _Verdict, rows: np.ndarray) -> None:
    """Among rows that passed so far, the first occurrence of a key loads; later copies are quarantined."""
    ok = verdict.ok
    keys = loaded.loc[ok, list(table.key)]
    duplicate = keys.duplicated(keep="first")
    if not duplicate.any():
        return
    first_row = (
        pd.Series(rows[ok], index=keys.index).groupby([keys[k] for k in table.key], sort=False).transform("first")
    )
    mask = np.zeros(len(loaded), dtype=bool)
    mask[duplicate.index[duplicate.to_numpy()]] = True
    details = np.full(len(loaded), None, dtype=object)
    details[mask] = [f"same {', '.join(table.key)} as row {r}" for r in first_row[duplicate].to_numpy()]
    verdict.flag(mask, ",".join(table.key), "duplicate", details)
