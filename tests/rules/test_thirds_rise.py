"""A noisy eval loss whose level rises while the train loss falls is overfitting, even when one lucky low point
(the usual "best") sits among the later evaluations and the swings after it hide the rise from a best-point test;
an eval loss that only swings about one level, or rises with the train loss, is not."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.rules.keras_log import keras_fit


def _keras(train: list[float], evals: list[float]) -> str:
    rows = zip(train, evals, strict=True)
    return keras_fit(
        [{"loss": f"{t:.4f}", "accuracy": "0.9056", "val_loss": f"{v:.4f}", "val_accuracy": "0.7334"} for t, v in rows]
    )


FALLING = [0.4150, 0.2531, 0.2081, 0.1740, 0.1528, 0.1298, 0.1127, 0.1185, 0.0965, 0.1110]


def _modes(tmp_path: Path, train: list[float], evals: list[float]) -> set[str]:
    log = tmp_path / "train.log"
    log.write_text(_keras(train, evals))
    return {f.failure_mode for f in analyze(log).findings}


def test_a_rising_level_behind_a_lucky_low_is_overfitting(tmp_path: Path) -> None:
    evals = [0.5890, 0.7683, 0.9128, 1.1665, 1.2024, 0.4622, 1.3141, 1.3252, 0.8310, 6.4715]
    assert "overfitting" in _modes(tmp_path, FALLING, evals)


def test_an_eval_loss_swinging_about_one_level_is_not(tmp_path: Path) -> None:
    evals = [0.62, 0.48, 0.71, 0.55, 0.66, 0.41, 0.70, 0.52, 0.64, 0.58]
    assert "overfitting" not in _modes(tmp_path, FALLING, evals)


def test_a_rise_with_the_train_loss_flat_is_not(tmp_path: Path) -> None:
    flat = [0.30, 0.31, 0.29, 0.30, 0.31, 0.30, 0.29, 0.30, 0.31, 0.30]
    evals = [0.5890, 0.7683, 0.9128, 1.1665, 1.2024, 0.4622, 1.3141, 1.3252, 0.8310, 6.4715]
    assert "overfitting" not in _modes(tmp_path, flat, evals)
