"""Validating a drop against the contract: every row is loaded or quarantined with its reason.

Checks run column-wise on whole columns (a million rows pass in seconds). Severity follows what a value is for:

- A bad key, group, date or measurement quarantines its row. A row is quarantined for the first problem found,
  in this order: the parser's verdict (too many or too few fields), the cells in contract column order, rules
  across columns, references to other tables, and finally duplicates (the first occurrence of a key loads,
  later copies are quarantined).
- A row whose reference points at a row that was delivered but quarantined is quarantined as
  `parent_quarantined`, and its detail names the root cause: file, row, column and reason of the first row
  in the chain that was wrong (an admin row -> its case -> its employer).
- A bad descriptive value (`Column.descriptive`: sector, size_class, approach; nothing is computed from it)
  empties that cell and keeps the row, with a *warning*. Warnings have the quarantine's columns (table,
  source_file, row, column, reason, detail) and are kept apart from it: `too_long`, `not_allowed`,
  `missing_value` (cell emptied), `identifier_removed` (personal details scrubbed from free text) and
  `spelling_mapped` (an accepted spelling such as `50-249` read as `medium`: one warning per spelling and
  column, at its first row, with the number of rows).

Reasons and details name the position and the rule, never the offending value. Records are held as
categoricals, so a million bad rows cost a few bytes each, not a message each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from measures.contract.arrow_text import arrow, positions
from measures.contract.free_text import REDACTED, scrub_text
from measures.contract.free_text import release as release_deduce
from measures.contract.identifiers import ID_DETAILS, id_reasons
from measures.contract.limits import Limits
from measures.contract.read import RawTable, discover, read_table
from measures.contract.records import NoteBook, Verdict, empty_records, root_causes
from measures.contract.tables import AKC, Column, Contract, Table
from measures.contract.values import enum_values, parse_date, parse_month, parse_number

#: From this many rows still to check, Deduce's memory is released first (reloading it costs two seconds).
LARGE_ROWS = 200_000
QUARANTINE_COLUMNS = ["table", "source_file", "row", "column", "reason", "detail"]
#: Warnings have the same columns: a warning is a record of a cell that was changed, its row kept.
WARNING_COLUMNS = QUARANTINE_COLUMNS


def referenced(contract: Contract) -> dict[str, list[str]]:
    """Per table, the columns other tables refer to: only for these are quarantined ids kept (root causes)."""
    return {
        name: sorted(
            {
                c.references.split(".")[1]
                for t in contract.tables
                for c in t.columns
                if c.references and c.references.startswith(f"{name}.")
            }
        )
        for name in contract.by_name
    }


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
    process: Mapping[str, SurveyRule] = field(default_factory=dict)  # values of the `process` table, by indicator


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
    warnings: int = 0  # cells emptied or changed, rows kept
    warning_reasons: dict[str, int] = field(default_factory=dict)  # warning reason -> cells
    # against the study's rows before this delivery (a drop on its own: every loaded row is new)
    revised: int = 0  # loaded rows that replace a row with the same key and other values
    unchanged: int = 0  # loaded rows equal to the row with the same key

    @property
    def new(self) -> int:
        """Loaded rows with a key the study did not hold yet (loaded = new + revised + unchanged)."""
        return self.loaded - self.revised - self.unchanged

    def as_json(self) -> dict:
        """The per-table object of ingest.json (keyed by table there; `pilot validate --json` adds sha256)."""
        return {
            "rows_in": self.rows_in,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "new": self.new,
            "revised": self.revised,
            "unchanged": self.unchanged,
            "source_file": self.source_file,
            "dropped_columns": list(self.dropped_columns),
            "scrubbed_cells": self.scrubbed_cells,
            "reasons": dict(sorted(self.reasons.items())),
            "warnings": self.warnings,
            "warning_reasons": dict(sorted(self.warning_reasons.items())),
        }

    def as_row(self) -> dict:
        """A row of the warehouse's `ingest_summary` (lists and mappings as JSON text)."""
        data = self.as_json()
        as_text = {name: json.dumps(data[name]) for name in ("dropped_columns", "reasons", "warning_reasons")}
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
            warnings=int(row.get("warnings") or 0),
            warning_reasons=json.loads(row.get("warning_reasons") or "{}"),
            revised=int(row.get("revised") or 0),
            unchanged=int(row.get("unchanged") or 0),
        )


