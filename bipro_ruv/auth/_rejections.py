"""A durable record of the passwords the STS rejected, per account (BiPRO Norm 410, issue 9).

R+V locks a Maklerportal account after a few wrong passwords (ST_Meldung 00964/00965),
and the BiPRO login uses the portal credentials. :class:`~bipro_ruv.auth.Password`
refuses to send a rejected password again within one process; this module carries
that memory across processes and runs, so a nightly job with an outdated password
tries it once, not once a night until the account is locked.

Under the state folder (``Client(state_dir=...)``; default: the user's data folder
from platformdirs, e.g. ``~/.local/share/bipro-ruv``)::

    rejected-passwords/<profile>-<user id>.json   the record of one account
    rejected-passwords/<profile>-<user id>.lock   OS file lock held around check -> send -> record

The record keeps, per rejected password, an scrypt hash with a random salt of its own
(never the password), when (UTC), why (the STS code or HTTP status) and the message.
It is replaced atomically (temporary file, fsync, rename, fsync of the folder) and
deleted after a successful login: a success resets R+V's count of failures, so the
record only has to bridge the runs between a rejection and the next success.

A record that cannot be read (corrupt, from a newer bipro-ruv, no permission) stops
the login *before* anything is sent, with a :class:`~bipro_ruv.errors.ConfigurationError`
naming the file: not knowing whether a password was rejected must not cost an attempt,
because repeated attempts are exactly how the account gets locked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import platformdirs

from bipro_ruv._wire.fs import FileLock, atomic_write_bytes, fsync_directory
from bipro_ruv.auth._password import Password
from bipro_ruv.errors import (
    AccountLockedError,
    AuthenticationError,
    ConfigurationError,
    HttpStatusError,
    PasswordExpiredError,
    PasswordRejectedEarlierError,
    WrongOtpError,
    WrongPasswordError,
)

__all__ = [
    "LoginAttempt",
    "guarded_login",
    "system_of",
    "Rejection",
    "RejectionReason",
    "RejectionStore",
    "default_state_dir",
]

log = logging.getLogger("bipro_ruv.auth")

APP_NAME = "bipro-ruv"
RECORD_DIR = "rejected-passwords"
_FORMAT = "bipro-ruv rejected passwords"
_VERSION = 1
#: Older rejections beyond this many are dropped (each costs one scrypt per login).
MAX_REJECTIONS = 10

# scrypt cost: n=2**14, r=8, p=1 (16 MiB, about 0.1 s) is the scrypt paper's setting for
# interactive logins. Stored with each entry so it can change later; bounded on reading
# so that a tampered record cannot make a login allocate gigabytes.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_SCRYPT_MAX = {"n": 2**16, "r": 8, "p": 4}
_SALT_BYTES = 16
_HASH_BYTES = 32

_SAFE_NAME = re.compile(r"[a-z0-9_-]{1,64}")
_SAFE_PROFILE = re.compile(r"[a-z0-9_]{1,64}")
_SAFE_SYSTEM = re.compile(r"[a-z0-9.-]{1,200}(:[0-9]{1,5})?")


def default_state_dir() -> Path:
    """The user's data folder for bipro-ruv (platformdirs; on Linux ``$XDG_DATA_HOME/bipro-ruv``)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class RejectionReason(str, Enum):
    """Why the STS refused a password (Norm 320 ST_Meldung 0096x, or HTTP 401/403)."""

    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (a reason, not a secret) 00961, HTTP 401/403
    ACCOUNT_LOCKED = "account_locked"  # 00964, 00965
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 (a reason, not a secret) 00966
    NOT_AUTHENTICATED = "not_authenticated"  # 00960, 00962 at the STS
    WRONG_OTP = "wrong_otp"  # TGIC: the mTAN was refused

    @classmethod
    def of(cls, error: AuthenticationError) -> RejectionReason:
        if isinstance(error, WrongOtpError):
            return cls.WRONG_OTP
        if isinstance(error, AccountLockedError):
            return cls.ACCOUNT_LOCKED
        if isinstance(error, PasswordExpiredError):
            return cls.PASSWORD_EXPIRED
        if isinstance(error, WrongPasswordError):
            return cls.WRONG_PASSWORD
        return cls.NOT_AUTHENTICATED

    @property
    def described(self) -> str:
        return _DESCRIBED[self]

    @property
    def advice(self) -> str:
        return _ADVICE[self]


