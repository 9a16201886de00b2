"""FlightRecorderCallback in a real Trainer run: what it writes at an anomaly, and replay from it alone."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from analyzer.api import analyze
from analyzer.integrations.hf import recorded_batches
from analyzer.replay.runner import replay

Runs = Callable[[str], dict[str, Any]]


def test_the_recorder_writes_the_batches_and_signals_of_the_anomaly(runs: Runs) -> None:
    case = runs("nan_batch_recorded")
    folders = sorted((case["run"] / "flight_recorder").iterdir())
    assert [f.name for f in folders] == ["step-4", "step-5", "step-6"]  # every NaN row, up to max_dumps=3
    signals = json.loads((folders[0] / "signals.json").read_text())
    assert signals["anomaly_step"] == 4 and signals["steps"] == [1, 2, 3, 4]
    assert signals["supervised_tokens"]["4"] == 8
    assert signals["loss_scale"] == {}  # fp32: no GradScaler
    assert signals["layer_grad_norms"]["4"]["score"] == "nan" and math.isfinite(
        signals["layer_grad_norms"]["3"]["score"]
    )
    batches = recorded_batches(case["run"])
    labels = batches[4][0]["labels"]
    assert int(labels.isnan().sum()) == 1
    assert labels.isnan().nonzero().flatten().tolist() == [3]  # the poisoned row, where the shuffle put it


def test_replay_from_the_recorded_batches_needs_no_dataset(runs: Runs) -> None:
    case = runs("nan_batch_recorded")
    result = replay(case["run"], analyze(case["run"]))
    assert result["sampler"].startswith("recorded") and result["step"] == 4
    assert result["batch"]["nonfinite_labels"] == 1
    assert next(v for v in result["verdicts"] if v["cause"] == "bad-batch")["verdict"] == "confirmed"
    assert "mse_loss" in result["first_nonfinite"]["op"]
