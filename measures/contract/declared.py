"""Contracts declared as data: the `contract:` of a study design (studies/*.yaml) as a `Contract`.

A contract is a list of tables in load order; a column is written out in full, or taken from the shared
columns (`columns.yaml`, one home for e.g. the pseudonym columns) with `use: NAME` and any fields overridden:

    contract:
      version: "1.0"
      title_nl: ...
      title_en: ...
      tables:
        - name: cases
          description_nl: ...
          description_en: ...
          key: [employee_id]
          columns:
            - use: employee_id
            - {use: employer_id, references: employers.employer_id}
            - {name: offered, kind: date, nullable: true, ...}

The model (`measures.contract.tables`) checks the whole: keys, references to earlier tables, enum values,
date rules. Problems raise `ContractError` naming the table and column.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from measures.contract.tables import Contract
from toc.errors import UserError
from toc.load import SafeLoader

COLUMNS_PATH = Path(__file__).with_name("columns.yaml")


class ContractError(UserError):
    """A declared contract that cannot be built; the message names the file, table and column."""


@cache
def shared_columns() -> dict[str, dict[str, Any]]:
    """The shared column declarations by name."""
    return yaml.load(COLUMNS_PATH.read_text(encoding="utf-8"), Loader=SafeLoader)


def contract_from_mapping(raw: dict[str, Any], contract_id: str, where: str) -> Contract:
    """Build the contract `contract_id` from its declaration (`where` names the file in messages)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), list):
        raise ContractError(f"{where}: contract: expected a mapping with version, title_nl, title_en, tables")
    tables = [_table(t, where) for t in raw["tables"]]
    try:
        return Contract.model_validate({**raw, "id": contract_id, "tables": tables})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"])
        raise ContractError(f"{where}: contract: {location + ': ' if location else ''}{_msg(first)}") from None


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


def _msg(error: Any) -> str:
    return str(error["msg"]).removeprefix("Value error, ")
