"""Spooling and hashing: digests computed while bytes stream to disk, ``Pruefsumme`` checks.

BiPRO Norm 430.5 ``CT_Datei/Pruefsumme{Typ, Wert}``. Only SHA-256 is computed while a
document streams to its spool file (:class:`MultiHasher` with its default): the journal
and ``Document.sha256`` need it for every file. A ``Pruefsumme`` of another ``Typ``
(MD5, SHA-1) costs one read of that file then, instead of every document paying for
three digests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from bipro_ruv.errors import ChecksumMismatchError
from bipro_ruv.models import FrozenModel

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "ChecksumResult",
    "MultiHasher",
    "normalize_algorithm",
    "sha256_file",
    "verify_checksum",
]

_READ_SIZE = 1 << 20

SUPPORTED_ALGORITHMS = ("md5", "sha1", "sha256")
#: What spooling computes: the journal and ``Document.sha256`` need it for every file.
SPOOL_ALGORITHMS = ("sha256",)


class MultiHasher:
    """Digests of one byte stream at once, plus its length: SHA-256 unless told otherwise.

    Feed it while spooling; :meth:`hexdigests` then answers a ``Pruefsumme`` of any of
    its ``algorithms`` without reading the file again (:func:`verify_checksum`
    ``known=``). MD5 and SHA-1 serve integrity checks only (``usedforsecurity=False``
    keeps them available on FIPS systems).
    """

    def __init__(self, algorithms: Iterable[str] = SPOOL_ALGORITHMS) -> None:
        self.algorithms = tuple(algorithms)
        unknown = sorted(set(self.algorithms) - set(SUPPORTED_ALGORITHMS))
        if unknown or not self.algorithms:
            raise ValueError(f"algorithms must be some of {SUPPORTED_ALGORITHMS}, got {self.algorithms}")
        self._hashes = [hashlib.new(name, usedforsecurity=False) for name in self.algorithms]
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        for digest in self._hashes:
            digest.update(data)
        self.size += len(data)

    def hexdigests(self) -> dict[str, str]:
        """``{"sha256": ...}`` (one entry per algorithm) in lower-case hex."""
        return {name: h.hexdigest() for name, h in zip(self.algorithms, self._hashes, strict=True)}


def normalize_algorithm(typ: str) -> str | None:
    """``MD5``, ``SHA-1``, ``sha_256``... -> ``md5``, ``sha1``, ``sha256``; None if unsupported."""
    key = re.sub(r"[\s_-]", "", typ).lower()
    return key if key in SUPPORTED_ALGORITHMS else None


class ChecksumResult(FrozenModel):
    """Outcome of a ``Pruefsumme`` check that did not fail.

    ``verified`` is False when the check could not be made (unknown ``Typ``, empty or
    unreadable ``Wert``): the document is kept and ``reason`` says why it is unverified.
    """

    verified: bool
    algorithm: str | None
    expected: str
    actual: str | None = None
    reason: str | None = None


def _parse_digest(value: str, algorithm: str) -> bytes | None:
    """The digest in ``value`` given as hex (any case) or base64; None if it is neither."""
    size = hashlib.new(algorithm, usedforsecurity=False).digest_size
    compact = re.sub(r"\s", "", value)
    if re.fullmatch(rf"[0-9A-Fa-f]{{{size * 2}}}", compact):
        return bytes.fromhex(compact)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


_H = TypeVar("_H", bound=_Hasher)


def _read_into(path: Path, hasher: _H) -> _H:
    """Feed the file at ``path`` to ``hasher`` in blocks; returns ``hasher``."""
    with path.open("rb") as source:
        while chunk := source.read(_READ_SIZE):
            hasher.update(chunk)
    return hasher


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the file at ``path`` (read in blocks, never whole)."""
    return _read_into(path, hashlib.sha256()).hexdigest()


def _hash_file(path: Path, algorithm: str) -> str:
    return _read_into(path, hashlib.new(algorithm, usedforsecurity=False)).hexdigest()


def verify_checksum(
    source: Path | Mapping[str, str], typ: str, expected: str, *, known: Mapping[str, str] | None = None
) -> ChecksumResult:
    """Check a BiPRO ``Pruefsumme{Typ, Wert}`` against a file or its known digests.

    ``source`` is the file, or the hex digests computed while it was written
    (:meth:`MultiHasher.hexdigests`, ``SpooledPart.digests``). For a file, ``known``
    holds the digests computed while it was written: one of them is used as it is, and
    only an algorithm missing there (MD5 or SHA-1 after spooling, which computes SHA-256
    alone) is computed by reading the file once. ``Typ`` may be spelled ``MD5``,
    ``SHA1``/``SHA-1``, ``SHA256``/``SHA-256`` in any case; ``Wert`` may be hex in any
    case or base64.

    A mismatch raises :class:`ChecksumMismatchError` naming both values; the file
    itself is left alone for the caller to quarantine. A checksum that cannot be
    checked returns ``verified=False`` instead of failing, so an unknown algorithm
    never costs the document.
    """
    algorithm = normalize_algorithm(typ)
    if algorithm is None:
        return ChecksumResult(
            verified=False, algorithm=None, expected=expected, reason=f"unsupported Pruefsumme Typ {typ!r}"
        )
    wanted = _parse_digest(expected, algorithm)
    if wanted is None:
        return ChecksumResult(
            verified=False,
            algorithm=algorithm,
            expected=expected,
            reason=f"Pruefsumme Wert {expected!r} is neither hex nor base64 of a {algorithm} digest",
        )
    if not isinstance(source, Path):
        if algorithm not in source:
            raise ValueError(f"no {algorithm} digest among {sorted(source)}")
        actual = source[algorithm].lower()
    elif known is not None and algorithm in known:
        actual = known[algorithm].lower()
    else:
        actual = _hash_file(source, algorithm)
    if actual != wanted.hex():
        raise ChecksumMismatchError(
            f"Pruefsumme mismatch ({algorithm}): expected {expected.strip()} ({wanted.hex()}), got {actual}"
        )
    return ChecksumResult(verified=True, algorithm=algorithm, expected=expected, actual=actual)
