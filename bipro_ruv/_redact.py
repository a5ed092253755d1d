"""Keep secrets out of log records and error texts, whatever creates them.

Two kinds of secret are masked as ``***``: (1) values registered at run time with
:func:`register_secret` (the password, every SecurityContextToken identifier), kept for
the life of the process, and (2) the XML elements that hold secrets (Password,
Identifier, Nonce, BinarySecurityToken, an mTAN's TextChallengeResponse, SAML assertions),
whatever their value.

Log records: a filter on a logger only sees records created on that very logger, not on
its children, so a filter on ``bipro_ruv`` misses ``bipro_ruv.soap``. Instead
:func:`install_redaction` wraps the process's LogRecord factory, the one place every
record passes through when it is created, before any logger, filter or handler sees it.
Records of the ``bipro_ruv``, ``zeep``, ``urllib3`` and ``requests`` hierarchies (zeep
logs whole envelopes at DEBUG) get their message formatted and masked, and their
traceback and stack turned into masked text. Other loggers' records are left alone, and
so are attributes given with ``extra=`` (set after the factory ran; bipro-ruv passes none).

Error texts: :class:`~bipro_ruv.errors.BiproError` masks its message and Meldungen with
:func:`redact`, so a server that quotes a token or password back reaches no exception
text, CLI output or journal row.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from typing import Any

__all__ = [
    "RedactingFilter",
    "excerpt",
    "install_redaction",
    "redact",
    "register_secret",
]

REDACTED = "***"

#: Logger hierarchies whose records are masked: ours and the HTTP/SOAP libraries below us.
COVERED_LOGGERS = ("bipro_ruv", "zeep", "urllib3", "requests")
_COVERED_CHILDREN = tuple(f"{name}." for name in COVERED_LOGGERS)

_ELEMENT_PATTERNS = [
    # <wsse:Password ...>secret</wsse:Password>, <Identifier>bipro:...</Identifier>, SAML assertions
    re.compile(
        r"(<(?:[\w.-]+:)?(?:Password|Identifier|Nonce|BinarySecurityToken|TextChallengeResponse)\b[^>]*>)(.*?)"
        r"(</(?:[\w.-]+:)?(?:Password|Identifier|Nonce|BinarySecurityToken|TextChallengeResponse)>)",
        re.S,
    ),
    re.compile(
        r"(<(?:[\w.-]+:)?(?:EncryptedAssertion|Assertion)\b[^>]*>)(.*?)"
        r"(</(?:[\w.-]+:)?(?:EncryptedAssertion|Assertion)>)",
        re.S,
    ),
]

# Shorter values would mask innocent text everywhere; the element patterns still cover them.
_MIN_LENGTH = 4
_KEY_LENGTH = 8  # the last characters of a secret that index it
_FEW = 256  # up to this many secrets, testing each with ``in`` is faster than the index
_LONGEST_SECRET = 1024  # characters; passwords and token identifiers are far shorter


class _SecretIndex:
    """Registered secrets, found in a text without testing each of them.

    Testing every secret with ``in`` costs time in proportion to their number, and a
    long-running process registers a token about every ten minutes, for years. So each
    secret is indexed under its last ``k = min(len, 8)`` characters; a text is cut into
    all its k-character windows (one pass per k in use, usually just 8) and only the
    secrets indexed under a window found are tested with ``in``. The cost follows the
    length of the text, not the number of secrets. The last characters, not the first:
    token identifiers often share a prefix (``urn:uuid:``, ``bipro:``) and differ at the
    end. With only a few secrets, testing each is faster still.
    """

    def __init__(self, *, few: int = _FEW) -> None:
        self._few = few
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        # key -> the secret indexed under it, or a tuple of them (rare; saves memory)
        self._keys: dict[str, str | tuple[str, ...]] = {}
        self._key_lengths: dict[int, None] = {}  # the k in use, in order of first use

    def __len__(self) -> int:
        return len(self._secrets)

    def add(self, secret: str) -> None:
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            key = secret[-_KEY_LENGTH:]
            bucket = _bucket(self._keys.get(key, ()))
            self._keys[key] = (*bucket, secret) if bucket else secret
            self._key_lengths[len(key)] = None

    def find(self, text: str) -> list[str]:
        """The registered secrets that occur in ``text``, longest first."""
        with self._lock:
            few = tuple(self._secrets) if len(self._secrets) <= self._few else None
            key_lengths = tuple(self._key_lengths)
        if few is not None:
            return sorted((secret for secret in few if secret in text), key=len, reverse=True)
        windows = {text[i : i + k] for k in key_lengths for i in range(len(text) - k + 1)}
        candidates: set[str] = set()
        with self._lock:
            for key in self._keys.keys() & windows:
                candidates.update(_bucket(self._keys[key]))
        return sorted((secret for secret in candidates if secret in text), key=len, reverse=True)


def _bucket(held: str | tuple[str, ...]) -> tuple[str, ...]:
    return (held,) if isinstance(held, str) else held


_index = _SecretIndex()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later log record and error text (passwords, token identifiers).

    Registered values are kept for the life of the process: forgetting one could let it
    through later, and the index costs about 140 bytes per token (some 7 MB a year for a
    token every ten minutes).
    """
    if value and len(value) >= _MIN_LENGTH:
        _index.add(value)
        # A server quoting it in XML or an HTML page escapes it: "a&b" arrives as "a&amp;b".
        for escaped in (_xml_escaped(value), html.escape(value, quote=True)):
            if escaped != value:
                _index.add(escaped)


