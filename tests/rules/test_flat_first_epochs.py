"""Rules from rounds 73-75 of unseen logs.

- A loss printed beside two named parts (keras-retinanet's `loss: 2.7603 - regression_loss: 2.1831 -
  classification_loss: 0.5771`, new log 641) is a sum of other losses: its closeness to ln(15) says
  nothing about a uniform guess over 15 classes, so no chance level is guessed for it.
- Whole epochs from the first one on, the loss no lower at the last than at the first, and flat within
  5%: not learning, however few the epochs (eight or more), without guessing a class count (641's
  verdict, now for the right reason; 540, a Transformer whose epoch losses stay at 4.6).
- A table whose header is marked as a comment (`#  step  rmse_trn ...`: numpy.savetxt, gnuplot,
  DeePMD-kit's lcurve.out, new log 645) names its columns like any other header.
"""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series

TOTALS = [2.7603, 2.7278, 2.7454, 2.7257, 2.7213, 2.7545, 2.7312, 2.7624]
REGRESSION = [2.1831, 2.1850, 2.1994, 2.1847, 2.1979, 2.1976, 2.1964, 2.1731]


def _keras_epochs(first: int, totals: list[float], parts: bool = True) -> str:
    out = []
    for i, total in enumerate(totals):
        out.append(f"Epoch {first + i}/50\n")
        rest = f" - regression_loss: {REGRESSION[i % 8]} - classification_loss: {total - REGRESSION[i % 8]:.4f}"
        out.append(
            f"1000/1000 [==============================] - 202s 202ms/step - loss: {total}{rest if parts else ''}\n"
        )
    return "".join(out)


def findings(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    log = tmp_path / "train.log"
    log.write_text(text)
    return [(f.failure_mode, f.message) for f in analyze(log).findings]


def test_a_total_of_named_parts_is_not_read_as_a_chance_level(tmp_path: Path) -> None:
    found = findings(tmp_path, _keras_epochs(1, TOTALS))
    assert [mode for mode, _ in found] == ["not_learning"]
    assert not any("ln(" in message for _, message in found)
    assert "first 8 epochs" in found[0][1]


def test_flat_epochs_that_are_not_the_first_ones_say_nothing(tmp_path: Path) -> None:
    # The same losses from epoch 41 on: a run late in training may well sit still (it converged).
    assert findings(tmp_path, _keras_epochs(41, TOTALS)) == []


def test_a_falling_first_epoch_range_is_learning(tmp_path: Path) -> None:
    falling = [3.60, 3.55, 3.52, 3.50, 3.48, 3.46, 3.45, 3.43]  # within 5%, but the last is 5% below the first
    assert findings(tmp_path, _keras_epochs(1, falling, parts=False)) == []


def test_fewer_than_eight_flat_epochs_say_nothing(tmp_path: Path) -> None:
    assert findings(tmp_path, _keras_epochs(1, TOTALS[:6])) == []


def test_a_header_marked_as_a_comment_names_the_columns() -> None:
    text = "#  step      rmse_trn    rmse_e_trn    rmse_f_trn         lr\n" + "".join(
        f"{s:>7}      {loss:.2e}      6.40e-01      8.74e-01    1.0e-03\n"
        for s, loss in ((0, 27.7), (100, 13.9), (200, 8.11), (300, 6.70))
    )
    read = series(text)
    assert read["train/loss"] == [(0, 27.7), (100, 13.9), (200, 8.11), (300, 6.70)]
    assert "train/learning_rate" in read
