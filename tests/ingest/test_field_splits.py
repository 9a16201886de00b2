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


def test_a_split_word_opening_a_bracket_names_every_field_inside_it() -> None:
    # ReChorus (new log 1850): `dev=(ACC@All:0.7143,AUC@All:0.7759,F1_SCORE@All:0.7246)`: every field in the
    # bracket is the dev set's, not only the first
    line = (
        "INFO:root:Epoch {e:<3d} loss=0.{l:04d} [26.3 s]    "
        "dev=(ACC@All:0.71{e:02d},AUC@All:0.77{e:02d},F1_SCORE@All:0.72{e:02d}) [0.6 s] *\n"
    )
    read = series("".join(line.format(e=e, l=5759 - 300 * e) for e in range(1, 6)))
    assert {"eval/acc@all", "eval/auc@all", "eval/f1_score@all"} <= set(read)
    assert not [name for name in read if name.startswith("train/") and "@all" in name]


def test_values_named_by_their_split_beside_a_named_train_loss_are_another_measure() -> None:
    # CS224W's link prediction (new log 1839): `Train: 0.4997, Val: 0.5309, Test: 0.5288, Loss: 0.693` (the
    # three are ROC-AUCs); alone, `learn: 0.17  test: 0.15` (CatBoost) are each split's objective
    line = "Epoch: {e:03d}, Train: 0.{a:04d}, Val: 0.{b:04d}, Test: 0.{c:04d}, Loss: 0.{l}\n"
    read = series(
        "".join(line.format(e=e, a=5000 + 40 * e, b=5300 + 30 * e, c=5280 + 30 * e, l=693 - e) for e in range(1, 6))
    )
    assert "eval/loss" not in read and {"train/train", "eval/val", "eval/test"} <= set(read)
    assert [v for _, v in read["train/loss"]] == [0.692, 0.691, 0.69, 0.689, 0.688]
    catboost = "".join(
        f"{i}:\tlearn: 0.{60 - i:02d}\ttest: 0.{65 - i:02d}\tbest: 0.{65 - i:02d} (0)\n" for i in range(6)
    )
    assert {"train/loss", "eval/loss"} <= set(series(catboost))


def test_a_measure_named_before_its_splits_names_each_split_s_value() -> None:
    """`iou train: 0.086  eval: 0.046` (Open3D-ML's epoch summary, new log 4504): both values are the IoU's, one per
    split; the eval one had been read as the eval loss, and its rise from 0.001 as overfitting."""
    epoch = "=== EPOCH {e}/100 ===\nloss train: {l:.3f}  eval: {v:.3f}\n{m} train: 0.{a}  {s}: 0.{b}\n"
    for measure, split in (("iou", "eval"), ("f1", "val"), ("mae", "test")):
        text = "".join(
            epoch.format(e=e, l=2 - e / 10, v=2.2 - e / 10, m=measure, a=100 + e, s=split, b=50 + e) for e in range(6)
        )
        read = series(text)
        assert [v for _, v in read["eval/loss"]] == [round(2.2 - e / 10, 3) for e in range(6)]
        assert [v for _, v in read[f"eval/{measure}"]] == [round(0.5 + e / 100, 2) for e in range(6)]
        assert [v for _, v in read[f"train/{measure}"]] == [round(0.1 + e / 1000, 3) for e in range(6)]
