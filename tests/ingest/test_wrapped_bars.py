"""A progress bar the terminal cut at its edge (new log 578, a Lightning bar copied from a narrow
terminal): `Epoch 0:  71%|█████▏` ends one line and `| 5880/8295 [04:01<01:39, ..., train_loss_step=nan.0`
starts the next. The two are one bar; Lightning's `train_loss_step` is the train loss, and a non-finite
value printed with a decimal part (`nan.0`) is NaN."""

from __future__ import annotations

import math
from pathlib import Path

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
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


def test_a_bar_that_names_an_evaluation_pass_gives_eval_values_and_no_step() -> None:
    # Catalyst's loader bars (new log 1063) and a notebook's `testing minibatch loop` (1204): the evaluation
    # bar's counter restarts at 1/32, its loss is the eval split's, at the step training reached
    text = (
        "0/10 * Epoch (train): 100% 32/32 [00:41<00:00,  2.39s/it, _fps=11.486, loss=0.898]\n"
        "0/10 * Epoch (valid):   3% 1/32 [00:01<00:46,  1.50s/it, _fps=21.531, loss=1.656]\n"
        "testing minibatch loop: 100%|##########| 9/9 [00:06<00:00,  1.50it/s, accuracy=0.727, cost=14.1]\n"
    )
    frame = parse_text(text, "train.log").metrics
    loss = frame[frame["metric"] == "loss"]
    assert loss[loss["split"] == "train"][["step", "value"]].values.tolist() == [[32, 0.898]]
    assert sorted(loss[loss["split"] == "eval"]["value"]) == [1.656, 14.1]
    assert set(loss["step"]) == {32}
