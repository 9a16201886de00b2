"""A unit printed after its number and a space belongs to that number, not to the next field's name: MatConvNet's
cnn_train prints `3.3 Hz obj:0.69` (the objective had been named `hz_obj`), and a memory figure `3.2 GB` before
`acc:` had made `gb_acc`."""

from __future__ import annotations

from tests.ingest.console_series import series

MATCONVNET = "training: epoch 02: batch {b:3d}/ 40: {hz} Hz obj:{o} top1err:{e} [40/40]\n"


def test_a_rate_in_hertz_before_the_objective() -> None:
    objective = [0.693, 0.688, 0.671, 0.652, 0.649]
    text = "".join(MATCONVNET.format(b=b + 1, hz=3.3 + b / 10, o=o, e=0.5 - b / 100) for b, o in enumerate(objective))
    read = series(text)
    assert [v for _, v in read["train/loss"]] == objective
    assert not [name for name in read if "hz" in name and "obj" in name]


def test_a_memory_size_before_a_score() -> None:
    text = "".join(f"step {i} mem 3.{i} GB acc: 0.{i + 4}\n" for i in range(1, 6))
    read = series(text)
    assert [v for _, v in read["train/acc"]] == [0.5, 0.6, 0.7, 0.8, 0.9]


PYMARL = "[INFO 11:{m:02d}:57] my_main Estimated time left: {left}. Time passed: {passed}\n"


def test_a_duration_spelled_out_in_words_is_one_value_in_seconds() -> None:
    # PyMARL's `Estimated time left: 1 days, 7 hours, 32 minutes, 14 seconds` had read as 1 (its first number)
    lefts = ["1 days, 7 hours, 32 minutes, 14 seconds", "1 days, 6 hours, 28 minutes, 0 seconds", "23 hours, 2 minutes"]
    passed = ["3 minutes, 55 seconds", "7 minutes, 33 seconds", "11 minutes, 2 seconds"]
    read = series(
        "".join(PYMARL.format(m=m, left=a, passed=b) for m, (a, b) in enumerate(zip(lefts, passed, strict=True)))
    )
    assert [v for _, v in read["train/my_main_estimated_time_left"]] == [113534.0, 109680.0, 82920.0]
    assert [v for _, v in read["train/time_passed"]] == [235.0, 453.0, 662.0]
