"""The result tables of an evaluation, declared once: columns, types and what each column means.

Like the contract (`measures.contract.tables`) for what comes in, this is the one source for what goes out.
Everything else is derived from these declarations: the columns and order of the CSV files (`effects.csv`,
`trends.csv`, ...), the warehouse's table definitions (`pipelines.warehouse`: a table is never created from
the first frame written, so an empty first result cannot leave columns without a type), the column schemas
the Dagster UI shows on the result assets, and the results dictionary (`pilot contract --results`,
committed as docs/results.nl.md and docs/results.en.md).

Types: `text`, `integer` (whole numbers, empty when unknown or suppressed), `number` (floating point),
`date` and `timestamp`. A column with `csv=False` is kept in the warehouse but not written to the CSV file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from measures.contract.validate import QUARANTINE_COLUMNS, WARNING_COLUMNS
from measures.evaluation.assumptions import ASSUMPTION_COLUMNS
from measures.evaluation.thresholds import BALANCE_THRESHOLD
from toc.lang import Lang, number

ResultType = Literal["text", "integer", "number", "date", "timestamp"]


class ResultColumn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: ResultType
    description_nl: str
    description_en: str
    csv: bool = True  # written to the table's CSV file (False: kept in the warehouse only)

    def description(self, lang: Lang) -> str:
        return self.description_nl if lang == "nl" else self.description_en


class ResultTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    file: str | None  # the CSV (or JSON) file in the outputs folder; None: warehouse only
    description_nl: str
    description_en: str
    columns: tuple[ResultColumn, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def csv_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.csv]

    def description(self, lang: Lang) -> str:
        return self.description_nl if lang == "nl" else self.description_en


def _c(name: str, type_: ResultType, nl: str, en: str, csv: bool = True) -> ResultColumn:
    return ResultColumn(name=name, type=type_, description_nl=nl, description_en=en, csv=csv)


_INDICATOR = _c(
    "indicator_id", "text", "Id van de indicator (`pilot indicators`).", "Indicator id (`pilot indicators`)."
)
_CI_LOW = _c(
    "ci_low",
    "number",
    "Ondergrens van het 95%-betrouwbaarheidsinterval.",
    "Lower bound of the 95% confidence interval.",
)
_CI_HIGH = _c(
    "ci_high",
    "number",
    "Bovengrens van het 95%-betrouwbaarheidsinterval.",
    "Upper bound of the 95% confidence interval.",
)
_SE = _c("se", "number", "Standaardfout (geclusterd per werkgever).", "Standard error (clustered by employer).")
_SUPPRESSED = _c(
    "suppressed",
    "integer",
    "1 als de cel minder mensen telt dan de minimale celgrootte; de getallen zijn dan leeg.",
    "1 when the cell holds fewer people than the minimum cell size; its numbers are then empty.",
)

TRENDS = ResultTable(
    name="trends",
    file="trends.csv",
    description_nl="Gemiddelde, 95%-BI en n per indicator, groep en periode; kleine cellen onderdrukt.",
    description_en="Mean, 95% CI and n per indicator, group and period; small cells suppressed.",
    columns=(
        _INDICATOR,
        _c("group", "text", "intervention of comparison.", "intervention or comparison."),
        _c(
            "period",
            "text",
            "Maand ten opzichte van de aanmelding (-3, 0, 12), meting (t0, t1, t2) of 12m (werkhervatting).",
            "Month relative to inclusion (-3, 0, 12), wave (t0, t1, t2) or 12m (return to work).",
        ),
        _c("mean", "number", "Gemiddelde van de personen in de cel.", "Mean over the people in the cell."),
        _c(
            "ci_low",
            "number",
            "Ondergrens van het beschrijvende 95%-BI van het gemiddelde (zonder clustering).",
            "Lower bound of the descriptive 95% CI of the mean (ignores clustering).",
        ),
        _c(
            "ci_high",
            "number",
            "Bovengrens van het beschrijvende 95%-BI van het gemiddelde (zonder clustering).",
            "Upper bound of the descriptive 95% CI of the mean (ignores clustering).",
        ),
        _c(
            "n",
            "integer",
            "Aantal waarnemingen in de cel; leeg als onderdrukt.",
            "Observations in the cell; empty when suppressed.",
        ),
        _SUPPRESSED,
    ),
)

_P_VALUE = _c(
    "p_value",
    "number",
    "Tweezijdige p-waarde van de robuuste inferentie (wild cluster bootstrap, of randomisatie over werkgevers "
    "bij één werkgever in een groep).",
    "Two-sided p-value of the robust inference (wild cluster bootstrap, or randomisation over employers when a "
    "group has a single employer).",
)
_ESTIMATOR = _c(
    "estimator",
    "text",
    "Schatter: imputation (Borusyak-Jaravel-Spiess), twfe, sun_abraham of share_difference.",
    "Estimator: imputation (Borusyak-Jaravel-Spiess), twfe, sun_abraham or share_difference.",
)
_N_OBS = _c(
    "n_obs",
    "integer",
    "Waarnemingen (werknemer-maanden of antwoorden).",
    "Observations (employee-months or answers).",
)
_METHOD = _c(
    "method",
    "text",
    "Schattingsmethode en inferentie, of waarom er geen schatting is (onderdrukt, niet schatbaar).",
    "Estimation method and inference, or why there is no estimate (suppressed, not estimable).",
)

EFFECTS = ResultTable(
    name="effects",
    file="effects.csv",
    description_nl="Eén hoofdeffect per indicator: de primaire schatter met robuuste inferentie.",
    description_en="One main effect per indicator: the primary estimator with robust inference.",
    columns=(
        _INDICATOR,
        _c(
            "estimate",
            "number",
            "Het effect op de behandelde waarnemingen (interventie na aanmelding), in de eenheid van de indicator.",
            "The effect on the treated observations (intervention after inclusion), in the indicator's unit.",
        ),
        _SE,
        _c(
            "ci_low",
            "number",
            "Ondergrens van het robuuste 95%-BI (wild bootstrap, door toetsinversie).",
            "Lower bound of the robust 95% CI (wild bootstrap, by test inversion).",
        ),
        _c(
            "ci_high",
            "number",
            "Bovengrens van het robuuste 95%-BI (wild bootstrap, door toetsinversie).",
            "Upper bound of the robust 95% CI (wild bootstrap, by test inversion).",
        ),
        _P_VALUE,
        _c(
            "p_value_wild",
            "number",
            "p-waarde van de wild cluster bootstrap ((1 + #)/(B + 1), nooit 0); leeg als niet berekend.",
            "p-value of the wild cluster bootstrap ((1 + #)/(B + 1), never 0); empty when not computed.",
        ),
        _c(
            "p_value_ri",
            "number",
            "p-waarde van randomisatie-inferentie over werkgevers; leeg als niet berekend.",
            "p-value of randomisation inference over employers; empty when not computed.",
        ),
        _c(
            "q_value",
            "number",
            "p-waarde gecorrigeerd binnen de familie van de indicator (Romano-Wolf; Holm waar nodig).",
            "p-value adjusted within the indicator's family (Romano-Wolf; Holm where needed).",
        ),
        _c(
            "family",
            "text",
            "Familie van hypothesen, vooraf vastgelegd in de catalogus.",
            "Family of hypotheses, fixed in advance in the catalogue.",
        ),
        _ESTIMATOR,
        _c(
            "n_treated_employers",
            "integer",
            "Interventiewerkgevers in de schatting.",
            "Intervention employers in the estimate.",
        ),
        _c(
            "n_comparison_employers",
            "integer",
            "Vergelijkingswerkgevers in de schatting.",
            "Comparison employers in the estimate.",
        ),
        _c("n_employers", "integer", "Werkgevers (clusters) in de schatting.", "Employers (clusters) in the estimate."),
        _c("n_employees", "integer", "Werknemers in de schatting.", "Employees in the estimate."),
        _N_OBS,
        _c(
            "flags",
            "text",
            "Waarschuwingen, gescheiden door ';' (bijv. few_treated_clusters: twee of minder werkgevers in een groep).",
            "Warnings, separated by ';' (e.g. few_treated_clusters: two or fewer employers in a group).",
        ),
        _METHOD,
        _c(
            "df",
            "number",
            "Vrijheidsgraden van de t-verdeling achter het interval (G−1), waar gebruikt.",
            "Degrees of freedom of the t distribution behind the interval (G−1), where used.",
            csv=False,
        ),
    ),
)

ESTIMATES = ResultTable(
    name="estimates",
    file="estimates.csv",
    description_nl="Elke schatter per indicator: de primaire en de robuustheidsrijen (twfe zoals eerder gepubliceerd).",
    description_en="Every estimator per indicator: the primary one and the robustness rows (twfe as published before).",
    columns=(
        _INDICATOR,
        _ESTIMATOR,
        _c("estimate", "number", "Het effect.", "The effect."),
        _SE,
        _CI_LOW,
        _CI_HIGH,
        _P_VALUE,
        _N_OBS,
        _METHOD,
    ),
)

EVENT_STUDY = ResultTable(
    name="event_study",
    file="event_study.csv",
    description_nl="Effect per maand ten opzichte van de aanmelding (referentie −1) of per meting, met de pre-trendtoets.",
    description_en="Effect per month relative to inclusion (reference −1) or per wave, with the pre-trend test.",
    columns=(
        _INDICATOR,
        _c(
            "event_time",
            "number",
            "Maand ten opzichte van de aanmelding (uiteinden samengevoegd), of rangnummer van de meting.",
            "Month relative to inclusion (endpoints binned), or the wave's position.",
        ),
        _c(
            "estimate",
            "number",
            "Effect in die periode ten opzichte van de referentieperiode.",
            "Effect in that period relative to the reference period.",
        ),
        _SE,
        _CI_LOW,
        _CI_HIGH,
        _c(
            "reference",
            "integer",
            "1 voor de referentieperiode (effect 0 per definitie).",
            "1 for the reference period (effect 0 by definition).",
        ),
        _c(
            "pretrend_f",
            "number",
            "F-toets van alle effecten vóór de aanmelding samen.",
            "F statistic of all effects before inclusion jointly.",
        ),
        _c(
            "pretrend_df1",
            "number",
            "Vrijheidsgraden van de teller van de F-toets.",
            "Numerator degrees of freedom of the F test.",
        ),
        _c(
            "pretrend_df2",
            "number",
            "Vrijheidsgraden van de noemer van de F-toets.",
            "Denominator degrees of freedom of the F test.",
        ),
        _c(
            "pretrend_p",
            "number",
            "p-waarde van de pre-trendtoets; klein = de groepen liepen vóór de aanmelding al uiteen.",
            "p-value of the pre-trend test; small = the groups already diverged before inclusion.",
        ),
        _c(
            "pretrend_p_wild",
            "number",
            "p-waarde van de gezamenlijke pre-trendtoets met de wild cluster bootstrap (juiste grootte bij weinig werkgevers).",
            "p-value of the joint pre-trend test by the wild cluster bootstrap (the right size with few employers).",
        ),
        _c(
            "breakdown_m",
            "number",
            "Honest DiD (Rambachan-Roth, gladheid): de kleinste schending van parallelle trends die de conclusie omkeert.",
            "Honest DiD (Rambachan-Roth, smoothness): the smallest violation of parallel trends that overturns the conclusion.",
        ),
        _c(
            "pre_curvature",
            "number",
            "De grootste kromming van de effecten vóór de aanmelding (de maat voor breakdown_m).",
            "The largest curvature of the effects before inclusion (the yardstick for breakdown_m).",
        ),
        _c(
            "note",
            "text",
            "Waarom een indicator niet geschat kon worden (anders leeg).",
            "Why an indicator could not be estimated (else empty).",
        ),
    ),
)

BALANCE = ResultTable(
    name="balance",
    file="balance.csv",
    description_nl="Uitgangssituatie per groep (maand vóór aanmelding, t0-antwoorden) en gestandaardiseerde verschillen.",
    description_en="Baseline per group (month before inclusion, t0 answers) and standardised differences.",
    columns=(
        _c(
            "variable",
            "text",
            "Kenmerk bij de aanmelding (indicator of maanden verzuim).",
            "Characteristic at inclusion (indicator or months of absence).",
        ),
        _c("mean_intervention", "number", "Gemiddelde in de interventiegroep.", "Mean in the intervention group."),
        _c(
            "sd_intervention",
            "number",
            "Standaardafwijking in de interventiegroep.",
            "Standard deviation in the intervention group.",
        ),
        _c(
            "n_intervention",
            "integer",
            "Personen in de interventiegroep; leeg als onderdrukt.",
            "People in the intervention group; empty when suppressed.",
        ),
        _c("mean_comparison", "number", "Gemiddelde in de vergelijkingsgroep.", "Mean in the comparison group."),
        _c(
            "sd_comparison",
            "number",
            "Standaardafwijking in de vergelijkingsgroep.",
            "Standard deviation in the comparison group.",
        ),
        _c(
            "n_comparison",
            "integer",
            "Personen in de vergelijkingsgroep; leeg als onderdrukt.",
            "People in the comparison group; empty when suppressed.",
        ),
        _c(
            "std_diff",
            "number",
            "Gestandaardiseerd verschil: (gem. interventie − gem. vergelijking) / gepoolde SD; boven "
            f"{number(BALANCE_THRESHOLD, 2, 'nl')} is onevenwichtig.",
            "Standardised difference: (mean intervention − mean comparison) / pooled SD; above "
            f"{number(BALANCE_THRESHOLD, 2, 'en')} is imbalanced.",
        ),
        _SUPPRESSED,
    ),
)

_QUARANTINE_MEANING: dict[str, tuple[str, str, ResultType]] = {
    "table": ("Contracttabel van de rij.", "Contract table of the row.", "text"),
    "source_file": ("Bestand waarin de rij stond.", "File the row was in.", "text"),
    "row": (
        "Rijnummer zoals de aanleveraar het ziet (kopregel = 1).",
        "Row number as the deliverer sees it (header = 1).",
        "integer",
    ),
    "column": ("Kolom met het probleem (* = de hele regel).", "Column with the problem (* = the whole line).", "text"),
    "reason": ("Code van de regel die de rij niet haalde.", "Code of the rule the row broke.", "text"),
    "detail": ("De regel in woorden; nooit de waarde zelf.", "The rule in words; never the value itself.", "text"),
}

QUARANTINE = ResultTable(
    name="quarantine",
    file="quarantine.csv",
    description_nl="Rijen die niet geladen zijn, elk met bestand, rij, kolom en reden (nooit de waarde).",
    description_en="Rows that were not loaded, each with file, row, column and reason (never the value).",
    columns=tuple(
        _c(name, _QUARANTINE_MEANING[name][2], *_QUARANTINE_MEANING[name][:2]) for name in QUARANTINE_COLUMNS
    ),
)

_WARNING_MEANING: dict[str, tuple[str, str, ResultType]] = _QUARANTINE_MEANING | {
    "column": ("Kolom van de cel.", "Column of the cell.", "text"),
    "reason": (
        "Code van de waarschuwing (cel geleegd of omgezet, rij behouden).",
        "Code of the warning (cell emptied or mapped, row kept).",
        "text",
    ),
    "detail": (
        "Wat er met de cel gebeurde; nooit de waarde zelf.",
        "What happened to the cell; never its value.",
        "text",
    ),
}

WARNINGS = ResultTable(
    name="warnings",
    file="warnings.csv",
    description_nl="Cellen die geleegd of omgezet zijn terwijl hun rij geladen werd, met bestand, rij, kolom en reden.",
    description_en="Cells emptied or mapped while their row was loaded, each with file, row, column and reason.",
    columns=tuple(_c(name, _WARNING_MEANING[name][2], *_WARNING_MEANING[name][:2]) for name in WARNING_COLUMNS),
)

_ASSUMPTION_MEANING: dict[str, tuple[str, str, ResultType]] = {
    "toc_id": ("Theory of Change.", "Theory of Change.", "text"),
    "item_id": (
        "Aanname of randvoorwaarde (knoop van de ToC).",
        "Assumption or precondition (node of the ToC).",
        "text",
    ),
    "kind": ("assumption of precondition.", "assumption or precondition.", "text"),
    "status": ("holds, fails of untested.", "holds, fails or untested.", "text"),
    "value": ("De gemeten waarde.", "The measured value.", "number"),
    "threshold": ("De drempel uit de ToC.", "The threshold from the ToC.", "number"),
    "n": ("Aantal personen of werkgevers achter de waarde.", "People or employers behind the value.", "integer"),
}

ASSUMPTIONS = ResultTable(
    name="assumptions",
    file="assumptions.csv",
    description_nl="Elke aanname en randvoorwaarde van de ToC's getoetst op de gegevens van de evaluatie.",
    description_en="Each assumption and precondition of the ToCs tested on the evaluation's data.",
    columns=(
        *(_c(name, _ASSUMPTION_MEANING[name][2], *_ASSUMPTION_MEANING[name][:2]) for name in ASSUMPTION_COLUMNS),
        _c(
            "reason",
            "text",
            "Waarom ongetoetst (no_check, no_data, not_due, small_n).",
            "Why untested (no_check, no_data, not_due, small_n).",
            csv=False,
        ),
    ),
)

PREREGISTRATION = ResultTable(
    name="preregistration",
    file=None,  # run.json's `preregistration`
    description_nl="De evaluatie vergeleken met het vooraf geregistreerde analyseplan van de studie.",
    description_en="The evaluation compared with the study's pre-registered analysis plan.",
    columns=(_c("comparison", "text", "De vergelijking (JSON).", "The comparison (JSON)."),),
)

_COUNTS = (
    _c("rows_in", "integer", "Niet-lege datarijen in het bestand.", "Non-blank data rows in the file."),
    _c(
        "loaded",
        "integer",
        "Geladen rijen (= new + revised + unchanged).",
        "Rows loaded (= new + revised + unchanged).",
    ),
    _c(
        "quarantined",
        "integer",
        "Rijen in quarantaine (rows_in = loaded + quarantined).",
        "Rows quarantined (rows_in = loaded + quarantined).",
    ),
    _c(
        "new",
        "integer",
        "Geladen rijen met een sleutel die de studie nog niet had.",
        "Loaded rows whose key the study did not hold yet.",
    ),
    _c(
        "revised",
        "integer",
        "Geladen rijen die een eerder geleverde rij met dezelfde sleutel vervangen (een correctie).",
        "Loaded rows that replace an earlier delivered row with the same key (a revision).",
    ),
    _c(
        "unchanged",
        "integer",
        "Geladen rijen die gelijk zijn aan de eerder geleverde rij met dezelfde sleutel.",
        "Loaded rows equal to the earlier delivered row with the same key.",
    ),
)

INGEST_SUMMARY = ResultTable(
    name="ingest_summary",
    file=None,  # ingest.json and deliveries.csv are written from it
    description_nl="Wat er van elke geleverde tabel terechtkwam, per levering.",
    description_en="What became of each delivered table, per delivery.",
    columns=(
        _c("table", "text", "Contracttabel.", "Contract table."),
        _c("sha256", "text", "SHA-256 van het bestand.", "SHA-256 of the file."),
        *_COUNTS,
        _c("source_file", "text", "Bestandsnaam.", "File name."),
        _c(
            "dropped_columns",
            "text",
            "Kolommen buiten het contract die niet zijn ingelezen (JSON-lijst, alleen namen of posities).",
            "Columns outside the contract that were not read (JSON list, names or positions only).",
        ),
        _c(
            "scrubbed_cells",
            "integer",
            "Vrije-tekstcellen waaruit identificerende gegevens zijn verwijderd.",
            "Free-text cells scrubbed of identifying details.",
        ),
        _c("reasons", "text", "Rijen in quarantaine per reden (JSON).", "Rows quarantined per reason (JSON)."),
        _c("warnings", "integer", "Cellen geleegd of omgezet, rij behouden.", "Cells emptied or mapped, row kept."),
        _c("warning_reasons", "text", "Waarschuwingen per reden (JSON).", "Warnings per reason (JSON)."),
    ),
)

DELIVERIES = ResultTable(
    name="deliveries",
    file="deliveries.csv",
    description_nl="De leveringen van de studie tot en met deze evaluatie: per tabel wat elke levering toevoegde en corrigeerde.",
    description_en="The study's deliveries up to this evaluation: per table what each delivery added and revised.",
    columns=(
        _c(
            "delivery",
            "text",
            "Sleutel van de levering (leverdatum, studie, inhoudshash).",
            "Delivery key (delivery date, study, content hash).",
        ),
        _c(
            "delivery_date",
            "date",
            "Leverdatum: de dag waarop de levering is geregistreerd.",
            "Delivery date: the day the delivery was registered.",
        ),
        _c("table", "text", "Contracttabel.", "Contract table."),
        _c("source_file", "text", "Bestandsnaam.", "File name."),
        *_COUNTS,
    ),
)

EFFECTS_OVER_TIME = ResultTable(
    name="effects_over_time",
    file="effects_over_time.csv",
    description_nl="De hoofdeffecten van elke evaluatie van de studie tot en met deze (per levering of peildatum).",
    description_en="The main effects of every evaluation of the study up to this one (per delivery or cut-off).",
    columns=(
        _c(
            "evaluation",
            "text",
            "Sleutel van de evaluatie (levering, met -cutoff-DATUM voor tussenresultaten).",
            "Evaluation key (delivery, with -cutoff-DATE for interim results).",
        ),
        _c(
            "date",
            "date",
            "Peildatum als die er is, anders de leverdatum.",
            "The cut-off when there is one, else the delivery date.",
        ),
        _c("cutoff", "date", "Peildatum (leeg: alle gegevens).", "Cut-off (empty: all data)."),
        _INDICATOR,
        EFFECTS.columns[1],
        _CI_LOW,
        _CI_HIGH,
        EFFECTS.columns[5],
        EFFECTS.columns[8],
        EFFECTS.columns[9],
    ),
)

ERASURES = ResultTable(
    name="erasures",
    file=None,
    description_nl="Verwijderingen op verzoek (AVG art. 17): wanneer en hoeveel rijen, nooit wie.",
    description_en="Erasures on request (GDPR art. 17): when and how many rows, never whom.",
    columns=(
        _c("study", "text", "Studie.", "Study."),
        _c("erased_at", "timestamp", "Moment van verwijderen (UTC).", "When the rows were erased (UTC)."),
        _c("table", "text", "Tabel waaruit rijen zijn verwijderd.", "Table rows were removed from."),
        _c("rows", "integer", "Aantal verwijderde rijen.", "Number of rows removed."),
    ),
)

_GROUP = _c(
    "group",
    "text",
    "intervention of comparison; in een studie zonder vergelijkingsgroep de indeling (beroep) of all.",
    "intervention or comparison; in a study without a comparison group its breakdown (profession) or all.",
)
_N_PEOPLE = _c(
    "n", "integer", "Aantal personen in de cel; leeg als onderdrukt.", "People in the cell; empty when suppressed."
)

MILESTONES = ResultTable(
    name="milestones",
    file="milestones.csv",
    description_nl="Tijdigheid per mijlpaal van de tijdlijn (weken na de ziekmelding) en groep; kleine cellen onderdrukt.",
    description_en="Timeliness per milestone of the timeline (weeks after the sick report) and group; small cells suppressed.",
    columns=(
        _c(
            "milestone",
            "text",
            "De mijlpaal (waarde van de mijlpalentabel).",
            "The milestone (a value of the milestones table).",
        ),
        _GROUP,
        _c("due_from_week", "number", "Begin van het venster (week).", "Start of its window (week)."),
        _c("due_week", "number", "Uiterste week waarin de stap op tijd is.", "Last week in which the step is in time."),
        _c(
            "population_week",
            "number",
            "De stap geldt voor wie in deze week nog verzuimt.",
            "The step is due for those still absent in this week.",
        ),
        _N_PEOPLE,
        _c("on_time", "number", "Aandeel op tijd gezet.", "Share taken in time."),
        _c(
            "ci_low",
            "number",
            "Ondergrens van het 95%-BI van het aandeel (Wilson).",
            "Lower bound of the 95% CI of the share (Wilson).",
        ),
        _c(
            "ci_high",
            "number",
            "Bovengrens van het 95%-BI van het aandeel (Wilson).",
            "Upper bound of the 95% CI of the share (Wilson).",
        ),
        _c(
            "reached",
            "number",
            "Aandeel dat de stap ooit zette (ook te laat).",
            "Share that ever took the step (late too).",
        ),
        _c(
            "median_week",
            "number",
            "Mediane week waarin de stap werd gezet.",
            "Median week in which the step was taken.",
        ),
        _c("q1_week", "number", "Eerste kwartiel van die week.", "First quartile of that week."),
        _c("q3_week", "number", "Derde kwartiel van die week.", "Third quartile of that week."),
        _SUPPRESSED,
    ),
)

SURVIVAL = ResultTable(
    name="survival",
    file="survival.csv",
    description_nl="Kaplan-Meier: aandeel nog niet hervat per week, per groep (en voor/na in een cohortstudie); punten met minder mensen at risk dan de minimale celgrootte vervallen.",
    description_en="Kaplan-Meier: share not yet back per week, per group (and before/after in a cohort study); points with fewer people at risk than the minimum cell size are left out.",
    columns=(
        _INDICATOR,
        _GROUP,
        _c("period", "text", "before, after of all.", "before, after or all."),
        _c("week", "number", "Weken sinds de start van de tijdas.", "Weeks since the start of the time axis."),
        _c("survival", "number", "Aandeel nog niet hervat (Kaplan-Meier).", "Share not yet back (Kaplan-Meier)."),
        _c("at_risk", "integer", "Aantal at risk.", "Number at risk."),
        _c("events", "integer", "Aantal hervattingen in die week.", "Returns in that week."),
    ),
)

TRAJECTORIES = ResultTable(
    name="trajectories",
    file="trajectories.csv",
    description_nl="Verloop per symptoom: gemiddelde score (0-10) per twee weken sinds de inclusie, met 95%-BI; kleine cellen onderdrukt.",
    description_en="Course per symptom: mean score (0-10) per two weeks since inclusion, with 95% CI; small cells suppressed.",
    columns=(
        _c("symptom", "text", "Het symptoom.", "The symptom."),
        _GROUP,
        _c("week", "number", "Begin van de periode van twee weken.", "Start of the two-week period."),
        _c("mean", "number", "Gemiddelde score.", "Mean score."),
        _c(
            "ci_low",
            "number",
            "Ondergrens van het 95%-BI (geclusterd per arts).",
            "Lower bound of the 95% CI (clustered by physician).",
        ),
        _c(
            "ci_high",
            "number",
            "Bovengrens van het 95%-BI (geclusterd per arts).",
            "Upper bound of the 95% CI (clustered by physician).",
        ),
        _N_PEOPLE,
        _SUPPRESSED,
    ),
)

SURVIVAL_CURVES = ResultTable(
    name="survival_curves",
    file=None,
    description_nl="Kaplan-Meier: het deel nog niet volledig hersteld per groep en maand sinds de eerste verzuimdag.",
    description_en="Kaplan-Meier: the share not yet fully back at work per group and month since the first day of absence.",
    columns=(
        _c("group", "text", "intervention of comparison.", "intervention or comparison."),
        _c("time", "number", "Maanden sinds de eerste verzuimdag.", "Months since the first day of absence."),
        _c("survival", "number", "Deel nog niet hersteld.", "Share not yet back at work."),
        _c("at_risk", "integer", "Werknemers nog in verzuim en in beeld.", "Employees still absent and observed."),
        _c("events", "integer", "Werkhervattingen in die maand.", "Returns to work in that month."),
    ),
)

RMST = ResultTable(
    name="rmst",
    file=None,
    description_nl="Beperkt gemiddelde tijd tot werkhervatting per groep en het verschil, met bootstrap-BI (werkgevers).",
    description_en="Restricted mean time to return to work per group and the difference, with a bootstrap CI (employers).",
    columns=(
        _c("horizon", "number", "Horizon in maanden.", "Horizon in months."),
        _c("rmst_intervention", "number", "Interventiegroep (maanden).", "Intervention group (months)."),
        _c("rmst_comparison", "number", "Vergelijkingsgroep (maanden).", "Comparison group (months)."),
        _c(
            "difference",
            "number",
            "Verschil (interventie min vergelijking).",
            "Difference (intervention minus comparison).",
        ),
        _CI_LOW,
        _CI_HIGH,
        _c("n_intervention", "integer", "Werknemers, interventie.", "Employees, intervention."),
        _c("n_comparison", "integer", "Werknemers, vergelijking.", "Employees, comparison."),
        _METHOD,
    ),
)

#: Every declared result table, by name.
RESULTS: dict[str, ResultTable] = {
    t.name: t
    for t in (
        TRENDS,
        EFFECTS,
        ESTIMATES,
        EVENT_STUDY,
        SURVIVAL_CURVES,
        RMST,
        BALANCE,
        ASSUMPTIONS,
        PREREGISTRATION,
        QUARANTINE,
        WARNINGS,
        INGEST_SUMMARY,
        DELIVERIES,
        EFFECTS_OVER_TIME,
        ERASURES,
        MILESTONES,
        SURVIVAL,
        TRAJECTORIES,
    )
}


def results_dictionary(lang: Lang = "nl") -> str:
    """The results dictionary (Markdown): every output table with its columns, types and meaning."""
    title = {"nl": "# Resultaten: tabellen en kolommen", "en": "# Results: tables and columns"}[lang]
    head = {"nl": "| kolom | type | betekenis |", "en": "| column | type | meaning |"}[lang]
    lines = [title, ""]
    for table in RESULTS.values():
        where = f" (`{table.file}`)" if table.file else ""
        lines += [f"## {table.name}{where}", "", table.description(lang), "", head, "|---|---|---|"]
        lines += [
            f"| `{c.name}` | {c.type} | {c.description(lang)} |" for c in table.columns if c.csv or not table.file
        ]
        lines.append("")
    return "\n".join(lines).rstrip()
