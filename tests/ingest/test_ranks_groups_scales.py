"""Loggers' code locations and rank tags, bracketed field groups, mpirun rank prefixes, the AMP scaler's
scale and Horovod's stall check, in the exact output of icefall, Horovod and tf.estimator
(benchmarks/new_real_logs/057-067)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analyzer.api import analyze
from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series, values

ICEFALL = (
    "2025-05-20 02:38:47,195 INFO [train_phone.py:1056] (7/8) Epoch 1, batch {b}, loss[loss={loss}, "
    "simple_loss=0.6511, ctc_loss=0.4594, over 19153.00 frames. ], tot_loss[loss=0.6085, simple_loss=0.5909, "
    "ctc_loss=0.4316, over 37589436.30 frames. ], batch size: 130, lr: 2.73e-02, grad_scale: {scale}\n"
)


def test_icefall_groups_code_locations_and_rank_tags() -> None:
    read = series("".join(ICEFALL.format(b=b, loss=1.0 - b / 1e5, scale=2.0**-b) for b in (14300, 14350)))
    assert read["train/loss"] == [(14300, 1.0 - 0.143), (14350, 1.0 - 0.1435)]  # the batch's, not tot_loss's
    assert [v for _, v in read["train/tot_loss"]] == [0.6085, 0.6085]
    assert read["train/loss_scale"][0][1] == 2.0**-14300 or read["train/loss_scale"][0][1] == 0.0
    assert not any("py" in name or "info" in name for name in read)  # `train_phone.py:1056` is no metric


def test_a_small_scaler_scale_is_an_fp16_collapse(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "2024-01-14 01:03:00,826 WARNING [train.py:1057] (2/4) Grad scale is small: 1.2924697071141057e-26\n"
        + "".join(ICEFALL.format(b=b, loss=0.5, scale="1.29e-26") for b in (50, 100, 150))
    )
    assert "fp16_overflow" in {f.failure_mode for f in analyze(log).findings}


def test_horovod_stall_check_is_a_collective_timeout(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "[2020-02-18 02:34:19.925512: W horovod/common/stall_inspector.cc:105] One or more tensors were submitted "
        "to be reduced, gathered or broadcasted by subset of ranks and are waiting for remainder of ranks for more "
        "than 60 seconds. This may indicate that different ranks are trying to submit different tensors or that "
        "only subset of ranks is submitting tensors, which will cause deadlock.\n"
    )
    assert "nccl_timeout" in {f.failure_mode for f in analyze(log).findings}


def test_mpirun_rank_prefixes_keep_each_ranks_records_apart() -> None:
    line = "[1,{r}]<stderr>:INFO:tensorflow:cross_entropy = {v}, learning_rate = 0.0138 (7.424 sec)\n"
    values = {0: [8293909.5, 13894586.0, 16139048.0], 1: [80.131134, 8687.791, 90.213585]}
    text = "".join(line.format(r=r, v=values[r][i]) for i in range(3) for r in (1, 0))
    metrics = parse_text(text, "train.log").metrics
    rank0 = metrics[(metrics["metric"] == "loss") & (metrics["rank"] == 0)]
    assert rank0["step"].tolist() == [1, 2, 3] and rank0["value"].tolist() == values[0]


def test_a_value_named_by_its_split_alone_is_that_splits_objective() -> None:
    text = "".join(
        f"{i}:\tlearn: {0.2 - i / 1e4:.7f}\ttest: {0.15 - i / 1e4:.7f}\tbest: 0.1407452 ({i})"
        "\ttotal: 8.38s\tremaining: 33.3s\n"
        for i in range(100, 600, 100)
    )  # CatBoost's verbose lines
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [100, 200, 300, 400, 500] and len(read["eval/loss"]) == 5


def test_a_rate_in_parentheses_names_its_series() -> None:
    line = "2020-06-11 04:29:57.313210: step {s}, loss = 0.86 ({r} examples/sec; 0.015 sec/batch)\n"
    read = series("".join(line.format(s=8910 + 10 * i, r=8468.2 - i) for i in range(3)))
    assert [v for _, v in read["train/examples_per_second"]] == [8468.2, 8467.2, 8466.2]


def test_an_absl_prefix_is_no_metric_and_its_twin_line_is_the_same_record() -> None:
    # TF Object Detection API 2.x prints each step twice: through absl and through the tensorflow logger.
    text = "".join(
        f"I0912 11:4{i}:27.956218 139735407601536 model_lib_v2.py:652] Step {s} per-step time 0.813s loss={v}\n"
        f"INFO:tensorflow:Step {s} per-step time 0.813s loss={v}\n"
        for i, (s, v) in enumerate(((100, 1.396), (200, 1.192), (300, 1.346)))
    )
    read = series(text)
    assert sorted(set(read["train/loss"])) == [(100, 1.396), (200, 1.192), (300, 1.346)]
    assert not any(name.startswith("train/i0") or name.endswith("_summary") for name in read)


def test_a_scale_set_as_its_base_2_log_after_nans_then_nothing_more_is_an_fp16_collapse(tmp_path: Path) -> None:
    # OpenAI's guided/improved-diffusion fp16 util: logger tables with `lg_loss_scale`, then the NaN halvings
    table = "".join(
        f"----------------------------\n| lg_loss_scale | 17.9     |\n| loss          | 0.{s}42    |\n"
        f"| step          | {s}e+04 |\n----------------------------\n"
        for s in ("1.08", "1.09")
    )
    halvings = "".join(f"Found NaN, decreased lg_loss_scale to {v}.929000000013357\n" for v in (16, 15, 14))
    log = tmp_path / "log.txt"
    log.write_text(table + halvings)
    scales = sorted(v for _, v in series(table + halvings)["train/loss_scale"])
    assert [round(math.log2(v), 3) for v in scales] == [14.929, 15.929, 16.929]
    assert "fp16_overflow" in {f.failure_mode for f in analyze(log).findings}
    log.write_text(halvings)  # the halvings alone, no record of training: a scaler calibrating at start-up
    assert "fp16_overflow" not in {f.failure_mode for f in analyze(log).findings}


def test_a_line_of_a_hundred_fields_is_a_record() -> None:
    # verl prints every metric of an RL step on one `step:N - name:value - ...` line: over a hundred of them
    # (timings, lengths, per-key statistics); the record is read however many fields it carries.
    def line(step: int) -> str:
        fields = [f"actor/pg_loss:np.float64({0.03 + 0.01 * step})", f"critic/score/mean:{-0.6 - 0.01 * step}"]
        fields += [f"timing_s/part_{k}:{1.5 + k + step}" for k in range(110)]
        return f"step:{step} - " + " - ".join(fields)

    read = values("\n".join(line(s) for s in range(1, 6)) + "\n")
    assert read["train/loss"] == pytest.approx([0.04, 0.05, 0.06, 0.07, 0.08])
    assert read["train/critic_score_mean"] == pytest.approx([-0.61, -0.62, -0.63, -0.64, -0.65])


def test_a_worker_or_client_id_is_the_record_s_rank() -> None:
    # federated learning: `Worker:2 Train Epoch: 1, ...` lines, one per worker and round
    text = "".join(
        f"Worker:{w} Train Epoch: {e}, worker avg loss: {0.5 / e + w / 1000:.4f}, worker train acc:{90 + e}\n"
        for e in (1, 2, 3)
        for w in (2, 0, 1)
    )
    read = series(text)
    assert "train/worker" not in read  # the id is no metric
    assert sorted({step for step, _ in read["train/loss"]}) == [1, 2, 3]  # each worker's rounds, not 9 steps
