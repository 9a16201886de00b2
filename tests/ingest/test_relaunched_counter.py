"""A bare number opening each line that rises by one stride and falls back where the run was relaunched is the step
counter, not a column the records are merely ordered by."""

from __future__ import annotations

import random

from tests.ingest.console_series import series


def _launch(first: int, count: int, seed: int = 0) -> str:
    noise = random.Random(seed)  # the same checkpoint and data order: a relaunch prints the same values again
    return "".join(f"{first + i} train {2.8 + noise.uniform(-0.2, 0.2):.6f}\n" for i in range(count))


def test_a_bare_counter_relaunched_from_one_checkpoint_is_the_step() -> None:
    # build-nanogpt's fine-tune stage launched three times from step 38501 (new log 3252)
    header = "# stage started from best.pt at step 38501\n"
    text = header + _launch(38501, 13) + "\n" + header + _launch(38501, 13) + "\n" + header + _launch(38501, 40)
    steps = [s for s, _ in series(text)["train/loss"]]
    assert steps[:13] == list(range(38501, 38514))
    assert steps[-1] == 38540


def test_a_bare_column_with_uneven_rises_is_no_counter_when_it_falls_back() -> None:
    text = "".join(f"{n} train {0.5 + 0.01 * i:.3f}\n" for i, n in enumerate([3, 7, 8, 15, 16, 2, 9, 11, 30, 31]))
    assert [s for s, _ in series(text)["train/loss"]] != [3, 7, 8, 15, 16, 2, 9, 11, 30, 31]


def test_an_epoch_end_bar_that_stays_put_within_each_fit_counts_no_runs() -> None:
    # Keras 2.3 prints `10613/10613 [===] - 0s 15us/step - loss: ..` at each epoch's end: three model.fit calls one
    # after another (benchmarks/new_real_logs 6425) keep each fit's sample count, which counts nothing; before, the
    # three counts were the step axis and every fit's 200 epochs fell on one step
    bar = "{n}/{n} [==============================] - 0s 15us/step - loss: {v:.4f} - accuracy: 0.5885\n"
    text = ""
    for n, first in ((10613, 2.71), (10105, 2.73), (9762, 2.75)):
        for epoch in range(1, 31):
            text += f"Epoch {epoch}/30\n" + bar.format(n=n, v=first * 0.97**epoch)
    steps = [s for s, _ in series(text)["train/loss"]]
    assert len(set(steps)) >= 30
