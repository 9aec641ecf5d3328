"""`pilot` commands on the data: the indicator catalogue, the contract, templates, synthetic drops, validation and
pseudonyms."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import console, friendly_errors, plain, print_json, shown
from cli.pilot.options import DesignOption, Earliest, JsonFlag, Latest, MaxRows, QuietFlag, limits_of
from toc.errors import UserError
from toc.lang import checked_lang


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
    limits = limits_of(max_rows, earliest_date, latest_date)
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


@friendly_errors
def template(
    out: Annotated[Path, typer.Option(help="Folder for the empty templates.")], design: DesignOption = None
) -> None:
    """Empty CSV and XLSX templates (with the data dictionary) that an employer fills in (of --design's contract)."""
    from measures.contract.templates import write_templates
    from measures.designs.load import load_design

    for path in write_templates(out, load_design(design).contract if design else load_design().contract):
        console.print(f"wrote {shown(path)}")


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
