"""Which field is a split's loss when a log does not print the word `loss` alone: the lines follow the
exact output of XGBoost, LightGBM, OpenNMT-py and PaddleOCR (benchmarks/new_real_logs/032-043)."""

from __future__ import annotations

from tests.ingest.console_series import values as series


def test_a_loss_function_name_is_the_loss_of_each_split() -> None:
    text = "".join(
        f"[{r}]\teval-logloss:{0.4 + r / 1e4:.5f}\ttrain-logloss:{0.2 - r / 1e5:.5f}\n" for r in range(500, 3001, 500)
    )
    read = series(text)
    assert read["eval/loss"][0] == 0.45 and read["train/loss"][-1] == 0.17
    assert "eval/logloss" not in read


def test_a_percentage_error_is_a_loss_function_too() -> None:
    # XGBoost with a custom feval (new log 1813: `[10]\ttrain-rmspe:0.360292\teval-rmspe:0.843193`); forecasting
    # loops print MAPE and sMAPE as their objective
    for name in ("rmspe", "mape", "smape", "rmsle"):
        text = "".join(
            f"[{r}]\ttrain-{name}:{0.36 - r / 1e3:.6f}\teval-{name}:{0.84 + r / 1e3:.6f}\n" for r in range(10, 16)
        )
        read = series(text)
        assert read["train/loss"][0] == 0.35 and read["eval/loss"][-1] == 0.855, name


def test_lightgbm_possessive_names_and_l2() -> None:
    text = "".join(f"[{r}]:\ttrain's l2:{0.1 - r / 1e3:.6f}\tvalid_1's l2:{0.11 - r / 1e3:.6f}\n" for r in range(1, 9))
    read = series(text)
    assert len(read["train/loss"]) == 8 and len(read["eval/loss"]) == 8
    assert not any("s_" in name or name.endswith("/l2") for name in read)


def test_two_loss_functions_in_a_split_are_left_as_they_are() -> None:
    text = "".join(f"[{r}]\tvalid_0's l1: {1.0 / r:.4f}\tvalid_0's l2: {2.0 / r:.4f}\n" for r in range(1, 7))
    read = series(text)
    assert "eval/loss" not in read and {"eval/l1", "eval/l2"} <= set(read)


def test_the_field_named_loss_wins_over_a_qualified_cost() -> None:
    line = (
        "[2024/06/22 06:27:{s:02d}] ppocr INFO: epoch: [2/500], global_step: {g}, lr: 0.000046, loss: 1.000000, "
        "loss_shrink_maps: 0.000000, avg_reader_cost: 0.30681 s, avg_batch_cost: 0.3{s:02d}21 s, avg_samples: 5.6, "
        "ips: 15.50328 samples/s, eta: 2:47:59, max_mem_reserved: 6177 MB\n"
    )
    read = series("".join(line.format(s=i, g=50 + 10 * i) for i in range(6)))
    assert read["train/loss"] == [1.0] * 6
    assert len(read["train/avg_batch_cost"]) == 6


def test_an_events_counter_is_not_a_metric() -> None:
    # DeepSpeed's fused optimizer: the counter after "on iteration" is a step, not a series of its own.
    text = "".join(
        f"[2023-04-15 05:51:0{i},058] [INFO] [fused_optimizer.py:362:_update_scale]\n"
        f"Grad overflow on iteration {1860 + i}\n"
        for i in range(3)
    )
    assert not any("overflow" in name for name in series(text))


def test_a_box_regression_or_bits_per_dim_objective_is_the_loss_when_none_is_named() -> None:
    # MXNet's Speedometer prints each metric on its own line: `Train-SmoothL1=nan` is the detector's loss
    line = "Epoch[0] Batch [{b}]\tSpeed: 27.98 samples/sec\tTrain-{name}={v}\n"
    text = "".join(line.format(b=b, name=n, v=v) for b in (20, 40, 60) for n, v in (("Acc", 0.55), ("SmoothL1", "nan")))
    assert len(series(text)["train/loss"]) == 3
    text = "".join(f"epoch {e} train bpd: {4.6 - e / 10:.4f} val bpd: {4.7 - e / 10:.4f}\n" for e in range(1, 6))
    read = series(text)
    assert read["train/loss"][0] == 4.5 and read["eval/loss"][-1] == 4.2


