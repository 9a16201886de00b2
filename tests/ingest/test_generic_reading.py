"""The generic reader on logs it was not written for: the corpus's console logs, read by hand
(tests/data/console_reading_expected.yaml), must give the train-loss series with the right point
count, first and last value and step axis in at least 90% of the logs that print a loss, with the
built-in grammars switched off. The same check as benchmarks/reading.py (which also runs the peer)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analyzer.ingest.console import parse_text
from benchmarks.reading import check, read_ours
from tests.conftest import CASES

HAND_READ = yaml.safe_load((Path(__file__).parents[1] / "data" / "console_reading_expected.yaml").read_text())


def right_share(monkeypatch: pytest.MonkeyPatch, hints: bool) -> tuple[float, list[str]]:
    if not CASES.is_dir():
        pytest.skip("../shared/real_logs/cases not available")
    monkeypatch.setenv("ANALYZER_NO_GRAMMAR_HINTS", "0" if hints else "1")
    cases = [e for e in HAND_READ if e["prints_train_loss"] and (CASES / e["case"] / "stdout.log").is_file()]
    wrong = [e["case"] for e in cases if not check(e, read_ours(CASES / e["case"] / "stdout.log")).right]
    return 1 - len(wrong) / len(cases), wrong


def test_generic_reader_alone_reads_nine_logs_in_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    share, wrong = right_share(monkeypatch, hints=False)
    assert share >= 0.90, wrong


def test_hints_do_not_make_reading_much_worse(monkeypatch: pytest.MonkeyPatch) -> None:
    share, wrong = right_share(monkeypatch, hints=True)
    assert share >= 0.85, wrong


def test_no_series_from_logs_that_print_no_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    if not CASES.is_dir():
        pytest.skip("../shared/real_logs/cases not available")
    monkeypatch.setenv("ANALYZER_NO_GRAMMAR_HINTS", "1")
    quiet = [
        e
        for e in HAND_READ
        if not e["prints_train_loss"] and not e.get("ambiguous") and (CASES / e["case"] / "stdout.log").is_file()
    ]
    spurious = [e["case"] for e in quiet if read_ours(CASES / e["case"] / "stdout.log").values]
    assert len(spurious) <= len(quiet) // 10, spurious


def test_one_record_of_names_and_values_with_no_separator_is_read() -> None:
    # A TF1 seq2seq script's line, printed once in the paste (new log 1040): every number right after a
    # name of a few words, a counter first; a sentence with one number stays prose
    frame = parse_text(
        "11/14 21:48:50 step 56000 epoch 6 learning rate 0.429 step-time 0.364 loss 53.745\n"
        "11/14 21:49:52 starting decoding with beam 5\n",
        "train.log",
    ).metrics
    loss = frame[(frame["metric"] == "loss") & (frame["split"] == "train")]
    assert loss["step"].tolist() == [56000] and loss["value"].tolist() == [53.745]
    assert frame[frame["metric"] == "learning_rate"]["value"].tolist() == [0.429]
