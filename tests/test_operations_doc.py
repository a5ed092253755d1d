"""docs/operations.md stays true: its exit codes are the CLI's, and its transcript still ends
with the exit codes the real commands give today (``tools/operations_transcript.py --check``)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bipro_ruv.cli._common import ExitCode

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "operations.md"


def test_the_exit_code_table_lists_every_exit_code() -> None:
    table = {int(code) for code in re.findall(r"^\|\s*(\d+)\s*\|", DOC.read_text(encoding="utf-8"), re.M)}
    assert table == {int(code) for code in ExitCode}


@pytest.mark.slow
def test_the_transcript_still_ends_as_documented() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "operations_transcript.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "exit codes now" in done.stdout
