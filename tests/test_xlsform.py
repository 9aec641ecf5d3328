"""XLSForm questionnaires from the catalogue: pyxform converts each, and answers come back into the contract.

The round trip: a simulated drop's survey.csv is turned into what ODK Central exports for each form (one row
per submission, a column per question of the converted XForm, plus Central's own metadata columns), imported
with `pilot import xlsform`, and the drop with the imported survey.csv validates with the very same rows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from pyxform.xls2xform import convert

from measures.contract.tables import WAVES
from measures.indicators.catalogue import load_catalogue
from measures.indicators.xlsform import RESPONDENTS, survey_rows_from_export, write_xlsform, xlsform_sheets

PILOT = Path(sys.executable).with_name("pilot")
XF = {"xf": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}
#: What ODK Central adds to every export row: never questions, some of them about people.
CENTRAL_COLUMNS = ("SubmissionDate", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "DeviceID", "Status")
FORMS = [(w, r) for w in WAVES for r in RESPONDENTS]


def _pilot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PILOT), *args], capture_output=True, text=True)


def _xform(path: Path) -> etree._Element:
    result = convert(xlsform=str(path))
    assert result.warnings == []
    return etree.fromstring(result.xform.encode("utf-8"))


def _fields(xform: etree._Element) -> list[str]:
    """The XForm's data fields (its primary instance), meta excluded: what an export has a column for."""
    data = xform.find(".//xf:instance/*", XF)
    return [etree.QName(child).localname for child in data if etree.QName(child).localname != "meta"]


