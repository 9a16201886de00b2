"""`analyze replay` from the command line: usage errors are one line and exit 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.replay import command


def analyze_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, timeout=300)


def test_without_the_extra_replay_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import analyzer.replay

    monkeypatch.setattr(analyzer.replay, "missing_dependencies", lambda: ["torch"])
    messages: list[str] = []

    class Err:
        def print(self, text: str, markup: bool = False) -> None:
            messages.append(text)

    code = command.run_replay(tmp_path, {}, {}, "terminal", None, None, Err())
    assert code == 2
    assert "pip install" in messages[0] and "[replay]" in messages[0] and "torch" in messages[0]


def test_replay_is_a_command_and_a_missing_run_is_a_usage_error(tmp_path: Path) -> None:
    helped = analyze_cli("replay", "--help")
    assert helped.returncode == 0 and "--dataset" in helped.stdout and "--base-model" in helped.stdout
    missing = analyze_cli("replay", str(tmp_path / "nope"), "--dataset", str(tmp_path / "d.jsonl"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_replay_cli_prints_json_with_the_replay_section(runs: object, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    case = runs("nan_batch")  # type: ignore[operator]
    report = tmp_path / "post-mortem.md"
    done = analyze_cli("replay", str(case["run"]), "--dataset", str(case["dataset"]), "-f", "json", "-o", str(report))
    assert done.returncode == 0, done.stderr
    import jsonschema

    document = json.loads(done.stdout)
    schema = json.loads((Path(__file__).parents[2] / "schema" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    section = document["replay"]
    assert section["step"] == 4 and {v["verdict"] for v in section["verdicts"]} >= {"confirmed", "refuted"}
    text = report.read_text(encoding="utf-8")
    assert "## Replay" in text and "✅ confirmed" in text and "Traceback" not in done.stderr


def test_no_dataset_is_a_usage_error(runs: object) -> None:
    pytest.importorskip("torch")
    case = runs("nan_batch")  # type: ignore[operator]
    done = analyze_cli("replay", str(case["run"]))
    assert done.returncode == 2 and "--dataset" in done.stderr and "Traceback" not in done.stderr
