"""Row rules: every bad value is quarantined with table, file, row, column and reason, never the value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from drops import (
    assert_balanced,
    cell,
    copy_row,
    find_row,
    insert_line,
    make_drop,
    quarantine_text,
    read_rows,
    replace_value,
    set_cell,
    validate,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_drop(tmp_path_factory.mktemp("base") / "drop")


@pytest.fixture
def drop(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "drop"))


def test_the_base_drop_is_clean(base):
    result = validate(base)
    assert len(result.quarantine()) == 0
    assert_balanced(result)
    assert all(s.rows_in > 0 for s in result.summary().values())


RULES = [
    ("admin", "ao_pct", 5, "130", "out_of_range"),
    ("admin", "absence_days", 6, "40", "out_of_range"),
    ("admin", "ao_pct", 7, "veertig", "not_a_number"),
    ("admin", "ao_pct", 8, "", "missing_value"),
    ("admin", "month", 9, "2026-13", "bad_month"),
    ("activities", "start_date", 3, "2026-02-30", "bad_date"),
    ("activities", "activity_id", 2, "yoga_op_vrijdag", "unknown_activity"),
    ("employers", "group", 3, "x", "not_allowed"),
    ("cases", "inclusion_date", 3, "2020-01-01", "date_order"),
    ("cases", "absence_start", 4, "", "missing_value"),
    ("cases", "employer_id", 3, "WG99", "unknown_employer"),
    ("activities", "employer_id", 2, "WG98", "unknown_employer"),
    ("admin", "employee_id", 4, "E999999", "unknown_employee"),
    ("survey", "employee_id", 4, "E999998", "unknown_employee"),
    ("survey", "indicator_id", 5, "geluksgevoel", "unknown_indicator"),
    ("survey", "respondent", 5, "employer", "wrong_respondent"),
    ("survey", "wave", 5, "t9", "not_allowed"),
    ("survey", "value", 6, "6", "out_of_range"),
    ("survey", "value", 6, "3.5", "not_whole"),
]


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "reason"), RULES, ids=[f"{r[0]}.{r[1]}={r[3]!r}" for r in RULES]
)
def test_a_bad_value_is_quarantined_with_its_position_and_reason(drop, table, column, row, value, reason):
    assert cell(drop, table, row, column) != value
    set_cell(drop, table, row, column, value)
    result = validate(drop)
    q = result.tables[table].quarantine
    assert len(q) == 1, q.to_string()
    assert str(q["row"].dtype) == "int64" and str(result.quarantine()["row"].dtype) == "int64"
    record = q.iloc[0].to_dict()
    assert record == record | {
        "table": table,
        "source_file": f"{table}.csv",
        "row": row,
        "column": column,
        "reason": reason,
    }
    assert record["detail"]
    if value:
        assert value not in quarantine_text(result)  # reasons name the rule, never the value
    assert_balanced(result)
    assert result.summary()[table].reasons == {reason: 1}


def test_a_quarantined_case_takes_its_admin_and_survey_rows_along(drop):
    employee = cell(drop, "cases", 3, "employee_id")
    set_cell(drop, "cases", 3, "absence_start", "31-02-2025")
    result = validate(drop)
    assert result.tables["cases"].quarantine["reason"].tolist() == ["bad_date"]
    admin_rows = sum(1 for r in read_rows(drop, "admin")[1:] if r[0] == employee)
    assert admin_rows > 0
    assert result.summary()["admin"].reasons == {"parent_quarantined": admin_rows}
    details = set(result.tables["admin"].quarantine["detail"])
    assert details == {"its row in cases was quarantined; root cause: cases.csv row 3, column absence_start (bad_date)"}
    assert employee not in set(result.tables["admin"].loaded["employee_id"])
    assert_balanced(result)


def test_a_cascade_names_its_root_cause_two_levels_down(drop):
    employer = cell(drop, "employers", 3, "employer_id")
    set_cell(drop, "employers", 3, "group", "beide")
    result = validate(drop)
    root = "employers.csv row 3, column group (not_allowed)"
    for table in ("cases", "admin", "survey"):
        q = result.tables[table].quarantine
        assert len(q) > 0 and set(q["reason"]) == {"parent_quarantined"}, table
        assert all(d.endswith("root cause: " + root) for d in q["detail"]), table
    assert employer not in set(result.tables["admin"].loaded["employer_id"])
    assert_balanced(result)


def test_a_bad_descriptive_value_empties_the_cell_and_keeps_the_row(drop):
    set_cell(drop, "employers", 2, "size_class", "reuzegroot")
    set_cell(drop, "employers", 4, "size_class", "")
    set_cell(drop, "employers", 3, "approach", "x" * 250_000)  # one 250 kB word (last: csv.reader would balk)
    result = validate(drop)
    assert len(result.quarantine()) == 0
    employers = result.tables["employers"].loaded
    assert employers["size_class"].iloc[0] == "" and employers["approach"].iloc[1] == ""
    warnings = result.warnings()
    assert warnings[["row", "column", "reason"]].values.tolist() == [
        [2, "size_class", "not_allowed"],
        [3, "approach", "too_long"],
        [4, "size_class", "missing_value"],
    ]
    assert all("cell emptied, row kept" in d for d in warnings["detail"])
    assert "reuzegroot" not in warnings.to_csv()
    assert result.summary()["employers"].warning_reasons == {"missing_value": 1, "not_allowed": 1, "too_long": 1}


def test_the_dictionarys_own_wording_of_an_enum_is_mapped_and_reported(drop):
    for row, spelling in ((2, "50-249"), (3, "50 – 249"), (4, "250+"), (5, "<50")):
        set_cell(drop, "employers", row, "size_class", spelling)
    set_cell(drop, "employers", 2, "group", "Interventie")
    result = validate(drop)
    assert len(result.quarantine()) == 0
    employers = result.tables["employers"].loaded
    assert employers["size_class"].tolist() == ["medium", "medium", "large", "small"]
    warnings = result.warnings()
    assert set(warnings["reason"]) == {"spelling_mapped"}
    assert set(warnings["detail"]) == {
        "'interventie' read as 'intervention' in 1 row",
        "'50-249' read as 'medium' in 2 rows",
        "'250+' read as 'large' in 1 row",
        "'<50' read as 'small' in 1 row",
    }


def test_employer_mismatch(drop):
    employers = [r[0] for r in read_rows(drop, "employers")[1:]]
    other = next(e for e in employers if e != cell(drop, "admin", 5, "employer_id"))
    set_cell(drop, "admin", 5, "employer_id", other)
    record = validate(drop).tables["admin"].quarantine.iloc[0]
    assert (record["row"], record["column"], record["reason"]) == (5, "employer_id", "employer_mismatch")


def test_a_duplicate_key_loads_the_first_occurrence_and_quarantines_later_copies(drop):
    first = find_row(drop, "survey", wave="t1")
    copies = [copy_row(drop, "survey", first), copy_row(drop, "survey", first)]
    result = validate(drop)
    q = result.tables["survey"].quarantine
    assert q["row"].tolist() == copies
    assert set(q["reason"]) == {"duplicate"}
    assert all(f"row {first}" in d for d in q["detail"])
    key = dict(zip(read_rows(drop, "survey")[0], read_rows(drop, "survey")[first - 1], strict=True))
    loaded = result.tables["survey"].loaded
    same = loaded[
        (loaded["employee_id"] == key["employee_id"])
        & (loaded["wave"] == key["wave"])
        & (loaded["indicator_id"] == key["indicator_id"])
    ]
    assert len(same) == 1
    assert_balanced(result)


def test_a_duplicate_case_is_quarantined_once(drop):
    copy = copy_row(drop, "cases", 2)
    q = validate(drop).tables["cases"].quarantine
    assert (q["row"].tolist(), q["reason"].tolist()) == ([copy], ["duplicate"])


def test_a_line_with_too_many_fields_is_quarantined(drop):
    line = ",".join(read_rows(drop, "admin")[3]) + ",999,extra"
    insert_line(drop, "admin", 4, line)
    result = validate(drop)
    q = result.tables["admin"].quarantine
    assert q[["row", "column", "reason"]].values.tolist() == [[4, "*", "too_many_fields"]]
    assert "extra" not in quarantine_text(result)
    assert_balanced(result)


def test_a_bsn_as_identifier_quarantines_every_row_with_it_and_the_run_goes_on(drop):
    employee = cell(drop, "cases", 2, "employee_id")
    counts = {t: replace_value(drop, t, "employee_id", employee, "111222333") for t in ("cases", "admin", "survey")}
    result = validate(drop)
    for table, n in counts.items():
        assert n > 0
        q = result.tables[table].quarantine
        assert len(q) == n and set(q["reason"]) == {"bsn_like"} and set(q["column"]) == {"employee_id"}
        assert "111222333" not in set(result.tables[table].loaded["employee_id"])
    assert "111222333" not in quarantine_text(result)
    assert len(result.tables["admin"].loaded) > 0
    assert_balanced(result)


def test_nine_digits_that_fail_the_eleven_proof_are_an_ordinary_pseudonym(drop):
    employee = cell(drop, "cases", 2, "employee_id")
    for table in ("cases", "admin", "survey"):
        replace_value(drop, table, "employee_id", employee, "123456789")
    result = validate(drop)
    assert len(result.quarantine()) == 0
    assert "123456789" in set(result.tables["cases"].loaded["employee_id"])


def test_a_bsn_as_employer_code_is_quarantined(drop):
    set_cell(drop, "employers", 2, "employer_id", "123456782")
    q = validate(drop).tables["employers"].quarantine
    assert q[["row", "column", "reason"]].values.tolist() == [[2, "employer_id", "bsn_like"]]


def test_dutch_words_for_enums_are_accepted(drop):
    set_cell(drop, "employers", 2, "group", "Interventie")
    set_cell(drop, "employers", 3, "group", "vergelijking")
    set_cell(drop, "employers", 2, "size_class", "groot")
    row = find_row(drop, "survey", respondent="employee")
    set_cell(drop, "survey", row, "respondent", "Werknemer")
    result = validate(drop)
    assert len(result.quarantine()) == 0
    employers = result.tables["employers"].loaded
    assert employers["group"].tolist()[:2] == ["intervention", "comparison"]
    assert employers["size_class"].iloc[0] == "large"


def test_several_problems_in_one_table_each_get_a_row_and_the_counts_add_up(drop):
    set_cell(drop, "admin", 3, "ao_pct", "-5")
    set_cell(drop, "admin", 10, "month", "maart")
    insert_line(drop, "admin", 12, "")
    result = validate(drop)
    q = result.tables["admin"].quarantine
    assert q[["row", "reason"]].values.tolist() == [[3, "out_of_range"], [10, "bad_month"]]
    summary = result.summary()["admin"]
    assert summary.rows_in == len(read_rows(drop, "admin")) - 2  # minus header and the blank line
    assert_balanced(result)


def test_an_indicator_may_narrow_its_scale():
    """A 0-10 score on the open count scale: 11 is out of range for it, while an open count may be 11."""
    from measures.indicators.catalogue import indicators_by_id, survey_rules

    rules, catalogue = survey_rules(), indicators_by_id()
    assert catalogue["werkvermogen"].scale == catalogue["contacten_bedrijfsarts"].scale == "count"
    assert (rules["werkvermogen"].minimum, rules["werkvermogen"].maximum) == (0, 10)
    assert rules["contacten_bedrijfsarts"].maximum > 11
