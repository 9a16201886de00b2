"""A loss printed every few batches can stay finite while a batch in between was NaN: the epoch's mean,
printed as a second kind of record (`Mean Training loss : nan`, new log 320), says so. The loss-NaN rule
reads that summary when the loss itself is finite."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze


def epoch_means(tmp_path: Path, means: tuple[str, str]) -> Path:
    """Five finite per-batch losses per epoch, then the epoch's mean as its own line."""
    log = tmp_path / "train.log"
    lines = []
    for epoch, mean in enumerate(means, start=1):
        lines += [f"step {100 * (epoch - 1) + b} loss {1.0 - 0.01 * b:.4f}\n" for b in range(0, 100, 20)]
        lines.append(f"epoch {epoch} done, mean train loss: {mean}\n")
    log.write_text("".join(lines))
    return log


def test_a_nan_only_in_the_epoch_mean_is_a_nan_loss(tmp_path: Path) -> None:
    found = {f.rule_id: f for f in analyze(epoch_means(tmp_path, ("0.8412", "nan"))).findings}
    assert "loss-becomes-nan" in found
    assert found["loss-becomes-nan"].evidence["series"] == "loss_summary"


def test_a_finite_epoch_mean_says_nothing(tmp_path: Path) -> None:
    log = epoch_means(tmp_path, ("0.8412", "0.7311"))
    assert "loss-becomes-nan" not in {f.rule_id for f in analyze(log).findings}


def test_a_log_that_ends_on_a_nan_report_stopped_there(tmp_path: Path) -> None:
    # A guard that prints and returns (`NaN detected`, the visual-semantic-embedding Theano loop, new log 348):
    # the last thing the log holds. The same report with records after it is a warning the run lived through.
    rows = "".join(f"Epoch  2 Update  {u} Cost  {c} UD  0.69\n" for u, c in ((520, 118.96), (530, 226.9), (540, 11.7)))
    log = tmp_path / "train.log"
    log.write_text(rows + "NaN detected\n")
    found = {f.rule_id: f for f in analyze(log).findings}
    assert found["stopped-on-nonfinite-loss"].onset_step == 540
    log.write_text("NaN detected\n" + rows)
    assert "stopped-on-nonfinite-loss" not in {f.rule_id for f in analyze(log).findings}


def test_a_nan_in_the_running_mean_beside_the_loss_is_the_onset(tmp_path: Path) -> None:
    # maskrcnn-benchmark's MetricLogger: `loss: 23.3687 (nan)`, the global average turning NaN a logging
    # interval before the printed value does (FCOS, new log 425)
    line = "iter: {i}  loss: {v} ({a})  loss_cls: 1.02 (1.10)  lr: 0.010000\n"
    rows = [(20, "2.3112", "2.4051"), (40, "23.3687", "nan"), (60, "nan", "nan"), (80, "nan", "nan")]
    log = tmp_path / "train.log"
    log.write_text("".join(line.format(i=i, v=v, a=a) for i, v, a in rows))
    found = {f.rule_id: f for f in analyze(log).findings}
    assert found["loss-becomes-nan"].onset_step == 40
    assert found["loss-becomes-nan"].evidence["series"] == "loss_avg"


ICEFALL = (
    "2023-02-27 16:45:51,210 INFO [trainer.py:666] Epoch 1, batch {b}, train_loss[loss={l}, ArTop10Accuracy=0.1077, "
    "over 1202.00 frames. ], tot_loss[loss={t}, ArTop10Accuracy=0.1558, over 282881.71 frames. ], batch size: 2, "
    "lr: 4.94e-04\n"
)


def test_a_nan_in_the_loss_aggregated_under_its_own_name_is_a_nan_loss(tmp_path: Path) -> None:
    # icefall/VALL-E (new log 512): the batch's loss stays finite, the running total `tot_loss` turns NaN
    log = tmp_path / "train.log"
    rows = [(4000, "127", "90.02"), (4100, "121.3", "89.04"), (4200, "23.21", "nan")]
    log.write_text("".join(ICEFALL.format(b=b, l=v, t=t) for b, v, t in rows))
    found = {f.rule_id: f for f in analyze(log).findings}
    assert found["loss-becomes-nan"].onset_step == 4200
    assert found["loss-becomes-nan"].evidence["series"] == "tot_loss"


def test_a_finite_aggregated_loss_says_nothing(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    rows = [(4000, "127", "90.02"), (4100, "121.3", "89.04"), (4200, "23.21", "88.1")]
    log.write_text("".join(ICEFALL.format(b=b, l=v, t=t) for b, v, t in rows))
    assert "loss-becomes-nan" not in {f.rule_id for f in analyze(log).findings}
