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
