"""Hostile drops: one builder per finding of the data-protection audit (issue 17), each planting the strings
that must never reach an output, a stored byte or a terminal.

`HOSTILE[name].build(folder)` turns a copy of a small valid drop in `folder` into the hostile variant and
returns the drop's path (usually `folder` itself; some findings are about the folder's own name).
`planted` are the identifiers hidden in it; `expect` says what the finding must do now: `"loads"` (the
drop is read, the hostile part quarantined, emptied or scrubbed) or `"refused"` (one clear file error).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from drops import add_column, cell, read_rows, replace_value, set_cell, write_rows

from measures.contract.tables import TABLES

BSN = "123456782"  # passes the eleven-test


@dataclass(frozen=True)
class Hostile:
    build: Callable[[Path], Path]
    planted: tuple[str, ...]
    expect: str = "loads"  # or "refused"


def _id_everywhere(value: str) -> Callable[[Path], Path]:
    """An employee's pseudonym replaced by `value` in cases, admin and survey."""

    def build(drop: Path) -> Path:
        employee = cell(drop, "cases", 2, "employee_id")
        for table in ("cases", "admin", "survey"):
            replace_value(drop, table, "employee_id", employee, value)
        return drop

    return build


def _approach(text: str) -> Callable[[Path], Path]:
    def build(drop: Path) -> Path:
        set_cell(drop, "employers", 2, "approach", text)
        return drop

    return build


def _header(name: str, value: str = "x") -> Callable[[Path], Path]:
    def build(drop: Path) -> Path:
        add_column(drop, "cases", name, value)
        return drop

    return build


def _renamed_folder(drop: Path) -> Path:
    target = drop.with_name(f"verzuim Jan de Vries {BSN}")
    return Path(shutil.move(drop, target))


