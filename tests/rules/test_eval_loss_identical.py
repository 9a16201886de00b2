"""An eval loss the same to all its printed digits at every evaluation while the train loss barely moves:
the model's predictions on the fixed eval set never change (new log 466, a GRU predicting one class)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

TRAIN = [0.9544535914837327, 0.9511685806084733, 0.9511685740223247, 0.9486824010617166, 0.9511685766567841]


def modes(tmp_path: Path, train: list[float], test: list[str]) -> set[str]:
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"---\n[Epoch {e}] Train Loss={t} T=207.711814s\nTest loss={v}\nAccuracy=0.65\n"
            for e, (t, v) in enumerate(zip(train, test, strict=True), 1)
        )
    )
    return {f.failure_mode for f in analyze(log).findings}


def test_an_identical_eval_loss_beside_a_train_loss_that_barely_moves_is_not_learning(tmp_path: Path) -> None:
    assert "not_learning" in modes(tmp_path, TRAIN, ["0.90144944190979"] * 5)


def test_a_converged_eval_loss_printed_with_two_digits_may_repeat(tmp_path: Path) -> None:
    assert "not_learning" not in modes(tmp_path, TRAIN, ["0.31"] * 5)


def test_three_identical_evaluations_are_not_enough(tmp_path: Path) -> None:
    assert "not_learning" not in modes(tmp_path, TRAIN[:3], ["0.90144944190979"] * 3)


def test_an_identical_eval_loss_beside_a_falling_train_loss_is_not_this(tmp_path: Path) -> None:
    falling = [2.1, 1.6, 1.2, 0.9, 0.7]
    assert "not_learning" not in modes(tmp_path, falling, ["0.90144944190979"] * 5)
