"""A field another reader found names its own split: `val_loss=0.65` in a Lightning bar's postfix, or a
`val_loss: 4.106` pair on a NeMo/Megatron progress line (new log 552), is the eval loss. Both went to the
train loss before, where the duplicate-step policy let the stale validation value replace the real train
loss (a frozen 'train loss' and a false not-learning alarm)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series


def test_a_validation_value_in_a_bar_postfix_is_the_eval_split() -> None:
    bar = "Epoch {e}: 100%|##########| 50/50 [00:05<00:00,  9.80it/s, loss=0.{a}1, v_num=0, val_loss=0.{a}5]\n"
    read = series("".join(bar.format(e=e, a=9 - e) for e in range(4)))
    assert [v for _, v in read["train/loss"]] == [0.91, 0.81, 0.71, 0.61]
    assert [v for _, v in read["eval/loss"]] == [0.95, 0.85, 0.75, 0.65]


NEMO = (
    "Training epoch 0, iteration {i}/149 | lr: 3e-05 | consumed_samples: {c} | global_batch_size: 1 | "
    "global_step: {i} | reduced_train_loss: {v} | train_step_timing in s: 0.03146 | val_loss: 4.106\n"
)


def test_a_validation_pair_on_a_megatron_line_is_the_eval_split(tmp_path: Path) -> None:
    losses = [1.233, 1.288, 1.333, 1.245, 1.375, 1.34]
    text = "".join(NEMO.format(i=120 + k, c=121 + k, v=v) for k, v in enumerate(losses))
    read = series(text)
    assert [v for _, v in read["train/loss"]] == losses
    assert [v for _, v in read["eval/loss"]] == [4.106] * 6
    log = tmp_path / "train.log"
    log.write_text(text)
    assert analyze(log).verdict == "healthy"
