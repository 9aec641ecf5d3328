"""From the contract: the data dictionary (Dutch and English) and the empty templates employers fill in."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from measures.contract.tables import AKC, Column, Contract, Table
from toc.lang import Lang, checked_lang, translated

_HEAD = {
    "nl": ("Kolom", "Verplicht", "Leeg toegestaan", "Regel", "Omschrijving", "Voorbeeld"),
    "en": ("Column", "Required", "May be empty", "Rule", "Description", "Example"),
}
_KEY = {"nl": "sleutel", "en": "key"}
_YES = {"nl": ("ja", "nee"), "en": ("yes", "no")}
_INTRO = {
    "nl": (
        "Een levering is één map met per tabel één bestand: CSV (komma, of puntkomma met decimale komma; UTF-8), "
        "XLSX of Parquet, genoemd naar de tabel (`admin.csv`, `cases.xlsx`). Datums als JJJJ-MM-DD of DD-MM-JJJJ. "
        "Kolommen buiten dit contract worden niet opgeslagen. Lever nooit namen, BSN's, e-mailadressen, "
        "telefoonnummers, adressen of geboortedata: gebruik pseudoniemen (`pilot pseudonymise`)."
    ),
    "en": (
        "A delivery is one folder with one file per table: CSV (comma, or semicolon with decimal comma; UTF-8), "
        "XLSX or Parquet, named after the table (`admin.csv`, `cases.xlsx`). Dates as YYYY-MM-DD or DD-MM-YYYY. "
        "Columns outside this contract are not stored. Never deliver names, BSNs, e-mail addresses, phone "
        "numbers, addresses or birth dates: use pseudonyms (`pilot pseudonymise`)."
    ),
}


_CHECKS = {
    "nl": (
        "Elke rij wordt geladen of in quarantaine gezet, met bestand, rij, kolom en reden (nooit de waarde). Een "
        "ongeldige sleutel, groep, datum of meting zet de rij in quarantaine; een rij waarvan de werkgever of "
        "casus in quarantaine staat ook (`parent_quarantined`, met de oorzaak: bestand, rij, kolom). Een "
        "ongeldige beschrijvende waarde (sector, omvang, aanpak) wordt leeggemaakt en de rij blijft: een "
        "*waarschuwing* (`warnings`, dezelfde kolommen als de quarantaine; ook `identifier_removed` voor "
        "persoonsgegevens uit vrije tekst en `spelling_mapped` voor een geaccepteerde schrijfwijze zoals "
        "`50-249`). Een id dat op een BSN, IBAN, e-mailadres, telefoonnummer of naam lijkt (ook met punten, "
        "spaties, `.0`, een `NL` ervoor of onzichtbare tekens) zet de rij in quarantaine. Datums liggen tussen "
        "1990-01-01 en een jaar na vandaag. Kolommen buiten het contract worden alleen bij hun positie genoemd."
    ),
    "en": (
        "Every row is loaded or quarantined, with file, row, column and reason (never the value). An invalid "
        "key, group, date or measurement quarantines the row; so does a row whose employer or case was "
        "quarantined (`parent_quarantined`, naming the root cause: file, row, column). An invalid descriptive "
        "value (sector, size class, approach) is emptied and the row kept: a *warning* (`warnings`, the "
        "quarantine's columns; also `identifier_removed` for personal details scrubbed from free text and "
        "`spelling_mapped` for an accepted spelling such as `50-249`). An id that looks like a BSN, IBAN, e-mail "
        "address, phone number or name (also with dots, spaces, `.0`, an `NL` prefix or invisible characters) "
        "quarantines its row. Dates lie between 1990-01-01 and one year after today. Columns outside the "
        "contract are named by their position only."
    ),
}


def data_dictionary(lang: Lang = "nl", contract: Contract = AKC) -> str:
    """The contract as Markdown."""
    lang = checked_lang(lang)
    title = translated(contract, "title", lang)
    lines = [f"# {title} (v{contract.version})", "", _INTRO[lang], "", _CHECKS[lang], ""]
    for table in contract.tables:
        required = _YES[lang][0] if table.required else _YES[lang][1]
        desc = translated(table, "description", lang)
        key = ", ".join(table.key)
        lines += [
            f"## `{table.name}`",
            "",
            f"{desc} ({_HEAD[lang][1].lower()}: {required}; {_KEY[lang]}: {key})",
            "",
            "| " + " | ".join(_HEAD[lang]) + " |",
            "|" + "---|" * len(_HEAD[lang]),
        ]
        lines += ["| " + " | ".join(_row(c, lang)) + " |" for c in table.columns]
        lines.append("")
    return "\n".join(lines)


def _row(column: Column, lang: Lang) -> list[str]:
    yes, no = _YES[lang]
    return [
        f"`{column.name}`",
        yes if column.required else no,
        yes if column.nullable else no,
        column.rule(lang),
        translated(column, "description", lang),
        f"`{column.example}`" if column.example else "",
    ]


def write_templates(out: Path, contract: Contract = AKC) -> list[Path]:
    """Empty CSV and XLSX files per table with the contract's headers; the XLSX also explains each column."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in contract.tables:
        csv_path = out / f"{table.name}.csv"
        csv_path.write_text(",".join(table.column_names) + "\n", encoding="utf-8")
        xlsx_path = out / f"{table.name}.xlsx"
        _workbook(table).save(xlsx_path)
        written += [csv_path, xlsx_path]
    (out / "datacontract.nl.md").write_text(data_dictionary("nl", contract), encoding="utf-8")
    (out / "datacontract.en.md").write_text(data_dictionary("en", contract), encoding="utf-8")
    return written


def _workbook(table: Table) -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.title = table.name  # the reader takes the sheet named after the table
    sheet.append(table.column_names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DEEBF7")
        sheet.column_dimensions[cell.column_letter].width = max(14, len(str(cell.value)) + 4)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        if column.values:  # a drop-down list, so that enum cells cannot be mistyped
            rule = DataValidation(
                type="list", formula1='"' + ",".join(column.values) + '"', allow_blank=column.nullable
            )
            sheet.add_data_validation(rule)
            letter = sheet.cell(row=1, column=index).column_letter
            rule.add(f"{letter}2:{letter}10000")
    notes = book.create_sheet("toelichting")
    notes.append(list(_HEAD["nl"]))
    for column in table.columns:
        notes.append([c.strip("`") for c in _row(column, "nl")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    notes.column_dimensions["D"].width = 40
    notes.column_dimensions["E"].width = 80
    return book
