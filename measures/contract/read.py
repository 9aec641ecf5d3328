"""Reading a drop: one folder per delivery, one file per table (CSV, XLSX or Parquet).

Every cell is read as text and projected onto the contract's columns straight away, so that a column
outside the contract (a name, an address) never gets past this module; only its name is reported.
Row numbers are those the deliverer sees in the file (the header is row 1). Blank rows are skipped
and not counted. Parsing of values (dates, decimal commas) happens in `measures.contract.validate`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from python_calamine import CalamineError

from measures.contract.arrow_text import TEXT
from measures.contract.tables import TABLE_SUFFIXES, TABLES, Table
from toc.errors import UserError

#: Files in a drop that are not tables and are skipped without a word.
IGNORED_SUFFIXES = (".json", ".md", ".txt", ".pdf", ".docx")


class DropError(UserError):
    """A file-level problem: the drop cannot be evaluated until the deliverer fixes it."""


@dataclass(frozen=True)
class RawTable:
    """A table as read from its file: contract columns as text, with the file's row numbers."""

    table: Table
    path: Path
    sha256: str
    frame: pd.DataFrame  # contract columns only, every value text ("" when empty)
    rows: np.ndarray  # file row number of each frame row
    rows_in: int  # non-blank data rows in the file, including malformed ones
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason) the parser rejected
    dropped_columns: list[str] = field(default_factory=list)  # names only, never values


def sha256_of(path: Path) -> str:
    """The file's SHA-256, computed once per version of the file (a run asks for it several times)."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(drop: Path, complete: bool = True) -> dict[str, Path]:
    """Table name -> file. Unknown tables, doubles and (when the drop must be `complete`) missing required
    tables are DropErrors."""
    drop = Path(drop)
    if not drop.is_dir():
        raise DropError(f"{drop}: not a folder (a drop is one folder per delivery)")
    found: dict[str, Path] = {}
    for path in sorted(drop.iterdir()):
        if not is_table_file(path):
            continue
        name = path.stem.lower()
        if name not in TABLES:
            raise DropError(f"{path.name}: unknown table '{path.stem}' (expected one of {', '.join(TABLES)})")
        if name in found:
            raise DropError(f"{path.name}: table '{name}' delivered twice (also {found[name].name})")
        found[name] = path
    missing = [t.name for t in TABLES.values() if t.required and t.name not in found]
    if missing and complete:
        raise DropError(f"missing table(s) {', '.join(missing)} in the drop (as .csv, .xlsx or .parquet)")
    return found


def is_table_file(path: Path) -> bool:
    if not path.is_file() or path.name.startswith((".", "~$")):
        return False
    return path.suffix.lower() in TABLE_SUFFIXES


def read_table(path: Path, table: Table) -> RawTable:
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame, rows, malformed = _read_csv(path)
        elif suffix == ".xlsx":
            frame, rows, malformed = _read_xlsx(path, table.name)
        else:
            frame, rows, malformed = _read_parquet(path)
    except DropError:
        raise
    except UnicodeDecodeError as exc:  # a header that is not UTF-8 (UTF-16 "Unicode text", ANSI)
        raise DropError(f"{path.name}: not UTF-8 text (save it as 'CSV UTF-8')") from exc
    except (OSError, ValueError, pa.ArrowException, KeyError, CalamineError) as exc:
        raise DropError(f"{path.name}: cannot be read ({_short(exc)})") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in table.required_columns if c not in frame.columns]
    if missing:
        raise DropError(f"{path.name}: missing required column {', '.join(repr(c) for c in missing)}")
    # judged on every column the deliverer sent; a cell of spaces is empty too
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        blank &= (frame[column].str.strip() == "").to_numpy(dtype=bool, na_value=True)
    dropped = [c for c in frame.columns if c and c not in table.column_names]  # "" after a trailing delimiter
    frame = frame.loc[~blank, [c for c in table.column_names if c in frame.columns]].reset_index(drop=True)
    rows = rows[~blank]
    for name in table.column_names:
        if name not in frame.columns:  # an optional column the deliverer left out
            frame[name] = pd.Series("", index=frame.index, dtype=TEXT)
    return RawTable(
        table=table,
        path=path,
        sha256=sha256_of(path),
        frame=frame,
        rows=rows,
        rows_in=len(frame) + len(malformed),
        malformed=malformed,
        dropped_columns=dropped,
    )


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """pyarrow's CSV reader. Multi-threaded first; only when it had to skip a line is the file read again
    single-threaded, because only then do the skipped lines know their line numbers."""
    delimiter = sniff_delimiter(path)
    header = _header(path, delimiter)
    arrow, rejected, malformed = _parse_csv(path, delimiter, header, threads=True)
    if rejected:
        arrow, rejected, malformed = _parse_csv(path, delimiter, header, threads=False)
    frame = arrow.to_pandas(types_mapper={pa.string(): TEXT}.get)
    # pyarrow numbers records from 1 (the header), as Excel numbers rows (a quoted line break stays in its
    # row); every record is a row, bad, blank or not. Skipped blank lines (only delimiters, fewer of them
    # than the header) count too, or the rows after them would get the wrong number.
    lines = np.arange(2, arrow.num_rows + len(rejected) + 2, dtype=np.int64)
    kept = np.ones(len(lines), dtype=bool)
    kept[np.asarray(rejected, dtype=np.int64) - 2] = False
    return frame, lines[kept], sorted(malformed)


def _parse_csv(path: Path, delimiter: str, header: list[str], threads: bool):
    """(table, line numbers skipped, [(line, reason)] of malformed lines); line numbers are None when threaded."""
    malformed: list[tuple[int, str]] = []
    rejected: list[int | None] = []  # every line the parser skipped, blank or malformed

    def reject(row: pacsv.InvalidRow) -> str:
        reason = "too_many_fields" if row.actual_columns > row.expected_columns else "too_few_fields"
        rejected.append(row.number)
        if row.text.strip(delimiter + " \t\r"):  # a row of only delimiters or spaces is blank, not malformed
            malformed.append((row.number, reason))
        return "skip"

    try:
        arrow = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=reject),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise DropError(f"{path.name}: not UTF-8 text (save it as 'CSV UTF-8')") from exc
        raise
    return arrow, rejected, malformed


def _header(path: Path, delimiter: str) -> list[str]:
    """The header's names exactly as pyarrow will see them (quotes removed, spaces kept), so that every
    column, also " ao_pct" after a comma and a space, is read as text and never inferred as a number."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return next(csv.reader(fh, delimiter=delimiter), [])


