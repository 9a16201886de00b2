"""The JSON contract: every sample's `--format json` output validates against schema/report.schema.json,
and the schema's vocabularies are the code's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from analyzer import analyze
from analyzer.model import FAILURE_MODES, SEVERITIES
from analyzer.report import render_json
from tests.conftest import REPO, SAMPLES

SCHEMA = json.loads((REPO / "schema" / "report.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)


def errors(document: dict[str, object]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_schema_is_valid_and_matches_the_taxonomy() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["verdict"]["enum"] == ["healthy", *FAILURE_MODES]
    finding = SCHEMA["properties"]["findings"]["items"]["properties"]
    assert finding["severity"]["enum"] == list(SEVERITIES)


@pytest.mark.parametrize("name", sorted(p.parent.name for p in SAMPLES.glob("*/expected.yaml")))
def test_every_sample_report_validates(name: str) -> None:
    document = json.loads(render_json(analyze(SAMPLES / name)))
    assert errors(document) == []
    assert document["findings"] or document["verdict"] == "healthy"


def test_report_with_problems_and_superseded_sources_validates(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("trainer_state.json", "training_args.bin", "nohup.out"):
        (run / name).write_bytes(
            (SAMPLES / "hf_killed" / "checkpoint-40" / name).read_bytes()
            if name != "nohup.out"
            else (SAMPLES / "hf_killed" / name).read_bytes()
        )
    (run / "all_results.json").write_text('{"train_loss": 1.0,')  # cut: a located problem
    document = json.loads(render_json(analyze(run)))
    assert errors(document) == []
    assert any(p["path"] == "all_results.json" for p in document["run"]["problems"])


def test_a_broken_document_is_caught() -> None:
    document = json.loads(render_json(analyze(SAMPLES / "hf_healthy")))
    document["verdict"] = "mostly_fine"
    document["findings"] = [{"rule_id": "X", "severity": "loud"}]
    found = errors(document)
    assert any(e.startswith("verdict:") for e in found) and any(e.startswith("findings/0") for e in found)
