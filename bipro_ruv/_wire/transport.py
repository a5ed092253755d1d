"""HTTP transport: one ``requests.Session`` injected into zeep's ``Transport``.

Policy that holds for every request bipro-ruv sends:

* connect and read timeouts are always set (zeep's default operation timeout is none),
  and so is a deadline for the whole reply (:attr:`Timeouts.reply`): a server that
  trickles one byte a second cannot hold a run for ever;
* every reply is read in bounded memory (:class:`ReplyLimits`); we ask for
  ``identity`` encoding, and a gzip/deflate body a server sends anyway is inflated
  with the same limits, so a gzip bomb is a typed error, not an exhausted machine;
* redirects are never followed: the request carries the password or the token, and a
  ``Location`` could name any host, even plain http (:class:`RedirectRefusedError`);
* TLS verification stays on (a custom CA bundle may be given, never ``verify=False``);
* plain ``http://`` is refused unless the host is a loopback address (the sandbox) or
  the caller opted in explicitly;
* the environment (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE``) is read only with ``trust_env=True``; ``~/.netrc`` never;
* every failure of the network or of a streamed body is one of our
  :class:`~bipro_ruv.errors.TransportError` subclasses, mapped here in one place;
* WSDL and XSD files are only ever loaded from the local package, never the network;
* request and reply bodies are never logged (zeep's ``Transport.post`` logs whole
  envelopes at DEBUG; this subclass replaces it).
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from zeep.transports import Transport

from bipro_ruv._redact import excerpt
from bipro_ruv._version import __version__
from bipro_ruv._wire.deadline import WATCHDOG, GuardedAdapter, current
from bipro_ruv._wire.policy import GATEWAY_STATUSES, ReplyLimits, Timeouts, check_url, parse_retry_after
from bipro_ruv._wire.reply import Exchange, network_error
from bipro_ruv.errors import (
    ConfigurationError,
    HttpStatusError,
    RedirectRefusedError,
    RetryableHttpError,
)

__all__ = ["HttpTransport", "raise_for_unreadable"]

log = logging.getLogger("bipro_ruv.transport")

USER_AGENT = f"bipro-ruv/{__version__}"
_MAX_PREPARED = 64  # (URL, headers) pairs: a handful of operations per endpoint


class HttpTransport(Transport):
    """zeep ``Transport`` with our session, timeouts, limits, URL policy and quiet logging."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeouts: Timeouts = Timeouts(),
        verify: bool | str | Path = True,
        allow_insecure_http: bool = False,
        trust_env: bool = False,
        limits: ReplyLimits = ReplyLimits(),
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
        self.limits = limits
        self.allow_insecure_http = allow_insecure_http
        self.trust_env = trust_env
        # requests would consult the environment (proxies, CA bundle, ~/.netrc) on every
        # request: a measurable cost per call, and ~/.netrc could add credentials we never
        # chose. With trust_env=True, proxies and the CA bundle are read here, once per
        # endpoint; netrc never. Without it, nothing from the environment is used.
        self.session.trust_env = False
        if verify is True and trust_env:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # Passed with every request, so nothing can replace the CA the caller chose.
        self.verify: bool | str = str(verify) if isinstance(verify, Path) else verify
        self.session.verify = self.verify
        #: Per endpoint URL, once it passed check_url(): the proxies to use (trust_env only).
        self._proxies: dict[str, dict[str, str]] = {}
        self._prepared: dict[tuple[str, tuple[tuple[str, str], ...]], requests.PreparedRequest] = {}
        if own_session:
            self.session.headers["User-Agent"] = USER_AGENT
            # Compression would only let a small reply inflate to gigabytes; BiPRO replies
            # are XML and documents that are compressed already.
            self.session.headers["Accept-Encoding"] = "identity"
            guarded = GuardedAdapter()
            self.session.mount("https://", guarded)
            self.session.mount("http://", guarded)
        # zeep mounts a file:// adapter for local WSDLs; our WSDLs are read by path,
        # so nothing needs URL-based loading at all.
        self.session.adapters.pop("file://", None)

    def use_client_certificate(self, context: ssl.SSLContext) -> None:
        """Present a client certificate (mTLS) on every https connection from now on:
        ``context`` holds it (:meth:`bipro_ruv.auth.certificate.ClientCertificate.ssl_context`).
        The connections made so far are closed."""
        old = self.session.get_adapter("https://")
        self.session.mount("https://", GuardedAdapter(ssl_context=context))
        old.close()
        self._prepared.clear()

    # zeep calls load() for WSDL/XSD imports: local paths only, never the network.
    def load(self, url: str) -> bytes:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("", "file") and not (len(scheme) == 1 and scheme.isalpha()):
            raise ConfigurationError(f"refusing to load a schema from {url!r}: bipro-ruv works offline")
        path = Path(urlsplit(url).path if scheme == "file" else url)
        return path.read_bytes()

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        """zeep's interface: the reply read whole (within the limits)."""
        with self.send(address, message, headers) as exchange:
            exchange.response._content = exchange.read()
        return exchange.response

    def send(self, address: str, message: bytes, headers: dict[str, str]) -> Exchange:
        """POST ``message`` and return the reply once its headers are in; its body is read
        through the :class:`Exchange`. Redirects, 429/503 and 502/504 raise here."""
        proxies = self._proxies.get(address)
        if proxies is None:
            check_url(address, allow_insecure_http=self.allow_insecure_http)
            found = requests.utils.get_environ_proxies(address) if self.trust_env else {}
            proxies = self._proxies[address] = found
        host = _host(address)
        started = time.monotonic()
        alarm = WATCHDOG.arm(self.timeouts.reply)
        current.alarm = alarm
        try:
            response = self.session.send(
                self._prepare(address, message, headers),
                timeout=self.timeouts.as_tuple(),
                stream=True,
                allow_redirects=False,
                verify=self.verify,
                proxies=proxies,
                cert=self.session.cert,
            )
        except requests.RequestException as exc:
            alarm.disarm()
            raise network_error(exc, host, alarm=alarm, timeouts=self.timeouts) from exc
        except BaseException:
            alarm.disarm()
            raise
        finally:
            current.alarm = None
        # A session of the caller has no guarded connections: from here on, the body is.
        alarm.attach(getattr(response.raw, "connection", None))
        exchange = Exchange(response, host, alarm, self.timeouts, self.limits)
        status = response.status_code
        log.debug(
            "POST %s -> HTTP %s (%s, %.0f ms)",
            address,
            status,
            response.headers.get("Content-Type", "no content type"),
            (time.monotonic() - started) * 1000,
        )
        if status in (429, 503) or status in GATEWAY_STATUSES:
            body = exchange.excerpt()
            exchange.close()
            raise _busy_or_gateway(host, status, response, body)
        return exchange

    def _prepare(self, address: str, message: bytes, headers: dict[str, str]) -> requests.PreparedRequest:
        """The POST of ``message``, with the session's headers, cookies, auth and hooks merged in.

        That merge costs as much CPU as the rest of a small BiPRO exchange. For the session
        this transport created (no auth, no hooks) it gives the same result every time, so
        it is done once per URL and header set and copied. A session passed in by the
        caller, or one the server has set a cookie on (a load balancer's sticky session),
        is merged on every request so nothing of it is lost.
        """
        if not self._close_session or self.session.cookies:
            merged = {"Accept-Encoding": "identity", **headers}
            return _refusing_redirects(
                self.session.prepare_request(requests.Request("POST", address, data=message, headers=merged))
            )
        key = (address, tuple(headers.items()))
        template = self._prepared.get(key)
        if template is None:
            template = _refusing_redirects(
                self.session.prepare_request(requests.Request("POST", address, headers=headers))
            )
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


