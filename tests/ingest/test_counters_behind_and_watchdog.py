"""Classes from rounds 76-78 of unseen logs.

- Recent PyTorch reports a hung collective through ProcessGroupNCCL's watchdog and heartbeat monitor
  (`watchdog got stuck for 480 seconds`, `due to ProcessGroupNCCL [watchdog hang]`), not the older
  `Watchdog caught collective operation timeout` (new log 657, read as nothing at all).
- A counter whose name ends in a counter word after words that measure nothing (`traing iter`, a
  misspelling; `outer epoch`) is that counter (667, read in record order).
- A line that counts something else after the last record (TensorFlow's `Filling up shuffle buffer
  (this may take a while): 213 of 500` after `step 249`) does not place what follows it: the kill
  after it happened after step 249, not at step 213 (659).
- A tab-separated table whose header and rows share a logger's prefix is read; in a table of train and
  eval rows printed together, `nan` fills the column a row does not measure (Casanovo, 695).
"""

from __future__ import annotations

import math
from pathlib import Path

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series

WATCHDOG = (
    "[rank6]:[E429 13:55:49.384372190 ProcessGroupNCCL.cpp:1743] [PG ID 0 PG GUID 0(default_pg) Rank 6] "
    "ProcessGroupNCCL's watchdog got stuck for 480 seconds without making progress in monitoring enqueued "
    "collectives. This typically indicates a NCCL/CUDA API (e.g., CudaEventDestroy) hang blocking the watchdog\n"
)
TERMINATING = (
    "[rank6]:[F429 14:03:49.385461578 ProcessGroupNCCL.cpp:1554] [PG ID 0 PG GUID 0(default_pg) Rank 6] "
    "Terminating the process after attempting to dump debug info, due to ProcessGroupNCCL [watchdog hang].\n"
)


def test_a_stuck_collectives_watchdog_is_a_collective_timeout() -> None:
    for text in (WATCHDOG, TERMINATING):
        events = parse_text(text, "train.log").events
        assert "nccl_timeout" in set(events["kind"]), text


def test_a_misspelled_counter_name_ending_in_a_counter_word_is_the_step() -> None:
    text = "".join(
        f"traing iter: {i}, test accuracy : 0.18052256107330322, loss : {1.6 - i / 100:.4f}\n" for i in range(54, 60)
    )
    assert [s for s, _ in series(text)["train/loss"]] == list(range(54, 60))


def test_a_time_per_iteration_is_no_counter() -> None:
    text = "".join(f"time per iter: {0.3 + i / 100:.2f}, loss: {1.6 - i / 100:.3f}\n" for i in range(1, 6))
    read = series(text)
    assert "train/loss" in read and len(read["train/loss"]) == 5
    assert any(name.endswith("time_per_iter") or "time" in name for name in read if name != "train/loss")


def test_a_count_of_something_else_after_the_last_record_places_nothing() -> None:
    records = "".join(
        f"step {s} \t total loss = {v}, sub4 = 1.042, val_loss: 0.706 (1.229 sec/step)\n"
        for s, v in ((246, 0.767), (247, 0.775), (248, 0.996), (249, 0.765))
    )
    shuffle = "".join(
        f"2019-07-22 02:08:{10 + n // 10}.4: I tensorflow/core/kernels/data/shuffle_dataset_op.cc:97] "
        f"Filling up shuffle buffer (this may take a while): {n} of 500\n"
        for n in (59, 131, 213)
    )
    events = parse_text(records + shuffle + "Killed\n", "train.log").events
    killed = events[events["kind"] == "signal"]
    assert killed["step"].tolist() == [249]


CASANOVO = "2024-08-19 13:{m}:48,101 INFO [casanovo/MainProcess] model._log_history : {row}\n"


def test_a_tab_table_behind_a_logger_prefix_with_nan_for_empty_cells() -> None:
    # Casanovo's log history (new log 695): train and validation rows in one table, `nan` in the column a
    # row does not measure. The header and rows share the logger's prefix; the NaNs are empty cells.
    rows = ["Step\tTrain loss\tValid loss\t", "20000\tnan\t1.594399", "33440\t1.816622\tnan", "40000\tnan\t1.010075"]
    rows += ["60000\tnan\t0.746913", "66880\t0.945725\tnan", "100320\t0.71\tnan"]
    read = series("".join(CASANOVO.format(m=10 + i, row=r) for i, r in enumerate(rows)))
    assert read["train/loss"] == [(33440, 1.816622), (66880, 0.945725), (100320, 0.71)]
    assert read["eval/loss"] == [(20000, 1.594399), (40000, 1.010075), (60000, 0.746913)]


