"""Wall-clock time read from the timestamps that begin console lines (console.clock): the time of day and a
count of the days that passed, so that steps per second can be measured from a log that prints no time field."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
from analyzer.ingest.console.clock import Clock


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ("2023-05-15 23:13:52,112 INFO:Epoch 315: Train Loss=0.0025", 23 * 3600 + 13 * 60 + 52.112),
        ("25-12-16 16:29:16.457 : <epoch:  7, iter:     200, lr:2.000e-04> G_loss: 1.611e-01", 59356.457),
        ("[05/22 08:24:46 d2.utils.events]:  eta: 0:10:01  iter: 19  total_loss: 1.9", 8 * 3600 + 24 * 60 + 46),
        ("I1216 16:29:16.457 12345 train.py:65] loss = 0.5", 59356.457),
        ("11/22/2026 11:25:18 - INFO - train - step 10 loss 2.1", 11 * 3600 + 25 * 60 + 18),
        ("[2024-07-10 15:50:45,798] [INFO] loss: 0.3", 15 * 3600 + 50 * 60 + 45.798),
        ("Mon Dec  7 04:34:40 2026 step 5 loss 0.2", 4 * 3600 + 34 * 60 + 40),
        ("12:01:33 step 5 loss 0.2", 12 * 3600 + 60 + 33),
    ],
)
def test_a_line_that_begins_with_a_timestamp_gives_its_time_of_day(line: str, seconds: float) -> None:
    assert Clock().read(line) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "line",
    [
        "Epoch: [357]  [250/660]  eta: 0:03:13  lr: 0.000000  loss: 0.1746",
        "100%|██████████| 50/50 [00:05<00:00,  9.62it/s]",
        "step 12:00:01 loss 0.5",
        "loss: 0.5 time 12:00:01",
        "",
        "99:99:99 step 5 loss 0.2",  # no time of day
        "\x00\xff\ufffd 12:00",  # binary garbage and half a time
    ],
)
def test_a_line_that_does_not_begin_with_a_timestamp_gives_none(line: str) -> None:
    assert Clock().read(line) is None


def test_days_are_counted_by_the_date_changing_or_the_time_going_back() -> None:
    dated = Clock()
    assert dated.read("2024-01-01 23:59:50 a") == pytest.approx(86390)
    assert dated.read("2024-01-02 00:00:10 b") == pytest.approx(86400 + 10)
    bare = Clock()
    assert bare.read("23:59:50 a") == pytest.approx(86390)
    assert bare.read("00:00:10 b") == pytest.approx(86410)
    assert bare.read("00:00:09 c") == pytest.approx(86409)  # a second back (two ranks' lines): the same day


# A custom loop behind Python's logging (the format of new logs 500 and 3123): the records print no time of
# their own; the lines' timestamps say each 100 steps took 10 s, then 40 s from step 2,000 on.
def _slowing_log() -> str:
    lines, clock = [], 0.0
    for k in range(1, 41):
        clock += 10.0 if k <= 20 else 40.0
        stamp = f"2024-03-01 {int(clock // 3600):02d}:{int(clock % 3600 // 60):02d}:{clock % 60:06.3f}"
        lines.append(f"{stamp} - INFO - step {100 * k} loss {2.0 / (1 + 0.05 * k):.4f}\n")
    return "".join(lines)


def test_records_take_the_time_their_line_began_with() -> None:
    metrics = parse_text(_slowing_log(), "train.log").metrics
    loss = metrics[metrics["metric"] == "loss"]
    walls = loss["wall_time"].to_numpy()
    assert len(walls) == 40 and walls[0] == pytest.approx(10.0) and walls[-1] == pytest.approx(200 + 800)


def test_a_slowdown_seen_only_in_the_line_timestamps_is_found(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_slowing_log())
    found = {f.failure_mode: f for f in analyze(log).findings}
    assert "throughput_drop" in found and found["throughput_drop"].onset_step == 2100
