"""``-v`` prints one audit line per shipment; ``-vv`` bipro-ruv's debug log without the schema
parsing noise of zeep and urllib3's connection chatter (``-vvv`` shows those too)."""

from __future__ import annotations

import re
from pathlib import Path

from bipro_ruv.sandbox import Sandbox
from tests._cli import run_as


def _loggers(stderr: str) -> set[str]:
    return set(re.findall(r"^\S+ \S+ (?:DEBUG|INFO|WARNING|ERROR) ([\w.]+):", stderr, re.M))


def test_v_prints_one_audit_line_per_shipment(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_as(sandbox, "-v", "fetch", "--inbox", str(tmp_path))
    assert result.returncode == 0, result.stderr
    audit = re.findall(r"INFO bipro_ruv\.fetch: shipment (\S+): acknowledged, (\d+) documents", result.stderr)
    assert sorted(shipment for shipment, _ in audit) == sorted(s.id for s in sandbox.shipments())
    assert "VSNR " in result.stderr  # the contract numbers of the shipments that have one
    assert "DEBUG" not in result.stderr


def test_vv_is_our_debug_log_without_third_party_noise(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_as(sandbox, "-vv", "fetch", "--inbox", str(tmp_path), "--category", "999")
    assert result.returncode == 0, result.stderr
    loggers = _loggers(result.stderr)
    assert "bipro_ruv.transport" in loggers
    assert not {name for name in loggers if not name.startswith("bipro_ruv")}, loggers


def test_vvv_adds_the_libraries_underneath(sandbox: Sandbox, tmp_path: Path) -> None:
    result = run_as(sandbox, "-vvv", "fetch", "--inbox", str(tmp_path), "--category", "999")
    assert result.returncode == 0, result.stderr
    assert {name for name in _loggers(result.stderr) if not name.startswith("bipro_ruv")}
