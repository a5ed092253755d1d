"""Sandbox state: account, tokens, mailbox, fault plan and statistics.

The account and its tokens are BiPRO Norm 410 (STS) state with R+V's lockout rule, the mailbox is the Norm 430
TransferService's list of ``Lieferung`` and their acknowledgements. Everything here is shared between the
server's request threads and the test that drives the sandbox, so every mutable structure sits behind one lock
and every reader gets a copy. Nothing in this module touches the network.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bipro_ruv.sandbox.config import FaultRule, SandboxConfig
    from bipro_ruv.sandbox.content.shipments import SeedShipment

__all__ = ["Headers", "LoginOutcome", "SandboxState", "SandboxStats", "StatsSnapshot"]


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive copy of an HTTP request's headers."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items: dict[str, tuple[str, str]] = {name.lower(): (name, value) for name, value in items}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True)
class StatsSnapshot:
    """A consistent copy of the sandbox's counters at one moment."""

    sts_requests: int
    successful_logins: int
    failed_logins: int
    locked_users: set[str]
    requests_by_operation: Counter[str]
    acknowledged: list[str]
    tokens_issued: int
    token_ids: list[str]
    last_headers: dict[str, Headers]
    auth_failures_by_user: Counter[str]


class SandboxStats:
    """Live, thread-safe view of the counters; every attribute read returns a copy.

    ``failed_logins`` counts wrong credentials while the user was not (yet) locked;
    ``acknowledged`` lists shipment ids in acknowledgement order (repeats included);
    ``last_headers`` maps an operation to the headers of its latest request;
    ``token_ids`` lists every token identifier issued, in order (tests search output for them).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sts_requests = 0
        self._successful_logins = 0
        self._failed_logins = 0
        self._tokens_issued = 0
        self._token_ids: list[str] = []
        self._locked_users: set[str] = set()
        self._requests: Counter[str] = Counter()
        self._acknowledged: list[str] = []
        self._last_headers: dict[str, Headers] = {}
        self._auth_failures: Counter[str] = Counter()

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(
                sts_requests=self._sts_requests,
                successful_logins=self._successful_logins,
                failed_logins=self._failed_logins,
                locked_users=set(self._locked_users),
                requests_by_operation=Counter(self._requests),
                acknowledged=list(self._acknowledged),
                tokens_issued=self._tokens_issued,
                token_ids=list(self._token_ids),
                last_headers=dict(self._last_headers),
                auth_failures_by_user=Counter(self._auth_failures),
            )

    @property
    def sts_requests(self) -> int:
        return self.snapshot().sts_requests

    @property
    def successful_logins(self) -> int:
        return self.snapshot().successful_logins

    @property
    def failed_logins(self) -> int:
        return self.snapshot().failed_logins

    @property
    def locked_users(self) -> set[str]:
        return self.snapshot().locked_users

    @property
    def requests_by_operation(self) -> Counter[str]:
        return self.snapshot().requests_by_operation

    @property
    def acknowledged(self) -> list[str]:
        return self.snapshot().acknowledged

    @property
    def tokens_issued(self) -> int:
        return self.snapshot().tokens_issued

    @property
    def token_ids(self) -> list[str]:
        return self.snapshot().token_ids

    @property
    def last_headers(self) -> dict[str, Headers]:
        return self.snapshot().last_headers

    @property
    def auth_failures_by_user(self) -> Counter[str]:
        return self.snapshot().auth_failures_by_user

    def record_request(self, operation: str, headers: Headers) -> None:
        with self._lock:
            self._requests[operation] += 1
            self._last_headers[operation] = headers
            if operation == "RequestSecurityToken":
                self._sts_requests += 1


class LoginOutcome(str, Enum):
    """Result of checking a UsernameToken (BiPRO Norm 410 / ST_Meldung 0096x)."""

    OK = "ok"
    BAD_CREDENTIALS = "00961"
    LOCKED = "00964"
    EXPIRED = "00966"


@dataclass
class _Token:
    user: str
    expires_at: float


@dataclass
class _ArmedFault:
    rule: FaultRule
    remaining: int


@dataclass
class _Mailbox:
    shipments: dict[str, SeedShipment] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)


class SandboxState:
    """Account, tokens, mailbox and fault plan of one sandbox; all methods are thread-safe."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.stats = SandboxStats()
        self._lock = threading.Lock()
        self._token_lifetime = config.token_lifetime_s
        self._tokens: dict[str, _Token] = {}
        self._failures_in_row: Counter[str] = Counter()
        self._faults: list[_ArmedFault] = []
        self._mailbox = _Mailbox()

    # -- Norm 410: account and tokens -------------------------------------------------

    def check_login(self, username: str, password: str) -> LoginOutcome:
        """Check credentials like R+V's portal: ``lockout_after`` wrong passwords lock the user.

        A locked user is refused with 00964 even with the right password; a success
        resets the count of wrong passwords in a row. With ``password_expired`` the right
        password is refused with 00966 (not a wrong password: no count, no lock).
        """
        stats = self.stats
        with self._lock, stats._lock:
            if username in stats._locked_users:
                return LoginOutcome.LOCKED
            known = hmac.compare_digest(username.encode(), self.config.username.encode())
            right = hmac.compare_digest(password.encode(), self.config.password.encode())
            if known and right and self.config.password_expired:
                return LoginOutcome.EXPIRED
            if known and right:
                self._failures_in_row[username] = 0
                stats._successful_logins += 1
                return LoginOutcome.OK
            stats._failed_logins += 1
            stats._auth_failures[username] += 1
            if known:
                self._failures_in_row[username] += 1
                if self._failures_in_row[username] >= self.config.lockout_after:
                    stats._locked_users.add(username)
            return LoginOutcome.BAD_CREDENTIALS

    def issue_token(self, username: str) -> tuple[str, float, float]:
        """A new token id with its creation and expiry times (seconds since the epoch)."""
        identifier = "bipro:" + secrets.token_urlsafe(24)
        created = time.time()
        with self._lock:
            expires = created + self._token_lifetime
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > created}
            self._tokens[identifier] = _Token(username, expires)
        with self.stats._lock:
            self.stats._tokens_issued += 1
            self.stats._token_ids.append(identifier)
        return identifier, created, expires

    def token_valid(self, identifier: str) -> bool:
        with self._lock:
            token = self._tokens.get(identifier)
            return token is not None and time.time() < token.expires_at

    def cancel_token(self, identifier: str) -> bool:
        with self._lock:
            return self._tokens.pop(identifier, None) is not None

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def set_token_lifetime(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("token lifetime must not be negative")
        with self._lock:
            self._token_lifetime = float(seconds)

    # -- fault plan ---------------------------------------------------------------------

    def inject(self, rule: FaultRule) -> None:
        with self._lock:
            self._faults.append(_ArmedFault(rule, rule.times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, operation: str) -> FaultRule | None:
        """The first armed rule matching ``operation``, used up by one."""
        with self._lock:
            for armed in self._faults:
                if armed.rule.operation in (None, operation):
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._faults.remove(armed)
                    return armed.rule
        return None

    # -- Norm 430: mailbox ----------------------------------------------------------------

    def add_shipments(self, shipments: Iterable[SeedShipment]) -> None:
        with self._lock:
            new = list(shipments)
            ids = [s.id for s in new]
            clash = {i for i, n in Counter(ids).items() if n > 1 or i in self._mailbox.shipments}
            if clash:
                raise ValueError(f"duplicate shipment ids: {sorted(clash)}")
            for shipment in new:
                self._mailbox.shipments[shipment.id] = shipment

    def shipments(self) -> list[SeedShipment]:
        with self._lock:
            return list(self._mailbox.shipments.values())

    def listed(self, include_acknowledged: bool) -> list[SeedShipment]:
        with self._lock:
            acked = self._mailbox.acknowledged
            return [s for s in self._mailbox.shipments.values() if include_acknowledged or s.id not in acked]

    def shipment(self, shipment_id: str) -> SeedShipment | None:
        with self._lock:
            return self._mailbox.shipments.get(shipment_id)

    def is_acknowledged(self, shipment_id: str) -> bool:
        with self._lock:
            return shipment_id in self._mailbox.acknowledged

    def acknowledge(self, shipment_id: str) -> None:
        with self._lock, self.stats._lock:
            self._mailbox.acknowledged.add(shipment_id)
            self.stats._acknowledged.append(shipment_id)
