"""The duplicate-step policy, restarts and the contract checks at each parser's exit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer import analyze
from analyzer.errors import ContractError
from analyzer.model import empty_metrics, validate_metrics
from analyzer.names import infer_trainer_kind


def _row(step: int, loss: float, elapsed: str) -> str:
    return json.dumps(
        {
            "current_steps": step,
            "total_steps": 30,
            "loss": loss,
            "lr": 1e-4,
            "epoch": step / 30,
            "percentage": step / 0.3,
            "elapsed_time": elapsed,
            "remaining_time": "0:01:00",
        }
    )


def test_resumed_run_later_values_win_and_a_restart_is_recorded(tmp_path: Path):
    # LLaMA-Factory appends to trainer_log.jsonl when a run resumes from checkpoint-10.
    lines = [
        _row(5, 2.0, "0:00:05"),
        _row(10, 1.8, "0:00:10"),
        _row(15, 1.7, "0:00:15"),
        _row(15, 1.65, "0:00:20"),
        _row(20, 1.6, "0:00:25"),
    ]
    lines.insert(3, _row(10, 1.9, "0:00:18"))  # the resumed process logs step 10 again
    (tmp_path / "trainer_log.jsonl").write_text("\n".join(lines) + "\n")
    run = analyze(tmp_path).run
    assert run.series("loss").to_dict() == {5: 2.0, 10: 1.9, 15: 1.65, 20: 1.6}
    restarts = run.events[run.events["kind"] == "restart"]
    assert len(restarts) == 1 and restarts.iloc[0]["step"] == 10 and restarts.iloc[0]["line"] == 4
    assert run.meta["duplicates"]["within_source"] == 6  # steps 10 and 15 x (loss, learning_rate, epoch)


def test_block_buffered_console_dicts_are_not_taken_for_a_resume():
    # A real nohup.out: stdout (the dicts) is block-buffered, stderr (the bars) is not, so ten dicts arrive
    # together after the bar of the first; their guessed steps run ahead of the next bar.
    sample = Path(__file__).resolve().parents[1] / "sample_logs" / "gpu_fp16_overflow" / "nohup.out"
    run = analyze(sample).run
    assert run.meta["console_log"]["nohup.out"]["step_axis"] in ("guessed", "epoch_x_steps")
    assert not (run.events["kind"] == "restart").any()


def test_contract_validation_rejects_wrong_dtypes():
    frame = empty_metrics()
    validate_metrics(frame, "test")
    with pytest.raises(ContractError):
        validate_metrics(frame.astype({"step": "float64"}), "test")
    with pytest.raises(ContractError):
        validate_metrics(frame.drop(columns=["rank"]), "test")
    bad = pd.DataFrame(
        {
            "step": np.array([1]),
            "wall_time": [np.nan],
            "split": pd.Categorical([None]),
            "metric": pd.Categorical(["loss"]),
            "value": [1.0],
            "source": pd.Categorical(["x"]),
            "line": pd.array([1], dtype="Int64"),
            "rank": pd.array([None], dtype="Int64"),
        }
    )
    with pytest.raises(ContractError):
        validate_metrics(bad, "test")


def test_rows_without_a_clock_take_one_other_source_clock(tmp_path: Path):
    """trainer_state.json wins the loss but has no wall time: its rows take the clock of the source that
    recorded the most steps (here LLaMA-Factory's time since start), never a mix of two clocks."""
    history = [{"step": s, "loss": 2.0 - s / 100, "learning_rate": 1e-4, "epoch": s / 30} for s in (5, 10, 15, 20)]
    (tmp_path / "trainer_state.json").write_text(
        json.dumps({"global_step": 20, "max_steps": 30, "log_history": history})
    )
    lines = [_row(s, 2.0 - s / 100, f"0:00:{s:02d}") for s in (5, 10, 15, 20)]
    (tmp_path / "trainer_log.jsonl").write_text("\n".join(lines) + "\n")
    run = analyze(tmp_path).run
    loss = run.metrics[(run.metrics["metric"] == "loss") & (run.metrics["split"] == "train")]
    assert set(loss["source"].astype(str)) == {"trainer_state.json"}
    assert run.wall_times("loss").to_dict() == {5: 5.0, 10: 10.0, 15: 15.0, 20: 20.0}


@pytest.mark.parametrize("seed", range(5))
def test_the_one_key_duplicate_check_agrees_with_pandas(seed: int):
    from analyzer.normalize import _KEY, _duplicated_keys

    rng = np.random.default_rng(seed)
    n = 2_000
    big = seed == 4  # steps too far apart for one key: the pandas fallback
    metrics = pd.DataFrame(
        {
            "split": pd.Categorical(rng.choice(["train", "eval"], n)),
            "metric": pd.Categorical(rng.choice(["loss", "lr", "grad_norm"], n)),
            "step": rng.integers(-3, 2**62 if big else 50, n),
            "rank": pd.array(np.where(rng.random(n) < 0.5, None, rng.integers(0, 3, n)), dtype="Int64"),
        }
    )
    expected = metrics.duplicated(_KEY, keep="last").to_numpy()
    assert expected.any() or big
    assert (_duplicated_keys(metrics) == expected).all()


@pytest.mark.parametrize(
    ("tail", "status"),
    [
        ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n", "crashed"),
        ("Segmentation fault (core dumped)\n", "crashed"),
        ("RuntimeError: DataLoader worker (pid 4711) is killed by signal: Killed.\nstep 6 loss 1.1\n", "unknown"),
        ("", "unknown"),
    ],
)
def test_a_log_that_ends_with_a_fatal_event_crashed(tmp_path: Path, tail: str, status: str):
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss {2 - i / 10:.2f}\n" for i in range(1, 6)) + tail)
    meta = analyze(log).run.meta
    assert meta["status"] == status
    if status == "crashed":
        assert "train.log:6" in meta["status_reason"]


def test_an_objective_named_error_is_the_loss_when_no_loss_was_logged(tmp_path: Path) -> None:
    # deepnl's `avg. error` (new log 1157) and CNTK's `ce = ...  errs = ...` style loops name their objective an
    # error: with no loss it is the loss (its rise a divergence); an error rate (0..1) beside a loss stays a rate
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"Epoch: {e}, pairs: {e * 10000}, avg. error: {v}\n"
            for e, v in enumerate((4.176, 8.991, 14.748, 20.649, 26.75, 31.2))
        )
    )
    report = analyze(log)
    assert report.run.has("loss") and "divergence" in {f.failure_mode for f in report.findings}
    rate = tmp_path / "rate.log"
    rate.write_text("".join(f"step {s} error: {0.5 - s / 100:.3f}\n" for s in range(1, 9)))
    assert not analyze(rate).run.has("loss")


