"""Sandbox state: account, tokens, mailbox, fault plan and statistics.

The account and its tokens are BiPRO Norm 410 (STS) state with R+V's lockout rule; beside them the TGIC
person login's state (the ISTS's open mTAN challenges and the SAML assertions it issued) and the secret the
VDG tickets are signed with. The mailbox is the Norm 430 TransferService's list of ``Lieferung`` and their
acknowledgements. Everything here is shared between the server's request threads and the test that drives
the sandbox, so every mutable structure sits behind one lock and every reader gets a copy. Nothing in this
module touches the network.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bipro_ruv.sandbox.config import FaultRule, SandboxConfig
    from bipro_ruv.sandbox.content.shipments import SeedShipment

__all__ = ["Challenge", "Headers", "LoginOutcome", "SandboxState", "SandboxStats", "StatsSnapshot"]


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
    requests_by_port: Counter[str]
    logins_by_port: Counter[str]


class SandboxStats:
    """Live, thread-safe view of the counters; every attribute read returns a copy.

    ``failed_logins`` counts wrong credentials while the user was not (yet) locked;
    ``acknowledged`` lists shipment ids in acknowledgement order (repeats included);
    ``last_headers`` maps an operation to the headers of its latest request;
    ``token_ids`` lists every token identifier issued, in order (tests search output for them): the
    SCTs' ``wsc:Identifier`` and the SAML assertions' ``xenc:CipherValue``;
    ``sts_requests`` counts RequestSecurityToken requests to any Norm 410 STS port (password,
    certificate, VDG ticket), ``requests_by_port`` every SOAP request by the service of its URL
    (``sts``, ``sts_certificate``, ``sts_ticket``, ``ists``, ``transfer``, ``extranet``), and
    ``logins_by_port`` the successful logins by port (``ists``: a correctly answered mTAN challenge).
    ``successful_logins`` counts them on every port; ``failed_logins`` and ``auth_failures_by_user``
    count wrong passwords and wrong mTANs (the failures that count towards the lock).
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
        self._requests_by_port: Counter[str] = Counter()
        self._logins_by_port: Counter[str] = Counter()

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
                requests_by_port=Counter(self._requests_by_port),
                logins_by_port=Counter(self._logins_by_port),
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

    @property
    def requests_by_port(self) -> Counter[str]:
        return self.snapshot().requests_by_port

    @property
    def logins_by_port(self) -> Counter[str]:
        return self.snapshot().logins_by_port

    def record_request(self, operation: str, headers: Headers, port: str | None = None) -> None:
        with self._lock:
            self._requests[operation] += 1
            self._last_headers[operation] = headers
            if operation == "RequestSecurityToken":
                self._sts_requests += 1
            if port is not None:
                self._requests_by_port[port] += 1


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


@dataclass(frozen=True)
class Challenge:
    """An ISTS mTAN challenge as it was issued; ``expired`` tells whether it was answered too late."""

    user: str
    mtan: str
    context: str | None
    expired: bool


