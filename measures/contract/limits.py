"""What a drop may cost and which dates are plausible: checked before anything is expanded in memory.

- Rows per table (`Table.max_rows`, overridable per table): a CSV's lines are counted and a Parquet file's
  row count is read from its footer before a single cell is read; an XLSX sheet's height before its cells.
- Bytes per file (`max_file_bytes`), and for a packed format (Parquet, XLSX) how many rows it may unpack per
  byte (`max_rows_per_byte`): a 60 kB Parquet of 5 million identical rows is refused in milliseconds. Real
  pilot files pack 3-120 bytes per row (the simulated survey, the most repetitive, 2.8).
- Text: each free-text cell has a length limit (`Column.max_length`); a longer cell is emptied, with a
  warning, before any pattern looks at it.
- Dates and months must lie within a plausibility window, by default from 1990-01-01 to one year after
  today; dates outside it are quarantined, never wrapped around (datetime64[ns] ends in 2262).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from measures.contract.tables import AKC, Contract, Table
from toc.errors import UserError

EARLIEST_DATE = dt.date(1990, 1, 1)
#: The share of a required table's rows that may be quarantined before a delivery is refused
#: (`measures.contract.usability`; `pilot run --max-quarantine-share`).
MAX_QUARANTINE_SHARE = 0.5


@dataclass(frozen=True)
class Limits:
    max_rows: Mapping[str, int] = field(default_factory=dict)  # table -> rows; the contract's default otherwise
    max_file_bytes: int = 4 << 30
    max_rows_per_byte: float = 4.0
    earliest_date: dt.date = EARLIEST_DATE
    latest_date: dt.date | None = None  # None: one year after today

    def rows_for(self, table: Table | str) -> int:
        """The row limit of a table (by name: the AKC contract's table)."""
        declared = table if isinstance(table, Table) else AKC.by_name[table]
        return int(self.max_rows.get(declared.name, declared.max_rows))

    def date_window(self) -> tuple[dt.date, dt.date]:
        latest = self.latest_date or _one_year_after(dt.date.today())
        return self.earliest_date, latest


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def parse_max_rows(items: list[str], contract: Contract = AKC) -> dict[str, int]:
    """`TABLE=N` settings (command line) as a mapping; an unknown table or a bad number is a UserError."""
    limits = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in contract.by_name or not number.strip().isdigit() or int(number) < 1:
            raise UserError(f"--max-rows expects TABLE=N with a table of the contract and N >= 1, got {item!r}")
        limits[name] = int(number)
    return limits
