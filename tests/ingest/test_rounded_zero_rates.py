"""A learning rate printed as zero to a fixed precision (`"train_lr": "0.000"`, `lr: 0.000000`) is a rate
too small for the format (a warmup, a decayed rate), not a rate of 0: it is not read, so no rule says
"learning rate 0, nothing is updated" on it (new logs 517 BLIP, 446 VideoMAE, 052/053 PaddleDetection). A
rate printed as `0.0` or `0` may be exactly 0 and is read as it is (the Trainer's lr-zero runs). A loss
printed `0.000` is a zero (the failure itself), except in a series that prints values within ten units of
that precision (`0.002`, `0.004`): there it says only "below the precision" and is not read (new log 784)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series


def test_a_rate_rounded_to_zero_in_json_records_is_not_read(tmp_path: Path) -> None:
    losses = [3.352, 2.841, 2.702, 2.633, 2.590, 2.551, 2.512, 2.488]
    text = "".join(
        f'{{"train_lr": "0.000", "train_loss_itm": "0.3{e}", "train_loss_lm": "{v:.3f}", "epoch": {e}}}\n'
        for e, v in enumerate(losses)
    )
    assert "train/learning_rate" not in series(text)
    log = tmp_path / "log.txt"
    log.write_text(text)
    assert "not_learning" not in {f.failure_mode for f in analyze(log).findings}


def test_a_rate_rounded_to_zero_in_a_metric_logger_line_is_not_read() -> None:
    line = (
        "Epoch: [0]  [{i:5d}/17227]  eta: 8:06:56  lr: 0.000000  min_lr: 0.000000  loss: {v:.4f} ({v:.4f})  "
        "weight_decay: 0.0500 (0.0500)  grad_norm: 6.5281 (6.5281)  time: 1.4999  data: 0.6853  max mem: 39504\n"
    )
    read = series("".join(line.format(i=i, v=6.0 - i / 1000) for i in range(220, 270, 10)))
    assert len(read["train/loss"]) == 5
    assert "train/learning_rate" not in read


def test_a_rate_of_exactly_zero_is_still_read() -> None:
    text = "".join(
        f"{{'loss': {2.0 - s / 10}, 'learning_rate': 0.0, 'epoch': {s / 10}, 'step': {s}}}\n" for s in range(1, 6)
    )
    assert [v for _, v in series(text)["train/learning_rate"]] == [0.0] * 5
    text = "".join(f"step {s} loss={2.0 - s / 10:.4f} lr=0\n" for s in range(1, 6))
    assert [v for _, v in series(text)["train/learning_rate"]] == [0.0] * 5


def test_a_rounded_zero_counts_where_the_same_format_shows_the_runs_rates() -> None:
    # two runs pasted (new log 508): `LR: 0.0000100`, then `LR: 0.0000000`; the format shows 1e-5, so its 0 is 0
    line = "[ INFO : 2022-08-30 21:0{e}:58,956 ] - Epoch:   {e}, LR: {lr}, Training Loss: 0.3{e}569\n"
    text = "".join(line.format(e=e, lr=lr) for lr in ("0.0000100", "0.0000000") for e in (1, 2, 3))
    assert [v for _, v in series(text)["train/learning_rate"]] == [1e-05] * 3 + [0.0] * 3


def test_a_rate_that_decays_to_the_last_printed_digit_and_then_reads_zero_is_below_the_precision() -> None:
    # a Paddle loop's `lr: 0.000010` decaying linearly: `0.000002`, `0.000001`, then `0.000000` for the last
    # epoch; a rate shown one unit above its zeros has decayed past the digits, it was not set to 0
    line = "INFO - Epoch: [{e}], step: [100], lr: {lr}, batch_loss: 0.0{e}3, avg_loss: 0.1{e}\n"
    rates = ["0.000010", "0.000006", "0.000002", "0.000001", "0.000000", "0.000000", "0.000000"]
    read = series("".join(line.format(e=e, lr=lr) for e, lr in enumerate(rates, start=1)))
    assert [v for _, v in read["train/learning_rate"]] == [1e-05, 6e-06, 2e-06, 1e-06]


def test_a_loss_printed_as_zero_to_fixed_digits_is_still_a_zero_loss() -> None:
    text = "".join(f"Epoch {e} - loss: 0.0000 - acc: 0.1000\n" for e in range(1, 6))
    assert [v for _, v in series(text)["train/loss"]] == [0.0] * 5


ACME = "[Learner] Loss = {v} | Steps = {s} | Walltime = 284.329\n"


def test_a_loss_printed_zero_beside_values_a_few_units_above_it_is_below_the_precision(tmp_path: Path) -> None:
    # RL Unplugged's Acme learner (new log 784): `0.000` between `0.002` and `0.004` says "under 0.0005": kept at
    # one unit of the last digit, an upper bound, so that the series goes on without a loss of exactly 0 in it.
    rows = [("0.002", 3795), ("0.000", 8004), ("0.002", 12001), ("0.002", 16012), ("0.004", 21657), ("0.000", 25803)]
    text = "".join(ACME.format(v=v, s=s) for v, s in rows)
    assert [v for _, v in series(text)["train/loss"]] == [0.002, 0.001, 0.002, 0.002, 0.004, 0.001]
    log = tmp_path / "train.log"
    log.write_text(text)
    assert "loss_zero" not in {f.failure_mode for f in analyze(log).findings}


def test_a_loss_that_falls_to_a_printed_zero_from_far_above_it_is_zero(tmp_path: Path) -> None:
    # A Keras loss from 0.31 to `0.0000`: thousands of units above the precision, then zero: the failure.
    text = "".join(
        f"Epoch {e}/10\n100/100 [==============================] - 3s 30ms/step - loss: {v}\n"
        for e, v in enumerate(["0.3120", "0.2871", "0.0000", "0.0000", "0.0000"], start=1)
    )
    assert [v for _, v in series(text)["train/loss"]][-3:] == [0.0, 0.0, 0.0]
    log = tmp_path / "train.log"
    log.write_text(text)
    assert "loss_zero" in {f.failure_mode for f in analyze(log).findings}
