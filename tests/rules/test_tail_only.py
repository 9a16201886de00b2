"""A flat loss in a log that opens far into its run is a converged tail, not a model that never learned; the same
loss logged from the run's first step is."""

from __future__ import annotations

import random
from pathlib import Path

from analyzer import analyze


def _log(first: int, count: int) -> str:
    noise = random.Random(3)
    return "".join(f"step {first + i} loss {2.8 + noise.uniform(-0.15, 0.15):.4f}\n" for i in range(count))


def test_a_flat_loss_far_into_the_run_is_no_failure(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_log(38501, 400))
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}


def test_the_same_flat_loss_from_the_first_step_is_not_learning(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_log(1, 400))
    assert analyze(log).verdict == "not_learning"
