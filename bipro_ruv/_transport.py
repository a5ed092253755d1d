"""HTTP transport: one ``requests.Session`` injected into zeep's ``Transport``.

Policy that holds for every request bipro-ruv sends:

* connect and read timeouts are always set (zeep's default operation timeout is none);
* TLS verification stays on (a custom CA bundle may be given, never ``verify=False``);
* plain ``http://`` is refused unless the host is a loopback address (the sandbox) or
  the caller opted in explicitly;
* WSDL and XSD files are only ever loaded from the local package, never the network;
* request and reply bodies are never logged (zeep's ``Transport.post`` logs whole
  envelopes at DEBUG; this subclass replaces it).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from zeep.transports import Transport

from bipro_ruv._version import __version__
from bipro_ruv.errors import (
    ConfigurationError,
    HttpStatusError,
    InsecureTransportError,
    RequestTimeout,
    RetryableHttpError,
    TransportError,
)

__all__ = ["HttpTransport", "RetryPolicy", "Timeouts", "is_loopback_url", "parse_retry_after"]

log = logging.getLogger("bipro_ruv.transport")

USER_AGENT = f"bipro-ruv/{__version__}"
_MAX_PREPARED = 64  # (URL, headers) pairs: a handful of operations per endpoint


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for the TCP connect and for each read from the socket."""

    connect: float = 10.0
    read: float = 60.0

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0:
            raise ConfigurationError("timeouts must be positive; bipro-ruv never waits forever")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for 429/503 answers, honouring ``Retry-After`` up to ``max_delay``."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return float(min(self.base_delay * (2**attempt), self.max_delay))


def is_loopback_url(url: str) -> bool:
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
        if allow_insecure_http or is_loopback_url(url):
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


class HttpTransport(Transport):
    """zeep ``Transport`` with our session, timeouts, URL policy and quiet logging."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        verify: bool | str | Path = True,
        allow_insecure_http: bool = False,
    ) -> None:
        if verify is False:
            raise ConfigurationError(
                "TLS verification cannot be switched off; pass the CA bundle (path) of a test server instead"
            )
        own_session = session is None
        session = session or requests.Session()
        super().__init__(  # type: ignore[no-untyped-call]
            session=session, timeout=timeouts.connect, operation_timeout=timeouts.as_tuple()
        )
        self._close_session = own_session
        self.timeouts = timeouts
        self.allow_insecure_http = allow_insecure_http
        # requests would consult the environment (proxies, CA bundle, ~/.netrc) on every
        # request - a measurable cost per call, and ~/.netrc could add credentials we
        # never chose. Proxies and the CA bundle are read here, once; netrc never.
        self.session.trust_env = False
        if verify is True:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # Passed with every request, so nothing can replace the CA the caller chose.
        self.verify: bool | str = str(verify) if isinstance(verify, Path) else verify
        self.session.verify = self.verify
        #: Per endpoint URL, once it passed check_url(): HTTPS_PROXY / NO_PROXY as requests reads them.
        self._proxies: dict[str, dict[str, str]] = {}
        self._prepared: dict[tuple[str, tuple[tuple[str, str], ...]], requests.PreparedRequest] = {}
        self.session.headers["User-Agent"] = USER_AGENT
        # zeep mounts a file:// adapter for local WSDLs; our WSDLs are read by path,
        # so nothing needs URL-based loading at all.
        self.session.adapters.pop("file://", None)

    # zeep calls load() for WSDL/XSD imports: local paths only, never the network.
    def load(self, url: str) -> bytes:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("", "file") and not (len(scheme) == 1 and scheme.isalpha()):
            raise ConfigurationError(f"refusing to load a schema from {url!r}: bipro-ruv works offline")
        path = Path(urlsplit(url).path if scheme == "file" else url)
        return path.read_bytes()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        return self.send(address, message, headers)

    def send(
        self, address: str, message: bytes, headers: dict[str, str], *, stream: bool = False
    ) -> requests.Response:
        """POST ``message``; map network failures and unreadable statuses to our errors."""
        proxies = self._proxies.get(address)
        if proxies is None:
            check_url(address, allow_insecure_http=self.allow_insecure_http)
            proxies = self._proxies[address] = requests.utils.get_environ_proxies(address)
        started = time.monotonic()
        try:
            response = self.session.send(
                self._prepare(address, message, headers),
                timeout=self.timeouts.as_tuple(),
                stream=stream,
                verify=self.verify,
                proxies=proxies,
                cert=self.session.cert,
            )
        except requests.Timeout as exc:
            raise RequestTimeout(f"no answer from {_host(address)} within the timeout ({exc})") from exc
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"TLS handshake with {_host(address)} failed: {exc}") from exc
        except requests.RequestException as exc:
            raise TransportError(f"request to {_host(address)} failed: {exc}") from exc
        log.debug(
            "POST %s -> HTTP %s (%s, %.0f ms)",
            address,
            response.status_code,
            response.headers.get("Content-Type", "no content type"),
            (time.monotonic() - started) * 1000,
        )
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            excerpt = _body_excerpt(response, streamed=stream)
            response.close()
            raise RetryableHttpError(
                f"{_host(address)} answered HTTP {response.status_code}"
                + (f", retry after {retry_after:.0f} s" if retry_after is not None else ""),
                status_code=response.status_code,
                retry_after=retry_after,
                body_excerpt=excerpt,
            )
        return response

    def _prepare(self, address: str, message: bytes, headers: dict[str, str]) -> requests.PreparedRequest:
        """The POST of ``message``, with the session's headers, cookies, auth and hooks merged in.

        That merge costs as much CPU as the rest of a small BiPRO exchange. For the session
        this transport created (no auth, no hooks) it gives the same result every time, so
        it is done once per URL and header set and copied. A session passed in by the
        caller, or one the server has set a cookie on (a load balancer's sticky session),
        is merged on every request so nothing of it is lost.
        """
        if not self._close_session or self.session.cookies:
            return self.session.prepare_request(
                requests.Request("POST", address, data=message, headers=headers)
            )
        key = (address, tuple(headers.items()))
        template = self._prepared.get(key)
        if template is None:
            template = self.session.prepare_request(requests.Request("POST", address, headers=headers))
            if len(self._prepared) < _MAX_PREPARED:
                self._prepared[key] = template
        prepared = template.copy()
        prepared.body = message
        prepared.headers["Content-Length"] = str(len(message))
        return prepared

    def close(self) -> None:
        if getattr(self, "_close_session", False):
            self.session.close()

    def __del__(self) -> None:
        # zeep's __del__ assumes a fully built object; ours may fail in __init__.
        self.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _body_excerpt(response: requests.Response, *, streamed: bool, limit: int = 300) -> str:
    try:
        if streamed:
            raw = response.raw.read(limit, decode_content=True) if response.raw is not None else b""
        else:
            raw = response.content[:limit]
    except (OSError, ValueError, requests.RequestException):
        return ""
    if not isinstance(raw, bytes):
        return ""
    return " ".join(raw.decode("utf-8", "replace").split())


def raise_for_unreadable(response: requests.Response, body: bytes) -> None:
    """An HTTP error status whose body is not SOAP: raise :class:`HttpStatusError`."""
    if response.status_code >= 400:
        excerpt = " ".join(body[:300].decode("utf-8", "replace").split())
        raise HttpStatusError(
            f"HTTP {response.status_code} {response.reason or ''} without a SOAP message".strip(),
            status_code=response.status_code,
            body_excerpt=excerpt,
        )
