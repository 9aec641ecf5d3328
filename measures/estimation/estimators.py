"""Difference-in-differences by TWFE, imputation or Sun-Abraham, with few-cluster-robust inference.

The one entry point for the pipeline's effects, ``pilot did --estimator`` and the power simulation.
Rules:

* Estimators: ``twfe`` (entity and time fixed effects and covariates, singletons dropped as fixest
  does), ``imputation`` (Borusyak-Jaravel-Spiess with entity, time and the ``fixed_effects`` columns),
  ``sun_abraham`` (cohorts from the first treated period; time and ``fixed_effects`` columns).
* ``estimate`` and ``se`` are the estimator's, with its cluster-robust variance. ``p_value``, ``ci_low``
  and ``ci_high`` come from the restricted wild cluster bootstrap with an interval by test inversion;
  with a single cluster in an arm from randomisation inference over clusters, and ``method`` says so.
  ``p_value_wild`` is given (never 0) whenever the bootstrap runs: always, unless there are at least
  :data:`MANY_CLUSTERS` clusters and :data:`MANY_PER_ARM` in each arm, where t(G-1) with the clustered
  variance holds its size and is used instead. ``p_value_ri`` when computed.
* Randomisation inference reassigns, with ``assignment=(group, post)``, the 0/1 group per cluster
  (treatment = group x post, as in the pilot: every row has its own post); without it, whole treatment
  paths over periods, when the treatment depends on cluster and period only; otherwise it is not
  available. It is computed when it is the method, when asked (``randomization=True``), or, by default,
  when it is cheap: assignments x rows at most :data:`RI_ROW_BUDGET`.
* Flags: ``few_treated_clusters`` when an arm has at most :data:`FEW_CLUSTERS` clusters,
  ``ci_unbounded`` when the interval cannot be bounded by the data (its bounds are then missing).
* Outcomes observed on the same rows share one design, its fixed-effect fits and its assignments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from measures.estimation.absorb import codes_of
from measures.estimation.did import Vcov, estimate_did, prepare_panel, same_rows, twfe_estimator
from measures.estimation.errors import EstimationError
from measures.estimation.imputation import imputation_estimator
from measures.estimation.inference import SEED, Estimate, TestResult, t_inference
from measures.estimation.linear import LinearEstimator, cluster_codes
from measures.estimation.randomization import (
    RI_DRAWS,
    RI_MAX_EXACT,
    assignments,
    cluster_paths,
    group_treatment,
    n_assignments,
    path_treatment,
    randomization_tests,
)
from measures.estimation.sun_abraham import sun_abraham_estimator
from measures.estimation.wild_bootstrap import ols_estimator, wild_bootstrap_test, wild_weights

ESTIMATORS = ("twfe", "imputation", "sun_abraham")
#: Either arm with at most this many clusters raises the few_treated_clusters flag.
FEW_CLUSTERS = 2
#: From this many clusters, with at least MANY_PER_ARM in each arm, t(G-1) is used instead of the bootstrap
#: (with fewer treated clusters the clustered t over-rejects even when G is large: MacKinnon and Webb 2017).
MANY_CLUSTERS = 30
MANY_PER_ARM = 15
#: Randomisation inference by default only while assignments x rows stay below this.
RI_ROW_BUDGET = 2_000_000


@dataclass(frozen=True)
class Inference:
    """How the robust inference runs: bootstrap draws (0: none, estimates only), seed, randomisation inference
    (None: when it is the method or cheap), its Monte Carlo draws, the confidence level, whether to invert
    for an interval, and whether to bootstrap at all (None: unless there are many clusters)."""

    wild_reps: int = 999
    seed: int = SEED
    randomization: bool | None = None
    ri_draws: int = RI_DRAWS
    level: float = 0.95
    interval: bool = True
    bootstrap: bool | None = None  # None: unless there are many clusters (see ``many_clusters``)


@dataclass(frozen=True)
class _Design:
    """One estimation sample: outcomes, observed treatment, how to build the estimator for any treatment,
    and how clusters may be reassigned."""

    Y: np.ndarray
    treatment: np.ndarray
    build: Callable[[np.ndarray], LinearEstimator]
    types: np.ndarray | None  # each cluster's type under the observed assignment (None: no reassignment)
    treatment_for: Callable[[np.ndarray], np.ndarray] | None
    cluster_name: str


def estimate_robust(
    data: pd.DataFrame,
    outcomes: Sequence[str],
    entity: str,
    time: str,
    treated: str,
    cluster: str | None = None,
    estimator: str = "imputation",
    fixed_effects: Sequence[str] = (),
    covariates: Sequence[str] = (),
    assignment: tuple[str, str] | None = None,
    inference: Inference = Inference(),
) -> dict[str, Estimate]:
    """One :class:`Estimate` per outcome, each on its own complete rows (see the module docstring)."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    if covariates and estimator != "twfe":
        raise EstimationError(f"covariates are supported by twfe only, not by {estimator}")
    results: dict[str, Estimate] = {}
    for group in same_rows(data, outcomes):
        design = _design(
            data, group, entity, time, treated, cluster or entity, estimator, fixed_effects, covariates, assignment
        )
        results |= dict(zip(group, _estimates(design, inference), strict=True))
    return {outcome: results[outcome] for outcome in outcomes}


