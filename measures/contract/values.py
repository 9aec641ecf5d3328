"""Cells as typed values: numbers, dates, months and enum spellings, a million at a time in Arrow's kernels.

- Numbers: a decimal point or a Dutch decimal comma; anything else is not a number.
- Dates: ISO `2026-03-01` (optionally with a time of day: `2026-03-01 00:00:00`, `2026-03-01T08:30`) or Dutch
  `01-03-2026` / `1-3-2026`. The whole cell must be the date: `2025-08-08 garbage` is not one. The day must
  exist (no 31 February).
- Months: `2026-03`, `2026-03-01` or Dutch `03-2026`, kept as their first day.
- Both are checked against a plausibility window (`Limits.date_window`) on whole days, before they become
  nanosecond timestamps, so that `2300-01` is outside the window, never 1715-06-13.
- Enums: case, spaces and the kind of dash do not matter (`50 – 249` is `50-249`); a spelling listed in the
  column's aliases maps to its value.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from measures.contract.arrow_text import TEXT, arrow
from measures.contract.tables import Column

_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_DATES = (
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$",
    r"^(?P<day>\d{1,2})-(?P<month>\d{1,2})-(?P<year>\d{4})$",
)
_MONTHS = (
    r"^(?P<year>\d{4})-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?$",  # 2026-03, 2026-03-01
    r"^(?P<month>\d{1,2})-(?P<year>\d{4})$",  # Dutch 03-2026
)


def parse_number(text: pd.Series) -> pd.Series:
    """Numbers with a decimal point or a Dutch decimal comma; anything else becomes NaN.

    In Arrow's kernels: a regular expression says which cells are numbers, and only those are cast."""
    values = arrow(text.astype(TEXT).str.strip().str.replace(",", ".", regex=False))
    valid = pc.match_substring_regex(values, _NUMBER)
    numbers = pc.cast(pc.if_else(valid, values, pa.scalar(None, pa.string())), pa.float64())
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")


def parse_date(text: pd.Series, window: tuple[dt.date, dt.date] | None = None) -> tuple[pd.Series, np.ndarray]:
    """ISO or Dutch dates as timestamps (NaT where not a date or outside the window), and a mask of the
    cells that are real dates outside the window."""
    return _parse_days(text, _DATES, window, whole_month=False)


def parse_month(text: pd.Series, window: tuple[dt.date, dt.date] | None = None) -> tuple[pd.Series, np.ndarray]:
    """A calendar month as its first day (NaT where not a month or outside the window), and a mask of the
    cells that are real months outside the window."""
    return _parse_days(text, _MONTHS, window, whole_month=True)


def _parse_days(
    text: pd.Series, patterns: tuple[str, ...], window: tuple[dt.date, dt.date] | None, whole_month: bool
) -> tuple[pd.Series, np.ndarray]:
    values = pc.utf8_trim_whitespace(arrow(text))
    n = len(text)
    year, month, day = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    for pattern in patterns:
        parts = pc.extract_regex(values, pattern)
        matched = parts.is_valid()
        found = matched.to_numpy(zero_copy_only=False) & (year < 0)
        names = [f.name for f in parts.type]
        for name, target in (("year", year), ("month", month), ("day", day)):
            if name not in names:
                continue
            digits = pc.if_else(matched, pc.struct_field(parts, name), "1")  # unmatched rows hold no digits
            digits = pc.if_else(pc.equal(digits, ""), "1", digits)  # an optional day left out
            target[found] = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)[found]
    ok = (year >= 0) & (month >= 1) & (month <= 12)
    start = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    length = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)
    if whole_month:
        day = np.ones(n, dtype=np.int64)
    ok &= (day >= 1) & (day <= length)
    days = start.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    outside = np.zeros(n, dtype=bool)
    if window is not None:
        low, high = (np.datetime64(d, "D") for d in window)
        outside = ok & ((days < low) | (days > high))
    usable = ok & ~outside
    # only days inside the window (or between 1970 +/- 290 years) become nanosecond timestamps
    stamps = np.where(usable, days, np.datetime64("1970-01-01")).astype("datetime64[ns]")
    stamps[~usable] = np.datetime64("NaT")
    return pd.Series(stamps, index=text.index, dtype="datetime64[ns]"), outside


def enum_values(column: Column, text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Each cell as one of the column's values where its spelling allows (else as typed, lower case), and per
    cell the index of the alias it was read through (-1: none), so that the spellings can be reported."""
    spelled = pc.utf8_lower(arrow(text))
    spelled = pc.replace_substring_regex(spelled, r"[\x{2010}-\x{2015}\x{2212}]", "-")  # dashes and minus
    spelled = pc.replace_substring_regex(spelled, r"\s+", "")
    spellings = pa.array(list(column.aliases), pa.string())
    meaning = pa.array(list(column.aliases.values()), pa.string())
    where = pc.index_in(spelled, value_set=spellings)
    mapped = pc.if_else(where.is_valid(), pc.take(meaning, where), spelled) if column.aliases else spelled
    mapped = mapped.combine_chunks() if isinstance(mapped, pa.ChunkedArray) else mapped
    values = pd.Series(pd.arrays.ArrowExtensionArray(mapped), index=text.index, dtype=TEXT)  # no Python strings
    return values, where.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