def test_a_row_of_nans_only_in_such_a_table_keeps_them() -> None:
    rows = ["Step\tTrain loss\tValid loss\t", "20000\tnan\t1.59", "33440\t1.81\tnan", "40000\tnan\tnan"]
    read = series("".join(CASANOVO.format(m=10 + i, row=r) for i, r in enumerate(rows)))
    assert any(math.isnan(v) for _, v in read["train/loss"])


def test_a_counter_said_last_after_a_preposition_is_the_epoch() -> None:
    # CrossFit (725): `Step 300 Train loss 8761.43 ACC 0.0 on epoch=18`.
    line = "10/30/2023 20:5{k}:55 - INFO - __main__ - Step {s} Train loss {v} ACC 0.0 on epoch={e}\n"
    rows = ((300, 8761.43, 18), (400, 8735.57, 24), (800, 7964.75, 49))
    read = series("".join(line.format(k=k, s=s, v=v, e=e) for k, (s, v, e) in enumerate(rows)))
    assert [v for _, v in read["train/epoch"]] == [18, 24, 49]
    assert not any("on_epoch" in name for name in read)


def test_one_record_behind_a_pid_thread_logging_prefix_is_read() -> None:
    # qlib (764): `[%(process)d:%(threadName)s](%(asctime)s) %(levelname)s - %(name)s - [%(filename)s:%(lineno)d] - `
    prefix = "[37672:MainThread](2024-01-16 23:5{m}:58,968) INFO - qlib.LSTM - [pytorch_lstm_ts.py:{n}] - "
    text = prefix.format(m=7, n=248) + "Epoch0:\n" + prefix.format(m=9, n=254) + "train nan, valid nan\n"
    read = series(text)
    assert "train/loss" in read and math.isnan(read["train/loss"][0][1])


