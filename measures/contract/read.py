"""Reading a drop: one folder per delivery, one file per table (CSV, XLSX or Parquet).

Every cell is read as text and projected onto the contract's columns straight away, so that a column
outside the contract (a name, an address) never gets past this module. Rules:

- A table is a regular file inside the drop: a link to a file elsewhere is refused. Its size and row count
  are checked against `Limits` before its cells are read (`measures.contract.limits`).
- Columns are taken by position. A header is matched to the contract after Unicode NFKC, trimming and
  case-folding (`AO_PCT ` is `ao_pct`). A column outside the contract is reported by its position only
  (`column 7`): a header may itself be an identifier. An unnamed column without any value (the trailing
  `,,` of Excel) is ignored. A contract column that appears twice is a file error naming the column.
- Row numbers are those the deliverer sees in the file (the header is row 1). Blank rows are skipped and
  not counted. Parsing of values (dates, decimal commas) happens in `measures.contract.validate`.
- CSV is UTF-8 (with or without BOM) or, failing that, Windows-1252 (what Dutch Excel writes).
- Messages name the file, a row or a column, never a cell and never a parser's own message (which may
  quote a whole line). A file name that might be personal is not repeated either.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import stat
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from python_calamine import CalamineError

from measures.contract.arrow_text import TEXT
from measures.contract.identifiers import looks_like_identifier, normalised
from measures.contract.limits import Limits
from measures.contract.tables import AKC, TABLE_SUFFIXES, Contract, Table
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
    dropped_columns: list[str] = field(default_factory=list)  # "column 7": positions, never header names


@dataclass(frozen=True)
class _Sheet:
    """A file's cells by position: the header's names and one Arrow string array per column."""

    header: list[str]
    columns: list[pa.Array]
    rows: np.ndarray
    malformed: list[tuple[int, str]]


def sha256_of(path: Path) -> str:
    """The file's SHA-256, computed once per version of the file (a run asks for it several times)."""
    stat_ = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat_.st_size, stat_.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_label(path: Path) -> str:
    """A file's name as messages may show it: withheld when it looks like a personal identifier."""
    name = Path(path).name
    return "a file (name withheld: it may identify a person)" if looks_like_identifier(Path(name).stem) else name


def discover(drop: Path, complete: bool = True, contract: Contract = AKC) -> dict[str, Path]:
    """Table name -> file. Unknown tables, doubles, links out of the drop and (when the drop must be
    `complete`) missing required tables of the `contract` are DropErrors."""
    tables = contract.by_name
    drop = Path(drop)
    if not drop.is_dir():
        raise DropError("the drop is not a folder (a drop is one folder per delivery)")
    found: dict[str, Path] = {}
    for path in sorted(drop.iterdir()):
        if not is_table_file(path):
            continue
        name = path.stem.lower()
        if name not in tables:
            raise DropError(f"{file_label(path)}: unknown table (expected one of {', '.join(tables)})")
        if name in found:
            raise DropError(f"{path.name}: table '{name}' delivered twice (also {found[name].name})")
        _check_inside(path, drop)
        found[name] = path
    missing = [t.name for t in tables.values() if t.required and t.name not in found]
    if missing and complete:
        raise DropError(f"missing table(s) {', '.join(missing)} in the drop (as .csv, .xlsx or .parquet)")
    return found


def is_table_file(path: Path) -> bool:
    if path.name.startswith((".", "~$")) or path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    return path.is_symlink() or path.is_file()


def _check_inside(path: Path, drop: Path) -> None:
    """A table is a regular file in the drop itself; a link may only point at one."""
    target = path.resolve()
    if path.is_symlink() and not target.is_relative_to(drop.resolve()):
        raise DropError(f"{path.name}: a link to a file outside the drop; put the file itself in the drop")
    if not target.exists() or not stat.S_ISREG(target.stat().st_mode):
        raise DropError(f"{path.name}: not a regular file")


