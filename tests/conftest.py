"""Shared fixtures: the real sandbox server and third-party sample files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bipro_ruv import Client

if TYPE_CHECKING:
    from bipro_ruv.sandbox import Sandbox

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    """../shared/fixtures beside the project; tests using it skip in a plain clone."""
    if not FIXTURES.is_dir():
        pytest.skip(f"third-party fixtures not present at {FIXTURES}")
    return FIXTURES


def fixture_file(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"third-party fixture {path} not present")
    return path


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    from bipro_ruv.sandbox import Sandbox, SandboxConfig

    started: list[Sandbox] = []

    def factory(**config: Any) -> Sandbox:
        sb = Sandbox(SandboxConfig(**config))
        sb.start()
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox: Any) -> Sandbox:
    sb: Sandbox = make_sandbox()
    return sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    with Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as c:
        yield c
