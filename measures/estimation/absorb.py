"""Least squares with several sets of fixed effects, exactly, for the estimators beyond two-way TWFE.

The first set of fixed effects (the unit: an employee, a county) is swept out by its group means; the
other sets (calendar month, absence duration, ...) and any regressors are the columns of a sparse matrix
Z. By Frisch-Waugh-Lovell the coefficients on Z solve the small K x K system (Z' M_E Z) b = Z' M_E y,
with Z' M_E Z = Z'Z - (E'Z)' diag(1/n_e) (E'Z) built from sparse products, so nothing of size n x K is
ever dense and a million rows cost a few sparse passes. The system may be rank deficient (calendar month
and absence duration are collinear with the unit effects, as age, period and cohort are): a
pseudo-inverse gives one solution, and fitted values and residuals are the same for all of them. A
linear function c'b is identified only when c lies in the row space of the system, which
:meth:`FixedEffects.identified` checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from measures.estimation.errors import EstimationError

#: Eigenvalues below this share of the largest one count as zero in the pseudo-inverse.
RANK_TOLERANCE = 1e-10


def codes_of(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes 0..L-1 of any labels, in sorted order of the labels."""
    return pd.factorize(pd.Series(values), sort=True)[0]


def dummies(codes: np.ndarray, n_levels: int | None = None, drop_first: bool = True) -> sparse.csr_matrix:
    """Sparse 0/1 indicator columns of ``codes`` (n), without the first level when ``drop_first``."""
    n_levels = int(codes.max()) + 1 if n_levels is None else n_levels
    first = int(drop_first)
    present = codes >= first
    # at most one entry per row: built in CSR form directly (no coordinate copy, no slice copy of the first level)
    rows_before = np.concatenate([[0], np.cumsum(present)])
    columns = codes[present] - first
    return sparse.csr_matrix((np.ones(len(columns)), columns, rows_before), shape=(len(codes), n_levels - first))


def _psd_pinv(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-inverse of a symmetric positive semi-definite matrix, and its null-space projector's complement
    (gram @ pinv), from one eigendecomposition."""
    if gram.shape[0] == 0:
        return gram.copy(), gram.copy()
    values, vectors = np.linalg.eigh(gram)
    keep = values > RANK_TOLERANCE * max(values.max(), 1.0)
    inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    projector = vectors[:, keep] @ vectors[:, keep].T
    return inverse, projector


@dataclass(frozen=True)
class FixedEffects:
    """The least-squares fit of outcomes on unit effects (swept out) and the columns of ``Z``.

    Built by :func:`fixed_effects`. Works on matrices: every method takes ``Y`` as n or n x m.
    """

    unit: np.ndarray
    n_units: int
    unit_counts: np.ndarray
    unit_matrix: sparse.csr_matrix  # units x n indicator
    Z: sparse.csr_matrix
    unit_sums_of_Z: sparse.csr_matrix  # E'Z, units x K
    pinv: np.ndarray
    projector: np.ndarray

    @property
    def n_obs(self) -> int:
        return len(self.unit)

    def unit_means(self, Y: np.ndarray) -> np.ndarray:
        """Mean of each column of ``Y`` within each unit (units x m)."""
        sums = self.unit_matrix @ Y
        return sums / self.unit_counts.reshape(-1, *([1] * (Y.ndim - 1)))

    def coef(self, Y: np.ndarray) -> np.ndarray:
        """Coefficients on the columns of Z (K or K x m), one solution where they are not unique."""
        rhs = self.Z.T @ Y - self.unit_sums_of_Z.T @ self.unit_means(Y)
        return self.pinv @ rhs

    def unit_effects(self, Y: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """The unit effects that go with ``coef`` (units or units x m)."""
        return self.unit_means(Y - self.Z @ coef)

    def residuals(self, Y: np.ndarray) -> np.ndarray:
        """Y minus its least-squares fit on the unit effects and Z."""
        coef = self.coef(Y)
        rest = Y - self.Z @ coef
        return rest - self.unit_means(rest)[self.unit]

    def identified(self, c: np.ndarray) -> bool:
        """Whether the linear function c'b of the coefficients on Z is the same for every solution."""
        c = np.asarray(c, dtype=float)
        return bool(np.abs(self.projector @ c - c).max(initial=0.0) <= 1e-8 * (1.0 + np.abs(c).max(initial=0.0)))

    def influence(self, c: np.ndarray) -> np.ndarray:
        """The weights v with c'b = v'y for every outcome y (n): v = M_E Z pinv c."""
        v = self.Z @ (self.pinv @ np.asarray(c, dtype=float))
        return v - self.unit_means(v)[self.unit]


def fixed_effects(unit: np.ndarray, columns: Sequence[sparse.spmatrix | np.ndarray]) -> FixedEffects:
    """Set up the fit on unit codes ``unit`` (0..U-1, every unit present) and the sparse or dense ``columns``
    (each n x k; the dummies of the other fixed effects without their first level, regressors)."""
    n = len(unit)
    blocks = [sparse.csr_matrix(c.reshape(n, -1) if isinstance(c, np.ndarray) else c) for c in columns]
    Z = sparse.hstack(blocks, format="csr") if blocks else sparse.csr_matrix((n, 0))
    counts = np.bincount(unit).astype(float)
    if (counts == 0).any():
        raise EstimationError("every unit needs at least one row")
    unit_matrix = sparse.csr_matrix((np.ones(n), (unit, np.arange(n))), shape=(len(counts), n))
    EZ = (unit_matrix @ Z).tocsr()
    gram = (Z.T @ Z).toarray() - (EZ.T @ sparse.diags(1.0 / counts) @ EZ).toarray()
    pinv, projector = _psd_pinv((gram + gram.T) / 2)
    return FixedEffects(unit, len(counts), counts, unit_matrix, Z, EZ, pinv, projector)


def fixed_effect_columns(codes: Sequence[np.ndarray]) -> list[sparse.csr_matrix]:
    """Dummies (first level dropped) of each set of fixed-effect codes after the unit's."""
    return [dummies(c) for c in codes]
