"""Reading and writing a free-form table (a panel for `pilot did`, a file to pseudonymise).

Unlike a drop, such a file has no contract: only the columns the caller needs must be there.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from measures.contract.read import cells_as_text, sniff_delimiter
from toc.errors import UserError

if TYPE_CHECKING:
    import duckdb


def read_panel(path: Path, columns: list[str], as_text: bool = False) -> pd.DataFrame:
    """CSV (comma, or semicolon with decimal comma), XLSX or Parquet; `as_text` keeps every cell as text."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    dtype = str if as_text else None
    if suffix == ".csv":
        sep = sniff_delimiter(path)
        try:
            frame = pd.read_csv(
                path,
                sep=sep,
                decimal="," if sep == ";" else ".",
                dtype=dtype,
                encoding="utf-8-sig",
                keep_default_na=not as_text,
            )
        except pd.errors.ParserError as exc:  # pandas names the line and the field counts, never a cell
            raise UserError(f"{path.name}: {str(exc).removeprefix('Error tokenizing data. C error: ')}") from None
        frame.attrs["csv_delimiter"] = sep  # `write_panel` writes the file back in the same dialect
    elif suffix == ".xlsx":
        frame = pd.read_excel(path, engine="calamine")
    elif suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        raise UserError(f"{path.name}: expected a .csv, .xlsx or .parquet file")
    if as_text and suffix != ".csv":
        # every cell as the text a CSV would hold: an empty cell stays empty (not "nan"), and the number
        # 123456782.0 is "123456782", so that an id gets the same pseudonym whatever the file type
        frame = cells_as_text(frame)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError(
            f"{path.name}: missing column {', '.join(repr(c) for c in missing)} (has {', '.join(frame.columns)})"
        )
    return frame


def write_panel(frame: pd.DataFrame, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False, sep=frame.attrs.get("csv_delimiter", ","))
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        raise UserError(f"{path.name}: expected a .csv, .xlsx or .parquet file")


def panel_view(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], numeric: list[str]) -> str:
    """A view named ``panel_file`` over a CSV or Parquet file in ``con``, read by DuckDB where it lies (never
    into memory: for files larger than it). Its name, or a UserError naming the file and the column that is
    missing or holds text where ``numeric`` columns need numbers (counted, never shown: a cell may identify)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    literal = _quoted(str(path))
    if suffix == ".csv":
        sep = sniff_delimiter(path)
        # every cell read as text, so that a number that does not parse is found (and counted) below; the dialect
        # given rather than sniffed, so that DuckDB names the line of a row it cannot read
        names = ", ".join(f"{_quoted(name)}: 'VARCHAR'" for name in _header(path, sep))
        source = (
            f"read_csv({literal}, delim = '{sep}', quote = '\"', escape = '\"', header = true, "
            f"auto_detect = false, columns = {{{names}}})"
        )
        comma = sep == ";"  # Dutch Excel: semicolons and decimal commas
        number = "TRY_CAST(replace(trim({}), ',', '.') AS DOUBLE)" if comma else "TRY_CAST(trim({}) AS DOUBLE)"
    elif suffix == ".parquet":
        source, number = f"read_parquet({literal})", "TRY_CAST({} AS DOUBLE)"
    else:
        raise UserError(f"{path.name}: the SQL engine reads .csv or .parquet files (not {suffix or 'this file'})")
    import duckdb

    try:
        return _checked_view(con, path, source, number, columns, numeric)
    except duckdb.Error as exc:  # a row DuckDB cannot read: its message quotes the row, so it is not passed on
        raise UserError(f"{path.name}: {_unreadable(str(exc))}") from None


def _quoted(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _header(path: Path, sep: str) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return [name.strip() for name in next(csv.reader(fh, delimiter=sep), [])]  # as `read_panel` names them


def _unreadable(message: str) -> str:
    """What DuckDB could not read, from its message without the lines that quote the file ("Original Line")."""
    line = re.search(r"CSV Error on Line: (\d+)", message)
    columns = re.search(r"Expected Number of Columns: \d+ Found: \d+", message)
    if line:
        return f"line {line.group(1)}: not a row of the table" + (f" ({columns.group(0)})" if columns else "")
    return f"DuckDB cannot read it as a table ({message.split(':', 1)[0]})"


def _checked_view(
    con: duckdb.DuckDBPyConnection, path: Path, source: str, number: str, columns: list[str], numeric: list[str]
) -> str:
    con.execute(f"CREATE OR REPLACE TEMP VIEW panel_source AS SELECT * FROM {source}")
    found = [name for (name,) in con.execute("SELECT column_name FROM (DESCRIBE panel_source)").fetchall()]
    missing = [c for c in columns if c not in found]
    if missing:
        raise UserError(f"{path.name}: missing column {', '.join(repr(c) for c in missing)} (has {', '.join(found)})")
    quoted = {c: '"' + c.replace('"', '""') + '"' for c in columns}
    for column in dict.fromkeys(numeric):
        # a number that does not parse would otherwise become a missing value and drop its row silently
        (bad,) = con.execute(
            f"SELECT count(*) FROM panel_source WHERE {quoted[column]} IS NOT NULL "
            f"AND trim({quoted[column]}::VARCHAR) <> '' AND {number.format(quoted[column])} IS NULL"
        ).fetchone() or (0,)
        if bad:
            raise UserError(f"{path.name}: column {column!r}: {bad:,} rows hold no number")
    # the other columns are labels (entity, period, cluster): text whatever the file type, so that the parts of
    # one panel (`pipelines/defs/sector.py`) agree, CSV or Parquet
    select = ", ".join(
        f"{number.format(quoted[c])} AS {quoted[c]}" if c in numeric else f"{quoted[c]}::VARCHAR AS {quoted[c]}"
        for c in dict.fromkeys(columns)
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW panel_file AS SELECT {select} FROM panel_source")
    return "panel_file"
