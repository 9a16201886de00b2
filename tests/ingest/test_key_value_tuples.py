"""A sequence of key, value pairs names each value by the key before it: Knet.jl's examples print a Julia tuple
per epoch, `(:epoch, 0, :trn, 589.91534f0, :tst, 589.91534f0)` (symbols as keys, Float32 literals as values; the
exact output of its housing example, benchmarks/new_real_logs/1285), and Python prints a list of pairs as
`[('epoch', 0), ('loss', 2.3)]`."""

from __future__ import annotations

import math

from tests.ingest.console_series import series, values

KNET = """\
housing.jl (c) Deniz Yuret, 2016. Linear regression model for the Housing dataset from the UCI Machine Learning
Repository.
opts=(:fast, false)(:atype, "KnetArray{Float32}")(:test, 0.0)(:epochs, 20)(:gcheck, 0)(:lr, 0.1)(:seed, -1)
(:epoch, 0, :trn, 589.91534f0, :tst, 589.91534f0)
(:epoch, 1, :trn, 365.33887f0, :tst, 365.33887f0)
(:epoch, 2, :trn, 240.76071f0, :tst, 240.76071f0)
(:epoch, 3, :trn, 162.31473f0, :tst, 162.31473f0)
(:epoch, 4, :trn, 112.32275f0, :tst, 112.32275f0)
"""


def test_julia_symbols_name_the_values_after_them() -> None:
    found = series(KNET)
    assert found["train/loss"] == [(0, 589.91534), (1, 365.33887), (2, 240.76071), (3, 162.31473), (4, 112.32275)]
    assert [v for _, v in found["eval/loss"]] == [589.91534, 365.33887, 240.76071, 162.31473, 112.32275]


def test_a_julia_float32_literal_carries_its_exponent() -> None:
    text = "".join(f"(:iter, {i}, :loss, {2.5 - i / 10:.1f}f-3)\n" for i in range(1, 5))
    assert values(text)["train/loss"] == [0.0024, 0.0023, 0.0022, 0.0021]


def test_a_python_list_of_pairs_names_its_values() -> None:
    text = "".join(f"[('epoch', {e}), ('loss', {2.3 - e / 10:.2f}), ('acc', {0.1 + e / 20:.2f})]\n" for e in range(5))
    found = values(text)
    assert found["train/loss"] == [2.3, 2.2, 2.1, 2.0, 1.9]
    assert found["train/acc"] == [0.1, 0.15, 0.2, 0.25, 0.3]


def test_a_call_shown_with_its_value_is_named_by_the_call() -> None:
    # Julia's `@show loss(x, y_oh)` (Mill.jl's README example, new log 2873), Float32 literals with exponents
    text = "".join(
        f"[ Info: Epoch {e}\nloss(x, y_oh) = {v}\n"
        for e, v in ((1, "87.793724f0"), (2, "4.3207192f0"), (3, "5.76351f-6"), (4, "3.8146973f-6"))
    )
    assert values(text)["train/loss"] == [87.793724, 4.3207192, 5.76351e-6, 3.8146973e-6]


def test_a_tuple_of_calls_pairs_with_a_tuple_of_values_and_nan32_is_nan() -> None:
    # `@show (loss(tx, ty), now())` in a Flux char-rnn (new log 2871): the loss, a time stamp, then Julia's NaN32
    lines = [
        "(loss(tx, ty), now()) = (98.1109f0, 2020-04-21T20:48:30.672)",
        "(loss(tx, ty), now()) = (97.07944f0, 2020-04-21T20:49:02.147)",
        "(loss(tx, ty), now()) = (96.69589f0, 2020-04-21T20:49:34.229)",
        "(loss(tx, ty), now()) = (NaN32, 2020-04-22T00:31:33.256)",
        "(loss(tx, ty), now()) = (NaN32, 2020-04-22T00:32:04.782)",
    ]
    loss = values("\n".join(lines) + "\n")["train/loss"]
    assert loss[:3] == [98.1109, 97.07944, 96.69589] and all(math.isnan(v) for v in loss[3:])
