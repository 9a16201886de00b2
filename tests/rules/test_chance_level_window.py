"""A loss flat near ln(k) with nothing else saying k is not learning only once training has had time to
move: the first ten batches of a classifier sit at chance, as they should (new log 489, a BERT classifier's
first Keras progress lines, flagged as 'uniform over 12 classes')."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

FLAT = [2.4492, 2.4875, 2.4631, 2.4902, 2.4718, 2.4860, 2.4799, 2.4903, 2.4811, 2.4870]


def modes(tmp_path: Path, lines: list[str]) -> set[str]:
    log = tmp_path / "train.log"
    log.write_text("".join(lines))
    return {f.failure_mode for f in analyze(log).findings}


def test_the_first_ten_updates_at_chance_are_no_finding(tmp_path: Path) -> None:
    assert "not_learning" not in modes(tmp_path, [f"step {i} loss: {v}\n" for i, v in enumerate(FLAT, 1)])


def test_ten_points_over_a_thousand_updates_at_chance_are_not_learning(tmp_path: Path) -> None:
    lines = [f"step {i * 100} loss: {v}\n" for i, v in enumerate(FLAT, 1)]
    assert "not_learning" in modes(tmp_path, lines)


def test_ten_epochs_at_chance_are_not_learning(tmp_path: Path) -> None:
    lines = [f"Epoch {i}/50 - loss: {v}\n" for i, v in enumerate(FLAT, 1)]
    assert "not_learning" in modes(tmp_path, lines)
