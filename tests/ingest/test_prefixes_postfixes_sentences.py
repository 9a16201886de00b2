"""Timestamp prefixes over one-value-per-line records, `name - value` bar postfixes, bars that start again
each epoch, fractional epochs, split abbreviations and two eval losses in one record, values named
before a sentence's counter, a record cut after a name, generic overflow and exit messages; in the exact
output of nnU-Net v2, segmentation_models.pytorch, char-rnn, Time-Series-Library (Informer), DL4J,
darkflow, NVIDIA tacotron2 and keithito/tacotron (benchmarks/new_real_logs/115-132)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series, values

NNUNET = (
    "2023-08-09 14:55:25.642011: Epoch {e} \n"
    "2023-08-09 14:55:25.642085: Current learning rate: 0.01 \n"
    "2023-08-09 15:17:51.409852: train_loss {v} \n"
    "2023-08-09 15:17:51.440985: val_loss {v} \n"
    "2023-08-09 15:17:51.441061: Pseudo dice [0.0, 0.0] \n"
    "2023-08-09 15:17:51.452639: Epoch time: 1345.72 s \n"
)


def test_one_value_per_line_under_a_timestamp_is_one_record(tmp_path: Path) -> None:
    read = series(NNUNET.format(e=0, v="-0.3541"))  # printed once: a paste of the first epoch
    assert read["train/loss"] == [(0, -0.3541)] and read["eval/loss"] == [(0, -0.3541)]
    assert read["train/learning_rate"] == [(0, 0.01)]
    log = tmp_path / "nnunet.log"
    log.write_text(NNUNET.format(e=0, v="nan"))
    assert "loss_nan" in {f.failure_mode for f in analyze(log).findings}


SMP = (
    "Epoch: {e}\n"
    "train: 100%|████| 396/396 [00:55<00:00,  7.67it/s, bce_dice_loss - {t}, iou_score - 0.2795]\n"
    "valid: 100%|█████| 500/500 [00:09<00:00, 52.51it/s, bce_dice_loss - {v}, iou_score - 0.434]\n"
    "Model saved!\n\n"
)


def test_a_dashed_bar_postfix_is_read_per_split_and_placed_by_the_epoch_header() -> None:
    read = series("".join(SMP.format(e=e, t=t, v=v) for e, t, v in ((0, 1.606, 1.519), (1, 1.581, 1.502))))
    assert read["train/loss"] == [(0, 1.606), (1, 1.581)]  # not both at step 396, where each bar ends
    assert read["eval/loss"] == [(0, 1.519), (1, 1.502)]


def test_a_fractional_epoch_leaves_the_counter_beside_it_the_step() -> None:
    line = "{i}/9500 (epoch {e:.3f}), train_loss = {v:.8f}, grad/param norm = 2.6208e-02, time/batch = 0.1708s\t\n"
    read = series("".join(line.format(i=i, e=i / 190, v=1.5 + i / 1e4) for i in (1209, 1210, 1211)))
    assert [s for s, _ in read["train/loss"]] == [1209, 1210, 1211]


INFORMER = (
    "train 1199\nval 166\ntest 353\n"
    "Epoch: 1 cost time: 3.8804690837860107\n"
    "Epoch: 1, Steps: 9 | Train Loss: 0.5331 Vali Loss: 0.4122 Test Loss: 0.3903\n"
    "Epoch: 2 cost time: 3.8711836338043213\n"
    "Epoch: 2, Steps: 9 | Train Loss: 0.4211 Vali Loss: 0.4010 Test Loss: 0.3850\n"
)


def test_vali_is_validation_and_the_test_loss_beside_it_is_kept_apart() -> None:
    read = series(INFORMER)
    assert read["eval/loss"] == [(1, 0.4122), (2, 0.4010)]  # not the split sizes 166 and 353, not the test loss
    assert read["eval/test_loss"] == [(1, 0.3903), (2, 0.3850)]
    assert read["train/loss"] == [(1, 0.5331), (2, 0.4211)]


def test_a_value_after_the_counter_of_a_sentence_is_named_before_it() -> None:
    line = "09:54:{s} [main] INFO  o.d.o.l.ScoreIterationListener - Score at iteration {i} is {v}\n"
    read = series("".join(line.format(s=10 + i, i=i, v=v) for i, v in ((0, 0.71), (20, 0.65), (40, "NaN"))))
    assert [v for _, v in read["train/score"]][:2] == [0.71, 0.65]  # `is` names nothing; NaN kept too
    assert len(read["train/score"]) == 3


def test_the_last_line_cut_after_a_name_is_one_more_record() -> None:
    line = "step {s} - loss {v} - moving ave loss 150.5952830418094\n"
    text = (
        "".join(line.format(s=s, v=140 - s / 10) for s in (95, 96))
        + "step 97 - loss 128.74661254882812 - moving ave loss"
    )
    assert series(text)["train/loss"][-1] == (97, 128.74661254882812)


def test_overflow_and_exit_messages_of_unknown_trainers(tmp_path: Path) -> None:
    events = parse_text(
        "OVERFLOW! Skipping step. Attempted loss scale: 8388608.0\n"
        "Step 113796  [0.880 sec/step, loss=nan, avg_loss=nan]\n"
        "Loss exploded to nan at step 113796!\n"
        "Exiting due to exception: Loss Exploded\n",
        "train.log",
    ).events
    assert list(events["kind"]) == ["overflow_skip", "warning", "exception"]
    assert events["message"].iloc[2].endswith("Loss Exploded")
    assert parse_text("Exiting the data loader: all workers are done\n", "train.log").events.empty


def test_a_traceback_whose_lines_carry_changing_numbers_keeps_its_exception(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "1173 Traceback (most recent call last):\n"
        '1174   File "/repos/MindEyeV2/src/Train.py", line 834, in <module>\n'
        "1175     utils.check_loss(loss)\n"
        '1176   File "/repos/MindEyeV2/src/utils.py", line 208, in check_loss\n'
        "1177     raise ValueError('NaN loss')\n"
        "1178 ValueError: NaN loss\n"
    )
    report = analyze(log)
    assert any(m.startswith("ValueError: NaN loss (last frame") for m in report.run.events["message"])
    assert {"loss_nan", "crash"} <= {f.failure_mode for f in report.findings}  # the guard's own words


def test_a_log_level_word_is_no_part_of_a_name() -> None:
    line = (
        "2020-02-27 03:08:07,282 P590 INFO [Metrics] logloss: 0.440696 - AUC: 0.811085\n"
        "2020-02-27 03:08:09,661 P590 INFO Train loss: {v}\n"
        "2020-02-27 03:08:09,661 P590 INFO ****** Epoch={e} end ****\n"
    )
    read = series("".join(line.format(v=v, e=e) for e, v in ((22, 0.436594), (23, 0.436488))))
    assert [v for _, v in read["train/loss"]] == [0.436594, 0.436488]


def test_an_unnamed_counter_that_starts_again_counts_the_batches_of_the_epoch_above() -> None:
    text = "".join(
        f"epoch {e}/300\n"
        + "".join(f"{i}/3, train_loss: {e / 10 + i / 100:.4f} step time: 0.9368\n" for i in (1, 2, 3))
        + f"epoch {e} average loss: {e / 10:.4f}\n"
        for e in (14, 15)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [1, 2, 3, 4, 5, 6]  # not 1, 2, 3 twice
    assert [v for _, v in read["train/loss_summary"]] == [1.4, 1.5]  # `average loss`: the epoch's summary


def test_identical_trainer_dicts_with_no_bar_are_each_a_record(tmp_path: Path) -> None:
    # A frozen run prints the same dict at every logging step (MedicalGPT, new log 158): not rank duplicates.
    frozen = "{'loss': 0.0, 'learning_rate': 1.0533245556287031e-07, 'epoch': 0.01}\n"
    evaluation = "{'eval_loss': nan, 'eval_runtime': 2365.9772, 'eval_samples_per_second': 21.4, 'epoch': 0.01}\n"
    read = series(frozen + evaluation + frozen * 5)
    assert len(read["train/loss"]) == 6 and len(read["eval/loss"]) == 1


def test_two_eval_losses_named_after_a_loss_function_keep_the_validation_one() -> None:
    line = "Epoch: {e:03d}, LR: 0.001000, Loss: {v:.7f}, Validation MAE: {m:.7f}, Test MAE: {t:.7f}\n"
    read = series("".join(line.format(e=e, v=1 / e, m=2 / e, t=3 / e) for e in (1, 2, 3)))
    assert [round(v, 6) for _, v in read["eval/loss"]] == [2.0, 1.0, 0.666667]
    assert [round(v, 6) for _, v in read["eval/test_mae"]] == [3.0, 1.5, 1.0]


def test_a_loop_printing_only_its_loss_is_read(tmp_path: Path) -> None:
    # `print(loss)` in a custom loop (ChatGLM LoRA, new log 160): a tensor repr per line and nothing else.
    log = tmp_path / "train.log"
    log.write_text("tensor(3.2207, device='cuda:0')\n" + "tensor(nan, device='cuda:0')\n" * 9)
    report = analyze(log)
    assert len(report.run.series("loss")) == 10
    assert "loss_nan" in {f.failure_mode for f in report.findings}
    assert "train/loss" not in series("see the table\n" + "0.5\n" * 4)  # four lines are not enough


def test_a_counter_and_a_value_after_a_bar_are_step_and_loss() -> None:
    bar = "{p:>3}%|▎         | {n}/312 [02:27<1:00:48, 12.12s/it]{s}, {v}\n"
    rows = [(0, 2.5521), (10, 2.2398), (20, 2.2377), (30, 2.1703), (40, 2.2717)]
    read = series("".join(bar.format(p=s // 4, n=s + 1, s=s, v=v) for s, v in rows))
    assert read["train/loss"] == rows


def test_a_keras_row_cut_by_the_end_of_the_paste_is_placed_under_its_epoch() -> None:
    row = "1/1 [==============================] - 0s 187ms/step - loss: {t} - val_loss: {v}\n"
    text = "".join(f"Epoch {e}/100\n" + row.format(t=1 / e, v=0.5 + e / 100) + "\n" for e in (16, 17, 18))
    text += "Epoch 19/100\n1/1 [==============================] - 0s 123ms/step - loss: 0.5792 -"
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [16, 17, 18, 19]  # not at step 1, its batch counter 1/1


def test_a_keras_row_is_read_once() -> None:
    line = "72000/72000 - 354s - loss: {t} - accuracy: 0.7778 - val_loss: {v} - val_accuracy: 0.7891\n"
    read = series("".join(f"Epoch {e}/10\n" + line.format(t=1 / e, v=0.4 + e / 10) for e in (1, 2, 3)))
    assert [s for s, _ in read["train/loss"]] == [1, 2, 3]  # not each epoch twice


def test_the_one_record_before_a_diverged_message_and_the_message(tmp_path: Path) -> None:
    log = tmp_path / "t2t.log"
    log.write_text(
        "INFO:tensorflow:Done running local_init_op.\n"
        "INFO:tensorflow:step = 0, loss = 9.76205\n"
        "ERROR:tensorflow:Model diverged with loss = NaN.\n"
    )
    report = analyze(log)
    assert [v for _, v in series(log.read_text())["train/loss"]] == [9.76205]  # printed once, with its counter
    assert "loss_nan" in {f.failure_mode for f in report.findings}


def test_logging_code_locations_and_one_metric_per_line() -> None:
    line = "2020-09-10 11:52:14,449 (base_trainer:831) INFO: (Step: 95400) train_{name} = {v}.\n"
    read = series("".join(line.format(name=n, v=v) for n, v in (("f0_loss", 0.0659), ("mel_loss_after", "nan"))))
    assert read["train/loss"] == [(95400, 0.0659)]  # the one field named ...loss
    assert len(read["train/mel_loss_after"]) == 1  # printed once, NaN, with a counter: a record all the same
    assert not any("base_trainer" in name for name in read)


def test_a_clock_ends_the_name_before_it() -> None:
    line = (
        "[2021-04-25 21:57:25 swin_tiny_patch4_window7_224](main.py 221): INFO Train: [3/300][{i}/1251]  eta 0:08:57 "
        "lr 0.000166 time 0.6068 (0.6098)    loss {v} (6.1324)    grad_norm 2.0382 (inf)  mem 11818MB\n"
    )
    read = series("".join(line.format(i=i, v=6 - i / 1000) for i in (370, 380)))
    assert [v for _, v in read["train/learning_rate"]] == [0.000166, 0.000166]
    assert not any(name.startswith("train/main") for name in read)  # `(main.py 221)` is a code location


def test_a_field_seen_again_starts_the_next_one_value_per_line_record() -> None:
    block = "Iter: {i}\nstage1_pafs_loss:     {v}\nstage1_heatmaps_loss: {v}\n"
    read = series("".join(block.format(i=i, v=v) for i, v in ((100, 0.5), (200, 0.4), (300, "nan"))))
    assert [s for s, _ in read["train/stage1_pafs_loss"]] == [100, 200, 300]


def test_a_bar_description_with_several_fields_and_a_step_that_starts_again_each_epoch() -> None:
    bar = "Epoch {e}, Step {s}, Loss: {v}:   {p}%|▏         | {n}/144 [00:02<02:20,  1.01it/s]\n"
    rows = [(1, 0, 0.9741), (1, 1, 1.3742), (1, 2, 0.8), (2, 0, 0.9741), (2, 1, 1.3742), (2, 2, 0.8)]
    read = series("".join(bar.format(e=e, s=s, v=v, p=1, n=s + 2) for e, s, v in rows))
    assert [s for s, _ in read["train/loss"]] == [0, 1, 2, 3, 4, 5]  # epoch x 3 + step, not 0-2 twice


def test_exact_zeros_under_bare_split_names_are_a_loss(tmp_path: Path) -> None:
    line = "Epoch {e:03d}: train=0.00000000 valid=0.00000000 best=0.00000000 duration={d}\n"
    log = tmp_path / "demucs.log"
    log.write_text("".join(line.format(e=e, d=f"{100 + e:.2f}") for e in range(4)))
    assert series(log.read_text())["train/loss"] == [(e, 0.0) for e in range(4)]  # not a count of samples
    assert "loss_zero" in {f.failure_mode for f in analyze(log).findings}


def test_a_named_counter_that_starts_again_is_no_global_step() -> None:
    line = "[2023-03-10 20:01:35,500]     batch count: {b}/308, iter: {b}, loss: {v}, aux_loss: 164.087860\n"
    rows = [(280, 0.089525), (300, 0.088858), (0, 0.093358), (20, 0.0921), (40, 0.0911), (60, "nan")]
    read = series("".join(line.format(b=b, v=v) for b, v in rows))
    steps = [s for s, _ in read["train/loss"]]
    assert len(steps) == 6 and steps == sorted(steps)  # the NaN is last, as printed, not before 280 and 300


def test_a_bar_that_prints_its_step_is_placed_there() -> None:
    text = (
        "Epoch 2/30:   0%|          | 6/8563 [00:10<4:06:13,  1.73s/step, loss=0.656, step=8569]"
        "[rank1]:[E1030 03:19:32.584828663 ProcessGroupNCCL.cpp:616] [Rank 1] Watchdog caught collective operation "
        "timeout: WorkNCCL(SeqNum=215121, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for "
        "600089 milliseconds before timing out.\n"
    )
    read = parse_text(text, "train.log")
    assert read.metrics["step"].tolist() == [8569] and read.events["step"].tolist() == [8569]


def test_records_waiting_for_a_bar_that_prints_its_step_are_placed_there() -> None:
    # A dict written above the bar (tqdm.write) waits for the next bar to learn its step; a bar that starts
    # again each epoch but says `step=` in its postfix gives the global step to the waiting record too.
    bar = "Epoch {e}/3: {p}%|###| {n}/100 [00:10<00:20,  1.73it/s, loss={v}, step={s}]\n"
    text = (
        bar.format(e=1, p=50, n=50, v=0.9, s=50)
        + "{'loss': 0.8, 'learning_rate': 1e-05, 'epoch': 1.6}\n"
        + bar.format(e=1, p=60, n=60, v=0.8, s=60)
        + "{'loss': 0.7, 'learning_rate': 1e-05, 'epoch': 2.5}\n"
        + bar.format(e=2, p=50, n=50, v=0.7, s=150)
    )
    read = parse_text(text, "train.log").metrics
    dicts = read[(read["metric"] == "learning_rate")]
    assert dicts["step"].tolist() == [60, 150]


def test_olmo_blocks_under_a_step_header_each_a_record() -> None:
    header = "2024-08-06 09:59:26.181 intern-studio-160750:0  olmo.train:908  INFO    [step={s}/739328,epoch=0]\n"
    block = "    optim/total_grad_norm={g}\n    train/CrossEntropyLoss={v}\n    train/Perplexity=1.000\n"
    text = "".join(header.format(s=s) + block.format(g=g, v=v) for s, g, v in ((1, 231.7, 12.18), (2, 0.0002, 0.0)))
    assert series(text)["train/loss"] == [(1, 12.18), (2, 0.0)]  # printed once each: `...Loss` names the loss


def test_a_running_mean_named_in_its_parentheses() -> None:
    line = (
        "   [Train] Epoch: [1][{i}/4899]  Loss:{v} (Avg 0.5566) Dice:0.3038 (Avg 0.3144) LR 1.00e-03   (AvgTime 1.4)\n"
    )
    read = series("".join(line.format(i=i, v=v) for i, v in ((367, 0.564), (368, 0.417))))
    assert [v for _, v in read["train/loss_avg"]] == [0.5566, 0.5566]
    assert [v for _, v in read["train/dice_avg"]] == [0.3144, 0.3144]  # not one `avg` series of both


def test_a_percent_sign_after_a_loss_does_not_scale_it() -> None:
    text = "# Epoch: 001/010 | Train: 10.000% | Loss: 2.520%\n# Epoch: 010/010 | Train: 10.000% | Loss: 2.303%\n"
    read = series(text)
    assert [v for _, v in read["train/loss"]] == [2.52, 2.303]  # one format string for accuracy and loss
    assert [v for _, v in read["train/train"]] == [0.1, 0.1]


def test_a_count_of_what_was_seen_is_the_step() -> None:
    line = (
        "VLOG[1](train-ctc-parallel:EvalParallel%28%29:ctc-loss.cc:182) After {n} sequences (33.1789Hr): "
        "Obj(log[Pzx]) = {v}   TokenAcc = 97.4986% \n"
    )
    read = series("".join(line.format(n=n, v=v) for n, v in ((62000, -8.45854), (63000, -8.56525), (64000, -8.7))))
    assert [s for s, _ in read["train/obj_log_pzx"]] == [62000, 63000, 64000]
    assert series("500 steps, loss 0.3\n600 steps, loss 0.2\n")["train/loss"] == [(500, 0.3), (600, 0.2)]
    assert "train/loss" in series("loss 0.3 12 samples/sec\nloss 0.2 13 samples/sec\n")  # a rate, no counter


def test_a_step_that_starts_again_at_every_epoch_however_often() -> None:
    rows = [(5, 80, 0.0001169009), (5, 90, 0.0001167395), (6, 0, 0.0001141584), (6, 10, 0.0001138134)]
    read = series("".join(f"epoch={e}\tstep={s}\tloss={v}\t\n" for e, s, v in rows))
    assert [s for s, _ in read["train/loss"]] == [80, 90, 91, 101]  # epoch x (largest step + 1) + step


def test_an_elbo_is_a_metric() -> None:
    text = "Iter: 1, running avg elbo: -3.2134\nIter: 2, running avg elbo: -1.05e+09\n"
    assert series(text)["train/running_avg_elbo"] == [(1, -3.2134), (2, -1.05e9)]


def test_different_records_under_one_epoch_header_keep_their_own_places(tmp_path: Path) -> None:
    # votenet: `**** EPOCH 002 ****`, then a ` ---- batch: 010 ----` banner and one `mean x: v` line per field.
    block = " ---- batch: {b:03d} ----\nmean box_loss: {v}\nmean loss: {v}\nmean obj_acc: 0.254375\n"
    text = "**** EPOCH 002 ****\nCurrent learning rate: 0.001000\n" + "".join(
        block.format(b=b, v=v) for b, v in ((10, "nan"), (20, "nan"), (30, "25.1711"))
    )
    read = series(text)
    assert [v for _, v in read["train/loss"]][:2] != [25.1711]  # the NaN records are not overwritten
    assert len(read["train/loss"]) == 3 and len({s for s, _ in read["train/loss"]}) == 3
    log = tmp_path / "votenet.log"
    log.write_text(text)
    assert "loss_nan" in {f.failure_mode for f in analyze(log).findings}


def test_a_counter_glued_to_its_word_is_a_counter() -> None:
    line = "2018-12-12 19:39:41,542 - root - INFO - The train loss of epoch20-batch-{b}:{v}\n"
    rows = [(0, 0.16853167116641998), (50, 0.11838030815124512), (100, 0.7974161505699158)]
    read = series("".join(line.format(b=b, v=v) for b, v in rows))
    assert [v for _, v in read["train/loss"]] == [v for _, v in rows]  # not the batch index
    assert [s for s, _ in read["train/loss"]] == [0, 50, 100]


def test_fields_after_a_group_name_belong_to_the_group() -> None:
    line = (
        "Epoch {e}, Time(s): 11.3853 6.5175, Best Val loss: {l}, Accs: Train: {t}, Val: 0.7079, Test: 0.6753, "
        "Best Val: 0.7079, Best Test: 0.6753\n"
    )
    read = series("".join(line.format(e=e, l=0.9427 - e / 1000, t=0.7351 + e / 1000) for e in (26, 27)))
    assert "train/loss" not in read  # `Train: 0.7351` is an accuracy of the `Accs` group, not a loss
    assert [round(v, 4) for _, v in read["train/accs"]] == [0.7611, 0.7621]


def test_a_rate_named_after_a_value_is_the_next_fields_name() -> None:
    line = (
        "node04: [2024-07-12 19:13:00.439] [INFO] [qlora-pipe] step:  {s} /  2112 loss: {v} iter time (s): 1.010 "
        "samples/sec: 0.990 eta: 11m53s \n"
    )
    read = series("".join(line.format(s=s, v=v) for s, v in ((1390, 0.82), (1400, 0.8146))))
    assert [v for _, v in read["train/iter_time_s"]] == [1.01, 1.01]  # not samples per second


def test_an_averaged_loss_in_a_bar_postfix_is_the_loss() -> None:
    bar = "steps:  {p}%|▏         | {n}/1000 [01:02<1:40:00,  6.07s/it, avr_loss={v}]\n"
    read = series("".join(bar.format(p=n // 10, n=n, v=v) for n, v in ((10, 0.0659), (20, 0.0641))))
    assert [v for _, v in read["train/loss"]] == [0.0659, 0.0641]


def test_an_eval_metrics_block_with_no_eval_dict_before_it(tmp_path: Path) -> None:
    # TinyLlama's end of run: the Trainer's `***** eval metrics *****` block after the eval bar, no eval dict.
    log = tmp_path / "train.log"
    log.write_text(
        "100%|██████████| 128/128 [00:25<00:00,  5.08it/s]\n"
        "***** eval metrics *****\n"
        "  epoch                   =        5.0\n"
        "  eval_loss               =        nan\n"
        "  eval_runtime            = 0:00:25.70\n"
    )
    report = analyze(log)
    assert report.run.series("loss", "eval").index.tolist() == [128]  # `eval/loss`, not `eval/eval_loss`
    assert "eval_loss_nan" in {f.failure_mode for f in report.findings}


def test_counters_named_after_their_number_behind_a_level_bracket() -> None:
    # A TF1 GAN's logger (new log 1012): `[time INFO] 0 epoch,  152  batch, ...`: the level names no number,
    # each counter's name follows it (after one space or two)
    text = "".join(
        f"[2018-11-22 16:53:2{i},014 INFO] 0 epoch,  {152 + i}  batch, Discriminator  Loss:  {11.18 - i:.2f}\n"
        for i in range(3)
    )
    frame = parse_text(text, "train.log").metrics
    assert set(frame["metric"]) == {"loss", "epoch"}
    assert frame[frame["metric"] == "loss"]["step"].tolist() == [152, 153, 154]


def test_a_warnings_numbers_are_no_record_and_a_bound_is_no_value() -> None:
    # `[time] [WARNING]: ...` keeps its level (new log 1057: the bound became a series `loss_sum_less_than`);
    # a number after `less than` / `exceeds` is a bound a sentence names, whatever the line's level
    warned = (
        "[2022-10-12 12:41:34] [WARNING]: Find the loss sum less than 1e-9 but the training process will continue!\n"
    )
    record = "[2022-10-12 12:41:33] [INFO]: Iteration 32700, Cost 17.76s, triplet_loss=0.1912\n"
    frame = parse_text(record + warned * 4, "train.log").metrics
    assert set(frame["metric"]) == {"cost", "loss"}  # the only loss on the line is the loss
    text = "step 1 loss: 2.3\nstep 2 loss: 2.2\n" + "grad norm exceeds 1e3 at step 3\n" * 2 + "step 5 loss: 2.0\n"
    frame = parse_text(text, "train.log").metrics
    assert set(frame["metric"]) == {"loss"}


def test_a_checkpoint_sentence_says_the_new_value_and_its_path_holds_none() -> None:
    # LibCity's `Val loss decrease from inf to 10248.0996, saving to ./cache/8834/...` (new log 1094): the
    # value is the second number (`decrease`, as `decreased`), and a path's numbered folder is no value
    text = "".join(
        f"Epoch [{e}/100] train_loss: {t}, val_loss: {v}\n"
        f"Val loss decrease from {p} to {v}, saving to ./libcity/cache/8834/model_cache/ASTGCN_{e}.tar\n"
        for e, t, v, p in ((0, 14465.6, 10248.1, "inf"), (1, 9000.5, 8000.2, 10248.1), (2, 7000.1, 6500.3, 8000.2))
    )
    frame = parse_text(text, "train.log").metrics
    assert set(frame["metric"]) == {"loss", "epoch"}
    assert sorted(set(frame[frame["split"] == "eval"]["value"])) == [6500.3, 8000.2, 10248.1]


def test_the_fields_of_a_losses_group_are_loss_parts_and_total_the_loss() -> None:
    # A YOLOv3 loop's `[Losses: x .., total nan, recall: ..]` (new log 1119): unread while `total` was NaN in
    # every row (no name said loss); the group's heading says what its fields are, a score inside keeps its name
    text = "".join(
        f"[Epoch 1/2, Batch {b}/4807] [Losses: x 0.5{b % 10}, y 0.44, w nan, h nan, conf 82.89, cls 13.1, "
        "total nan, recall: 0.00000, precision: 1.00000]\n"
        for b in range(4310, 4314)
    )
    frame = parse_text(text, "train.log").metrics
    assert {"loss", "x_loss", "conf_loss", "recall", "precision"} <= set(frame["metric"])
    assert frame[frame["metric"] == "loss"]["value"].isna().all()


def test_a_name_right_after_a_closing_parenthesis_starts_a_field() -> None:
    # GLIA-Net's `(Time per iter: 0.92s)train iter 3010.` (new log 1170): `train iter` is the step counter,
    # not `s train iter` a metric holding it
    text = "".join(
        f"(Time per iter: 0.9{i}s)train iter {3010 + 10 * i}. epoch 1/200. total_loss: 0.22{i}\n" for i in range(3)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [3010, 3020, 3030]


def test_a_value_in_angle_brackets_is_a_value_and_a_bare_less_than_a_bound() -> None:
    # Apache MADlib's MLP logs through PL/Python (new log 470): `INFO:  Iteration: 1, Loss: <1.57403083382>`
    lines = [(1, "1.57403083382"), (2, "1.18209701678"), (3, "0.805838101786"), (4, "0.456743716108")]
    text = "".join(
        f'INFO:  Iteration: {i}, Loss: <{v}>\nCONTEXT:  PL/Python function "mlp_classification"\n' for i, v in lines
    )
    assert values(text)["train/loss"] == [1.57403083382, 1.18209701678, 0.805838101786, 0.456743716108]
    bound = "step 1 loss: 2.3\nstep 2 loss: 2.2\n" + "stop when grad norm < 1e-3\n" * 2 + "step 5 loss: 2.0\n"
    assert set(parse_text(bound, "train.log").metrics["metric"]) == {"loss"}


def test_a_colon_after_a_counter_leaves_the_value_to_the_name_after_it() -> None:
    # FermiNet's absl lines (new log 2742): `Step 03447: -14.9133 E_h, variance=0.0626 E_h^2`: the colon is the
    # counter's, and the energy is named by the word after it (its unit, the quantity's symbol)
    text = (
        "INFO:absl:Step 03447: -14.9133 E_h, variance=0.0626 E_h^2, pmove=0.52\n"
        "INFO:absl:Step 03448: -14.9394 E_h, variance=0.1356 E_h^2, pmove=0.54\n"
        "INFO:absl:Step 03449: -14.9157 E_h, variance=0.0708 E_h^2, pmove=0.54\n"
        "INFO:absl:Step 03455: nan E_h, variance=nan E_h^2, pmove=0.51\n"
    )
    found = series(text)
    assert [s for s, _ in found["train/e_h"]] == [3447, 3448, 3449, 3455]
    assert [v for _, v in found["train/e_h"]][:3] == [-14.9133, -14.9394, -14.9157]
