"""Hostile shipments of the sandbox TransferService (BiPRO Norm 430 ``Lieferung``): one per defect.

What a correct client does with them:

* ``DEFECTS_THAT_PASS`` - hostile file names (path traversal, reserved device names, control characters,
  300 characters, no extension, two documents of the same name). Not an error: the client sanitizes the names,
  stores every document inside its target folder and may acknowledge the shipment.
* ``DEFECTS_THAT_FAIL`` - a zip bomb, a zip inside a zip, a Pruefsumme that does not match, and a multipart
  reply the server cuts short. Each is an error of that one shipment: the client stores nothing of it, does
  not acknowledge it, and carries on with the other shipments.

Control characters in names are limited to TAB, CR and LF (plus Unicode format characters): XML 1.0 cannot
carry other C0 controls, so no real server can send them either. Hostile *servers* (redirects, gzip bombs,
cut bodies...) are not content but fault kinds (:class:`~bipro_ruv.sandbox.FaultKind`).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from bipro_ruv.sandbox.content.contracts import SandboxContract, find_contract
from bipro_ruv.sandbox.content.pdf import make_pdf
from bipro_ruv.sandbox.content.shipments import (
    CHUNK_SIZE,
    ZIP_TYPE,
    SeedDocument,
    SeedShipment,
    make_document,
    make_shipment,
    zip_archive,
    zip_info,
)

__all__ = ["DEFECTS_THAT_FAIL", "DEFECTS_THAT_PASS", "ZIP_BOMB_MEMBER_SIZE", "hostile_shipments"]

ZIP_BOMB_MEMBER_SIZE = 200 * (1 << 20)
"""Uncompressed size of the zip bomb's only member; the archive itself stays near 200 KB."""

DEFECTS_THAT_PASS = frozenset(
    {"path_traversal", "reserved_name", "control_characters", "long_name", "no_extension", "duplicate_names"}
)
DEFECTS_THAT_FAIL = frozenset({"zip_bomb", "nested_zip", "wrong_checksum", "broken_multipart"})

_STAMP = datetime(2024, 8, 7, 4, 0)  # archive timestamps of the hostile set (the day of the merger file)


def _hostile_pdf(note: str, file_name: str, *, contract: SandboxContract | None = None) -> SeedDocument:
    contract = contract or find_contract("30418820375")
    pdf = make_pdf(
        "Sandbox-Prüfdokument",
        ["SANDBOX - Testdokument, keine echte Korrespondenz", note, f"Versicherungsnummer: {contract.vsnr}"],
    )
    return make_document(
        pdf, file_name, dokumentart="SonstigesDokument", contract=contract, kurzbeschreibung=note
    )


@lru_cache(maxsize=1)
def _zip_bomb() -> bytes:
    """A zip whose single member inflates to ``ZIP_BOMB_MEMBER_SIZE`` zeros; compressed while streaming."""
    buffer = io.BytesIO()
    zeros = bytes(CHUNK_SIZE)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open(zip_info("Bestandsdaten.csv", _STAMP), "w") as member,
    ):
        for _ in range(ZIP_BOMB_MEMBER_SIZE // CHUNK_SIZE):
            member.write(zeros)
    return buffer.getvalue()


def _nested_zip() -> bytes:
    inner = zip_archive(
        [("Versicherungsschein.pdf", _hostile_pdf("Verschachteltes Archiv", "x.pdf").read_all())], _STAMP
    )
    return zip_archive([("Dokumente.zip", inner)], _STAMP)


_Case = tuple[str, str, list[SeedDocument]]  # shipment ID, defect, documents


def hostile_shipments(today: date | None = None) -> list[SeedShipment]:
    """One shipment per hostile case; ``defect`` names it (see the module docstring for pass vs. fail)."""
    placed = datetime.combine((today or date.today()) - timedelta(days=1), time(2, 0))
    cases = [*_name_cases(), *_content_cases()]
    return [
        make_shipment(
            shipment_id,
            "100007000",
            "1002",
            placed + timedelta(minutes=index),
            documents,
            sparte=None,
            defect=defect,
        )
        for index, (shipment_id, defect, documents) in enumerate(cases)
    ]


def _name_cases() -> list[_Case]:
    """Hostile file names: each document is stored under a safe name (DEFECTS_THAT_PASS)."""
    return [
        ("HOSTILE-PATH-UNIX", "path_traversal", [_hostile_pdf("Pfad", "../../../etc/passwd")]),
        ("HOSTILE-PATH-WIN", "path_traversal", [_hostile_pdf("Pfad", "..\\..\\Windows\\win.ini")]),
        ("HOSTILE-PATH-ABS", "path_traversal", [_hostile_pdf("Pfad", "/etc/cron.d/evil")]),
        ("HOSTILE-PATH-DRIVE", "path_traversal", [_hostile_pdf("Pfad", "C:\\evil.pdf")]),
        (
            "HOSTILE-RESERVED",
            "reserved_name",
            [_hostile_pdf("Gerätename", "CON.pdf"), _hostile_pdf("Gerätename", "LPT1")],
        ),
        (
            "HOSTILE-CONTROL",
            "control_characters",
            [
                _hostile_pdf("Steuerzeichen", "Nachtrag\r\nContent-Type: text/html\t.pdf"),
                _hostile_pdf("Richtungszeichen", "Rechnung_\u202efdp.exe"),
            ],
        ),
        (
            "HOSTILE-LONG",
            "long_name",
            [_hostile_pdf("Langer Name", "Langer_Dateiname_" + "ä" * 279 + ".pdf")],
        ),
        ("HOSTILE-NOEXT", "no_extension", [_hostile_pdf("Ohne Endung", "Versicherungsschein")]),
        (
            "HOSTILE-DUPLICATE",
            "duplicate_names",
            [
                _hostile_pdf("Erstes Dokument", "Dokument.pdf"),
                _hostile_pdf("Zweites Dokument", "Dokument.pdf", contract=find_contract("48205517093")),
            ],
        ),
    ]


def _content_cases() -> list[_Case]:
    """Hostile content and framing: the shipment fails, nothing of it is stored (DEFECTS_THAT_FAIL)."""
    return [
        (
            "HOSTILE-ZIPBOMB",
            "zip_bomb",
            [
                make_document(
                    _zip_bomb(),
                    "Datenpaket.zip",
                    content_type=ZIP_TYPE,
                    vu_number="5438",
                    compression="ZIP",
                    kurzbeschreibung="Datenpaket",
                    checksum="SHA256",
                )
            ],
        ),
        (
            "HOSTILE-NESTED",
            "nested_zip",
            [
                make_document(
                    _nested_zip(),
                    "Archiv.zip",
                    content_type=ZIP_TYPE,
                    vu_number="5438",
                    compression="ZIP",
                    kurzbeschreibung="Archiv",
                )
            ],
        ),
        ("HOSTILE-CHECKSUM", "wrong_checksum", [_wrong_checksum()]),
        (
            "HOSTILE-MULTIPART",
            "broken_multipart",
            [_hostile_pdf("Abgeschnittene Antwort", "Police_abgeschnitten.pdf")],
        ),
    ]


def _wrong_checksum() -> SeedDocument:
    document = _hostile_pdf("Falsche Prüfsumme", "Police_Pruefsumme.pdf")
    wrong = hashlib.sha256(document.read_all() + b"\n").hexdigest()
    return replace(document, checksum=("SHA256", wrong))
