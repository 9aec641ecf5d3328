"""The two-way fixed-effects DiD as SQL on a warehouse table: out of core, the same numbers as the within engine.

The within engine (:mod:`measures.estimation.did`) holds the panel in memory. Every quantity it needs is a
group-by aggregate, so the same fit runs as SQL wherever the rows are (DuckDB here, spilling to disk past its
memory limit; PostgreSQL, Trino or Spark SQL for a team or a sector), and only small results come back:

1. Complete cases, then singletons (an entity or period with one row) dropped repeatedly, as fixest does.
2. Entity means of y and X (one row per entity).
3. The time effects of each column v solve the T x T system (D' M_E D) tau = D' M_E v:
   D' M_E D = diag(n_t) - sum over entities of 1{e in t} 1{e in t'} / n_e (a self-join within entities,
   grouped by the pair of periods), D' M_E v = per period, the sum of v - mean_e(v). T is small (the months
   of a study): numpy solves it, with the first period as reference, as the within engine does.
4. The demeaned values v - mean_e(v) - (tau_t - mean_e(tau)), never stored: per cluster (employer) the sums
   A_g = sum x~ y~ and B_g = sum x~ x~' are the sufficient statistics. beta = (sum B_g)^-1 sum A_g; the
   cluster scores are A_g - B_g beta; the CR1 sandwich has fixest's small-sample factors
   G/(G-1) (n-1)/(n-k), k = regressors + T (+ entities - 1 unless they are nested in the clusters).

Both kinds of statistics add up over disjoint sets of entities: the period system (`PeriodSums`, step 3) and
the per-cluster sums (`ClusterSums`, step 4, summed by cluster). So parts of a panel (by employer or sector,
with every employee in one part) are computed apart, in two passes with the period effects solved between
them, and combined exactly (`pipelines/defs/sector.py` runs the parts as Dagster's mapped steps). In parts,
an entity with one row is dropped where it lies; a period with one row over all parts is refused (a fit of
the panel as one table drops it, as fixest does). Tested equal to the within engine to 1e-9.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
from scipy import linalg

from measures.estimation.did import WILD_MAX_CLUSTERS, TwfeFit
from measures.estimation.errors import EstimationError
from measures.estimation.inference import Estimate, t_inference

ENGINE = "SQL two-way demeaning (DuckDB, out of core)"
#: Periods up to this many are grouped by their pattern per entity (a 64-bit mask); more by a self-join.
MASK_BITS = 64
_TEMPORARY = ("_twfe_rows", "_twfe_entities", "_twfe_tau", "_twfe_index")


@dataclass(frozen=True)
class PeriodSums:
    """What a set of entities adds to the period effects' system: rows per period, the T x T matrix
    -sum_e 1{e in t} 1{e in t'} / n_e and, per period, the sums of v - mean_e(v) for y and each regressor."""

    periods: tuple
    counts: np.ndarray
    gram: np.ndarray
    rhs: np.ndarray

    def __add__(self, other: PeriodSums) -> PeriodSums:
        periods = tuple(sorted(set(self.periods) | set(other.periods)))
        index = {p: i for i, p in enumerate(periods)}
        counts, gram = np.zeros(len(periods)), np.zeros((len(periods), len(periods)))
        rhs = np.zeros((len(periods), self.rhs.shape[1]))
        for part in (self, other):
            at = np.array([index[p] for p in part.periods], dtype=int)
            counts[at] += part.counts
            gram[np.ix_(at, at)] += part.gram
            rhs[at] += part.rhs
        return PeriodSums(periods, counts, gram, rhs)

    def solve(self) -> np.ndarray:
        """The period effects (T x columns), the first period the reference, as the within engine has it."""
        if (self.counts < 2).any():
            raise EstimationError("a period with a single row over all parts: fit the panel as one table")
        system = self.gram + np.diag(self.counts)
        tau = np.zeros_like(self.rhs)
        tau[1:] = linalg.lstsq(system[1:, 1:], self.rhs[1:])[0]
        return tau


@dataclass(frozen=True)
class ClusterSums:
    """Per cluster the sums A_g = sum x~ y~ (G x k) and B_g = sum x~ x~' (G x k x k) of the demeaned rows, and
    the counts the small-sample factors need; ``entities`` are the entities' hashes (parts must not share one)."""

    clusters: tuple
    a: np.ndarray
    b: np.ndarray
    n_obs: int
    entities: np.ndarray
    entity_cluster_pairs: int

    def __add__(self, other: ClusterSums) -> ClusterSums:
        if np.intersect1d(self.entities, other.entities).size:
            raise EstimationError("an entity lies in more than one part: every entity's rows must be in one part")
        clusters = tuple(sorted(set(self.clusters) | set(other.clusters)))
        index = {c: i for i, c in enumerate(clusters)}
        a, b = np.zeros((len(clusters), self.a.shape[1])), np.zeros((len(clusters), *self.b.shape[1:]))
        for part in (self, other):
            at = np.array([index[c] for c in part.clusters], dtype=int)
            np.add.at(a, at, part.a)
            np.add.at(b, at, part.b)
        return ClusterSums(
            clusters,
            a,
            b,
            self.n_obs + other.n_obs,
            np.concatenate([self.entities, other.entities]),
            self.entity_cluster_pairs + other.entity_cluster_pairs,
        )

    def fit(self, names: Sequence[str], cluster: str, n_times: int) -> TwfeFit:
        """The coefficients and the CR1 covariance with fixest's small-sample factors."""
        k = len(names)
        xtx, xty = self.b.sum(axis=0), self.a.sum(axis=0)
        if np.linalg.matrix_rank(xtx) < k:
            raise EstimationError(f"{', '.join(names)} collinear with the fixed effects after demeaning")
        bread = np.linalg.inv(xtx)
        params = bread @ xty
        scores = self.a - self.b @ params
        n, n_entities, n_clusters = self.n_obs, len(self.entities), len(self.clusters)
        n_params = k + n_times + (0 if self.entity_cluster_pairs == n_entities else n_entities - 1)
        factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - n_params)
        vcov = factor * bread @ (scores.T @ scores) @ bread
        inference = f"CR1 clustered by {cluster}, t(G-1)"
        return TwfeFit(params, vcov, tuple(names), n_clusters - 1, n, n_entities, n_clusters, ENGINE, inference)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    """The single row of an aggregate query."""
    row = con.execute(sql).fetchone()
    assert row is not None  # an aggregate without GROUP BY always gives one row
    return row


