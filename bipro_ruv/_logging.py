"""Keep secrets out of log records, whatever logs them and at whatever level.

zeep logs whole SOAP envelopes at DEBUG (the UsernameToken password and the
SecurityContextToken included); bipro-ruv does not use that code path, but a filter
sits on every logger that could carry an envelope, as a second line of defence.
It masks (1) known secret values registered at run time (the password, every token
identifier, SAML assertions) and (2) the XML elements that hold secrets.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["RedactingFilter", "install_redaction", "register_secret"]

REDACTED = "***"

_ELEMENT_PATTERNS = [
    # <wsse:Password ...>secret</wsse:Password>, <Identifier>bipro:...</Identifier>, SAML assertions
    re.compile(
        r"(<(?:[\w.-]+:)?(?:Password|Identifier|Nonce|BinarySecurityToken)\b[^>]*>)(.*?)"
        r"(</(?:[\w.-]+:)?(?:Password|Identifier|Nonce|BinarySecurityToken)>)",
        re.S,
    ),
    re.compile(
        r"(<(?:[\w.-]+:)?(?:EncryptedAssertion|Assertion)\b[^>]*>)(.*?)"
        r"(</(?:[\w.-]+:)?(?:EncryptedAssertion|Assertion)>)",
        re.S,
    ),
]

_lock = threading.Lock()
_secrets: set[str] = set()
_MAX_SECRETS = 4096

# Loggers that may carry envelopes or URLs with secrets: ours, zeep's transport and
# binding loggers, and urllib3/requests should anyone set them to DEBUG.
_LOGGERS = (
    "bipro_ruv",
    "zeep",
    "zeep.transports",
    "zeep.wsdl.bindings.soap",
    "zeep.xsd.schema",
    "urllib3",
    "urllib3.connectionpool",
    "requests",
)


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later log record (passwords, token identifiers)."""
    if not value or len(value) < 4:
        # Very short values would mask innocent text everywhere; they are still
        # covered by the element patterns.
        return
    with _lock:
        if len(_secrets) >= _MAX_SECRETS:
            _secrets.clear()
        _secrets.add(value)


def redact(text: str) -> str:
    for pattern in _ELEMENT_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with secrets masked; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_installed = False


def install_redaction() -> None:
    """Attach one :class:`RedactingFilter` to each logger that may carry secrets (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    shared = RedactingFilter()
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(shared)