def test_loguru_s_level_name_function_and_line_are_a_prefix() -> None:
    # loguru's default format: `<time> | INFO     | __main__:_log_metrics:30 - iter=0000 ...`: the function's
    # line number (30) is no metric of a series named after the function
    text = "".join(
        f"2025-11-22 21:58:{10 + i}.794 | INFO     | __main__:_log_metrics:30 - iter={i:04d} "
        f"reward={-2.5e5 + 1e4 * i:.4f} loss_critic={4.3e5 * 3**i:.4f} entropy=1.32\n"
        for i in range(4)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss_critic"]] == [0, 1, 2, 3]
    assert not any("log_metrics" in name for name in read)


def test_a_split_word_before_a_rising_whole_number_is_that_splits_epoch() -> None:
    # DGCNN (758): `Train 26, loss: 3.676545, train acc: 0.075407` and `Test 26, loss: ...` each epoch.
    text = "".join(
        f"Train {e}, loss: 3.67{e}, train acc: 0.07{e}\nTest {e}, loss: 3.64{e}, test acc: 0.04{e}\n"
        for e in (26, 27, 28)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [26, 27, 28]
    assert [s for s, _ in read["eval/loss"]] == [26, 27, 28]
    assert "train/train" not in read and "eval/test" not in read


def test_a_block_of_name_value_lines_behind_a_level_prefix_is_one_record_per_epoch() -> None:
    # braindecode's logger (789): `<time> INFO : Epoch 0`, then `INFO : train_loss   0.10569` one per line.
    def block(epoch: int, train: float, valid: float, test: float) -> str:
        rows = [f"Epoch {epoch}", f"train_loss                {train}", f"valid_loss                {valid}"]
        rows += [f"test_loss                 {test}", "runtime                   0.00000", ""]
        return "".join(f"2017-10-19 10:4{epoch}:27,79{i} INFO : {r}\n" for i, r in enumerate(rows))

    read = series(block(0, 0.10569, 0.15377, 0.05451) + block(1, 19.90990, 19.79807, 20.11120))
    assert read["train/loss"] == [(0, 0.10569), (1, 19.9099)]
    assert read["eval/loss"] == [(0, 0.15377), (1, 19.79807)]  # the validation set's, not merged with test's


def test_a_cpp_stack_without_its_message_line_is_still_read() -> None:
    # A rank's C++ frames pasted without the watchdog's sentence (new log 1059): the deadline check's frame
    # names a collective timeout; c10's `Exception raised from ... (most recent call first)` is an exception
    so = "(0x1554e9e0f8f2 in /envs/mlpf/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so)"
    text = (
        "epoch 1 loss=0.52\n"
        f"frame #1: c10d::ProcessGroupNCCL::WorkNCCL::checkTimeout(std::optional<long>) + 0x1d2 {so}\n"
        f"frame #2: c10d::ProcessGroupNCCL::watchdogHandler() + 0x233 {so}\n"
    )
    events = parse_text(text, "train.log").events
    assert events["kind"].tolist() == ["nccl_timeout"]
    raised = "Exception raised from ncclCommWatchdog at ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1521 "
    events = parse_text(f"epoch 1 loss=0.52\n{raised}(most recent call first):\n", "train.log").events
    assert events["kind"].tolist() == ["exception"]
    assert "ncclCommWatchdog" in events["message"].iloc[0]


def test_an_out_of_memory_line_logged_at_info_level_is_no_oom(tmp_path: Path) -> None:
    # TensorFlow's allocator logs `failed to allocate ... CUDA_ERROR_OUT_OF_MEMORY` at its C++ info level and
    # retries smaller; the same words at error level (`E ...`) are the failure
    def log(level: str) -> str:
        lines = [f"Epoch {e}/3\n100/100 [====] - 2s 20ms/step - loss: {0.3 / e:.4f}\n" for e in (1, 2, 3)]
        oom = (
            f"2021-05-09 18:30:53.337423: {level} tensorflow/stream_executor/cuda/cuda_driver.cc:789] failed to "
            "allocate 613.15M (642935552 bytes) from device: CUDA_ERROR_OUT_OF_MEMORY: out of memory\n"
        )
        return lines[0] + oom + "".join(lines[1:])

    for level, expected in (("I", False), ("E", True)):
        (tmp_path / "train.log").write_text(log(level))
        modes = {f.failure_mode for f in analyze(tmp_path / "train.log").findings}
        assert ("oom" in modes) == expected, level


def test_per_epoch_summaries_under_bare_bars_that_start_again_sit_at_their_epochs() -> None:
    # A skeleton-action trainer (CTR-GCN's layout): a bare tqdm bar over 513 batches, then `Mean training
    # loss`; `Eval epoch: N`, a bar over 63 batches, then `Mean test loss of 63 batches: 4.40`. The bars start
    # again each epoch and show nothing of their own, so they do not place the summaries (all would sit at
    # 513); the two headers (`Training epoch`, `Eval epoch`) do. `63` is how many batches, not the test loss.
    def bar(total: int) -> str:
        return "".join(f"\r{100 * n // total:3d}%|          | {n}/{total} [00:01<00:10, 9.99it/s]" for n in (0, total))

    text = ""
    for e in range(1, 6):
        text += f"[ Fri Oct 18 02:05:31 2024 ] Training epoch: {e}\n" + bar(513) + "\n"
        text += f"[ Fri Oct 18 02:09:12 2024 ] \tMean training loss: {4.6 - e / 10:.4f}.\n"
        text += f"[ Fri Oct 18 02:09:12 2024 ] Eval epoch: {e}\n" + bar(63) + "\n"
        text += f"[ Fri Oct 18 02:09:21 2024 ] \tMean test loss of 63 batches: {4.4 - e / 20:.4f}.\n"
    read = series(text)
    assert read["train/loss"] == [(e, round(4.6 - e / 10, 4)) for e in range(1, 6)]
    assert read["eval/loss"] == [(e, round(4.4 - e / 20, 4)) for e in range(1, 6)]


def test_a_gradient_printed_as_one_number_is_its_norm() -> None:
    # SCNet's epoch summary: `Train Summary | Epoch 3 | Loss=0.1673 | Grad=inf`
    text = "".join(
        f"> 2024-07-26 17:06:38,010 - INFO - Train Summary | Epoch {e} | Loss={0.3 - e / 50:.4f} | Grad={g}\n"
        for e, g in ((1, "9164.2812"), (2, "16170.3185"), (3, "inf"))
    )
    read = series(text)
    assert [s for s, _ in read["train/grad_norm"]] == [1, 2, 3] and math.isinf(read["train/grad_norm"][2][1])


def test_one_value_per_class_at_each_evaluation_is_a_breakdown_not_a_series() -> None:
    # AugSeg's test: `[Test] -  class [k] IoU v` for each of the classes, then `<<Test>> - Epoch: e.  MIoU: m`.
    # The per-class lines are a table, printed again at every evaluation: the class index is no step, and
    # read as one series (`iou` at records 1..n) a class at 0 after one at 83 reads as a collapse.
    text = ""
    for e in range(3):
        for k, iou in enumerate((79.18, 0.0, 34.51, 83.1)):
            text += f"[09/23/2022 22:56:31][INFO] -  [Test] -  class [{k}] IoU {iou + e:.2f}\n"
        text += (
            f"[09/23/2022 22:56:31][INFO] -  <<Test>> - Epoch: {e}.  MIoU: {49.2 + e:.2f}. Best: {49.2 + e:.2f}/{e}\n"
        )
    read = series(text)
    assert not any(name.endswith("/iou") or name.endswith("/class") for name in read)
    assert [s for s, _ in read["eval/miou"]] == [0, 1, 2]


def test_a_per_class_breakdown_printed_once_at_the_end_is_no_series() -> None:
    # A segmentation loop's final report: `Class 1: P=87.89%  R=77.91%  IoU=70.35%` for classes 1-6, once. The
    # class numbers run up by one as a counter would; read as one, IoU "fell" from 70% to 21% over six steps.
    text = "".join(
        f"Epoch {e}/100 | Train Loss: {2.8 - 0.02 * e:.4f} | Val Loss: {1.2 - 0.01 * e:.4f} | mIoU={6 + e:.2f}%\n"
        for e in range(1, 41)
    )
    text += "Final results:\n" + "".join(
        f"  Class {k}: P={p:.2f}%  R={r:.2f}%  IoU={iou:.2f}%  Dice={d:.2f}%\n"
        for k, (p, r, iou, d) in enumerate(
            [
                (87.89, 77.91, 70.35, 82.6),
                (8.74, 47.1, 7.96, 14.74),
                (76.5, 82.18, 65.61, 79.24),
                (86.45, 84.17, 74.36, 85.3),
                (30.76, 30.79, 18.19, 30.77),
                (26.97, 47.37, 20.75, 34.37),
            ],
            start=1,
        )
    )
    read = series(text)
    assert not any(name.endswith("/iou") or name.endswith("/class") for name in read)
    assert len(read["train/loss"]) == 40


def test_the_best_iteration_printed_again_at_the_end_is_no_record() -> None:
    # LightGBM's early stopping: `[113] train's rmse .. valid's rmse ..`, then `Early stopping, best iteration
    # is:` and `[13] ...` again. Read as a 114th record, the validation error ended at its best: no overfitting.
    rows = [(i, 346730 / (1 + i / 10), 216261 + abs(i - 13) * 150) for i in range(1, 114)]
    text = "".join(f"[{i}]\ttrain's rmse: {t:.0f}\tvalid's rmse: {v:.0f}\n" for i, t, v in rows)
    text += (
        f"Early stopping, best iteration is:\n[13]\ttrain's rmse: {rows[12][1]:.0f}\tvalid's rmse: {rows[12][2]:.0f}\n"
    )
    read = series(text)
    assert [s for s, _ in read["eval/loss"]] == list(range(1, 114))


def test_a_counter_pair_glued_by_a_colon_above_59_is_no_clock() -> None:
    # AugSeg prints `Epoch/Iter [80:{epoch:>2}/{iter:>3}]`: from epoch 10 on `[80:10/ 10]` reads like a time of
    # day; were it one, the lines of epochs 10-79 would be a second kind of record apart from epochs 0-9.
    text = "".join(
        f"[09/23/2022 22:55:37][INFO] - Epoch/Iter [80:{e:>2}/ {i}]\tLoss {1 / (e + 1):.4f} ({1 / (e + 1):.4f})\n"
        for e in (8, 9, 10, 11)
        for i in (10, 20)
    )
    templates = parse_text(text, "train.log").meta["console_log"]["train.log"]["templates"]
    assert len(templates) == 1 and templates[0]["records"] == 8


def test_of_several_losses_the_one_named_a_total_is_the_loss() -> None:
    # MTCNN's R-Net loop: `det loss`, `bbox loss` and `all_loss` (their weighted sum) on each line
    text = "".join(
        f"Epoch: 1, Step: {s}, accuracy: 0.9, det loss: {0.8 - s / 1e4:.4f}, bbox loss: 0.1694, "
        f"all_loss: {0.9 - s / 1e4:.4f}, lr:0.01\n"
        for s in range(0, 1000, 100)
    )
    read = series(text)
    assert [round(v, 4) for _, v in read["train/loss"]][:2] == [0.9, 0.89]
    assert "train/det_loss" in read and "train/bbox_loss" in read


def test_a_time_with_its_unit_in_brackets_is_no_split_objective() -> None:
    # Joey NMT's test-set line after training: `Evaluation result (beam search) , generation: 137.6410[sec],
    # evaluation: 0.0000[sec]`: `evaluation` names a split word, but the bracketed unit says it is a time, so it
    # is no eval loss of 0 (read as one, the validation loss "rose" from it)
    head = "2025-05-27 10:18:26,963 - INFO - joeynmt.prediction - Evaluation result"
    text = "".join(
        f"{head} (greedy) loss: {2.3 - i / 10:6.2f}, ppl: {9.5 - i:6.2f}, acc: 0.48, generation: 286.9095[sec], "
        "evaluation: 0.0000[sec]\n"
        for i in range(3)
    )
    text += f"{head} (beam search) , generation: 137.6410[sec], evaluation: 0.0000[sec]\n"
    read = series(text)
    assert [round(v, 2) for _, v in read["eval/loss"]] == [2.3, 2.2, 2.1]
