"""An evaluation printed only at batch 0 of its n batches (a torchvision-reference MetricLogger whose print
frequency is above the eval set's length) is one batch's values: its noise is no overfitting, and a NaN in it is
still an eval NaN."""

from __future__ import annotations

import math
import random
from pathlib import Path

from analyzer import analyze
from tests.ingest.console_series import series


def _log(eval_losses: list[float]) -> str:
    noise = random.Random(5)
    lines = ["Start training"]
    for epoch, eval_loss in enumerate(eval_losses):
        for batch in (0, 256, 512):
            loss = 2.3 * math.exp(-0.04 * (epoch + batch / 562)) + noise.uniform(-0.02, 0.02)
            lines.append(
                f"Epoch: [{epoch}]  [{batch:3d}/562]  eta: 0:01:43  lr: 0.001  loss: {loss:.4f} ({loss:.4f})  "
                f"acc1: 31.2500 (24.4030)  time: 0.2565  data: 0.0002  max mem: 3407"
            )
        lines.append(f"Epoch: [{epoch}] Total time: 0:02:40")
        lines.append(
            f"Test:  [ 0/63]  eta: 0:00:43  loss: {eval_loss:.4f} ({eval_loss:.4f})  acc1: 62.5000 (62.5000)  "
            "time: 0.6828  data: 0.6278  max mem: 3407"
        )
        lines.append("Test: Total time: 0:00:04")
    return "\n".join(lines) + "\n"


def _noisy_evals(count: int) -> list[float]:
    noise = random.Random(11)
    return [1.0 + 0.5 * noise.random() + 0.02 * k for k in range(count)]  # one batch of 16: noise, then a drift


def test_first_batch_evaluations_are_kept_apart_from_the_eval_loss() -> None:
    read = series(_log(_noisy_evals(30)))
    assert "eval/loss" not in read
    assert len(read["eval/loss_first_batch"]) == 30


def test_their_noise_is_no_overfitting(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_log(_noisy_evals(30)))
    assert "overfitting" not in {f.failure_mode for f in analyze(log).findings}


def test_a_nan_in_the_first_batch_is_an_eval_nan(tmp_path: Path) -> None:
    evals = _noisy_evals(30)
    evals[20:] = [math.nan] * 10
    log = tmp_path / "train.log"
    log.write_text(_log(evals))
    found = {f.failure_mode: f for f in analyze(log).findings}
    assert "eval_loss_nan" in found
    assert "first batch" in found["eval_loss_nan"].message


def test_evaluations_printed_at_several_batches_stay_the_eval_loss() -> None:
    text = _log(_noisy_evals(6)).replace("Test:  [ 0/63]", "Test:  [62/63]")
    assert "eval/loss" in series(text)


def test_the_reading_says_why() -> None:
    from analyzer.ingest.console import parse_text

    read = parse_text(_log(_noisy_evals(6)), "train.log").meta["console_log"]["train.log"]
    assert any("first batch only" in t["why"] for t in read["templates"])
