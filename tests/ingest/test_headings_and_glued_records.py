"""Classes from rounds 100-107 of unseen logs.

- A split word that heads the fields after it (`Epoch[0] Validation: Rows = 200, loss = 0.693147, AUC =
  0.619823`, DiFacto's glog line; `Training: loss = ... | Validation: loss = ...`) names the split of the
  rest of the line, not of its first field alone (811: the validation loss was read as a train summary).
- Several Trainer dicts on one line (a paste that lost its line breaks: `{'loss': 16.24, ...} {'loss':
  0.0, ...} {'loss': 0.0, ...}`) are one record each, in order (817: read as one record, the last dict's
  values, so a loss falling to 0 after a real first step read as "0 from the start").
- A batch counter with no epoch anywhere on its line that never starts again (`Batch 5420, Loss 16.118095,
  Accuracy 0.000000`) counts the run's steps: onsets say batch 5420, not record 1 (840); one that starts
  again (a new epoch's batches) does not.
- A step count printed in thousands (`| Step: 569k |`, WaveRNN's and Real-Time-Voice-Cloning's bars) is
  569000: onsets were a thousand times too early (838, 839, 841); a `k` after another number (`4k
  tokens`) is left alone.
- A library that warns it `Encountered NaN: loss` (Pyro) reports a non-finite value (843).
- A log that ends in the Python debugger (pdb's `> file.py(454)step()` location line, a `(Pdb)` or
  `ipdb>` prompt; srun's `0: ` task label before it) stopped there: a post-mortem after an exception or
  a breakpoint left in the code (844: read as healthy).
- A ranking metric's name with its cut-off glued on (`Top1 error`, `Top5 error`, `acc5 err`) keeps it: the
  two were merged into one `error` series of twice the points (825), the digits taken for a glued counter.
- Keras's `Epoch 1/1` header again before every record (a one-epoch `fit()` called in a loop) counts on:
  each call is the next epoch (867: seven records at one step, six dropped as duplicates).
- torchvision's MetricLogger line keeps each field's running average in parentheses (`loss: 6.7274
  (6.9064)`) as `<field>_avg`, and fields with digits (`acc1`, `acc5`): the hint dropped them (880).
- XLA's status-code form of an allocation failure (`RESOURCE_EXHAUSTED: Attempting to allocate 31.06M`,
  JAX, TPU, TF) is out of memory (891: read as a plain crash).
- A meter named like a counter (`Batch 0.439 (0.445)`: the batch's seconds and their running mean) holds
  fractions and counts nothing: the `[750/11134]` beside it is the batch (878: every record at step 0).
- A traceback pasted outside a code block: Markdown eats `<module>` (`File "train.py", line 542, in `),
  and the reporter's `...` stands for frames left out; both are the same traceback going on, not its
  end (850, 909: one exception read as two, the first "with no exception line").
- Python logging's `[%(name)s] [%(levelname)s]` before the message is a prefix (833: the logger's dotted
  name was glued onto the `epoch` counter's name, and the records fell back to record order).
- A loss printed in a sentence, `Loss of 0.0131 on iteration 2` (a Julia callback's), is the loss: the
  linking word is no part of its name (917: read as `loss_of`, which no rule looks at).
- A `cost` in a record whose losses are named (`Value function loss: .. | Mean cost: 0.00`, constrained
  RL's episode cost) is not the loss (941: its 0.00 was read as a loss of exactly 0).
- A launcher that kills its remaining workers (DeepSpeed's `sigkill_handler ... Killing subprocess`), a
  `return code = -9` with a space, and any negative return code are the run dying on a signal (932, 933:
  read as nothing at all).
- A progress bar that counts set-up work (`Loading checkpoint shards: 33/33`, `Map: 1000/1000`) sets no
  step: the crash after it was placed at "step 33" before any training step ran (932).
- Lightning's ModelCheckpoint message glued to a bar (`..]Epoch 2, global step 400000: 'val/AP' was not in
  top 1`) is an event, not a metric `was_not_in_top`; a bar's `v_num=3hqp` (the logger's version id) is no
  metric (952).
- A tab or pipe table header whose column names hold digits (`F1`, `Top5`: the Trainer's notebook table
  `Epoch  Training Loss  Validation Loss  F1  Roc Auc  Accuracy`) is a header: the table was unread (1006);
  its `No log` cells (no training loss logged yet at that row) are text cells, so the rows that hold them
  still give their eval values (1003: the best eval loss, in those rows, was lost).
"""

