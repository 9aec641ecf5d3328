"""Questionnaires as XLSForm (ODK Collect, KoboToolbox, Enketo), built from the catalogue; their answers back.

`xlsform_sheets` builds the form of one wave for one respondent in one language:
- `survey`: the pseudonyms (`employee_id`, required, refused when it looks like a BSN; `employer_id`,
  required), `wave` and `respondent` as calculated constants (so that every submission says what it is),
  then one question per questionnaire indicator of that respondent and wave, in catalogue order, named by
  the indicator id: Likert and yes/no scales as `select_one` lists whose values are the scale's numbers,
  counts as `integer`, percentages and days as `decimal`, each constrained to the indicator's valid range.
  Answers are optional (the analysis uses all available answers). No name, BSN, contact or device field.
- `choices`: the answer lists (`catalogue.SCALE_CHOICES`); `settings`: title, id and a version derived from
  the catalogue file, so that a changed catalogue gives a new form version.

`survey_rows_from_export` reads what the form collects, exported as ODK Central or KoboToolbox do it (CSV or
XLSX, one row per submission, a column per question; group prefixes `grp-` or `grp/` are tolerated), and
returns the contract's long `survey` table: one row per answered question. Columns that are not questions of
the catalogue (submission date, instance id, submitter name, device id, ...) are dropped and reported by name;
a row whose pseudonym looks like a BSN is left out and reported by row number, never by value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from measures.contract.panel_file import read_panel
from measures.contract.privacy import bsn_like
from measures.contract.tables import SURVEY, WAVES
from measures.indicators.catalogue import CATALOGUE_PATH, SCALE_CHOICES, Indicator, load_catalogue
from toc.errors import UserError
from toc.lang import Lang, checked_lang, translated

RESPONDENTS: tuple[str, ...] = SURVEY.column("respondent").values
#: XLSForm question type per scale; the chosen scales are select_one lists named after the scale.
QUESTION_TYPES = {"likert5": "select_one likert5", "yes_no": "select_one yes_no", "count": "integer"}
SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "constraint", "constraint_message", "calculation")
WORDS: dict[Lang, dict[str, str]] = {
    "nl": {
        "title": "AD-pilot: vragenlijst {respondent} {wave}",
        "employee": "werknemer",
        "employer": "werkgever",
        "employee_id": "Pseudoniem van de werknemer",
        "employee_id_hint": "De code die de werkgever of arbodienst heeft gegeven; nooit een naam of BSN.",
        "employer_id": "Code van de werkgever",
        "not_bsn": "Vul het pseudoniem in, nooit een BSN.",
        "range": "Een getal van {low:g} tot en met {high:g}.",
    },
    "en": {
        "title": "AD pilot: {respondent} questionnaire {wave}",
        "employee": "employee",
        "employer": "employer",
        "employee_id": "Pseudonym of the employee",
        "employee_id_hint": "The code given by the employer or occupational health service; never a name or BSN.",
        "employer_id": "Employer code",
        "not_bsn": "Enter the pseudonym, never a BSN.",
        "range": "A number from {low:g} to {high:g}.",
    },
}
KEYS = ("employee_id", "employer_id", "wave", "respondent")


def questions(wave: str, respondent: str) -> list[Indicator]:
    """The catalogue's questionnaire indicators that this respondent answers at this wave, in catalogue order."""
    if wave not in WAVES:
        raise UserError(f"wave must be one of {', '.join(WAVES)}, not {wave!r}")
    if respondent not in RESPONDENTS:
        raise UserError(f"respondent must be one of {', '.join(RESPONDENTS)}, not {respondent!r}")
    return [i for i in load_catalogue() if i.respondent == respondent and wave in i.periods]


def xlsform_sheets(wave: str, respondent: str, lang: str = "nl") -> dict[str, list[dict]]:
    """The `survey`, `choices` and `settings` sheets as rows (column -> cell)."""
    lang = checked_lang(lang)
    words = WORDS[lang]
    items = questions(wave, respondent)
    survey = [
        {
            "type": "text",
            "name": "employee_id",
            "label": words["employee_id"],
            "hint": words["employee_id_hint"],
            "required": "yes",
            "constraint": "not(regex(., '^[0-9]{8,9}$'))",
            "constraint_message": words["not_bsn"],
        },
        {"type": "text", "name": "employer_id", "label": words["employer_id"], "required": "yes"},
        {"type": "calculate", "name": "wave", "calculation": f"'{wave}'"},
        {"type": "calculate", "name": "respondent", "calculation": f"'{respondent}'"},
        *(_question(ind, lang) for ind in items),
    ]
    scales = [s for s in SCALE_CHOICES[lang] if any(i.scale == s for i in items)]
    choices = [
        {"list_name": s, "name": str(value), "label": label}
        for s in scales
        for value, label in SCALE_CHOICES[lang][s].items()
    ]
    title = words["title"].format(respondent=words[respondent], wave=wave)
    settings = [{"form_title": title, "form_id": f"ad_pilot_{respondent}_{wave}_{lang}", "version": form_version()}]
    return {"survey": survey, "choices": choices, "settings": settings}


