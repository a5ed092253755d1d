"""The public surface: ``bipro_ruv.__all__`` (and ``bipro_ruv.gdv.__all__``) is sorted,
complete and importable."""

from __future__ import annotations

from types import ModuleType

import pytest

import bipro_ruv
import bipro_ruv.gdv

SURFACES = [bipro_ruv, bipro_ruv.gdv]


@pytest.mark.parametrize("module", SURFACES, ids=lambda m: m.__name__)
def test_all_is_sorted(module: ModuleType) -> None:
    assert module.__all__ == sorted(module.__all__)


@pytest.mark.parametrize("module", SURFACES, ids=lambda m: m.__name__)
def test_every_public_name_exists(module: ModuleType) -> None:
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module", SURFACES, ids=lambda m: m.__name__)
def test_no_public_name_is_left_out_of_all(module: ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }
    assert public - set(module.__all__) == set()


def test_every_exception_derives_from_bipro_error() -> None:
    exceptions = [
        getattr(bipro_ruv, name)
        for name in bipro_ruv.__all__
        if isinstance(getattr(bipro_ruv, name), type) and issubclass(getattr(bipro_ruv, name), Exception)
    ]
    assert exceptions
    assert all(issubclass(exc, bipro_ruv.BiproError) for exc in exceptions)
