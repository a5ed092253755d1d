"""The exception tree: one root, one module, and every class pickles with its attributes.

Process pools and task queues pickle an exception to hand it to the parent; one that
cannot be rebuilt there (keyword-only arguments) turns into an unrelated error, and one
rebuilt without its attributes loses the ProzessID a support ticket needs.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import bipro_ruv
from bipro_ruv import errors
from bipro_ruv._redact import register_secret
from bipro_ruv.errors import BiproError, InvalidVsnr, StorageError
from bipro_ruv.models import Message, MessageKind, Status

TREE = sorted(
    (
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BiproError) and value.__module__ == errors.__name__
    ),
    key=lambda cls: cls.__name__,
)

MESSAGES = (
    Message(kind=MessageKind.ERROR, code="00961", text="Benutzerkennung oder Passwort falsch"),
    Message(kind=MessageKind.NOTE, code="00000", source="/Request/ID", reference="7"),
)
CONTEXT: dict[str, Any] = {
    "status": Status(process_id="P-4711", status_id="NOK", messages=MESSAGES),
    "process_id": "P-4711",
    "messages": MESSAGES,
}

# A value for every constructor argument of the tree, optional ones included (so they are
# not left at their defaults). A new class with a new required argument fails the test
# below until its value is added here.
ARGUMENTS: dict[str, Any] = {
    "message": "something went wrong",
    "value": "32 123/456789",
    "reason": "wrong_password",
    "request_sent": False,
    "status_code": 503,
    "target_host": "elsewhere.example",
    "body_excerpt": "<html>busy</html>",
    "retry_after": 2.5,
    "limit_name": "xml_bytes",
    "limit": 1024,
    "fault_code": "soap:Server",
    "http_status": 500,
    "rejected_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    "code": "00961",
    "record_path": Path("/var/lib/bipro-ruv/rejected.json"),
    "path": Path("/srv/inbox"),
}


def build(cls: type[BiproError]) -> tuple[BiproError, dict[str, Any]]:
    """``cls`` with the ProzessID and Meldungen and a value for each of its own arguments."""
    own: dict[str, Any] = {}
    for name, parameter in inspect.signature(cls).parameters.items():
        if name in CONTEXT or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        if name in ARGUMENTS:
            own[name] = ARGUMENTS[name]
        else:
            assert parameter.default is not parameter.empty, f"add a value for {cls.__name__}({name}=...)"
    return cls(**own, **CONTEXT), own


def test_the_tree_is_found() -> None:
    names = {cls.__name__ for cls in TREE}
    assert {"BiproError", "StorageError", "JournalError", "InvalidVsnr", "DataPackageError"} <= names


@pytest.mark.parametrize("protocol", [0, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("cls", TREE, ids=lambda cls: cls.__name__)
def test_every_exception_pickles_with_its_attributes(cls: type[BiproError], protocol: int) -> None:
    exc, own = build(cls)
    clone = pickle.loads(pickle.dumps(exc, protocol=protocol))
    assert type(clone) is cls
    assert str(clone) == str(exc)
    assert clone.args == exc.args
    assert vars(clone) == vars(exc)
    assert clone.process_id == "P-4711"
    assert clone.messages == MESSAGES
    assert clone.status == CONTEXT["status"]
    for name, value in own.items():
        if name != "message":
            assert getattr(clone, name) == value, name


def test_unpickling_does_not_mask_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # A worker process may not know the parent's secrets: unpickling must not need them.
    exc = StorageError("cannot write into /srv/inbox: permission denied", path="/srv/inbox", process_id="P-1")
    data = pickle.dumps(exc)

    def refuse(text: str) -> str:
        raise AssertionError("redact() called while unpickling")

    monkeypatch.setattr(errors, "redact", refuse)
    clone = pickle.loads(data)
    assert vars(clone) == vars(exc)


def test_a_masked_secret_stays_out_of_the_pickle() -> None:
    secret = "pickle-secret-91c2e7"
    register_secret(secret)
    exc = errors.ServiceError(f"server echoed {secret}", process_id=f"P-{secret}", messages=MESSAGES)
    data = pickle.dumps(exc)
    assert secret.encode() not in data
    assert "***" in str(pickle.loads(data))


def test_notes_travel_along() -> None:
    exc = InvalidVsnr("12", "too short")
    exc.add_note("while reading row 7")
    assert pickle.loads(pickle.dumps(exc)).__notes__ == ["while reading row 7"]


def test_invalid_vsnr_is_still_a_value_error() -> None:
    assert issubclass(InvalidVsnr, ValueError)
    assert issubclass(InvalidVsnr, BiproError)
    assert isinstance(pickle.loads(pickle.dumps(InvalidVsnr("12", "too short"))), ValueError)


#: Not errors but interruptions (Ctrl-C, SIGTERM): KeyboardInterrupts that carry what was done.
INTERRUPTIONS = (errors.Interrupted, errors.FetchInterrupted)


def test_every_exception_of_the_tree_is_public() -> None:
    public = [*TREE, *INTERRUPTIONS]
    assert sorted(errors.__all__) == sorted(cls.__name__ for cls in public)
    assert all(getattr(bipro_ruv, cls.__name__) is cls for cls in public)


def test_an_interruption_is_a_keyboard_interrupt_and_no_error() -> None:
    for cls in INTERRUPTIONS:
        assert issubclass(cls, KeyboardInterrupt)
        assert not issubclass(cls, BiproError)
    assert errors.FetchInterrupted("the report").report == "the report"


def test_the_library_defines_exceptions_only_in_errors() -> None:
    """One tree in one module; the sandbox (a test server, not the library) is left out."""
    elsewhere = []
    for module_info in pkgutil.walk_packages(bipro_ruv.__path__, prefix="bipro_ruv."):
        if module_info.name.startswith("bipro_ruv.sandbox"):
            continue
        module = importlib.import_module(module_info.name)
        elsewhere += [
            f"{module.__name__}.{name}"
            for name, value in vars(module).items()
            if isinstance(value, type)
            and issubclass(value, BaseException)
            and value.__module__ == module.__name__
            and module.__name__ != errors.__name__
        ]
    assert elsewhere == []


@pytest.mark.parametrize(
    ("module", "name"),
    [("bipro_ruv.vsnr", "InvalidVsnr"), ("bipro_ruv.migration", "DataPackageError")],
)
def test_moved_exceptions_are_importable_where_they_were(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is getattr(errors, name)
