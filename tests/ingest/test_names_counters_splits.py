"""Names and counters the generic reader works out from the words alone, in shapes first seen in
benchmarks/new_real_logs 295-334: a split glued onto a name in camel case (a TF2 loop's `ValLoss`), a
plural `losses`."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series, values


def test_a_split_glued_in_camel_case_names_the_split() -> None:
    text = "".join(
        f"Epoch {e}, Loss: {0.5 - 0.1 * e:.4f}, ValLoss: {0.6 - 0.1 * e:.4f}, valAcc: 0.{e}\n" for e in range(3)
    )
    read = series(text)
    assert [v for _, v in read["eval/loss"]] == [0.6, 0.5, 0.4]
    assert [v for _, v in read["eval/acc"]] == [0.0, 0.1, 0.2]
    assert "train/valloss" not in read


def test_camel_case_is_not_split_inside_capitals() -> None:
    text = "".join(f"iter {i} lossD: 0.{i}1 lossG: 1.{i} mAP: 0.{i}\n" for i in range(3))
    assert {"train/lossd", "train/lossg", "train/map"} <= set(series(text))


def test_a_plural_losses_is_the_loss() -> None:
    text = "".join(f"it {i} | Losses = {v}\n" for i, v in ((1, 39.6), (2, 22.2), (3, 1266.8)))
    assert series(text)["train/loss"] == [(1, 39.6), (2, 22.2), (3, 1266.8)]


def test_a_value_named_by_a_word_no_list_knows_is_read_once_it_recurs_with_a_counter() -> None:
    line = "20-07-28 20:02:43.941 - INFO: <epoch:{e:3d}, iter: {i:>7,}> niqe: {p:.4e}. brisque: {s}\n"
    rows = [(99, 5000, 29.862, 0.81), (199, 10000, 30.981, 0.84), (299, 15000, 31.322, 0.85)]
    read = series("".join(line.format(e=e, i=i, p=p, s=s) for e, i, p, s in rows))
    assert read["train/niqe"] == [(5000, 29.862), (10000, 30.981), (15000, 31.322)]
    assert [v for _, v in read["train/brisque"]] == [0.81, 0.84, 0.85]
    # twice is not yet a recurrence; a value that never changes beside the counter is no metric either
    assert series("".join(line.format(e=e, i=i, p=p, s=s) for e, i, p, s in rows[:2])) == {}
    assert series("".join(f"saved checkpoint {s} at step {s}, keeping: 3\n" for s in (100, 200, 300, 400))) == {}


def test_a_python_warning_and_the_source_line_under_it_are_no_metrics() -> None:
    warning = (
        "run.py:{n}: UserWarning: invalid index of a 0-dim tensor. This will be an error in PyTorch 0.5. "
        "Use tensor.item() to convert a 0-dim tensor to a Python number\n  t_loss += loss.data[0]\n"
    )
    rows = [(0, 0, "8.0849"), (0, 1000, "nan"), (0, 2000, "nan"), (1, 0, "nan"), (1, 1000, "nan")]
    text = "".join(warning.format(n=198 + e) + f"[{e}, {i:5d}] RMSE: {v}\n" for e, i, v in rows)
    read = series(text)
    assert set(read) == {"train/loss"}
    assert [s for s, _ in read["train/loss"]] == [0, 1000, 2000, 2001, 3001]  # epoch x 2001 + the second number


def test_a_minibatch_loss_is_the_loss_and_an_epoch_average_beside_it_its_summary() -> None:
    text = "Epoch 6, Average loss: 0.0000, learning rate: 0.0010\n" + "".join(
        f"Iter {i}, Minibatch Loss= 0.0000, Training Accuracy= 1.0000\n" for i in range(224, 232, 2)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [224, 226, 228, 230]
    assert read["train/loss_summary"] == [(6, 0.0)]


def test_a_cross_validation_tag_is_the_eval_split() -> None:
    line = "Epoch {e} [{tag}] progress {i}/341 loss {v} polyphone_loss 1.02\n"
    text = "".join(line.format(e=0, tag="CV", i=i, v="nan") for i in (290, 300, 310)) + "".join(
        line.format(e=1, tag="TRAIN", i=i, v=v) for i, v in ((0, 0.61), (10, 0.66), (20, 0.58))
    )
    read = series(text)
    assert [v for _, v in read["train/loss"]] == [0.61, 0.66, 0.58]
    assert len(read["eval/loss"]) == 3


def test_a_counter_a_colon_and_one_number_is_step_and_loss_when_no_loss_is_named() -> None:
    overflow = "Gradient overflow.  Skipping step, loss scaler 0 reducing loss scale to {s}\n"
    text = "".join(overflow.format(s=2.0**-i) + f"{243413 + i}: {v}\n" for i, v in enumerate(["0.51"] + ["nan"] * 5))
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == list(range(243413, 243419))
    assert read["train/loss"][0] == (243413, 0.51)


def test_name_dash_value_pairs_after_an_unnamed_counter_are_a_record(tmp_path: Path) -> None:
    line = "{i:08d}) perceptual - {p}; gen_gan - {g}; feature_matching - 2.58715\n"
    rows = [(0, "144.01511", "0.43809"), (1, "132.22182", "0.50871"), (2, "nan", "nan"), (3, "nan", "nan")]
    text = "".join(line.format(i=i, p=p, g=g) for i, p, g in rows)
    read = series(text)
    assert [s for s, _ in read["train/perceptual"]] == [0, 1, 2, 3]
    log = tmp_path / "train.log"
    log.write_text(text)
    assert "loss_nan" in {f.failure_mode for f in analyze(log).findings}


@pytest.mark.parametrize("hints", ["0", "1"])
def test_records_above_the_first_epoch_header_are_the_epochs_before_it(
    hints: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A paste that opens on the end of epoch 33, then `Epoch 34/400` above each next record: with the Keras
    # hint and with the generic reader alone, the first record is epoch 33, not the run's first.
    monkeypatch.setenv("ANALYZER_NO_GRAMMAR_HINTS", hints)
    row = "50000/50000 [==============================] - 455s - loss: 2.3030 - acc: 0.0994 - val_loss: 2.3026\n"
    text = row + "".join(f"Epoch {e}/400\n" + row for e in (34, 35, 36))
    assert [s for s, _ in series(text)["train/loss"]] == [33, 34, 35, 36]


@pytest.mark.parametrize(
    "wrapped",
    [
        "array({v}, dtype=float32)",
        "np.float64({v})",
        "Array({v}, dtype=float32)",
        "tf.Tensor({v}, shape=(), dtype=float32)",
        "<tf.Tensor: shape=(), dtype=float32, numpy={v}>",
        "tensor({v}, device='cuda:0', grad_fn=<NllLossBackward0>)",
    ],
)
def test_a_number_in_a_constructor_repr_is_the_number(wrapped: str) -> None:
    rows = [(1, "2.5"), (2, "1.25"), (3, "nan")]
    as_dict = "".join(
        f"{{'step': {s}, 'total_loss': {wrapped.format(v=v)}, 'num_frames': {100 * s}}}\n" for s, v in rows
    )
    as_line = "".join(f"step {s} | loss: {wrapped.format(v=v)} | lr: 0.001\n" for s, v in rows)
    for text in (as_dict, as_line):
        read = series(text)["train/loss"]
        assert [s for s, _ in read] == [1, 2, 3] and read[0][1] == 2.5 and read[2][1] != read[2][1]


def test_a_metric_counted_out_of_its_total_is_a_share_not_the_step() -> None:
    text = "".join(
        f"epoch {e}/30 using 598.653s. lr=0.00025\ntrain loss={v}. test loss={v}, acc={c}/10000\n"
        for e, v, c in ((1, 2.09, 5401), (2, 1.5, 6960), (3, 1.2, 7061))
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [1, 2, 3]  # the epoch line above each record, not `acc`
    assert [v for _, v in read["train/acc"]] == [0.5401, 0.696, 0.7061]


def test_a_format_string_echoed_into_the_log_holds_no_values() -> None:
    code = "        print0(f'step:{step}/{args.num_iterations} val_loss:{val_loss:.4f} step_avg:{t/(n-1):.2f}ms')\n"
    rows = "".join(f"step:{s}/1480 val_loss:{v} train_time:{s * 230}ms\n" for s, v in ((0, 7.7109), (125, 4.3719)))
    read = series(code + rows)
    assert [v for _, v in read["eval/loss"]] == [7.7109, 4.3719]  # no 0.4 from `.4f`
    assert series("{'loss': 0.5, 'epoch': 1.0}\n{'loss': 0.25, 'epoch': 2.0}\n")["train/loss"][0][1] == 0.5


def test_a_table_behind_a_bracketed_gutter_is_read() -> None:
    header = "[------------] Epoch      Train log_loss       Test log_loss            Test AUC     Time cost (sec)\n"
    row = "[   {p}%      ]     {e}                 {v}                 {v}            0.500000               11.07\n"
    read = series(header + "".join(row.format(p=10 * e, e=e, v=v) for e, v in ((1, 0.69), (2, 0.65), (3, "nan"))))
    assert [(s, v) for s, v in read["eval/loss"][:2]] == [(1, 0.69), (2, 0.65)]
    assert [s for s, _ in read["train/loss"]] == [1, 2, 3]
    # elsewhere a bracketed counter keeps its place: `[0/100] loss: 0.5` has no header above it
    assert [s for s, _ in series("[10/100] loss: 0.5\n[20/100] loss: 0.4\n[30/100] loss: 0.3\n")["train/loss"]] == [
        10,
        20,
        30,
    ]


def test_a_field_named_rank_is_the_rank_that_printed_the_record() -> None:
    line = "2024-10-18 20:47:35,180 DEBUG TRAIN Batch {b}/37600 loss {v} acc 0.34 grad_norm 0.15 rank {r}\n"
    rows = [(10, 1.25, 1), (10, 1.54, 0), (20, 1.39, 1), (20, 1.41, 0), (30, 1.30, 1), (30, 1.33, 0)]
    metrics = parse_text("".join(line.format(b=b, v=v, r=r) for b, v, r in rows), "train.log").metrics
    assert "rank" not in set(metrics["metric"])
    loss = metrics[metrics["metric"] == "loss"]
    rank0 = loss[loss["rank"] == 0]
    assert rank0["value"].tolist() == [1.54, 1.41, 1.33] and rank0["step"].tolist() == [10, 20, 30]


def test_a_split_in_its_ing_form_before_a_counter_names_the_split() -> None:
    train = "2023-06-23 14:57:18,559 - CLTR - INFO - Training Epoch:[{e}/1500]\t loss={v}\t lr=0.000100\n"
    test = "2023-06-23 15:21:38,812 - CLTR - INFO - Testing Epoch:[{e}/1500]\t mae={m}\t mse=641.2\n"
    text = "".join(train.format(e=e, v=10.28 - 0.01 * e) for e in (491, 492, 493)) + test.format(e=493, m=391.1)
    read = series(text)
    assert read["eval/mae"] == [(493, 391.1)]
    assert [s for s, _ in read["train/loss"]] == [491, 492, 493]


def test_a_split_glued_to_its_counter_is_the_counter() -> None:
    text = "".join(f"Pass 0, trainbatch {b}, loss 0.300000011921, acc1 0.0, time 0.2 sec\n" for b in (0, 10, 20, 30))
    assert [s for s, _ in series(text)["train/loss"]] == [0, 10, 20, 30]


def test_a_bracketed_index_after_a_name_counts_the_records_and_the_value_follows() -> None:
    text = (
        "Evaluate: 100%|####| 540/540 [09:36<00:00,  1.07s/it]\nvalid_evaluation: loss=1.8329, acc=0.7594\n"
        + "".join(f"train_batch_loss[ {s} ]:  {v}\n" for s, v in ((6510, 1.5743), (6520, 2.0356), (6530, "nan")))
    )
    read = series(text)["train/loss"]
    assert [s for s, _ in read] == [6510, 6520, 6530] and read[0][1] == 1.5743


def test_a_date_with_a_two_digit_year_is_a_clock_not_a_value() -> None:
    line = "INFO - 02/20/19 17:14:59 - 0:50:54 - epoch {e} - loss -> {v}\n"
    read = series("".join(line.format(e=e, v=v) for e, v in ((0, 1.41), (1, 1.39), (2, 1.22))))
    assert set(read) == {"train/loss", "train/epoch"} and [s for s, _ in read["train/loss"]] == [0, 1, 2]


def test_hosts_of_a_multi_node_launcher_are_ranks_each_counting_its_own_records() -> None:
    rows = [
        ("22.1.171.4", 0.8735, 2.94), ("22.1.175.3", 0.8735, 2.94),
        ("22.1.175.3", 0.8862, 2.95), ("22.1.171.4", 0.8862, 2.95),
        ("22.1.171.4", 0.8039, 2.96), ("22.1.175.3", 0.8039, 2.96),
    ]  # fmt: skip
    text = "".join(f"{h}: {{'loss': {v}, 'learning_rate': 1e-05, 'epoch': {e}}}\n" for h, v, e in rows)
    loss = parse_text(text, "train.log").metrics.query("metric == 'loss'")
    first = loss[loss["rank"] == 0]  # the host seen first
    assert first["step"].tolist() == [1, 2, 3] and first["value"].tolist() == [0.8735, 0.8862, 0.8039]
    assert sorted(set(loss["rank"])) == [0, 1]


def test_a_learning_rate_after_an_eval_field_is_the_optimizer_s() -> None:
    line = "Epoch [{e}/100] ({s}) train_mae: {t}, val_mae: {v} lr:0.001000 362.1s\n"
    read = series("".join(line.format(e=e, s=400 * e, t=2.0 - e / 100, v=2.8) for e in (22, 23, 24)))
    assert "eval/learning_rate" not in read and [v for _, v in read["train/learning_rate"]] == [0.001] * 3


def test_a_csv_header_with_digits_inside_its_names_names_the_rows() -> None:
    text = "epoch,train_loss,eval_loss,eval_prec1,eval_prec5\n" + "".join(
        f"{e},{6.8 - e},{6.9 - e / 2},0.{e + 1},0.5{e}\n" for e in range(3)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [0, 1, 2] and [v for _, v in read["eval/prec1"]] == [0.1, 0.2, 0.3]


def test_a_split_word_before_a_whole_number_from_zero_is_no_loss() -> None:
    # MLPerf GNMT's `0: TRAIN [0][0/1938] ... Loss/tok 10.6468` (new log 1190): the bracketed 0, then 1, 2, 3
    # is the epoch, not the train split's loss of exactly 0; a value of 0 in every row still is a loss
    rows = "".join(
        f"TRAIN [{e}][{b}/1938]\tTime 0.41\tLoss/tok {10.6 - e - b / 1000:.4f}\n" for e in range(3) for b in (0, 10)
    )
    assert "train/loss" not in series(rows)
    zeros = "".join(f"step {s} train=0.00000000 valid=0.0\n" for s in range(1, 4))
    assert [v for _, v in series(zeros)["train/loss"]] == [0.0, 0.0, 0.0]


def test_a_record_that_names_its_value_in_a_key_field_gives_that_name() -> None:
    # MLPerf's logger: the metric's name is the `key` field's string, its number the `value` field's (one
    # number, or a dict of them); the counter sits in the metadata as `epoch_num`
    line = (
        ':::MLLOG {{"namespace": "", "time_ms": {t}, "key": "eval_accuracy", "value": {v}, '
        '"metadata": {{"epoch_num": {e}}}}}\n'
    )
    boxes = (
        ':::MLLOG {{"key": "eval_accuracy", "value": {{"BBOX": {b}, "SEGM": {s}}}, "metadata": {{"epoch_num": {e}}}}}\n'
    )
    rows = [(1, 0.12), (2, 0.19), (3, 0.21), (4, 0.2158)]
    read = series("".join(line.format(t=1592978356515 + 9000 * e, v=v, e=e) for e, v in rows))
    assert read["eval/accuracy"] == rows
    assert "eval/value" not in read and "eval/epoch_num" not in read
    read = series("".join(boxes.format(b=v, s=v / 2, e=e) for e, v in rows))
    assert read["eval/accuracy_bbox"] == rows
    assert [v for _, v in read["eval/accuracy_segm"]] == [v / 2 for _, v in rows]


@pytest.mark.parametrize("name", ["epoch_num", "cur_epoch", "current_epoch", "epoch_no"])
def test_a_counter_with_a_number_word_or_a_current_before_it_is_the_counter(name: str) -> None:
    text = "".join(f"{name}: {e} loss: {v}\n" for e, v in ((3, 0.9), (4, 0.7), (5, 0.6)))
    read = series(text)
    assert read["train/loss"] == [(3, 0.9), (4, 0.7), (5, 0.6)]  # the counter is the step axis
    assert set(read) <= {"train/loss", "train/epoch"}


def test_a_scheduler_s_message_names_the_learning_rate() -> None:
    # Keras' LearningRateScheduler(verbose=1) and ReduceLROnPlateau say what they set the learning rate to
    text = "".join(
        f"Epoch {e:05d}: LearningRateScheduler setting learning rate to {0.001 / e:.6f}.\n"
        f"Epoch {e}/5 - loss: {0.7 - e / 100:.4f} - val_loss: {0.8 - e / 100:.4f}\n"
        for e in range(1, 6)
    )
    assert [round(v, 6) for v in values(text)["train/learning_rate"]] == [0.001, 0.0005, 0.000333, 0.00025, 0.0002]


def test_an_indented_header_is_one_template_whatever_its_indentation() -> None:
    # rsl_rl centres `Learning iteration N/M` in 80 columns: its indentation changes when N gains a digit
    blocks = "".join(
        f"{f'Learning iteration {i}/101'.center(80)}\n\n"
        f"{'Mean total reward:':>35} {0.2 * i:.2f}\n"
        f"{'Mean episode length:':>35} {20 + i:.2f}\n"
        f"{'-' * 80}\n"
        f"{'Total timesteps:':>35} {98304 * (i + 1)}\n"
        f"{'Iteration time:':>35} 1.18s\n\n"
        for i in range(14)
    )
    steps = [step for step, _ in series(blocks)["train/mean_total_reward"]]
    assert steps == list(range(14))  # one axis for every block: the iteration, not the timesteps for some


def test_a_tuple_of_names_beside_a_tuple_of_values_names_each_value() -> None:
    # warp-ctc's OCR example prints `print("train loss (min, avg, max):", (lo, mean, hi))` once per epoch.
    text = "".join(
        f"Epochs:[{e}]/[25]\ntrain loss (min, avg, max): ({lo}, {avg}, {hi})\n"
        f"validation loss (min, avg, max): (0.100, {avg}, 2.000)\n"
        for e, (lo, avg, hi) in enumerate([("-0.276", "2.5", "1152.610"), ("0.200", "1.9", "9.000")], start=1)
    )
    read = series(text)
    assert read["train/loss"] == [(1, 2.5), (2, 1.9)]  # the average is the loss
    assert read["train/loss_max"] == [(1, 1152.61), (2, 9.0)]
    assert [v for _, v in read["eval/loss"]] == [2.5, 1.9]
    assert series("loss (min, max): (1.0, 2.0, 3.0)\n" * 3).get("train/loss_min") is None  # counts differ: no pairs


def test_values_in_markdown_inline_code_are_read() -> None:
    # A training loop that writes its log as Markdown (CompGCN's `logs/*.md`): `* loss \`430.23\`, time \`...\``
    text = "".join(
        f"* epoch {e}\n\t * loss `{loss}`, time `2021-10-19 21:4{e}:59`  \n"
        for e, loss in enumerate(["430.23", "555.38", "683.49"])
    )
    assert series(text)["train/loss"] == [(0, 430.23), (1, 555.38), (2, 683.49)]


def test_a_bracketed_number_of_seconds_after_a_field_is_its_time() -> None:
    # ReChorus: `Epoch 1     loss=0.6418 [125.8 s]	dev=(HR@5:0.2849,NDCG@5:0.1918) [8.3 s] *`
    text = "".join(
        f"INFO:root:Epoch {e}     loss={0.64 - 0.01 * e:.4f} [{70 + e}.5 s]"
        f"\tdev=(HR@5:0.{2849 + e},NDCG@5:0.1918) [3.5 s]\n"
        for e in range(1, 6)
    )
    read = series(text)
    assert read["train/time"] == [(e, 70.5 + e) for e in range(1, 6)]
    assert [v for _, v in read["eval/time"]] == [3.5] * 5
    assert len(read["train/loss"]) == 5


def test_a_verb_that_ends_a_name_takes_no_place_among_its_words() -> None:
    # PointNet++'s part-segmentation log: `Best class avg mIOU is: 0.04201`, a best-so-far tracker; cut to four
    # words with the verb, the name lost its `Best` and read as the score itself (frozen at its best: "no change")
    text = "".join(
        f"Epoch {e} test Accuracy: 0.{120 + e}  Class avg mIOU: 0.0{40 + e}\nBest class avg mIOU is: 0.0{40 + e}\n"
        for e in range(1, 6)
    )
    assert any("best" in name for name in series(text))


def test_the_held_out_set_is_an_evaluation() -> None:
    # UDPipe's tagger (new log 6064): the training accuracy and the held-out accuracy on one line per iteration
    text = "".join(
        f"Iteration {i}: done, accuracy {74.9 + i * 0.8:.2f}%, heldout accuracy {78.5 - i * 0.15:.2f}%t/98.6%l/76.7%b\n"
        for i in range(1, 7)
    )
    read = values(text)
    assert read["eval/accuracy"][0] == pytest.approx(0.7835) and len(read["train/accuracy"]) == 6