@pytest.mark.parametrize(("wave", "respondent"), FORMS)
def test_pyxform_converts_each_form_with_the_catalogue_questions(tmp_path, wave, respondent):
    out = tmp_path / "form.xlsx"
    proc = _pilot("export", "xlsform", "--wave", wave, "--respondent", respondent, "--lang", "nl", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    xform = _xform(out)
    expected = [i.id for i in load_catalogue() if i.respondent == respondent and wave in i.periods]
    assert len(expected) > 10
    assert _fields(xform) == ["employee_id", "employer_id", "wave", "respondent", *expected]
    binds = {b.get("nodeset").rsplit("/", 1)[-1]: b for b in xform.iterfind(".//xf:bind", XF)}
    assert binds["employee_id"].get("required") == "true()"
    assert "regex" in binds["employee_id"].get("constraint")  # a BSN-shaped pseudonym is refused
    assert binds["wave"].get("calculate") == f"'{wave}'"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_likert_scales_are_select_one_lists_and_nothing_identifies_a_person(lang):
    sheets = xlsform_sheets("t1", "employee", lang)
    rows = {r["name"]: r for r in sheets["survey"]}
    likert = [i for i in load_catalogue() if i.respondent == "employee" and i.scale == "likert5"]
    assert all(rows[i.id]["type"] == "select_one likert5" for i in likert)
    assert [c["name"] for c in sheets["choices"] if c["list_name"] == "likert5"] == ["1", "2", "3", "4", "5"]
    assert rows["werkvermogen"]["type"] == "integer" and rows["werkvermogen"]["constraint"] == ". >= 0 and . <= 10"
    assert rows["welbevinden"]["type"] == "decimal"
    # free text only for the two pseudonyms; no ODK metadata that records a person, device or contact
    assert [n for n, r in rows.items() if r["type"] == "text"] == ["employee_id", "employer_id"]
    types = {r["type"] for r in sheets["survey"]}
    assert not types & {"deviceid", "phonenumber", "username", "email", "subscriberid", "simserial", "audit"}
    assert not [n for n in rows if any(w in n for w in ("name", "naam", "bsn", "phone", "mail", "adres", "address"))]
    assert sheets["settings"][0]["form_id"] == f"ad_pilot_employee_t1_{lang}"


def test_bad_wave_or_respondent_is_one_line(tmp_path):
    proc = _pilot("export", "xlsform", "--wave", "t9", "--respondent", "employee", "--out", str(tmp_path / "f.xlsx"))
    assert proc.returncode == 1 and proc.stderr.strip() == "error: wave must be one of t0, t1, t2, not 't9'"


def _central_export(survey: pd.DataFrame, wave: str, respondent: str, fields: list[str]) -> pd.DataFrame:
    """What ODK Central's CSV export of one form holds for these answers."""
    mine = survey[(survey["wave"] == wave) & (survey["respondent"] == respondent)]
    wide = mine.pivot(
        index=["employee_id", "employer_id", "wave", "respondent"], columns="indicator_id", values="value"
    )
    wide = wide.reset_index().reindex(columns=fields).fillna("")
    meta = {c: [f"{c}-{i}" for i in range(len(wide))] for c in CENTRAL_COLUMNS}
    return pd.concat([pd.DataFrame(meta, index=wide.index), wide], axis=1)


def test_answers_round_trip_from_the_export_format_into_the_contract(tmp_path):
    drop = tmp_path / "drop"
    assert (
        _pilot(
            "simulate", "--out", str(drop), "--seed", "3", "--employers", "4", "--employees-per-employer", "12"
        ).returncode
        == 0
    )
    original = pd.read_csv(drop / "survey.csv", dtype=str, keep_default_na=False)
    exports = []
    for wave, respondent in FORMS:
        form = write_xlsform(tmp_path / f"{wave}-{respondent}.xlsx", wave, respondent, "nl")
        export = _central_export(original, wave, respondent, _fields(_xform(form)))
        exports.append(tmp_path / f"export-{wave}-{respondent}.csv")
        export.to_csv(exports[-1], index=False)
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(drop, rebuilt)
    (rebuilt / "survey.csv").unlink()
    proc = _pilot("import", "xlsform", *map(str, exports), "--out", str(rebuilt / "survey.csv"))
    assert proc.returncode == 0, proc.stderr
    assert "SubmitterName" in proc.stdout  # left out, and said so

    imported = pd.read_csv(rebuilt / "survey.csv", dtype=str, keep_default_na=False)
    assert list(imported.columns) == list(original.columns)
    key = list(original.columns)
    pd.testing.assert_frame_equal(
        imported.sort_values(key).reset_index(drop=True), original.sort_values(key).reset_index(drop=True)
    )
    reports = [json.loads(_pilot("validate", str(d), "--json", "--strict").stdout) for d in (drop, rebuilt)]
    assert reports[1]["tables"]["survey"]["loaded"] == len(original) == reports[0]["tables"]["survey"]["loaded"]
    assert reports[1]["bad_rows"] == []


def test_a_bsn_as_pseudonym_is_left_out_by_row_number_never_by_value(tmp_path):
    export = tmp_path / "export.csv"
    pd.DataFrame(
        {
            "SubmitterName": ["Jan Jansen", "Piet Pietersen"],
            "employee_id": ["p_abc", "111222333"],  # the second passes the 11-proof
            "employer_id": ["WG01", "WG01"],
            "grp-regie_ervaren": ["4", "2"],
            "welbevinden": ["", "56"],
        }
    ).to_csv(export, index=False)
    imported = survey_rows_from_export(export, wave="t1", respondent="employee")
    assert imported.bsn_rows == (3,)
    assert imported.submissions == 1
    assert imported.rows.to_dict("records") == [
        {
            "employee_id": "p_abc",
            "employer_id": "WG01",
            "wave": "t1",
            "respondent": "employee",
            "indicator_id": "regie_ervaren",
            "value": "4",
        }
    ]
    assert imported.dropped_columns == ("SubmitterName",)
    proc = _pilot("import", "xlsform", str(export), "--out", str(tmp_path / "survey.csv"))
    assert proc.returncode == 1 and "--wave" in proc.stderr
    proc = _pilot(
        "import", "xlsform", str(export), "--wave", "t1", "--respondent", "employee", "--out", str(tmp_path / "s.csv")
    )
    assert "111222333" not in proc.stdout + proc.stderr and "Jan" not in proc.stdout
