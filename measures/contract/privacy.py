"""Privacy by design: BSN detection, scrubbing free text, keyed pseudonyms.

Nothing here ever returns or logs an offending value: callers get masks and counts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from measures.contract.arrow_text import TEXT
from toc.errors import UserError

REDACTED = "[verwijderd]"
#: 11-proof weights of a BSN: 9..2 for the first eight digits, -1 for the last.
_BSN_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])

# What a deliverer might type into a free-text field about a person. Order matters: IBAN and e-mail
# before the bare digit patterns, so that their digits are not half-replaced first.
#: A surname after a title: "Jansen", "De Vries", "van den Berg", "Van der Meer-Bakker".
_NAME = (
    r"(?:(?:van|de|der|den|ter|ten|te|het|'t)\s+)*[A-Z][\w'-]*(?:\s+(?:van|de|der|den|ter|ten)\b)*(?:\s+[A-Z][\w'-]*)?"
)
#: Titles in any case ("dhr.", "Dhr.", "MEVROUW"); the name after them must start with a capital (or a
#: lower-case tussenvoegsel), so that "meneer is ziek" stays as it is.
_TITLE = r"(?:\b(?i:dhr|mevr|mw|mr|mej)\b\.?|\b(?i:de\s+heer|mevrouw|meneer|mijnheer)\b)"
_SCRUB_PATTERNS = [
    re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{4}(?:\s?\d){10}\b", re.IGNORECASE),  # IBAN (NL layout)
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail address
    re.compile(r"(?:\+31|0031|\b0)[\s-]?(?:\d[\s-]?){7,8}\d\b"),  # Dutch phone number (8-9 digits after 0)
    re.compile(r"\b\d{4}\s?[A-Z]{2}\b[\s,]*\d+\s?[a-zA-Z]?\b"),  # postcode + house number
    re.compile(r"\b\d{4}\s?[A-Z]{2}\b"),  # postcode alone
    re.compile(r"\b\d{8,9}\b"),  # BSN-like or other personal numbers
    re.compile(_TITLE + r"\s+" + _NAME),  # titled names
]


def bsn_like(values: pd.Series) -> np.ndarray:
    """Mask of values that are nine digits (eight with a leading zero dropped) passing the 11-proof."""
    text = values.astype(TEXT).str.strip()  # Arrow's string kernels: a million ids in milliseconds
    candidate = text.str.fullmatch(r"\d{8,9}").to_numpy(dtype=bool, na_value=False)
    mask = np.zeros(len(values), dtype=bool)
    if candidate.any():
        digits = text[candidate].str.pad(9, side="left", fillchar="0")
        matrix = np.array([list(map(int, d)) for d in digits], dtype=np.int64)
        total = matrix @ _BSN_WEIGHTS
        mask[np.flatnonzero(candidate)] = (total % 11 == 0) & (total != 0)
    return mask


def scrub_text(values: pd.Series) -> tuple[pd.Series, int]:
    """Free text with personal details replaced by a marker, and the number of cells changed.

    Python's `re` does the work (the patterns need more than Arrow's RE2 offers); free text is short."""
    values = values.astype("string[python]")
    scrubbed = values
    for pattern in _SCRUB_PATTERNS:
        scrubbed = scrubbed.str.replace(pattern, REDACTED, regex=True)
    changed = int((scrubbed != values).sum())
    return scrubbed, changed


def new_key() -> str:
    """A fresh 256-bit key for `pseudonymise`, as hex."""
    return secrets.token_hex(32)


def read_key(path: Path) -> bytes:
    text = Path(path).read_text(encoding="utf-8").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise UserError(f"{path}: not a key made by `pilot keygen` (expected hex)") from exc
    if len(key) < 16:
        raise UserError(f"{path}: key too short ({len(key)} bytes; `pilot keygen` makes 32)")
    return key


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed HMAC-SHA256 pseudonyms: stable for the same key, not reversible without it.

    A plain hash of a BSN is not enough: there are only 10^9 BSNs, so anyone can hash them all and look
    the pseudonym up. With a secret key that the deliverer keeps, nobody else can.
    """

    def one(value: str) -> str:
        digest = hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
        return f"p_{digest[:20]}"

    return values.astype("string").map(lambda v: "" if pd.isna(v) or not str(v).strip() else one(str(v)))
