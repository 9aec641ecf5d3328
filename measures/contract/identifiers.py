"""What a pseudonym looks like, and how an identifier that is not one is recognised.

An id in a drop (`employee_id`, `employer_id`, ...) must be a pseudonym: 1-64 characters, letters, digits and
`_ . : -`, starting with a letter or digit (`PSEUDONYM_PATTERN`; `pilot pseudonymise` makes `p_` + 20 hex digits).
Before it is judged, a value is normalised the way a spreadsheet may have disguised it: Unicode NFKC (full-width
digits become ASCII), invisible format characters (zero-width spaces) removed, and for the number tests the
separators (space, dot, dash, slash, underscore), a float suffix (`123456782.0`) and an `NL` prefix dropped.
It is then tested, on the whole value, against the identifiers people really deliver:

- `bsn_like`: eight or nine digits passing the BSN eleven-test (`python-stdnum`);
- `iban_like`: an IBAN of any country with a valid check (`python-stdnum`);
- `email_like`: an e-mail address, also written `jan(at)example(dot)nl`;
- `phone_like`: a valid phone number (`phonenumbers`), Dutch or with a country code;
- `name_like`: (ids without digits only) a word from Deduce's Dutch first-name or surname lists;
- `not_a_pseudonym`: anything else outside the pattern (spaces, other characters, too long).

The tests look at each distinct value once, and skip the plain pseudonyms (letters and digits with both
present, no long run of digits) in Arrow's kernels, so that a million ids cost seconds. Nothing here
returns a value: callers get one reason (or None) per row.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
import re2
from stdnum import iban
from stdnum.nl import bsn

from measures.contract.arrow_text import arrow

#: What a valid id looks like (documented in the data dictionary).
PSEUDONYM_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}"
ID_REASONS = ("bsn_like", "iban_like", "email_like", "phone_like", "name_like", "not_a_pseudonym")
ID_DETAILS = {
    "bsn_like": "looks like a BSN; deliver a pseudonym instead",
    "iban_like": "looks like a bank account (IBAN); deliver a pseudonym instead",
    "email_like": "looks like an e-mail address; deliver a pseudonym instead",
    "phone_like": "looks like a phone number; deliver a pseudonym instead",
    "name_like": "looks like a person's name; deliver a pseudonym instead",
    "not_a_pseudonym": "not a pseudonym (1-64 letters, digits or _ . : -, no spaces)",
}

_SEPARATORS = re2.compile(r"[\s.\-/_()]+")
_FLOAT_SUFFIX = re2.compile(r"\.0+$")
_EMAIL = re2.compile(r"(?i)^[^@\s]+(?:@|\(at\)|\[at\]|\{at\}| at )[^@\s]+(?:\.|\(dot\)|\[dot\]| dot )[a-z]{2,}$")
_PSEUDONYM = re2.compile(f"^{PSEUDONYM_PATTERN}$")
_WORDS = re2.compile(r"[^\W\d_]+")
_BSN_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int64)
_CAMEL_PARTS = re2.compile(r"\p{Lu}?\p{Ll}+")


def normalised(value: str) -> str:
    """NFKC, without invisible format characters (zero-width space, BOM, soft hyphen), trimmed."""
    text = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def id_reasons(values: pd.Series, pseudonym: bool = True) -> np.ndarray:
    """Per row the reason its id is not a pseudonym (one of `ID_REASONS`), or None. Empty cells pass
    (whether they may be empty is another rule). `pseudonym`: the deliverer's pseudonym, so also the name
    lists and the pattern; False for codes checked against our own catalogues (`toc/node`)."""
    text = arrow(values)
    unique = pc.unique(text)
    found = _digit_reasons(pc.filter(unique, pc.match_substring_regex(unique, r"^[0-9]+$")))
    suspects = pc.filter(unique, pc.invert(pc.or_(_plain(unique), pc.match_substring_regex(unique, r"^[0-9]+$"))))
    found |= {v: r for v in suspects.to_pylist() if (r := id_reason(v, pseudonym)) is not None}
    if not found:
        return np.full(len(values), None, dtype=object)
    position = pc.index_in(text, value_set=pa.array(list(found), pa.string())).fill_null(-1)
    labels = np.array([*found.values(), None], dtype=object)
    return labels[position.to_numpy(zero_copy_only=False)]  # -1 picks the trailing None


def _plain(unique: pa.Array) -> pa.Array:
    """Empty, or letters and digits (both) that are neither `NL` + digits nor shaped like an IBAN: no BSN,
    IBAN, phone number, e-mail address or name looks like that, so nearly every real pseudonym (`E000123`,
    `p_3f9a1c2b7d`) needs no test in Python."""
    plain = pc.match_substring_regex(unique, r"^[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*$")
    plain = pc.and_(plain, pc.match_substring_regex(unique, "[0-9]"))
    for shape in (r"^(?i)nl[0-9_]+$", r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]{11,30}$"):
        plain = pc.and_(plain, pc.invert(pc.match_substring_regex(unique, shape)))
    return pc.or_(plain, pc.equal(unique, "")).fill_null(True)


def _digit_reasons(digits: pa.Array) -> dict[str, str]:
    """Ids of digits only: the BSN eleven-test for 8 or 9 of them in numpy; the few that could be a Dutch
    phone number (a leading 0, 10-15 digits) through `phonenumbers`."""
    length = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    found: dict[str, str] = {}
    candidates = pc.filter(digits, pa.array((length >= 8) & (length <= 9)))
    if len(candidates):
        padded = pc.utf8_lpad(candidates, 9, "0").to_numpy(zero_copy_only=False).astype("S9")
        matrix = padded.view(np.uint8).reshape(-1, 9).astype(np.int64) - ord("0")
        total = matrix @ _BSN_WEIGHTS
        found |= dict.fromkeys(np.asarray(candidates)[(total % 11 == 0) & (total != 0)].tolist(), "bsn_like")
    phones = pc.filter(digits, pa.array((length >= 10) & (length <= 15)))
    phones = pc.filter(phones, pc.starts_with(phones, "0"))
    found |= {v: "phone_like" for v in phones.to_pylist() if _phone(v)}
    return found


def id_reason(value: str, pseudonym: bool = True) -> str | None:
    """The reason one id is not a pseudonym, or None."""
    text = normalised(value)
    if not text:
        return None
    digits = _number_part(text)
    if digits is not None and 8 <= len(digits) <= 9 and bsn.is_valid(digits.zfill(9)):
        return "bsn_like"
    compact = _SEPARATORS.sub("", text)
    if len(compact) >= 15 and compact[:2].isalpha() and iban.is_valid(compact, check_country=False):
        return "iban_like"
    if _EMAIL.search(text):
        return "email_like"
    if _phone(text):
        return "phone_like"
    if not pseudonym:
        return None
    if not any(ch.isdigit() for ch in text) and is_name(text):
        return "name_like"
    if not _PSEUDONYM.search(text) or text != value.strip():
        return "not_a_pseudonym"
    return None


def looks_like_identifier(value: str) -> bool:
    """Whether a header or a file name should be withheld from messages: an identifier, or no pseudonym."""
    return id_reason(value) is not None


def _number_part(text: str) -> str | None:
    """The digits of a value that is a number in disguise (`NL 123.456.782`, `123456782.0`), else None."""
    stripped = _FLOAT_SUFFIX.sub("", text)
    stripped = stripped[2:] if stripped[:2].upper() == "NL" else stripped
    compact = _SEPARATORS.sub("", stripped)
    return compact if compact.isdigit() else None


def _phone(text: str) -> bool:
    compact = _SEPARATORS.sub("", text)
    body = compact[1:] if compact.startswith("+") else compact
    if not body.isdigit() or not 9 <= len(body) <= 15:
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(compact, "NL"))
    except phonenumbers.NumberParseException:
        return False


def is_name(text: str) -> bool:
    """Some word of `text` is a first name or surname in Deduce's Dutch lists and not an ordinary word."""
    from measures.contract.free_text import deduce_lookups  # the lists take a second to load: only when needed

    lookups = deduce_lookups()
    words = _WORDS.findall(text)
    for word in [*words, *(part for w in words for part in _CAMEL_PARTS.findall(w) if part != w)]:
        if len(word) < 2 or word.lower() in lookups["whitelist"]:
            continue
        token = [word[:1].upper() + word[1:].lower()]
        if lookups["first_name"].longest_matching_prefix(token) or lookups["surname"].longest_matching_prefix(token):
            return True
    return False