@dataclass
class _OpenChallenge:
    user: str
    mtan: str
    context: str | None
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
        self._assertions: dict[str, _Token] = {}
        self._challenges: dict[str, _OpenChallenge] = {}
        self._last_mtan: str | None = None
        self._failures_in_row: Counter[str] = Counter()
        #: The key VDG tickets are signed with (HMAC-SHA256); made anew for every sandbox.
        self.ticket_secret = secrets.token_bytes(32)
        self._faults: list[_ArmedFault] = []
        self._mailbox = _Mailbox()

    # -- Norm 410: account and tokens -------------------------------------------------

    def check_login(self, username: str, password: str) -> LoginOutcome:
        """Check credentials like R+V's portal: ``lockout_after`` wrong passwords lock the user.

        A locked user is refused with 00964 even with the right password; a success
        resets the count of wrong passwords in a row. With ``password_expired`` the right
        password is refused with 00966 (not a wrong password: no count, no lock).
        """
        outcome = self._check(username, password, self.config.username, self.config.password, expirable=True)
        if outcome is LoginOutcome.OK:
            self.record_login("sts", username)
        return outcome

    def check_tgic_login(self, username: str, password: str) -> LoginOutcome:
        """The ISTS's first factor, with the lockout rule of :meth:`check_login` for the TGIC user.

        The right password is not yet a login: it neither resets the count of failures in a row
        nor counts as successful (the mTAN decides, :meth:`record_login` / :meth:`record_failure`).
        """
        config = self.config
        return self._check(username, password, config.tgic_username, config.tgic_secret, expirable=False)

    def _check(
        self, username: str, password: str, account: str, secret: str, *, expirable: bool
    ) -> LoginOutcome:
        with self._lock, self.stats._lock:
            if username in self.stats._locked_users:
                return LoginOutcome.LOCKED
            known = hmac.compare_digest(username.encode(), account.encode())
            right = hmac.compare_digest(password.encode(), secret.encode())
            if known and right:
                return LoginOutcome.EXPIRED if expirable and self.config.password_expired else LoginOutcome.OK
            self._count_failure(username, counts=known)
            return LoginOutcome.BAD_CREDENTIALS

    def record_failure(self, username: str) -> None:
        """A wrong second factor (mTAN) of a known user: counted, and towards the lock."""
        with self._lock, self.stats._lock:
            self._count_failure(username, counts=True)

    def _count_failure(self, username: str, *, counts: bool) -> None:
        # Both locks held by the caller. Only a known user (``counts``) is ever locked.
        stats = self.stats
        stats._failed_logins += 1
        stats._auth_failures[username] += 1
        if counts:
            self._failures_in_row[username] += 1
            if self._failures_in_row[username] >= self.config.lockout_after:
                stats._locked_users.add(username)

    def record_login(self, port: str, username: str) -> None:
        """A successful login on ``port``: counted, and the user's failures in a row are forgiven."""
        with self._lock, self.stats._lock:
            self._failures_in_row[username] = 0
            self.stats._successful_logins += 1
            self.stats._logins_by_port[port] += 1

    def is_locked(self, username: str) -> bool:
        with self.stats._lock:
            return username in self.stats._locked_users

    def issue_token(self, username: str) -> tuple[str, float, float]:
        """A new token id with its creation and expiry times (seconds since the epoch)."""
        identifier = "bipro:" + secrets.token_urlsafe(24)
        created = time.time()
        with self._lock:
            expires = created + self._token_lifetime
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > created}
            self._tokens[identifier] = _Token(username, expires)
        self._count_token(identifier)
        return identifier, created, expires

    def _count_token(self, identifier: str) -> None:
        with self.stats._lock:
            self.stats._tokens_issued += 1
            self.stats._token_ids.append(identifier)

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
            self._assertions.clear()

    def set_token_lifetime(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("token lifetime must not be negative")
        with self._lock:
            self._token_lifetime = float(seconds)

    # -- TGIC: the ISTS's mTAN challenges and SAML assertions ------------------------------

    def open_challenge(self, username: str, context: str | None) -> tuple[str, str]:
        """A new challenge (its id, a uuid) and its mTAN (6 random digits), the simulated SMS."""
        challenge_id = str(uuid.uuid4())
        mtan = f"{secrets.randbelow(1_000_000):06d}"
        now = time.time()
        with self._lock:
            # Forget challenges long past (a late answer within the hour still hears "expired").
            self._challenges = {k: c for k, c in self._challenges.items() if c.expires_at + 3600 > now}
            self._challenges[challenge_id] = _OpenChallenge(
                username, mtan, context, now + self.config.mtan_lifetime_s
            )
            self._last_mtan = mtan
        return challenge_id, mtan

    def answer_challenge(self, challenge_id: str) -> Challenge | None:
        """The challenge, used up (one answer each, right or wrong); None if unknown or already answered."""
        with self._lock:
            found = self._challenges.pop(challenge_id, None)
        if found is None:
            return None
        return Challenge(found.user, found.mtan, found.context, time.time() >= found.expires_at)

    @property
    def last_mtan(self) -> str | None:
        with self._lock:
            return self._last_mtan

    def issue_assertion(self, username: str) -> tuple[str, float, float]:
        """A new encrypted assertion's CipherValue (base64 of 48 random bytes), its creation and expiry."""
        cipher_value = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
        created = time.time()
        expires = created + self.config.saml_lifetime_s
        with self._lock:
            self._assertions = {k: a for k, a in self._assertions.items() if a.expires_at > created}
            self._assertions[cipher_value] = _Token(username, expires)
        self._count_token(cipher_value)
        return cipher_value, created, expires

    def assertion_valid(self, cipher_value: str) -> bool:
        with self._lock:
            assertion = self._assertions.get(cipher_value)
            return assertion is not None and time.time() < assertion.expires_at

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