@dataclass(frozen=True)
class TwfeModel:
    """``outcome`` on ``regressors`` with ``entity`` and ``time`` effects, CR1-clustered by ``cluster`` (the
    entity when None): the model every pass over a panel (or a part of one) fits."""

    outcome: str
    entity: str
    time: str
    regressors: tuple[str, ...]
    cluster: str | None = None


def fit_twfe_sql(
    con: duckdb.DuckDBPyConnection,
    table: str,
    outcome: str,
    entity: str,
    time: str,
    regressors: Sequence[str],
    cluster: str | None = None,
) -> TwfeFit:
    """CR1-clustered TWFE of ``outcome`` on ``regressors`` with ``entity`` and ``time`` effects, computed in
    ``con`` on the rows of ``table`` (a table or view name). Only T x T and G x k x k results leave the
    database. Temporary tables ``_twfe_*`` are made and dropped in ``con``."""
    model = TwfeModel(outcome, entity, time, tuple(regressors), cluster)
    with _rows(con, table, model, periods=True):
        sums = period_sums(con)
        tau = sums.solve()
        return cluster_sums(con, sums.periods, tau).fit(regressors, cluster or entity, len(sums.periods))


def part_period_sums(con: duckdb.DuckDBPyConnection, table: str, model: TwfeModel) -> PeriodSums:
    """First pass over one part of a panel (every entity's rows in one part): its share of the period system."""
    with _rows(con, table, model, periods=False):
        return period_sums(con)


def part_cluster_sums(
    con: duckdb.DuckDBPyConnection, table: str, model: TwfeModel, periods: Sequence, tau: np.ndarray
) -> ClusterSums:
    """Second pass over the same part, with the period effects solved from all parts' `PeriodSums`."""
    with _rows(con, table, model, periods=False):
        _entity_means(con, _columns(con))
        return cluster_sums(con, tuple(periods), tau)


@contextmanager
def _rows(con: duckdb.DuckDBPyConnection, table: str, model: TwfeModel, periods: bool) -> Iterator[None]:
    """The model's complete, non-singleton rows as ``_twfe_rows`` while the block runs; the temporary tables
    dropped after it. A part drops its single-row entities only (``periods`` False): a period's rows span parts."""
    try:
        load_rows(con, table, model)
        _drop_singletons(con, periods)
        yield
    finally:
        drop_temporary(con)


