"""Keras 2's epoch line with validation fields (`- val_loss: 2.3584` on every fifth epoch) is read by its grammar
hint; the same line without them has too few of the hint's fields to be trusted with it and goes to the generic
reader. The two halves of one record kind had been two series, the generic one a `loss_summary` (new log 5612: a
run stuck at chance read from two points as healthy). They are one series now, where each reader read epochs of its
own; a second line that shares epochs with the hint's (an evaluation's bar above each epoch line) stays apart."""

from __future__ import annotations

from tests.ingest.console_series import series, values

BAR = "469/469 [==============================] - 2s 4ms/step - loss: {loss} - accuracy: {acc}"


def test_keras_epochs_with_and_without_validation_are_one_series() -> None:
    text = ""
    for e in range(1, 13):
        loss, acc = f"{2.4 - e / 20:.4f}", f"{0.1 + e / 50:.4f}"
        text += f"Epoch {e}/20\n" + BAR.format(loss=loss, acc=acc)
        text += " - val_loss: 2.3584 - val_accuracy: 0.1028\n" if e % 5 == 0 else "\n"
    read = series(text)
    assert sorted(read["train/loss"]) == [(e, round(2.4 - e / 20, 4)) for e in range(1, 13)]
    assert not any(name.endswith("_summary") for name in read), sorted(read)


def test_an_evaluation_bar_beside_each_epoch_line_stays_apart() -> None:
    # TF 1.x Keras with a validation generator (new log 4152): the evaluation's bar, then the epoch's line
    text = ""
    for e in range(1, 7):
        text += (
            f"Epoch {e}/100\n13/13 [==============================] - 3s 262ms/step - loss: 0.00{e}0 - acc: 1.0000\n"
        )
        text += f" - 17s - loss: 0.{30 - e}78 - acc: 0.8987 - val_loss: 0.00{e}0 - val_acc: 1.0000\n"
    read = values(text)
    assert read["train/loss"] == [float(f"0.{30 - e}78") for e in range(1, 7)]
    assert len(read["train/loss_summary"]) == 6
