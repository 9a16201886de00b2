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