from __future__ import annotations

from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series, values

DIFACTO = (
    "[12:23:59] /opt/codebase/dmlc/DiFacto2_ffm/src/sgd/sgd_learner.cc:82: Epoch[{e}] Training: Rows = 200, "
    "loss = {tl:.6f}, AUC = {ta:.6f}\n"
    "[12:24:01] /opt/codebase/dmlc/DiFacto2_ffm/src/sgd/sgd_learner.cc:87: Epoch[{e}] Validation: Rows = 200, "
    "loss = {vl:.6f}, AUC = {va:.6f}\n"
)


def test_a_split_heading_names_every_field_after_it() -> None:
    text = "".join(
        DIFACTO.format(e=e, tl=0.693153 - 0.01 * e, ta=0.64 + 0.01 * e, vl=0.693147 - 0.005 * e, va=0.62 + 0.01 * e)
        for e in range(3)
    )
    read = values(text)
    assert read["eval/loss"] == [0.693147, 0.688147, 0.683147]
    assert read["eval/auc"] == [0.62, 0.63, 0.64]
    assert read["train/loss"] == [0.693153, 0.683153, 0.673153]
    assert not any(name.endswith("_summary") for name in read)


def test_two_headed_groups_on_one_line() -> None:
    text = "".join(
        f"Epoch {e} Training: loss = {1.0 - 0.1 * e:.4f}, acc = {0.5 + 0.05 * e:.4f} | "
        f"Validation: loss = {1.1 - 0.08 * e:.4f}, acc = {0.45 + 0.04 * e:.4f}\n"
        for e in range(4)
    )
    read = values(text)
    assert read["train/acc"] == [0.5, 0.55, 0.6, 0.65]
    assert read["eval/acc"] == [0.45, 0.49, 0.53, 0.57]
    assert read["eval/loss"] == [1.1, 1.02, 0.94, 0.86]


def test_several_dicts_on_one_line_are_one_record_each() -> None:
    text = (
        "{'loss': 16.2405, 'grad_norm': 2.0, 'learning_rate': 0.0, 'epoch': 0.0} "
        "{'loss': 0.0, 'grad_norm': 2.0, 'learning_rate': 2.8818443804034583e-08, 'epoch': 0.0} "
        "{'loss': 0.0, 'grad_norm': 2.0, 'learning_rate': 5.7636887608069166e-08, 'epoch': 0.0}\n"
        "{'loss': 0.0, 'grad_norm': 2.0, 'learning_rate': 8.645533141210375e-08, 'epoch': 0.0}\n"
    )
    assert values(text)["train/loss"] == [16.2405, 0.0, 0.0, 0.0]


def test_a_nested_dict_is_not_cut() -> None:
    text = "".join(
        f"{{'loss': {2.0 - 0.1 * i:.4f}, 'learning_rate': 0.001, 'extra': {{'a': 1}}, 'epoch': {i / 10:.2f}}}\n"
        for i in range(4)
    )
    assert values(text)["train/loss"] == [2.0, 1.9, 1.8, 1.7]


def test_a_lone_batch_counter_that_never_restarts_is_the_step() -> None:
    rows = [(5420, 16.118095, 0.0), (5440, 9.064781, 0.4375), (5460, 12.591434, 0.21875), (5480, 4.533215, 0.71875)]
    text = "".join(f"Batch {b}, Loss {loss:.6f}, Accuracy {acc:.6f}\n" for b, loss, acc in rows)
    assert [step for step, _ in series(text)["train/loss"]] == [5420, 5440, 5460, 5480]


