"""Reading classes from round 80-81 of unseen logs.

- `iter 86 1.99 iters/s loss 5.39`: a number followed by a rate unit is that rate, and the words after
  the unit name the next number (arcface-pytorch, new log 674: the iterations per second were read as the
  loss, and the slower first batch of an epoch as a divergence).
- `time_each_step=4.83s` is a time, not the step counter a name ending in `_step` usually is (PaddleX, 681).
"""

from __future__ import annotations

from tests.ingest.console_series import series

ARCFACE = "Tue May 14 20:{m}:47 2019 train epoch 49 iter {i} {rate} iters/s loss {loss} acc 0.359375\n"


def test_a_rate_unit_names_the_number_before_it_not_the_field_after_it() -> None:
    rows = [(86, 1.9944349123113763, 5.390433311462402), (186, 3.1073992095805747, 4.969634532928467)]
    rows += [(286, 3.0889427377963514, 5.293170928955078), (386, 3.1, 5.1)]
    text = "".join(ARCFACE.format(m=19 + k, i=i, rate=r, loss=v) for k, (i, r, v) in enumerate(rows))
    read = series(text)
    assert [v for _, v in read["train/loss"]] == [v for _, _, v in rows]
    assert [s for s, _ in read["train/loss"]] == [i for i, _, _ in rows]
    assert [v for _, v in read["train/iters_per_second"]] == [r for _, r, _ in rows]


def test_a_time_per_step_is_no_step_counter() -> None:
    line = (
        "2021-03-01 10:2{k}:01 [INFO]\t[TRAIN] Epoch=1/12, Step={s}/2000, loss={v}, lr=0.0025, "
        "time_each_step=4.83s, eta=103:17:7\n"
    )
    text = "".join(line.format(k=k, s=s, v=v) for k, (s, v) in enumerate(((680, 0.51), (684, 0.49), (688, 0.47))))
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [680, 684, 688]
    assert [v for _, v in read["train/time_each_step"]] == [4.83, 4.83, 4.83]


def test_a_table_row_glued_to_a_bar_the_terminal_cut_after_its_counter() -> None:
    # YOLOv6 (new log 734): `0/99  0  0  0.5756: 100%|█| 106/106 [00:17<00:00,` and nothing after it.
    head = "     Epoch  iou_loss  dfl_loss  cls_loss\n"
    rows = "".join(
        f"      {e}/99         0         0    {v}: 100%|\u2588\u2588\u2588\u2588\u2588| 106/106 [00:17<00:00,\n"
        for e, v in ((0, 0.5756), (1, 0.4412), (2, 0.3801))
    )
    read = series(head + rows)
    assert [v for _, v in read["train/cls_loss"]] == [0.5756, 0.4412, 0.3801]


def test_a_segment_of_words_names_the_split_of_the_rest_of_the_line() -> None:
    # fairseq's validation lines: the split is said after the epoch's number, in a segment of its own.
    train = "| epoch {e:03d} | loss 6.{l} | nll_loss 4.5 | ppl 23.1 | num_updates {u} | lr 0.0005\n"
    valid = "| epoch {e:03d} | valid on 'valid' subset | loss 6.{l} | nll_loss 4.6 | ppl 24.4 | num_updates {u}\n"
    text = "".join(
        train.format(e=e, l=900 - e, u=72 * e) + valid.format(e=e, l=846 + e, u=72 * e) for e in (81, 82, 83)
    )
    read = series(text)
    assert [v for _, v in read["eval/loss"]] == [6.927, 6.928, 6.929]
    assert [v for _, v in read["train/loss"]] == [6.819, 6.818, 6.817]


def test_a_duration_printed_as_a_timedelta_after_its_name_is_seconds() -> None:
    # `print(..., "time delta:", now - previous)` (a toy LSTM loop, new log 1650) and `Elapsed: 0:00:57`
    # (StudioGAN, 188): str(timedelta) after a name that says it is a duration. A clock after other words
    # (`time now: 33:28.622033`) is a time of day, no metric.
    line = "epoch: {e:3d},     loss: {v},   time previous: 33:2{k}.616360 time now: 33:2{j}.622033  time delta: {d}\n"
    deltas = ("0:00:00.005673", "0:00:00.208632", "0:00:01.074783", "1 day, 0:00:02")
    text = "".join(line.format(e=10 * k, v=0.2 + k / 100, k=k, j=k + 1, d=d) for k, d in enumerate(deltas))
    read = series(text)
    assert [v for _, v in read["train/time_delta"]] == [0.005673, 0.208632, 1.074783, 86402.0]
    assert [s for s, _ in read["train/loss"]] == [0, 10, 20, 30]
    assert not [name for name in read if "now" in name or "previous" in name]
    stamped = "[INFO] 2021-11-28 10:5{k}:36 > Step: {s:6d} Progress: 0.1% Elapsed: 0:0{k}:57 Gen_loss: {v}\n"
    read = series("".join(stamped.format(k=k, s=100 * (k + 1), v=1.5 - k / 10) for k in range(3)))
    assert [v for _, v in read["train/elapsed"]] == [57.0, 117.0, 177.0]


def test_openmmlabs_time_per_iteration_is_read() -> None:
    # MMEngine (new log 1888: 0.9 s per iteration, 3.5 s after the epoch-10 validation on a CPU) and mmcv print
    # `time:` as the log interval's seconds per iteration; `eta` and `data_time` stay unread
    line = (
        "2026/02/25 03:47:54 - mmengine - INFO - Epoch(train)   [{e}][3/3]  base_lr: 2.0120e-06 lr: 2.0120e-06  "
        "eta: 0:04:34  time: {t}  data_time: 0.1307  loss: 1.8008  loss_cls: 1.2257  loss_bbox: 0.5752\n"
    )
    read = series("".join(line.format(e=e, t=0.9257 if e < 4 else 3.4121) for e in range(1, 7)))
    assert [v for _, v in read["train/time"]] == [0.9257] * 3 + [3.4121] * 3
    assert "train/eta" not in read and "train/data_time" not in read