@dataclass(frozen=True)
class TableResult:
    name: str
    source_file: str
    sha256: str
    rows_in: int
    loaded: pd.DataFrame  # typed contract columns of the rows that passed
    quarantine: pd.DataFrame  # QUARANTINE_COLUMNS
    dropped_columns: list[str] = field(default_factory=list)  # positions ("column 7"), never names
    scrubbed_cells: int = 0
    warnings: pd.DataFrame = field(default_factory=lambda: empty_records(WARNING_COLUMNS))
    rejected: pd.DataFrame | None = None  # ids of quarantined rows + `root` (never stored: for references only)
    key: tuple[str, ...] = ()  # the table's contract key

    def summary(self) -> IngestSummary:
        return IngestSummary(
            table=self.name,
            source_file=self.source_file,
            sha256=self.sha256,
            rows_in=self.rows_in,
            loaded=len(self.loaded),
            quarantined=len(self.quarantine),
            dropped_columns=tuple(self.dropped_columns),
            scrubbed_cells=self.scrubbed_cells,
            reasons=_counts(self.quarantine),
            warnings=len(self.warnings),
            warning_reasons=_counts(self.warnings),
        )


def _counts(records: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in records["reason"].astype(str).value_counts().sort_index().items()}


@dataclass(frozen=True)
class DropResult:
    tables: dict[str, TableResult]

    def summary(self) -> dict[str, IngestSummary]:
        return {name: result.summary() for name, result in self.tables.items()}

    def quarantine(self) -> pd.DataFrame:
        return _joined([r.quarantine for r in self.tables.values()], QUARANTINE_COLUMNS)

    def warnings(self) -> pd.DataFrame:
        return _joined([r.warnings for r in self.tables.values()], WARNING_COLUMNS)


