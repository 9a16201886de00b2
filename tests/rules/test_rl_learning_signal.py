"""rl-no-learning-signal: every sample's advantage alike (or, in GRPO, every completion's reward) means
no policy gradient. Real runs: TRL's GRPOTrainer with a reward that never matches (a bundled sample), and
verl's console metric lines as rllm printed them (new_real_logs/776); the variants below keep verl's
exact line format and change the values."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.conftest import SAMPLES

RULE = "rl-no-learning-signal"
PREFIX = "(main_task pid=129170) "


def _verl(tmp_path: Path, rows: list[dict[str, float]]) -> Path:
    """verl's `step:N - key:value - ...` metric lines, three decimals as it prints them."""
    lines = []
    for step, row in enumerate(rows, 1):
        fields = " - ".join(f"{k}:{v:.3f}" for k, v in row.items())
        lines.append(f"{PREFIX}step:{step} - {fields}")
    (tmp_path / "stdout.log").write_text("\n".join(lines) + "\n")
    return tmp_path


def _row(rewards: tuple[float, float, float], advantages: tuple[float, float, float], step: int) -> dict[str, float]:
    return {
        "actor/kl_loss": 0.001 * step,
        "actor/pg_loss": 0.0 if advantages[1] == advantages[2] else 0.01 * (-1) ** step,
        "actor/grad_norm": 0.004 + 0.001 * step,
        "critic/rewards/mean": rewards[0],
        "critic/rewards/max": rewards[1],
        "critic/rewards/min": rewards[2],
        "critic/advantages/mean": advantages[0],
        "critic/advantages/max": advantages[1],
        "critic/advantages/min": advantages[2],
        "response_length/mean": 550.0 + step,
    }


def _fired(path: Path):
    return [f for f in analyze(path).findings if f.rule_id == RULE]


def test_trl_grpo_reward_that_never_matches():
    found = _fired(SAMPLES / "hf_grpo_reward_always_zero")
    assert len(found) == 1 and found[0].failure_mode == "not_learning" and found[0].onset_step == 1
    assert "same reward" in found[0].message and "reward 0 throughout" in found[0].message
    assert found[0].causes[0].id == "reward-never-matches"


def test_healthy_grpo_is_silent():
    assert not _fired(SAMPLES / "hf_grpo_zero_loss")  # loss 0 by design, rewards vary


def test_verl_zero_advantages_fire(tmp_path: Path):
    rows = [_row((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), s) for s in range(1, 7)]
    found = _fired(_verl(tmp_path, rows))
    assert len(found) == 1 and found[0].onset_step == 1
    assert "same advantage" in found[0].message


def test_verl_advantages_that_vary_are_silent(tmp_path: Path):
    rows = [_row((0.2, 1.0, 0.0), (0.0, 1.5, -1.2), s) for s in range(1, 7)]
    assert not _fired(_verl(tmp_path, rows))


def test_one_batch_with_a_spread_keeps_it_silent(tmp_path: Path):
    rows = [_row((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), s) for s in range(1, 7)]
    rows[3] = _row((0.1, 1.0, 0.0), (0.0, 1.1, -0.4), 4)  # one batch solved a prompt: a signal existed
    assert not _fired(_verl(tmp_path, rows))


def test_equal_rewards_without_advantages_outside_grpo_are_silent(tmp_path: Path):
    # Classic RL on a solved task: every episode returns the maximum; no advantage logged, no GRPO keys.
    lines = [
        f"Episode {i}: ep_rew_mean 500.0, rewards_max 500.0, rewards_min 500.0, value_loss {0.5 / i:.4f}"
        for i in range(1, 12)
    ]
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    assert not _fired(tmp_path)


def test_a_loop_that_logs_a_reward_has_no_plain_loss(tmp_path: Path):
    # A GRPO loop written by hand (theLMbook's): the policy loss starts at 0.0000 and grows with its KL
    # term by design, while the average reward rises; no divergence is read into it.
    lines = []
    for step in range(1, 41):
        lines.append(f"Average Reward: {0.7 + 0.04 * step:.6f}\n")
        lines.append(f"Iteration 1/1, Step {step}/500, GRPO iter 1/1, loss: {0.0003 + 0.00012 * step:.4f}\n")
    (tmp_path / "train.log").write_text("".join(lines))
    report = analyze(tmp_path)
    assert report.run.meta["trainer_kind"] == "rl"
    assert "divergence" not in {f.failure_mode for f in report.findings}
