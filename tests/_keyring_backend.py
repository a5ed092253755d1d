"""A keyring backend in one JSON file, for CLI tests (the real ones need a desktop session).

Selected in a subprocess with ``PYTHON_KEYRING_BACKEND=tests._keyring_backend.FileKeyring``
(and the project root on ``PYTHONPATH``); the file is ``$BIPRO_TEST_KEYRING_FILE``. Plain
text on purpose: a test reads it to see what was stored. Never for real passwords.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

__all__ = ["ENV", "FileKeyring"]

ENV = "BIPRO_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    """``{"<service>": {"<user>": "<password>"}}`` in the file ``$BIPRO_TEST_KEYRING_FILE``."""

    priority = 1

    @staticmethod
    def _path() -> Path:
        name = os.environ.get(ENV)
        if not name:
            raise RuntimeError(f"{ENV} is not set: the test keyring has no file")
        return Path(name)

    def _load(self) -> dict[str, dict[str, str]]:
        path = self._path()
        if not path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        self._path().write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(f"no password of {username!r} for {service!r}")
        del data[service][username]
        self._save(data)
