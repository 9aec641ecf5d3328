"""The imputation estimator of Borusyak, Jaravel and Spiess (2024) with any number of fixed-effect sets.

Rules (their Theorem 1 and the conservative variance of Theorem 3):

* The untreated rows (treatment 0: comparison units, and treated units before their treatment) fit
  Y(0) = unit effect + the other fixed effects (calendar month, absence duration, ...), exactly
  (:mod:`measures.estimation.absorb`). Y(0) is imputed for every treated row from those effects, and the
  estimate is the average of observed minus imputed over the treated rows, each row weighing the same.
* A treated row whose unit or any fixed-effect level never occurs among untreated rows cannot be
  imputed: it is left out (weight 0) and counted in the description, as Stata's ``did_imputation``
  does. When the imputed average is not identified for another reason (a collinearity that reaches
  the treated rows) the estimator raises :class:`EstimationError`.
* The estimate is w'y with explicit weights w (treated rows 1/N1; untreated rows minus their share of
  the imputations), which is what the cluster-robust variance and the bootstrap need. Residuals for
  the variance: the untreated fit's residuals, and on treated rows the row's effect minus the average
  effect (BJS's conservative choice with one group of treated rows), clustered; small-sample factor
  G/(G-1).
* The null model for tests holds the effect at tau0 for every treated row and fits the same fixed
  effects on all rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from measures.estimation.absorb import FixedEffects, dummies, fixed_effects
from measures.estimation.errors import EstimationError
from measures.estimation.linear import LinearEstimator


def imputation_estimator(
    fe_codes: Sequence[np.ndarray],
    treatment: np.ndarray,
    clusters: np.ndarray,
    cluster_labels: np.ndarray,
    names: Sequence[str] = (),
) -> LinearEstimator:
    """The imputation estimator on rows with fixed-effect codes ``fe_codes`` (the unit first, then the other
    sets), 0/1 ``treatment`` and cluster codes ``clusters``. ``names`` name the fixed-effect sets for the
    description."""
    treated = np.asarray(treatment) == 1
    untreated = ~treated
    if not treated.any():
        raise EstimationError("no treated rows")
    if not untreated.any():
        raise EstimationError("no untreated rows to impute from")
    # each fixed effect recoded over the levels the untreated rows have; -1 where a treated row's level is new
    recoded = [_recode(codes, untreated) for codes in fe_codes]
    imputable = treated & np.all([codes >= 0 for codes in recoded], axis=0)
    if not imputable.any():
        raise EstimationError("no treated row can be imputed: none has a unit and period seen untreated")
    fit = fixed_effects(recoded[0][untreated], [dummies(c[untreated]) for c in recoded[1:]])
    n_levels = [int(c[untreated].max()) + 1 for c in recoded[1:]]
    Z_treated = _columns(recoded[1:], imputable, n_levels)
    unit_treated = recoded[0][imputable]
    n_treated = int(imputable.sum())
    treated_per_unit = np.bincount(unit_treated, minlength=fit.n_units).astype(float)
    # the imputations' sum is sum_i N1_i ybar_i + h'gamma, with h the treated rows' Z minus their unit's mean Z
    h = np.asarray(Z_treated.sum(axis=0)).ravel() - fit.unit_sums_of_Z.T @ (treated_per_unit / fit.unit_counts)
    if not fit.identified(h):
        raise EstimationError(
            "the average effect is not identified: the fixed effects of the treated rows are collinear"
        )
    weights = np.zeros(len(treated))
    weights[imputable] = 1.0 / n_treated
    weights[untreated] = -(treated_per_unit[fit.unit] / fit.unit_counts[fit.unit] + fit.influence(h)) / n_treated

    dropped = int((treated & ~imputable).sum())
    description = "imputation (Borusyak-Jaravel-Spiess), fixed effects: " + " + ".join(names or ["unit", "..."])
    if dropped:
        description += f"; {dropped} treated rows without an untreated unit or period left out"
    return LinearEstimator(
        estimator="imputation",
        weights=weights,
        residuals=_ImputationResiduals(fit, untreated, imputable, Z_treated, unit_treated),
        null_residuals=_NullModel(fe_codes),
        treatment=treated.astype(float),
        clusters=clusters,
        cluster_labels=cluster_labels,
        se_factor=len(cluster_labels) / (len(cluster_labels) - 1) if len(cluster_labels) > 1 else 1.0,
        n_entities=len(np.unique(fe_codes[0][untreated | imputable])),
        description=description,
        n_used=int((untreated | imputable).sum()),
    )


def _recode(codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Codes 0..L-1 over the levels that occur in ``rows``; -1 for a level that does not."""
    codes = np.asarray(codes)
    seen = np.zeros(int(codes.max()) + 1, dtype=bool)
    seen[codes[rows]] = True
    new = np.full(len(seen), -1)
    new[seen] = np.arange(int(seen.sum()))
    return new[codes]


def _columns(codes: Sequence[np.ndarray], rows: np.ndarray, n_levels: Sequence[int]) -> sparse.csr_matrix:
    """The Z columns (dummies without the first level) of the selected rows."""
    blocks = [dummies(c[rows], n) for c, n in zip(codes, n_levels, strict=True)]
    return sparse.hstack(blocks, format="csr") if blocks else sparse.csr_matrix((int(rows.sum()), 0))


class _NullModel:
    """Residuals of the fixed effects fitted on every row (the null model), set up on first use: randomisation
    inference builds the estimator for hundreds of assignments and never needs it."""

    def __init__(self, fe_codes: Sequence[np.ndarray]):
        self.fe_codes = fe_codes
        self.fit: FixedEffects | None = None

    def __call__(self, Y: np.ndarray) -> np.ndarray:
        if self.fit is None:
            codes = [np.asarray(c) for c in self.fe_codes]
            self.fit = fixed_effects(codes[0], [dummies(c) for c in codes[1:]])
        return self.fit.residuals(Y)


class _ImputationResiduals:
    """e(Y): the untreated fit's residuals on untreated rows, each treated row's effect minus the average
    effect on treated rows, 0 on rows left out. Linear in Y (n or n x m)."""

    def __init__(
        self,
        fit: FixedEffects,
        untreated: np.ndarray,
        imputable: np.ndarray,
        Z_treated: sparse.csr_matrix,
        unit_treated: np.ndarray,
    ):
        self.fit, self.untreated, self.imputable = fit, untreated, imputable
        self.Z_treated, self.unit_treated = Z_treated, unit_treated

    def __call__(self, Y: np.ndarray) -> np.ndarray:
        fit = self.fit
        Y_untreated = Y[self.untreated]
        coef = fit.coef(Y_untreated)
        rest = Y_untreated - fit.Z @ coef
        unit_effects = fit.unit_means(rest)
        out = np.zeros_like(Y, dtype=float)
        out[self.untreated] = rest - unit_effects[fit.unit]
        effects = Y[self.imputable] - unit_effects[self.unit_treated] - self.Z_treated @ coef
        out[self.imputable] = effects - effects.mean(axis=0)
        return out