def _question(ind: Indicator, lang: Lang) -> dict:
    row = {"type": QUESTION_TYPES.get(ind.scale, "decimal"), "name": ind.id, "label": translated(ind, "text", lang)}
    if ind.instrument:
        row["hint"] = ind.instrument
    if not row["type"].startswith("select_one"):
        low, high, _ = ind.valid_range
        row["constraint"] = f". >= {low:g}" + (f" and . <= {high:g}" if high != float("inf") else "")
        row["constraint_message"] = WORDS[lang]["range"].format(low=low, high=high)
    return row


def form_version() -> str:
    """The first 10 hex digits of the catalogue's SHA-256: a new form version whenever the catalogue changes."""
    return hashlib.sha256(Path(CATALOGUE_PATH).read_bytes()).hexdigest()[:10]


def write_xlsform(path: Path, wave: str, respondent: str, lang: str = "nl") -> Path:
    """The XLSForm as an .xlsx workbook with the three sheets."""
    sheets = xlsform_sheets(wave, respondent, lang)
    columns = {
        "survey": SURVEY_COLUMNS,
        "choices": ("list_name", "name", "label"),
        "settings": tuple(sheets["settings"][0]),
    }
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(list(columns[name]))
        for row in rows:
            sheet.append([row.get(c, "") for c in columns[name]])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


@dataclass(frozen=True)
class ImportedAnswers:
    """The contract's long survey rows from one export, and what was left out (names and row numbers only)."""

    rows: pd.DataFrame
    submissions: int
    dropped_columns: tuple[str, ...]
    bsn_rows: tuple[int, ...]  # row numbers as the file shows them (header = row 1)


def survey_rows_from_export(path: Path, wave: str | None = None, respondent: str | None = None) -> ImportedAnswers:
    """One row per answered question, in the contract's columns; `wave`/`respondent` fill them when absent."""
    raw = read_panel(path, [], as_text=True)
    fields = {*KEYS, *(i.id for i in load_catalogue() if i.respondent)}
    named = {header: _field(header, fields) for header in raw.columns}
    frame = raw[[h for h, f in named.items() if f]].rename(columns=named).fillna("")
    for column, given in (("wave", wave), ("respondent", respondent)):
        if column not in frame and given is None:
            raise UserError(f"{Path(path).name}: no column '{column}'; say which with --{column}")
        if given is not None:
            frame[column] = frame[column].where(frame[column] != "", given) if column in frame else given
    missing = [c for c in ("employee_id", "employer_id") if c not in frame]
    if missing:
        raise UserError(
            f"{Path(path).name}: missing column {', '.join(missing)} (is this an export of the pilot's form?)"
        )
    bsn = bsn_like(frame["employee_id"])
    answers = frame.loc[~bsn].melt(id_vars=list(KEYS), var_name="indicator_id", value_name="value")
    answers = answers.loc[answers["value"].str.strip() != ""]
    if raw.attrs.get("csv_delimiter") == ";":  # a Dutch spreadsheet's decimal comma
        answers["value"] = answers["value"].str.replace(",", ".", regex=False)
    return ImportedAnswers(
        rows=answers[SURVEY.column_names].reset_index(drop=True),
        submissions=int((~bsn).sum()),
        dropped_columns=tuple(h for h, f in named.items() if not f),
        bsn_rows=tuple(int(i) + 2 for i in frame.index[bsn]),
    )


def _field(header: str, fields: set[str]) -> str | None:
    """The form field a column holds: its name, or its name after a group prefix (`grp-name`, `grp/name`)."""
    for candidate in (header, header.rsplit("/", 1)[-1], header.rsplit("-", 1)[-1]):
        if candidate in fields:
            return candidate
    return None
