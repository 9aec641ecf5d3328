"""Free text without personal details: Deduce for Dutch text, checked numbers for the rest.

A free-text cell (an employer's `sector` or `approach`) is first normalised (Unicode NFKC, so full-width digits
are digits; invisible format characters removed), then every span that one of these finds is replaced by
`REDACTED`:

- Deduce (de-identification of Dutch text, with its Dutch name, street, place and institution lists): names
  with or without a title or initials, dates, ages, BSNs, phone numbers, e-mail addresses, URLs, street
  addresses, postcodes and institutions; a house number right after a postcode it found goes with it;
- `phonenumbers`: phone numbers of any country, written with `+32` or `0032` or in Dutch layouts;
- `python-stdnum`: IBANs of every country (the mod-97 check), and BSNs written with dots, spaces or dashes;
- our own patterns, all linear-time (`google-re2`): obfuscated e-mail addresses (`jan(at)example(dot)nl`)
  and any run of eight or nine digits (a personal number of some kind).

Each distinct text is scrubbed once. Deduce's lists take about two seconds to load (with the garbage
collector paused; more than a minute the very first time after installing, when Deduce builds its cache)
and about 1 GB of memory, so they are loaded only when there is text to scrub and released when the table
is done (`release`), before the large tables are checked. A cell longer than the column's
limit never gets here (`measures.contract.validate` empties it), so no pattern sees a 250 kB word.
"""

from __future__ import annotations

import gc
import logging

import numpy as np
import pandas as pd
import phonenumbers
import re2
from stdnum import iban
from stdnum.nl import bsn

from measures.contract.arrow_text import TEXT
from measures.contract.identifiers import normalised

REDACTED = "[verwijderd]"

_OBFUSCATED_EMAIL = re2.compile(
    r"(?i)[\w.+-]+\s?(?:@|\(at\)|\[at\]|\{at\}|\bat\b)\s?[\w-]+(?:\s?(?:\.|\(dot\)|\[dot\]|\{dot\}|\bdot\b)\s?[\w-]+)+"
)
_IBAN = re2.compile(r"(?i)\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]){11,30}\b")
_SEPARATED_NUMBER = re2.compile(r"\b\d(?:[ .\-]?\d){7,8}\b")
_HOUSE_NUMBER = re2.compile(r"^[\s,]*\d{1,5}(?:\s?[a-zA-Z]\b|-\d+)?")
_LOCATION_TAGS = ("locatie",)


_MODEL: list = []  # Deduce, while loaded


def _deduce():
    """Deduce, loaded on first use. Its lists hold about 1 GB: `release` gives that back when a table is done."""
    if not _MODEL:
        Deduce = _import_deduce()
        gc.disable()  # unpickling millions of small objects: 2 s instead of 7 with the collector running
        try:
            _MODEL.append(Deduce())
            # and never scanned after: without this, the next collections walk its millions of objects, again
            # and again while it is loaded (seconds of a pilot run). They hold no cycles, so refcounting still
            # frees them on `release`.
            gc.freeze()
        finally:
            gc.enable()
    return _MODEL[0]


def _import_deduce():
    """`deduce` calls `logging.basicConfig(stream=sys.stdout, level=DEBUG)` when imported: every library's
    debug lines would then go to stdout. With a handler in place that call does nothing; it is removed after."""
    root = logging.getLogger()
    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    try:
        from deduce import Deduce
    finally:
        root.removeHandler(placeholder)
    return Deduce


def release() -> None:
    """Forget Deduce (its objects hold no cycles: the memory is back at once); the next use loads it again."""
    _MODEL.clear()


def deduce_lookups() -> dict:
    """Deduce's lookup structures (first names, surnames, whitelist, streets, ...)."""
    return _deduce().lookup_structs


def scrub_text(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The texts with personal details replaced by `REDACTED`, and a mask of the cells that changed."""
    text = values.astype(TEXT).fillna("")
    unique = [v for v in pd.unique(text.to_numpy(dtype=object)) if isinstance(v, str) and v.strip()]
    changed_values = {v: s for v in unique if (s := scrub_one(v)) != v}
    if not changed_values:
        return text, np.zeros(len(text), dtype=bool)
    changed = text.isin(list(changed_values)).to_numpy(dtype=bool, na_value=False)
    scrubbed = text.copy()
    scrubbed[changed] = text[changed].map(changed_values)
    return scrubbed.astype(TEXT), changed


def scrub_one(value: str) -> str:
    """One text with every personal detail found replaced by `REDACTED`."""
    text = normalised(value)
    spans = _pattern_spans(text) + _phone_spans(text) + _deduce_spans(text)
    if not spans:
        return text
    pieces, last = [], 0
    for start, end in _merged(spans):
        pieces += [text[last:start], REDACTED]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _pattern_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _OBFUSCATED_EMAIL.finditer(text)]
    spans += _iban_spans(text)
    for match in _SEPARATED_NUMBER.finditer(text):
        digits = "".join(ch for ch in match.group(0) if ch.isdigit())
        if match.group(0).isdigit() or bsn.is_valid(digits.zfill(9)):
            spans.append(match.span())
    return spans


def _iban_spans(text: str) -> list[tuple[int, int]]:
    """IBANs: the longest valid one where a candidate starts ("NL91ABNA0417164300 en" holds one of 18
    characters), then on after it. Cells are short (the column's length limit), so searching again is cheap."""
    spans, position = [], 0
    while match := _IBAN.search(text, position):
        places = [match.start() + i for i, ch in enumerate(match.group(0)) if ch != " "]
        compact = match.group(0).replace(" ", "")
        length = next(
            (n for n in range(min(len(compact), 34), 14, -1) if iban.is_valid(compact[:n], check_country=False)), 0
        )
        if length:
            spans.append((match.start(), places[length - 1] + 1))
        position = places[length - 1] + 1 if length else match.start() + 1
    return spans


def _phone_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "NL")]


def _deduce_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for annotation in _deduce().deidentify(text).annotations:
        start, end = annotation.start_char, annotation.end_char
        if annotation.tag in _LOCATION_TAGS and (number := _HOUSE_NUMBER.search(text[end:])):
            end += number.end()  # "3511ab 12": Deduce takes the postcode, the house number goes with it
        spans.append((start, end))
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
