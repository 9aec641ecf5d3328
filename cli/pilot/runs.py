"""`pilot` commands that run the evaluation: run, demo, erase, preregister, report and the UI."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, friendly_errors, plain, print_json, shown
from cli.pilot.options import CutoffOption, DesignOption, JsonFlag, LangOption, MaxRows, QuietFlag
from measures.contract.limits import MAX_QUARANTINE_SHARE
from measures.evaluation.thresholds import MIN_CELL
from toc.errors import UserError


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
