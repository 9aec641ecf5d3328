"""`pilot` commands for estimates on any panel: a difference-in-differences, the business case, power."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from cli.common import console, friendly_errors, plain, print_json
from cli.pilot.options import JsonFlag
from toc.errors import UserError

if TYPE_CHECKING:
    from measures.estimation.did import Vcov


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
    engine: Annotated[
        str,
        typer.Option(
            help="memory, or sql: twfe computed by DuckDB where the file lies (CSV or Parquet larger than "
            "memory; CR1 t(G-1) only, no wild bootstrap or randomisation inference)."
        ),
    ] = "memory",
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
    if engine not in ("memory", "sql"):
        raise typer.BadParameter(f"memory or sql, not {engine!r}", param_hint="--engine")
    if engine == "sql":
        if name != "twfe" or vcov != "cluster" or fixed_effect:
            raise typer.BadParameter("sql computes twfe with clustered errors only", param_hint="--engine")
        result = _did_sql(file, outcome, entity, time, treated, cluster, covariate or [])
        return _show(result.as_dict(), as_json)
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
    _show(result.as_dict(), as_json)


def _show(fields: dict, as_json: bool) -> None:
    if as_json:
        return print_json(fields)
    for key, value in fields.items():
        console.print(plain(f"{key:>21}: {value}"), markup=False)


def _did_sql(file: Path, outcome: str, entity: str, time: str, treated: str, cluster: str | None, covariates: list):
    """`pilot did --engine sql`: the file read by DuckDB where it lies, spilling to a temporary folder."""
    import tempfile

    import duckdb

    from measures.contract.panel_file import panel_view
    from measures.estimation.did_sql import estimate_did_sql
    from measures.estimation.errors import EstimationError

    with tempfile.TemporaryDirectory(prefix="pilot-did-") as spill:
        con = duckdb.connect()
        con.execute(f"SET temp_directory = '{spill}'")
        numeric = [outcome, treated, *covariates]
        table = panel_view(
            con, file, [outcome, entity, time, treated, *([cluster] if cluster else []), *covariates], numeric
        )
        try:
            return estimate_did_sql(con, table, outcome, entity, time, treated, cluster, covariates)
        except EstimationError as exc:
            raise UserError(f"{file.name}: {exc}") from None
        finally:
            con.close()


def _vcov(value: str) -> Vcov:
    from measures.estimation.did import Vcov

    choices = get_args(Vcov)
    if value not in choices:
        raise typer.BadParameter(f"one of {', '.join(choices)}, not {value!r}", param_hint="--vcov")
    return value  # type: ignore[return-value]  # one of the Literal's values, checked above


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