_DESCRIBED = {
    RejectionReason.WRONG_PASSWORD: "wrong user id or password",
    RejectionReason.ACCOUNT_LOCKED: "account locked",
    RejectionReason.PASSWORD_EXPIRED: "password expired",
    RejectionReason.NOT_AUTHENTICATED: "login not accepted",
    RejectionReason.WRONG_OTP: "wrong mTAN",
}
_ADVICE = {
    RejectionReason.WRONG_PASSWORD: (
        "Check the password in the Maklerportal (change it there if needed), then update it here."
    ),
    RejectionReason.ACCOUNT_LOCKED: (
        "Have the account unlocked in the Maklerportal and set a new password there, then update it here."
    ),
    RejectionReason.PASSWORD_EXPIRED: "Set a new password in the Maklerportal, then update it here.",
    RejectionReason.NOT_AUTHENTICATED: (
        "Check the user id and password in the Maklerportal (change the password there if needed), "
        "then update them here."
    ),
    RejectionReason.WRONG_OTP: (
        "An mTAN was refused, and TGIC locks the TGIC-ID after repeated failures. The password itself "
        "was accepted: check that the SMS reaches the mobile number registered at TGIC, delete the record "
        "named here, then log in again by hand."
    ),
}


def rejection_code(error: AuthenticationError) -> str | None:
    """The STS code (``00961``...) or ``HTTP 401`` behind ``error``, for the record."""
    codes = [m.code for m in error.messages if m.code]
    auth_codes = [code for code in codes if code.startswith("009")]
    if auth_codes or codes:
        return (auth_codes or codes)[0]
    cause = error.__cause__
    if isinstance(cause, HttpStatusError):
        return f"HTTP {cause.status_code}"
    return None


