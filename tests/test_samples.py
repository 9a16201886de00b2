"""Every bundled sample against its expected.yaml: the planted failure is found at its onset.

The samples are real Hugging Face Trainer runs with planted faults (sample_logs/generate.py).
Modes the rule library does not cover yet (e.g. divergence) are not required, but no sample may
raise a finding at warning or above for a mode it does not have.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analyzer import analyze
from analyzer.model import severity_rank
from analyzer.rules import load_rules
from tests.conftest import SAMPLES

ONSET_TOLERANCE = 0  # logging_steps=1 in every sample: the onset is exact
# Events (an OOM, a crash) carry the last step the log completed; a sample's expected onset may name
# the step that was in progress when it happened, one later.
EVENT_MODES = {"oom", "crash", "nccl_timeout", "dataloader_error"}
CASES = sorted(p.parent.name for p in SAMPLES.glob("*/expected.yaml"))


def test_there_are_samples():
    assert len(CASES) >= 8 and "hf_healthy" in CASES


@pytest.mark.parametrize("name", CASES)
def test_sample_matches_expected(name: str):
    expected = yaml.safe_load((SAMPLES / name / "expected.yaml").read_text())
    report = analyze(SAMPLES / name)
    covered = {rule.failure_mode for rule in load_rules()[0]}
    wanted = set(expected["failure_modes"]) - {"healthy"}
    by_mode: dict[str, list[int | None]] = {}
    for finding in report.findings:
        by_mode.setdefault(finding.failure_mode, []).append(finding.onset_step)
    for mode in wanted & covered:
        assert mode in by_mode, f"{name}: {mode} not found (found {by_mode})"
        onset = expected["onset_step_by_mode"][mode]
        tolerance = 1 if mode in EVENT_MODES else ONSET_TOLERANCE
        assert any(abs(s - onset) <= tolerance for s in by_mode[mode] if s is not None), (
            f"{name}: {mode} onset {by_mode[mode]}, expected {onset}"
        )
    false_alarms = {
        f.failure_mode for f in report.findings if severity_rank(f.severity) >= severity_rank("warning")
    } - wanted
    assert not false_alarms, f"{name}: unexpected {false_alarms}"
    if not wanted:
        assert report.verdict == "healthy"


def test_readme_demo_sample_exists():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "analyze sample_logs/hf_nan_loss_filtered" in readme
    assert (SAMPLES / "hf_nan_loss_filtered" / "trainer_state.json").is_file()


def test_ci_runs_the_readme_test_command():
    repo = Path(__file__).resolve().parents[1]
    command = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && "
        "pip install '.[test,replay]' && python -m pytest"
    )
    assert command in (repo / "README.md").read_text()
    assert command in (repo / ".ci" / "run").read_text()


def _train_loss(folder: Path) -> dict[int, float]:
    series = analyze(folder).run.series("loss")
    return {int(k): float(v) for k, v in series.items()}


@pytest.mark.parametrize(
    "name", [c for c in CASES if (SAMPLES / c / "runs").is_dir() and any((SAMPLES / c).glob("**/trainer_state.json"))]
)
def test_tensorboard_and_wandb_outputs_agree_with_trainer_state(name: str):
    """Each sample's TensorBoard events and W&B offline run, read on their own, hold the train loss of its
    trainer_state.json (float32 in both writers) at the same steps."""
    import numpy as np

    folder = SAMPLES / name
    states = sorted(folder.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name.split("-")[1]))
    state = folder / "trainer_state.json" if (folder / "trainer_state.json").exists() else states[-1]
    truth = _train_loss(state)
    for tracker in (folder / "runs", folder / "wandb"):
        got = _train_loss(tracker)
        common = sorted(set(truth) & set(got))
        assert len(common) >= min(len(truth), 5), f"{tracker.name}: only steps {sorted(got)[:10]}"
        a = np.array([truth[s] for s in common], dtype=np.float32)
        b = np.array([got[s] for s in common], dtype=np.float32)
        assert np.array_equal(a, b, equal_nan=True), f"{name}/{tracker.name} differs from {state.name}"