def test_a_lone_batch_counter_that_restarts_is_not_the_step() -> None:
    text = "".join(f"Batch {b}, Loss {2.0 - 0.01 * i:.6f}\n" for i, b in enumerate([0, 100, 200, 0, 100, 200]))
    steps = [step for step, _ in series(text)["train/loss"]]
    assert steps != [0, 100, 200, 0, 100, 200] and len(steps) == 6


def test_a_step_count_in_thousands_is_scaled() -> None:
    text = "".join(
        f"{{| Epoch: {e} (1158/1158) | Loss: {4.6526 - 0.1 * e:.4f} | 1.4 steps/s | Step: {e}k | }}\n"
        for e in range(1, 5)
    )
    assert [step for step, _ in series(text)["train/loss"]] == [1000, 2000, 3000, 4000]


def test_a_thousands_suffix_on_a_value_is_not_a_step() -> None:
    text = "".join(f"step {i} loss {2.0 - 0.1 * i:.3f} seq 4k tokens\n" for i in range(1, 5))
    assert [step for step, _ in series(text)["train/loss"]] == [1, 2, 3, 4]


def test_encountered_nan_is_a_non_finite_report() -> None:
    text = ".../site-packages/pyro/infer/traceenum_elbo.py:419: UserWarning: Encountered NaN: loss\n"
    events = parse_text(text, "train.log").events
    assert list(events["message"]) == ["a non-finite value reported"]


def test_a_log_that_ends_in_the_debugger_stopped_there() -> None:
    text = (
        " 0: 016 : 00430/00512 : 008622 : loss = 2.7591E-01 (lr=4.93E-05, s/sec=0.329)\n"
        " 0: > /p/.venv/lib/python3.12/site-packages/torch/amp/grad_scaler.py(454)step()\n"
        ' 0: -> len(optimizer_state["found_inf_per_device"]) > 0\n'
    )
    events = parse_text(text, "train.log").events
    assert list(events["kind"]) == ["exception"]
    assert "debugger" in events["message"].iloc[0] and "grad_scaler.py" in events["message"].iloc[0]
    for prompt in ("(Pdb) ", "ipdb> "):
        assert list(parse_text(f"step 3 loss 0.5\n{prompt}\n", "train.log").events["kind"]) == ["exception"]


def test_a_quoted_arrow_is_not_the_debugger() -> None:
    text = "> Note: see train.py for details\nstep 1 loss 0.5\nstep 2 loss 0.4\n"
    assert parse_text(text, "train.log").events.empty


def test_a_ranking_metric_keeps_its_cut_off() -> None:
    text = "".join(
        f"Epoch: [{e}] ArcFace loss: {17.3 - e:.4f} Top1 error: {99.6 - e:.4f} Top5 error: {99.4 - 2 * e:.4f}\n"
        for e in range(1, 5)
    )
    read = values(text)
    assert read["train/top1_error"] == [98.6, 97.6, 96.6, 95.6]
    assert read["train/top5_error"] == [97.4, 95.4, 93.4, 91.4]


def test_a_one_epoch_fit_in_a_loop_counts_on() -> None:
    rows = [(0.0889, 0.2725), (0.0848, 0.2937), (0.0859, 0.2760), (0.0787, 0.2841)]
    text = "".join(
        "Epoch 1/1\n"
        f"1598/1598 [==============================] - 114s - loss: {t:.4f} - acc: 0.8755 - val_loss: {v:.4f} - "
        "val_acc: 0.5857\n"
        for t, v in rows
    )
    assert series(text)["train/loss"] == [(1, 0.0889), (2, 0.0848), (3, 0.0859), (4, 0.0787)]


