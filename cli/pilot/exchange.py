"""`pilot export` and `pilot import`: the pilot in other tools' standards (IATI, XLSForm, DHIS2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, friendly_errors, shown
from toc.errors import UserError

export_app = typer.Typer(no_args_is_help=True, help="The pilot in other tools' standards: IATI, XLSForm, DHIS2.")
import_app = typer.Typer(no_args_is_help=True, help="Data collected with other tools, into the contract.")


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
