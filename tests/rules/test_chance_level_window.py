"""A loss flat near ln(k) with nothing else saying k is not learning only once training has had time to
move: the first ten batches of a classifier sit at chance, as they should (new log 489, a BERT classifier's
first Keras progress lines, flagged as 'uniform over 12 classes')."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

FLAT = [2.4492, 2.4875, 2.4631, 2.4902, 2.4718, 2.4860, 2.4799, 2.4903, 2.4811, 2.4870]


def modes(tmp_path: Path, lines: list[str]) -> set[str]:
    log = tmp_path / "train.log"
    log.write_text("".join(lines))
    return {f.failure_mode for f in analyze(log).findings}


def test_the_first_ten_updates_at_chance_are_no_finding(tmp_path: Path) -> None:
    assert "not_learning" not in modes(tmp_path, [f"step {i} loss: {v}\n" for i, v in enumerate(FLAT, 1)])


def test_ten_points_over_a_thousand_updates_at_chance_are_not_learning(tmp_path: Path) -> None:
    lines = [f"step {i * 100} loss: {v}\n" for i, v in enumerate(FLAT, 1)]
    assert "not_learning" in modes(tmp_path, lines)


def test_ten_epochs_at_chance_are_not_learning(tmp_path: Path) -> None:
    lines = [f"Epoch {i}/50 - loss: {v}\n" for i, v in enumerate(FLAT, 1)]
    assert "not_learning" in modes(tmp_path, lines)


def test_a_top1_precision_at_one_in_ten_corroborates_a_loss_at_ln10(tmp_path: Path) -> None:
    # pytorch/examples' imagenet script on CIFAR-10: `Prec@1` is top-1 accuracy, printed in percent.
    line = "Epoch: [89][{b}/196]\tTime 0.406 (0.507)\tLoss {v} (2.3118)\tPrec@1 {p} (10.085)\tPrec@5 51.172 (50.604)\n"
    rows = [(0, "2.3118", "9.375"), (10, "2.3118", "10.547"), (20, "2.3118", "8.594"), (30, "2.3119", "8.594")]
    rows += [(40, "2.3118", "10.156")]
    assert "not_learning" in modes(tmp_path, [line.format(b=b, v=v, p=p) for b, v, p in rows])


BANNER = "========   epoch  {e} (lr: 0.00897)  ========\ntrain loss = {loss} | train err = {err}% |\n"
HUNDRED = [("4.60579", "99.09"), ("4.60585", "99.01"), ("4.60557", "99.05"), ("4.60571", "98.98")]


def test_a_loss_at_ln100_with_the_error_rate_at_99_percent_is_not_learning(tmp_path: Path) -> None:
    # CIFAR-100 (efficientnet-pytorch's own banner): k = 100 is past the 2-20 a level alone may name, and the
    # run's own error rate, one minus its accuracy, says it.
    lines = [BANNER.format(e=e, loss=loss, err=err) for e, (loss, err) in enumerate(HUNDRED * 2, 45)]
    assert "not_learning" in modes(tmp_path, lines)


def test_a_loss_at_ln100_with_an_accuracy_far_from_one_percent_is_no_finding(tmp_path: Path) -> None:
    lines = [BANNER.format(e=e, loss=loss, err="70.12") for e, (loss, _) in enumerate(HUNDRED * 2, 45)]
    assert "not_learning" not in modes(tmp_path, lines)