def _refusing_redirects(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """``prepared`` with :func:`_refuse_redirect` as its first response hook."""
    prepared.hooks["response"].insert(0, _refuse_redirect)
    return prepared


def _refuse_redirect(response: requests.Response, **_: Any) -> None:
    """Raise for any 3xx reply, as soon as requests has it: a response hook runs before
    requests looks at a redirect itself, which it does even with ``allow_redirects=False``
    (for ``Response.next``): it would read the whole body into memory, past every
    ReplyLimits, and parse the ``Location``."""
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location")
        response.close()  # the body unread: the connection is closed, not pooled
        raise _redirect_error(_host(response.url or ""), response.status_code, location)


def _redirect_error(host: str, status: int, location: str | None) -> RedirectRefusedError:
    """Names the target host only: a Location's path and query may carry anything."""
    try:
        target = urlsplit(location or "")
    except ValueError:  # e.g. "http://[x": a server's header, not even a URL
        target = None
    target_host = target.hostname if target is not None else None
    if target is None:
        where = "an unreadable Location"
    elif target_host:
        where = f"{target_host} ({'plain http' if target.scheme.lower() == 'http' else target.scheme or '?'})"
    else:
        where = "another path on the same host" if location else "no Location"
    return RedirectRefusedError(
        f"{host} answered HTTP {status}, a redirect to {where}. bipro-ruv never follows redirects, "
        "because the request carries your password or token: check the service URL (profile or "
        "base_url) with your contact at the insurer",
        status_code=status,
        target_host=target_host,
    )


def _busy_or_gateway(host: str, status: int, response: requests.Response, body: str) -> HttpStatusError:
    """429/503 (the server did not process the request) or 502/504 (a gateway did not reach it)."""
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RetryableHttpError(
            f"{host} answered HTTP {status}"
            + (f", retry after {retry_after:.0f} s" if retry_after is not None else ""),
            status_code=status,
            retry_after=retry_after,
            body_excerpt=body,
        )
    return HttpStatusError(
        f"{host} answered HTTP {status} {response.reason or ''}: a gateway did not reach the service".replace(
            "  ", " "
        ),
        status_code=status,
        body_excerpt=body,
    )


def _host(url: str) -> str:
    """``scheme://host[:port]`` for messages: never user info, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def raise_for_unreadable(status_code: int, reason: str, body: bytes) -> None:
    """An HTTP error status whose body is not SOAP: raise :class:`HttpStatusError`."""
    if status_code >= 400:
        raise HttpStatusError(
            f"HTTP {status_code} {reason} without a SOAP message".strip(),
            status_code=status_code,
            body_excerpt=excerpt(body),
        )
