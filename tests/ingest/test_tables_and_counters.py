"""Tables with a one-space header, counters inside a sentence and per-epoch batch counters, in the exact
output of fastai v1, spaCy v2, gensim, AllenNLP (2017) and PaddleDetection (benchmarks/new_real_logs/049-054)."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series


def test_a_header_with_one_space_between_names_names_its_rows() -> None:
    read = series("epoch train loss valid loss accuracy_thresh f2_opt\n0 nan nan 0.997788 0.000000\n")
    assert read["train/loss"][0][0] == 0 and read["eval/loss"][0][0] == 0
    spacy = "Training the model...\nLOSS      P       R       F\n" + "184.500 0.505   1.000   0.671\n" * 5
    assert [v for _, v in series(spacy)["train/loss"]] == [184.5] * 5


def test_the_value_after_a_counter_in_a_sentence_is_named_by_the_sentence() -> None:
    read = series("".join(f"'Loss after epoch {e}: {0.5 / (e + 1)}'\n" for e in range(4)))
    assert read["train/loss"] == [(e, 0.5 / (e + 1)) for e in range(4)]


def test_an_epoch_header_above_batch_lines_gives_batch_in_epoch_steps() -> None:
    head = "2017-10-14 16:48:27,962 - INFO - allennlp.training.trainer - "
    text = (
        head
        + "Epoch 0/139\n"
        + "".join(
            f"{head}Batch {b}/17168: accuracy: 0.{40 + i}, loss: {1.5 - i / 10:.2f} ||\n"
            for i, b in enumerate((1, 567, 1128))
        )
    )
    assert [s for s, _ in series(text)["train/loss"]] == [1, 567, 1128]


def test_a_batch_cost_is_seconds_not_the_loss() -> None:
    line = (
        "[07/21 14:40:44] ppdet.engine INFO: Epoch: [0] [ {b:>2}/200] learning_rate: 0.000025 loss_xy: 7.020596 "
        "loss: {loss:.6f} eta: 10 days, 19:39:33 batch_cost: 6.6231 data_cost: 6.0187 ips: 1.2080 images/s\n"
    )
    read = series("".join(line.format(b=20 * i, loss=1000.0 / 2**i) for i in range(4)))
    assert [v for _, v in read["train/loss"]] == [1000.0, 500.0, 250.0, 125.0]


def test_a_trailing_verb_is_no_part_of_a_name() -> None:
    text = "".join(f"Current loss is: 133.4565371299845, Iteration: {i}\n" for i in range(92, 96))
    assert [s for s, _ in series(text)["train/loss"]] == [92, 93, 94, 95]  # NeuralPDE.jl


def test_a_record_with_extra_fields_on_the_same_axis_is_the_same_kind() -> None:
    head = "[2024-10-03 09:27:16,231][svoice.solver][INFO] - "
    lines = [f"{head}Epoch {e}: train={4.6 - e / 10:.5f} valid={13.2 - e / 10:.5f} best=13.0\n" for e in range(6)]
    lines[4] = lines[4].rstrip("\n") + " sisnr=1.70772 pesq=0.00000\n"
    assert sorted(s for s, _ in series("".join(lines))["train/loss"]) == [0, 1, 2, 3, 4, 5]


def test_a_date_is_no_counter_and_a_duration_in_parentheses_is_the_steps_time() -> None:
    mxnet = "".join(
        f"Epoch[1] Batch[{b}]\tSpeed: 29.01 samples/sec\t\tMultiLogisticLoss={0.1 / b:.6f}"
        f"\ttime=17/01/2019--21:28:5{i}\n"
        for i, b in enumerate((10, 20, 30))
    )
    assert [s for s, _ in series(mxnet)["train/loss"]] == [10, 20, 30]
    nifty = "".join(
        f"INFO:niftynet:2018-02-04 06:07:0{i},482: Training iter {3211 + i}, loss=0.45 ({1.3 + i:.6f}s)\n"
        for i in range(3)
    )
    assert [v for _, v in series(nifty)["train/time"]] == [1.3, 2.3, 3.3]


def test_qualifiers_after_the_word_loss_still_name_the_loss() -> None:
    text = "".join(f"Epoch {e}, loss_train_last_batch: {13.1 - e / 100:.4f}, loss_val: 13.2\n" for e in range(1, 5))
    assert len(series(text)["train/loss"]) == 4


def test_a_comma_separated_header_names_its_rows_and_skips_text_columns() -> None:
    text = "Epoch ,LR ,RMSE ,Loss ,Mode\n" + "".join(
        f"    {e} ,0.001 ,{1392.3 - e:.1f} ,{5.3 - e / 10:.2f} ,train\n" for e in range(4)
    )
    assert series(text)["train/loss"] == [(0, 5.3), (1, 5.2), (2, 5.1), (3, 5.0)]


def test_a_fixed_width_table_is_read_by_column_when_its_cells_do_not_line_up_one_to_one() -> None:
    # Vowpal Wabbit's right-aligned table (new logs 1142, 1143): two names one space apart over seven
    # cells; a holdout row's trailing `h` is a marker, no cell
    vw = (
        "average    since         example     example  current  current  current\n"
        "loss       last          counter      weight    label  predict features\n"
        "1.000000   1.000000            1         1.0   1.0000   0.0000        1\n"
        "1.470775   1.941550            2         2.0  -1.0000   0.3934        1\n"
        "0.000000   0.000000           16        16.0   1.0000   0.2857        1 h\n"
    )
    frame = parse_text(vw, "train.log").metrics
    assert frame[frame["metric"] == "loss"]["value"].tolist() == [1.0, 1.470775, 0.0]
    assert frame[frame["metric"] == "features"]["value"].tolist() == [1.0, 1.0, 1.0]
    # Chainer's PrintReport leaves a column blank until it is measured (new log 1034)
    chainer = "epoch       iteration   lr          main/loss   main/loss/loc  validation/main/map\n" + "".join(
        f"{192 + i // 2:<12d}{44500 + 100 * i:<12d}0.0001      {2.1 - i / 100:<12.4f}0.4{i}\n" for i in range(4)
    )
    frame = parse_text(chainer, "train.log").metrics
    loss = frame[frame["metric"] == "loss"]
    assert loss["step"].tolist() == [44500, 44600, 44700, 44800] and "map" not in set(frame["metric"])


def test_another_tables_row_under_a_header_is_not_read_by_its_columns() -> None:
    # YOLOv5's validation row (`all  30  49 ...`) under the train table's header: a text cell leads it
    text = (
        "      Epoch    GPU_mem   box_loss   obj_loss   cls_loss  Instances       Size\n"
        "      0/399      1.79G     0.1729   0.007017     0.0479         52        320\n"
        "                 all         30         49          0          0          0\n"
    )
    frame = parse_text(text, "train.log").metrics
    assert frame[frame["metric"] == "box_loss"]["value"].tolist() == [0.1729]


def test_a_word_under_a_counter_column_makes_the_row_another_tables() -> None:
    # YOLOv8's validation row has as many cells as the train header has names (`all  7866  9060  0.694 ..` under
    # `Epoch GPU_mem box_loss ..`; its own header is glued to a progress bar): a word where the epoch goes
    text = (
        "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size\n"
        "      3/100      2.29G      1.018      1.203     0.8975         21        640\n"
        "                   all       7866       9060      0.694      0.879      0.731      0.555\n"
        "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size\n"
        "      4/100      2.29G      1.002      1.151     0.8931         25        640\n"
    )
    frame = parse_text(text, "train.log").metrics
    assert frame[frame["metric"] == "box_loss"]["value"].tolist() == [1.018, 1.002]


MATLAB = """\
|======================================================================================================================|
|  Epoch  |  Iteration  |  Time Elapsed  |  Mini-batch  |  Validation  |  Mini-batch  |  Validation  |  Base Learning  |
|         |             |   (hh:mm:ss)   |   Accuracy   |   Accuracy   |     Loss     |     Loss     |      Rate       |
|======================================================================================================================|
|       1 |           1 |       00:00:10 |       66.52% |       85.09% |       0.8533 |       0.5303 |      1.0000e-04 |
|       4 |          50 |       00:06:32 |       97.26% |       89.75% |       0.0797 |       0.4648 |      1.0000e-04 |
|       7 |         100 |       00:11:59 |       98.72% |       89.63% |       0.0385 |       0.5727 |      1.0000e-04 |
|      10 |         150 |       00:17:26 |       98.39% |       89.83% |       0.0437 |       0.6073 |      1.0000e-04 |
|======================================================================================================================|
"""


def test_a_pipe_table_header_on_two_lines_names_each_column_top_to_bottom() -> None:
    # MATLAB's trainNetwork table (Deep Learning Toolbox), as printed, and as pasted in a script's comment
    for text in (MATLAB, "".join(f"% {line}\n" for line in MATLAB.splitlines())):
        read = series(text)
        assert read["train/loss"] == [(1, 0.8533), (50, 0.0797), (100, 0.0385), (150, 0.0437)]
        assert [v for _, v in read["eval/loss"]] == [0.5303, 0.4648, 0.5727, 0.6073]
        assert [v for _, v in read["train/learning_rate"]] == [1e-4] * 4


def test_rows_of_a_table_with_no_header_are_read_as_numbered_columns() -> None:
    # timm's summary.csv pasted without its header: `epoch,train_loss,eval_loss,top1,top5` rows, names unknown
    rows = "".join(f"{200 + i},{4.40 - i / 100},{4.13 + i / 1000},{7.7 + i / 10},{24.4 - i / 10}\n" for i in range(5))
    read = series(rows)
    assert [step for step, _ in read["train/column_2"]] == [200, 201, 202, 203, 204]
    assert "train/loss" not in read  # a column with no name is no loss
    assert series("3 apples cost 2 dollars\n4 pears cost 3 dollars\n") == {}  # words between: prose


def test_a_nan_row_in_a_table_with_no_header_is_a_nonfinite_train_metric(tmp_path: Path) -> None:
    rows = [f"{200 + i},{4.40 - i / 100},{4.13 + i / 1000},{7.7 + i / 10},{24.4 - i / 10}" for i in range(9)]
    rows += ["209,nan,4.16,7.72,24.02", "210,nan,nan,1.0,5.0", "211,nan,nan,1.0,5.0"]
    (tmp_path / "summary.log").write_text("\n".join(rows) + "\n")
    found = [f for f in analyze(tmp_path).findings if f.failure_mode == "loss_nan"]
    assert found and found[0].onset_step == 209


def test_a_printed_pandas_frame_names_its_columns_and_its_index_counts_the_rows() -> None:
    # `print(pd.DataFrame(history.history))`: the header names the value columns, the index has no name
    rows = "".join(f"{i:<3} {0.47 - i / 100:.6f}  {0.77 + i / 100:.6f}  {0.72 + i / 50:.6f}\n" for i in range(1, 12))
    read = series("      loss       acc  val_loss\n" + rows)
    assert [step for step, _ in read["train/loss"]] == list(range(1, 12))
    assert [round(v, 2) for _, v in read["eval/loss"]][:2] == [0.74, 0.76]


def test_a_headerless_row_of_numpy_scalars_in_brackets_is_read() -> None:
    # a TF1 loop's `print(step, cost, W, b)`: `0 1.60368e+10 [ 4612.54] [ 406.81]`
    rows = "0 1.60368e+10 [ 4612.54003906] [ 406.81304932]\n" + "".join(
        f"{s} nan [ nan] [ nan]\n" for s in range(100, 600, 100)
    )
    read = series(rows)
    assert [step for step, _ in read["train/column_2"]] == [0, 100, 200, 300, 400, 500]


def test_a_list_of_unnamed_values_with_its_step_inside_is_read() -> None:
    # VITS and so-vits-svc log `[loss_disc, loss_gen, loss_fm, loss_mel, loss_kl, global_step, lr]` after the
    # logger's prefix (`32k` is the model's sampling rate, no field)
    rows = "".join(
        f"2023-09-16 18:4{i}:35,783\t32k\tINFO\t"
        f"[{2.3 - i / 10}, {2.5 + i / 10}, {15.0 - i}, {38.0 - i}, {6.8 - i / 2}, {20 * i}, 0.0001]\n"
        for i in range(5)
    )
    read = series(rows)
    assert [step for step, _ in read["train/column_4"]] == [0, 20, 40, 60, 80]
    assert [round(v, 1) for _, v in read["train/column_4"]] == [38.0, 37.0, 36.0, 35.0, 34.0]
    assert not any(name.endswith("column_6") for name in read)  # the step is no metric
