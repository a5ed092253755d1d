"""Models shared by every BiPRO service: ``Status`` and ``Meldung`` (BiPRO Norm 250,
``nachrichten`` namespace, ``CT_Status`` / ``CT_Meldung``).

Status codes are data: a call that succeeds returns its ``Status`` with the result,
and only ``StatusID`` NOK (or a SOAP Fault) becomes an exception.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Meldung", "MeldungArt", "Status"]


class MeldungArt(str, Enum):
    """``nachrichten:ArtID`` of a Meldung (ST_ArtMeldung)."""

    FEHLER = "Fehler"
    WARNUNG = "Warnung"
    HINWEIS = "Hinweis"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Meldung(_Frozen):
    """One message of a BiPRO status (``nachrichten:Meldung``)."""

    art: str | None = Field(None, description="ArtID: Fehler, Warnung or Hinweis (kept raw if unknown)")
    meldung_id: str | None = Field(None, description="MeldungID, e.g. 04000 or 00961 (ST_Meldung)")
    text: str | None = Field(None, description="Text")
    quelle: str | None = Field(None, description="Quelle: XPath of the offending element")
    identifikationsnummer: str | None = Field(None, description="Identifikationsnummer")

    @property
    def is_error(self) -> bool:
        return self.art == MeldungArt.FEHLER.value


class Status(_Frozen):
    """``nachrichten:Status`` of a BiPRO response.

    ``status_id`` is ``OK``/``NOK`` (release 2.x) or numeric (release 1, e.g. Norm 440
    ``00000``). Providers omit ProzessID, Zeitstempel and Schwebe freely, so all fields
    but the id are optional.
    """

    prozess_id: str | None = Field(None, description="ProzessID")
    zeitstempel: str | None = Field(None, description="Zeitstempel, raw (often without time zone)")
    status_id: str = Field(..., description="StatusID: OK, NOK, or a numeric release-1 code")
    gueltigkeitsende: str | None = Field(None, description="Gueltigkeitsende, raw")
    schwebe: bool | None = Field(None, description="Schwebe: the process is pending")
    meldungen: tuple[Meldung, ...] = Field((), description="Meldung 0..n")

    @property
    def ok(self) -> bool:
        """True unless the status says NOK (or a release-1 non-zero status with Fehler)."""
        if self.status_id.upper() == "NOK":
            return False
        if self.status_id.upper() == "OK":
            return True
        # Release 1 numeric status: 00000 is success; any Meldung of ArtID Fehler is not.
        return self.status_id.strip("0") == "" and not any(m.is_error for m in self.meldungen)

    def codes(self) -> tuple[str, ...]:
        return tuple(m.meldung_id for m in self.meldungen if m.meldung_id)
