"""A progress bar the terminal cut at its edge (new log 578, a Lightning bar copied from a narrow
terminal): `Epoch 0:  71%|█████▏` ends one line and `| 5880/8295 [04:01<01:39, ..., train_loss_step=nan.0`
starts the next. The two are one bar; Lightning's `train_loss_step` is the train loss, and a non-finite
value printed with a decimal part (`nan.0`) is NaN."""

from __future__ import annotations

import math
from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series

HEAD = "Epoch 0:  {p}%|" + "\u2588" * 40 + "\u258f\n"
TAIL = "| {n}/8295 [04:01<01:39, 24.37it/s, v_num=0, learning_rate_step=0.0005, train_loss_step={v}]\n"


def test_a_bar_cut_at_the_terminal_edge_is_read_with_its_rest(tmp_path: Path) -> None:
    text = "".join(HEAD.format(p=p) + TAIL.format(n=n, v=v) for p, n, v in ((70, 5800, "0.512"), (71, 5880, "nan.0")))
    read = series(text)
    (first, value), (second, last) = read["train/loss"]
    assert (first, value, second) == (5800, 0.512, 5880) and math.isnan(last)
    log = tmp_path / "train.log"
    log.write_text(text)
    assert analyze(log).verdict == "loss_nan"


def test_a_cut_bar_with_no_rest_after_it_is_read_as_it_is() -> None:
    text = HEAD.format(p=71) + "step 10 loss: 0.5\nstep 11 loss: 0.4\nstep 12 loss: 0.3\n"
    assert series(text)["train/loss"] == [(10, 0.5), (11, 0.4), (12, 0.3)]
