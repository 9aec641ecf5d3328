"""Privacy by design: extra columns dropped, free text scrubbed, BSNs recognised, keyed pseudonyms."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from drops import add_column, make_drop, set_cell, validate

from measures.contract.privacy import REDACTED, bsn_like, new_key, pseudonymise, read_key, scrub_text
from toc.errors import UserError

PILOT = str(Path(sys.executable).with_name("pilot"))


def test_columns_outside_the_contract_are_dropped_and_reported_by_position_only(tmp_path):
    drop = make_drop(tmp_path / "drop")
    add_column(drop, "cases", "naam", "Jan Klaassen")
    add_column(drop, "cases", "Jan de Vries 123456782", "17-04-1971")  # a header that is itself an identifier
    result = validate(drop)
    cases = result.tables["cases"]
    assert cases.dropped_columns == ["column 7", "column 8"]  # after the six contract columns (1.1: end_reason)
    assert list(cases.loaded.columns) == [
        "employee_id",
        "employer_id",
        "absence_start",
        "inclusion_date",
        "end_date",
        "end_reason",
    ]
    everything = (
        json.dumps({n: s.as_json() for n, s in result.summary().items()})
        + result.quarantine().to_csv()
        + cases.loaded.to_csv()
    )
    assert "naam" not in everything and "Vries" not in everything and "123456782" not in everything
    assert "Jan Klaassen" not in everything and "1971" not in everything
    assert len(result.quarantine()) == 0


PERSONAL = {
    "e-mail": "mail naar j.jansen@voorbeeld.nl graag",
    "mobile": "bel 06-12345678 voor info",
    "mobile intl": "of +31 6 1234 5678",
    "landline": "kantoor 010-1234567",
    "bsn": "BSN 111222333 staat in het dossier",
    "iban": "rekening NL91ABNA0417164300",
    "iban spaced": "rekening NL91 ABNA 0417 1643 00",
    "postcode": "woont op 1234 AB 12 in Utrecht",
    "dhr": "overleg met dhr. Jansen",
    "Dhr": "Dhr. Jansen belde",
    "mevrouw": "gesprek met mevrouw De Vries",
    "Mevr": "Mevr. van den Berg is er",
}
#: The personal detail inside each text above, which must be gone after scrubbing.
DETAIL = {
    "e-mail": "jansen@",
    "mobile": "12345678",
    "mobile intl": "1234 5678",
    "landline": "1234567",
    "bsn": "111222333",
    "iban": "0417164300",
    "iban spaced": "0417",
    "postcode": "1234 AB",
    "dhr": "Jansen",
    "Dhr": "Jansen",
    "mevrouw": "Vries",
    "Mevr": "Berg",
}


@pytest.mark.parametrize("kind", list(PERSONAL))
def test_free_text_is_scrubbed(kind):
    scrubbed, changed = scrub_text(pd.Series([PERSONAL[kind]], dtype="string"))
    assert changed == 1
    assert DETAIL[kind] not in scrubbed.iloc[0]
    assert REDACTED in scrubbed.iloc[0]


@pytest.mark.parametrize(
    "text",
    [
        "AD doet een dossiercheck in week 8 en schuift aan bij het MDO.",
        "zorg",
        "Verzuim 2025-2026: 12 weken, 40 uur",
        "meneer is ziek gemeld",
        "de heer is onbekend",
    ],
)
def test_ordinary_text_is_left_alone(text):
    scrubbed, changed = scrub_text(pd.Series([text], dtype="string"))
    assert (scrubbed.iloc[0], changed) == (text, 0)


def test_the_text_columns_of_a_drop_are_scrubbed_on_reading(tmp_path):
    drop = make_drop(tmp_path / "drop")
    set_cell(drop, "employers", 2, "approach", "Contact: dhr. Jansen, j.jansen@voorbeeld.nl, 06-12345678")
    set_cell(drop, "employers", 3, "sector", "zorg (NL91ABNA0417164300)")
    result = validate(drop)
    employers = result.tables["employers"]
    assert employers.scrubbed_cells == 2 and result.summary()["employers"].scrubbed_cells == 2
    text = employers.loaded.to_csv()
    for detail in ("Jansen", "voorbeeld.nl", "12345678", "0417164300"):
        assert detail not in text
    assert employers.loaded["sector"].iloc[1] == f"zorg ({REDACTED})"
    assert len(result.quarantine()) == 0


def test_bsn_like_follows_the_eleven_proof():
    values = pd.Series(
        [
            "111222333",
            "123456782",
            "12345672",
            " 111222333 ",  # valid (8 digits: leading 0 dropped)
            "123456789",
            "111222334",
            "000000000",
            "11122233",
            "1112223330",
            "E111222333",
            "",
            None,
        ]
    )
    assert bsn_like(values).tolist() == [True, True, True, True] + [False] * 8


def test_pseudonyms_are_keyed_stable_and_not_a_plain_hash():
    key_a, key_b = bytes.fromhex(new_key()), bytes.fromhex(new_key())
    ids = pd.Series(["111222333", "E000001", " 111222333", ""])
    first, again, other = pseudonymise(ids, key_a), pseudonymise(ids, key_a), pseudonymise(ids, key_b)
    assert first.tolist() == again.tolist()
    assert first.iloc[0] == first.iloc[2] and first.iloc[0] != first.iloc[1]
    assert first.iloc[3] == ""
    assert all(a != b for a, b in zip(first[:3], other[:3], strict=True))
    plain = hashlib.sha256(b"111222333").hexdigest()
    assert plain[:20] not in first.iloc[0] and first.iloc[0] != plain
    assert first.str.fullmatch(r"p_[0-9a-f]{20}|").all()


def test_a_key_file_must_be_a_real_key(tmp_path):
    (tmp_path / "short").write_text("abcd")
    (tmp_path / "text").write_text("geheim wachtwoord")
    for name in ("short", "text"):
        with pytest.raises(UserError):
            read_key(tmp_path / name)


def _pilot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PILOT, *args], capture_output=True, text=True, timeout=120)


def test_keygen_and_pseudonymise_end_to_end(tmp_path):
    key = tmp_path / "secret" / "pilot.key"
    made = _pilot("keygen", str(key))
    assert made.returncode == 0, made.stderr
    assert key.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert _pilot("keygen", str(key)).returncode == 1  # never overwrites a key
    source = tmp_path / "personeel.csv"
    source.write_text(
        "employee_id;afdeling;ao_pct\n111222333;zorg;60,5\n123456782;zorg;40\n111222333;bouw;0\n", encoding="utf-8"
    )
    outs = [tmp_path / "out1.csv", tmp_path / "out2.csv"]
    for out in outs:
        done = _pilot("pseudonymise", str(source), str(out), "--id-column", "employee_id", "--key-file", str(key))
        assert done.returncode == 0, done.stderr
    assert outs[0].read_bytes() == outs[1].read_bytes()
    text = outs[0].read_text(encoding="utf-8")
    assert "111222333" not in text and "123456782" not in text
    frame = pd.read_csv(outs[0], sep=";", dtype=str)  # written back in the semicolon dialect it came in
    assert frame["afdeling"].tolist() == ["zorg", "zorg", "bouw"]
    assert frame["ao_pct"].tolist() == ["60,5", "40", "0"]
    ids = frame["employee_id"].tolist()
    assert ids[0] == ids[2] != ids[1]
    assert ids == pseudonymise(pd.Series(["111222333", "123456782", "111222333"]), read_key(key)).tolist()


def test_pseudonyms_do_not_depend_on_the_file_type(tmp_path):
    key = bytes.fromhex(new_key())
    key_file = tmp_path / "k"
    key_file.write_text(key.hex())
    pd.DataFrame({"employee_id": [111222333.0, None], "x": [1, 2]}).to_parquet(tmp_path / "in.parquet")
    done = _pilot(
        "pseudonymise",
        str(tmp_path / "in.parquet"),
        str(tmp_path / "out.parquet"),
        "--id-column",
        "employee_id",
        "--key-file",
        str(key_file),
    )
    assert done.returncode == 0, done.stderr
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["employee_id"].tolist() == [pseudonymise(pd.Series(["111222333"]), key).iloc[0], ""]
