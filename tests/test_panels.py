"""The analysis panels around a return to work (contract 1.1): months after it count as AO% 0, rtw_12m only over
complete windows, and the time to return with its censoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.evaluation import panels
from measures.evaluation.simulate import SimulationSpec, simulate

EMPLOYERS = pd.DataFrame({"employer_id": ["WG01", "WG02"], "group": ["intervention", "comparison"]})


def case(employee: str, employer: str, start: str, end: str | None, reason: str | None) -> dict:
    return {
        "employee_id": employee,
        "employer_id": employer,
        "absence_start": pd.Timestamp(start),
        "inclusion_date": pd.Timestamp(start) + pd.Timedelta(days=120),
        "end_date": pd.Timestamp(end) if end else pd.NaT,
        "end_reason": reason,
    }


def months(employee: str, employer: str, first: str, last: str, ao: float = 80.0) -> list[dict]:
    return [
        {
            "employee_id": employee,
            "employer_id": employer,
            "month": m.to_timestamp(),
            "absence_days": 20,
            "ao_pct": ao,
            "loonwaarde_pct": 30.0,
        }
        for m in pd.period_range(first, last, freq="M")
    ]


@pytest.fixture
def delivery() -> tuple[pd.DataFrame, pd.DataFrame]:
    cases = pd.DataFrame(
        [
            case("back", "WG01", "2025-01-10", "2025-06-20", "return_to_work"),  # rows stop in June
            case("left", "WG01", "2025-01-10", "2025-04-15", "exit"),  # censored: nothing added
            case("unknown", "WG02", "2025-01-10", "2025-04-15", None),  # unknown reason: censored too
            case("stays", "WG02", "2025-01-10", None, None),  # absent until the data end (2025-12)
            case("late", "WG02", "2025-09-05", "2025-11-10", "return_to_work"),  # window ends after the data
        ]
    )
    admin = pd.DataFrame(
        months("back", "WG01", "2025-01", "2025-06")
        + months("back", "WG01", "2025-09", "2025-09", ao=10.0)  # a month the employer did deliver stays as is
        + months("left", "WG01", "2025-01", "2025-04")
        + months("unknown", "WG02", "2025-01", "2025-04")
        + months("stays", "WG02", "2025-01", "2025-12")
        + months("late", "WG02", "2025-09", "2025-11")
    )
    return cases, admin


def test_months_after_a_return_to_work_count_as_ao_0_until_the_data_end(delivery):
    cases, admin = delivery
    panel = panels.admin_panel(EMPLOYERS, cases, admin).set_index(["employee_id", "month"]).sort_index()
    back = panel.loc["back"]
    assert back.index.min() == pd.Timestamp("2025-01-01") and back.index.max() == pd.Timestamp("2025-12-01")
    added = back.loc[pd.Timestamp("2025-07-01") :].drop(pd.Timestamp("2025-09-01"))
    assert (added["ao_pct"] == 0).all() and (added["absence_days"] == 0).all()
    assert added["loonwaarde_pct"].isna().all()
    assert back.loc[pd.Timestamp("2025-09-01"), "ao_pct"] == 10.0  # delivered: kept
    assert (back["duration"].diff().dropna() == 1).all()  # months since the absence start, every month
    for censored in ("left", "unknown"):
        assert panel.loc[censored].index.max() == pd.Timestamp("2025-04-01")
    late = panel.loc["late"]
    assert late.index.max() == pd.Timestamp("2025-12-01") and late["ao_pct"].iloc[-1] == 0


def test_a_return_after_the_cut_off_is_not_known_yet(delivery):
    cases, admin = delivery
    cutoff = pd.Timestamp("2025-10-31")
    panel = panels.admin_panel(EMPLOYERS, cases, admin, cutoff)
    assert panel["month"].max() == pd.Timestamp("2025-10-01")
    assert set(panel.loc[panel["employee_id"] == "late", "ao_pct"]) == {80.0}  # returned on 2025-11-10
    assert (panel.loc[panel["employee_id"] == "back", "month"] <= cutoff).all()


def test_rtw_12m_only_over_employees_whose_window_has_passed(delivery):
    cases, admin = delivery
    rtw = panels.rtw_frame(EMPLOYERS, cases, admin).set_index("employee_id")
    # absences from 2025-01 have their 12 months (to 2025-12) in the data; 'late' (from 2025-09) has not
    assert set(rtw.index) == {"back", "left", "unknown", "stays"}
    assert rtw.loc["back", "rtw_12m"] == 1 and rtw["rtw_12m"].sum() == 1
    early = panels.rtw_frame(EMPLOYERS, cases, admin, pd.Timestamp("2025-11-30"))
    assert early.empty  # at that cut-off no 12-month window is complete


def test_a_return_at_the_end_of_the_window_counts_without_a_month_at_0(delivery):
    cases, admin = delivery
    cases = cases.assign(end_date=cases["end_date"].where(cases["employee_id"] != "back", pd.Timestamp("2025-12-15")))
    admin = admin.loc[~((admin["employee_id"] == "back") & (admin["month"] > pd.Timestamp("2025-06-01")))]
    rtw = panels.rtw_frame(EMPLOYERS, cases, admin).set_index("employee_id")
    assert rtw.loc["back", "rtw_12m"] == 1  # returned in month 12 of the absence, rows stopped in June


def test_survival_counts_returns_as_events_and_censors_the_rest(delivery):
    cases, admin = delivery
    frame = panels.survival_frame(EMPLOYERS, cases, admin).set_index("employee_id")
    assert frame.loc["back", "event"] == 1 and frame.loc["late", "event"] == 1
    assert frame.loc[["left", "unknown", "stays"], "event"].tolist() == [0, 0, 0]
    assert frame.loc["back", "duration"] == pytest.approx(
        (pd.Timestamp("2025-06-20") - pd.Timestamp("2025-01-10")).days / 30.4375
    )
    # still absent: followed to the end of the last month delivered
    assert frame.loc["stays", "duration"] == pytest.approx(
        (pd.Timestamp("2025-12-31") - pd.Timestamp("2025-01-10")).days / 30.4375
    )
    cut = panels.survival_frame(EMPLOYERS, cases, admin, pd.Timestamp("2025-10-31")).set_index("employee_id")
    assert cut.loc["late", "event"] == 0  # the return came after the cut-off


def test_a_drop_without_end_reason_adds_no_months(delivery):
    cases, admin = delivery
    panel = panels.admin_panel(EMPLOYERS, cases.drop(columns="end_reason"), admin)
    assert len(panel) == len(admin)


def test_the_simulator_ends_cases_with_a_reason_and_stops_rows_at_a_return():
    tables, truth = simulate(SimulationSpec(seed=4, employers=4, employees_per_employer=20, survey_indicators=0))
    cases, admin = tables["cases"], tables["admin"]
    assert set(cases["end_reason"].dropna()) == {"return_to_work", "exit"}
    assert cases["end_reason"].isna().equals(cases["end_date"].isna())
    last = admin.groupby("employee_id")["month"].max()
    returned = cases.loc[cases["end_reason"] == "return_to_work"].set_index("employee_id")
    assert (returned["end_date"].dt.strftime("%Y-%m") == last[returned.index]).all()  # the end is the last month
    ao_last = admin.sort_values("month").groupby("employee_id")["ao_pct"].last()
    assert (ao_last[returned.index] == 0).all()
    built = panels.build_panels(tables)
    assert len(built.admin) > len(admin) and not np.isnan(truth["att"]["ao_pct"])