def test_tr_and_va_abbreviate_the_splits() -> None:
    # LIBMF's table: `iter tr_rmse va_rmse obj`, an error named for each split is that split's loss
    rows = [
        (0, 3.2384, 1.6034, 85.07),
        (1, 2.9674, 1.2867, 72.17),
        (2, 2.2669, 0.9555, 43.86),
        (3, 1.7516, 0.7339, 28.0),
    ]
    text = "iter      tr_rmse      va_rmse          obj\n" + "".join(
        f"{i:4d} {t:12.4f} {v:12.4f} {o:12.4e}\n" for i, t, v, o in rows
    )
    read = series(text)
    assert read["train/loss"] == [t for _, t, _, _ in rows]
    assert read["eval/loss"] == [v for _, _, v, _ in rows]


def test_a_loss_function_beside_its_running_average_is_the_loss() -> None:
    # MLPerf's SSD: `Loss function` is the batch's loss, `Average Loss` a running mean that starts from 0
    line = "Iteration: {i:6d}, Loss function: {v:.3f}, Average Loss: {a:.3f}, avg. samples / sec: 3874.80\n"
    rows = [(0, 22.825, 0.023), (20, 20.681, 0.445), (40, 18.34, 0.834), (60, 15.2, 1.15)]
    read = series("".join(line.format(i=i, v=v, a=a) for i, v, a in rows))
    assert read["train/loss"] == [v for _, v, _ in rows]
    assert read["train/average_loss"] == [a for _, _, a in rows]


def test_a_held_out_key_in_a_json_train_row_is_that_splits() -> None:
    # a loop's own JSON lines: `{"step": 100, "loss": .., "lr": .., "valid_loss": ..}`
    rows = [(1, 3.805, 1.278), (100, 0.0637, 0.261), (200, 0.1188, 0.3246), (300, 0.02, 0.455)]
    text = "".join(f'{{"step": {s}, "loss": {t}, "lr": 4e-06, "valid_loss": {v}}}\n' for s, t, v in rows)
    read = series(text)
    assert read["eval/loss"] == [v for _, _, v in rows]
    assert read["train/loss"] == [t for _, t, _ in rows]
    assert "train/valid_loss" not in read


def test_an_auxiliary_term_is_not_taken_for_the_missing_loss() -> None:
    # baselines' TRPO table: `entloss` is the entropy bonus (-0.0 with its coefficient at 0), never the objective,
    # though it is the one field whose name ends in loss; a `total_loss` alone is.
    table = "".join(
        f"| entloss | -0.0 |\n| entropy | {-1.5 - i / 10} |\n| eprewmean | {-2.97 + i / 100} |\n" for i in range(4)
    )
    assert "train/loss" not in series(table)
    assert series("".join(f"step {i} kl_loss: 0.0{i} total_loss: {3 - i / 10}\n" for i in range(4)))["train/loss"] == [
        3.0,
        2.9,
        2.8,
        2.7,
    ]


def test_a_loss_layer_s_instance_number_is_part_of_its_name() -> None:
    # Caffe names an unnamed layer by its type and a number (new log 5466: `Test net output #1: SoftmaxWithLoss1 =
    # 3.43009 (* 1 = 3.43009 loss)`): the test net's only loss output is its loss
    text = ""
    for it in range(0, 600, 100):
        text += f"I1101 13:43:42.418579  4164 solver.cpp:330] Iteration {it}, Testing net (#0)\n"
        text += f"I1101 13:44:21.286895  4164 solver.cpp:397]     Test net output #0: Accuracy1 = {0.02 + it / 1e3:g}\n"
        loss = 4.5 - it / 200
        text += (
            f"I1101 13:44:21.286916  4164 solver.cpp:397]     Test net output #1: SoftmaxWithLoss1 = {loss:g} "
            f"(* 1 = {loss:g} loss)\n"
        )
        for k in range(0, 100, 20):
            text += (
                f"I1101 13:43:49.452596  4164 solver.cpp:218] Iteration {it + k} (2.84341 iter/s, 7.03382s/20 iters), "
                f"loss = {5 - (it + k) / 150:g}\n"
            )
    read = series(text)
    assert read["eval/loss"] == [4.5 - it / 200 for it in range(0, 600, 100)]
