"""The interaction-weighted estimator of Sun and Abraham (2021) for staggered, absorbing treatments.

Rules:

* A unit's cohort is its first treated period; units never treated are the control cohort. Without
  never-treated units the last-treated cohort is the control, and every row from its treatment on is
  left out (weight 0; no control is left then), as Sun and Abraham prescribe; with a single cohort and no never-treated
  units the estimator does not apply and raises :class:`EstimationError`.
* One regression: cohort x relative-period indicators for every treated cohort and relative period
  except the reference (-1, or the cohort's latest earlier period with rows when -1 has none; a cohort
  without rows before its treatment is left out), with unit, period and any further fixed effects
  (:mod:`measures.estimation.absorb`). Relative periods count positions in the sorted periods.
* The estimate is the average of the cohort x period effects at relative periods >= 0, each weighted
  by its share of the treated rows: the average effect on the treated rows, as the imputation
  estimator's. It is linear in y (c'b), with the regression's residuals for a clustered variance
  (factor G/(G-1)) and, for tests, the null model without the interactions and the effect held fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from measures.estimation.absorb import dummies, fixed_effects
from measures.estimation.errors import EstimationError
from measures.estimation.linear import LinearEstimator


def sun_abraham_estimator(
    unit: np.ndarray,
    time: np.ndarray,
    treatment: np.ndarray,
    clusters: np.ndarray,
    cluster_labels: np.ndarray,
    other_fe: Sequence[np.ndarray] = (),
) -> LinearEstimator:
    """Sun-Abraham on rows with unit and period codes (periods 0..T-1 in time order), an absorbing 0/1
    ``treatment``, cluster codes and further fixed-effect codes ``other_fe``."""
    treated = np.asarray(treatment) == 1
    cohort = _cohorts(unit, time, treated)
    control, used = _control_cohort(cohort, time)
    in_cohort = used & (cohort >= 0) & (cohort != control)
    rel = np.where(in_cohort, time - cohort, 0)
    references = _references(cohort, rel, in_cohort)
    without = in_cohort & ~pd.Series(cohort).isin(references).to_numpy()
    used, in_cohort = used & ~without, in_cohort & ~without  # a cohort never seen before its treatment
    if not in_cohort.any():
        raise EstimationError("Sun-Abraham needs a treated cohort, seen before its treatment, besides its control")
    cell_codes, cell_keys = _cells(cohort[in_cohort], rel[in_cohort])
    reference = np.array([references.get(key[0]) == key[1] for key in cell_keys])
    interaction_codes = np.full(len(unit), -1)
    interaction_codes[in_cohort] = cell_codes

    rows = np.flatnonzero(used)
    unit_used = pd.factorize(unit[rows], sort=True)[0]
    fe = [dummies(pd.factorize(c[rows], sort=True)[0]) for c in (time, *other_fe)]
    # the interaction columns live on in the fit's Z alone (not beside it while the null model is set up)
    fit = fixed_effects(unit_used, [*fe, _interactions(interaction_codes[rows], reference)])
    post = np.array([key[1] >= 0 for key in cell_keys])[~reference]
    counts = np.bincount(cell_codes, minlength=len(cell_keys))[~reference]
    n_fe_columns = sum(block.shape[1] for block in fe)
    c = np.zeros(fit.Z.shape[1])
    c[n_fe_columns:] = np.where(post, counts, 0) / max(int(counts[post].sum()), 1)
    if not post.any():
        raise EstimationError("no treated rows at relative period 0 or later")
    if not fit.identified(c):
        raise EstimationError("the cohort effects are not identified (a cohort without periods to compare)")
    weights = np.zeros(len(unit))
    weights[rows] = fit.influence(c)
    null_fit = fixed_effects(unit_used, fe)
    return LinearEstimator(
        estimator="sun_abraham",
        weights=weights,
        residuals=_on_rows(fit.residuals, rows, len(unit)),
        null_residuals=_on_rows(null_fit.residuals, rows, len(unit)),
        treatment=(treated & used).astype(float),
        clusters=clusters,
        cluster_labels=cluster_labels,
        se_factor=len(cluster_labels) / (len(cluster_labels) - 1) if len(cluster_labels) > 1 else 1.0,
        n_entities=int(fit.n_units),
        description=_description(control, len(unit) - len(rows), int(without.sum())),
        n_used=len(rows),
    )


def _interactions(codes: np.ndarray, reference: np.ndarray) -> sparse.csr_matrix:
    """The cohort x relative-period dummies of the cells' ``codes`` (-1: no cell), without the reference cells
    (and no first-level drop: rows outside cohorts are 0)."""
    mask = codes >= 0
    full = dummies(np.where(mask, codes, 0), len(reference), drop_first=False).multiply(mask[:, None]).tocsr()
    return full[:, np.flatnonzero(~reference)]


def _cells(cohort: np.ndarray, rel: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Codes of the (cohort, relative period) cells in their sorted order, and the cells: the pairs as one
    integer each, ordered as the pairs are (a million Python tuples would be hashed one at a time)."""
    span = 2 * (int(np.abs(rel).max(initial=0)) + 1)
    codes, keys = pd.factorize(cohort.astype(np.int64) * span + (rel + span // 2), sort=True)
    return codes, [(int(key // span), int(key % span - span // 2)) for key in keys]


def _cohorts(unit: np.ndarray, time: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Each row's cohort (first treated period of its unit, -1 when never treated); the treatment must
    stay on once it starts."""
    first = pd.Series(np.where(treated, time, np.iinfo(np.int64).max)).groupby(unit).transform("min").to_numpy()
    cohort = np.where(first == np.iinfo(np.int64).max, -1, first)
    if ((cohort >= 0) & (time >= cohort) & ~treated).any():
        raise EstimationError("Sun-Abraham needs a treatment that stays on once it starts")
    return cohort


def _references(cohort: np.ndarray, rel: np.ndarray, in_cohort: np.ndarray) -> dict[int, int]:
    """Each treated cohort's reference period: -1, or its latest period before treatment with rows (an
    outcome observed only now and then, such as a loonwaarde assessment, may have no row at -1)."""
    pre = pd.Series(rel[in_cohort & (rel < 0)]).groupby(cohort[in_cohort & (rel < 0)]).max()
    return {int(c): int(r) for c, r in pre.items()}


def _control_cohort(cohort: np.ndarray, time: np.ndarray) -> tuple[int, np.ndarray]:
    """The control cohort (-1: never treated; else the last cohort) and the rows used."""
    if (cohort < 0).any():
        return -1, np.ones(len(cohort), dtype=bool)
    last = int(cohort.max())
    if last == int(cohort.min()):
        raise EstimationError("Sun-Abraham needs never-treated units or more than one treatment cohort")
    return last, time < last  # from the last cohort's treatment on there is no control left


def _on_rows(operator, rows: np.ndarray, n: int):
    """An operator on the used rows, applied to all n rows (0 elsewhere)."""

    def apply(Y: np.ndarray) -> np.ndarray:
        out = np.zeros_like(Y, dtype=float)
        out[rows] = operator(Y[rows])
        return out

    return apply


def _description(control: int, left_out: int, unseen: int) -> str:
    text = "interaction-weighted (Sun-Abraham), " + (
        "never-treated units as control" if control < 0 else "last-treated cohort as control"
    )
    if unseen:
        text += f"; {unseen} rows of cohorts without a period before treatment left out"
    if left_out - unseen:
        text += f"; {left_out - unseen} rows from the control cohort's treatment on left out"
    return text
