"""A number with a time unit glued on is a duration whatever word names it, and a counter i/n that starts again
long before its n is a new run in the same file, not the batches of an epoch; the last run is the one analysed."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.ingest.console_series import series

# MGPT, a C++/CUDA GPT (new log 2882): `Loss:111ms` is how long the loss took, `Step:688ms` the step's time
MGPT = (
    "[{step}/72000 (Shard {shard}/3000 |   8%)] LR:2.99e-04 Fwd:3ms Loss:146ms Opt:190ms | Step:{ms}ms | "
    "Loss: {loss} | Val: {val}\n"
)


def test_a_value_with_a_time_unit_is_a_duration_not_a_loss_or_a_counter() -> None:
    rows = [(6300, 300, 523, 1.9373, 1.8382), (6600, 600, 524, 1.7788, 1.8020), (6900, 900, 524, 1.7642, 1.7823)]
    text = "".join(MGPT.format(step=s, shard=h, ms=ms, loss=x, val=v) for s, h, ms, x, v in rows)
    found = series(text)
    assert found["train/loss"] == [(6300, 1.9373), (6600, 1.7788), (6900, 1.7642)]
    assert [v for _, v in found["train/step_time"]] == [523, 524, 524]
    assert [v for _, v in found["train/loss_time"]] == [146, 146, 146]


# modded-nanogpt style lines of two runs in one file (new log 2884): the second starts again from step 1
NANO = "cfg_{run}: step:{step}/1000000 train_loss:{loss} train_time:{ms}ms step_avg:{avg}ms\n"


def test_a_counter_that_starts_again_far_below_its_total_is_a_new_run(tmp_path: Path) -> None:
    first = [
        (1, 9.0096, 896, 895.53),
        (2, 8.6816, 998, 499.08),
        (500, 2.8693, 45863, 91.73),
        (1000, 3.0827, 90896, 90.9),
    ]
    second = [(1, 9.0096, 889, 888.84), (2, 8.6816, 990, 495.24), (250, 3.8096, 23331, 93.33)]
    text = "".join(NANO.format(run="a", step=s, loss=x, ms=ms, avg=a) for s, x, ms, a in first)
    text += "".join(NANO.format(run="b", step=s, loss=x, ms=ms, avg=a) for s, x, ms, a in second)
    assert [s for s, _ in series(text)["train/loss"]] == [1, 2, 500, 1000, 1, 2, 250]  # steps, not record numbers
    (tmp_path / "train.log").write_text(text)
    run = analyze(tmp_path).run
    # the run with the most records (the full one, not the aborted start after it), not a mix of two
    assert run.series("loss").to_dict() == {1: 9.0096, 2: 8.6816, 500: 2.8693, 1000: 3.0827}
    restarts = run.events[run.events["kind"] == "restart"]
    assert len(restarts) == 1 and "another run" in restarts.iloc[0]["message"]


def test_a_counter_that_runs_up_to_its_total_each_time_counts_an_epochs_batches() -> None:
    text = "".join(f"[{b}/4] loss: {3.0 - e / 2 - b / 10:.2f}\n" for e in range(3) for b in range(1, 5))
    steps = [s for s, _ in series(text)["train/loss"]]
    assert steps == list(range(1, 13))  # records in order: the batches of three epochs


# a breath-sound classifier's table (new log 2922), exact lines: `← best` after the rows that set a new best
TABLE = """\
 Epoch | TrainLoss | TrainAcc |  ValLoss |  ValAcc |       LR |   Time
----------------------------------------------------------------------
     1 |    1.0164 |   50.80% |   0.8634 |  60.67% | 0.001000 |  19.6s  ← best
     2 |    0.8442 |   62.22% |   1.1590 |  31.25% | 0.001000 |  19.4s
     3 |    0.7801 |   66.15% |   0.7055 |  70.02% | 0.001000 |  19.4s  ← best
     4 |    0.7426 |   68.01% |   0.7655 |  70.65% | 0.001000 |  41.3s  ← best
     5 |    0.7153 |   69.55% |   0.7582 |  68.43% | 0.001000 |  41.7s
