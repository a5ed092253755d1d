"""GeVo categories (``Kategorie`` of a shipment, ST_GeVoArt: 9 digits).

BiPRO's official list is an annex of the norm; this is our own table, built from the
public facts (the first three digits name the business area, some suffixes have fixed
meanings, and the 999 family is GDV data). Codes we do not know stay usable: they get
the label of their area, or none.
"""

from __future__ import annotations

from collections.abc import Iterable

from bipro_ruv.errors import ConfigurationError

__all__ = ["category_label", "matches_category", "validate_category_filter"]

#: First three digits: the business area.
AREAS: dict[str, str] = {
    "100": "Antrag",
    "110": "Partneränderung",
    "120": "Vertragsänderung",
    "130": "Abtretung, Pfändung, Bezugsrecht, VN-Wechsel",
    "140": "Inkasso und Mahnwesen",
    "150": "Schaden und Leistung",
    "160": "Kündigung, Storno, Ablauf",
    "170": "Vertrag, Deckung, Ersatzpolice, Beitrag",
    "180": "Beschwerde",
    "190": "Anfrage, Aktion, Angebot",
    "200": "eVB",
    "210": "Zahlungen",
    "999": "GDV-Daten",
}

#: Last six digits with one meaning in every area.
SUFFIXES: dict[str, str] = {
    "002000": "Eingangsbestätigung",
    "008000": "Rückfrage",
    "009000": "erledigt",
}

#: Codes with a label of their own (R+V names 100005100, 160008000 and 160011000 for
#: its Kfz request letters; the 999 family is the GDV data delivery).
CODES: dict[str, str] = {
    "100000000": "Antrag, sonstiges",
    "100001000": "Antragsversand",
    "100003000": "Vorläufige Deckungszusage",
    "100004000": "Antrag abgelehnt",
    "100005000": "Nachfrage zum Antrag",
    "100005100": "Antragsanforderung / Erinnerung (Kfz)",
    "100007000": "Policierung",
    "160008000": "Rückfrage zur Kündigung",
    "160011000": "eVB-Kündigung",
    "999010010": "GDV-Gesamtbestand",
    "999010020": "GDV-Bestandsänderungen",
    "999020000": "GDV-Daten VU an VU",
    "999030000": "GDV Kfz-Schadendaten",
    "999040000": "GDV-Antragsdaten",
    "999050000": "GDV-Vermittlerabrechnung",
    "999060000": "GDV-Geschäftsvorfälle",
}


def category_label(code: str | None) -> str | None:
    """German label for a 9-digit GeVo code; None when nothing is known about it."""
    if not code or len(code) != 9 or not code.isascii() or not code.isdigit():
        return None
    if code in CODES:
        return CODES[code]
    area = AREAS.get(code[:3])
    if area is None:
        return None
    suffix = SUFFIXES.get(code[3:])
    return f"{area}: {suffix}" if suffix else area


def validate_category_filter(prefixes: Iterable[str]) -> tuple[str, ...]:
    """Category filters are 3-, 6- or 9-digit prefixes (ST_SuchGeVoArt) of a known business
    area (:data:`AREAS`; ``999999999`` means all). A filter no category can match would make
    a nightly fetch quietly fetch nothing, so it is refused with the areas there are."""
    result = []
    for prefix in prefixes:
        text = prefix.strip()
        if len(text) not in (3, 6, 9) or not text.isascii() or not text.isdigit():
            raise ConfigurationError(
                f"the category filter {prefix!r} must be 3, 6 or 9 digits (a GeVo prefix)"
            )
        if text[:3] not in AREAS and text != "999999999":
            known = ", ".join(f"{code} {name}" for code, name in AREAS.items())
            raise ConfigurationError(f"the category filter {prefix!r} names no known business area ({known})")
        result.append(text)
    return tuple(result)


def matches_category(code: str | None, prefixes: Iterable[str]) -> bool:
    """True when ``code`` starts with one of ``prefixes`` (999999999 means all)."""
    wanted = tuple(prefixes)
    if not wanted or "999999999" in wanted:
        return True
    return code is not None and code.startswith(wanted)
