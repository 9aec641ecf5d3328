"""The data-protection audit (issue 17), finding by finding, on hostile drops built in `hostile.py`; and the
corpus: every hostile drop through `pilot validate`, every byte of its output searched for what was planted."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from drops import assert_balanced, make_drop, validate
from hostile import BSN, HOSTILE, frames_text
from typer.testing import CliRunner

from cli.pilot import app
from measures.contract.read import DropError
from measures.evaluation.effects import baseline_balance

runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_drop(tmp_path_factory.mktemp("hostile-base") / "drop")


def hostile(name: str, base: Path, tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(base, tmp_path / name / "drop"))
    return HOSTILE[name].build(folder)


def _stored_text(result) -> str:
    """Everything validation would hand on to storage: loaded rows, quarantine, warnings and the summary."""
    frames = {n: t.loaded for n, t in result.tables.items()}
    return (
        frames_text(frames)
        + result.quarantine().to_csv()
        + result.warnings().to_csv()
        + json.dumps({n: s.as_json() for n, s in result.summary().items()})
    )


ID_FINDINGS = {
    "id-bsn-float": "bsn_like",
    "id-bsn-dots": "bsn_like",
    "id-bsn-spaces": "bsn_like",
    "id-bsn-dashes": "bsn_like",
    "id-bsn-zero-width": "bsn_like",
    "id-bsn-full-width": "bsn_like",
    "id-bsn-nl-prefix": "bsn_like",
    "id-email": "email_like",
    "id-name": "name_like",
    "id-name-joined": "name_like",
    "id-phone": "phone_like",
}


@pytest.mark.parametrize(("name", "reason"), ID_FINDINGS.items())
def test_an_identifier_as_id_in_any_disguise_is_quarantined_everywhere(name, reason, base, tmp_path):
    result = validate(hostile(name, base, tmp_path))
    for table in ("cases", "admin", "survey"):
        q = result.tables[table].quarantine
        assert len(q) > 0 and set(q["reason"]) <= {reason, "parent_quarantined"}, (table, q)
    assert result.tables["cases"].quarantine["reason"].tolist() == [reason]
    text = _stored_text(result)
    assert not [s for s in HOSTILE[name].planted if s in text]
    assert_balanced(result)


TEXT_FINDINGS = [n for n in HOSTILE if n.startswith("text-") and n != "text-long-word"]


@pytest.mark.parametrize("name", TEXT_FINDINGS)
def test_personal_details_in_free_text_are_scrubbed(name, base, tmp_path):
    result = validate(hostile(name, base, tmp_path))
    approach = result.tables["employers"].loaded["approach"].iloc[0]
    assert "[verwijderd]" in approach
    assert not [s for s in HOSTILE[name].planted if s in _stored_text(result)]
    warnings = result.warnings()
    assert warnings[["row", "column", "reason"]].values.tolist() == [[2, "approach", "identifier_removed"]]


def test_a_250_kB_word_is_emptied_in_a_moment(base, tmp_path):
    drop = hostile("text-long-word", base, tmp_path)
    start = time.perf_counter()
    result = validate(drop)
    assert time.perf_counter() - start < 10
    assert result.tables["employers"].loaded["approach"].iloc[0] == ""
    assert result.warnings()["reason"].tolist() == ["too_long"]


def test_a_header_that_is_an_identifier_is_reported_by_position(base, tmp_path):
    result = validate(hostile("header-identifier", base, tmp_path))
    assert result.tables["cases"].dropped_columns == ["column 7"]  # after the six contract columns (1.1)
    assert "Vries" not in _stored_text(result) and BSN not in _stored_text(result)


def test_a_latin1_file_with_a_malformed_row_is_read_and_quotes_nothing(base, tmp_path):
    result = validate(hostile("latin1-malformed-row", base, tmp_path))
    q = result.tables["cases"].quarantine
    assert q[["row", "column", "reason"]].values.tolist() == [[4, "*", "too_many_fields"]]
    assert "Vri" not in _stored_text(result) and BSN not in _stored_text(result)


def test_a_doubled_header_is_one_clear_error_naming_the_column(base, tmp_path):
    with pytest.raises(DropError, match=r"^admin\.csv: column 'ao_pct' appears 2 times \(columns 5 and 7\)$"):
        validate(hostile("header-doubled", base, tmp_path))


def test_trailing_empty_columns_are_ignored(base, tmp_path):
    result = validate(hostile("trailing-commas", base, tmp_path))
    assert result.tables["admin"].dropped_columns == [] and len(result.quarantine()) == 0


def test_xlsx_cells_right_of_the_header_are_dropped_by_position(base, tmp_path):
    result = validate(hostile("xlsx-right-of-header", base, tmp_path))
    assert result.tables["employers"].dropped_columns == ["column 8", "column 9"]
    assert len(result.quarantine()) == 0 and "Vries" not in _stored_text(result)


def test_header_only_files_load_no_rows(base, tmp_path):
    survey = validate(hostile("header-only-survey", base, tmp_path / "s"))
    assert (survey.summary()["survey"].rows_in, survey.summary()["survey"].loaded) == (0, 0)
    employers = validate(hostile("header-only-employers", base, tmp_path / "e"))
    assert employers.summary()["employers"].loaded == 0
    assert set(employers.tables["cases"].quarantine["reason"]) == {"unknown_employer"}
    assert_balanced(employers)


@pytest.mark.parametrize(
    ("name", "table", "reason"),
    [
        ("month-2300", "admin", "implausible_month"),
        ("month-1900", "admin", "implausible_month"),
        ("date-2099", "cases", "implausible_date"),
        ("date-partial-garbage", "cases", "bad_date"),
    ],
)
def test_dates_outside_the_window_or_with_garbage_are_quarantined(name, table, reason, base, tmp_path):
    result = validate(hostile(name, base, tmp_path))
    assert result.tables[table].quarantine["reason"].tolist() == [reason]
    loaded = result.tables[table].loaded
    dates = loaded["month" if table == "admin" else "inclusion_date"]
    assert dates.min() >= pd.Timestamp("1990-01-01") and dates.max() <= pd.Timestamp("2030-01-01")


def test_a_parquet_row_bomb_is_refused_in_seconds(base, tmp_path):
    drop = hostile("parquet-row-bomb", base, tmp_path)
    assert (drop / "admin.parquet").stat().st_size < 200_000
    start = time.perf_counter()
    with pytest.raises(DropError, match=r"^admin\.parquet: 5,000,000 rows packed into"):
        validate(drop)
    assert time.perf_counter() - start < 5


def test_a_table_that_links_out_of_the_drop_is_refused(base, tmp_path):
    with pytest.raises(DropError, match=r"^cases\.csv: a link to a file outside the drop"):
        validate(hostile("symlink-out-of-drop", base, tmp_path))


def test_an_unknown_file_with_a_personal_or_steering_name_is_not_named(base, tmp_path):
    with pytest.raises(DropError) as info:
        validate(hostile("file-name-escape", base, tmp_path))
    assert "\x1b" not in str(info.value) and "Vries" not in str(info.value)
    assert "name withheld" in str(info.value)


def test_size_classes_in_the_dictionarys_words_load_every_row(base, tmp_path):
    result = validate(hostile("size-class-dictionary-words", base, tmp_path))
    assert len(result.quarantine()) == 0
    assert result.tables["employers"].loaded["size_class"].tolist() == ["medium", "large", "small", "medium"]
    assert set(result.warnings()["reason"]) == {"spelling_mapped"}


def test_balance_counts_of_a_suppressed_row_are_suppressed_too():
    rng = np.random.default_rng(3)
    baseline = pd.DataFrame(
        {
            "treated_group": [1] * 30 + [0] * 30,
            "age_band": rng.normal(size=60),
            "rare": [np.nan] * 26 + list(rng.normal(size=4)) + list(rng.normal(size=30)),  # 4 in one group
        }
    )
    table = baseline_balance(baseline, ["age_band", "rare", "absent"], min_n=10).set_index("variable")
    assert table.loc["rare", "suppressed"] == 1
    assert table.loc["rare"].drop("suppressed").isna().all()  # means, SDs, std_diff and both counts
    assert table.loc["age_band", "n_intervention"] == 30 and table.loc["age_band", "suppressed"] == 0
    assert list(baseline_balance(baseline.iloc[:0], ["age_band"]).columns) == list(table.reset_index().columns)


def test_a_minimum_cell_below_ten_is_refused_when_parsed(tmp_path):
    done = runner.invoke(
        app, ["run", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "o"), "--min-cell", "0"]
    )
    assert done.exit_code == 2 and "min-cell" in done.output
    assert not (tmp_path / "o").exists()


# The corpus: every hostile drop through `pilot validate` (table and JSON), searched for every planted string.


@pytest.mark.parametrize("name", list(HOSTILE))
def test_corpus_nothing_planted_reaches_the_output_of_pilot_validate(name, base, tmp_path):
    spec = HOSTILE[name]
    drop = hostile(name, base, tmp_path)
    outputs = []
    for extra in ([], ["--json"]):
        done = runner.invoke(app, ["validate", str(drop), *extra])
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        assert done.exit_code == (1 if spec.expect == "refused" else 0), done.output
        assert "Traceback" not in done.output
        outputs.append(done.output)
    text = "\n".join(outputs)
    assert not [s for s in spec.planted if s in text], name
    assert "\x1b" not in text and "\x9b" not in text
    if spec.expect == "refused":
        assert len(outputs[0].strip().splitlines()) == 1 and outputs[0].startswith("error: ")