def sniff_delimiter(path: Path) -> str:
    """Comma, semicolon (Dutch Excel) or tab: whichever the header line holds most of."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()
    if not head:
        raise DropError(f"{path.name}: empty file")
    return max((";", ",", "\t"), key=head[0].count)


def _read_xlsx(path: Path, table: str) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """The sheet named after the table, else the first sheet; row numbers as Excel shows them."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = {n.lower(): n for n in book.sheet_names}
    sheet = book.get_sheet_by_name(names.get(table, book.sheet_names[0]))
    cells = sheet.to_python(skip_empty_area=False)
    if not cells:
        raise DropError(f"{path.name}: the sheet is empty")
    header = [cell_text(c) for c in cells[0]]
    width = len(header)
    data = [[cell_text(c) for c in row[:width]] + [""] * (width - len(row)) for row in cells[1:]]
    frame = pd.DataFrame(data, columns=header, dtype=TEXT) if data else pd.DataFrame(columns=header, dtype=TEXT)
    return frame, np.arange(2, len(data) + 2, dtype=np.int64), []


def _read_parquet(path: Path) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    frame = pq.read_table(path).to_pandas()
    text = cells_as_text(frame, dtype=TEXT)
    return text, np.arange(2, len(text) + 2, dtype=np.int64), []


def cells_as_text(frame: pd.DataFrame, dtype: object = None) -> pd.DataFrame:
    """Every cell of a typed frame (spreadsheet, Parquet) as the text a CSV would hold."""
    return pd.DataFrame({c: frame[c].map(cell_text) for c in frame.columns}, index=frame.index, dtype=dtype)


def cell_text(value: object) -> str:
    """A typed spreadsheet or Parquet cell as the text a CSV would hold."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""  # pd.NA: a nullable (string, Int64) Parquet column restored by pandas
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