def estimate_did_any(
    data: pd.DataFrame,
    outcome: str,
    entity: str,
    time: str,
    treated: str,
    cluster: str | None = None,
    estimator: str = "twfe",
    fixed_effects: Sequence[str] = (),
    covariates: Sequence[str] = (),
    vcov: Vcov = "cluster",
    inference: Inference = Inference(),
) -> Estimate:
    """What ``pilot did`` reports. ``twfe``: the published model (:func:`~measures.estimation.did.estimate_did`:
    CR1 t(G-1), the wild p when G < 30), with the design's flags, cluster counts and, when clustered, the
    randomisation p; ``imputation`` and ``sun_abraham``: the robust inference of :func:`estimate_robust`."""
    if estimator != "twfe":
        if vcov != "cluster":
            raise EstimationError(f"{estimator} is clustered; --vcov {vcov} applies to twfe only")
        return estimate_robust(
            data, [outcome], entity, time, treated, cluster, estimator, fixed_effects, covariates, inference=inference
        )[outcome]
    if fixed_effects:
        raise EstimationError("twfe has entity and time fixed effects only; further ones need imputation")
    published = estimate_did(
        data,
        outcome,
        entity,
        time,
        treated,
        cluster,
        covariates,
        vcov,
        wild_reps=inference.wild_reps,
        seed=inference.seed,
    )
    if vcov != "cluster":
        return published
    design = replace(inference, wild_reps=0, interval=False)  # the counts, flags and RI; the wild p is the above
    robust = estimate_robust(data, [outcome], entity, time, treated, cluster, "twfe", (), covariates, inference=design)
    extra = robust[outcome]
    method = published.method
    if extra.p_value_ri is not None:
        method += f"; p_value_ri: randomisation inference over {cluster or entity}s (the t statistic under reassigned clusters)"
    return replace(
        published,
        p_value_ri=extra.p_value_ri,
        n_treated_clusters=extra.n_treated_clusters,
        n_comparison_clusters=extra.n_comparison_clusters,
        flags=tuple(f for f in extra.flags if f != "ci_unbounded"),
        method=method,
    )


def estimate_difference_robust(
    data: pd.DataFrame, outcome: str, group: str, cluster: str, inference: Inference = Inference()
) -> Estimate:
    """Difference in means between ``group`` 1 and 0 (one row per unit, e.g. rtw_12m per employee) with the same
    robust inference: OLS on a constant and the group, CR1 clustered, the wild bootstrap, and randomisation
    inference over the clusters' groups."""
    frame = data[[outcome, group, cluster]].dropna()
    if not frame[group].isin([0, 1]).all():
        raise EstimationError(f"{group} must be 0/1")
    y, D = frame[outcome].to_numpy(float), frame[group].to_numpy(float)
    clusters, labels = cluster_codes(frame[cluster].to_numpy())
    n, G = len(y), len(labels)
    factor = G / (G - 1) * (n - 1) / (n - 2) if G > 1 and n > 2 else 1.0

    def build(D_a: np.ndarray) -> LinearEstimator:
        return ols_estimator(
            np.column_stack([np.ones(n), D_a]),
            1,
            labels[clusters],
            se_factor=factor,
            estimator="share_difference",
            description="Difference in means (OLS on the group)",
            treatment=D_a,
            coded=(clusters, labels),
        )

    types, treatment_for = _reassignment((group, "one"), np.column_stack([D, np.ones(n)]), clusters, clusters, D, G)
    design = _Design(y.reshape(n, 1), D, build, types, treatment_for, cluster)
    return _estimates(design, inference)[0]