@dataclass(frozen=True, repr=False)
class Rejection:
    """One rejected password of one account, as stored: a salted hash, never the password."""

    rejected_at: datetime
    reason: RejectionReason
    code: str | None
    message: str
    salt: bytes
    digest: bytes
    kdf: tuple[int, int, int]  # scrypt n, r, p

    @classmethod
    def create(
        cls, password: str, reason: RejectionReason, code: str | None, message: str, *, at: datetime
    ) -> Rejection:
        salt = secrets.token_bytes(_SALT_BYTES)
        kdf = (_SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"])
        # The server's message could quote what it got; the record must not hold the password.
        safe_message = message.replace(password, "***")
        return cls(at, reason, code, safe_message, salt, _scrypt(password, salt, kdf), kdf)

    def matches(self, password: str) -> bool:
        return hmac.compare_digest(_scrypt(password, self.salt, self.kdf), self.digest)

    def explain(self, username: str, record_path: Path) -> str:
        """The message of :class:`PasswordRejectedEarlierError`, for an office admin."""
        why = self.reason.described + (f", {self.code}" if self.code else "")
        return (
            f"Login not attempted: this password for user {username} was rejected on "
            f"{self.rejected_at:%Y-%m-%d %H:%M} UTC ({why}); sending it again could lock the account. "
            f"{self.reason.advice} (Remembered in {record_path}; once this very password is valid "
            "again, `bipro-ruv credentials unblock --confirm` forgets it.)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rejected_at": self.rejected_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "reason": self.reason.value,
            "code": self.code,
            "message": self.message,
            "kdf": {"name": "scrypt", "n": self.kdf[0], "r": self.kdf[1], "p": self.kdf[2]},
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "hash": base64.b64encode(self.digest).decode("ascii"),
        }

    @classmethod
    def from_json(cls, item: Any) -> Rejection:
        """Parse one stored entry; ``ValueError`` (or ``KeyError``/``TypeError``) when malformed."""
        kdf = item["kdf"]
        if kdf["name"] != "scrypt":
            raise ValueError(f"unknown key derivation {kdf['name']!r}")
        params = (int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        limits = (_SCRYPT_MAX["n"], _SCRYPT_MAX["r"], _SCRYPT_MAX["p"])
        if any(value < 1 or value > limit for value, limit in zip(params, limits, strict=True)):
            raise ValueError(f"scrypt parameters {params} out of range")
        rejected_at = datetime.fromisoformat(item["rejected_at"])
        if rejected_at.tzinfo is None:
            raise ValueError("rejected_at without a time zone")
        code = item["code"]
        if code is not None and not isinstance(code, str):
            raise TypeError("code must be a string")
        return cls(
            rejected_at=rejected_at.astimezone(timezone.utc),
            reason=RejectionReason(item["reason"]),
            code=code,
            message=str(item["message"]),
            salt=base64.b64decode(item["salt"], validate=True),
            digest=base64.b64decode(item["hash"], validate=True),
            kdf=params,
        )

    def __repr__(self) -> str:
        when = self.rejected_at.isoformat()
        return f"Rejection(rejected_at={when}, reason={self.reason.value}, code={self.code})"


def _scrypt(password: str, salt: bytes, kdf: tuple[int, int, int]) -> bytes:
    n, r, p = kdf
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n + 2**20, dklen=_HASH_BYTES
    )


def _file_stem(profile_key: str, username: str, system: str | None = None) -> str:
    """``<profile>-<user id>`` (``@<host>`` for another system than the profile's own),
    readable when all are plain names, else hashed.

    The profile name holds no ``-``, so the first one separates it from the user id and
    no two accounts share a name. The user id is case-folded: if the portal does not
    distinguish ``ROM4711`` from ``rom4711``, two spellings must still share one record.
    """
    profile = profile_key.casefold()
    user = username.strip().casefold()
    where = "" if system is None else system.casefold()
    if (
        _SAFE_PROFILE.fullmatch(profile)
        and _SAFE_NAME.fullmatch(user)
        and (not where or _SAFE_SYSTEM.fullmatch(where))
    ):
        return f"{profile}-{user}" + (f"@{where.replace(':', '_')}" if where else "")
    digest = hashlib.sha256(f"{profile}\0{user}\0{where}".encode()).hexdigest()[:32]
    return f"account-{digest}"


class RejectionStore:
    """The rejected passwords of one account (insurer profile + user id) in ``state_dir``."""

    def __init__(
        self, state_dir: str | Path | None, profile_key: str, username: str, system: str | None = None
    ) -> None:
        """``system``: the STS host (``host[:port]``) when it is not the profile's own
        (a test system, the sandbox): its rejections are kept apart from production's."""
        self.state_dir = Path(state_dir).expanduser() if state_dir is not None else default_state_dir()
        self.profile_key = profile_key
        self.username = username
        stem = _file_stem(profile_key, username, system)
        self.folder = self.state_dir / RECORD_DIR
        self.path = self.folder / f"{stem}.json"
        self.lock_path = self.folder / f"{stem}.lock"

    @contextmanager
    def attempt(self, password: str) -> Iterator[LoginAttempt]:
        """Hold the account's lock; refuse ``password`` if it was rejected before.

        Raises :class:`PasswordRejectedEarlierError` (nothing may be sent), or
        :class:`ConfigurationError` if the state folder or record is unusable.
        Inside the block, send the login and report its outcome to the attempt.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock = FileLock(self.lock_path, blocking=True)
            lock.__enter__()
        except OSError as exc:
            raise ConfigurationError(
                f"login not attempted: the state folder {self.state_dir} cannot hold the record of "
                f"rejected passwords ({exc.strerror or exc}); choose another with state_dir / --state-dir"
            ) from exc
        try:
            rejections = self._read()
            for rejection in rejections:
                if rejection.matches(password):
                    message = rejection.explain(self.username, self.path)
                    raise PasswordRejectedEarlierError(
                        message,
                        rejected_at=rejection.rejected_at,
                        reason=rejection.reason,
                        code=rejection.code,
                        record_path=self.path,
                    )
            yield LoginAttempt(self, password, rejections)
        finally:
            lock.__exit__()

    def rejections(self) -> list[Rejection]:
        """What the record holds now (oldest first); for inspection and tests."""
        return self._read()

    def forget(self) -> int:
        """Delete the record (under the account's lock): the refused passwords may be sent
        again. For an admin who checked the password (``bipro-ruv credentials unblock``).
        Returns how many refusals it held."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with FileLock(self.lock_path, blocking=True):
            held = len(self._read()) if self.path.exists() else 0
            if held:
                self._delete()
            return held

    # -- the file -------------------------------------------------------------------

    def _read(self) -> list[Rejection]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self._unreadable(exc.strerror or str(exc)) from exc
        try:
            document = json.loads(data)
            if document.get("format") != _FORMAT:
                raise ValueError("not a bipro-ruv record of rejected passwords")
            if document.get("version") != _VERSION:
                raise ValueError(f"format version {document.get('version')!r} (a newer bipro-ruv?)")
            return [Rejection.from_json(item) for item in document["rejections"]]
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise self._unreadable(str(exc) or type(exc).__name__) from exc

    def _unreadable(self, why: str) -> ConfigurationError:
        return ConfigurationError(
            f"login not attempted: the record of rejected passwords {self.path} cannot be read ({why}). "
            "Without it bipro-ruv cannot tell whether this password was already refused, and repeated "
            "refusals lock the account. Fix or delete that file (after checking the password in the "
            "Maklerportal), then try again."
        )

    def _write(self, rejections: list[Rejection]) -> None:
        document = {
            "format": _FORMAT,
            "version": _VERSION,
            "profile": self.profile_key,
            "username": self.username,
            "rejections": [item.to_json() for item in rejections[-MAX_REJECTIONS:]],
        }
        data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
        atomic_write_bytes(self.path, data, overwrite=True)

    def _delete(self) -> None:
        self.path.unlink(missing_ok=True)
        fsync_directory(self.folder)


class LoginAttempt:
    """One login under the account's lock: tell it how the STS answered."""

    def __init__(self, store: RejectionStore, password: str, known: list[Rejection]) -> None:
        self._store = store
        self._password = password
        self._known = known

    def rejected(self, error: AuthenticationError, *, at: datetime) -> None:
        """Remember that the STS refused the password. Never raises: the refusal itself is
        what the caller must see; a record that could not be written is logged."""
        rejection = Rejection.create(
            self._password, RejectionReason.of(error), rejection_code(error), str(error), at=at
        )
        try:
            self._store._write([*self._known, rejection])
        except OSError as exc:
            log.error(
                "could not record the rejected password in %s (%s); another run may send it again",
                self._store.path,
                exc,
            )

    def succeeded(self) -> None:
        """The STS accepted the password: the account has no rejected passwords to keep."""
        if not self._known:
            return
        try:
            self._store._delete()
        except OSError as exc:
            log.warning("could not delete %s after a successful login (%s)", self._store.path, exc)


T = TypeVar("T")


def guarded_login(
    password: Password,
    rejections: RejectionStore | None,
    send: Callable[[str], T],
    *,
    not_counted: tuple[type[AuthenticationError], ...] = (),
) -> T:
    """``send(secret)`` under the account's guard: refused at once (nothing sent) if this
    password was rejected before, in this process or an earlier run; a refusal is recorded
    (except ``not_counted`` ones, as an mTAN that came too late), a success clears the record."""
    secret = password.reveal()  # raises the earlier refusal of this process
    if rejections is None:
        return send(secret)
    try:
        with rejections.attempt(secret) as attempt:
            try:
                result = send(secret)
            except not_counted:
                raise
            except AuthenticationError as exc:
                attempt.rejected(exc, at=datetime.now(timezone.utc))
                raise
            attempt.succeeded()
            return result
    except PasswordRejectedEarlierError as exc:
        password.reject(exc)
        raise


def system_of(base_url: str | None) -> str | None:
    """``host[:port]`` of a ``base_url`` (another system than the profile's), else None: the
    ``system`` a :class:`RejectionStore` keeps apart."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
