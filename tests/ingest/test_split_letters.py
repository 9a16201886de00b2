"""One-letter split prefixes: a line that prints a stem with both `T_` and `V_` (`T_Loss ... V_Loss`) names the
train and the validation split; a `V_` alone may be something else (an RL value loss)."""

from __future__ import annotations

from tests.ingest.console_series import values

# a Korean handwriting classifier's custom loop (new log 2826), exact lines
HANGUL = """\
Epoch:   1 | T_Loss 11.061 | T_acc 0.111 | V_Loss   nan | V_acc.   nan | \U0001f552 7722.59
Epoch:   2 | T_Loss 12.706 | T_acc 0.067 | V_Loss   nan | V_acc.   nan | \U0001f552 6745.61
Epoch:   3 | T_Loss 12.66 | T_acc  0.06 | V_Loss   nan | V_acc.   nan | \U0001f552 6521.794
"""


def test_t_and_v_prefixes_of_one_stem_are_train_and_validation() -> None:
    found = values(HANGUL)
    assert found["train/loss"] == [11.061, 12.706, 12.66]
    assert len(found["eval/loss"]) == 3 and "train/v_loss" not in found


def test_a_lone_v_prefix_is_left_as_it_is() -> None:
    text = "".join(f"update {u} | pi_loss {0.1 * u:.2f} | V_loss {2.0 - 0.1 * u:.2f}\n" for u in range(1, 6))
    assert "eval/loss" not in values(text)


# a fastai2 grid search's own per-epoch line (new log 4653), exact lines
CHESS = """\
epoch:     0 | acc_t: 0.083 | acc_v: 0.125 | time: 3.409
epoch:     1 | acc_t: 0.083 | acc_v: 0.125 | time:  3.08
epoch:     2 | acc_t: 0.083 | acc_v: 0.125 | time: 2.983
"""


def test_t_and_v_suffixes_of_one_stem_are_train_and_validation() -> None:
    found = values(CHESS + "".join(f"epoch: {e} | loss_t: 1.{e} | loss_v: 2.{e}\n" for e in range(3, 6)))
    assert found["train/acc"] == [0.083] * 3 and found["eval/acc"] == [0.125] * 3
    assert found["train/loss"] == [1.3, 1.4, 1.5] and found["eval/loss"] == [2.3, 2.4, 2.5]


def test_a_lone_v_suffix_is_left_as_it_is() -> None:
    text = "".join(f"update {u} | loss_pi {0.1 * u:.2f} | loss_v {2.0 - 0.1 * u:.2f}\n" for u in range(1, 6))
    assert "eval/loss" not in values(text)
