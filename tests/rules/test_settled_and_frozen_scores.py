"""Rules and names from rounds 82-87 of unseen logs.

- A loss that wobbled during warmup and then settled at ln(k) over its last half, with the run's own
  accuracy at 1/k over those points, is not learning (MethylBERT 714, ln 2 with accuracy 0.5; nntrainer
  677, ln 10 with accuracy 9%). Only an accuracy says k here: a level alone is never enough.
- An eval score identical to all its printed digits at every evaluation, beside a train loss that barely
  moves, is a model whose predictions do not change (KD_Lib 721: `Validation Accuracy:
  0.32513445409755914` six times), as the same eval loss already was.
- Ranking metrics (`HR@50`, `MRR`, `recall@20`) are scores where higher is better: with no eval loss,
  their fall from an early best while the train loss falls is overfitting (AttRec 698).
- A value glued to its name (`mean_loss0.0528188`) and LeRobot's `grdn` (the gradient norm) are read.
"""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series


def verdict(tmp_path: Path, text: str) -> tuple[str, list[str]]:
    log = tmp_path / "train.log"
    log.write_text(text)
    report = analyze(log)
    return report.verdict, [f.failure_mode for f in report.findings]


METHYLBERT = [0.7412, 0.7102, 0.8779, 0.9688, 0.8317, 0.6931, 0.7012, 0.6874, 0.6958, 0.6902, 0.7041]
METHYLBERT += [0.6899, 0.6925, 0.6877, 0.6963, 0.6912]
ACCURACY = [0.52, 0.48, 0.47, 0.55, 0.51, 0.50, 0.46, 0.53, 0.49, 0.52, 0.50, 0.47, 0.51, 0.54, 0.49, 0.50]


def test_a_loss_settled_at_ln2_with_accuracy_one_half_is_not_learning(tmp_path: Path) -> None:
    text = "step\tloss\tctype_acc\tlr\n" + "".join(
        f"{i}\t{v}\t{a}\t{min(1e-4, 1e-5 * (i + 1)):.1e}\n"
        for i, (v, a) in enumerate(zip(METHYLBERT, ACCURACY, strict=True))
    )
    assert verdict(tmp_path, text)[0] == "not_learning"


def test_the_same_loss_with_an_accuracy_that_learned_is_no_finding(tmp_path: Path) -> None:
    learned = [min(0.97, 0.5 + 0.05 * i) for i in range(len(METHYLBERT))]
    text = "step\tloss\tctype_acc\tlr\n" + "".join(
        f"{i}\t{v}\t{a:.2f}\t1.0e-04\n" for i, (v, a) in enumerate(zip(METHYLBERT, learned, strict=True))
    )
    assert "not_learning" not in verdict(tmp_path, text)[1]


def test_an_eval_accuracy_identical_to_all_its_digits_beside_a_flat_loss(tmp_path: Path) -> None:
    losses = ["2.2455", "2.2460", "2.2448", "2.2456", "2.2463", "2.2451"]  # moving by 1e-4 of itself: not frozen
    text = "".join(
        f"Epoch: {e}, Loss: {v}, Accuracy: 0.3273809523809524\nValidation Accuracy: 0.32513445409755914\n"
        for e, v in enumerate(losses, start=10)
    )
    assert verdict(tmp_path, text)[0] == "not_learning"


def test_a_ranking_metric_falling_while_the_loss_falls_is_overfitting(tmp_path: Path) -> None:
    rows = [(1, 0.130139, 0.322375, 0.0353), (2, 0.0528188, 0.336161, 0.0331), (3, 0.0253366, 0.316013, 0.0340)]
    rows += [(5, 0.0101, 0.2901, 0.0301), (10, 0.0041, 0.2702, 0.0280), (20, 0.0021, 0.2513, 0.0262)]
    rows += [(30, 0.00104, 0.2410, 0.0242)]
    text = "".join(f" epoch {e},  mean_loss{v}, test HR@50: {hr}, test MRR: {mrr}\n" for e, v, hr, mrr in rows)
    assert [v for _, v in series(text)["train/loss"]] == [v for _, v, _, _ in rows]
    assert verdict(tmp_path, text)[0] == "overfitting"


def test_lerobots_grdn_is_the_gradient_norm() -> None:
    line = "step:{s} smpl:2K ep:5 epch:0.09 loss:{v} grdn:{g} lr:1.0e-05 updt_s:0.391 data_s:0.004\n"
    rows = ((200, 7.924, "18966476.762"), (400, 5.584, "20729258418.160"), (600, 5.579, "inf"))
    read = series("".join(line.format(s=s, v=v, g=g) for s, v, g in rows))
    assert [s for s, _ in read["train/grad_norm"]] == [200, 400, 600]


def test_a_nan_that_comes_and_goes_is_not_said_to_never_come_back(tmp_path: Path) -> None:
    # cryodrgn (689): NaN at epoch 18, finite at 19, NaN at 20 and 21; its dates are `13-Dec-24`.
    line = "(INFO) (train_vae.py) ({d}-Dec-24 22:01:36) # =====> Epoch: {e} Average gen loss = {v}, KLD = 12.0\n"
    rows = ((17, "0.547026"), (18, "nan"), (19, "0.547024"), (20, "nan"), (21, "nan"))
    log = tmp_path / "run.log"
    log.write_text("".join(line.format(d=e - 4, e=e, v=v) for e, v in rows))
    report = analyze(log)
    assert report.verdict == "loss_nan"
    assert "never came back" not in report.findings[0].message and "finite again" in report.findings[0].message
    assert not any(name.startswith("train/vae") for name in series(log.read_text()))


def test_an_error_rate_at_two_thirds_says_three_classes(tmp_path: Path) -> None:
    # braindecode-style table: `train_misclass` is one minus the accuracy.
    losses = [8.76, 1.68, 1.0991, 1.0975, 1.0990, 1.0982, 1.0979, 1.0988, 1.0984, 1.0980, 1.0986, 1.0983]
    text = "epoch   train_loss  train_misclass   runtime\n" + "".join(
        f"{e}       {v:.6f}    {0.66 + 0.004 * (e % 3):.6f}  0.7{e}\n" for e, v in enumerate(losses)
    )
    assert verdict(tmp_path, text)[0] == "not_learning"
