"""The codes of R+V's Saldenbestätigung, with the German descriptions of R+V's legend.

Source: R+V, "FAQs zu den Datenpaketen", Legende zur Saldenbestätigung (seed 003). A code
the legend does not list is kept as written, with a warning (never refused).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Abrechnungsmodus", "Buchungsart", "Kategorie", "Mahnverfahren"]


class _Described(str, Enum):
    """A code whose member knows the legend's description (``.description``)."""

    description: str

    def __new__(cls, code: str, description: str) -> _Described:
        member = str.__new__(cls, code)
        member._value_ = code
        member.description = description
        return member


class Buchungsart(_Described):
    """Buchungsart of a Saldenbestätigung row."""

    ABRG = ("ABRG", "Abrechnung")
    ABSTO = ("ABSTO", "Storno aus Abrechnung")
    AKTO = ("AKTO", "Abweichende Abrechnung")
    AP = ("AP", "Abschlussprovision")
    BF = ("BF", "Bestandspflegeprovision Folge")
    BM = ("BM", "Bestandsprovision Fremdanteil")
    BP = ("BP", "Bestandsprovision")
    BX = ("BX", "Bestandspflegeprovision Folge Fremdanteil")
    DP = ("DP", "Dynamikprovision")
    FB = ("FB", "Folgebeitrag")
    FBST = ("FBST", "Folgebeitrag Storno")
    GWB = ("GWB", "Gewinnbeteiligung")
    KLAER = ("KLÄR", "Klärungsfälle Agenturkonto")
    MBU = ("MBU", "Manuelle Buchung")
    NG = ("NG", "Nachtrag")
    NGST = ("NGST", "Nachtrag Storno")
    RL = ("RL", "Rückläufer")
    SCHD = ("SCHD", "Schadenbuchung")
    SP = ("SP", "Sonderprovision")
    VP = ("VP", "Verlängerungsprovision")
    VS = ("VS", "Versicherungsschein")
    VSST = ("VSST", "Versicherungsschein Storno")
    VST = ("VST", "Versicherungssteuer")
    ZA = ("ZA", "Zahlungsausgang / Exkasso")
    ZE = ("ZE", "Zahlungseingang")


class Kategorie(_Described):
    """Kategorie of a Saldenbestätigung row."""

    BEITRAG = ("Beitrag", "Beitrag")
    PROVISION = ("Provision", "Provision")
    SCHADEN = ("Schaden", "Schaden")
    KLAERKONTO = ("Klärkonto", "Klärkonto")
    SONSTIGE = ("Sonstige Buchungen", "Sonstige Buchungen")


class Abrechnungsmodus(_Described):
    """Abrechnungsmodus; blank (no value) means "Allzeichnung R+V"."""

    BETEILIGUNG = ("B", "Beteiligung R+V")
    FUEHRUNG_RUV = ("G", "Führung R+V; R+V rechnet mit Gesellschaften ab")
    FUEHRUNG_MAKLER = ("R", "Führung R+V; Makler rechnet mit Gesellschaften ab")


class Mahnverfahren(_Described):
    """Mahnverfahren EV: an active dunning procedure on the contract; blank means none."""

    AKTIV = ("aktiv", "Mahnverfahren aktiv")
