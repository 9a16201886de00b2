"""`Train loss 130948 0.412345 Grad Norm 1.23 2.11s/it`: NVIDIA's Tacotron 2 train.py prints a name, the iteration,
then the value (Mellotron and the other forks too; benchmarks/new_real_logs 6581). The whole number that rises at
every line is the step; the value after it takes the name."""

from __future__ import annotations

import math

from tests.ingest.console_series import events_of, series

TACOTRON = "Train loss {i} {loss} Grad Norm {grad} {t:.2f}s/it\n"


def test_the_iteration_between_a_name_and_its_value_is_the_step() -> None:
    rows = [(130947, "0.412345", "1.234567"), (130948, "0.402345", "1.134567"), (130949, "0.398211", "0.981234")]
    read = series("".join(TACOTRON.format(i=i, loss=v, grad=g, t=2.1) for i, v, g in rows))
    assert read["train/loss"] == [(i, float(v)) for i, v, _ in rows]
    assert read["train/grad_norm"] == [(i, float(g)) for i, _, g in rows]


def test_a_nan_loss_before_the_next_fields_name_is_read_and_is_no_gradient_report() -> None:
    # `130950 nan Grad Norm 1.5`: the NaN is the loss's; `nan Grad` is no `NaN gradients` message
    rows = [(130948, "0.412345", "1.234567"), (130949, "0.402345", "1.134567"), (130950, "nan", "1.5")]
    text = "".join(TACOTRON.format(i=i, loss=v, grad=g, t=2.1) for i, v, g in rows)
    loss = series(text)["train/loss"]
    assert [s for s, _ in loss] == [130948, 130949, 130950] and math.isnan(loss[-1][1])
    assert events_of(text, "nonfinite_grad") == []
    assert events_of("NaN or Inf found in input tensor.\nfound nan gradients, skipping\n", "nonfinite_grad") == [2]