def read_table(path: Path, table: Table, limits: Limits | None = None) -> RawTable:
    path, limits = Path(path), limits or Limits()
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise DropError(f"{path.name}: {size:,} bytes, more than the limit of {limits.max_file_bytes:,}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            sheet = _read_csv(path, limits.rows_for(table))
        elif suffix == ".xlsx":
            sheet = _read_xlsx(path, table, limits)
        else:
            sheet = _read_parquet(path, limits.rows_for(table), limits.max_rows_per_byte)
    except DropError:
        raise
    except (OSError, ValueError, pa.ArrowException, KeyError, CalamineError, zipfile.BadZipFile) as exc:
        # never the parser's message: it may quote a line of the file
        raise DropError(f"{path.name}: cannot be read as {suffix[1:].upper()} ({type(exc).__name__})") from None
    return _project(sheet, path, table)


def _project(sheet: _Sheet, path: Path, table: Table) -> RawTable:
    """The contract's columns by name (normalised), the rest dropped and reported by position."""
    names = [normalised(h).casefold() for h in sheet.header]
    blank = [_blank(column) for column in sheet.columns]
    places: dict[str, list[int]] = {}
    dropped = []
    for i, name in enumerate(names):
        if name in table.column_names:
            places.setdefault(name, []).append(i)
        elif name or not bool(np.all(blank[i])):  # an unnamed column without values: Excel's trailing ",,"
            dropped.append(f"column {i + 1}")
    doubled = {n: p for n, p in places.items() if len(p) > 1}
    if doubled:
        name, where = next(iter(doubled.items()))
        raise DropError(f"{path.name}: column '{name}' appears {len(where)} times (columns {_and(where)})")
    missing = [c for c in table.required_columns if c not in places]
    if missing:
        raise DropError(f"{path.name}: missing required column {', '.join(repr(c) for c in missing)}")
    keep = ~np.logical_and.reduce(blank) if blank else np.zeros(0, dtype=bool)
    every = bool(keep.all())  # no blank row: the columns as they are, no copy
    frame = pd.DataFrame(
        {
            name: pd.Series(
                pd.arrays.ArrowExtensionArray(
                    sheet.columns[places[name][0]] if every else sheet.columns[places[name][0]].filter(pa.array(keep))
                )
                if name in places
                else pd.Series([""] * int(keep.sum()), dtype=TEXT),
                dtype=TEXT,
            )
            for name in table.column_names
        }
    )
    return RawTable(
        table=table,
        path=path,
        sha256=sha256_of(path),
        frame=frame,
        rows=sheet.rows[keep],
        rows_in=int(keep.sum()) + len(sheet.malformed),
        malformed=sheet.malformed,
        dropped_columns=dropped,
    )


def _blank(column: pa.Array) -> np.ndarray:
    """Cells that are empty or spaces only (judged on every column the deliverer sent)."""
    return pc.equal(pc.utf8_trim_whitespace(column), "").fill_null(True).to_numpy(zero_copy_only=False)


def _and(numbers: list[int]) -> str:
    return ", ".join(str(n + 1) for n in numbers[:-1]) + f" and {numbers[-1] + 1}"


# CSV -----------------------------------------------------------------------------------------------------


def _read_csv(path: Path, max_rows: int) -> _Sheet:
    """pyarrow's CSV reader, columns by position. Multi-threaded first; only when it had to skip a line is
    the file read again single-threaded, because only then do the skipped lines know their line numbers."""
    source, first_line = _csv_source(path)
    if _count_lines(source) - 1 > max_rows:
        raise DropError(f"{path.name}: more than {max_rows:,} rows, the limit for this table (see --max-rows)")
    delimiter = max((";", ",", "\t"), key=first_line.count)
    header: list[str] = next(_csv_records(first_line, delimiter), [])
    arrow, rejected, malformed = _parse_csv(source, delimiter, len(header), threads=True)
    if rejected:
        arrow, rejected, malformed = _parse_csv(source, delimiter, len(header), threads=False)
    # pyarrow numbers records from 1 (the header), as Excel numbers rows (a quoted line break stays in its
    # row); every record is a row, bad, blank or not. Skipped blank lines (only delimiters, fewer of them
    # than the header) count too, or the rows after them would get the wrong number.
    lines = np.arange(2, arrow.num_rows + len(rejected) + 2, dtype=np.int64)
    kept = np.ones(len(lines), dtype=bool)
    kept[np.asarray(rejected, dtype=np.int64) - 2] = False
    columns = [arrow.column(i).combine_chunks() for i in range(arrow.num_columns)]
    return _Sheet(header, columns, lines[kept], sorted(malformed))


def _csv_source(path: Path) -> tuple[object, str]:
    """What pyarrow reads (the file, or its text re-encoded as UTF-8) and the header line as text."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise DropError(f"{path.name}: empty file")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DropError(f"{path.name}: UTF-16 text, not UTF-8 (save it as 'CSV UTF-8')")
    data = path.read_bytes() if not _is_utf8(path) else None
    if data is None:
        text = head.decode("utf-8-sig", errors="ignore")  # a character cut at 64 kB: ignored, the header is whole
        source: object = str(path)
    else:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise DropError(f"{path.name}: neither UTF-8 nor Windows-1252 text (save it as 'CSV UTF-8')") from None
        source = pa.BufferReader(text.encode("utf-8"))
    return source, (text.splitlines() or [""])[0]


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _count_lines(source: object) -> int:
    if isinstance(source, pa.BufferReader):
        data = source.read()
        source.seek(0)
        return data.count(b"\n") + 1
    with open(str(source), "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b"")) + 1


def _csv_records(line: str, delimiter: str):
    return csv.reader(io.StringIO(line.lstrip("\ufeff")), delimiter=delimiter)


def _parse_csv(source: object, delimiter: str, width: int, threads: bool):
    """(table, line numbers skipped, [(line, reason)] of malformed lines); line numbers are None when threaded."""
    malformed: list[tuple[int, str]] = []
    rejected: list[int | None] = []  # every line the parser skipped, blank or malformed

    def reject(row: pacsv.InvalidRow) -> str:
        reason = "too_many_fields" if row.actual_columns > row.expected_columns else "too_few_fields"
        rejected.append(row.number)
        if row.text.strip(delimiter + " \t\r"):  # a row of only delimiters or spaces is blank, not malformed
            malformed.append((row.number, reason))
        return "skip"

    if isinstance(source, pa.BufferReader):
        source.seek(0)
    names = [f"c{i}" for i in range(width)]
    return (
        pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(use_threads=threads, block_size=1 << 24, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=reject),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        ),
        rejected,
        malformed,
    )


def sniff_delimiter(path: Path) -> str:
    """Comma, semicolon (Dutch Excel) or tab: whichever the header line holds most of."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).decode("utf-8-sig", errors="replace").splitlines()
    if not head:
        raise DropError(f"{path.name}: empty file")
    return max((";", ",", "\t"), key=head[0].count)


# XLSX and Parquet ------------------------------------------------------------------------------------------


def _read_xlsx(path: Path, table: Table, limits: Limits) -> _Sheet:
    """The sheet named after the table, else the first sheet; row numbers as Excel shows them. The zip's
    unpacked size is checked before calamine unpacks it, the sheet's height before its cells are read."""
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > limits.max_file_bytes or unpacked > 200 * max(path.stat().st_size, 1 << 16):
        raise DropError(f"{path.name}: unpacks to {unpacked:,} bytes, too much for a table of this file size")
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = {n.lower(): n for n in book.sheet_names}
    sheet = book.get_sheet_by_name(names.get(table.name, book.sheet_names[0]))
    if sheet.total_height - 1 > limits.rows_for(table):
        raise DropError(f"{path.name}: more than {limits.rows_for(table):,} rows, the limit for this table")
    cells = sheet.to_python(skip_empty_area=False)
    if not cells:
        raise DropError(f"{path.name}: the sheet is empty")
    width = max(len(row) for row in cells)
    text = [[cell_text(c) for c in row] + [""] * (width - len(row)) for row in cells]
    columns = [pa.array([row[i] for row in text[1:]], pa.string()) for i in range(width)]
    return _Sheet(text[0], columns, np.arange(2, len(text) + 1, dtype=np.int64), [])


def _read_parquet(path: Path, max_rows: int, max_rows_per_byte: float) -> _Sheet:
    """Rows counted from the footer before any is read; every column cast to text in Arrow's kernels."""
    meta = pq.ParquetFile(path).metadata
    if meta.num_rows > max_rows:
        raise DropError(f"{path.name}: {meta.num_rows:,} rows, more than the limit of {max_rows:,} for this table")
    if meta.num_rows > max_rows_per_byte * path.stat().st_size + 1000:
        raise DropError(
            f"{path.name}: {meta.num_rows:,} rows packed into {path.stat().st_size:,} bytes; a file this "
            "repetitive is refused (deliver the rows themselves, e.g. as CSV)"
        )
    data = pq.read_table(path)
    columns = [_arrow_text(data.column(i).combine_chunks()) for i in range(data.num_columns)]
    return _Sheet(list(data.column_names), columns, np.arange(2, data.num_rows + 2, dtype=np.int64), [])


def _arrow_text(values: pa.Array) -> pa.Array:
    """A typed Parquet column as the text a CSV would hold: dates as YYYY-MM-DD, 123456782.0 as 123456782,
    empty for null and NaN."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        return _arrow_text(values.dictionary_decode())
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        text = pc.strftime(values, format="%Y-%m-%d")
    elif pa.types.is_floating(kind):
        whole = pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 2.0**53)).fill_null(False)
        as_int = pc.cast(pc.if_else(whole, values, 0.0), pa.int64()).cast(pa.string())
        text = pc.if_else(whole, as_int, pc.cast(values, pa.string()))
        text = pc.if_else(pc.is_nan(values).fill_null(True), "", text)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    elif pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind):
        text = pc.cast(values, pa.string())
    else:  # binary, lists, structs: the text a spreadsheet would show, one distinct value at a time
        text = pa.array([cell_text(v) for v in values.to_pylist()], pa.string())
    return pc.fill_null(text.cast(pa.string()), "")


def cells_as_text(frame: pd.DataFrame, dtype: Any = None) -> pd.DataFrame:
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