def test_a_cross_entropy_loss_is_no_rl_entropy_bonus() -> None:
    # Caffe's `Train net output #1: cross_entropy_loss = 9.21768` ends like SB3's `train/entropy_loss`; only the
    # second is a policy's entropy term (a run read as RL loses the plain-loss checks: divergence, spikes).
    assert infer_trainer_kind({"loss", "cross_entropy_loss", "accuracy"}) == "trainer"
    assert infer_trainer_kind({"binary_cross_entropy_loss", "loss"}) == "trainer"
    assert infer_trainer_kind({"entropy_loss", "value_loss", "policy_gradient_loss"}) == "rl"


def test_a_reward_beside_the_length_of_generated_responses_is_a_grpo_like_loop() -> None:
    # a GRPO loop of its own (new log 6562: `[Step 9/50] loss=-0.0000 reward_avg=0.000 avg_resp_len=405.5`), whose
    # loss is 0 wherever a group's rewards are all equal; verl's `response_length/mean` beside its rewards
    assert infer_trainer_kind({"loss", "reward_avg", "avg_resp_len"}) == "grpo"
    assert infer_trainer_kind({"pg_loss", "critic_rewards_mean", "response_length_mean"}) == "grpo"
    assert infer_trainer_kind({"loss", "gen_len", "rouge1"}) == "trainer"  # a summariser's generated length, no reward
    assert infer_trainer_kind({"loss", "average_reward"}) == "rl"


def test_a_value_based_multi_agent_loop_is_rl() -> None:
    # PyMARL's QMIX (new log 5282): a TD loss that grows with the Q-values as the returns rise, beside
    # `return_mean`, `td_error_abs`, `q_taken_mean`; read as a plain loss, its rise had been a divergence
    assert infer_trainer_kind({"loss", "grad_norm", "return_mean", "td_error_abs", "q_taken_mean", "epsilon"}) == "rl"
    assert infer_trainer_kind({"loss", "accuracy", "mean"}) == "trainer"


