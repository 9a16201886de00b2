"""An eval score that falls after its best while the training objective falls is overfitting, also when the
objective is printed only as its parts (ALBEF's `train_loss_ita` and `train_loss_itm`) and the score is a
retrieval recall (`val_txt_r1`, `val_r_mean`); parts that pull apart (a GAN's) say nothing of the objective."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import analyze


def _log(first: list[float], second: list[float], recall: list[float]) -> str:
    rows = []
    for epoch, (a, b, r) in enumerate(zip(first, second, recall, strict=True)):
        rows.append(
            {
                "train_lr": "0.000",
                "train_loss_itm": f"{a:.3f}",
                "train_loss_ita": f"{b:.3f}",
                "val_txt_r1": r - 10,
                "val_r_mean": r,
                "epoch": epoch,
            }
        )
    return "".join(json.dumps(row) + "\n" for row in rows)


RECALL = [81.02, 80.50, 80.01, 79.71, 79.17, 78.69]


def test_a_falling_recall_while_every_loss_part_falls_is_overfitting(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text(_log([0.412, 0.357, 0.324, 0.296, 0.273, 0.253], [0.620, 0.494, 0.447, 0.413, 0.385, 0.363], RECALL))
    assert "overfitting" in {f.failure_mode for f in analyze(log).findings}


def test_parts_that_pull_apart_say_nothing(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_text(_log([0.412, 0.357, 0.324, 0.296, 0.273, 0.253], [0.62, 0.70, 0.81, 0.93, 1.05, 1.20], RECALL))
    assert "overfitting" not in {f.failure_mode for f in analyze(log).findings}


def test_a_rising_recall_is_healthy(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    rising = [70.0, 72.5, 74.1, 75.0, 75.6, 76.0]
    log.write_text(_log([0.412, 0.357, 0.324, 0.296, 0.273, 0.253], [0.620, 0.494, 0.447, 0.413, 0.385, 0.363], rising))
    assert "overfitting" not in {f.failure_mode for f in analyze(log).findings}
