"""The checkpoint's RNG state is read safely and restored, so that dropout masks are the run's."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from analyzer.api import analyze
from analyzer.replay.checkpoint import load_rng_state
from analyzer.replay.runner import replay
from analyzer.replay.step import set_rng_state

Runs = Callable[[str], dict[str, Any]]


@pytest.mark.parametrize("step", [3, 4])  # 3 straight from checkpoint-2; 4 after fast-forwarding step 3
def test_dropout_replays_the_logged_loss_with_the_runs_rng_state(runs: Runs, step: int) -> None:
    case = runs("dropout")
    result = replay(case["run"], analyze(case["run"]), dataset=case["dataset"], step=step)
    as_run = next(o for o in result["ablations"] if o["name"] == "as run")
    assert as_run["loss"] == pytest.approx(result["logged"]["loss"], rel=1e-5)
    assert "RNG state restored from rng_state.pth (python, numpy, torch CPU)" in result["notes"]


def test_rng_state_sets_every_generator_the_trainer_saved(runs: Runs) -> None:
    state = load_rng_state(runs("dropout")["run"] / "checkpoint-2" / "rng_state.pth")
    assert state is not None
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    assert set_rng_state(state, "cpu") == ["python", "numpy", "torch CPU"]
    assert random.getstate() == state["python"]
    assert np.array_equal(np.random.get_state()[1], state["numpy"][1])
    assert torch.equal(torch.random.get_rng_state(), state["cpu"])


def test_only_numpys_rng_types_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "rng_state.pth"
    torch.save({"numpy": np.random.get_state(), "cpu": torch.random.get_rng_state(), "x": datetime.date.today()}, path)
    with pytest.raises(Exception, match="datetime"):
        load_rng_state(path)
