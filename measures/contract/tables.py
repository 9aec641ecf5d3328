"""Data contracts: what a study's deliverers send, declared once, as data.

A contract is the `contract:` of a study design (studies/*.yaml; the AKC pilot's is studies/akc-pilot.yaml):
its tables in load order, each with its columns and key. Everything else is derived from it: validation
(`measures.contract.validate`), the data dictionary in Dutch and English and the empty templates a deliverer
fills in (`measures.contract.templates`), the warehouse schema and the column schemas shown in the Dagster UI.

A column is written out in full, or taken from the shared columns (`columns.yaml`: one home for e.g. the
pseudonym columns) with `use: NAME`, any field overridden:

    tables:
      - name: cases
        description_nl: ...
        description_en: ...
        key: [employee_id]
        date_order: [{column: end_date, not_before: absence_start}]
        columns:
          - use: employee_id
          - {use: employer_id, references: employers.employer_id}
          - {name: offered, kind: date, nullable: true, example: "", description_nl: ..., description_en: ...}

The model checks the whole when it is built (keys, references to earlier tables, enum values, date rules);
problems raise `ContractError` naming the file, table and column.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from toc.errors import UserError
from toc.lang import Lang
from toc.load import SafeLoader

#: Where the study designs (and with them the contracts) live; the AKC pilot's is the default.
STUDIES_DIR = Path(__file__).resolve().parents[2] / "studies"
AKC_DESIGN_FILE = STUDIES_DIR / "akc-pilot.yaml"
COLUMNS_PATH = Path(__file__).with_name("columns.yaml")

ColumnKind = Literal["id", "enum", "date", "month", "number", "text"]
#: File types a table may come in; the base name of the file is the table name.
TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")


_RULE_WORDS: dict[Lang, dict[str, str]] = {
    "nl": {
        "id": "pseudoniem: 1-64 letters, cijfers of _ . : - (geen BSN, naam, e-mailadres of telefoonnummer)",
        "date": "datum (JJJJ-MM-DD of DD-MM-JJJJ)",
        "month": "maand (JJJJ-MM)",
        "number": "getal",
        "text": "vrije tekst",
        "enum": "keuze",
        "range": " van {low:g} t/m {high:g}",
        "whole": ", geheel",
        "code": "code uit de catalogus van de toolkit",
        "aliases": " (ook: {aliases})",
        "length": ", hoogstens {n} tekens",
        "descriptive": "; een ongeldige waarde wordt leeggemaakt, de rij blijft (waarschuwing)",
    },
    "en": {
        "id": "pseudonym: 1-64 letters, digits or _ . : - (never a BSN, name, e-mail address or phone number)",
        "date": "date (YYYY-MM-DD or DD-MM-YYYY)",
        "month": "month (YYYY-MM)",
        "number": "number",
        "text": "free text",
        "enum": "one of",
        "range": " from {low:g} to {high:g}",
        "whole": ", whole",
        "code": "a code from the toolkit's catalogue",
        "aliases": " (also: {aliases})",
        "length": ", at most {n} characters",
        "descriptive": "; an invalid value is emptied, the row kept (a warning)",
    },
}


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: ColumnKind
    description_nl: str
    description_en: str
    example: str
    required: bool = True  # the column must be in the file
    nullable: bool = False  # a cell may be empty
    values: tuple[str, ...] = ()  # allowed values of an enum
    aliases: dict[str, str] = Field(default_factory=dict)  # accepted spelling -> value (Dutch words)
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False  # a number that must be whole (counts, days)
    references: str | None = None  # "table.column" this column must match (a foreign key)
    catalogue: bool = False  # an id that is a code of our own catalogues (checked there), not a pseudonym
    scrub: bool = False  # free text: remove names, e-mail addresses, phone numbers, BSNs, IBANs, addresses
    max_length: int | None = None  # free text: a longer cell is emptied (a warning) before it is scrubbed
    # Severity by what a value is for: a key, group, date or measurement that is wrong quarantines its row; a
    # descriptive value (nothing is computed from it) that is wrong is emptied and the row kept, with a warning.
    descriptive: bool = False

    def rule(self, lang: Lang) -> str:
        """The rule in words, for the data dictionary, error details and the UI's column schema."""
        words = _RULE_WORDS[lang]
        rule = words["code"] if self.catalogue else words[self.kind]
        if self.values:
            rule += ": " + ", ".join(self.values)
        if self.minimum is not None and self.maximum is not None:
            rule += words["range"].format(low=self.minimum, high=self.maximum)
        if self.aliases:
            rule += words["aliases"].format(aliases=", ".join(self.aliases))
        if self.integer:
            rule += words["whole"]
        if self.max_length:
            rule += words["length"].format(n=self.max_length)
        if self.descriptive:
            rule += words["descriptive"]
        return rule


