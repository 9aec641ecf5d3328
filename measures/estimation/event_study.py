"""Event-study (dynamic) difference-in-differences and a baseline balance table.

Regressors are 1{event_time == k} x treated_group for every event time k
except the reference period, with entity and time fixed effects, CR1
clustered, t(G-1) intervals (the same engine as :mod:`measures.estimation.did`).
The joint pre-trend test is given twice: as the F test of the CR1 Wald statistic
and, with ``wild_reps``, with a wild cluster bootstrap p-value (restricted to no
pre-trend, Webb weights), which keeps its size with few clusters where the F
test does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from measures.estimation.did import Engine, Panel, TwfeFit, demean_two_way, fit_twfe_each, prepare_panel, same_rows
from measures.estimation.errors import EstimationError
from measures.estimation.inference import SEED, f_survival, t_inference
from measures.estimation.wild_bootstrap import wild_wald_test, wild_weights


@dataclass(frozen=True)
class EventCoefficient:
    """Effect at one event time; the reference period has estimate 0 and se 0."""

    event_time: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    reference: bool = False


@dataclass(frozen=True)
class PreTrendTest:
    """Wald test that all pre-period coefficients are zero.

    F = b' V+ b / q with V+ the pseudo-inverse of their cluster-robust
    covariance and q its rank (with few clusters V can be rank deficient);
    p-value from F(q, G-1). ``n_pre`` is the number of pre-period coefficients.
    ``p_value_wild``: the same statistic's wild cluster bootstrap p-value, or
    None when not computed.
    """

    statistic: float
    df1: int
    df2: int
    p_value: float
    n_pre: int
    p_value_wild: float | None = None


@dataclass(frozen=True)
class EventStudy:
    """Event-study coefficients (ordered by event time) and the pre-trend test;
    ``vcov``: the CR1 covariance of the coefficients other than the reference,
    in event-time order (for sensitivity analyses)."""

    coefficients: tuple[EventCoefficient, ...]
    pretrend: PreTrendTest | None
    reference: int
    n_obs: int
    n_entities: int
    n_clusters: int
    df: float
    method: str
    vcov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False, compare=False)

    def table(self) -> pd.DataFrame:
        """Tidy table: event_time, estimate, se, ci_low, ci_high, reference."""
        return pd.DataFrame([asdict(c) for c in self.coefficients])


def _event_column(k: int) -> str:
    return f"event_time[{k}]"


def _event_times(
    frame: pd.DataFrame,
    event_time: str,
    treated_group: str,
    window: tuple[int, int] | None,
    bin_endpoints: bool,
) -> pd.DataFrame:
    """Drop treated rows without an event time; bin (or trim) outside ``window``.

    Comparison rows keep any event time: their dummies are zero anyway.
    """
    treated = frame[treated_group] == 1
    frame = frame[~(treated & frame[event_time].isna())].copy()
    if window is not None:
        low, high = window
        if bin_endpoints:
            # The endpoint dummies absorb all periods beyond the window, so
            # distant periods do not silently fall into the reference group.
            frame[event_time] = frame[event_time].clip(low, high)
        else:
            outside = ~frame[event_time].between(low, high)
            frame = frame[~((frame[treated_group] == 1) & outside)]
    return frame


def estimate_event_study(
    data: pd.DataFrame,
    outcome: str,
    entity: str,
    time: str,
    event_time: str,
    treated_group: str,
    cluster: str,
    reference: int = -1,
    window: tuple[int, int] | None = None,
    bin_endpoints: bool = True,
    engine: Engine = "auto",
    wild_reps: int | None = None,
    seed: int = SEED,
) -> EventStudy:
    """Estimate effects by event time relative to ``reference``.

    Inputs: long panel; ``event_time`` (integer periods relative to the event,
    may be missing for comparison units); ``treated_group`` 0/1; ``window``
    (low, high) with endpoints binned (``bin_endpoints``) or treated rows
    outside it dropped; ``wild_reps`` bootstrap draws (seed ``seed``) for the
    pre-trend test's wild p-value. Output: :class:`EventStudy`; the pre-trend
    test is None when no event time lies before ``reference``.
    """
    return estimate_event_studies(
        data,
        [outcome],
        entity,
        time,
        event_time,
        treated_group,
        cluster,
        reference,
        window,
        bin_endpoints,
        engine,
        wild_reps,
        seed,
    )[outcome]


def estimate_event_studies(
    data: pd.DataFrame,
    outcomes: Sequence[str],
    entity: str,
    time: str,
    event_time: str,
    treated_group: str,
    cluster: str,
    reference: int = -1,
    window: tuple[int, int] | None = None,
    bin_endpoints: bool = True,
    engine: Engine = "auto",
    wild_reps: int | None = None,
    seed: int = SEED,
) -> dict[str, EventStudy]:
    """:func:`estimate_event_study` for each outcome, each on its own complete cases.

    Outcomes observed on the same rows share one design: the panel, its event dummies and their demeaning
    are built once (three administrative indicators of a million rows cost little more than one).
    """
    studies: dict[str, EventStudy] = {}
    for group in same_rows(data, outcomes):
        studies |= _event_studies_on_same_rows(
            data,
            group,
            entity,
            time,
            event_time,
            treated_group,
            cluster,
            reference,
            window,
            bin_endpoints,
            engine,
            wild_reps,
            seed,
        )
    return {outcome: studies[outcome] for outcome in outcomes}


def _event_studies_on_same_rows(
    data: pd.DataFrame,
    outcomes: list[str],
    entity: str,
    time: str,
    event_time: str,
    treated_group: str,
    cluster: str,
    reference: int,
    window: tuple[int, int] | None,
    bin_endpoints: bool,
    engine: Engine,
    wild_reps: int | None,
    seed: int,
) -> dict[str, EventStudy]:
    used = list(dict.fromkeys([*outcomes, entity, time, event_time, treated_group, cluster]))
    frame = _event_times(data[used], event_time, treated_group, window, bin_endpoints)
    # Comparison rows need no event time (their dummies are zero): give them one, so that the
    # complete-case filter of the panel keeps them.
    frame[event_time] = frame[event_time].where(frame[treated_group] == 1, frame[event_time].fillna(reference))
    panel = prepare_panel(frame, outcomes, entity, time, [event_time, treated_group], cluster)
    del frame  # the panel holds its arrays now: a million-row frame less at the peak of the fit
    # The dummies are built for the final sample as one matrix, not as frame columns copied along.
    event, in_group = panel.X[:, 0], panel.X[:, 1] == 1
    times = [int(k) for k in np.unique(event[in_group])]
    if reference not in times:
        raise EstimationError(f"reference period {reference} not observed for treated units")
    ks = [k for k in times if k != reference]
    # 0/1 as bytes, a column each (an eighth of floats: the within engine copies them into its float matrix
    # exactly, next to the outcomes, and the wild test's demeaning converts them as it copies them)
    dummies = np.zeros((len(event), len(ks)), dtype=bool, order="F")
    for j, k in enumerate(ks):
        dummies[:, j] = (event == k) & in_group
    panel = replace(panel, X=dummies, names=tuple(_event_column(k) for k in ks))
    fits = fit_twfe_each(panel, "cluster", engine)
    pre = [j for j, k in enumerate(ks) if k < reference]
    return {
        outcome: _study(fit, ks, reference, _wild_pretrend_p(panel, j, pre, wild_reps, seed))
        for j, (outcome, fit) in enumerate(zip(outcomes, fits, strict=True))
    }


def _wild_pretrend_p(panel: Panel, j: int, pre: list[int], reps: int | None, seed: int) -> float | None:
    """The wild bootstrap p-value of the joint pre-trend test of outcome j, when asked for."""
    if not reps or not pre:
        return None
    labels = panel.cluster_labels if panel.cluster_labels is not None else np.arange(panel.n_clusters)
    y = panel.y[:, j] if panel.y.ndim == 2 else panel.y

    def demean(values: np.ndarray) -> np.ndarray:
        return demean_two_way(values, panel.entity, panel.time)

    weights = wild_weights(labels, reps, seed)
    return wild_wald_test(y, panel.X, pre, labels[panel.cluster], demean, weights)[1]


def _study(fit: TwfeFit, ks: list[int], reference: int, p_wild: float | None) -> EventStudy:
    coefficients = [_coefficient(fit, k) for k in ks]
    coefficients.append(EventCoefficient(reference, 0.0, 0.0, 0.0, 0.0, reference=True))
    coefficients.sort(key=lambda c: c.event_time)
    return EventStudy(
        tuple(coefficients),
        _pretrend_test(fit, [k for k in ks if k < reference], p_wild),
        reference,
        fit.n_obs,
        fit.n_entities,
        fit.n_clusters,
        fit.df,
        f"Event study (TWFE), {fit.engine}, {fit.inference}, reference k={reference}",
        vcov=fit.vcov,
    )


def _coefficient(fit: TwfeFit, k: int) -> EventCoefficient:
    estimate, se = fit.coef(_event_column(k))
    ci_low, ci_high, _ = t_inference(estimate, se, fit.df)
    return EventCoefficient(k, estimate, se, float(ci_low), float(ci_high))


def _pretrend_test(fit: TwfeFit, pre: list[int], p_wild: float | None = None) -> PreTrendTest | None:
    """Joint F test of the pre-period coefficients (see :class:`PreTrendTest`)."""
    if not pre:
        return None
    idx = [fit.names.index(_event_column(k)) for k in pre]
    b = fit.params[idx]
    cov = fit.vcov[np.ix_(idx, idx)]
    rank = int(np.linalg.matrix_rank(cov, hermitian=True))
    statistic = float(b @ np.linalg.pinv(cov, hermitian=True) @ b) / rank
    df2 = int(fit.df)
    return PreTrendTest(statistic, rank, df2, f_survival(statistic, rank, df2), len(pre), p_wild)


def estimate_wave_effects(
    data: pd.DataFrame,
    outcome: str,
    entity: str,
    wave: str,
    treated_group: str,
    cluster: str,
    order: Sequence[object] | None = None,
) -> EventStudy:
    """Effects at questionnaire waves relative to the first wave (t0).

    ``wave`` holds labels such as "t0", "t1", "t2"; ``order`` lists them in
    time order (default: sorted). The wave order is both the time effect and
    the event time, with t0 = 0 as reference, so there is no pre-period and the
    pre-trend test is None.
    """
    order = list(order) if order is not None else sorted(data[wave].dropna().unique())
    frame = data.assign(_wave_order=data[wave].map({w: i for i, w in enumerate(order)}))
    return estimate_event_study(
        frame, outcome, entity, "_wave_order", "_wave_order", treated_group, cluster, reference=0
    )


def balance_table(baseline: pd.DataFrame, group: str, variables: list[str]) -> pd.DataFrame:
    """Baseline means, SDs and counts per group, and standardised differences.

    Input: one row per unit, ``group`` 1 = intervention, 0 = comparison.
    Output: one row per variable with mean/sd/n for both groups and
    std_diff = (mean_1 - mean_0) / sqrt((var_1 + var_0) / 2) (sample variances,
    missing values left out per variable).
    """
    rows = []
    for var in variables:
        row: dict[str, Any] = {"variable": var}
        for label, value in (("intervention", 1), ("comparison", 0)):
            x = baseline.loc[baseline[group] == value, var].dropna().astype(float)
            row |= {f"mean_{label}": x.mean(), f"sd_{label}": x.std(ddof=1), f"n_{label}": int(x.size)}
        pooled = np.sqrt((row["sd_intervention"] ** 2 + row["sd_comparison"] ** 2) / 2)
        row["std_diff"] = (row["mean_intervention"] - row["mean_comparison"]) / pooled
        rows.append(row)
    return pd.DataFrame(rows)
