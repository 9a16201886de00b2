"""Two readings of values that used to be lost or mixed: a test set's measure printed beside the validation
set's on one line, and a loss that came down to its last printed digit and then prints as zero."""

from __future__ import annotations

from tests.ingest.console_series import series, values

# PyG's recurrent-GNN tutorial on Cora (new log 3100), exact lines
CORA = """\
Epoch: 001, Train Acc: 0.18571, Val Acc: 0.21400, Test Acc: 0.18900
Epoch: 002, Train Acc: 0.15000, Val Acc: 0.16600, Test Acc: 0.14500
Epoch: 003, Train Acc: 0.19286, Val Acc: 0.13400, Test Acc: 0.11300
Epoch: 004, Train Acc: 0.16429, Val Acc: 0.12200, Test Acc: 0.09500
"""


def test_a_test_measure_beside_the_validation_ones_is_a_series_of_its_own() -> None:
    found = values(CORA)
    assert found["eval/acc"] == [0.214, 0.166, 0.134, 0.122]
    assert found["eval/test_acc"] == [0.189, 0.145, 0.113, 0.095]
    assert found["train/acc"] == [0.18571, 0.15, 0.19286, 0.16429]


def test_a_test_measure_alone_is_the_eval_split() -> None:
    text = "".join(f"Epoch {e}: train loss {1.0 / e:.4f}, test loss {1.2 / e:.4f}\n" for e in range(1, 5))
    assert found_keys(text) >= {"train/loss", "eval/loss"} and "eval/test_loss" not in values(text)


def found_keys(text: str) -> set[str]:
    return set(values(text))


# EasyOCR's trainer (new log 3093): the train loss reaches its fifth decimal, then prints as 0.00000
EASYOCR = """\
[20000/300000] Train loss: 0.30092, Valid loss: 1.49355, Elapsed_time: 1935.90580
[40000/300000] Train loss: 0.00001, Valid loss: 1.58368, Elapsed_time: 3892.43095
[60000/300000] Train loss: 0.00001, Valid loss: 1.60004, Elapsed_time: 5945.06910
[80000/300000] Train loss: 0.00000, Valid loss: 1.65532, Elapsed_time: 8238.79099
[100000/300000] Train loss: 0.00000, Valid loss: 1.64012, Elapsed_time: 10385.52131
"""


def test_a_loss_rounded_to_zero_after_its_last_digit_is_kept_at_that_digit() -> None:
    found = values(EASYOCR)
    assert found["train/loss"] == [0.30092, 0.00001, 0.00001, 0.00001, 0.00001]  # there, not a loss of 0
    assert len(found["eval/loss"]) == 5


def test_a_loss_that_falls_straight_to_a_printed_zero_is_zero() -> None:
    text = "".join(
        f"[{k}/500] Train loss: {v}, Valid loss: 1.5\n"
        for k, v in ((100, "2.30092"), (200, "0.00000"), (300, "0.00000"))
    )
    assert values(text)["train/loss"] == [2.30092, 0.0, 0.0]


def test_a_bracketed_number_that_opens_each_line_and_rises_is_the_step() -> None:
    # LightGBM's and XGBoost's evaluation lines (new log 3131): `[100]\ttraining's rmse: 1.08885\tvalid_1's ...`
    text = "".join(
        f"[{k}]\ttraining's rmse: {1.0 / (1 + k / 1000):.5f}\tvalid_1's rmse: {1.2 / (1 + k / 2000):.5f}\n"
        for k in range(100, 1100, 100)
    )
    found = series(text)
    assert [s for s, _ in found["train/loss"]] == list(range(100, 1100, 100))
    assert [s for s, _ in found["eval/loss"]] == list(range(100, 1100, 100))
    # a bracketed number that does not rise from line to line (a rank, a worker id) counts nothing
    ranks = "".join(f"[{r}] loss: {0.5 - 0.01 * k:.3f}\n" for k in range(8) for r in (0, 1))
    assert [s for s, _ in series(ranks)["train/loss"]] != [0, 1] * 8


# An attention-BiLSTM relation classifier (new log 3210): the file lost some of its line breaks, so epochs that
# saved no model are glued to the next line, exact text
GLUED = (
    "[008] train_loss: 0.398 | dev_loss: 0.736 | micro f1 on dev: 0.8127 >>> save models!\n"
    "[009] train_loss: 0.349 | dev_loss: 0.743 | micro f1 on dev: 0.8225 >>> save models!\n"
    "[010] train_loss: 0.305 | dev_loss: 0.736 | micro f1 on dev: 0.8189 "
    "[011] train_loss: 0.274 | dev_loss: 0.758 | micro f1 on dev: 0.8201 "
    "[012] train_loss: 0.228 | dev_loss: 0.743 | micro f1 on dev: 0.8274 >>> save models!\n"
    "[013] train_loss: 0.212 | dev_loss: 0.771 | micro f1 on dev: 0.8184 "
    "[014] train_loss: 0.171 | dev_loss: 0.741 | micro f1 on dev: 0.8298 >>> save models!\n"
)


def test_records_glued_on_one_line_are_each_a_record_in_order() -> None:
    found = series(GLUED)
    assert found["train/loss"] == [
        (8, 0.398),
        (9, 0.349),
        (10, 0.305),
        (11, 0.274),
        (12, 0.228),
        (13, 0.212),
        (14, 0.171),
    ]
    assert [v for _, v in found["eval/loss"]] == [0.736, 0.743, 0.736, 0.758, 0.743, 0.771, 0.741]


def test_a_line_whose_numbers_repeat_without_a_rising_counter_stays_one_record() -> None:
    # one GPU's numbers after another's: the same words, but no counter opening each part rises
    text = "".join(
        f"[0] util: {50 + k} mem: {10 + k} temp: 60 [0] util: {52 + k} mem: {11 + k} temp: 61\n" for k in range(5)
    )
    found = series(text)
    assert {step for step, _ in found["train/util"]} == {1, 2, 3, 4, 5}  # placed by line, both parts on it


def test_a_split_word_between_two_numbers_names_the_one_after_it() -> None:
    # build-nanogpt's own log lines (new log 3252): `38501 train 2.673457`, the step, then the split's loss
    text = "".join(f"{38501 + k} train {2.673457 - 0.001 * k:.6f}\n" for k in range(8))
    found = series(text)
    assert set(found) == {"train/loss"}  # the step is no series of its own (it had been read as `train`'s value)
    assert found["train/loss"][0] == (38501, 2.673457) and found["train/loss"][-1][0] == 38508