def test_a_loop_that_logs_the_return_its_episodes_earn_is_rl() -> None:
    # TF-Agents' DQN tutorial (new logs 6152, 5254): `step = 1000: Average Return = 1.79` beside the TD loss it
    # prints as `loss`, which rises with the Q-values as the return grows (read as a plain loss, a divergence)
    assert infer_trainer_kind({"loss", "average_return"}) == "rl"
    assert infer_trainer_kind({"loss", "episodic_return", "learning_rate"}) == "rl"
    assert infer_trainer_kind({"loss", "returned_samples"}) == "trainer"  # a word of its own, not `return`


def _epochs(numbers: range, start: float, fall: float) -> str:
    return "".join(
        f"epoch {e:3d}\nloss: {start - fall * i:.6f}\n"
        f"test accuracy: {20 + i / 10:.2f}%, ({512570 + 37 * e}/{2466133 + e})\n"
        for i, e in enumerate(numbers)
    )


def test_a_resume_from_an_earlier_epoch_replaces_every_epoch_after_it(tmp_path: Path) -> None:
    # A loop's log that runs epochs 1-100, then resumes from epoch 71's checkpoint (the counter goes back to 71)
    # with a better schedule: the final model went through epochs 71-130 of the second stretch, so epochs 91-100
    # of the first are no part of it (kept, they would read as a jump from 1.12 back up to 1.66).
    (tmp_path / "train_log.txt").write_text(_epochs(range(1, 101), 6.6, 0.05) + _epochs(range(71, 131), 1.49, 0.005))
    run = analyze(tmp_path / "train_log.txt").run
    loss = run.series("loss")
    assert loss.index.tolist() == list(range(1, 131))
    assert loss[70] == pytest.approx(6.6 - 0.05 * 69) and loss[100] == pytest.approx(1.49 - 0.005 * 29)
    assert run.series("accuracy", split="eval").index.tolist() == list(range(1, 131))  # the test line's own epoch
    assert not any(f.failure_mode == "loss_spike" for f in analyze(tmp_path / "train_log.txt").findings)


def test_a_second_run_from_the_first_epoch_is_another_run_and_the_longer_one_is_analysed(tmp_path: Path) -> None:
    # A 15-epoch run, then a 1-epoch test run appended to the same log: another run, not a resume of the first;
    # the two are not mixed on one axis, and the 15-epoch run is the one analysed
    (tmp_path / "train_log.txt").write_text(_epochs(range(1, 16), 2.5, 0.1) + _epochs(range(1, 2), 2.4, 0.1))
    loss = analyze(tmp_path / "train_log.txt").run.series("loss")
    assert loss.index.tolist() == list(range(1, 16)) and loss[1] == pytest.approx(2.5)
    # a short start before the real run (an aborted first try) is left out the same way
    (tmp_path / "train_log.txt").write_text(_epochs(range(1, 4), 2.4, 0.1) + _epochs(range(1, 16), 2.5, 0.1))
    loss = analyze(tmp_path / "train_log.txt").run.series("loss")
    assert loss.index.tolist() == list(range(1, 16)) and loss[1] == pytest.approx(2.5)


def test_a_perplexity_beside_an_error_the_run_minimises_is_no_language_models(tmp_path: Path) -> None:
    # A VQ-VAE's notebook loop (new log 6272): `recon_error` is what it minimises, `perplexity` its codebook's usage,
    # which rises from 1.8 as more codes are used; read as ln(perplexity), that rise had been a divergence
    blocks = [
        f"{100 * k} iterations\nrecon_error: {2.8 / k:.3f}\nperplexity: {1.8 + 0.1 * k:.3f}\n\n" for k in range(1, 41)
    ]
    (tmp_path / "train.log").write_text("".join(blocks))
    report = analyze(tmp_path)
    assert not report.run.has("loss") and report.run.has("recon_error")
    assert "divergence" not in {f.failure_mode for f in report.findings}
    # a perplexity alone (a Sockeye or torch7 loop) is still the loss it is the exponential of
    (tmp_path / "train.log").write_text(
        "".join(f"{100 * k} iterations\nperplexity: {90 / k:.3f}\n\n" for k in range(1, 41))
    )
    assert analyze(tmp_path).run.has("loss")