def _design(
    data: pd.DataFrame,
    outcomes: list[str],
    entity: str,
    time: str,
    treated: str,
    cluster: str,
    estimator: str,
    fixed_effects: Sequence[str],
    covariates: Sequence[str],
    assignment: tuple[str, str] | None,
) -> _Design:
    extra = list(assignment or ())
    columns = list(dict.fromkeys([*outcomes, entity, time, treated, cluster, *fixed_effects, *covariates, *extra]))
    frame = data[columns].dropna()
    if frame.empty:
        raise EstimationError("no complete observations")
    if not frame[treated].isin([0, 1]).all():
        raise EstimationError(f"{treated} must be 0/1")
    if estimator == "twfe":
        panel = prepare_panel(frame, outcomes, entity, time, [treated, *covariates, *extra], cluster)
        k = 1 + len(covariates)
        base = replace(panel, X=panel.X[:, :k], names=(treated, *covariates))
        Y, D, time_codes, clusters = panel.y, panel.X[:, 0], panel.time, panel.cluster
        labels = panel.cluster_labels
        extra_values = panel.X[:, k:]

        def build(D_a: np.ndarray) -> LinearEstimator:
            return twfe_estimator(replace(base, X=np.column_stack([D_a, base.X[:, 1:]])), treated)

    else:
        Y, D = frame[outcomes].to_numpy(float), frame[treated].to_numpy(float)
        codes = [codes_of(frame[c]) for c in (entity, time, *fixed_effects)]
        clusters, labels = cluster_codes(frame[cluster].to_numpy())
        time_codes, extra_values = codes[1], frame[extra].to_numpy(float)
        names = [entity, time, *fixed_effects]

        def build(D_a: np.ndarray) -> LinearEstimator:
            if estimator == "imputation":
                return imputation_estimator(codes, D_a, clusters, labels, names)
            return sun_abraham_estimator(codes[0], codes[1], D_a, clusters, labels, codes[2:])

    types, treatment_for = _reassignment(assignment, extra_values, clusters, time_codes, D, _n_labels(labels))
    return _Design(Y.reshape(len(D), -1), D, build, types, treatment_for, cluster)


def _n_labels(labels: np.ndarray | None) -> int:
    """The number of clusters (the panel always holds its labels)."""
    if labels is None:
        raise EstimationError("cluster labels missing")
    return len(labels)


def _reassignment(assignment, extra_values, clusters, time_codes, D, n_clusters):
    """(types, treatment_for) for randomisation inference, or (None, None) when clusters cannot be reassigned."""
    if assignment is not None:
        group, post = extra_values[:, 0], extra_values[:, 1]
        types = np.zeros(n_clusters)
        types[clusters] = group
        if not np.array_equal(types[clusters], group):
            raise EstimationError(f"{assignment[0]} must be the same for every row of a cluster")
        if not np.array_equal(group * post, D):
            raise EstimationError(f"the treatment must be {assignment[0]} x {assignment[1]}")
        return types.astype(int), group_treatment(clusters, post)
    found = cluster_paths(clusters, time_codes, D, n_clusters, int(time_codes.max()) + 1)
    if found is None:
        return None, None
    paths, types = found
    return types, path_treatment(clusters, time_codes, paths)