def _xml_escaped(value: str) -> str:
    """``value`` as XML text content (lxml, most Java serializers): ``& < >`` only."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mask_element(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED + match.group(3)


def redact(text: str) -> str:
    """``text`` with secret XML elements and every registered secret replaced by ``***``."""
    if "<" in text:
        for pattern in _ELEMENT_PATTERNS:
            text = pattern.sub(_mask_element, text)
    for secret in _index.find(text):
        text = text.replace(secret, REDACTED)
    return text


def excerpt(data: bytes, limit: int = 300) -> str:
    """The start of a reply body as one line, for an error message: secrets are masked
    *before* it is cut to ``limit`` characters, so no secret is cut in half and half shown."""
    window = limit * 16
    text = redact(data[:window].decode("utf-8", "replace"))
    if len(data) >= window:
        # The window may end inside a secret, whose head redact() cannot recognize; after
        # white space is collapsed, that head could be within ``limit``. Drop the window's
        # end, longer than any password or token identifier.
        text = text[: max(0, len(text) - _LONGEST_SECRET)]
    return " ".join(text.split())[:limit]


_FORMATTER = logging.Formatter()


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a log call must not raise; the text is kept, masked
        try:
            return f"{record.msg!s} (unformattable arguments {record.args!r})"
        except Exception:  # noqa: BLE001 - even str()/repr() of the arguments failed
            return "(unformattable log message)"


def redact_record(record: logging.LogRecord) -> None:
    """Mask ``record`` in place: message and arguments, traceback, stack.

    The message is formatted now (``msg % args``) and stored masked, without arguments.
    A traceback becomes masked ``exc_text`` and ``exc_info`` is dropped, so that no
    handler can render the exception again from the live objects, unmasked.
    """
    record.msg = redact(_message(record))
    record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _covered(name: object) -> bool:
    return isinstance(name, str) and (name in COVERED_LOGGERS or name.startswith(_COVERED_CHILDREN))


class _RedactingRecordFactory:
    """A LogRecord factory that calls the one it replaced, then masks covered records."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.wrapped(*args, **kwargs)
        if _covered(record.name):
            redact_record(record)
        return record


class RedactingFilter(logging.Filter):
    """Masks every record it sees; never drops one.

    Not needed for bipro-ruv's own records (the record factory masks those); for a
    handler that also receives records of other loggers which may quote secrets.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_install_lock = threading.Lock()


def install_redaction() -> None:
    """Make the process's LogRecord factory mask covered records (idempotent).

    Called on ``import bipro_ruv`` and by every :class:`~bipro_ruv.Client`. A factory set
    later by someone else usually chains to ours; one that does not is wrapped again by
    the next call. Masking twice changes nothing.
    """
    with _install_lock:
        current = logging.getLogRecordFactory()
        if not isinstance(current, _RedactingRecordFactory):
            logging.setLogRecordFactory(_RedactingRecordFactory(current))
