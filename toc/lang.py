"""The two languages of the toolkit and the one lookup of translated text.

Content is Dutch first (the report's own words) with an English translation beside it: a field `label_nl`
has its `label_en`, and a Dutch original without a suffix (a ToC's `title`) has its `title_en`.
"""

from __future__ import annotations

from typing import Literal, get_args

from toc.errors import UserError

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)


def translated(item: object, field: str, lang: Lang) -> str:
    """`item.<field>_<lang>`, or for Dutch the bare `item.<field>` when there is no `<field>_nl`."""
    name = f"{field}_{lang}"
    if lang == "nl" and not hasattr(item, name):
        name = field
    return getattr(item, name)


def checked_lang(lang: str) -> Lang:
    """`lang` as a `Lang`, or a UserError that lists the choices."""
    if lang not in LANGS:
        raise UserError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def number(value: float | int | None, digits: int = 2, lang: Lang = "nl", sign: bool = False) -> str:
    """A number as the report writes it: `−10,39` / `1.234` in Dutch, `−10.39` / `1,234` in English, a true
    minus sign, `–` when missing; `sign` adds `+` to positive numbers (effects)."""
    if value is None or value != value:  # None, NaN, pd.NA-free floats
        return "–"
    plus = "+" if sign else ""
    text = f"{value:{plus},.{digits}f}" if isinstance(value, float) else f"{value:{plus},}"
    if lang == "nl":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text.replace("-", "−")
