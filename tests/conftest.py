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


@pytest.fixture(autouse=True)
def isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user data folder: nothing may write into the real one
    (the record of rejected passwords lives there by default). platformdirs honours
    XDG_DATA_HOME on Linux and BSD; CLI subprocesses inherit it through os.environ."""
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


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
