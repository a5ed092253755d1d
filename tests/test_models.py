"""The library's models: one frozen base, English names with the BiPRO term beside each,
``Meldung.ArtID`` as an enum that never loses what a server sent (Norm 250 ``CT_Status``)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from pydantic import BaseModel, ValidationError

import bipro_ruv
from bipro_ruv._wire.soap import parse_status
from bipro_ruv._wire.xml import parse_xml
from bipro_ruv.errors import BiproError, ServiceError
from bipro_ruv.models import FrozenModel, Message, MessageKind, Status

NAC = "http://www.bipro.net/namespace/nachrichten"


def library_models() -> list[type[BaseModel]]:
    """Every pydantic model a module of the package defines (the sandbox included)."""
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(bipro_ruv.__path__, prefix="bipro_ruv."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


MODELS = library_models()


def test_the_walk_finds_the_models() -> None:
    names = {model.__name__ for model in MODELS}
    assert {"FrozenModel", "Status", "Message", "Shipment", "Settings", "SandboxConfig", "Link"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda model: f"{model.__module__}.{model.__name__}")
def test_every_model_is_a_frozen_model(model: type[BaseModel]) -> None:
    # Settings is pydantic-settings' BaseSettings (its checking of environment values), with
    # the same frozen, strict configuration.
    assert issubclass(model, FrozenModel) or model is bipro_ruv.Settings
    assert (model.model_config.get("frozen"), model.model_config.get("extra")) == (True, "forbid")


def test_a_model_adds_its_own_config_to_the_base() -> None:
    link_config = bipro_ruv.Link.model_config
    assert (link_config.get("frozen"), link_config.get("extra"), link_config.get("hide_input_in_errors")) == (
        True,
        "forbid",
        True,
    )


# -- English names, the BiPRO element in each description -------------------------------


@pytest.mark.parametrize(
    ("model", "field", "bipro_term"),
    [
        (Status, "process_id", "ProzessID"),
        (Status, "timestamp_raw", "Zeitstempel"),
        (Status, "status_id", "StatusID"),
        (Status, "valid_until_raw", "Gueltigkeitsende"),
        (Status, "pending", "Schwebe"),
        (Status, "messages", "Meldung"),
        (Message, "kind", "ArtID"),
        (Message, "kind_raw", "ArtID"),
        (Message, "code", "MeldungID"),
        (Message, "text", "Text"),
        (Message, "source", "Quelle"),
        (Message, "reference", "Identifikationsnummer"),
    ],
)
def test_each_field_names_its_bipro_element(model: type[BaseModel], field: str, bipro_term: str) -> None:
    description = model.model_fields[field].description
    assert bipro_term in (description or "")


@pytest.mark.parametrize(
    ("model", "german"),
    [
        (Status, {"prozess_id": "P-1"}),
        (Status, {"zeitstempel": "2025-01-02T03:04:05"}),
        (Status, {"gueltigkeitsende": "2025-01-02"}),
        (Status, {"schwebe": True}),
        (Status, {"meldungen": ()}),
        (Message, {"art": "Fehler"}),
        (Message, {"meldung_id": "00961"}),
        (Message, {"quelle": "/x"}),
        (Message, {"identifikationsnummer": "7"}),
    ],
)
def test_the_old_german_field_names_are_refused_not_dropped(
    model: type[BaseModel], german: dict[str, object]
) -> None:
    required = {"status_id": "OK"} if model is Status else {}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model(**required, **german)


@pytest.mark.parametrize("german", ["prozess_id", "meldungen"])
def test_errors_refuse_the_old_german_keywords(german: str) -> None:
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{german}'"):
        ServiceError("failed", **{german: None})  # type: ignore[arg-type]


def test_errors_take_the_process_id_and_messages_from_the_status() -> None:
    sent = (Message(kind=MessageKind.ERROR, code="04003", text="unbekannt"),)
    error = BiproError("failed", status=Status(status_id="NOK", process_id="P-9", messages=sent))
    assert (error.process_id, error.messages) == ("P-9", sent)
    assert str(error) == "failed [04003 unbekannt] (ProzessID P-9)"


# -- ArtID: the enum holds the official values, the raw text stays beside it -------------


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("Fehler", MessageKind.ERROR),
        ("Warnung", MessageKind.WARNING),
        ("Hinweis", MessageKind.NOTE),
        (" FEHLER ", MessageKind.ERROR),
        ("hinweis", MessageKind.NOTE),
        ("Info", None),
        ("Fehl", None),
        ("", None),
        (None, None),
    ],
)
def test_message_kind_parse(raw: str | None, kind: MessageKind | None) -> None:
    assert MessageKind.parse(raw) is kind


def test_the_enum_holds_exactly_the_official_values() -> None:
    assert [kind.value for kind in MessageKind] == ["Fehler", "Warnung", "Hinweis"]


@pytest.mark.parametrize(
    ("given", "kind", "kind_raw", "is_error"),
    [
        ({"kind_raw": "Fehler"}, MessageKind.ERROR, "Fehler", True),
        ({"kind": MessageKind.WARNING}, MessageKind.WARNING, "Warnung", False),
        ({"kind": "Hinweis"}, MessageKind.NOTE, "Hinweis", False),
        ({"kind": MessageKind.ERROR, "kind_raw": "FEHLER"}, MessageKind.ERROR, "FEHLER", True),
        ({"kind_raw": "Systemfehler"}, None, "Systemfehler", False),
        ({}, None, None, False),
    ],
)
def test_kind_and_kind_raw(
    given: dict[str, object], kind: MessageKind | None, kind_raw: str | None, is_error: bool
) -> None:
    message = Message(**given)  # type: ignore[arg-type]
    assert (message.kind, message.kind_raw, message.is_error) == (kind, kind_raw, is_error)


@pytest.mark.parametrize(
    "given",
    [
        {"kind": MessageKind.ERROR, "kind_raw": "Hinweis"},
        {"kind": MessageKind.NOTE, "kind_raw": "Systemfehler"},
        {"kind": "Info"},
    ],
)
def test_kind_and_kind_raw_must_agree(given: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Message(**given)  # type: ignore[arg-type]


def status_xml(art_id: str, status_id: str = "OK") -> bytes:
    return f"""<n:Status xmlns:n="{NAC}"><n:ProzessID>P-1</n:ProzessID>
    <n:Zeitstempel>2025-01-02T03:04:05</n:Zeitstempel><n:StatusID>{status_id}</n:StatusID>
    <n:Gueltigkeitsende>2025-02-01</n:Gueltigkeitsende><n:Schwebe>true</n:Schwebe>
    <n:Meldung><n:ArtID>{art_id}</n:ArtID><n:MeldungID>04000</n:MeldungID><n:Text>t</n:Text>
    <n:Quelle>/Request/ID</n:Quelle><n:Identifikationsnummer>7</n:Identifikationsnummer></n:Meldung>
    </n:Status>""".encode()


def test_parse_status_reads_every_field() -> None:
    status = parse_status(parse_xml(status_xml("Hinweis")))
    assert status == Status(
        process_id="P-1",
        timestamp_raw="2025-01-02T03:04:05",
        status_id="OK",
        valid_until_raw="2025-02-01",
        pending=True,
        messages=(
            Message(kind=MessageKind.NOTE, code="04000", text="t", source="/Request/ID", reference="7"),
        ),
    )


def test_parse_status_keeps_an_unknown_art_id() -> None:
    (message,) = parse_status(parse_xml(status_xml("Systemmeldung"))).messages
    assert (message.kind, message.kind_raw) == (None, "Systemmeldung")


def test_an_art_id_in_other_case_still_marks_a_release_1_error() -> None:
    status = parse_status(parse_xml(status_xml("FEHLER", status_id="00000")))
    assert (status.messages[0].kind, status.messages[0].kind_raw, status.ok) == (
        MessageKind.ERROR,
        "FEHLER",
        False,
    )
