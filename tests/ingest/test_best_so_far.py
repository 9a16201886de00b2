"""A best-so-far value is no series of the loss: a checkpoint saver's `-> Saved best (loss: 0.2407)`, printed only
when the loss improves, had been taken for the train loss of a run whose per-epoch `Train - CE: ..` line carries
it (new log 5554); a name with `best`, `min`, `final` among its words is an endpoint wherever the word stands."""

from __future__ import annotations

from tests.ingest.console_series import series

EPOCH = (
    "\nEpoch {e}\n"
    "  Train - CE: {ce:.4f}, KL: 2.6460, pole: 0.1131, acc: 74.4%\n"
    "  Val   - CE: {val:.4f}, KL: 3.3679, pole: 0.0480, acc: 95.0%\n"
)


def test_a_saved_best_loss_is_not_the_train_loss() -> None:
    text = ""
    for e in range(1, 9):
        ce, val = 0.95 / e, 0.2 / e
        text += EPOCH.format(e=e, ce=ce, val=val)
        if e % 2:
            text += f"  -> Saved best (loss: {ce + val:.4f})\n"
    read = series(text)
    assert len(read["train/loss"]) == 8  # the train CE, at every epoch
    assert read["train/loss"][0][1] == 0.95
