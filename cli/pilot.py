"""`pilot`: the pilot's data contract, synthetic drops, estimates and the evaluation pipeline.

A thin layer: each command parses its arguments, calls one function of `measures` or `pipelines`, and
prints. JSON output (`--json`) is a contract that other tools read.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from rich.table import Table

from cli.common import console, friendly_errors, plain, print_json, run_and_exit, shown
from measures.contract.limits import MAX_QUARANTINE_SHARE
from measures.evaluation.thresholds import MIN_CELL
from toc.errors import UserError
from toc.lang import checked_lang

if TYPE_CHECKING:
    from measures.estimation.did import Vcov

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable contract for other tools).")]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr while it works.")]
LangOption = Annotated[str, typer.Option(help="Language of the report: nl or en.")]
CutoffOption = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Interim results: leave out data after YYYY-MM-DD.")
]
DesignOption = Annotated[
    str | None,
    typer.Option(help="Study design (a file under studies/): akc-pilot (default), passend-werk, eigen-regie, ..."),
]


@app.command()
@friendly_errors
def indicators(as_json: JsonFlag = False) -> None:
    """The indicator catalogue: how each ToC output and effect is measured."""
    from measures.indicators.catalogue import load_catalogue

    catalogue = [i.model_dump(mode="json") for i in load_catalogue()]
    if as_json:
        return print_json(catalogue)
    table = Table("id", "source", "scale", "direction", "label (nl)", "nodes")
    for ind in catalogue:
        table.add_row(
            ind["id"], ind["source"], ind["scale"], ind["direction"], ind["label_nl"], "\n".join(ind["nodes"])
        )
    console.print(table)


MaxRows = Annotated[
    list[str] | None,
    typer.Option("--max-rows", help="Row limit of one table, TABLE=N (repeatable); defaults in the contract."),
]
Earliest = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Earliest plausible date (default 1990-01-01).")
]
Latest = Annotated[
    dt.datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Latest plausible date (default one year after today)."),
]


def _limits(max_rows: list[str] | None, earliest: dt.datetime | None, latest: dt.datetime | None):
    from measures.contract.limits import EARLIEST_DATE, Limits, parse_max_rows

    return Limits(
        max_rows=parse_max_rows(max_rows or []),
        earliest_date=earliest.date() if earliest else EARLIEST_DATE,
        latest_date=latest.date() if latest else None,
    )


@app.command()
@friendly_errors
def validate(
    drop: Annotated[Path, typer.Argument(help="A drop folder.")],
    strict: Annotated[bool, typer.Option(help="Also exit non-zero when rows would be quarantined.")] = False,
    as_json: JsonFlag = False,
    max_rows: MaxRows = None,
    earliest_date: Earliest = None,
    latest_date: Latest = None,
    design: DesignOption = None,
) -> None:
    """Check a drop without loading it (against --design's contract): per table rows ok and bad, each bad row with
    file, row, column and reason, and each warning (a descriptive cell emptied or changed, its row kept)."""
    from measures.contract.validate import validate_drop
    from measures.designs.load import load_design
    from pipelines.ingestion import design_reference

    chosen = load_design(design) if design else load_design()
    limits = _limits(max_rows, earliest_date, latest_date)
    result = validate_drop(drop, design_reference(chosen), limits, chosen.contract)
    quarantine, warnings = result.quarantine(), result.warnings()
    if as_json:
        print_json(
            {
                "tables": {n: s.as_json() | {"sha256": s.sha256} for n, s in result.summary().items()},
                "bad_rows": quarantine.to_dict("records"),
                "warnings": warnings.to_dict("records"),
            }
        )
    else:
        table = Table("table", "file", "rows", "ok", "bad", "warnings", "dropped columns")
        for name, s in result.summary().items():
            counts = (s.rows_in, s.loaded, s.quarantined, s.warnings)
            table.add_row(name, shown(s.source_file), *map(str, counts), shown(", ".join(s.dropped_columns)))
        console.print(table)
        for kind, records in (("", quarantine), ("warning: ", warnings)):
            for r in records.itertuples():
                line = f"{kind}{r.source_file} row {r.row}, column {r.column}: {r.reason} ({r.detail})"
                console.print(plain(line), markup=False, highlight=False)
    if strict and len(quarantine):
        raise typer.Exit(1)


@app.command()
@friendly_errors
def simulate(
    out: Annotated[Path, typer.Option(help="Folder to write the drop into (truth.json goes beside the tables).")],
    seed: Annotated[int | None, typer.Option(help="Seed of every draw (default: the toolkit's seed).")] = None,
    employers: Annotated[
        int | None, typer.Option(help="Number of employers, alternately intervention and comparison (default 10).")
    ] = None,
    employees_per_employer: Annotated[int | None, typer.Option(help="Employees per employer (default 20).")] = None,
    effect_ao: Annotated[
        float | None,
        typer.Option(help="Planted effect on AO% in percentage points, negative = improvement (default -10)."),
    ] = None,
    effect_survey: Annotated[
        float | None,
        typer.Option(help="Planted effect on questionnaire indicators at t1/t2, in scale points, towards improvement."),
    ] = None,
    survey_effect: Annotated[
        list[str] | None, typer.Option(help="Per-indicator override ID=EFFECT; repeatable.")
    ] = None,
    survey_indicators: Annotated[
        int | None, typer.Option(help="Simulate only the first N questionnaire indicators.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="csv, csv-nl (semicolon, decimal comma, DD-MM-YYYY), xlsx or parquet.")
    ] = "csv",
    design: DesignOption = None,
    quiet: QuietFlag = False,
) -> None:
    """A realistic synthetic drop in the contract (of --design), with planted effects written to truth.json."""
    from cli.progress import stage
    from measures.designs.load import DEFAULT_DESIGN
    from measures.evaluation.simulate import SimulationSpec, write_drop

    if design is not None and design != DEFAULT_DESIGN:
        return _simulate_design(design, out, seed, fmt, quiet)

    given: dict[str, Any] = {
        "seed": seed,
        "employers": employers,
        "employees_per_employer": employees_per_employer,
        "effect_ao": effect_ao,
        "effect_survey": effect_survey,
        "survey_indicators": survey_indicators,
    }
    spec = SimulationSpec(
        **{k: v for k, v in given.items() if v is not None},
        survey_effects=dict(_pair(item) for item in survey_effect or []),
    )
    with stage(f"simulating {spec.employers} employers × {spec.employees_per_employer} employees", quiet):
        truth = write_drop(spec, out, fmt)
    console.print(
        f"wrote a drop of {spec.employers} employers × {spec.employees_per_employer} employees to {shown(out)} "
        f"(planted AO% effect {spec.effect_ao:+g}; sample ATT {truth['att']['ao_pct']:+.2f}; see truth.json)"
    )


def _simulate_design(design: str, out: Path, seed: int | None, fmt: str, quiet: bool) -> None:
    from cli.progress import stage
    from measures.estimation.inference import SEED
    from measures.evaluation.design.simulate import write_design_drop

    with stage(f"simulating a {design} drop", quiet):
        truth = write_design_drop(design, out, SEED if seed is None else seed, fmt)
    console.print(
        f"wrote a simulated {design} drop to {shown(out)} (primary indicator {truth['primary_indicator']}: planted "
        f"effect {truth['effect']:+.3f}; see truth.json)",
        markup=False,
    )


def _pair(item: str) -> tuple[str, float]:
    key, sep, value = item.partition("=")
    if not sep:
        raise typer.BadParameter(f"expects ID=EFFECT, got {item!r}", param_hint="--survey-effect")
    return key.strip(), float(value)


@app.command()
@friendly_errors
def template(
    out: Annotated[Path, typer.Option(help="Folder for the empty templates.")], design: DesignOption = None
) -> None:
    """Empty CSV and XLSX templates (with the data dictionary) that an employer fills in (of --design's contract)."""
    from measures.contract.templates import write_templates
    from measures.designs.load import load_design

    for path in write_templates(out, load_design(design).contract if design else load_design().contract):
        console.print(f"wrote {shown(path)}")


@app.command()
@friendly_errors
def contract(
    lang: Annotated[str, typer.Option(help="nl or en.")] = "nl",
    results: Annotated[bool, typer.Option("--results", help="The result tables (effects.csv, ...) instead.")] = False,
    design: DesignOption = None,
    templates: Annotated[Path | None, typer.Option(help="Also write the design's empty templates here.")] = None,
) -> None:
    """The data dictionary of a study design's contract (Markdown; default the AKC pilot's), or of the
    evaluation's result tables."""
    if results:
        from measures.evaluation.results import results_dictionary

        sys.stdout.write(results_dictionary(checked_lang(lang)) + "\n")
        return
    from measures.contract.templates import data_dictionary, write_templates
    from measures.designs.load import load_design

    chosen = load_design(design) if design else load_design()
    sys.stdout.write(data_dictionary(checked_lang(lang), chosen.contract) + "\n")
    for path in write_templates(templates, chosen.contract) if templates else []:
        console.print(f"wrote {shown(path)}", markup=False)


@app.command()
@friendly_errors
def did(
    file: Annotated[Path, typer.Argument(help="A panel as CSV, XLSX or Parquet.")],
    outcome: Annotated[str, typer.Option(help="Outcome column.")],
    entity: Annotated[str, typer.Option(help="Unit column (entity fixed effects).")],
    time: Annotated[str, typer.Option(help="Period column (time fixed effects): numbers, dates or labels.")],
    treated: Annotated[str, typer.Option(help="0/1 column: treatment on for this unit at this time.")],
    cluster: Annotated[str | None, typer.Option(help="Cluster column (default: the entity).")] = None,
    covariate: Annotated[list[str] | None, typer.Option(help="Extra regressor (twfe); repeatable.")] = None,
    vcov: Annotated[str, typer.Option(help="cluster, robust or unadjusted (twfe).")] = "cluster",
    estimator: Annotated[
        str, typer.Option(help="twfe (CR1, t(G-1): the published model), imputation or sun-abraham.")
    ] = "twfe",
    fixed_effect: Annotated[
        list[str] | None, typer.Option(help="A further fixed-effect column (imputation, sun-abraham); repeatable.")
    ] = None,
    wild_reps: Annotated[int, typer.Option(help="Wild cluster bootstrap draws.")] = 999,
    seed: Annotated[int | None, typer.Option(help="Seed of the bootstrap and of sampled assignments.")] = None,
    randomization: Annotated[
        str, typer.Option(help="Randomisation inference over clusters: auto (when cheap or needed), yes or no.")
    ] = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Difference-in-differences on any panel (e.g. Passend Werk cohorts vs the sector): TWFE as published, or the
    heterogeneity-robust imputation and Sun-Abraham estimators with few-cluster-robust inference."""
    from measures.contract.panel_file import read_panel
    from measures.estimation.errors import EstimationError
    from measures.estimation.estimators import ESTIMATORS, Inference, estimate_did_any
    from measures.estimation.inference import SEED

    name = estimator.replace("-", "_")
    if name not in ESTIMATORS:
        raise typer.BadParameter(f"one of twfe, imputation, sun-abraham, not {estimator!r}", param_hint="--estimator")
    if randomization not in ("auto", "yes", "no"):
        raise typer.BadParameter(f"auto, yes or no, not {randomization!r}", param_hint="--randomization")
    extra = [*([cluster] if cluster else []), *(covariate or []), *(fixed_effect or [])]
    data = read_panel(file, [outcome, entity, time, treated, *extra])
    inference = Inference(
        wild_reps=wild_reps,
        seed=SEED if seed is None else seed,
        randomization={"auto": None, "yes": True, "no": False}[randomization],
    )
    try:
        result = estimate_did_any(
            data,
            outcome,
            entity,
            time,
            treated,
            cluster,
            name,
            fixed_effect or (),
            covariate or (),
            _vcov(vcov),
            inference,
        )
    except EstimationError as exc:
        raise UserError(f"{file.name}: {exc}") from None
    if as_json:
        return print_json(result.as_dict())
    for key, value in result.as_dict().items():
        console.print(plain(f"{key:>21}: {value}"), markup=False)


def _vcov(value: str) -> Vcov:
    from measures.estimation.did import Vcov

    choices = get_args(Vcov)
    if value not in choices:
        raise typer.BadParameter(f"one of {', '.join(choices)}, not {value!r}", param_hint="--vcov")
    return value  # type: ignore[return-value]  # one of the Literal's values, checked above


@app.command("business-case")
@friendly_errors
def business_case_cmd(
    daily_wage: Annotated[float | None, typer.Option(help="Daily wage in euros (default: the report's).")] = None,
    ad_cost: Annotated[float | None, typer.Option(help="Cost of the labour expert (default: the report's).")] = None,
    direct_adjustment: Annotated[
        float | None, typer.Option(help="Share of cases whose AO% is adjusted directly (default: the report's).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The report's business case (§4.2) to the euro: costs and savings per person."""
    from measures.evaluation.business_case import business_case

    given: dict[str, Any] = {"daily_wage": daily_wage, "ad_cost": ad_cost, "direct_adjustment": direct_adjustment}
    data = business_case(**{k: v for k, v in given.items() if v is not None}).as_dict()
    if as_json:
        return print_json(data)
    console.print(f"cost per person: €{data['cost_per_person']}")
    for period, euros in data["savings_by_month"].items():
        console.print(f"savings month {period}: €{euros}")
    console.print(
        f"total where AO% is adjusted directly: €{data['savings_total']}; average per employee: €{data['savings_average']}"
    )
    console.print(
        f"replacement: €{data['replacement_per_month']} a month, €{data['replacement_savings']} over months 6-12"
    )
    for row in data["by_daily_wage"]:
        console.print(f"daily wage €{row['daily_wage']:g}: €{row['savings_total']} / €{row['savings_average']}")


@app.command()
@friendly_errors
def power(
    employers: Annotated[int, typer.Option(help="Number of employers (clusters), both arms together.")],
    employees_per_employer: Annotated[int, typer.Option(help="Employees per employer.")],
    icc: Annotated[float, typer.Option(help="Intra-class correlation within employers.")],
    simulate: Annotated[
        bool, typer.Option(help="Also simulate the power of the estimator the pipeline uses, on pilot-like panels.")
    ] = False,
    treated_employers: Annotated[int | None, typer.Option(help="Intervention employers (default: half).")] = None,
    effect: Annotated[float, typer.Option(help="Simulated effect on AO% (percentage points).")] = -5.0,
    effect_sd: Annotated[float, typer.Option(help="SD of the effect between employers (heterogeneity).")] = 2.0,
    employer_change_sd: Annotated[
        float, typer.Option(help="SD of employers' own change at inclusion (the employer-level variance of changes).")
    ] = 3.0,
    reps: Annotated[int, typer.Option(help="Simulated pilots.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Minimum detectable effect (SD) for 80% power at 5%, accounting for clustering by employer; with --simulate,
    the power of the imputation estimator with its wild-bootstrap p on simulated pilots."""
    from measures.estimation.pilot_panel import PanelSpec
    from measures.estimation.power import mde_table, minimum_detectable_effect, simulate_did_power

    result: dict = minimum_detectable_effect(employers, employees_per_employer, icc).as_dict()
    total = employers * employees_per_employer
    table = mde_table(total_employees=total, icc=icc)
    simulated = None
    if simulate:
        spec = PanelSpec(
            employers=employers,
            treated_employers=employers // 2 if treated_employers is None else treated_employers,
            employees=employees_per_employer,
            effect=effect,
            effect_sd=effect_sd,
            employer_change_sd=employer_change_sd,
        )
        simulated = simulate_did_power(spec, reps=reps).as_dict()
    if as_json:
        return print_json(
            result | {"by_employers": table.to_dict("records")} | ({"simulated": simulated} if simulated else {})
        )
    for key, value in result.items():
        console.print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    console.print(f"\nThe same {total} employees over 4-20 employers (ICC {icc}):")
    console.print(table.to_string(index=False), markup=False)
    if simulated:
        console.print(
            f"\nSimulated power ({simulated['estimator']}, {simulated['reps']} pilots, effect {effect:+g} pp, "
            f"effect SD {effect_sd:g}, employer change SD {employer_change_sd:g}): {simulated['power']:.2f}"
        )


@app.command()
@friendly_errors
def run(
    out: Annotated[Path, typer.Option(help="Folder for effects.csv, trends.csv, report.html, ...")],
    data: Annotated[Path | None, typer.Option(help="A drop folder: a new delivery (of --study, if given).")] = None,
    study: Annotated[
        str | None,
        typer.Option(help="Study id (lower case, digits, -): add --data to it, or re-evaluate it as it stands."),
    ] = None,
    delivered: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Delivery date of --data when it is not today (older deliveries)."),
    ] = None,
    cutoff: CutoffOption = None,
    min_cell: Annotated[
        int, typer.Option(min=MIN_CELL, help="Suppress cells of fewer people than this (never below the default).")
    ] = MIN_CELL,
    lang: LangOption = "nl",
    max_quarantine_share: Annotated[
        float,
        typer.Option(
            min=0.01, max=1.0, help="Refuse a delivery that loses more of a required table to the quarantine."
        ),
    ] = MAX_QUARANTINE_SHARE,
    max_rows: MaxRows = None,
    design: DesignOption = None,
    quiet: QuietFlag = False,
) -> None:
    """Evaluate a drop, or a study assembled from its deliveries, headless, recorded in the Dagster instance."""
    from cli.progress import step_progress
    from measures.contract.limits import parse_max_rows
    from pipelines.run import run_study

    with step_progress(quiet) as report:
        outcome = run_study(
            study,
            data,
            out,
            cutoff.date() if cutoff else None,
            delivered.date() if delivered else None,
            min_cell=min_cell,
            lang=lang,
            max_quarantine_share=max_quarantine_share,
            report=report,
            max_rows=parse_max_rows(max_rows or []),
            design=design,
        )
    evaluation = outcome.delivery
    if outcome.not_evaluable:
        console.print(f"delivery {evaluation.delivery_key} is stored; {outcome.not_evaluable}", markup=False)
        return
    console.print(f"run {outcome.run_id} of {evaluation.key} (study {evaluation.study}) succeeded", markup=False)
    console.print(
        f"outputs in {shown(outcome.out_dir)}: effects.csv, estimates.csv, trends.csv, deliveries.csv, ingest.json, "
        "report.html"
    )


@app.command()
@friendly_errors
def erase(
    study: Annotated[str, typer.Option(help="The study the employee withdrew from.")],
    employee: Annotated[str, typer.Option(help="The employee's pseudonym (employee_id), as delivered.")],
) -> None:
    """Erase every row of one employee from a study (withdrawn consent, AVG art. 17); the pseudonym is not kept."""
    from pipelines.erasure import erase_employee

    record = erase_employee(study, employee)
    console.print(
        f"erased {record.total} rows of one employee from study {study} "
        f"({', '.join(f'{t} {n}' for t, n in record.rows.items())}); the warehouse file was rewritten",
        markup=False,
    )
    for line in record.notes:
        console.print(line, markup=False)
    console.print(f"re-evaluate with: pilot run --study {study} --out OUT", markup=False)


@app.command()
@friendly_errors
def preregister(
    study: Annotated[
        str, typer.Option(help="Study id (lower case, digits, '-'); a drop on its own: drop-<digest> (pilot run says).")
    ],
    cutoff: Annotated[
        list[dt.datetime] | None,
        typer.Option(formats=["%Y-%m-%d"], help="A planned interim cut-off YYYY-MM-DD; repeatable."),
    ] = None,
    primary_indicator: Annotated[str | None, typer.Option(help="Primary indicator (default: the pipeline's).")] = None,
    estimator: Annotated[str | None, typer.Option(help="Estimator (default: the pipeline's).")] = None,
    alpha: Annotated[float | None, typer.Option(help="Level of the tests (default: the pipeline's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the plan (default: outputs/preregistration/ID).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Freeze the analysis plan of a study before its effect data are in; a new registration is kept as the next
    version, and says what moved."""
    from measures.evaluation.preregistration import canonical_json, compare, describe, plan_markdown
    from measures.indicators.catalogue import indicators_by_id
    from pipelines import preregistration as prereg
    from pipelines import settings
    from pipelines.warehouse import Warehouse

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", study):
        raise UserError(f"--study: '{study}' is not a study id (lower case letters, digits and '-')")
    given = {"primary_indicator": primary_indicator, "estimator": estimator, "alpha": alpha}
    overrides = {k: v for k, v in given.items() if v is not None}
    if primary_indicator is not None and primary_indicator not in indicators_by_id():
        raise UserError(f"--primary-indicator: '{primary_indicator}' is not in the indicator catalogue")
    dates = sorted({c.date().isoformat() for c in cutoff or []})
    plan = prereg.plan_for(study, prereg.today(), prereg.git_commit(), dates, overrides)
    warehouse = Warehouse(database=str(settings.warehouse_path()))
    earlier = prereg.registrations(warehouse, study)
    registration = prereg.register(warehouse, plan)
    folder = Path(out) if out else prereg.default_out(study)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "preregistration.json").write_text(canonical_json(plan).decode("utf-8") + "\n", encoding="utf-8")
    history = [{"registered_on": r.registered_on, "plan_sha256": r.plan_sha256} for r in earlier]
    for lang in ("nl", "en"):
        (folder / f"preregistration.{lang}.md").write_text(plan_markdown(plan, lang, history), encoding="utf-8")
    moved = compare(earlier[-1].plan, plan).changes if earlier else []
    if as_json:
        return print_json(
            {
                "study": study,
                "version": registration.version,
                "plan_sha256": registration.plan_sha256,
                "replaces": earlier[-1].plan_sha256 if earlier else None,
                "changes": moved,
                "folder": str(folder),
            }
        )
    console.print(f"registered version {registration.version} of the plan of study {study}: {registration.plan_sha256}")
    if earlier:
        console.print(
            f"re-registration: replaces version {earlier[-1].version} of {earlier[-1].registered_on} "
            f"({earlier[-1].plan_sha256[:12]}…); both stay in the warehouse"
        )
        for line in [f"  moved: {describe(change)}" for change in moved] or ["  nothing moved"]:
            console.print(line, markup=False)
    console.print(f"plan in {folder}: preregistration.json, preregistration.nl.md, preregistration.en.md")


@app.command()
@friendly_errors
def demo(
    out: Annotated[Path | None, typer.Option(help="Where the demo drop and outputs go.")] = None,
    design: DesignOption = None,
    quiet: QuietFlag = False,
) -> None:
    """Simulate a drop (fixed seed), evaluate it, and say where the outputs are and how to open the UI."""
    from cli.progress import step_progress
    from measures.designs.load import DEFAULT_DESIGN
    from measures.evaluation.simulate import SimulationSpec, write_drop
    from pipelines import settings
    from pipelines.run import run_drop

    if design is not None and design != DEFAULT_DESIGN:
        return _demo_design(design, Path(out) if out else settings.data_dir() / "demo" / design, quiet)
    base = Path(out) if out else settings.data_dir() / "demo"
    drop, results = base / "drop", base / "outputs"
    if drop.exists():
        shutil.rmtree(drop)
    truth = write_drop(SimulationSpec(), drop)
    _preregister_demo(drop)
    with step_progress(quiet) as report:
        outcome = run_drop(drop, results, report=report)
    with (results / "effects.csv").open(encoding="utf-8", newline="") as handle:
        ao = next(row for row in csv.DictReader(handle) if row["indicator_id"] == "ao_pct")
    console.print(f"\n[bold]Demo evaluated[/bold]: delivery {shown(outcome.delivery.key)}, run {outcome.run_id}")
    console.print(
        f"AO% effect ({ao['estimator']}): {float(ao['estimate']):+.2f} pp, 95% CI [{float(ao['ci_low']):+.2f}; "
        f"{float(ao['ci_high']):+.2f}] (planted {truth['effect_ao']:+g} while absent; sample ATT over the treated "
        f"months {truth['att']['ao_pct']:+.2f})"
    )
    console.print(f"drop:    {shown(drop)}\noutputs: {shown(results)}\nreport:  {shown(results / 'report.html')}")
    console.print("Open the Dagster UI on this instance with: .venv/bin/pilot ui   (then http://127.0.0.1:3000)")


def _demo_design(design: str, base: Path, quiet: bool) -> None:
    """The demo of a study design: its simulated drop, evaluated by its own job."""
    from cli.progress import step_progress
    from measures.evaluation.design.simulate import write_design_drop
    from pipelines.run import run_study

    drop, results = base / "drop", base / "outputs"
    if drop.exists():
        shutil.rmtree(drop)
    truth = write_design_drop(design, drop)
    with step_progress(quiet) as report:
        outcome = run_study(None, drop, results, design=design, report=report)
    if outcome.not_evaluable:
        raise UserError(f"the {design} demo could not be evaluated: {outcome.not_evaluable}")
    with (results / "effects.csv").open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["indicator_id"] == truth["primary_indicator"])
    console.print(
        f"\n[bold]Demo of {design} evaluated[/bold]: delivery {shown(outcome.delivery.key)}, run {outcome.run_id}"
    )
    console.print(
        plain(
            f"{truth['primary_indicator']} ({row['estimator']}): {float(row['estimate']):+.3f}, 95% CI "
            f"[{float(row['ci_low']):+.3f}; {float(row['ci_high']):+.3f}] (planted {truth['effect']:+.3f})"
        ),
        markup=False,
    )
    console.print(f"drop:    {shown(drop)}\noutputs: {shown(results)}\nreport:  {shown(results / 'report.html')}")
    console.print("Open the Dagster UI on this instance with: .venv/bin/pilot ui   (then http://127.0.0.1:3000)")


def _preregister_demo(drop: Path) -> None:
    """The demo's study gets a plan before its data are evaluated, as a real pilot's should."""
    from pipelines import preregistration as prereg
    from pipelines import settings
    from pipelines.deliveries import digest_of, file_checksums, own_study
    from pipelines.warehouse import Warehouse

    study = own_study(digest_of(file_checksums(drop)))  # the study of a drop evaluated on its own
    warehouse = Warehouse(database=str(settings.warehouse_path()))
    if not prereg.registrations(warehouse, study):
        prereg.register(warehouse, prereg.plan_for(study, prereg.today(), prereg.git_commit(), []))


@app.command()
@friendly_errors
def report(
    data: Annotated[Path, typer.Option(help="The drop folder to report on.")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")],
    lang: LangOption = "nl",
    cutoff: CutoffOption = None,
) -> None:
    """The evaluation report of one drop as a single self-contained HTML file."""
    import tempfile

    from pipelines.run import run_drop

    with tempfile.TemporaryDirectory() as scratch:
        run_drop(data, Path(scratch), cutoff.date() if cutoff else None, lang=lang)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(scratch) / "report.html", out)
    console.print(f"wrote {shown(out)}")


@app.command()
@friendly_errors
def ui(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000) -> None:
    """Start the Dagster webserver and daemon on 127.0.0.1 for the project's instance (Ctrl-C stops them all)."""
    from pipelines import settings
    from pipelines.run import instance
    from pipelines.ui import dagster_dev_command, serve

    instance()  # create a new instance's tables here, under the lock that `pilot run` takes too
    env = os.environ | {"DAGSTER_HOME": str(settings.dagster_home())}
    console.print(f"Dagster UI on http://127.0.0.1:{port} (instance {shown(env['DAGSTER_HOME'])}); Ctrl-C stops it")
    raise typer.Exit(serve(dagster_dev_command(port), env, settings.PROJECT_ROOT))


@app.command()
@friendly_errors
def keygen(
    key_file: Annotated[Path, typer.Argument(help="Where to write the new key (keep it; never send it).")],
) -> None:
    """A new secret key for `pilot pseudonymise`, for the delivering party only."""
    from measures.contract.privacy import new_key

    if key_file.exists():
        raise UserError(f"{key_file} exists; refusing to overwrite a key (pseudonyms would change)")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(new_key() + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    console.print(f"wrote {shown(key_file)} (readable by you only)")


@app.command()
@friendly_errors
def pseudonymise(
    source: Annotated[Path, typer.Argument(help="CSV, XLSX or Parquet file with real identifiers.")],
    target: Annotated[Path, typer.Argument(help="Where to write the pseudonymised file (same format).")],
    id_column: Annotated[list[str], typer.Option(help="Column to replace by its keyed pseudonym; repeatable.")],
    key_file: Annotated[Path, typer.Option(help="Key made by `pilot keygen`.")],
) -> None:
    """Replace identifier columns by keyed HMAC-SHA256 pseudonyms (run by the deliverer, never the evaluator)."""
    from measures.contract.panel_file import read_panel, write_panel
    from measures.contract.privacy import pseudonymise as hmac_pseudonyms
    from measures.contract.privacy import read_key

    key = read_key(key_file)
    frame = read_panel(source, id_column, as_text=True)
    for column in id_column:
        frame[column] = hmac_pseudonyms(frame[column], key)
    write_panel(frame, target)
    console.print(f"wrote {shown(target)}: {len(frame)} rows, {shown(', '.join(id_column))} pseudonymised")


export_app = typer.Typer(no_args_is_help=True, help="The pilot in other tools' standards: IATI, XLSForm, DHIS2.")
import_app = typer.Typer(no_args_is_help=True, help="Data collected with other tools, into the contract.")
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")


@export_app.command("iati")
@friendly_errors
def export_iati(
    out: Annotated[Path, typer.Option(help="The .xml file to write (IATI 2.03 iati-activities).")],
    results: Annotated[Path | None, typer.Option(help="The --out folder of a `pilot run`.")] = None,
    study: Annotated[str | None, typer.Option(help="A study: its latest outputs.")] = None,
    org_ref: Annotated[str, typer.Option(help="Your IATI organisation identifier.")] = "XX-AD-PILOT",
    org_name: Annotated[str, typer.Option(help="Your organisation's name.")] = "Evaluator of the AD pilot",
) -> None:
    """The results of a run as IATI activities: one per ToC, its outputs and effects as results."""
    from report.iati import Publisher, iati_activities, read_results

    if results is not None and study is not None:
        raise UserError("give --results OUT_DIR or --study ID, not both")
    if study is not None:
        from pipelines.run import latest_outputs

        results = latest_outputs(study)
        console.print(f"study {shown(study)}: the results in {shown(results)}")
    if results is None:
        raise UserError("give --results OUT_DIR (the --out folder of a `pilot run`) or --study ID")
    document = iati_activities(read_results(results), Publisher(ref=org_ref, name=org_name))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(document)
    console.print(f"wrote {out}")


@export_app.command("xlsform")
@friendly_errors
def export_xlsform(
    wave: Annotated[str, typer.Option(help="t0, t1 or t2.")],
    respondent: Annotated[str, typer.Option(help="employee or employer.")],
    out: Annotated[Path, typer.Option(help="The .xlsx file to write.")],
    lang: Annotated[str, typer.Option(help="nl or en.")] = "nl",
) -> None:
    """The questionnaire of one wave as an XLSForm (ODK, KoboToolbox), built from the indicator catalogue."""
    from measures.indicators.xlsform import questions, write_xlsform

    path = write_xlsform(out, wave, respondent, lang)
    console.print(f"wrote {path}: {len(questions(wave, respondent))} questions for the {respondent} at {wave}")


@export_app.command("dhis2")
@friendly_errors
def export_dhis2(out: Annotated[Path, typer.Option(help="The .json file to write (DHIS2 metadata import).")]) -> None:
    """The indicator catalogue as DHIS2 metadata: data elements, indicators, indicator types, category combos."""
    import json

    from measures.indicators.dhis2 import dhis2_metadata

    metadata = dhis2_metadata()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    counts = ", ".join(f"{len(objects)} {kind}" for kind, objects in metadata.items())
    console.print(f"wrote {out}: {counts} (POST it to /api/metadata)")


@import_app.command("xlsform")
@friendly_errors
def import_xlsform(
    exports: Annotated[list[Path], typer.Argument(help="ODK Central or KoboToolbox exports (CSV or XLSX).")],
    out: Annotated[Path, typer.Option(help="The survey table to write (survey.csv in a drop folder).")],
    wave: Annotated[str | None, typer.Option(help="The wave, when the export has no 'wave' column.")] = None,
    respondent: Annotated[str | None, typer.Option(help="employee or employer, when there is no such column.")] = None,
) -> None:
    """Answers collected with `pilot export xlsform` as the contract's long survey table."""
    import pandas as pd

    from measures.indicators.xlsform import survey_rows_from_export

    parts = []
    for path in exports:
        imported = survey_rows_from_export(path, wave, respondent)
        parts.append(imported.rows)
        console.print(f"{path.name}: {imported.submissions} submissions, {len(imported.rows)} answers")
        if imported.dropped_columns:
            console.print(f"  columns left out (not questions): {', '.join(imported.dropped_columns)}", markup=False)
        if imported.bsn_rows:
            console.print(f"  rows left out, pseudonym looks like a BSN: {', '.join(map(str, imported.bsn_rows))}")
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(parts, ignore_index=True).to_csv(out, index=False, lineterminator="\n")
    console.print(f"wrote {out}")


def main() -> None:
    """The console script."""
    run_and_exit(app)


if __name__ == "__main__":
    main()
