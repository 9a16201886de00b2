"""Reading classes from round 70-72 of unseen logs (new logs 617, 623-628).

- A progress bar per epoch (torch-ngp / stable-dreamfusion style): the next epoch's bar starts again at
  0 after the last one ran to its end; its steps count on, so a NaN in epoch 82 is not placed among
  epoch 81's batches (628, where that read as "NaN, then finite again").
- A bar at 0/N has run nothing yet: its postfix shows the values from before it (Lightning redraws the
  bar at 0% when an epoch starts; 624 read each redraw as one more identical loss, a false "frozen").
- A bracketed step that leads each record (CLU's metric writer in Flax: `[400] train_loss=..`) printed
  by each host of a multi-host job: copies of one record, the counter still the step (617).
- Dates with the month named (`Mon 10 Jan 2022 17:42:14`) and the `2023-07-17_21-23-40` stamp of a run
  folder are no metrics (626, 628).
- Python logging's default `INFO:<logger>:` prefix: a logger named `mi-test` does not put the
  records in the test split (627).
- TensorFlow's first `loss = .., step = N` line, printed before the logger can add `(2.109 sec)`, is
  the first record of the series, not a summary of its own (623).
- `ndcg@10: 0.06` names its value.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analyzer.api import analyze
from analyzer.ingest import console
from tests.ingest.console_series import series, values

BAR = "loss={v} ({v}), lr=0.050000: : {p:>3}% {n}/{total} [00:09<00:09,  5.36it/s]\n"


def _epoch(epoch: int, losses: list[str], total: int, start: int = 1) -> str:
    head = f"==> Start Training trial_dinosaur Epoch {epoch}/300, lr=0.050000 ...\n"
    bars = "".join(BAR.format(v=v, p=100 * n // total, n=n, total=total) for n, v in enumerate(losses, start=start))
    return head + bars


def test_a_new_bar_of_the_same_length_counts_on_from_the_finished_one(tmp_path: Path) -> None:
    text = _epoch(1, ["1.0000", "0.9000", "0.8000", "0.7000"], 4) + _epoch(2, ["0.6000", "nan", "nan"], 4)
    read = series(text)["train/loss"]
    assert [s for s, _ in read] == [1, 2, 3, 4, 5, 6, 7]
    assert math.isnan(read[-1][1])
    log = tmp_path / "train.log"
    log.write_text(text)
    report = analyze(log)
    assert report.verdict == "loss_nan"
    assert report.findings[0].onset_step == 6
    assert "never came back" in report.findings[0].message


def test_a_bar_that_did_not_finish_is_not_taken_for_a_finished_epoch() -> None:
    # The second bar of the same length starts while the first stopped at 3/4: no offset is guessed.
    text = _epoch(1, ["1.0", "0.9", "0.8"], 4) + _epoch(2, ["0.7", "0.6"], 4)
    assert [s for s, _ in series(text)["train/loss"]] == [1, 2, 3, 1, 2]


LIGHTNING = (
    "Epoch {e}: {p:>3}%|{bar}| {n}/1 [00:00<00:00,  3.55it/s, v_num=13, train_loss_step={s}, train_loss_epoch={m}]\n"
)


def test_a_bar_redrawn_at_zero_shows_old_values_and_adds_none() -> None:
    lines = [
        (10, 100, 1, "41.00", "41.00"),
        (10, 100, 1, "39.80", "39.80"),
        (11, 0, 0, "39.80", "39.80"),  # the next epoch's bar, drawn before its first batch
        (11, 100, 1, "39.60", "39.60"),
        (12, 0, 0, "39.60", "39.60"),
    ]
    text = "".join(
        LIGHTNING.format(e=e, p=p, bar="#" * (p // 10) + " " * (10 - p // 10), n=n, s=s, m=m) for e, p, n, s, m in lines
    )
    read = series(text)["train/loss"]
    assert [v for _, v in read] == [41.0, 39.8, 39.6]  # the redraws at 0/1 add nothing


CLU = (
    "I1002 21:{mm}:13.42{us} 1399178648673{host} logging_writer.py:35] [{step}] steps_per_second=1.5837{jit}, "
    "train_accuracy={acc}, train_loss={loss}\n"
)


def test_copies_of_a_record_from_each_host_keep_the_bracketed_step() -> None:
    rows = [(400, "0.3724", "3.2198"), (500, "0.8223", "0.8868"), (1000, "0.0066", "6.5252")]
    text = "".join(
        CLU.format(mm=38 + i, us=5700 + host, host=host, step=step, jit=20 + host, acc=acc, loss=loss)
        for i, (step, acc, loss) in enumerate(rows)
        for host in range(4)
    )
    read = series(text)["train/loss"]
    assert sorted({s for s, _ in read}) == [400, 500, 1000]
    assert {s: v for s, v in read} == {400: 3.2198, 500: 0.8868, 1000: 6.5252}


def test_different_values_under_one_leading_number_are_not_copies() -> None:
    # The leading number repeats with different losses: it counts something else, not the records.
    text = "".join(f"[{e}] loss={v}\n" for e, v in ((1, 0.9), (1, 0.8), (2, 0.7), (2, 0.6), (3, 0.5), (3, 0.4)))
    assert [s for s, _ in series(text)["train/loss"]] == [1, 2, 3, 4, 5, 6]


def test_dates_with_month_names_and_folder_stamps_are_not_metrics() -> None:
    text = "".join(
        f"Mon 10 Jan 2022 17:4{i}:14 INFO  epoch {i} training [time: 37.5{i}s, train loss: {9 - i}.25]\n"
        for i in range(4)
    ) + "".join(f"==> [2023-07-17_21-2{i}-40] Finished Epoch {i}/300. loss={0.5 - i / 10}\n" for i in range(4))
    names = set(series(text))
    assert "train/loss" in names
    assert not {n for n in names if n.split("/")[1] in ("mon", "jan", "21", "2022", "10")}


def test_python_loggings_default_prefix_names_no_split() -> None:
    text = "".join(
        f"INFO:mi-test:Train Epoch: {e} [0%]\n"
        f"INFO:mi-test:loss_disc={3.9 - e / 10:.3f}, loss_gen=2.514, loss_mel=30.6\n"
        for e in range(1, 5)
    )
    names = set(series(text))
    assert {"train/loss_disc", "train/loss_gen"} <= names
    assert not any(n.startswith("eval/") for n in names)


def test_the_first_logger_line_without_its_timing_is_the_first_record() -> None:
    text = "INFO:tensorflow:loss = 437.71362, mrr = 0.39257812, step = 1488562\n" + "".join(
        f"INFO:tensorflow:loss = {v}, mrr = 0.4617, step = {s} (2.109 sec)\n"
        for s, v in ((1488919, 413.18103), (1489304, 449.76367), (1489705, 422.31223))
    )
    read = series(text)
    assert sorted(s for s, _ in read["train/loss"]) == [1488562, 1488919, 1489304, 1489705]
    assert "train/loss_summary" not in read


def test_a_metric_named_at_a_cutoff_keeps_its_name() -> None:
    text = "".join(f"epoch {e} evaluating [time: 43.49s, ndcg@10: 0.0{e}6]\n" for e in range(1, 5))
    assert values(text)["train/ndcg@10"] == [0.016, 0.026, 0.036, 0.046]


def test_a_bar_with_nothing_of_its_own_after_the_last_step_adds_no_offset() -> None:
    # A Trainer's bar (no values in it) ran to 4/4; an evaluation bar of the same length follows: the eval
    # dict after it belongs to step 4, not 8.
    train = "".join(
        f"{{'loss': {v}, 'learning_rate': 1e-05, 'epoch': {n / 4}}}\n"
        f" {25 * n}%|{'#' * n}{' ' * (4 - n)}| {n}/4 [00:0{n}<00:00,  3.01it/s]\n"
        for n, v in ((1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6))
    )
    evaluation = "".join(f"\r {25 * n}%|{'#' * n}{' ' * (4 - n)}| {n}/4 [00:00<00:00, 12.1it/s]" for n in (1, 2, 3, 4))
    text = train + evaluation + "\n{'eval_loss': 0.65, 'eval_runtime': 0.3, 'epoch': 1.0}\n"
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [1, 2, 3, 4]
    assert [s for s, _ in read["eval/loss"]] == [4]


def test_an_evaluation_counting_its_own_iterations_is_placed_on_the_training_steps() -> None:
    # TransUNet-style: train lines carry the global iteration, the val lines between epochs their own count.
    lines = []
    for epoch in (247, 248, 249):
        for i in range(4):
            it = epoch * 60 + 8 * i
            lines.append(f"epoch : {epoch}, iteration : {it}, train loss : 0.1{i}{epoch % 10}, train dice : 0.75\n")
        for i in range(3):
            lines.append(
                f"epoch : {epoch}, iteration : {epoch * 10 + i}, val loss : 0.2{i}{epoch % 10}, val dice : 0.6\n"
            )
    read = series("".join(lines))
    train_steps = sorted({s for s, _ in read["train/loss"]})
    assert train_steps[0] == 247 * 60
    assert {s for s, _ in read["eval/loss"]} == {247 * 60 + 24, 248 * 60 + 24, 249 * 60 + 24}


def test_an_epoch_with_its_total_before_a_global_steps_bar_is_a_label() -> None:
    # diffusers-style trainers (SimpleTuner, new log 749): `Epoch 38/65, Steps: 57%|..| 5750/10000 [...]`: the
    # bar counts the run's steps; Lightning's `Epoch 3:` bar counts the epoch's batches.
    line = (
        "Epoch {e}/65, Steps:  {p}%|\u2588\u2588\u2588| {n}/10000 [18:09<12:43,  3.89it/s, lr=1.04e-5, step_loss={v}]\n"
    )
    rows = ((38, 57, 5750, 0.434), (45, 69, 6900, 0.401), (52, 79, 7999, 0.34))
    read = series("".join(line.format(e=e, p=p, n=n, v=v) for e, p, n, v in rows))
    assert [s for s, _ in read["train/loss"]] == [5750, 6900, 7999]


def test_finished_bars_saved_once_each_with_other_values_are_successive_epochs() -> None:
    # a notebook's saved output keeps each epoch's bar at 100% only: every one is a new epoch's, counted on
    bar = "100%|████| 469/469 [00:33<00:00, 13.93it/s, train_acc={a}, train_loss={v}]\n"
    val = "100%|████| 79/79 [00:01<00:00, 44.61it/s, val_acc=0.9{e}, val_loss=0.1{e}]\n"
    text = "".join(
        f"Epoch {e} / 20\n" + bar.format(a=0.9, v=v) + val.format(e=e)
        for e, v in enumerate(("0.81", "0.138", "inf"), 1)
    )
    read = series(text)["train/loss"]
    assert [s for s, _ in read] == [469, 938, 1407] and math.isinf(read[-1][1])
    # the same finished bar drawn twice (tqdm refreshes it on close) is one bar
    twice = bar.format(a=0.9, v="0.81") * 2 + bar.format(a=0.9, v="0.7")
    assert sorted({s for s, _ in series(twice)["train/loss"]}) == [469, 938]


def test_a_keras_bar_that_erases_itself_with_backspaces_is_read(tmp_path: Path) -> None:
    # Keras' Progbar, writing to no terminal (a notebook's saved output), erases its last bar with `\b` runs
    # before it redraws: the file is text, and each epoch's last bar is its record.
    erase = "\b" * 86
    epochs = []
    for epoch in range(1, 4):
        bars = [
            f"\r{n:3d}/118 [====>....] - ETA: 0s - loss: {2.0 / epoch - n / 1000:.4f} - accuracy: 0.5" for n in (1, 60)
        ]
        last = (
            f"\r118/118 [==============================] - 4s 10ms/step - loss: {1.6 / epoch:.4f} - accuracy: 0.9"
            f" - val_loss: {0.27 / epoch:.4f} - val_accuracy: 0.93"
        )
        epochs.append(f"Epoch {epoch}/3\n" + erase.join(bars) + erase + last + "\n")
    text = "".join(epochs)
    (tmp_path / "output.txt").write_text(text)
    assert console.sniff(tmp_path / "output.txt", (tmp_path / "output.txt").read_bytes())
    assert values(text)["eval/loss"] == pytest.approx([0.27, 0.135, 0.09], abs=1e-4)


def test_a_bar_described_validate_holds_the_eval_split() -> None:
    # a segmentation loop's tqdm bars: `Train Epoch k` over 30 batches, then `Validate` over 8 (its counter is
    # no train step, its `Val Loss` no train loss)
    text = ""
    for epoch in range(4):
        text += (
            f"Train Epoch {epoch}: 100%|██████████| 30/30 [00:04<00:00,  7.23it/s, Loss={0.4 - epoch / 20:.4f}, "
            "Dice=0.138, LR=1.00e-04]\n"
            f"Validate: 100%|██████████| 8/8 [00:00<00:00, 19.12it/s, Val Loss={0.6 - epoch / 50:.4f}, "
            "Val Dice=0.000]\n"
        )
    read = series(text)
    assert [round(v, 2) for _, v in read["train/loss"]] == [0.4, 0.35, 0.3, 0.25]
    assert [round(v, 2) for _, v in read["eval/loss"]] == [0.6, 0.58, 0.56, 0.54]


def test_keras_epoch_lines_a_hint_counts_by_epoch_sit_on_the_per_batch_axis() -> None:
    # Keras' bars each kept on a line of their own (a log written with no terminal), every 10th batch of 50:
    # the generic reader counts them epoch x 50 + batch, and the hint reads the epoch line with `val_loss`.
    # The evaluation and the epoch's train loss belong at that epoch's last batch, not at steps 1, 2, 3.
    text = ""
    for epoch in range(1, 4):
        text += f"Epoch {epoch}/3\n"
        for n in range(10, 50, 10):
            text += f"{n}/50 [=====>........] - ETA: 3s - loss: {1.0 / epoch - n / 1000:.4f} - accuracy: 0.5\n"
        text += (
            f"50/50 [==============================] - 4s 80ms/step - loss: {0.9 / epoch:.4f} - accuracy: 0.6"
            f" - val_loss: {0.8 / epoch:.4f} - val_accuracy: 0.7\n"
        )
    read = series(text)
    assert [step for step, _ in read["eval/loss"]] == [40, 90, 140]
    assert sorted({step for step, _ in read["train/loss"]}) == [10, 20, 30, 40, 60, 70, 80, 90, 110, 120, 130, 140]


def test_a_postfix_key_of_several_words_is_one_name() -> None:
    # 3D Gaussian Splatting's bar: `Loss=0.0446380, Depth Loss=0.0000000`: the depth term is no second train loss
    text = "".join(
        f"Training progress:  {n // 500}%|█████▏     | {n}/50000 [01:43<16:04, 44.60it/s, "
        f"Loss={0.05 - n / 2e6:.7f}, Depth Loss=0.0000000]\n"
        for n in (7000, 30000, 50000)
    )
    read = values(text)
    assert read["train/loss"] == pytest.approx([0.0465, 0.035, 0.025])
    assert read["train/depth_loss"] == [0.0, 0.0, 0.0]


def test_styling_that_alone_parts_two_numbers_parts_them(tmp_path: Path) -> None:
    # Keras 3 in a notebook: the first batch's bar and the epoch's last are glued with no carriage return, a bold
    # escape between them: `loss: 0.1508<ESC>[1m13/13`. The first batch's loss is 0.1508, not 0.150813, and the
    # epoch's record is the last bar's.
    bold, plain = "\x1b[1m", "\x1b[0m"
    text = ""
    for epoch in (1, 2, 3):
        text += f"Epoch {epoch}/3\n"
        text += (
            f"{bold} 1/13{plain} - 0s 25ms/step - accuracy: 1.0000 - loss: 0.1508{bold}13/13{plain} - 0s 4ms/step"
            f" - accuracy: 0.8278 - loss: {0.5 - epoch / 20:.4f} - val_accuracy: 0.8065"
            f" - val_loss: {0.3 + epoch / 50:.4f}\n"
        )
    assert 0.150813 not in values(text)["train/loss"]
    (tmp_path / "output.txt").write_text(text)
    run = analyze(tmp_path / "output.txt").run
    assert run.series("loss").tolist() == pytest.approx([0.45, 0.4, 0.35])


def test_keras_epoch_time_in_whole_seconds_is_read_beside_the_epochs_loss() -> None:
    # `10/10 [===] - 13s 1s/step - loss: ..` (new log 6620): the epoch took 13 s; `0s 47us/step` says no time
    rows = [(13, "0.9378"), (11, "0.6021"), (1808, "0.5122")]
    text = "".join(
        f"Epoch {e}/3\n10/10 [==============================] - {t}s 1s/step - loss: {v} - accuracy: 0.5724"
        f" - val_loss: 0.5133 - val_accuracy: 0.8056\n"
        for e, (t, v) in enumerate(rows, start=1)
    )
    assert values(text)["train/epoch_time"] == [13.0, 11.0, 1808.0]
    # model.evaluate()'s bar after the last epoch (new log 1192) is no epoch of training: its time, read, must not make
    # the hint take the line
    evaluated = values(
        text + "157/157 [==============================] - 0s 1ms/step - loss: 1.4780 - accuracy: 0.4982\n"
    )
    assert evaluated["train/loss"] == [0.9378, 0.6021, 0.5122]
    fast = "Epoch 1/2\n10613/10613 [==============================] - 0s 47us/step - loss: 2.7108 - accuracy: 0.5339\n"
    assert "train/epoch_time" not in values(fast)
