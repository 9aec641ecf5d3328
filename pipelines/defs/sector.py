"""A sector's panel in parts: the TWFE DiD computed part by part as Dagster's mapped steps, combined exactly.

For absence records too large for one machine (a sector fund's or an occupational health service's tens of
millions of employee-months): a folder of parts (CSV or Parquet files, every employee's rows in one part, e.g.
one file per employer or per region), each read by DuckDB where it lies. The asset `sector/did` is a graph:
the parts fan out (`DynamicOut`), each adds its share of the period system (first pass), the period effects
are solved from the sum, each part then adds its per-employer sums (second pass), and the sums give the
estimate and its CR1 covariance (`measures.estimation.did_sql`: the same numbers as one fit of the whole
panel). The job runs its mapped steps in parallel with Dagster's multiprocess executor here; on a cluster the
same job runs each step in a pod of its own with `dagster-k8s` (README, "Benchmark").
"""

import operator
import re
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np

from measures.estimation.did_sql import ClusterSums, PeriodSums, TwfeModel

#: The files of a folder that are parts of the panel.
PART_SUFFIXES = (".csv", ".parquet")


class SectorPanel(dg.Config):
    """Where the parts are and which columns the DiD uses (as `pilot did`)."""

    folder: str
    outcome: str
    entity: str
    time: str
    treated: str
    cluster: str | None = None
    covariates: list[str] = []  # noqa: RUF012 (pydantic copies a default list for each config)


@dataclass(frozen=True)
class Part:
    """One file of the panel, with the model every pass fits on it."""

    path: str
    model: TwfeModel

    def passes(self) -> tuple[duckdb.DuckDBPyConnection, str]:
        """A DuckDB connection with the part as the view `panel_file` (checked as `pilot did --engine sql`)."""
        from measures.contract.panel_file import panel_view

        m = self.model
        con = duckdb.connect()
        used = [m.outcome, m.entity, m.time, *m.regressors, *([m.cluster] if m.cluster else [])]
        return con, panel_view(con, Path(self.path), used, [m.outcome, *m.regressors])


@dataclass(frozen=True)
class Solved:
    """The period effects of all parts (first period the reference)."""

    periods: tuple
    tau: np.ndarray  # periods x (y and each regressor)


@dg.op(out={"parts": dg.DynamicOut(Part), "model": dg.Out(TwfeModel)})
def sector_parts(config: SectorPanel):
    """One mapped step per part file, in name order (keyed by the file's name); and the model, for the estimate."""
    folder = Path(config.folder)
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in PART_SUFFIXES) if folder.is_dir() else []
    if not files:
        raise dg.Failure(f"{folder}: no .csv or .parquet parts")
    model = TwfeModel(config.outcome, config.entity, config.time, (config.treated, *config.covariates), config.cluster)
    yield dg.Output(model, output_name="model")
    for path in files:
        key = re.sub(r"[^A-Za-z0-9_]", "_", path.name)
        yield dg.DynamicOutput(Part(str(path), model), mapping_key=key, output_name="parts")


@dg.op
def part_periods(part: Part) -> PeriodSums:
    """First pass: the part's share of the period system."""
    from measures.estimation.did_sql import part_period_sums

    con, table = part.passes()
    with con:
        return part_period_sums(con, table, part.model)


@dg.op
def period_effects(sums: list[PeriodSums]) -> Solved:
    """The period effects from the sum of the parts' shares."""
    total = reduce(operator.add, sums)
    return Solved(total.periods, total.solve())


@dg.op
def part_clusters(part: Part, solved: Solved) -> ClusterSums:
    """Second pass: the part's per-employer sums, demeaned with the period effects of all parts."""
    from measures.estimation.did_sql import part_cluster_sums

    con, table = part.passes()
    with con:
        return part_cluster_sums(con, table, part.model, solved.periods, solved.tau)


@dg.op
def sector_estimate(context: dg.OpExecutionContext, model: TwfeModel, sums: list[ClusterSums], solved: Solved) -> dict:
    """The DiD of the whole panel from its parts' sums: estimate, CR1 interval, p (t(G-1))."""
    from measures.estimation.did_sql import estimate_from_fit

    total = reduce(operator.add, sums)
    fit = total.fit(model.regressors, model.cluster or model.entity, len(solved.periods))
    estimate = estimate_from_fit(fit, model.regressors[0])
    context.add_output_metadata(
        {
            "estimate": estimate.estimate,
            "se": estimate.se,
            "ci_low": estimate.ci_low,
            "ci_high": estimate.ci_high,
            "p_value": estimate.p_value,
            "n_obs": estimate.n_obs,
            "n_entities": estimate.n_entities,
            "n_clusters": estimate.n_clusters,
            "parts": len(sums),
            "flags": ";".join(estimate.flags),
            "method": estimate.method,
        }
    )
    return estimate.as_dict()


@dg.graph_asset(
    key=["sector", "did"],
    description="TWFE DiD of a sector's panel (a folder of parts), computed part by part and combined exactly.",
    group_name="sector",
    owners=["team:evaluatie"],
    kinds={"duckdb", "python"},
)
def sector_did():
    parts, model = sector_parts()
    solved = period_effects(parts.map(part_periods).collect())
    clusters = parts.map(lambda part: part_clusters(part, solved)).collect()
    return sector_estimate(model, clusters, solved)


sector_did_job = dg.define_asset_job(
    "sector_did",
    selection=dg.AssetSelection.key_prefixes(["sector"]),
    executor_def=dg.multiprocess_executor,
    description="The DiD of a panel in parts (a folder of CSV or Parquet files), each part a step of its own.",
)
