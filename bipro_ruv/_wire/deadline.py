"""The whole-reply deadline: one watchdog thread shuts down the socket of an exchange
that outlives :attr:`~bipro_ruv._wire.policy.Timeouts.reply`.

A per-read timeout does not stop a server that trickles one byte a second; shutting the
socket down wakes the blocked read at once, whatever the library above it is doing.
The connections of the session bipro-ruv creates are guarded from the first byte of the
request on (:class:`GuardedAdapter`); a session the caller passes in, from the reply's
headers on.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import socket
import ssl
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["WATCHDOG", "Alarm", "GuardedAdapter", "current"]

log = logging.getLogger("bipro_ruv.transport")


class Alarm:
    """The deadline of one exchange. When it fires, the socket is shut down, so a read
    blocked on a trickling server returns at once, whatever the per-read timeout."""

    __slots__ = ("_connection", "deadline", "done", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = False
        self.fired = False
        self._connection: Any = None

    def attach(self, connection: Any) -> None:
        with _ALARM_LOCK:
            if self.done:
                return
            self._connection = connection
            if self.fired:
                _shut(connection)

    def fire(self) -> None:
        with _ALARM_LOCK:
            self.fired = True
            if self._connection is not None and not self.done:
                _shut(self._connection)

    def disarm(self) -> None:
        """From now on the connection is not this exchange's any more (it may be back in the
        pool, serving another one): the alarm must never shut it down after this returns."""
        with _ALARM_LOCK:
            self.done = True
            self._connection = None


#: Orders fire() (the watchdog thread) against disarm() and attach() (the exchange's thread).
_ALARM_LOCK = threading.Lock()


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    # TLS to an https:// proxy and TLS inside it: urllib3's SSLTransport wraps the socket.
    while sock is not None and not isinstance(sock, socket.socket):
        sock = getattr(sock, "socket", None)
    if sock is not None:
        # The plain socket's shutdown (not SSLSocket's): it only wakes the reader.
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for all transports: fires each alarm at its deadline.

    Arming costs a heap push; a disarmed alarm is dropped from the heap lazily. The
    thread sleeps until the earliest deadline, so it costs nothing while replies come
    in time.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        #: The deadline the thread sleeps towards (infinity: no alarm armed).
        self._sleeping_until = math.inf

    def arm(self, seconds: float) -> Alarm:
        alarm = Alarm(time.monotonic() + seconds)
        with self._cond:
            heap = self._heap
            while heap and heap[0][2].done:
                heapq.heappop(heap)
            heapq.heappush(heap, (alarm.deadline, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bipro-ruv-deadline", daemon=True)
                self._thread.start()
            elif alarm.deadline < self._sleeping_until:
                # Only an alarm earlier than the one the thread sleeps towards wakes it: with
                # one reply timeout, deadlines come in order, so a request costs no thread switch.
                self._cond.notify()
        return alarm

    def _run(self) -> None:
        with self._cond:
            while True:
                heap = self._heap
                while heap and heap[0][2].done:
                    heapq.heappop(heap)
                if not heap:
                    self._sleeping_until = math.inf
                    self._cond.wait()
                    continue
                self._sleeping_until = heap[0][0]
                wait = self._sleeping_until - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                alarm = heapq.heappop(heap)[2]
                try:
                    alarm.fire()
                except Exception:  # this thread guards every deadline: it must live on
                    log.warning("could not end an exchange at its deadline", exc_info=True)


WATCHDOG = _Watchdog()
current = threading.local()


class _Guarded:
    """Mixin for urllib3 connections: hands itself to the deadline of the exchange being
    sent in this thread, before the first byte of the request."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        alarm: Alarm | None = getattr(current, "alarm", None)
        if alarm is not None:
            alarm.attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedTlsPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_GUARDED_POOLS = {"http": _GuardedPool, "https": _GuardedTlsPool}


class GuardedAdapter(HTTPAdapter):
    """requests' adapter with connections the deadline can reach, from the very first byte
    of the request (a session passed in by the caller is guarded from the reply's headers on)."""

    def __init__(self, *args: Any, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        # Set before HTTPAdapter.__init__, which makes the pool manager.
        self._ssl_context = ssl_context
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._ssl_context is not None:
            kwargs["ssl_context"] = self._ssl_context  # the client certificate (mTLS)
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _GUARDED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if self._ssl_context is not None:
            proxy_kwargs["ssl_context"] = self._ssl_context
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _GUARDED_POOLS
        return manager
