"""A logger with several handlers prints each line two or three times in a row: the counter on those lines is
still the step (each value counts once), and each record is read once."""

from __future__ import annotations

import random

from tests.ingest.console_series import series


def _log(times: int) -> str:
    noise = random.Random(2)
    lines = []
    for step in range(50, 1001, 50):
        line = (
            f"2025-03-18 20:33:49,158 - INFO - __main__ - Step {step}/1000, loss={0.3 + noise.uniform(-0.1, 0.1):.4f}"
        )
        lines += [line] * times
    return "\n".join(lines) + "\n"


def test_a_line_printed_three_times_is_one_record_at_its_step() -> None:
    loss = series(_log(3))["train/loss"]
    assert [step for step, _ in loss] == list(range(50, 1001, 50))


def test_printed_once_it_reads_the_same() -> None:
    assert series(_log(1))["train/loss"] == series(_log(3))["train/loss"]
