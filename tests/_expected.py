"""What the sandbox delivered, as the inbox should hold it (test helper)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections import Counter
from pathlib import Path

from bipro_ruv.sandbox import Sandbox
from bipro_ruv.sandbox.mailbox import DEFECTS_THAT_FAIL


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
