"""``bipro-ruv fetch --json`` / ``--ndjson``: the installed command against the sandbox, its output
validated against the JSON Schema kept in ``docs/fetch-report.schema.json`` (issue 12, point 4)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bipro_ruv.sandbox import Sandbox
from tests._cli import run_as

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "fetch-report.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


def test_fetch_json_validates_and_says_what_happened(
    make_sandbox: Any, validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    sb: Sandbox = make_sandbox(hostile=True)
    result = run_as(sb, "fetch", "--inbox", str(tmp_path), "--json")
    assert result.returncode == 1, result.stderr  # the hostile shipments failed
    report = json.loads(result.stdout)
    assert _errors(validator, report) == []
    assert report["type"] == "report"
    assert report["exit_code"] == result.returncode
    assert report["ok"] is False
    assert report["account"] == f"ruv/{sb.username.casefold()}"
    outcomes = [shipment["outcome"] for shipment in report["shipments"]]
    assert report["counts"] == {o: outcomes.count(o) for o in report["counts"]}
    assert report["counts"]["failed"] == 4
    assert len(report["shipments"]) == len(sb.shipments())
    documents = [doc for shipment in report["shipments"] for doc in shipment["documents"]]
    assert report["documents"] == len(documents) > 10
    for doc in documents:
        stored = Path(doc["path"])
        assert stored == tmp_path.resolve() / doc["relative_path"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == doc["sha256"]
    assert any(doc["vsnr"] for doc in documents)
    assert all(doc["category_label"] for doc in documents if doc["category"])
    assert "Traceback" not in result.stderr


def test_fetch_ndjson_is_one_valid_line_per_shipment_then_the_summary(
    sandbox: Sandbox, validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    result = run_as(sandbox, "fetch", "--inbox", str(tmp_path), "--ndjson")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for line in lines:
        assert _errors(validator, line) == [], line
    *shipments, summary = lines
    assert {line["type"] for line in shipments} == {"shipment"}
    assert summary["type"] == "summary"
    assert "shipments" not in summary
    assert len(shipments) == sum(summary["counts"].values()) == len(sandbox.shipments())
    assert summary["exit_code"] == 0
    assert summary["ok"] is True


def test_a_second_run_reports_nothing_to_do(
    sandbox: Sandbox, validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    run_as(sandbox, "fetch", "--inbox", str(tmp_path), "--json")
    again = run_as(sandbox, "fetch", "--inbox", str(tmp_path), "--json")
    report = json.loads(again.stdout)
    assert _errors(validator, report) == []
    assert report["shipments"] == []
    assert report["ok"] is True


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("ok"),
        lambda r: r.update(exit_code=7),
        lambda r: r.update(surprise=1),
        lambda r: r["shipments"][0].update(outcome="lost"),
        lambda r: r["shipments"][0]["documents"][0].update(sha256="nope"),
        lambda r: r["counts"].pop("quarantined"),
    ],
    ids=["no-ok", "unknown-exit-code", "unknown-field", "unknown-outcome", "bad-hash", "no-count"],
)
def test_the_schema_refuses_a_damaged_report(
    sandbox: Sandbox, validator: jsonschema.protocols.Validator, tmp_path: Path, damage: Any
) -> None:
    report = json.loads(run_as(sandbox, "fetch", "--inbox", str(tmp_path), "--json").stdout)
    assert _errors(validator, report) == []
    damaged = copy.deepcopy(report)
    damage(damaged)
    assert _errors(validator, damaged) != []
