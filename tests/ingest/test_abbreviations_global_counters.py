"""Abbreviated counter names, a global counter printed with its total beside the epoch, a rate's unit
glued to the next name, a traceback header cut by the end of a paste and a loss that moves only in its
sixth digit, in the exact output of Marian, CPM-2's Megatron-style finetuning, open_clip, nerfstudio and
DINO (benchmarks/new_real_logs/103, 106, 111, 112, 107), each beside a log of another shape."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series

MARIAN = "[2017-10-18 18:14:{s:02d}] Ep. 7 : Up. {up} : Sen. {sen} : Cost {cost} : Time 6.91s : 13596.73 words/s\n"


def test_abbreviated_counters_give_the_step() -> None:
    text = "".join(MARIAN.format(s=i, up=306350 + 10 * i, sen=5630845 + 4530 * i, cost=34.46 - i) for i in range(4))
    read = series(text)
    assert read["train/loss"] == [(306350 + 10 * i, 34.46 - i) for i in range(4)]
    assert "train/up" not in read  # `Up.` is the update counter, not a metric


def test_other_abbreviations_of_counter_words() -> None:
    text = "".join(f"It. {100 * i} | loss {1.5 - i / 10:.2f} | acc 0.5\n" for i in range(1, 5))
    assert series(text)["train/loss"] == [(100 * i, round(1.5 - i / 10, 2)) for i in range(1, 5)]
    # `No.` is no counter word; a line it opens with a number one more at every line counts all the same
    # (console.generic._data_counter), and one that skips stays a name
    numbered = "".join(f"No. {i} sample | loss {1.5 - i / 10:.2f} | acc 0.5\n" for i in range(1, 5))
    assert [s for s, _ in series(numbered)["train/loss"]] == [1, 2, 3, 4]
    skipping = "".join(f"No. {i} sample | loss {1.5 - i / 10:.2f} | acc 0.5\n" for i in (1, 3, 4, 7))
    assert [v for _, v in series(skipping)["train/no"]] == [1, 3, 4, 7]


CPM = "epoch   {e}/ 10 | global iteration     {it}/    3402 | learning rate 3e-06 | lm loss {v} | loss scale 1024.0 |\n"


def test_a_global_counter_with_its_total_beside_the_epoch_is_the_step() -> None:
    rows = [(3, 1360, 0.699219), (4, 1370, 0.697672), (4, 1380, 0.698514)]
    read = series("".join(CPM.format(e=e, it=it, v=v) for e, it, v in rows))
    assert read["train/loss"] == [(it, v) for _, it, v in rows]


def test_a_counter_that_keeps_rising_across_epochs_is_global_whatever_its_name() -> None:
    line = "Epoch [{e}/5] Iter [{i}/5000] loss: {v}\n"
    rows = [(1, 900, 0.5), (1, 1000, 0.4), (2, 1100, 0.3), (2, 1200, 0.2)]
    assert series("".join(line.format(e=e, i=i, v=v) for e, i, v in rows))["train/loss"] == [(i, v) for _, i, v in rows]
    # The batches of each epoch start again: epoch x batches per epoch + batch.
    rows = [(1, 400, 0.5), (1, 500, 0.4), (2, 100, 0.3), (2, 200, 0.2)]
    assert [s for s, _ in series("".join(line.format(e=e, i=i, v=v) for e, i, v in rows))["train/loss"]] == [
        400,
        500,
        5100,
        5200,
    ]


def test_a_rate_unit_glued_to_the_next_name_belongs_to_the_rate() -> None:
    line = (
        "2023-06-29,15:45:36 | INFO | Train Epoch: 0 [  {n}/109468 (3%)] Loss: 0.97884 (1.023) Data (t): 0.158 "
        "Batch (t): 0.559, 36.0876/s LR: 0.000001 Logit Scale: 99.995 - V4\n"
    )
    read = series("".join(line.format(n=n) for n in (6464, 12864)))
    assert [v for _, v in read["train/learning_rate"]] == [1e-06, 1e-06]
    assert not any(name.endswith("s_lr") for name in read)


def test_a_traceback_header_cut_by_the_end_of_the_paste_is_an_exception(tmp_path: Path) -> None:
    events = parse_text("Trainer.train_iteration: 0.0300\nTraceback (most recent", "train.log").events
    assert list(events["kind"]) == ["exception"]
    log = tmp_path / "train.log"
    log.write_text("Step (% Done)       Train Iter (time)\n3800 (1.27%)        30.8 ms\nTraceback (most recent")
    assert "crash" in {f.failure_mode for f in analyze(log).findings}
    assert parse_text("see the Traceback section of the docs\n", "train.log").events.empty


def test_a_loss_that_moves_only_in_its_sixth_digit_is_not_moving(tmp_path: Path) -> None:
    dino = tmp_path / "frozen" / "log.txt"
    dino.parent.mkdir()
    dino.write_text(
        "".join(
            json.dumps({"train_loss": 11.090190887451172 + 4.5e-6 * i, "train_lr": 5e-4 - 5e-6 * i, "epoch": 151 + i})
            + "\n"
            for i in range(12)
        )
    )
    assert "not_learning" in {f.failure_mode for f in analyze(dino).findings}
    # Converging slowly, 1e-4 of itself per epoch late in training, printed with the same digits: learning.
    # (Over the first epochs of a run so small a fall is not learning: tests/rules/test_flat_first_epochs.py.)
    slow = tmp_path / "slow" / "log.txt"
    slow.parent.mkdir()
    slow.write_text(
        "".join(
            json.dumps({"train_loss": 1.7 * (1 - 1e-4) ** i, "train_lr": 5e-4, "epoch": 151 + i}) + "\n"
            for i in range(12)
        )
    )
    assert not {f.failure_mode for f in analyze(slow).findings} & {"not_learning", "plateau"}


def test_a_bar_over_an_iterable_of_unknown_length_keeps_what_the_loop_printed_in_it() -> None:
    # wav2lip's `tqdm(...).set_description('Loss: {}')`: one closed bar per epoch, no total, no percentage.
    text = "".join(f"Loss: {v}: : 11it [00:06,  1.59it/s]\n" for v in (0.5212869264862754, 0.516353040933609, 0.5068))
    assert series(text)["train/loss"] == [(1, 0.5212869264862754), (2, 0.516353040933609), (3, 0.5068)]
    bar = "Epoch 1: {n}it [00:0{n},  3.1it/s, loss={v}]"
    text = "\r".join(bar.format(n=n, v=v) for n, v in ((5, 0.5), (6, 0.4), (7, 0.3))) + "\n"
    assert [v for _, v in series(text)["train/loss"]] == [0.5, 0.4, 0.3]  # its postfix
    assert series("100it [00:06,  1.59it/s]\n200it [00:12,  1.59it/s]\n") == {}  # a bare bar is no record
