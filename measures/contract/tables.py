"""The pilot data contract: what an employer delivers, written once.

Everything else is derived from these definitions: validation (`measures.contract.validate`), the data
dictionary in Dutch and English, the empty templates an employer fills in (`measures.contract.templates`),
the warehouse schema and the column schemas shown in the Dagster UI.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from toc.lang import Lang

CONTRACT_VERSION = "1.0"

ColumnKind = Literal["id", "enum", "date", "month", "number", "text"]
#: File types a table may come in; the base name of the file is the table name.
TABLE_SUFFIXES = (".csv", ".xlsx", ".parquet")


_RULE_WORDS: dict[Lang, dict[str, str]] = {
    "nl": {
        "id": "pseudoniem: 1-64 letters, cijfers of _ . : - (geen BSN, naam, e-mailadres of telefoonnummer)",
        "date": "datum (JJJJ-MM-DD of DD-MM-JJJJ)",
        "month": "maand (JJJJ-MM)",
        "number": "getal",
        "text": "vrije tekst",
        "enum": "keuze",
        "range": " van {low:g} t/m {high:g}",
        "whole": ", geheel",
        "code": "code uit de catalogus van de toolkit",
        "aliases": " (ook: {aliases})",
        "length": ", hoogstens {n} tekens",
        "descriptive": "; een ongeldige waarde wordt leeggemaakt, de rij blijft (waarschuwing)",
    },
    "en": {
        "id": "pseudonym: 1-64 letters, digits or _ . : - (never a BSN, name, e-mail address or phone number)",
        "date": "date (YYYY-MM-DD or DD-MM-YYYY)",
        "month": "month (YYYY-MM)",
        "number": "number",
        "text": "free text",
        "enum": "one of",
        "range": " from {low:g} to {high:g}",
        "whole": ", whole",
        "code": "a code from the toolkit's catalogue",
        "aliases": " (also: {aliases})",
        "length": ", at most {n} characters",
        "descriptive": "; an invalid value is emptied, the row kept (a warning)",
    },
}


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: ColumnKind
    description_nl: str
    description_en: str
    example: str
    required: bool = True  # the column must be in the file
    nullable: bool = False  # a cell may be empty
    values: tuple[str, ...] = ()  # allowed values of an enum
    aliases: dict[str, str] = Field(default_factory=dict)  # accepted spelling -> value (Dutch words)
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False  # a number that must be whole (counts, days)
    references: str | None = None  # "table.column" this column must match (a foreign key)
    catalogue: bool = False  # an id that is a code of our own catalogues (checked there), not a pseudonym
    scrub: bool = False  # free text: remove names, e-mail addresses, phone numbers, BSNs, IBANs, addresses
    max_length: int | None = None  # free text: a longer cell is emptied (a warning) before it is scrubbed
    # Severity by what a value is for: a key, group, date or measurement that is wrong quarantines its row; a
    # descriptive value (nothing is computed from it) that is wrong is emptied and the row kept, with a warning.
    descriptive: bool = False

    def rule(self, lang: Lang) -> str:
        """The rule in words, for the data dictionary, error details and the UI's column schema."""
        words = _RULE_WORDS[lang]
        rule = words["code"] if self.catalogue else words[self.kind]
        if self.values:
            rule += ": " + ", ".join(self.values)
        if self.minimum is not None and self.maximum is not None:
            rule += words["range"].format(low=self.minimum, high=self.maximum)
        if self.aliases:
            rule += words["aliases"].format(aliases=", ".join(self.aliases))
        if self.integer:
            rule += words["whole"]
        if self.max_length:
            rule += words["length"].format(n=self.max_length)
        if self.descriptive:
            rule += words["descriptive"]
        return rule


