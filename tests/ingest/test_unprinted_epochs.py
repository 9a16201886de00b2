"""A loop that counts each epoch's batches and prints no epoch (CS231n's `Iteration 0, loss = 2.3344` ..
`Iteration 700`, then `Iteration 0` again, in new log 5079) has its epochs counted where the counter starts
again, when the loss goes on from where it was: ten epochs had been read as ten runs, and the last one's noise
as a divergence. A counter that starts again with the loss back near its start is a run started again (folds,
repeats) and stays one."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series

BLOCK = "Iteration {i}, loss = {loss:.4f}\nChecking accuracy on validation set\nGot {c} / 1000 correct ({p:.2f})\n\n"


def _log(losses_per_epoch: list[list[float]]) -> str:
    out = []
    for epoch in losses_per_epoch:
        for k, loss in enumerate(epoch):
            c = 400 + 10 * k
            out.append(BLOCK.format(i=100 * k, loss=loss, c=c, p=c / 10))
    return "".join(out)


EPOCHS = [
    [2.3344, 1.6166, 1.6223, 1.1687, 1.1649, 1.3381, 1.2275, 1.2838],
    [0.8397, 0.9934, 1.0764, 0.8792, 0.9571, 1.0313, 0.9747, 0.9900],
    [0.7336, 0.9165, 0.9240, 0.7486, 0.8496, 0.7021, 0.9009, 0.6761],
    [0.6227, 0.6297, 0.8290, 0.6099, 0.7179, 0.5245],
]


def test_epochs_are_counted_where_the_counter_starts_again(tmp_path: Path) -> None:
    read = series(_log(EPOCHS))
    steps = [s for s, _ in read["train/loss"]]
    assert steps == sorted(steps) and len(set(steps)) == 30
    assert steps[8] == 701 + 0 and steps[-1] == 3 * 701 + 500  # epoch 1 starts at 701 (largest 700, + 1)
    log = tmp_path / "train.log"
    log.write_text(_log(EPOCHS))
    report = analyze(log)
    assert report.run.meta.get("runs") is None
    assert report.verdict == "healthy"


def test_a_counter_that_starts_again_with_the_loss_is_runs_one_after_another() -> None:
    again = [[2.33, 1.62, 1.17, 0.99, 0.91, 0.88], [2.31, 1.58, 1.20, 1.01, 0.93, 0.86], [2.35, 1.6, 1.1, 0.95]]
    steps = [s for s, _ in series(_log(again))["train/loss"]]
    assert max(steps) == 500  # the runs keep their own steps (normalize analyses one of them)


def test_a_slow_start_s_noise_is_no_run_started_again() -> None:
    """Each epoch's batches counted from 0, then the epoch's mean on a line of its own (new log 5580, a course's
    intent classifier): over the slow first epochs the loss hovers, and one epoch's last batch (2.26) reads below
    the next one's first (2.43). A loss that has not fallen by a fifth yet says nothing of a relaunch: the 50
    epochs had been 50 runs, and the last one's noise a divergence."""
    per_epoch = [
        [2.51, 2.48, 2.47, 2.45],
        [2.44, 2.44, 2.41, 2.41],
        [2.43, 2.36, 2.40, 2.26],
        [2.42, 2.34, 2.31, 2.30],
        [2.11, 1.62, 1.27, 0.95],
        [0.61, 0.40, 0.31, 0.22],
        [0.15, 0.12, 0.19, 0.11],
        [0.13, 0.09, 0.10, 0.08],
    ]
    text = ""
    for e, losses in enumerate(per_epoch, start=1):
        text += "".join(f"Batch 个数 {50 * k}, 当前Batch Loss: {loss}\n" for k, loss in enumerate(losses))
        text += f"Epoch [{e}/8], Loss: {sum(losses) / 4:.4f}\n"
    steps = [s for s, _ in series(text)["train/loss"]]
    assert steps == sorted(steps) and len(set(steps)) == 32  # one run, its epochs one after another
