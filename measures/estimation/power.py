"""Power of a cluster-randomised two-arm comparison (employers as clusters), in closed form and by
simulation of the estimator actually used.

The analytic minimum detectable effect (MDE, in SD of the outcome) uses
t quantiles with G-2 degrees of freedom and the design effect
DE = 1 + (M-1) ICC; ``simulate_power`` checks it by Monte Carlo. It speaks of
levels; a difference-in-differences' precision depends on the employer-level
variance of *changes* and on how the effect differs between employers, which
``simulate_did_power`` takes as inputs: it draws pilot-like panels and runs the
pipeline's own estimator and inference on each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from measures.estimation.errors import EstimationError
from measures.estimation.estimators import Inference, estimate_robust
from measures.estimation.inference import SEED
from measures.estimation.pilot_panel import PanelSpec, simulate_pilot_panel


@dataclass(frozen=True)
class PowerResult:
    """MDE in outcome SDs with and without accounting for clustering.

    mde_sd: (t(1-alpha/2, G-2) + t(power, G-2)) * sqrt(DE * 4 / N).
    mde_ignoring_clustering: (z(1-alpha/2) + z(power)) * sqrt(4 / N), the
        textbook individual-level formula.
    design_effect: 1 + (M-1) ICC; n_total: N = G M; df: G - 2.
    """

    mde_sd: float
    mde_ignoring_clustering: float
    design_effect: float
    n_total: float
    df: int
    employers: int
    employees_per_employer: float
    icc: float
    alpha: float
    power: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def minimum_detectable_effect(
    employers: int,
    employees_per_employer: float,
    icc: float,
    alpha: float = 0.05,
    power: float = 0.80,
) -> PowerResult:
    """MDE for G = ``employers`` split over two equal arms, M employees each.

    ``employees_per_employer`` may be fractional (an average cluster size).
    """
    if employers < 3:
        raise EstimationError("need at least 3 employers for G-2 > 0 degrees of freedom")
    n_total = employers * employees_per_employer
    design_effect = 1.0 + (employees_per_employer - 1.0) * icc
    df = employers - 2
    multiplier = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    z_multiplier = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return PowerResult(
        mde_sd=float(multiplier * np.sqrt(design_effect * 4.0 / n_total)),
        mde_ignoring_clustering=float(z_multiplier * np.sqrt(4.0 / n_total)),
        design_effect=design_effect,
        n_total=n_total,
        df=df,
        employers=employers,
        employees_per_employer=employees_per_employer,
        icc=icc,
        alpha=alpha,
        power=power,
    )


def simulate_power(
    employers: int,
    employees_per_employer: int,
    icc: float,
    effect_sd: float,
    reps: int = 500,
    alpha: float = 0.05,
    seed: int = SEED,
) -> float:
    """Monte-Carlo rejection rate of the cluster-level t-test.

    Each replicate: G employers (G/2 treated), employer effect ~ N(0, icc),
    individual noise ~ N(0, 1 - icc), treated outcomes shifted by
    ``effect_sd``; analysed by a two-sample t-test on employer means (df G-2,
    valid with equal cluster sizes). Output: share of replicates with p < alpha.
    """
    if employers % 2:
        raise EstimationError("employers must be even (two equal arms)")
    rng = np.random.default_rng(seed)
    shape = (reps, employers, employees_per_employer)
    employer_effect = rng.normal(0.0, np.sqrt(icc), size=shape[:2])
    noise = rng.normal(0.0, np.sqrt(1.0 - icc), size=shape)
    means = employer_effect + noise.mean(axis=2)
    half = employers // 2
    means[:, :half] += effect_sd
    result = stats.ttest_ind(means[:, :half], means[:, half:], axis=1)
    return float(np.mean(result.pvalue < alpha))


def mde_table(
    employers_range: range = range(4, 21, 2),
    total_employees: int = 200,
    icc: float = 0.05,
    alpha: float = 0.05,
    power: float = 0.80,
) -> pd.DataFrame:
    """MDE with ``total_employees`` spread over 4..20 employers.

    Shows how far the individual-level MDE (about 0.40 SD for 200 employees)
    is from the MDE once clustering and the few degrees of freedom are
    accounted for. Columns: employers, employees_per_employer, design_effect,
    df, mde_sd, mde_ignoring_clustering, ratio (mde_sd / ignoring clustering).
    """
    rows = []
    for g in employers_range:
        res = minimum_detectable_effect(g, total_employees / g, icc, alpha, power)
        rows.append(
            {
                "employers": g,
                "employees_per_employer": res.employees_per_employer,
                "design_effect": res.design_effect,
                "df": res.df,
                "mde_sd": res.mde_sd,
                "mde_ignoring_clustering": res.mde_ignoring_clustering,
                "ratio": res.mde_sd / res.mde_ignoring_clustering,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SimulatedPower:
    """Power of the estimator actually used, by simulation of pilot-like panels.

    power: share of replicates whose reported p (the wild bootstrap's; randomisation inference with a
    single employer in an arm) is below alpha. mean_estimate and mean_truth: averages over replicates
    of the estimate and of the sample effect on the treated; reps, estimator, the panel's spec.
    """

    power: float
    mean_estimate: float
    mean_truth: float
    reps: int
    estimator: str
    alpha: float
    spec: dict

    def as_dict(self) -> dict:
        return asdict(self)


def simulate_did_power(
    spec: PanelSpec,
    estimator: str = "imputation",
    reps: int = 200,
    alpha: float = 0.05,
    wild_reps: int = 199,
    seed: int = SEED,
) -> SimulatedPower:
    """Rejection rate of ``estimator`` (imputation with calendar-month and absence-duration fixed effects,
    as the pipeline's primary estimate; or twfe with relative-month effects, the published model) on
    ``reps`` panels drawn from ``spec`` (:mod:`measures.estimation.pilot_panel`): the employer-level
    variance of changes (``employer_change_sd``) and effect heterogeneity (``effect_sd``) are inputs."""
    rejected, estimates, truths = [], [], []
    for rep in range(reps):
        panel, truth = simulate_pilot_panel(spec, seed + rep)
        # each replicate its own bootstrap weights, as each pilot would have
        inference = Inference(wild_reps=wild_reps, seed=seed + rep, randomization=False, interval=False)
        if estimator == "imputation":
            args = ("employee_id", "month", "treated", "employer_id", "imputation", ["duration"])
        else:
            args = ("employee_id", "rel", "treated", "employer_id", estimator, [])
        est = estimate_robust(panel, ["y"], *args, assignment=("treated_group", "post"), inference=inference)["y"]
        rejected.append(est.p_value < alpha)
        estimates.append(est.estimate)
        truths.append(truth["att"])
    return SimulatedPower(
        float(np.mean(rejected)),
        float(np.mean(estimates)),
        float(np.mean(truths)),
        reps,
        estimator,
        alpha,
        asdict(spec),
    )
