"""A digit glued before an underscore is part of an identifier, not a value: InternEvo prints its gradient norm
as a dict keyed by parameter group (`grad_norm={'0_default': 66.5}`), in the exact output of its 7B fine-tune
(benchmarks/new_real_logs/2823)."""

from __future__ import annotations

from tests.ingest.console_series import series

LINE = (
    "2023-09-05T11:49:58.225+08:00 INFO [training_internlm.py, line 413, in record_current_batch_training_metrics] - "
    "pid=6794 : tflops=63.28 step={step} loss={loss} lr=4e-07 loss_scale=65536.0 grad_norm={{'0_default': {norm}}} "
    "micro_num=4 acc=0.0 tokens/cn=0 loss/en={loss} loss/cn=nan loss/code=nan\n"
)


def test_a_number_before_an_underscore_is_no_value() -> None:
    text = "".join(LINE.format(step=s, loss=11.6 - s, norm=66.5 - s) for s in range(4))
    found = series(text)
    assert [v for _, v in found["train/loss"]] == [11.6, 10.6, 9.6, 8.6]
    assert all(v != 0 for name, points in found.items() if "norm" in name or "default" in name for _, v in points)


EZPZ = (
    "[2025-12-31 12:15:{sec:02d},154227][I][examples/vit:445:train_fn] iter={it} loss={loss} dt=0.744444 "
    "dtd=0.003141 loss/mean=7.036184 loss/max=7.148438\n"
)


def test_a_bracketed_module_line_and_function_is_where_the_line_was_logged() -> None:
    # ezpz's logger (new log 2770): `[examples/vit:445:train_fn]` before `iter=10`; its 445 is a line number and
    # `train_fn` no part of the counter's name
    text = "".join(EZPZ.format(sec=s, it=10 + s, loss=7.1 - s / 100) for s in range(5))
    assert [s for s, _ in series(text)["train/loss"]] == [10, 11, 12, 13, 14]