def drop_temporary(con: duckdb.DuckDBPyConnection) -> None:
    for name in _TEMPORARY:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def load_rows(con: duckdb.DuckDBPyConnection, table: str, model: TwfeModel) -> None:
    """The complete cases of the used columns as ``_twfe_rows(e, t, g, y, x0, x1, ...)``."""
    entity, cluster = model.entity, model.cluster or model.entity
    if not model.regressors:
        raise EstimationError("no regressors")
    xs = [f"x{j}" for j in range(len(model.regressors))]
    select = ", ".join(
        [f"{_ident(entity)} AS e", f"{_ident(model.time)} AS t", f"{_ident(cluster)} AS g"]
        + [f"{_ident(model.outcome)}::DOUBLE AS y"]
        + [f"{_ident(r)}::DOUBLE AS {x}" for r, x in zip(model.regressors, xs, strict=True)]
    )
    used = [entity, model.time, cluster, model.outcome, *model.regressors]
    complete = " AND ".join(f"{_ident(c)} IS NOT NULL" for c in dict.fromkeys(used))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _twfe_rows AS SELECT {select} FROM {table} WHERE {complete}")


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """y and the regressors of ``_twfe_rows``."""
    names = [row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE _twfe_rows)").fetchall()]
    return [c for c in names if c not in ("e", "t", "g")]


def _drop_singletons(con: duckdb.DuckDBPyConnection, periods: bool) -> None:
    """Entities (and, with ``periods``, periods) with a single row, dropped until none is left (both sets from
    the same rows in each round, as the within engine does)."""
    period_rule = "OR t IN (SELECT t FROM _twfe_rows GROUP BY t HAVING count(*) = 1)" if periods else ""
    while True:
        (before,) = _one(con, "SELECT count(*) FROM _twfe_rows")
        con.execute(f"""
            DELETE FROM _twfe_rows
            WHERE e IN (SELECT e FROM _twfe_rows GROUP BY e HAVING count(*) = 1) {period_rule}""")
        (after,) = _one(con, "SELECT count(*) FROM _twfe_rows")
        if after == 0:
            raise EstimationError("no complete, non-singleton observations left")
        if after == before:
            return


def _entity_means(con: duckdb.DuckDBPyConnection, columns: list[str]) -> None:
    means = ", ".join(f"avg({c}) AS m_{c}" for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _twfe_entities AS SELECT e, count(*) AS n_e, {means} FROM _twfe_rows GROUP BY e"
    )


def period_sums(con: duckdb.DuckDBPyConnection) -> PeriodSums:
    """The rows' share of the period system (and ``_twfe_entities``, the entities' means, for `cluster_sums`)."""
    columns = _columns(con)
    _entity_means(con, columns)
    periods = [row[0] for row in con.execute("SELECT DISTINCT t FROM _twfe_rows ORDER BY t").fetchall()]
    index = {p: i for i, p in enumerate(periods)}
    n_t = len(periods)
    gram = _within_entity_pairs(con, periods, index) if n_t > MASK_BITS else _within_entity_patterns(con, periods)
    counts = dict(con.execute("SELECT t, count(*) FROM _twfe_rows GROUP BY t").fetchall())
    sums = ", ".join(f"sum(r.{c} - m.m_{c})" for c in columns)
    rhs_rows = con.execute(
        f"SELECT r.t, {sums} FROM _twfe_rows r JOIN _twfe_entities m USING (e) GROUP BY r.t"
    ).fetchall()
    rhs = np.zeros((n_t, len(columns)))
    for row in rhs_rows:
        rhs[index[row[0]]] = row[1:]
    return PeriodSums(tuple(periods), np.array([counts[p] for p in periods], dtype=float), gram, rhs)


def estimate_did_sql(
    con: duckdb.DuckDBPyConnection,
    table: str,
    outcome: str,
    entity: str,
    time: str,
    treated: str,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
) -> Estimate:
    """The published TWFE DiD (CR1, t(G-1)) of ``treated`` as :func:`fit_twfe_sql` computes it where the rows
    are. Out of core there is no wild bootstrap or randomisation inference (they redraw every row): with fewer
    than 30 clusters the estimate carries the flag ``few_clusters_no_wild``."""
    return estimate_from_fit(fit_twfe_sql(con, table, outcome, entity, time, [treated, *covariates], cluster), treated)