class DateOrder(BaseModel):
    """A rule across the columns of one row: the date in `column` may not lie before the one in `not_before`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    not_before: str


class Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description_nl: str
    description_en: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # a later row with the same key is a duplicate
    required: bool = True  # the table must be in every drop
    max_rows: int = 10_000_000  # more rows are refused before they are read (`measures.contract.limits`)
    date_order: tuple[DateOrder, ...] = ()  # rules across the dates of one row (a broken one quarantines it)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _employer_id(**kw) -> Column:
    return Column(
        name="employer_id",
        kind="id",
        example="WG01",
        description_nl="Pseudoniem van de werkgever (door de evaluator uitgegeven code).",
        description_en="Pseudonymous employer code (issued by the evaluator).",
        **kw,
    )


def _employee_id(**kw) -> Column:
    return Column(
        name="employee_id",
        kind="id",
        example="p_3f9a1c2b7d",
        description_nl="Pseudoniem van de werknemer (`pilot pseudonymise`), nooit naam of BSN.",
        description_en="Pseudonym of the employee (`pilot pseudonymise`), never a name or BSN.",
        **kw,
    )


EMPLOYERS = Table(
    name="employers",
    max_rows=100_000,
    description_nl="Eén rij per deelnemende werkgever.",
    description_en="One row per participating employer.",
    key=("employer_id",),
    columns=(
        _employer_id(),
        Column(
            name="group",
            kind="enum",
            values=("intervention", "comparison"),
            example="intervention",
            aliases={
                "interventie": "intervention",
                "interventiegroep": "intervention",
                "vergelijking": "comparison",
                "vergelijkingsgroep": "comparison",
                "controle": "comparison",
                "controlegroep": "comparison",
            },
            description_nl="Interventiegroep (AD wordt vroegtijdig ingezet) of vergelijkingsgroep (WVP zonder vroege AD).",
            description_en="Intervention group (early AD deployment) or comparison group (WVP without early AD).",
        ),
        Column(
            name="sector",
            kind="text",
            example="zorg",
            scrub=True,
            max_length=200,
            descriptive=True,
            description_nl="Branche van de werkgever.",
            description_en="Sector of the employer.",
        ),
        Column(
            name="size_class",
            kind="enum",
            values=("small", "medium", "large"),
            example="large",
            descriptive=True,
            # the wording of this column's own description is accepted too: "50-249" is medium
            aliases={
                "klein": "small",
                "<50": "small",
                "middel": "medium",
                "middelgroot": "medium",
                "50-249": "medium",
                "groot": "large",
                "250+": "large",
            },
            description_nl="Omvang: small (<50), medium (50-249), large (250+) werknemers.",
            description_en="Size: small (<50), medium (50-249), large (250+) employees.",
        ),
        Column(
            name="start_date",
            kind="date",
            example="2026-01-01",
            description_nl="Startdatum van deelname aan de pilot.",
            description_en="Date the employer joined the pilot.",
        ),
        Column(
            name="approach",
            kind="text",
            required=False,
            nullable=True,
            scrub=True,
            max_length=2000,
            descriptive=True,
            example="AD doet een dossiercheck in week 8 en schuift aan bij het MDO.",
            description_nl="De aanpak van de werkgever in eigen woorden (geen namen of contactgegevens).",
            description_en="The employer's approach in its own words (no names or contact details).",
        ),
    ),
)

ACTIVITIES = Table(
    name="activities",
    max_rows=1_000_000,
    required=False,
    description_nl="Welke activiteiten uit de ToC (§3.5) elke werkgever inzet.",
    description_en="Which ToC activities (§3.5) each employer uses.",
    key=("employer_id", "activity_id"),
    columns=(
        _employer_id(references="employers.employer_id"),
        Column(
            name="activity_id",
            kind="id",
            catalogue=True,
            example="dossier_check",
            description_nl="Id van een activiteit uit een ToC (`toc show werkgever-vroegtijdig`).",
            description_en="Id of a ToC activity node (`toc show werkgever-vroegtijdig`).",
        ),
        Column(
            name="start_date",
            kind="date",
            example="2026-01-01",
            description_nl="Sinds wanneer de activiteit wordt ingezet.",
            description_en="Date the activity started.",
        ),
    ),
)

CASES = Table(
    name="cases",
    max_rows=2_000_000,
    description_nl="Eén rij per verzuimende werknemer in de pilot.",
    description_en="One row per absent employee in the pilot.",
    key=("employee_id",),
    columns=(
        _employee_id(),
        _employer_id(references="employers.employer_id"),
        Column(
            name="absence_start",
            kind="date",
            example="2026-01-12",
            description_nl="Eerste verzuimdag.",
            description_en="First day of absence.",
        ),
        Column(
            name="inclusion_date",
            kind="date",
            example="2026-05-18",
            description_nl="Aanmelding in de pilot: inzet AD (interventie) of dezelfde verzuimduur (vergelijking).",
            description_en="Inclusion: AD deployed (intervention) or the same absence duration (comparison).",
        ),
        Column(
            name="end_date",
            kind="date",
            required=False,
            nullable=True,
            example="",
            description_nl="Volledige werkhervatting of uitstroom; leeg als het verzuim loopt.",
            description_en="Full return to work or exit; empty while absence continues.",
        ),
    ),
)

ADMIN = Table(
    name="admin",
    description_nl="Administratieve gegevens: één rij per werknemer per kalendermaand.",
    description_en="Administrative data: one row per employee per calendar month.",
    key=("employee_id", "month"),
    columns=(
        _employee_id(references="cases.employee_id"),
        _employer_id(references="cases.employer_id"),
        Column(
            name="month",
            kind="month",
            example="2026-06",
            description_nl="Kalendermaand.",
            description_en="Calendar month.",
        ),
        Column(
            name="absence_days",
            kind="number",
            minimum=0,
            maximum=31,
            example="12",
            description_nl="Verzuimdagen in de maand.",
            description_en="Days of absence in the month.",
        ),
        Column(
            name="ao_pct",
            kind="number",
            minimum=0,
            maximum=100,
            example="60",
            description_nl="Arbeidsongeschiktheidspercentage (AO%) aan het eind van de maand.",
            description_en="Work-disability percentage (AO%) at the end of the month.",
        ),
        Column(
            name="loonwaarde_pct",
            kind="number",
            minimum=0,
            maximum=100,
            nullable=True,
            example="40",
            description_nl="Loonwaarde in procenten; leeg als die niet is bepaald.",
            description_en="Wage value (loonwaarde) in percent; empty when not assessed.",
        ),
    ),
)

SURVEY = Table(
    name="survey",
    description_nl="Vragenlijstantwoorden, lang formaat: één rij per antwoord.",
    description_en="Questionnaire answers, long format: one row per answer.",
    key=("employee_id", "wave", "respondent", "indicator_id"),
    columns=(
        _employee_id(references="cases.employee_id"),
        _employer_id(references="cases.employer_id"),
        Column(
            name="wave",
            kind="enum",
            values=("t0", "t1", "t2"),
            example="t0",
            description_nl="Meting: t0 aanmelding, t1 +1 maand, t2 +1 jaar.",
            description_en="Wave: t0 inclusion, t1 +1 month, t2 +1 year.",
        ),
        Column(
            name="respondent",
            kind="enum",
            values=("employee", "employer"),
            example="employee",
            aliases={"werknemer": "employee", "werkgever": "employer"},
            description_nl="Wie de vraag beantwoordde.",
            description_en="Who answered.",
        ),
        Column(
            name="indicator_id",
            kind="id",
            catalogue=True,
            example="regie_ervaren",
            description_nl="Id van de indicator (`pilot indicators`).",
            description_en="Indicator id (`pilot indicators`).",
        ),
        Column(
            name="value",
            kind="number",
            example="4",
            description_nl="Antwoord op de schaal van de indicator (bijv. Likert 1-5, ja=1/nee=0).",
            description_en="Answer on the indicator's scale (e.g. Likert 1-5, yes=1/no=0).",
        ),
    ),
)

#: Tables in load order: a table's foreign keys point only at tables before it.
TABLES: dict[str, Table] = {t.name: t for t in (EMPLOYERS, ACTIVITIES, CASES, ADMIN, SURVEY)}
WAVES = ("t0", "t1", "t2")
#: Months after inclusion at which each wave is asked (the `wave` column's description says it in words).
WAVE_MONTHS = {"t0": 0, "t1": 1, "t2": 12}
GROUPS = ("intervention", "comparison")


class Contract(BaseModel):
    """A study's data contract: its tables in load order (a table's references point only at tables before it),
    checked as a whole when it is built. The AKC pilot's is `AKC`; the other studies declare theirs as data in
    their design file (`measures.contract.declared`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: str
    title_nl: str
    title_en: str
    tables: tuple[Table, ...] = Field(min_length=1)

    @property
    def by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        seen: dict[str, Table] = {}
        for table in self.tables:
            if table.name in seen:
                raise ValueError(f"table '{table.name}' is declared twice")
            names = table.column_names
            for problem in _table_problems(table, names, seen):
                raise ValueError(f"table '{table.name}': {problem}")
            seen[table.name] = table
        return self


def _table_problems(table: Table, names: list[str], earlier: dict[str, Table]) -> list[str]:
    problems = [f"column '{n}' is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    problems += [f"key column '{k}' is not a column" for k in table.key if k not in names]
    for column in table.columns:
        if column.kind == "enum" and not column.values:
            problems.append(f"column '{column.name}': an enum needs its values")
        if column.references:
            target, _, target_column = column.references.partition(".")
            if target not in earlier or target_column not in earlier[target].column_names:
                problems.append(
                    f"column '{column.name}' refers to {column.references}, which is not a column of an earlier table"
                )
    kinds = {c.name: c.kind for c in table.columns}
    for rule in table.date_order:
        for name in (rule.column, rule.not_before):
            if kinds.get(name) != "date":
                problems.append(f"date_order: '{name}' is not a date column")
    return problems


#: The AKC pilot's contract (the default study design's).
AKC = Contract(
    id="akc-pilot",
    version=CONTRACT_VERSION,
    title_nl="Datacontract pilot vroegtijdige inzet arbeidsdeskundigen",
    title_en="Data contract of the pilot on the early deployment of labour experts",
    tables=tuple(TABLES.values()),
)