def _joined(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_records(columns)
    joined = pd.concat([f.astype({c: "object" for c in columns if c != "row"}) for f in frames], ignore_index=True)
    return joined.astype({"row": "int64"})


def validate_drop(
    drop: Path, reference: Reference, limits: Limits | None = None, contract: Contract = AKC
) -> DropResult:
    """Read and check every table of a drop. File-level problems raise `DropError`."""
    return validate_tables(read_drop(drop, limits, contract=contract), reference, limits, contract=contract)


def read_drop(
    drop: Path, limits: Limits | None = None, complete: bool = True, contract: Contract = AKC
) -> dict[str, RawTable]:
    """Every table of the drop, read (all file errors first), in the contract's load order. `complete`: the
    drop must hold every required table (a delivery to a study may hold any of them)."""
    files = discover(drop, complete, contract)
    return {t.name: read_table(files[t.name], t, limits) for t in contract.tables if t.name in files}


def validate_tables(
    raws: Mapping[str, RawTable],
    reference: Reference,
    limits: Limits | None = None,
    known: Mapping[str, pd.DataFrame] | None = None,
    contract: Contract = AKC,
) -> DropResult:
    """Check tables in the contract's load order (not the files' alphabetical order), so that every foreign
    key is checked against the table it points at.

    `known`: the rows a study already holds from earlier deliveries, by table (None: a drop on its own). A
    reference is then checked against this delivery's loaded rows and the known ones; a row of this delivery
    replaces the known row with the same key."""
    results: dict[str, TableResult] = {}
    targets: dict[str, TableResult] = {}  # what later tables' references are checked against
    kept = referenced(contract)
    for name, table in contract.by_name.items():
        if name in raws:
            results[name] = targets[name] = validate_table(
                raws[name], targets, reference, limits or Limits(), kept[name]
            )
            if sum(len(r.frame) for n, r in raws.items() if n not in results) > LARGE_ROWS:
                release_deduce()  # its 1 GB of name lists back before large tables are checked; small drops keep it
        if known is not None and name in known:
            targets[name] = _with_known(table, results.get(name), known[name])
    return DropResult(results)


def _with_known(table: Table, result: TableResult | None, known: pd.DataFrame) -> TableResult:
    """A table's rows for checking references: this delivery's loaded rows, then the known rows it does not
    replace."""
    if result is None:
        loaded = known.reset_index(drop=True)
        return TableResult(table.name, "", "", 0, loaded, empty_records(QUARANTINE_COLUMNS), key=table.key)
    if not len(known):
        return result
    keys = list(table.key)
    replaced = pd.MultiIndex.from_frame(known[keys]).isin(pd.MultiIndex.from_frame(result.loaded[keys]))
    parts = [frame for frame in (result.loaded, known.loc[~replaced, result.loaded.columns]) if len(frame)]
    return replace(result, loaded=pd.concat(parts, ignore_index=True) if parts else result.loaded)


def validate_table(
    raw: RawTable,
    earlier: Mapping[str, TableResult],
    reference: Reference,
    limits: Limits | None = None,
    kept: list[str] | None = None,
) -> TableResult:
    """One table against the rows it refers to (`earlier`); `kept`: its columns other tables refer to (the
    AKC contract's when not given)."""
    table, frame, limits = raw.table, raw.frame, limits or Limits()
    kept = referenced(AKC).get(table.name, []) if kept is None else kept
    verdict, notes = Verdict(raw), NoteBook(raw)
    typed = {c.name: _check_column(c, frame[c.name], verdict, notes, limits) for c in table.columns}
    loaded = pd.DataFrame(typed)
    _check_rows(table, loaded, verdict, reference)
    _check_references(table, loaded, verdict, earlier)
    _check_duplicates(table, loaded, verdict, raw.rows)
    return TableResult(
        name=table.name,
        source_file=raw.path.name,
        sha256=raw.sha256,
        rows_in=raw.rows_in,
        loaded=loaded.loc[verdict.ok].reset_index(drop=True),
        quarantine=verdict.records(),
        dropped_columns=raw.dropped_columns,
        scrubbed_cells=notes.count("identifier_removed", verdict.ok),
        warnings=notes.records(verdict.ok),
        rejected=verdict.rejected(loaded, kept) if kept else None,
        key=table.key,
    )


def _check_column(column: Column, text: pd.Series, verdict: Verdict, notes: NoteBook, limits: Limits) -> pd.Series:
    """Parse one column into its type. A problem quarantines the row, or for a descriptive column empties
    the cell with a warning."""
    text = text.str.strip()
    empty = (text == "").to_numpy(dtype=bool, na_value=True)

    def problem(mask: np.ndarray, reason: str, detail: str | np.ndarray) -> None:
        nonlocal text
        if column.descriptive:
            mask = np.asarray(mask, dtype=bool) & verdict.ok & ~notes.emptied(column.name, len(text))
            notes.add(mask, column.name, reason, detail if isinstance(detail, str) else "", emptied=True)
            text = text.where(~mask, "")
        else:
            verdict.flag(mask, column.name, reason, detail)

    if not column.nullable:
        problem(empty, "missing_value", "required value is empty")
    if column.kind == "id":
        reasons = id_reasons(text, pseudonym=not column.catalogue)
        for reason in ID_DETAILS:
            problem(reasons == reason, reason, ID_DETAILS[reason])
        return text
    if column.kind == "text":
        if column.max_length:
            long = text.str.len().to_numpy(dtype=np.int64, na_value=0) > column.max_length
            problem(long, "too_long", f"longer than {column.max_length} characters")
        if not column.scrub:
            return text
        scrubbed, changed = scrub_text(text)
        notes.add(changed, column.name, "identifier_removed", f"personal details replaced by {REDACTED}")
        return scrubbed
    if column.kind == "enum":
        value, alias = enum_values(column, text)
        problem(
            ~empty & ~value.isin(column.values).to_numpy(), "not_allowed", f"must be one of {', '.join(column.values)}"
        )
        notes.spellings(column, alias)
        return value.where(~notes.emptied(column.name, len(value)), "") if column.descriptive else value
    if column.kind == "number":
        value = parse_number(text)
        _check_number(value, empty, column.name, column.minimum, column.maximum, column.integer, verdict)
        return value
    window = limits.date_window()
    value, outside = (parse_date if column.kind == "date" else parse_month)(text, window)
    shape = "YYYY-MM-DD or DD-MM-YYYY" if column.kind == "date" else "YYYY-MM"
    problem(outside, f"implausible_{column.kind}", f"outside {window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}")
    problem(~empty & value.isna().to_numpy() & ~outside, f"bad_{column.kind}", f"not a {column.kind} ({shape})")
    return value


def _check_number(
    value: pd.Series,
    empty: np.ndarray,
    name: str,
    minimum: float | None,
    maximum: float | None,
    integer: bool,
    verdict: Verdict,
) -> None:
    verdict.flag(~empty & value.isna().to_numpy(), name, "not_a_number", "not a number")
    if minimum is not None:
        verdict.flag((value < minimum).to_numpy(), name, "out_of_range", f"must be between {minimum:g} and {maximum:g}")
    if maximum is not None:
        verdict.flag((value > maximum).to_numpy(), name, "out_of_range", f"must be between {minimum:g} and {maximum:g}")
    if integer:
        verdict.flag((value.notna() & (value % 1 != 0)).to_numpy(), name, "not_whole", "must be a whole number")


def _check_rows(table: Table, loaded: pd.DataFrame, verdict: Verdict, reference: Reference) -> None:
    """Rules across the columns of one row: the table's declared date order, and the catalogue's codes."""
    name = table.name
    for rule in table.date_order:
        verdict.flag(
            (loaded[rule.column] < loaded[rule.not_before]).to_numpy(),
            rule.column,
            "date_order",
            f"{rule.column} is before {rule.not_before}",
        )
    if name == "activities":
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
    elif name == "process":
        _check_answers(loaded, verdict, reference.process, "a process indicator")


def _check_answers(
    survey: pd.DataFrame,
    verdict: Verdict,
    rules: Mapping[str, SurveyRule],
    kind: str = "a questionnaire indicator",
) -> None:
    known = survey["indicator_id"].isin(list(rules)).to_numpy()
    verdict.flag(~known, "indicator_id", "unknown_indicator", f"not {kind} of the catalogue")
    for indicator, rule in rules.items():
        rows = (survey["indicator_id"] == indicator).to_numpy()
        if not rows.any():
            continue
        if "respondent" in survey:
            verdict.flag(
                rows & (survey["respondent"] != rule.respondent).to_numpy(),
                "respondent",
                "wrong_respondent",
                f"{indicator} is answered by the {rule.respondent}",
            )
        # rows of other indicators count as empty here, so that only this indicator's scale applies
        _check_number(survey["value"].where(rows), ~rows, "value", rule.minimum, rule.maximum, rule.integer, verdict)


def _check_references(table: Table, loaded: pd.DataFrame, verdict: Verdict, earlier: Mapping[str, TableResult]) -> None:
    """Foreign keys: a referenced row must have been loaded (not merely delivered). A reference to a row that
    was delivered but quarantined says so, with the root cause."""
    for column in table.columns:
        if not column.references:
            continue
        target_table, target_column = column.references.split(".")
        if target_table not in earlier:
            continue
        target = earlier[target_table]
        owner = _owner_key(table, column, target)
        if owner is not None:  # a column of the row's owner (the employer of an employee): must be the same
            _check_same_as_owner(loaded, verdict, target.loaded, owner, column.name, target_table)
            continue
        missing = ~loaded[column.name].isin(target.loaded[target_column]).to_numpy()
        if target.rejected is not None:
            parent = np.where(missing, positions(loaded[column.name], target.rejected[target_column]), -1)
            roots = root_causes(target.rejected, target.source_file, parent)
            details = np.full(len(parent), None, dtype=object)
            for root in set(roots[parent >= 0]):
                details[roots == root] = f"its row in {target_table} was quarantined; root cause: {root}"
            verdict.flag(parent >= 0, column.name, "parent_quarantined", details, roots=roots)
        subject = target_column.removesuffix("_id")
        verdict.flag(missing, column.name, f"unknown_{subject}", f"{column.name} is not in {target_table}")


def _owner_key(table: Table, column: Column, target: TableResult) -> str | None:
    """When `column` refers to a column of another table that is not that table's key (admin.employer_id ->
    cases.employer_id), the row's owner is found by that key (employee_id), which the row refers to as well:
    the value must then be the owner's. None for an ordinary foreign key."""
    if len(target.key) != 1 or column.references == f"{target.name}.{target.key[0]}":
        return None
    key = target.key[0]
    owner = next((c for c in table.columns if c.references == f"{target.name}.{key}"), None)
    return key if owner is not None and owner.name == key else None


def _check_same_as_owner(
    loaded: pd.DataFrame, verdict: Verdict, owners: pd.DataFrame, key: str, name: str, target_table: str
) -> None:
    """The employer of an answer or admin row must be the employee's employer in cases (and alike)."""
    position = positions(loaded[key], owners[key])
    expected = arrow(owners[name]).take(pa.array(position, mask=position < 0))  # null: unknown
    mismatch = pc.not_equal(expected, arrow(loaded[name])).fill_null(False)
    subject, owner = name.removesuffix("_id"), key.removesuffix("_id")
    verdict.flag(
        mismatch.to_numpy(zero_copy_only=False),
        name,
        f"{subject}_mismatch",
        f"{name} differs from the {owner}'s {subject} in {target_table}",
    )


def _check_duplicates(table: Table, loaded: pd.DataFrame, verdict: Verdict, rows: np.ndarray) -> None:
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
    # one message per distinct first row, shared by its copies: 5 million copies of one row are one string
    distinct, codes = np.unique(first_row[duplicate].to_numpy(), return_inverse=True)
    messages = np.array([f"same {', '.join(table.key)} as row {r}" for r in distinct], dtype=object)
    details = np.full(len(loaded), None, dtype=object)
    details[mask] = messages[codes]
    verdict.flag(mask, ",".join(table.key), "duplicate", details)
