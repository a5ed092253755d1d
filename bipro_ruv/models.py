"""Models shared by every BiPRO service: :class:`Status` and :class:`Message` (BiPRO Norm 250,
``nachrichten`` namespace, ``CT_Status`` / ``CT_Meldung``), and :class:`FrozenModel`, the base
of every pydantic model of the library.

Status codes are data: a call that succeeds returns its ``Status`` with the result,
and only ``StatusID`` NOK (or a SOAP Fault) becomes an exception.

Names are English; each field's description names the BiPRO element it holds
(``Meldung`` -> :class:`Message`, ``ProzessID`` -> ``process_id``, ...), and the README's
glossary lists them all.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["FrozenModel", "Message", "MessageKind", "Status"]


class FrozenModel(BaseModel):
    """Base of the library's own models: immutable (hashable where the fields are) and strict.

    ``extra="forbid"``: a misspelt or renamed field name is an error, not silently dropped.
    Tolerant reading of what a server sends happens before a model is built. A model that
    needs more sets its own ``model_config = ConfigDict(...)``; pydantic merges it with this one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


class MessageKind(str, Enum):
    """``nachrichten:ArtID`` of a Meldung (``ST_ArtMeldung``): the official values only."""

    ERROR = "Fehler"
    WARNING = "Warnung"
    NOTE = "Hinweis"

    @classmethod
    def parse(cls, raw: str | None) -> MessageKind | None:
        """The kind an ArtID as sent names, or None if absent or not one of the three.

        Read tolerantly (surrounding blanks, any case): a server writing ``FEHLER`` still
        reports an error. The text as sent is kept beside it in :attr:`Message.kind_raw`.
        """
        if raw is None:
            return None
        wanted = raw.strip().casefold()
        return next((kind for kind in cls if kind.value.casefold() == wanted), None)


class Message(FrozenModel):
    """One message of a BiPRO status (``nachrichten:Meldung``, ``CT_Meldung``).

    ``kind`` is the parsed ArtID, ``kind_raw`` the ArtID as sent: a value outside the code
    list (a server's own, a typo) gives ``kind=None`` and stays readable in ``kind_raw``.
    Given only one of the two, the other is derived; given both, they must agree.
    """

    kind: MessageKind | None = Field(
        None, description="ArtID (ST_ArtMeldung): Fehler, Warnung or Hinweis; None if absent or unknown"
    )
    kind_raw: str | None = Field(None, description="ArtID as sent (also when it is no official value)")
    code: str | None = Field(None, description="MeldungID, e.g. 04000 or 00961 (ST_Meldung)")
    text: str | None = Field(None, description="Text")
    source: str | None = Field(None, description="Quelle: XPath of the offending element")
    reference: str | None = Field(
        None, description="Identifikationsnummer: the ID of the object the Meldung is about"
    )

    @model_validator(mode="before")
    @classmethod
    def _kind_and_raw_agree(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kind, raw = data.get("kind"), data.get("kind_raw")
        if raw is not None and kind is None:
            return {**data, "kind": MessageKind.parse(raw)}
        if kind is not None and raw is None:
            return {**data, "kind_raw": MessageKind(kind).value}
        if kind is not None and MessageKind.parse(raw) is not MessageKind(kind):
            raise ValueError(f"kind {MessageKind(kind).value!r} does not match kind_raw {raw!r}")
        return data

    @property
    def is_error(self) -> bool:
        """ArtID Fehler."""
        return self.kind is MessageKind.ERROR


class Status(FrozenModel):
    """``nachrichten:Status`` of a BiPRO response (``CT_Status``).

    ``status_id`` is ``OK``/``NOK`` (release 2.x) or numeric (release 1, e.g. Norm 440
    ``00000``). Providers omit ProzessID, Zeitstempel and Schwebe freely, so all fields
    but the id are optional. The two timestamps are kept as sent (``_raw``): providers
    write them without a zone or in other formats, and nothing here needs them parsed.
    """

    process_id: str | None = Field(None, description="ProzessID")
    timestamp_raw: str | None = Field(None, description="Zeitstempel as sent (often without time zone)")
    status_id: str = Field(..., description="StatusID: OK, NOK, or a numeric release-1 code")
    valid_until_raw: str | None = Field(None, description="Gueltigkeitsende as sent")
    pending: bool | None = Field(None, description="Schwebe: the process is pending (not finished)")
    messages: tuple[Message, ...] = Field((), description="Meldung 0..n")

    @property
    def ok(self) -> bool:
        """True unless the status says NOK (or a release-1 non-zero status with Fehler)."""
        if self.status_id.upper() == "NOK":
            return False
        if self.status_id.upper() == "OK":
            return True
        # Release 1 numeric status: 00000 is success; any Meldung of ArtID Fehler is not.
        return self.status_id.strip("0") == "" and not any(m.is_error for m in self.messages)

    def codes(self) -> tuple[str, ...]:
        """The MeldungIDs of the messages, in order."""
        return tuple(m.code for m in self.messages if m.code)