class DateOrder(BaseModel):
    """A rule across the columns of one row: the date in `column` may not lie before the one in `not_before`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    not_before: str


class Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description_nl: str
    description_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # a later row with the same key is a duplicate
    required: bool = True  # the table must be in every drop
    max_rows: int = 10_000_000  # more rows are refused before they are read (`measures.contract.limits`)
    date_order: tuple[DateOrder, ...] = ()  # rules across the dates of one row (a broken one quarantines it)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


class Contract(BaseModel):
    """A study's data contract: its tables in load order (a table's references point only at tables before it),
    checked as a whole when it is built. The AKC pilot's is `AKC`; the other studies declare theirs as data in
    their design file (`measures.contract.declared`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    title_nl: str
    title_en: str
    tables: tuple[Table, ...] = Field(min_length=1)

    @property
    def by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        seen: dict[str, Table] = {}
        for table in self.tables:
            if table.name in seen:
                raise ValueError(f"table '{table.name}' is declared twice")
            names = table.column_names
            for problem in _table_problems(table, names, seen):
                raise ValueError(f"table '{table.name}': {problem}")
            seen[table.name] = table
        return self


def _table_problems(table: Table, names: list[str], earlier: dict[str, Table]) -> list[str]:
    problems = [f"column '{n}' is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    problems += [f"key column '{k}' is not a column" for k in table.key if k not in names]
    for column in table.columns:
        if column.kind == "enum" and not column.values:
            problems.append(f"column '{column.name}': an enum needs its values")
        if column.references:
            target, _, target_column = column.references.partition(".")
            if target not in earlier or target_column not in earlier[target].column_names:
                problems.append(
                    f"column '{column.name}' refers to {column.references}, which is not a column of an earlier table"
                )
    kinds = {c.name: c.kind for c in table.columns}
    for rule in table.date_order:
        for name in (rule.column, rule.not_before):
            if kinds.get(name) != "date":
                problems.append(f"date_order: '{name}' is not a date column")
    return problems


class ContractError(UserError):
    """A declared contract that cannot be built; the message names the file, table and column."""


@cache
def shared_columns() -> dict[str, dict[str, Any]]:
    """The shared column declarations by name (`columns.yaml`)."""
    return yaml.load(COLUMNS_PATH.read_text(encoding="utf-8"), Loader=SafeLoader)


def contract_from_mapping(raw: Any, contract_id: str, where: str) -> Contract:
    """Build the contract `contract_id` from its declaration (`where` names the file in messages)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), list):
        raise ContractError(f"{where}: contract: expected a mapping with version, title_nl, title_en, tables")
    tables = [_table(t, where) for t in raw["tables"]]
    try:
        return Contract.model_validate({**raw, "id": contract_id, "tables": tables})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ContractError(f"{where}: contract: {location + ': ' if location else ''}{message}") from None


def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), list):
        raise ContractError(f"{where}: contract: every table needs a name and a list of columns")
    return {**raw, "columns": [_column(c, raw.get("name", "?"), where) for c in raw["columns"]]}


def _column(raw: Any, table: str, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: contract: table '{table}': a column is a mapping (or `use: NAME`)")
    if "use" not in raw:
        return raw
    fields = dict(raw)
    name = fields.pop("use")
    if name not in shared_columns():
        known = ", ".join(sorted(shared_columns()))
        raise ContractError(f"{where}: contract: table '{table}': no shared column '{name}' (shared: {known})")
    return {**shared_columns()[name], **fields}


def _akc_contract() -> Contract:
    raw = yaml.load(AKC_DESIGN_FILE.read_text(encoding="utf-8"), Loader=SafeLoader)
    return contract_from_mapping(raw["contract"], raw["id"], AKC_DESIGN_FILE.name)


#: The AKC pilot's contract (the default design's), and its tables in load order.
AKC = _akc_contract()
TABLES: dict[str, Table] = AKC.by_name
CONTRACT_VERSION = AKC.version
SURVEY = TABLES["survey"]
WAVES: tuple[str, ...] = SURVEY.column("wave").values
GROUPS: tuple[str, ...] = TABLES["employers"].column("group").values
#: How an absence can end (cases.end_reason); only a return to work is an event for the time to return.
END_REASONS: tuple[str, ...] = TABLES["cases"].column("end_reason").values
#: Months after inclusion at which each wave is asked (the `wave` column's description says it in words).
WAVE_MONTHS = {"t0": 0, "t1": 1, "t2": 12}
