"""The indicator catalogue as DHIS2 metadata: one JSON payload for `POST /api/metadata` (the import format).

DHIS2 aggregates data values over organisation units (here: employers) and periods. A mean of employer means
is not the mean of people, so each catalogue indicator becomes two aggregate data elements that add up
correctly, and a DHIS2 indicator that divides them:
- `<id>` sum: the sum of the values (aggregation SUM; value type from the scale: a whole-number scale gives
  `INTEGER_ZERO_OR_POSITIVE`, a percentage or days `NUMBER`);
- `<id>` count: the number of people with a value (aggregation SUM, `INTEGER_ZERO_OR_POSITIVE`);
- the indicator: sum / count, of indicator type "mean" (factor 1), or "percentage" (factor 100) for a share.
Disaggregation by category combos: questionnaire items by group × wave, the administrative indicators by
group (their time is DHIS2's own period: months, or the year for the return-to-work share).

Names are Dutch (the catalogue's own words) with English translations; codes and short names are the
catalogue ids. Every object has a UID derived from its code (11 characters, a letter first, as DHIS2
requires), so that exporting again and importing with CREATE_AND_UPDATE updates instead of duplicating.
"""

from __future__ import annotations

import hashlib
import string

from measures.contract.tables import GROUPS, WAVES
from measures.indicators.catalogue import RESPONDENT, SCALE_RANGES, Indicator, load_catalogue

_ALPHANUMERIC = string.ascii_letters + string.digits
GROUP_NAMES = {"intervention": ("Interventie", "Intervention"), "comparison": ("Vergelijking", "Comparison")}
CATEGORIES = {
    "group": ("Groep", "Group", [(g, *GROUP_NAMES[g]) for g in GROUPS]),
    "wave": ("Meting", "Wave", [(w, w, w) for w in WAVES]),
}
COMBOS = {"group_wave": ("Groep × meting", "Group × wave", ("group", "wave")), "group": ("Groep", "Group", ("group",))}
INDICATOR_TYPES = {"mean": ("Gemiddelde", "Mean", 1), "percentage": ("Procent", "Per cent", 100)}
PARTS = {"sum": ("som", "sum"), "count": ("aantal", "count")}


def uid(code: str) -> str:
    """A DHIS2 UID (a letter, then 10 letters or digits) derived from a code: stable across exports."""
    digest = hashlib.sha256(f"ad-pilot-toolkit:{code}".encode()).digest()
    letters = [_ALPHANUMERIC[b % len(_ALPHANUMERIC)] for b in digest[:11]]
    letters[0] = string.ascii_letters[digest[0] % len(string.ascii_letters)]
    return "".join(letters)


def _ref(code: str) -> dict:
    return {"id": uid(code)}


def _named(code: str, name_nl: str, name_en: str, short: str | None = None) -> dict:
    return {
        "id": uid(code),
        "code": code,
        "name": name_nl,
        "shortName": (short or name_nl)[:50],
        "translations": [{"property": "NAME", "locale": "en", "value": name_en}],
    }


def dhis2_metadata() -> dict:
    """The payload: categoryOptions, categories, categoryCombos, dataElements, indicatorTypes, indicators."""
    catalogue = load_catalogue()
    return {
        "categoryOptions": [
            _named(f"AD_{cat}_{code}".upper(), nl, en)
            for cat, (_, _, options) in CATEGORIES.items()
            for code, nl, en in options
        ],
        "categories": [
            _named(f"AD_{cat}".upper(), nl, en)
            | {
                "dataDimensionType": "DISAGGREGATION",
                "dataDimension": True,
                "categoryOptions": [_ref(f"AD_{cat}_{code}".upper()) for code, _, _ in options],
            }
            for cat, (nl, en, options) in CATEGORIES.items()
        ],
        "categoryCombos": [
            _named(f"AD_COMBO_{combo}".upper(), nl, en)
            | {
                "dataDimensionType": "DISAGGREGATION",
                "skipTotal": False,
                "categories": [_ref(f"AD_{c}".upper()) for c in cats],
            }
            for combo, (nl, en, cats) in COMBOS.items()
        ],
        "dataElements": [_data_element(ind, part) for ind in catalogue for part in PARTS],
        "indicatorTypes": [
            _named(f"AD_TYPE_{kind}".upper(), nl, en) | {"factor": factor, "number": factor == 1}
            for kind, (nl, en, factor) in INDICATOR_TYPES.items()
        ],
        "indicators": [_indicator(ind) for ind in catalogue],
    }


def _combo(ind: Indicator) -> str:
    return "AD_COMBO_GROUP_WAVE" if ind.source in RESPONDENT else "AD_COMBO_GROUP"


def _data_element(ind: Indicator, part: str) -> dict:
    whole = SCALE_RANGES[ind.scale][2]
    value_type = "INTEGER_ZERO_OR_POSITIVE" if part == "count" or whole else "NUMBER"
    code = f"AD_{ind.id}_{part}".upper()
    element = _named(code, f"{ind.label_nl} ({PARTS[part][0]})", f"{ind.label_en} ({PARTS[part][1]})", code)
    element["translations"].append({"property": "DESCRIPTION", "locale": "en", "value": ind.text_en})
    return element | {
        "description": ind.text_nl,
        "domainType": "AGGREGATE",
        "valueType": value_type,
        "aggregationType": "SUM",
        "zeroIsSignificant": True,  # a sum or count of 0 is a value, not a missing one
        "categoryCombo": _ref(_combo(ind)),
    }


def _indicator(ind: Indicator) -> dict:
    kind = "percentage" if ind.aggregation == "share" else "mean"
    code = f"AD_{ind.id}".upper()
    suffix = {"mean": ("gemiddelde", "mean"), "percentage": ("% ja", "% yes")}[kind]
    indicator = _named(code, f"{ind.label_nl} ({suffix[0]})", f"{ind.label_en} ({suffix[1]})", code)
    indicator["translations"].append({"property": "DESCRIPTION", "locale": "en", "value": ind.text_en})
    return indicator | {
        "description": ind.text_nl,
        "numerator": f"#{{{uid(f'AD_{ind.id}_SUM'.upper())}}}",
        "numeratorDescription": f"{ind.id}: som",
        "denominator": f"#{{{uid(f'AD_{ind.id}_COUNT'.upper())}}}",
        "denominatorDescription": f"{ind.id}: aantal",
        "annualized": False,
        "decimals": 2,
        "indicatorType": _ref(f"AD_TYPE_{kind}".upper()),
    }
