"""What the sandbox delivered, as the inbox should hold it, and journal rows for tests (test helpers)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from bipro_ruv.sandbox import Sandbox
from bipro_ruv.sandbox.mailbox import DEFECTS_THAT_FAIL
from bipro_ruv.transfer.journal import JournalDocument


def expected_hashes(sb: Sandbox, *, include_failing: bool = False) -> Counter[str]:
    """sha256 of every file a complete fetch must store (ZIP deliveries as their members)."""
    hashes: Counter[str] = Counter()
    for shipment in sb.shipments():
        if shipment.defect in DEFECTS_THAT_FAIL and not include_failing:
            continue
        for doc in shipment.documents:
            if doc.compression == "ZIP":
                with zipfile.ZipFile(io.BytesIO(doc.read_all())) as archive:
                    for info in archive.infolist():
                        if not info.is_dir():
                            hashes[hashlib.sha256(archive.read(info)).hexdigest()] += 1
            else:
                hashes[doc.sha256] += 1
    return hashes


def stored_files(inbox: Path) -> list[Path]:
    return [p for p in inbox.rglob("*") if p.is_file() and ".bipro-ruv" not in p.relative_to(inbox).parts]


def stored_hashes(inbox: Path) -> Counter[str]:
    return Counter(hashlib.sha256(p.read_bytes()).hexdigest() for p in stored_files(inbox))


def journal_document(shipment_id: str, path: str, **fields: Any) -> JournalDocument:
    """A journal row of one PDF at ``path`` (relative to the inbox); ``fields`` override the rest."""
    row = JournalDocument(
        profile="ruv",
        shipment_id=shipment_id,
        seq=0,
        path=path,
        original_name="Police.pdf",
        content_type="application/pdf",
        document_type=None,
        vsnr=None,
        vu_number="5311",
        description=None,
        size=3,
        sha256="00" * 32,
        checksum_verified=None,
        archive_name=None,
    )
    return replace(row, **fields)