METRIC_LOGGER = (
    "Epoch: [0]  [ {i}/5005]  eta: 4:26:15  lr: 0.1  img/s: 6.728650373418343  loss: {loss:.4f} ({avg:.4f})  "
    "acc1: 0.0000 (0.3009)  acc5: 0.0000 (1.1806)  time: 2.5828  data: 0.0012  max mem: 3524\n"
)


def test_a_metric_logger_line_keeps_its_running_averages() -> None:
    rows = [(134, 6.7313, 6.9128), (135, 6.7595, 6.9122), (136, 6.7274, 6.9096), (137, 6.7274, 6.9064)]
    read = values("".join(METRIC_LOGGER.format(i=i, loss=loss, avg=avg) for i, loss, avg in rows))
    assert read["train/loss"] == [6.7313, 6.7595, 6.7274, 6.7274]
    assert read["train/loss_avg"] == [6.9128, 6.9122, 6.9096, 6.9064]
    assert read["train/acc1"] == [0.0] * 4 and read["train/acc5_avg"] == [1.1806] * 4


def test_resource_exhausted_is_out_of_memory() -> None:
    text = (
        "UnfilteredStackTrace: RuntimeError: RESOURCE_EXHAUSTED: Attempting to allocate 31.06M. That was not "
        "possible. There are 58.64M free.\n"
    )
    assert "oom" in set(parse_text(text, "train.log").events["kind"])


SEMSEG = (
    "[2021-08-16 13:47:19,356 INFO train.py line 404 34387] Epoch: [1/50][{i}/11134] Data 0.000 (0.002) "
    "Batch {b:.3f} (0.445) Remain 68:45:01 MainLoss 0.0000 AuxLoss 0.0000 Loss {loss:.4f} Accuracy 0.1246.\n"
)


def test_a_meter_named_batch_is_no_batch_counter() -> None:
    rows = [(750, 0.439, 3.2435), (760, 0.445, 4.2568), (770, 0.444, 2.5651), (780, 0.447, 3.0012)]
    read = series("".join(SEMSEG.format(i=i, b=b, loss=loss) for i, b, loss in rows))
    assert [step for step, _ in read["train/loss"]] == [750, 760, 770, 780]


def test_a_traceback_pasted_outside_a_code_block_is_one_exception() -> None:
    text = (
        "Traceback (most recent call last):\n"
        'File "scripts/reader/train.py", line 542, in \n'
        "main(args)\n"
        "...\n"
        'File "/home/u/DrQA/drqa/reader/utils.py", line 232, in metric_max_over_ground_truths\n'
        "return max(scores_for_ground_truths)\n"
        "ValueError: max() arg is an empty sequence\n"
    )
    events = parse_text(text, "train.log").events
    assert list(events["kind"]) == ["exception"]
    assert events["message"].iloc[0].startswith("ValueError: max() arg is an empty sequence")


def test_a_logger_name_and_level_in_brackets_is_a_prefix() -> None:
    text = "".join(
        f"[2023-01-29 17:05:{10 + e},919] [paddlets.models.common.callbacks.callbacks] [INFO] epoch {e:03d}| "
        f"loss: {0.9 - 0.1 * e:.6f}| val_0_mse: 0.5| 0:00:06s\n"
        for e in range(4)
    )
    assert series(text)["train/loss"] == [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)]


def test_a_loss_named_in_a_sentence_drops_its_linking_word() -> None:
    text = "".join(f" Loss of {0.013182825077950069 + 1e-9 * i} on iteration {i}\n" for i in range(1, 6))
    read = series(text)
    assert [step for step, _ in read["train/loss"]] == [1, 2, 3, 4, 5]


def test_a_cost_beside_named_losses_is_not_the_loss() -> None:
    text = "".join(
        f"Value function loss: {736518.8656 + i:.4f} | Surrogate loss: -0.0096 | Mean reward: 4006.23 | "
        f"Mean cost: 0.00 | Mean episode length: 42.41 |\n"
        for i in range(3)
    )
    read = values(text)
    assert "train/loss" not in read and read["train/mean_cost"] == [0.0, 0.0, 0.0]