"""


def test_a_mark_after_a_table_rows_last_cell_leaves_the_row_in_its_table() -> None:
    found = series(TABLE)
    assert found["train/loss"] == [(1, 1.0164), (2, 0.8442), (3, 0.7801), (4, 0.7426), (5, 0.7153)]
    assert [v for _, v in found["train/time"]] == [19.6, 19.4, 19.4, 41.3, 41.7]


def test_a_time_after_a_space_separated_tables_columns_belongs_to_no_column() -> None:
    # fastai v1's fit printed to a text log (new log 2972), exact lines: the epoch's time in brackets after the
    # columns the header names
    text = (
        "Total time: 06:39\n"
        "epoch train_loss valid_loss error_rate\n"
        "1 1.513021 1.041628 0.507326 (00:13)\n"
        "2 1.290093 0.994758 0.443223 (00:09)\n"
        "3 1.185764 0.936145 0.410256 (00:09)\n"
    )
    found = series(text)
    assert found["train/loss"] == [(1, 1.513021), (2, 1.290093), (3, 1.185764)]
    assert [v for _, v in found["eval/loss"]] == [1.041628, 0.994758, 0.936145]


def _fold(k: int) -> str:
    rows = ((i, 1.09 - 0.04 * i / 100 - 0.01 * k, 1.18 - 0.012 * i / 100) for i in range(100, 1100, 100))
    return "".join(f"[{i}]\ttraining's rmse: {t:.5f}\tvalid_1's rmse: {v:.5f}\n" for i, t, v in rows)


def test_folds_printed_one_after_another_are_runs_not_one_curve(tmp_path: Path) -> None:
    # A LightGBM 5-fold CV (new log 3131): `[100]` .. `[1000]` again for each fold, the train loss back up each time.
    # Read as one curve, each fold's start was a spike and the folds' levels an overfitting; as runs, one is judged.
    text = "".join(f"Fold {k}\n{_fold(k)}" for k in range(1, 4))
    steps = [s for s, _ in series(text)["train/loss"]]
    assert steps == list(range(100, 1100, 100)) * 3  # the iteration each line prints
    log = tmp_path / "cv.log"
    log.write_text(text)
    report = analyze(log)
    assert report.verdict == "healthy", [f.failure_mode for f in report.findings]


def test_runs_too_short_to_judge_alone_stay_one_series() -> None:
    # a C MLP's 5-fold CV prints epochs 1 and 10 of each fold (new log 2923): two records a fold, read as one series
    text = "".join(
        f"Epoch {e:3d}: train_loss={tl:.4f} val_loss={vl:.4f}\n"
        for _ in range(5)
        for e, tl, vl in ((1, 1.46, 1.33), (10, 0.036, 3.79))
    )
    assert [s for s, _ in series(text)["train/loss"]] == list(range(1, 11))


def test_an_epoch_counter_that_starts_again_is_another_run_whatever_the_loss() -> None:
    # A 5-fold histopathology CV (new log 3293): `Epoch 01: Train: Loss 0.1248 ...` again in each fold, the last
    # fold's first epoch already as low as the fold before it ended. A run's epochs never start again.
    losses = ([0.125, 0.15, 0.102, 0.075, 0.09], [0.12, 0.11, 0.104, 0.096, 0.07], [0.091, 0.093, 0.073, 0.095, 0.053])
    text = "".join(
        f"Epoch {e:02d}: Train: Loss {v:.4f}, Acc 0.6 |Val: Loss {v * 0.9:.4f}, Acc 0.7\n"
        for fold in losses
        for e, v in enumerate(fold, start=1)
    )
    assert [s for s, _ in series(text)["train/loss"]] == [1, 2, 3, 4, 5] * 3  # the epochs each line prints


def test_an_epoch_banner_that_starts_again_places_each_folds_records_on_its_epochs() -> None:
    # A Sonnet 4-fold job (new log 3261): `#### EPOCH 0 ####` above each epoch's two lines, from 0 again each fold
    text = ""
    for fold in range(2):
        for e in range(5):
            text += f"################### EPOCH {e} #####################\n\n"
            text += f"TRAIN CROSS ENTROPY: {0.47 / (1 + e) + 0.001 * fold:.9f}\n"
            text += f"VALID CROSS ENTROPY: {0.53 - 0.03 * e + 0.002 * fold:.9f}\n"
    assert [s for s, _ in series(text)["train/loss"]] == [0, 1, 2, 3, 4] * 2