def _estimates(design: _Design, inference: Inference) -> list[Estimate]:
    est = design.build(design.treatment)
    n_treated = int(est.treated_clusters().sum())
    n_comparison = est.n_clusters - n_treated
    ri_is_method = min(n_treated, n_comparison) <= 1
    ri_tests, ri_text = _randomization(design, est, inference, ri_is_method)
    weights = wild_weights(est.cluster_labels, inference.wild_reps, inference.seed)
    wanted = inference.bootstrap if inference.bootstrap is not None else not many_clusters(n_treated, n_comparison)
    bootstrap = bool(inference.wild_reps) and wanted
    estimates = []
    for j, y in enumerate(design.Y.T):
        if bootstrap:
            wild = wild_bootstrap_test(est, y, weights, inference.level, inference.interval)
        else:
            wild = _t_test(est, y, inference.level) if inference.wild_reps else _NO_TEST
        ri = ri_tests[j] if ri_tests else None
        uses_ri = ri_is_method and ri is not None
        chosen = ri if (uses_ri and ri is not None) else wild
        primary = replace(chosen, clusters=tuple(str(label) for label in est.cluster_labels))
        flags = _flags(n_treated, n_comparison, primary, inference.interval)
        wild_text = (
            f"the wild cluster bootstrap (WCR, Webb, B={inference.wild_reps}, seed {inference.seed}), CI by test "
            "inversion"
            if bootstrap
            else f"t(G-1) with the clustered variance (at least {MANY_CLUSTERS} clusters and {MANY_PER_ARM} per arm)"
        )
        method = (
            f"{est.description}; clustered by {design.cluster_name} (G={est.n_clusters}: {n_treated} treated, "
            f"{n_comparison} comparison); p and CI from "
            + (f"{ri_text} (a single cluster in an arm)" if uses_ri else wild_text)
        )
        if ri is not None and not uses_ri:
            method += f"; p_value_ri from {ri_text}"
        estimates.append(
            Estimate(
                float(est.estimate(y)),
                est.se(y),
                primary.ci_low,
                primary.ci_high,
                primary.p_value,
                wild.p_value if bootstrap else None,
                est.n_obs,
                est.n_entities,
                est.n_clusters,
                est.n_clusters - 1,
                method,
                estimator=est.estimator,
                p_value_ri=ri.p_value if ri is not None else None,
                n_treated_clusters=n_treated,
                n_comparison_clusters=n_comparison,
                flags=flags,
                test=primary,
            )
        )
    return estimates


def _randomization(
    design: _Design, est: LinearEstimator, inference: Inference, ri_is_method: bool
) -> tuple[list[TestResult] | None, str]:
    """Randomisation tests of every outcome of the design, when they are available and wanted."""
    if design.types is None or design.treatment_for is None:
        return None, ""
    count = n_assignments(design.types)
    evaluated = count if count <= RI_MAX_EXACT else inference.ri_draws + 1
    wanted = inference.randomization
    if not (ri_is_method or wanted or (wanted is None and evaluated * est.n_obs <= RI_ROW_BUDGET)):
        return None, ""
    types, exact = assignments(design.types, RI_MAX_EXACT, inference.ri_draws, inference.seed)
    tests, left_out = randomization_tests(
        design.build, design.treatment_for, types, exact, design.Y, inference.level, inference.interval
    )
    text = f"randomisation inference over the clusters ({design.cluster_name}; " + (
        f"all {len(types) - left_out} assignments"
        if exact
        else f"{len(types) - 1 - left_out} random assignments, seed {inference.seed}"
    )
    text += f", {left_out} not estimable left out)" if left_out else ")"
    return tests, text


def many_clusters(n_treated: int, n_comparison: int) -> bool:
    """Enough clusters, in all and in each arm, for t(G-1) with a clustered variance to hold its size (then the
    bootstrap, which would agree, is skipped: at a million rows and 40 employers it costs minutes)."""
    return n_treated + n_comparison >= MANY_CLUSTERS and min(n_treated, n_comparison) >= MANY_PER_ARM


def _t_test(est: LinearEstimator, y: np.ndarray, level: float) -> TestResult:
    """The t(G-1) test and interval of the estimate with its clustered standard error."""
    estimate, se = float(est.estimate(y)), est.se(y)
    low, high, p = t_inference(estimate, se, est.n_clusters - 1, level)
    return TestResult(p, low, high, estimate / se if se > 0 else 0.0, np.zeros(0), kind="t")


#: What a skipped bootstrap (``wild_reps=0``: estimates only, as the bias checks need) reports.
_NO_TEST = TestResult(float("nan"), float("nan"), float("nan"), float("nan"), np.zeros(0))


def _flags(n_treated: int, n_comparison: int, primary: TestResult, interval: bool) -> tuple[str, ...]:
    flags = []
    if min(n_treated, n_comparison) <= FEW_CLUSTERS:
        flags.append("few_treated_clusters")
    if interval and not primary.bounded and not np.isnan(primary.p_value):
        flags.append("ci_unbounded")
    return tuple(flags)