def estimate_from_fit(fit: TwfeFit, treated: str) -> Estimate:
    """The estimate of ``treated`` with t(G-1) inference, flagged ``few_clusters_no_wild`` below 30 clusters."""
    estimate, se = fit.coef(treated)
    ci_low, ci_high, p_value = t_inference(estimate, se, fit.df)
    flags = ("few_clusters_no_wild",) if fit.n_clusters < WILD_MAX_CLUSTERS else ()
    method = f"TWFE DiD, {fit.engine}, {fit.inference}"
    return Estimate(
        estimate, se, ci_low, ci_high, p_value, None, fit.n_obs, fit.n_entities, fit.n_clusters, fit.df, method,
        flags=flags,
    )  # fmt: skip


def _within_entity_patterns(con: duckdb.DuckDBPyConnection, periods: list) -> np.ndarray:
    """-sum over entities of 1{e in t} 1{e in t'} / n_e, from the entities grouped by the set of periods they
    are observed in (a bit mask): as many groups as distinct patterns (a few thousand for spells of absence),
    where the self-join makes n_e rows per row."""
    gram = np.zeros((len(periods), len(periods)))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _twfe_index AS SELECT unnest($1) AS t, unnest(range(len($1))) AS i",
        [periods],
    )
    rows = con.execute("""
        SELECT mask, sum(1.0 / n_e) FROM (
            SELECT e, bit_or((1::UBIGINT) << i::UBIGINT) AS mask, count(*) AS n_e
            FROM _twfe_rows JOIN _twfe_index USING (t) GROUP BY e)
        GROUP BY mask""").fetchall()
    bits = np.arange(len(periods), dtype=np.uint64)
    for mask, weight in rows:
        at = np.flatnonzero((np.uint64(mask) >> bits) & np.uint64(1))
        gram[np.ix_(at, at)] -= weight
    return gram


def _within_entity_pairs(con: duckdb.DuckDBPyConnection, periods: list, index: dict) -> np.ndarray:
    """The same sum from a self-join within entities (for more periods than a mask holds)."""
    gram = np.zeros((len(periods), len(periods)))
    pairs = con.execute("""
        SELECT a.t, b.t, sum(1.0 / m.n_e)
        FROM _twfe_rows a JOIN _twfe_rows b USING (e) JOIN _twfe_entities m USING (e)
        GROUP BY ALL""").fetchall()
    for a, b, value in pairs:
        gram[index[a], index[b]] -= value
    return gram


def _store_tau(con: duckdb.DuckDBPyConnection, periods: list, tau: np.ndarray, columns: list[str]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _twfe_tau AS SELECT * FROM (SELECT unnest($1) AS t, "
        + ", ".join(f"unnest(${j + 2}) AS tau_{c}" for j, c in enumerate(columns))
        + ")",
        [periods, *(tau[:, j].tolist() for j in range(len(columns)))],
    )


def cluster_sums(con: duckdb.DuckDBPyConnection, periods: tuple, tau: np.ndarray) -> ClusterSums:
    """Per cluster the sums of x~ y~ and x~ x~' of the rows, demeaned with the period effects ``tau`` (rows of
    ``periods``; periods of other parts are ignored)."""
    columns = _columns(con)
    xs = columns[1:]
    _store_tau(con, list(periods), tau, columns)
    taus = ", ".join(f"avg(tau_{c}) AS mt_{c}" for c in columns)
    tilde = ", ".join(f"r.{c} - m.m_{c} - (u.tau_{c} - w.mt_{c}) AS {c}" for c in columns)
    products = [f"sum({a} * y)" for a in xs] + [f"sum({a} * {b})" for a in xs for b in xs]
    per_cluster = con.execute(f"""
        WITH tau_means AS (SELECT r.e, {taus} FROM _twfe_rows r JOIN _twfe_tau u USING (t) GROUP BY r.e),
             tilde AS (
                SELECT r.g, {tilde}
                FROM _twfe_rows r JOIN _twfe_entities m USING (e) JOIN _twfe_tau u USING (t)
                JOIN tau_means w USING (e))
        SELECT g, {", ".join(products)} FROM tilde GROUP BY g ORDER BY g""").fetchnumpy()
    values = np.column_stack([per_cluster[c] for c in list(per_cluster)[1:]])
    k = len(xs)
    n, pairs = _one(con, "SELECT count(*), count(DISTINCT (e, g)) FROM _twfe_rows")
    entities = con.execute("SELECT DISTINCT hash(e) AS h FROM _twfe_rows ORDER BY h").fetchnumpy()["h"]
    return ClusterSums(
        tuple(per_cluster["g"].tolist()), values[:, :k], values[:, k:].reshape(-1, k, k), n, entities, pairs
    )
