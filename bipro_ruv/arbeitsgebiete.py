"""R+V's Arbeitsgebiete: the two-digit prefix of an R+V Versicherungsscheinnummer.

R+V writes a contract number as "Arbeitsgebiet AG und VSNR zusammen 11-stellig numerisch";
the first two digits name the Arbeitsgebiet (``Vsnr.business_area``): R+V's own division of
its book by product and company ("Kfz KRAVAG-ALLGEMEINE", "Privatpolice"), not the GDV
Sparte (the three-digit line of business of GDV Anlage 1, ``line_of_business`` in this
library). The table below is the list on R+V's page for the Dokumenten-TransferService (Norm 430),
with the meanings in R+V's own German wording. Two prefixes changed in migrations that R+V
announced in its "GDV-Neuerungen":

* ``38``, the old Rechtsschutz prefix, is not in the current table; those numbers were
  migrated to ``84`` in 2021.
* ``74`` (Kfz Condor) contracts moved to KRAVAG in autumn 2023 and received new numbers
  that begin with ``3`` (the KRAVAG/R+V Kfz Arbeitsgebiete).

A code missing from this table is not an error: R+V adds Arbeitsgebiete without notice,
so :class:`bipro_ruv.vsnr.Vsnr` accepts any two-digit code and only its
``business_area_name`` is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import Field

from bipro_ruv.models import FrozenModel

__all__ = ["ARBEITSGEBIETE", "Arbeitsgebiet", "get_arbeitsgebiet"]


class Arbeitsgebiet(FrozenModel):
    """One entry of R+V's Arbeitsgebiet table."""

    code: str = Field(..., pattern=r"^[0-9]{2}$", description="Arbeitsgebiet, the first two VSNR digits")
    name: str = Field(..., description="Meaning as R+V words it (German)")
    current: bool = Field(True, description="False for prefixes R+V no longer issues")
    successor_prefix: str | None = Field(
        None,
        pattern=r"^[0-9]{1,2}$",
        description="Migrated contracts now carry numbers beginning with this prefix",
    )
    note: str | None = Field(None, description="What R+V announced about this prefix")


def _entries() -> dict[str, Arbeitsgebiet]:
    # Longer than 60 lines only because it is a data table (one line per Arbeitsgebiet).
    current = {
        "10": "Unfall",
        "11": "Gruppen-Unfall",
        "12": "Gruppen-Unfall",
        "13": "Unfallversicherung für Banken",
        "14": "Luftfahrt-Unfall",
        "15": "Unfall mit Beitragsrückgewähr",
        "16": "Unfall-Kinderversicherung",
        "18": "Unfallversicherung Condor",
        "21": "Vereinigte Tierversicherung Mitglieder Landwirtschaft",
        "22": "Vereinigte Tierversicherung Nichtmitglieder",
        "23": "Vereinigte Tierversicherung Mitglieder Pferde",
        "25": "Vermögensschaden-Haftpflicht",
        "26": "Luftfahrt-Haftpflicht",
        "27": "Umwelt-Haftpflicht",
        "28": "Jagdhaftpflicht",
        "29": "Haftpflicht",
        "30": "Kfz R+V",
        "32": "Kfz KRAVAG-ALLGEMEINE",
        "33": "Kfz KRAVAG-LOGISTIC",
        "34": "Privatpolice",
        "35": "Rechtsschutz",
        "40": "Landwirtschaft",
        "41": "Agrarpolice",
        "42": "Betriebsschließung",
        "43": "Bankpolicen",
        "44": "Gewerbebündelprodukt",
        "45": "Industrie",
        "46": "Industriepolice",
        "47": "Gewerbe-Gebäude",
        "48": "Wohngebäude",
        "54": "Tiefkühl",
        "55": "Fam.-Schutz",
        "56": "Condor Privatschutz Police",
        "58": "Gewerbe-Inhalt",
        "70": "Leben",
        "74": "Kfz Condor",
        "75": "Condor Firmengeschäft",
        "78": "Krankenversicherung",
        "82": "Technische Versicherung",
        "84": "Firmengeschäft",
        "85": "Transport",
        "90": "Kredit Kautionsvers. für Reise",
        "91": "Kredit WKV/KKV",
        "97": "Kredit Kautionsversicherung",
    }
    table = {code: Arbeitsgebiet(code=code, name=name) for code, name in current.items()}
    table["74"] = table["74"].model_copy(
        update={
            "successor_prefix": "3",
            "note": "Condor Kfz contracts moved to KRAVAG in autumn 2023 and received new numbers "
            "beginning with 3 (KRAVAG/R+V Kfz Arbeitsgebiete)",
        }
    )
    table["38"] = Arbeitsgebiet(
        code="38",
        name="Rechtsschutz (alt)",
        current=False,
        successor_prefix="84",
        note="Rechtsschutz numbers beginning with 38 were migrated to 84 in 2021",
    )
    return dict(sorted(table.items()))


ARBEITSGEBIETE: Mapping[str, Arbeitsgebiet] = MappingProxyType(_entries())
"""Every known Arbeitsgebiet by its two-digit code, including the retired ``38``."""


def get_arbeitsgebiet(code: str) -> Arbeitsgebiet | None:
    """The table entry for ``code`` (e.g. ``"32"``), or ``None`` for an unknown code."""
    return ARBEITSGEBIETE.get(code)
