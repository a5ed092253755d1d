"""Run the installed ``bipro-ruv`` console script as a user would (test helper)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bipro_ruv.sandbox import Sandbox


def script() -> str:
    beside_python = Path(sys.executable).parent / "bipro-ruv"
    found = str(beside_python) if beside_python.is_file() else shutil.which("bipro-ruv")
    assert found, "bipro-ruv console script is not installed (pip install -e '.[test]')"
    return found


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """No credentials and no terminal unless a test gives them: a prompt would end the run."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("BIPRO_RUV_", "BROWSER"))}
    return subprocess.run(
        [script(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "COLUMNS": "200", **(env or {})},
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_as(
    sandbox: Sandbox, *args: str, password: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``bipro-ruv ARGS`` against ``sandbox`` as its user; the password (the sandbox's unless
    given) comes from the environment, as a broker's script would pass it."""
    secret = sandbox.password if password is None else password
    return run(
        *args,
        "--base-url",
        sandbox.base_url,
        "-u",
        sandbox.username,
        env={"BIPRO_RUV_PASSWORD": secret, **(env or {})},
    )
