"""An eval accuracy the same to its printed digits at every evaluation from the first, while the train loss moves:
the model predicts one class for every input (Flower's Keras clients at `val_accuracy: 0.5000`, new log 3110). A
score at its best, one that changed even once, or a handful of evaluations is not this."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze

LOSSES = [0.6931, 0.6412, 0.6120, 0.5873, 0.5611, 0.5402, 0.5215, 0.5109, 0.4987, 0.4876]


def _keras(accuracies: list[str]) -> str:
    lines = []
    for epoch, (loss, acc) in enumerate(zip(LOSSES, accuracies, strict=False), start=1):
        lines.append(f"Epoch {epoch}/{len(accuracies)}")
        lines.append(
            f"32/32 [==============================] - 1s 18ms/step - loss: {loss:.4f} - accuracy: 0.7{epoch}12 "
            f"- val_loss: 0.69{epoch}1 - val_accuracy: {acc}"
        )
    return "\n".join(lines) + "\n"


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
