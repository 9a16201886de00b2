"""The replayed loss is the loss the Trainer logged: its `num_items_in_batch` normalisation and its NaN filter."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from analyzer.api import analyze
from analyzer.replay.runner import replay

Runs = Callable[[str], dict[str, Any]]


def as_run(case: dict[str, Any], step: int) -> tuple[dict[str, Any], dict[str, Any]]:
    result = replay(case["run"], analyze(case["run"]), dataset=case["dataset"], step=step)
    return result, next(o for o in result["ablations"] if o["name"] == "as run")


@pytest.mark.parametrize("step", [3, 4])  # 3 straight from checkpoint-2; 4 after fast-forwarding step 3
def test_replayed_loss_is_the_logged_loss_under_gradient_accumulation(runs: Runs, step: int) -> None:
    result, run = as_run(runs("prompt_masked"), step)
    assert result["checkpoint"] == "checkpoint-2" and result["settings"]["grad_accum"] == 2
    assert run["loss"] == pytest.approx(result["logged"]["loss"], rel=1e-4)
    assert run["logged_loss"] == run["loss"]  # finite: the Trainer's filter changes nothing


def test_a_step_without_supervised_tokens_logs_zero_as_the_trainer_does(runs: Runs) -> None:
    result, run = as_run(runs("masked"), 3)
    assert result["logged"]["loss"] == 0.0  # the Trainer computed 0/0 and its logging_nan_inf_filter logged 0.0
    assert math.isnan(run["loss"]) and run["logged_loss"] == 0.0 and run["grad_norm"] == 0.0
