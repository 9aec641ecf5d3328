"""Two-way fixed-effects difference-in-differences with few-cluster inference.

Two engines give identical numbers (tested to 1e-6):

* ``panelols``: linearmodels ``PanelOLS`` with ``EntityEffects``, the time
  effects as explicit dummies plus a constant, ``cov_type="clustered"``,
  ``debiased=True``, ``group_debias=True``. This is exactly fixest's CR1:
  ``(n-1)/(n-k) * G/(G-1)`` with k = regressors + T (time dummies and the
  constant), the entity effects not counted when they are nested in the
  clusters. (``time_effects=True`` instead makes linearmodels count all N+T-1
  effects in k, which inflates the SE.)
* ``within``: exact two-way demeaning (entity means swept out, then the time
  effects from a small T x T system) and OLS with the same small-sample
  factors; the engine at every size (``auto``): it is a fraction of PanelOLS's
  cost on a panel of any size, with the same estimates. Several outcomes
  observed on the same rows share one demeaning of the regressors
  (``fit_twfe_each``). PanelOLS stays as the reference it is tested against.

Singletons (an entity or period with one observation) are dropped,
repeatedly, as fixest does: they are fitted perfectly by their fixed effect,
carry no information, and would otherwise change n in the small-sample factor.
Not special-cased: clustering by time (fixest would then leave the nested
time effects out of k); the time effects are always counted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, cast

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from measures.estimation.errors import EstimationError
from measures.estimation.inference import SEED, Estimate, t_inference
from measures.estimation.linear import LinearEstimator, cluster_sums
from measures.estimation.wild_bootstrap import ols_estimator, wild_bootstrap_test, wild_weights

#: Under ``wild=None`` the wild bootstrap is run when there are fewer clusters.
WILD_MAX_CLUSTERS = 30
#: Rows per block where a tall matrix is reduced a block at a time (a few MB, not a copy of n x k).
BLOCK_ROWS = 65_536

Vcov = Literal["cluster", "unadjusted", "robust"]
Engine = Literal["auto", "panelols", "within"]


@dataclass(frozen=True)
class Panel:
    """Complete-case panel with integer codes for entity, time and cluster.

    ``y`` is one outcome (n) or several observed on the same rows (n x q)."""

    y: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    entity: np.ndarray
    time: np.ndarray
    cluster: np.ndarray
    cluster_name: str
    n_entities: int
    n_times: int
    n_clusters: int
    cluster_labels: np.ndarray | None = None

    @property
    def n_obs(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class TwfeFit:
    """Coefficients and covariance of a TWFE regression (order of ``names``)."""

    params: np.ndarray
    vcov: np.ndarray
    names: tuple[str, ...]
    df: float
    n_obs: int
    n_entities: int
    n_clusters: int
    engine: str
    inference: str

    def coef(self, name: str) -> tuple[float, float]:
        """Return (estimate, se) of regressor ``name``."""
        i = self.names.index(name)
        return float(self.params[i]), float(np.sqrt(self.vcov[i, i]))


def prepare_panel(
    data: pd.DataFrame,
    outcome: str | Sequence[str],
    entity: str,
    time: str,
    regressors: Sequence[str],
    cluster: str | None = None,
) -> Panel:
    """Drop incomplete rows and singletons; encode entity/time/cluster as codes.

    ``time`` may be numeric, a date or a string: it only labels periods, so it
    is encoded as sorted categories. Several outcomes give ``y`` as n x q, on the
    rows where all of them are observed.
    """
    cluster = cluster or entity
    outcomes = [outcome] if isinstance(outcome, str) else list(outcome)
    columns = list(dict.fromkeys([*outcomes, entity, time, cluster, *regressors]))
    frame = data[columns].dropna()
    if frame.empty:
        raise EstimationError("no complete observations")
    # Work on integer codes from here: a million string ids are factorized once, not grouped repeatedly.
    factorized = {c: pd.factorize(frame[c], sort=True) for c in (entity, time, cluster)}
    codes = {c: code for c, (code, _) in factorized.items()}
    cluster_labels = np.asarray(factorized[cluster][1])
    keep = _non_singletons(codes[entity], codes[time])
    if not keep.any():
        raise EstimationError("no complete, non-singleton observations left")
    if not keep.all():
        frame = frame[keep]
        cluster_labels = cluster_labels[np.unique(codes[cluster][keep])]
        codes = {c: pd.factorize(code[keep], sort=True)[0] for c, code in codes.items()}
    sizes = {c: int(code.max()) + 1 for c, code in codes.items()}
    cells = codes[entity].astype(np.int64) * sizes[time] + codes[time]
    if len(pd.unique(cells)) < len(cells):
        raise EstimationError(f"({entity}, {time}) must identify rows of the panel")
    return Panel(
        y=frame[outcome].to_numpy(float) if isinstance(outcome, str) else frame[outcomes].to_numpy(float),
        X=frame[list(regressors)].to_numpy(float),
        names=tuple(regressors),
        entity=codes[entity],
        time=codes[time],
        cluster=codes[cluster],
        cluster_name=cluster,
        n_entities=sizes[entity],
        n_times=sizes[time],
        n_clusters=sizes[cluster],
        cluster_labels=cluster_labels,
    )


def _non_singletons(entity: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Rows to keep after repeatedly dropping entities and periods that occur only once (as fixest does)."""
    keep = np.ones(len(entity), dtype=bool)
    while True:
        single = (np.bincount(entity, weights=keep)[entity] <= 1) | (np.bincount(time, weights=keep)[time] <= 1)
        drop = keep & single
        if not drop.any():
            return keep
        keep &= ~drop


