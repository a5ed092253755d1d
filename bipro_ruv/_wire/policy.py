"""What every request obeys: timeouts, reply limits, the retry policy and the URL policy.

Plain values and pure functions (no network): :class:`Timeouts` (connect, read and a
deadline for a whole reply), :class:`ReplyLimits` (with :func:`reply_too_large`, the error
when one is exceeded), :class:`RetryPolicy` (which failures are repeated, with back-off
and jitter), :func:`check_url` (https only, loopback aside) and :func:`parse_retry_after`
(RFC 9110 §10.2.3).
"""

from __future__ import annotations

import ipaddress
import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from bipro_ruv.errors import (
    BiproError,
    ConfigurationError,
    HttpStatusError,
    InsecureTransportError,
    NetworkError,
    ReplyDeadlineExceeded,
    ReplyTooLargeError,
    RequestTimeout,
    RetryableHttpError,
)

__all__ = [
    "GATEWAY_STATUSES",
    "MiB",
    "ReplyLimits",
    "RetryPolicy",
    "Timeouts",
    "check_url",
    "parse_retry_after",
    "reply_too_large",
]

MiB = 1 << 20
#: Gateway errors: the request may or may not have reached the service behind the gateway.
GATEWAY_STATUSES = frozenset({502, 504})


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait: for the TCP connect, for each read from the socket, and for the
    whole exchange from sending the request to the last byte of the reply.

    ``reply`` (default 30 minutes) lets a 200 MB document arrive over a line of about
    1 Mbit/s; raise it for larger documents on slower lines.
    """

    connect: float = 10.0
    read: float = 60.0
    reply: float = 1800.0

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0 or self.reply <= 0:
            raise ConfigurationError("timeouts must be positive; bipro-ruv never waits forever")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class ReplyLimits:
    """How much of a reply bipro-ruv accepts, in bytes (after any Content-Encoding is undone).

    ``xml_bytes`` bounds what is held in memory: a whole XML reply, the root part of an
    MTOM reply, or the XML of an inline getShipment reply around its documents (the
    documents themselves are streamed to disk). ``body_bytes`` bounds one reply as a
    whole, documents included.
    """

    xml_bytes: int = 64 * MiB
    body_bytes: int = 4096 * MiB

    def __post_init__(self) -> None:
        if self.xml_bytes <= 0 or self.body_bytes <= 0:
            raise ConfigurationError("reply limits must be positive")


def reply_too_large(text: str, limit_name: str, limit: int) -> ReplyTooLargeError:
    """The error for a reply (or part) beyond ``limit`` bytes: ``text`` says what, and the
    message goes on to name the setting (``limit_name``) and how to raise it."""
    return ReplyTooLargeError(
        f"{text} ({limit_name}); raise it with Client(limits=ReplyLimits(...)) if such replies are expected",
        limit_name=limit_name,
        limit=limit,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often a failed exchange is repeated.

    Repeated for every operation: 429/503 (the server says it did not process the
    request; ``Retry-After`` is honoured up to ``max_delay``) and connections that
    could not be established (refused, DNS failure, connect timeout). Repeated only for
    ``idempotent`` operations (list, get, links): a connection reset or a body cut off
    after the request went out, a read timeout, 502/504 from a gateway. A login or an
    acknowledgement is never sent twice on a guess. Delays grow exponentially from
    ``base_delay`` with jitter (so many clients do not return at once), and the waits of
    one call add up to at most ``max_elapsed`` seconds.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 60.0
    max_elapsed: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("RetryPolicy.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise ConfigurationError("RetryPolicy delays must not be negative")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (0-based ``attempt`` just failed)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = float(min(self.base_delay * (2**attempt), self.max_delay))
        # "Equal jitter": at least half the exponential delay, the rest random.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - not cryptographic

    @staticmethod
    def retryable(error: BiproError, *, idempotent: bool) -> bool:
        """Whether ``error`` may be answered by sending the same request again."""
        if isinstance(error, RetryableHttpError):
            return True
        if isinstance(error, ReplyDeadlineExceeded):
            return False  # it already took Timeouts.reply; do not do that twice
        if isinstance(error, NetworkError):
            return idempotent or not error.request_sent
        if isinstance(error, RequestTimeout):
            return idempotent
        if isinstance(error, HttpStatusError):
            return idempotent and error.status_code in GATEWAY_STATUSES
        return False


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse anything but https, except plain http to loopback or with explicit opt-in."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https":
        return
    if scheme == "http":
        if allow_insecure_http or _is_loopback_url(url):
            return
        raise InsecureTransportError(
            f"refusing plain http to {urlsplit(url).hostname}: credentials and documents would travel "
            "unencrypted (use https, or allow_insecure_http=True for a test system)"
        )
    raise ConfigurationError(f"unsupported URL scheme {scheme!r} in {url!r}")


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
