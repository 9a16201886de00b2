"""A metric word must be the name's own, not the first letters of another word: Indonesian `Memulai Epoch 1...`
(`Starting epoch 1...`, new log 6913) had been read as a memory series named `memulai_epoch` that grew from 1 to 38,
and `memory-keeps-growing` fired on it."""

from __future__ import annotations

import pytest

from analyzer.names import is_memory_metric
from tests.ingest.console_series import series


@pytest.mark.parametrize("word", ["Memulai", "Starting"])
def test_a_line_that_announces_an_epoch_is_no_metric_in_another_language_either(word: str) -> None:
    text = "".join(f"{word} Epoch {e}...\nEpoch {e} | Loss: {5 - e / 10:.1f}\n" for e in range(1, 6))
    read = series(text)
    assert sorted(read) == ["train/epoch", "train/loss"]


@pytest.mark.parametrize(
    ("name", "memory"),
    [
        ("gpu_mem", True),
        ("mem_alloc", True),
        ("max_memory_allocated", True),
        ("memulai_epoch", False),
        ("member", False),
    ],
)
def test_a_memory_series_is_named_by_mem_or_memory(name: str, memory: bool) -> None:
    assert is_memory_metric(name) is memory
