"""A spaced dash between a name and its value names it (`kl - nan | loss - nan`, printed once), a word of a name that
is a loss function's makes it a metric (`NRMSE`), a test set's measure printed on a line of its own beside the
validation set's lines is `test_<metric>`, and a script that merged its train log into an eval dict row keeps
its train loss apart from the eval set's results."""

from __future__ import annotations

from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series


def test_a_spaced_dash_names_the_value_of_a_record_printed_once() -> None:
    # an AlphaZero gomoku loop's one metrics line before it crashed (new log 3422)
    text = "Game - 104 | data length - 21\nkl - nan | lr_multiplier - 2.25 | loss - nan\n"
    metrics = parse_text(text, "train.log").metrics
    loss = metrics[(metrics["split"] == "train") & (metrics["metric"] == "loss")]
    assert len(loss) == 1 and loss["value"].isna().all()
    assert set(metrics["metric"]) == {"kl", "lr_multiplier", "loss"}  # `data length` (two words) is no record


def test_a_name_with_a_loss_functions_word_is_a_metric() -> None:
    # an EEG regression reporting normalised RMSE under an epoch header (new log 3400)
    text = "".join(
        f"Epoch {e}/50\nTrain NRMSE: {v:.4f}\nVal NRMSE:   {v + 0.1:.4f}\n" for e, v in ((1, 0.9), (2, 0.8), (3, 0.7))
    )
    found = series(text)
    assert [v for _, v in found["train/loss"]] == [0.9, 0.8, 0.7]
    assert [round(v, 4) for _, v in found["eval/loss"]] == [1.0, 0.9, 0.8]


def test_a_test_measure_on_its_own_line_is_apart_from_the_validation_one() -> None:
    # LGESQL's `Evaluation: Epoch: 100 ... Dev acc: 0.7490`, then `... Test acc: 0.7136` (new log 3431)
    text = "".join(
        f"Training: \tEpoch: {e}\tTime: 2232.73\tTraining loss: {9 - e:.4f}\n"
        f"Evaluation: \tEpoch: {e}\tTime: 269.27\tDev acc: {0.7 + 0.01 * e:.4f}\n"
        f"Evaluation: \tEpoch: {e}\tTime: 377.93\tTest acc: {0.6 + 0.01 * e:.4f}\n"
        for e in range(1, 5)
    )
    found = series(text)
    assert [round(v, 4) for _, v in found["eval/acc"]] == [0.71, 0.72, 0.73, 0.74]
    assert [round(v, 4) for _, v in found["eval/test_acc"]] == [0.61, 0.62, 0.63, 0.64]


def test_a_train_loss_merged_into_an_eval_row_is_the_train_loss() -> None:
    # transformers 2.x's run_glue prints one JSON dict of eval results, learning rate and train loss (new log 3441)
    rows = [(100, 0.02, 6.9179), (200, 0.28, 5.2509), (300, 0.30, 2.4672)]
    text = "".join(
        f'{{"eval_acc": {a}, "eval_f1": {a / 2}, "learning_rate": 0.0001, "loss": {x}, "step": {s}}}\n'
        for s, a, x in rows
    )
    found = series(text)
    assert found["train/loss"] == [(100, 6.9179), (200, 5.2509), (300, 2.4672)]
    assert [v for _, v in found["eval/acc"]] == [0.02, 0.28, 0.30]
    assert "eval/loss" not in found
