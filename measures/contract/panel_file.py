"""Reading and writing a free-form table (a panel for `pilot did`, a file to pseudonymise).

Unlike a drop, such a file has no contract: only the columns the caller needs must be there.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from measures.contract.read import cells_as_text, sniff_delimiter
from toc.errors import UserError


def read_panel(path: Path, columns: list[str], as_text: bool = False) -> pd.DataFrame:
    """CSV (comma, or semicolon with decimal comma), XLSX or Parquet; `as_text` keeps every cell as text."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    suffix = path.suffix.lower()
    dtype = str if as_text else None
    if suffix == ".csv":
        sep = sniff_delimiter(path)
        frame = pd.read_csv(
            path,
            sep=sep,
            decimal="," if sep == ";" else ".",
            dtype=dtype,
            encoding="utf-8-sig",
            keep_default_na=not as_text,
        )
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
