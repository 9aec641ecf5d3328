"""Whether a validated delivery can be evaluated at all, decided before anything is stored or estimated.

A delivery is refused, with one message that names the root cause (file, row, column, reason), when:

- a required table lost more than `max_share` of its rows to the quarantine (default `MAX_QUARANTINE_SHARE`,
  half): such a delivery is broken, not merely imperfect, and its estimates would describe the rows that
  happened to survive;
- no employer, no case or no administrative month was loaded;
- one of the two groups has no employer with a loaded case (a design without a comparison, or without an
  intervention, has no difference to estimate).

The message says where to look first: the most frequent reason, and for rows quarantined because of their
parent the parent's own file, row and column. `pilot validate` lists every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from measures.contract.limits import MAX_QUARANTINE_SHARE
from measures.contract.tables import AKC, GROUPS, Contract
from measures.contract.validate import DropResult, TableResult
from toc.errors import UserError

#: Tables without which nothing can be estimated: at least one row of each must load (the AKC pilot's).
NEEDED = ("employers", "cases", "admin")


@dataclass(frozen=True)
class Groups:
    """Where a contract keeps its groups: the clusters' table and column, and the table of people in them."""

    clusters: str = "employers"
    cluster: str = "employer_id"
    people: str = "cases"
    values: tuple[str, ...] = GROUPS


class UnusableDelivery(UserError):
    """A delivery that leaves nothing (or too little) to evaluate; the message names the root cause."""


def check_usable(
    result: DropResult,
    max_share: float = MAX_QUARANTINE_SHARE,
    groups: bool = True,
    contract: Contract = AKC,
    needed: tuple[str, ...] = NEEDED,
    where: Groups | None = Groups(),
) -> None:
    """Raise `UnusableDelivery` with the first reason the delivery cannot be evaluated, in load order (the
    employers before their cases, the cases before their months), so that the root cause comes first.
    `groups`: also require both groups (False for a delivery to a study, whose other group may come later);
    `where`: the contract's groups (None: a design without a comparison group)."""
    for name, table in contract.by_name.items():
        found = result.tables.get(name)
        if found is None or not table.required:
            continue
        lost = len(found.quarantine)
        if name in NEEDED and not len(found.loaded):
            cause = _first_cause(found) if lost else "the file holds no rows"
            raise UnusableDelivery(f"{found.source_file}: no usable row; {cause}")
        if lost > max_share * found.rows_in:
            raise UnusableDelivery(
                f"{found.source_file}: {lost} of {found.rows_in} rows quarantined, more than {max_share:.0%}; "
                f"{_first_cause(found)} (`pilot validate` lists every row)"
            )
    if groups and where is not None:
        _check_groups(result, where)


def _check_groups(result: DropResult, where: Groups) -> None:
    employers, cases = result.tables.get(where.clusters), result.tables.get(where.people)
    if employers is None or cases is None:
        return
    with_cases = employers.loaded[where.cluster].isin(cases.loaded[where.cluster])
    for group in where.values:
        in_group = (employers.loaded["group"] == group).to_numpy()
        if (in_group & with_cases.to_numpy()).any():
            continue
        if in_group.any():
            cause = f"its {int(in_group.sum())} employer(s) have no usable case in {cases.source_file}"
        else:
            lost = employers.quarantine
            cause = f"no employer of {employers.source_file} is in it" + (
                f"; {_first_cause(employers)}" if len(lost) else ""
            )
        raise UnusableDelivery(f"no usable employer in the {group} group: {cause}")


def _first_cause(found: TableResult) -> str:
    """The most frequent reason of a table's quarantine, at its first row, with its root cause."""
    quarantine = found.quarantine
    reason = str(quarantine["reason"].astype(str).value_counts().index[0])
    first = quarantine.loc[quarantine["reason"].astype(str) == reason].iloc[0]
    where = f"{found.source_file} row {first['row']}, column {first['column']}"
    detail = str(first["detail"]) if pd.notna(first["detail"]) else ""
    if reason == "parent_quarantined" and "root cause: " in detail:
        return f"most often {reason} (first {where}; root cause {detail.split('root cause: ', 1)[1]})"
    return f"most often {reason} (first {where})"
