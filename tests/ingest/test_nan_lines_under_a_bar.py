"""A loop that prints `Loss: nan` at every iteration after a finished progress bar: each line is a record of its
own (not one bar line redrawn), so the NaNs are all read and the run is a NaN loss."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.ingest.console_series import series


def _log() -> str:
    bar = "".join(f"\r{100 * k // 46:3d}%|{'#' * (k // 5):<10}| {k}/46 [00:{k:02d}<00:00, 1.00it/s]" for k in range(47))
    losses = ["819.76", "700.35", "606.21", "473.00", "354.16", "226.92"] + ["nan"] * 40
    return bar + "\nStarting training Q_star\n" + "".join(f"Loss: {v}\n" for v in losses)


def test_every_nan_line_is_a_record() -> None:
    values = [v for _, v in series(_log())["train/loss"]]
    assert len(values) == 46
    assert sum(v != v for v in values) == 40


def test_the_run_is_a_nan_loss(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_log())
    assert "loss_nan" in {f.failure_mode for f in analyze(log).findings}
