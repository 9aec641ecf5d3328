"""Privacy by design: keyed pseudonyms, and the identifier tests and text scrubbing in one place.

Identifiers are recognised in `measures.contract.identifiers`, free text is scrubbed in
`measures.contract.free_text`. Nothing here ever returns or logs an offending value: callers get masks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from measures.contract.free_text import REDACTED, scrub_text
from measures.contract.identifiers import id_reasons
from toc.errors import UserError

__all__ = ["REDACTED", "bsn_like", "new_key", "pseudonymise", "read_key", "scrub_text"]


def bsn_like(values: pd.Series) -> np.ndarray:
    """Mask of ids that are a BSN, also in disguise (`123.456.782`, `123456782.0`, full-width digits, `NL...`)."""
    return id_reasons(values, pseudonym=False) == "bsn_like"


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