def demean_two_way(values: np.ndarray, entity: np.ndarray, time: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """Residuals of a regression of each column on entity and time dummies, exactly, in one pass.

    Input: ``values`` (n or n x m), integer codes ``entity`` and ``time``. Output: array of the same shape.
    By Frisch-Waugh-Lovell: sweep out the entity means (M_E), then the time effects, which solve the small
    T x T system (D' M_E D) tau = D' M_E v. D' M_E D = diag(n_t) - N' diag(1/n_e) N with N the sparse
    entity-by-time count matrix, so nothing of size n x T is ever built, and unbalanced panels need no
    iteration (alternating projections converge slowly on them). The two sets of effects play symmetric
    roles, so the smaller one takes the dense solve. With ``overwrite`` a float, column-major ``values`` is
    demeaned in place (no copy of a large design matrix).
    """
    # the result, written in place; columns contiguous
    arr = np.asarray(values, dtype=float, order="F") if overwrite else np.array(values, dtype=float, order="F")
    mat = arr.reshape(len(arr), -1, order="F")
    if time.max(initial=0) > entity.max(initial=0):
        entity, time = time, entity
    n_e, n_t = np.bincount(entity).astype(float), np.bincount(time).astype(float)
    counts = sparse.csr_matrix((np.ones(len(entity)), (entity, time)), shape=(len(n_e), len(n_t)))
    gram = np.diag(n_t) - (counts.T @ sparse.diags(1.0 / n_e) @ counts).toarray()

    def sweep_entities(v: np.ndarray) -> np.ndarray:
        return v - (np.bincount(entity, v, minlength=len(n_e)) / n_e)[entity]

    rhs = np.empty((len(n_t), mat.shape[1]))
    for j in range(mat.shape[1]):
        mat[:, j] = sweep_entities(mat[:, j])
        rhs[:, j] = np.bincount(time, mat[:, j], minlength=len(n_t))
    # the first period is the reference (tau_0 = 0): the rest is full rank when the panel is connected;
    # least squares gives the projection anyway when it is not
    tau = np.zeros_like(rhs)
    tau[1:] = linalg.lstsq(gram[1:, 1:], rhs[1:])[0]
    for j in range(mat.shape[1]):
        mat[:, j] -= sweep_entities(tau[time, j])
    return arr


def check_not_absorbed(panel: Panel, X_within: np.ndarray) -> None:
    """Raise :class:`EstimationError` when a regressor is absorbed by the fixed effects or the regressors are
    collinear after demeaning (both engines say the same; linearmodels would raise its own error)."""
    raw = column_norms(panel.X)
    absorbed = [n for n, a, b in zip(panel.names, column_norms(X_within), raw, strict=True) if a <= 1e-9 * (b + 1)]
    if absorbed:
        raise EstimationError(f"{', '.join(absorbed)} collinear with the fixed effects: absorbed by them")
    if X_within.shape[1] and tall_rank(X_within) < X_within.shape[1]:
        raise EstimationError(f"{', '.join(panel.names)} collinear after removing the fixed effects")


def column_norms(X: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each column, one column at a time (`np.linalg.norm(X, axis=0)` squares the whole
    n x k matrix into a temporary first: the peak of a million-row event study)."""
    return np.sqrt(np.array([np.dot(c, c) for c in (np.asarray(column, dtype=float) for column in X.T)]))


def tall_rank(X: np.ndarray) -> int:
    """`np.linalg.matrix_rank` of a tall matrix (same singular values, same tolerance), from the R of its QR
    decomposition built block by block: an SVD of the whole n x k matrix copies it and its workspace."""
    r = np.zeros((0, X.shape[1]))
    for start in range(0, len(X), BLOCK_ROWS):
        # mode "r" returns R alone (numpy's annotation names the (Q, R) pair of the other modes)
        r = cast(np.ndarray, np.linalg.qr(np.vstack([r, X[start : start + BLOCK_ROWS]]), mode="r"))
    singular = np.linalg.svd(r, compute_uv=False)
    return int((singular > singular.max(initial=0.0) * max(X.shape) * np.finfo(float).eps).sum())


def entity_nested_in_clusters(panel: Panel) -> bool:
    """True when every entity lies in a single cluster (then its FE is not counted)."""
    pairs = pd.unique(panel.entity.astype(np.int64) * panel.n_clusters + panel.cluster)
    return len(pairs) == panel.n_entities


def n_parameters(panel: Panel, vcov: Vcov) -> int:
    """k in the small-sample factors: regressors + T (time dummies and constant)
    + entity effects unless they are nested in the clusters (fixest, linearmodels)."""
    k = panel.X.shape[1] + panel.n_times
    if vcov != "cluster" or not entity_nested_in_clusters(panel):
        k += panel.n_entities - 1
    return k


def fit_twfe(panel: Panel, vcov: Vcov = "cluster", engine: Engine = "auto") -> TwfeFit:
    """Fit y on the columns of ``panel.X`` with entity and time fixed effects.

    Output: :class:`TwfeFit` with the coefficients, their covariance (CR1,
    iid or HC1, all with fixest's small-sample factors) and the t degrees of
    freedom: G-1 when clustered, n-k otherwise.
    """
    if panel.y.ndim != 1:
        raise ValueError("fit_twfe takes one outcome; use fit_twfe_each for several")
    return fit_twfe_each(panel, vcov, engine)[0]


def fit_twfe_each(panel: Panel, vcov: Vcov = "cluster", engine: Engine = "auto") -> list[TwfeFit]:
    """:func:`fit_twfe` for each outcome (column of ``panel.y``), the regressors demeaned once for all."""
    if engine == "auto":
        engine = "within"
    if engine == "panelols":
        check_not_absorbed(panel, demean_two_way(panel.X, panel.entity, panel.time))
        fits = _fit_panelols(panel, vcov)
        engine_label = "PanelOLS (linearmodels)"
    elif engine == "within":
        fits = _fit_within(panel, vcov)
        engine_label = "within (two-way demeaning)"
    else:
        raise ValueError(f"unknown engine {engine!r}")
    df = panel.n_clusters - 1 if vcov == "cluster" else panel.n_obs - n_parameters(panel, vcov)
    inference = {
        "cluster": f"CR1 clustered by {panel.cluster_name}, t(G-1)",
        "unadjusted": "unadjusted (iid) SE, t(n-k)",
        "robust": "heteroskedasticity-robust (HC1) SE, t(n-k)",
    }[vcov]
    return [
        TwfeFit(params, cov, panel.names, df, panel.n_obs, panel.n_entities, panel.n_clusters, engine_label, inference)
        for params, cov in fits
    ]


def _outcomes(panel: Panel) -> np.ndarray:
    """The outcomes as columns (n x q), one outcome or several."""
    return panel.y.reshape(panel.n_obs, -1)


def _fit_panelols(panel: Panel, vcov: Vcov) -> list[tuple[np.ndarray, np.ndarray]]:
    """PanelOLS with EntityEffects, explicit time dummies and a constant, per outcome."""
    # imported here: linearmodels (with scipy.stats and statsmodels) costs a second at start-up, and large
    # panels never need it (they take the within engine)
    from linearmodels.panel import PanelOLS

    index = pd.MultiIndex.from_arrays([panel.entity, panel.time], names=["entity", "time"])
    dummies = (panel.time[:, None] == np.arange(1, panel.n_times)).astype(float)
    columns = [*panel.names, *(f"__time_{j}" for j in range(1, panel.n_times)), "__const"]
    exog = pd.DataFrame(np.column_stack([panel.X, dummies, np.ones(panel.n_obs)]), index=index, columns=columns)
    p, fits = len(panel.names), []
    for y in _outcomes(panel).T:
        model = PanelOLS(pd.Series(y, index=index), exog, entity_effects=True)
        if vcov == "cluster":
            clusters = pd.DataFrame({"cluster": panel.cluster}, index=index)
            # auto_df (default) leaves entity effects nested in the clusters out of k.
            res = model.fit(cov_type="clustered", clusters=clusters, debiased=True, group_debias=True)
        elif vcov in ("unadjusted", "robust"):
            res = model.fit(cov_type=vcov, debiased=True)
        else:
            raise ValueError(f"unknown vcov {vcov!r}")
        fits.append((res.params.to_numpy()[:p], res.cov.to_numpy()[:p, :p]))
    return fits


def _fit_within(panel: Panel, vcov: Vcov) -> list[tuple[np.ndarray, np.ndarray]]:
    """OLS on two-way demeaned data with CR1 / iid / HC1 covariance, per outcome."""
    if vcov not in ("cluster", "unadjusted", "robust"):
        raise ValueError(f"unknown vcov {vcov!r}")
    outcomes = _outcomes(panel)
    q = outcomes.shape[1]
    # outcomes and X in one column-major matrix, demeaned in one pass: the fixed-effect structure is set up once
    data = np.empty((panel.n_obs, q + panel.X.shape[1]), order="F")
    data[:, :q], data[:, q:] = outcomes, panel.X
    data = demean_two_way(data, panel.entity, panel.time, overwrite=True)
    X = data[:, q:]
    check_not_absorbed(panel, X)
    bread = np.linalg.inv(X.T @ X)
    n, k = panel.n_obs, n_parameters(panel, vcov)
    fits = []
    for j in range(q):
        params = bread @ (X.T @ data[:, j])
        resid = data[:, j] - X @ params
        if vcov == "cluster":
            g = panel.n_clusters
            scores = cluster_sums(X, panel.cluster, g, weights=resid)
            cov = g / (g - 1) * (n - 1) / (n - k) * bread @ (scores.T @ scores) @ bread
        elif vcov == "unadjusted":
            cov = (resid @ resid) / (n - k) * bread
        else:
            scores = X * resid[:, None]
            cov = n / (n - k) * bread @ (scores.T @ scores) @ bread
        fits.append((params, cov))
    return fits


def twfe_estimator(panel: Panel, name: str, vcov: Vcov = "cluster") -> LinearEstimator:
    """The TWFE coefficient of regressor ``name`` as a linear estimator (for the wild bootstrap and
    randomisation inference), on the two-way demeaned panel, clustered by ``panel.cluster``, with the
    small-sample factor of the CR1 variance."""

    def demean(values: np.ndarray) -> np.ndarray:
        return demean_two_way(values, panel.entity, panel.time)

    n, g = panel.n_obs, panel.n_clusters
    labels = panel.cluster_labels if panel.cluster_labels is not None else np.arange(g)
    return ols_estimator(
        demean(panel.X),
        panel.names.index(name),
        labels[panel.cluster],
        demean,
        se_factor=g / (g - 1) * (n - 1) / (n - n_parameters(panel, vcov)) if g > 1 else 1.0,
        n_entities=panel.n_entities,
        estimator="twfe",
        description="TWFE DiD (entity and time fixed effects)",
        treatment=panel.X[:, panel.names.index(name)],
    )


def twfe_wild_p_value(panel: Panel, name: str, reps: int, seed: int) -> float:
    """WCR wild cluster bootstrap p-value (Webb) of regressor ``name`` on the
    two-way demeaned panel, clustered by ``panel.cluster``."""
    est = twfe_estimator(panel, name)
    return wild_bootstrap_test(
        est,
        demean_two_way(panel.y, panel.entity, panel.time),
        wild_weights(est.cluster_labels, reps, seed),
        interval=False,
    ).p_value


def same_rows(data: pd.DataFrame, outcomes: Sequence[str]) -> list[list[str]]:
    """The outcomes grouped by the rows on which they are observed, in their order: the outcomes of one
    group can share a panel and the demeaning of its regressors."""
    groups: dict[bytes, list[str]] = {}
    for outcome in outcomes:
        groups.setdefault(np.packbits(data[outcome].notna().to_numpy()).tobytes(), []).append(outcome)
    return list(groups.values())


def estimate_did(
    data: pd.DataFrame,
    outcome: str,
    entity: str,
    time: str,
    treated: str,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    vcov: Vcov = "cluster",
    wild: bool | None = None,
    wild_reps: int = 999,
    seed: int = SEED,
    engine: Engine = "auto",
) -> Estimate:
    """TWFE difference-in-differences: coefficient of ``treated`` (0/1, "treatment
    on for this unit at this time") with entity and time fixed effects.

    Inputs: long panel ``data``; column names; ``cluster`` defaults to
    ``entity``; extra regressors ``covariates``; ``vcov``; ``wild`` (None: run
    the wild cluster bootstrap when G < 30) with ``wild_reps`` draws and
    ``seed``; ``engine`` ("auto" is "within"; "panelols" the reference). Rows
    missing any used column are dropped, and
    singletons too. Output: :class:`Estimate` with t(G-1) inference when
    clustered, t(n-k) otherwise.
    """
    return estimate_dids(
        data, [outcome], entity, time, treated, cluster, covariates, vcov, wild, wild_reps, seed, engine
    )[outcome]


def estimate_dids(
    data: pd.DataFrame,
    outcomes: Sequence[str],
    entity: str,
    time: str,
    treated: str,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    vcov: Vcov = "cluster",
    wild: bool | None = None,
    wild_reps: int = 999,
    seed: int = SEED,
    engine: Engine = "auto",
) -> dict[str, Estimate]:
    """:func:`estimate_did` for each outcome, each on its own complete cases; outcomes observed on the
    same rows (:func:`same_rows`) share one panel and one demeaning of the regressors."""
    estimates = {}
    for group in same_rows(data, outcomes):
        panel = prepare_panel(data, group, entity, time, [treated, *covariates], cluster)
        for j, (outcome, fit) in enumerate(zip(group, fit_twfe_each(panel, vcov, engine), strict=True)):
            estimates[outcome] = _did_estimate(
                replace(panel, y=panel.y[:, j]), fit, treated, vcov, wild, wild_reps, seed
            )
    return {outcome: estimates[outcome] for outcome in outcomes}


def _did_estimate(
    panel: Panel, fit: TwfeFit, treated: str, vcov: Vcov, wild: bool | None, wild_reps: int, seed: int
) -> Estimate:
    estimate, se = fit.coef(treated)
    ci_low, ci_high, p_value = t_inference(estimate, se, fit.df)
    run_wild = wild if wild is not None else (vcov == "cluster" and fit.n_clusters < WILD_MAX_CLUSTERS)
    p_wild = twfe_wild_p_value(panel, treated, wild_reps, seed) if run_wild else None
    method = f"TWFE DiD, {fit.engine}, {fit.inference}"
    if run_wild:
        method += f"; wild cluster bootstrap p (WCR, Webb, B={wild_reps}, clustered by {panel.cluster_name})"
    return Estimate(
        estimate, se, ci_low, ci_high, p_value, p_wild, fit.n_obs, fit.n_entities, fit.n_clusters, fit.df, method
    )


def estimate_share_difference(data: pd.DataFrame, outcome: str, group: str, cluster: str) -> Estimate:
    """Difference in means (shares for a 0/1 outcome) between ``group`` 1 and 0.

    Input: one row per unit (employee). OLS of outcome on a constant and the
    group dummy, CR1 clustered by ``cluster`` ((n-1)/(n-2) * G/(G-1)), t(G-1).
    Output: :class:`Estimate` of mean(group 1) - mean(group 0).
    """
    frame = data[[outcome, group, cluster]].dropna()
    if not frame[group].isin([0, 1]).all():
        raise EstimationError(f"{group} must be 0/1")
    y = frame[outcome].to_numpy(float)
    X = np.column_stack([np.ones(len(frame)), frame[group].to_numpy(float)])
    codes = pd.factorize(frame[cluster])[0]
    n, n_clusters = len(y), int(codes.max()) + 1
    bread = np.linalg.inv(X.T @ X)
    params = bread @ (X.T @ y)
    scores = cluster_sums(X * (y - X @ params)[:, None], codes, n_clusters)
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - 2)
    se = float(np.sqrt(factor * (bread @ (scores.T @ scores) @ bread)[1, 1]))
    ci_low, ci_high, p_value = t_inference(float(params[1]), se, n_clusters - 1)
    method = f"Difference in means (OLS on group dummy), CR1 clustered by {cluster}, t(G-1)"
    return Estimate(float(params[1]), se, ci_low, ci_high, p_value, None, n, n, n_clusters, n_clusters - 1, method)