def test_a_launcher_killing_its_workers_is_a_signal() -> None:
    for line in (
        "[2023-04-21 22:20:31,527] [INFO] [launch.py:318:sigkill_handler] Killing subprocess 19501",
        "[INFO] [launch.py:324:sigkill_handler] ['/usr/bin/python3', 'finetune.py'] exits with return code = -9",
        "subprocess exited with return code = -7",
    ):
        assert list(parse_text(line + "\n", "train.log").events["kind"]) == ["signal"], line


def test_a_set_up_bar_sets_no_step() -> None:
    text = (
        "Loading checkpoint shards: 100%|██████████| 33/33 [00:41<00:00,  1.25s/it]\n"
        "Map: 100%|██████████| 1000/1000 [00:00<00:00, 5012.33 examples/s]\n"
        "Traceback (most recent call last):\n"
        '  File "train.py", line 3, in <module>\n'
        "RuntimeError: CUDA error: device-side assert triggered\n"
    )
    events = parse_text(text, "train.log").events
    assert events["step"].isna().all() and not events.empty


def test_a_checkpoint_message_glued_to_a_bar_is_an_event() -> None:
    text = "".join(
        f"Epoch 2: : {n}it [7:02:37,  4.57it/s, loss={loss}, v_num=3hqp]Epoch 2, global step {n * 4}: "
        "'val/AP' was not in top 1\n"
        for n, loss in ((115816, 2.1), (115900, 2.0), (116000, 2.2))
    )
    frames = parse_text(text, "train.log")
    names = set(frames.metrics["metric"].astype(str))
    assert not {m for m in names if "top" in m or "v_num" in m}, names
    assert "checkpoint" in set(frames.events["kind"])


def test_a_table_header_with_digits_in_its_names_is_a_header() -> None:
    text = "Epoch\tTraining Loss\tValidation Loss\tF1\tRoc Auc\tAccuracy\n" + "".join(
        f"{e}\t{0.2793 - 0.03 * e:.6f}\t{0.3156 + 0.005 * e:.6f}\t0.690058\t0.786618\t0.262980\n" for e in range(1, 6)
    )
    read = series(text)
    assert [step for step, _ in read["train/loss"]] == [1, 2, 3, 4, 5]
    assert len(read["eval/loss"]) == 5


def test_the_trainer_tables_no_log_cells_keep_their_rows() -> None:
    text = "Step\tTraining Loss\tValidation Loss\tF1\n" + "".join(
        f"{s}\t{'No log' if s < 500 else '0.775400'}\t{v:.6f}\t0.8\n"
        for s, v in ((100, 1.577256), (200, 0.728565), (300, 0.696579), (400, 0.834695), (500, 0.912845))
    )
    read = series(text)
    assert [step for step, _ in read["eval/loss"]] == [100, 200, 300, 400, 500]
    assert read["train/loss"] == [(500, 0.7754)]


def test_the_metric_logger_hint_reads_hyphenated_and_two_word_keys() -> None:
    # VideoChat2's MetricLogger line (new log 1133): `video-loss: nan` was not read (no loss at all), and
    # `max mem` and `res mem` were one series `mem` with two values a step
    line = (
        "2024-12-19T03:26:01 | utils.basic_utils: Train Epoch: [0]  [{i:>3}/528]  eta: 2:38:49  lr: 0.000001  "
        "video-loss: nan  time: 18.0487  data: 9.4180  max mem: 39278 res mem: 40794\n"
    )
    frame = parse_text("".join(line.format(i=i) for i in (0, 100, 200)), "train.log").metrics
    assert {"video_loss", "max_mem", "res_mem"} <= set(frame["metric"]) and "mem" not in set(frame["metric"])
    assert frame[frame["metric"] == "video_loss"]["value"].isna().all()
