"""The TWFE DiD as SQL on DuckDB gives the within engine's coefficients and CR1 covariance (to 1e-9)."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from test_did import simulate_panel

from measures.estimation.did import fit_twfe, prepare_panel
from measures.estimation.did_sql import TwfeModel, fit_twfe_sql, part_cluster_sums, part_period_sums
from measures.estimation.errors import EstimationError


def _both(data, regressors, cluster="employer"):
    panel = prepare_panel(data, "y", "employee", "period", regressors, cluster)
    memory = fit_twfe(panel, "cluster", "within")
    con = duckdb.connect()
    con.register("panel_rows", data)
    return memory, fit_twfe_sql(con, "panel_rows", "y", "employee", "period", regressors, cluster), con


@pytest.mark.parametrize("drop", [0.0, 0.3])
def test_sql_engine_equals_the_within_engine(drop):
    data = simulate_panel(seed=11, employers=12, employees=9, periods=8, drop=drop)
    data.loc[data.sample(frac=0.05, random_state=1).index, "y"] = np.nan  # missing outcomes: complete cases
    data["x2"] = np.random.default_rng(3).normal(size=len(data))
    memory, sql, con = _both(data, ["treated", "x2"])
    assert (sql.n_obs, sql.n_entities, sql.n_clusters, sql.df) == (
        memory.n_obs,
        memory.n_entities,
        memory.n_clusters,
        memory.df,
    )
    np.testing.assert_allclose(sql.params, memory.params, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sql.vcov, memory.vcov, rtol=1e-9, atol=1e-12)
    assert not [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall() if "_twfe" in t]


def test_sql_engine_drops_singletons_and_counts_unnested_entities_as_the_within_engine():
    data = simulate_panel(seed=5, employers=10, employees=6, periods=5, drop=0.45)  # many singletons
    memory, sql, _ = _both(data, ["treated"])
    assert sql.n_obs == memory.n_obs < len(data)
    np.testing.assert_allclose(sql.params, memory.params, atol=1e-9)
    np.testing.assert_allclose(sql.vcov, memory.vcov, rtol=1e-9)
    data["region"] = data["period"] % 3  # clusters that do not nest the employees: their effects count in k
    memory, sql, _ = _both(data, ["treated"], cluster="region")
    np.testing.assert_allclose(sql.vcov, memory.vcov, rtol=1e-9)


def test_period_patterns_and_the_self_join_give_the_same_fit(monkeypatch):
    """The entities grouped by their pattern of periods (a bit mask) give the self-join's T x T system."""
    from measures.estimation import did_sql

    data = simulate_panel(seed=8, employers=10, employees=7, periods=9, drop=0.35)
    _, by_pattern, _ = _both(data, ["treated"])
    monkeypatch.setattr(did_sql, "MASK_BITS", 0)  # every study's periods past the mask: the self-join
    _, by_join, _ = _both(data, ["treated"])
    np.testing.assert_allclose(by_pattern.params, by_join.params, rtol=0, atol=1e-12)
    np.testing.assert_allclose(by_pattern.vcov, by_join.vcov, rtol=1e-12, atol=1e-15)


def _parts(data, groups):
    """The panel cut into parts by employer, each in a connection of its own."""
    cons = []
    for employers in groups:
        con = duckdb.connect()
        con.register("part", data[data["employer"].isin(employers)])
        cons.append(con)
    return cons


MODEL = TwfeModel("y", "employee", "period", ("treated",), "employer")


def test_parts_by_employer_combine_to_the_whole_panel_exactly():
    data = simulate_panel(seed=4, employers=12, employees=8, periods=7, drop=0.2)
    con = duckdb.connect()
    con.register("rows", data)
    whole = fit_twfe_sql(con, "rows", "y", "employee", "period", ["treated"], "employer")
    cons = _parts(data, [range(0, 5), range(5, 6), range(6, 12)])
    sums = [part_period_sums(c, "part", MODEL) for c in cons]
    total = sums[0] + sums[1] + sums[2]
    tau = total.solve()
    clusters = [part_cluster_sums(c, "part", MODEL, total.periods, tau) for c in cons]
    fit = (clusters[0] + clusters[1] + clusters[2]).fit(["treated"], "employer", len(total.periods))
    np.testing.assert_allclose(fit.params, whole.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fit.vcov, whole.vcov, rtol=1e-10, atol=1e-14)
    assert (fit.n_obs, fit.n_entities, fit.n_clusters, fit.df) == (
        whole.n_obs,
        whole.n_entities,
        whole.n_clusters,
        whole.df,
    )


def test_parts_that_share_an_entity_are_refused():
    data = simulate_panel(seed=4, employers=6, employees=5, periods=6, drop=0.0)
    cons = _parts(data, [range(0, 4), range(3, 6)])  # employer 3 in both
    total = part_period_sums(cons[0], "part", MODEL) + part_period_sums(cons[1], "part", MODEL)
    tau = total.solve()
    first, second = (part_cluster_sums(c, "part", MODEL, total.periods, tau) for c in cons)
    with pytest.raises(EstimationError, match="more than one part"):
        first + second