def _latin1_with_malformed_row(drop: Path) -> Path:
    rows = read_rows(drop, "cases")
    lines = [";".join(r) for r in rows]
    lines.insert(3, f"{';'.join(rows[3])};Jan de Vriës;{BSN}")  # a row with two fields too many
    (drop / "cases.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    return drop


def _doubled_header(drop: Path) -> Path:
    add_column(drop, "admin", "AO_PCT ", "12")
    return drop


def _trailing_commas(drop: Path) -> Path:
    path = drop / "admin.csv"
    path.write_text("".join(line + ",,\n" for line in path.read_text(encoding="utf-8").splitlines()), encoding="utf-8")
    return drop


def _xlsx_right_of_header(drop: Path) -> Path:
    rows = read_rows(drop, "employers")
    (drop / "employers.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "employers"
    for i, row in enumerate(rows):
        sheet.append(row + ([None, "Jan de Vries", BSN] if i else []))  # cells right of the header, unnamed
    book.save(drop / "employers.xlsx")
    return drop


def _header_only(table: str) -> Callable[[Path], Path]:
    def build(drop: Path) -> Path:
        write_rows(drop, table, read_rows(drop, table)[:1])
        return drop

    return build


def _escape_in_file_name(drop: Path) -> Path:
    (drop / "\x1b[31mJan de Vries\x1b[0m.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return drop


def _set(table: str, row: int, column: str, value: str) -> Callable[[Path], Path]:
    def build(drop: Path) -> Path:
        set_cell(drop, table, row, column, value)
        return drop

    return build


def _parquet_row_bomb(drop: Path) -> Path:
    """5 million identical admin rows in a Parquet file of about 60 kB."""
    n, row = 5_000_000, read_rows(drop, "admin")[1]
    codes = pa.array(np.zeros(n, dtype=np.int32))
    columns = {
        name: pa.DictionaryArray.from_arrays(codes, [value])
        for name, value in zip(TABLES["admin"].column_names, row, strict=True)
    }
    pq.write_table(pa.table(columns), drop / "admin.parquet", compression="zstd")
    (drop / "admin.csv").unlink()
    return drop


def _symlink_out_of_the_drop(drop: Path) -> Path:
    outside = drop.parent / "elders"
    outside.mkdir()
    shutil.move(drop / "cases.csv", outside / "cases.csv")
    (drop / "cases.csv").symlink_to(outside / "cases.csv")
    return drop


def _size_classes_in_the_dictionarys_words(drop: Path) -> Path:
    for row, spelling in zip(range(2, 6), ("50-249", "250+", "<50", "50-249"), strict=True):
        set_cell(drop, "employers", row, "size_class", spelling)
    set_cell(drop, "employers", 2, "group", "Interventie")
    return drop


HOSTILE: dict[str, Hostile] = {
    # identifiers as ids, in the forms spreadsheets hold them
    "id-bsn-float": Hostile(_id_everywhere(f"{BSN}.0"), (BSN,)),
    "id-bsn-dots": Hostile(_id_everywhere("123.456.782"), ("123.456.782", BSN)),
    "id-bsn-spaces": Hostile(_id_everywhere("123 456 782"), ("123 456 782",)),
    "id-bsn-dashes": Hostile(_id_everywhere("123-456-782"), ("123-456-782",)),
    "id-bsn-zero-width": Hostile(_id_everywhere("123\u200b456\u200b782"), ("123\u200b456", "456\u200b782")),
    "id-bsn-full-width": Hostile(_id_everywhere("１２３４５６７８２"), ("１２３４５６７８２", BSN)),
    "id-bsn-nl-prefix": Hostile(_id_everywhere(f"NL{BSN}"), (BSN,)),
    "id-email": Hostile(_id_everywhere("jan.devries@voorbeeld.nl"), ("devries", "voorbeeld.nl")),
    "id-name": Hostile(_id_everywhere("Jan de Vries"), ("Vries",)),
    "id-name-joined": Hostile(_id_everywhere("JanDeVries"), ("DeVries",)),
    "id-phone": Hostile(_id_everywhere("06-41234567"), ("41234567",)),
    # free text
    "text-name-untitled": Hostile(_approach("Jan de Vries belde over de aanpak"), ("Vries",)),
    "text-name-initials": Hostile(_approach("Overleg met Dhr. J. de Vries"), ("Vries",)),
    "text-name-diacritics": Hostile(_approach("Mr. Ömer Çelik kwam langs"), ("Ömer", "Çelik")),
    "text-birth-date": Hostile(_approach("geboren 14-03-1967, in dienst sinds 2001"), ("14-03-1967", "1967")),
    "text-bsn-dots": Hostile(_approach("BSN 123.456.782 staat in het dossier"), ("123.456.782",)),
    "text-iban-be-de": Hostile(
        _approach("rekeningen BE68539007547034 en DE89 3704 0044 0532 0130 00"), ("539007547034", "0532 0130")
    ),
    "text-postcode": Hostile(_approach("woont op 3511ab 12"), ("3511ab", "3511")),
    "text-street": Hostile(_approach("adres Kerkstraat 12"), ("Kerkstraat",)),
    "text-email-obfuscated": Hostile(_approach("mail jan(at)voorbeeld(dot)nl"), ("jan(at)", "voorbeeld")),
    "text-phone-spaced": Hostile(_approach("bel 06 - 123 456 78"), ("123 456 78",)),
    "text-phone-belgian": Hostile(_approach("of +32 470 12 34 56"), ("470 12 34",)),
    "text-long-word": Hostile(_approach("x" * 250_000), ()),
    # headers, file names, folder names
    "header-identifier": Hostile(_header(f"Jan de Vries {BSN}"), ("Vries", BSN)),
    "header-markup": Hostile(_header("[link=https://evil.example]klik[/link][bold red]"), ("evil.example", "[link")),
    "folder-name": Hostile(_renamed_folder, ("Vries", BSN)),
    "file-name-escape": Hostile(_escape_in_file_name, ("\x1b", "Vries"), "refused"),
    "latin1-malformed-row": Hostile(_latin1_with_malformed_row, ("Vriës", "Vri\ufffds", BSN)),
    # ordinary shapes
    "header-doubled": Hostile(_doubled_header, (), "refused"),
    "trailing-commas": Hostile(_trailing_commas, ()),
    "xlsx-right-of-header": Hostile(_xlsx_right_of_header, ("Vries", BSN)),
    "header-only-survey": Hostile(_header_only("survey"), ()),
    "header-only-employers": Hostile(_header_only("employers"), ()),
    # dates
    "month-2300": Hostile(_set("admin", 3, "month", "2300-01"), ()),
    "month-1900": Hostile(_set("admin", 3, "month", "1900-05"), ()),
    "date-2099": Hostile(_set("cases", 3, "inclusion_date", "2099-01-01"), ()),
    "date-partial-garbage": Hostile(_set("cases", 3, "absence_start", "2025-08-08 garbage"), ("garbage",)),
    # cost and files
    "parquet-row-bomb": Hostile(_parquet_row_bomb, (), "refused"),
    "symlink-out-of-drop": Hostile(_symlink_out_of_the_drop, (), "refused"),
    # severity
    "size-class-dictionary-words": Hostile(_size_classes_in_the_dictionarys_words, ()),
    "group-invalid-cascade": Hostile(_set("employers", 3, "group", "beide"), ("beide",)),
}


def planted_anywhere() -> set[str]:
    return {s for h in HOSTILE.values() for s in h.planted}


def frames_text(frames: dict[str, pd.DataFrame]) -> str:
    return "\n".join(f.to_csv(index=False) for f in frames.values())


def _composite(drop: Path) -> Path:
    """Many findings in one drop that still loads (for `pilot run`): identifiers as ids of different
    employees, every free-text form in the approaches, an identifier as a header, a Windows-1252 cases file
    with a malformed row holding a name and a BSN."""
    employees = [r[0] for r in read_rows(drop, "cases")[1:]]
    # (no full-width digits here: the cases file becomes Windows-1252, which has none)
    ids = [f"{BSN}.0", "123.456.782", "NL 123 456 782", "jan.devries@voorbeeld.nl", "Jan de Vries", "06-41234567"]
    for employee, value in zip(employees, ids, strict=False):
        for table in ("cases", "admin", "survey"):
            replace_value(drop, table, "employee_id", employee, value)
    texts = [
        "Jan de Vries belde; Dhr. J. de Vries; Mr. Ömer Çelik; geboren 14-03-1967",
        "BSN 123.456.782, rekeningen BE68539007547034 en DE89 3704 0044 0532 0130 00",
        "woont op 3511ab 12, adres Kerkstraat 12, mail jan(at)voorbeeld(dot)nl",
        "bel 06 - 123 456 78 of +32 470 12 34 56",
    ]
    for row, text in enumerate(texts, start=2):
        set_cell(drop, "employers", row, "approach", text)
    add_column(drop, "employers", f"Jan de Vries {BSN}", "x")
    return _latin1_with_malformed_row(drop)


#: What the composite plants (each must be found in no stored byte, no output and no log).
COMPOSITE_PLANTED = (
    BSN,
    "123.456.782",
    "123 456 782",
    "devries",
    "Vries",
    "41234567",
    "Ömer",
    "Çelik",
    "14-03-1967",
    "539007547034",
    "0532 0130",
    "3511ab",
    "Kerkstraat",
    "jan(at)",
    "123 456 78",
    "470 12 34",
    "Vriës",
)
