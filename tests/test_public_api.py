"""The public surface: ``bipro_ruv.__all__`` is sorted, complete and importable."""

from __future__ import annotations

import bipro_ruv


def test_all_is_sorted() -> None:
    assert bipro_ruv.__all__ == sorted(bipro_ruv.__all__)


def test_every_public_name_exists() -> None:
    missing = [name for name in bipro_ruv.__all__ if not hasattr(bipro_ruv, name)]
    assert missing == []


def test_no_public_name_is_left_out_of_all() -> None:
    public = {
        name
        for name, value in vars(bipro_ruv).items()
        if not name.startswith("_") and not isinstance(value, type(bipro_ruv))
    }
    assert public - set(bipro_ruv.__all__) == set()


def test_every_exception_derives_from_bipro_error() -> None:
    exceptions = [
        getattr(bipro_ruv, name)
        for name in bipro_ruv.__all__
        if isinstance(getattr(bipro_ruv, name), type) and issubclass(getattr(bipro_ruv, name), Exception)
    ]
    assert exceptions
    assert all(issubclass(exc, bipro_ruv.BiproError) for exc in exceptions)
