"""An eval accuracy the same to its printed digits at every evaluation from the first, while the train loss moves:
the model predicts one class for every input (Flower's Keras clients at `val_accuracy: 0.5000`, new log 3110). A
score at its best, one that changed even once, or a handful of evaluations is not this."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.rules.keras_log import keras_fit

LOSSES = [0.6931, 0.6412, 0.6120, 0.5873, 0.5611, 0.5402, 0.5215, 0.5109, 0.4987, 0.4876]


def _keras(accuracies: list[str], accuracy: str = "0.7{epoch}12") -> str:
    return keras_fit(
        [
            {
                "loss": f"{loss:.4f}",
                "accuracy": accuracy.format(epoch=epoch),
                "val_loss": f"0.69{epoch}1",
                "val_accuracy": acc,
            }
            for epoch, (loss, acc) in enumerate(zip(LOSSES, accuracies, strict=False), start=1)
        ],
        bar="32/32",
        timing="1s 18ms/step",
    )


def _modes(tmp_path: Path, accuracies: list[str]) -> set[str]:
    log = tmp_path / "train.log"
    log.write_text(_keras(accuracies))
    return {f.failure_mode for f in analyze(log).findings}


def test_an_eval_accuracy_frozen_from_the_first_evaluation_is_not_learning(tmp_path: Path) -> None:
    assert "not_learning" in _modes(tmp_path, ["0.5000"] * 10)


def test_an_accuracy_at_its_best_is_a_task_solved(tmp_path: Path) -> None:
    assert "not_learning" not in _modes(tmp_path, ["1.0000"] * 10)


def test_an_accuracy_that_changed_once_is_not_frozen(tmp_path: Path) -> None:
    assert "not_learning" not in _modes(tmp_path, ["0.5000"] * 5 + ["0.5313"] + ["0.5000"] * 4)


def test_a_few_evaluations_are_not_enough(tmp_path: Path) -> None:
    assert "not_learning" not in _modes(tmp_path, ["0.5000"] * 6)


def test_a_running_best_or_a_sentinel_holds_its_value_by_design(tmp_path: Path) -> None:
    lines = [
        f"epoch {e} | train loss {loss:.4f} | val acc 0.{7100 + 37 * e} | val best_acc 0.9090 | val map_s -1.000\n"
        for e, loss in enumerate(LOSSES, start=1)
    ]
    log = tmp_path / "train.log"
    log.write_text("".join(lines))
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}


def test_a_log_that_opens_mid_run_shows_no_first_evaluation(tmp_path: Path) -> None:
    lines = [f"step {31000 + 500 * i} | train loss {loss:.4f} | val acc 0.5200\n" for i, loss in enumerate(LOSSES * 2)]
    log = tmp_path / "train.log"
    log.write_text("".join(lines))
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}


def _seg(dice: list[float], extra: str = "") -> str:
    return "".join(
        f"iteration {50 * (e + 1)}, epoch {e} : loss : {3.0 / (e + 1):.6f}, lr: 0.000800\n"
        f"Testing performance in val model: mean_dice : {d:.6f}{extra}\n"
        for e, d in enumerate(dice)
    )


def test_a_score_near_zero_at_every_evaluation_is_not_learning(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_seg([0.0, 0.000004, 0.002702, 0.0, 0.000455, 0.0, 0.000186, 0.0, 0.0001, 0.0]))
    assert "not_learning" in {f.failure_mode for f in analyze(log).findings}


def test_one_score_near_zero_beside_another_that_rose_is_not(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    text = _seg([0.0] * 10)
    rising = [f", mean_iou : {0.05 * (i + 1):.6f}\n" for i in range(10)]
    lines = text.splitlines(keepends=True)
    lines[1::2] = [line.rstrip("\n") + tail for line, tail in zip(lines[1::2], rising, strict=True)]
    log.write_text("".join(lines))
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}


def test_an_accuracy_of_exactly_zero_everywhere_is_a_metric_that_does_not_apply(tmp_path: Path) -> None:
    # R keras fitting a regression with `metrics = "accuracy"`: floats compared for equality, 0 at every epoch.
    log = tmp_path / "train.log"
    log.write_text(_keras(["0.0000e+00"] * 10, accuracy="0.0000e+00"))
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}


def test_a_frozen_score_beside_another_that_rose_measures_something_else(tmp_path: Path) -> None:
    # MMPose's ear keypoints: `coco/AP` at 0.75 at every evaluation while PCK rose from 0.16 to 0.92.
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"Epoch(train) [{e}][3/3]  lr: 4.0e-03  loss: {1.2 / e:.6f}  loss_kpt: {1.2 / e:.6f}  acc_pose: 0.9\n"
            f"Epoch(val) [{e}][2/2]  coco/AP: 0.750000  PCK: {0.16 + 0.08 * e:.6f}  NME: {0.7 / e:.6f}\n"
            for e in range(1, 11)
        )
    )
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}
