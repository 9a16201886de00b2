"""rl-value-loss-diverges: an RL run's value loss ends a hundred times above its early low, by more than the
square of the reward's growth explains. Real runs: a custom hierarchical DQN whose Q-loss ratchets up at each
target sync (new_real_logs/2053) and a TorchRL PPO whose critic loss grows to 1e13 (new_real_logs/2054), both
in the rule's examples; the variants below keep rsl_rl-like `key=value` lines and change the values."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze

RULE = "rl-value-loss-diverges"


def _fires(tmp_path: Path, critic: list[float], reward: list[float]) -> bool:
    lines = [
        f"iter={i:04d} reward={r:.4f} entropy=1.32 loss_critic={c:.4f} loss_objective=-0.01\n"
        for i, (c, r) in enumerate(zip(critic, reward, strict=True))
    ]
    (tmp_path / "train.log").write_text("".join(lines))
    return any(f.rule_id == RULE for f in analyze(tmp_path / "train.log").findings)


def test_a_critic_loss_that_runs_away_while_the_reward_stays_is_a_divergence(tmp_path: Path) -> None:
    critic = [4e5 * 1.25**i for i in range(40)]  # 4e5 -> 2.4e9
    assert _fires(tmp_path, critic, [-2.5e5 + 100 * i for i in range(40)])


def test_a_critic_loss_that_grows_with_the_square_of_the_returns_is_not(tmp_path: Path) -> None:
    # returns that grow some 200x from the first quarter to the last (a policy that learns to collect more)
    # allow a value loss some 40,000x larger (times the hundred the rule asks): this one grows ~10,000x
    critic = [10.0 * 1.3**i for i in range(40)]  # 10 -> 2.9e5
    reward = [1.2**i for i in range(40)]  # 1 -> 1,470
    assert not _fires(tmp_path, critic, reward)
    assert not _fires(tmp_path, [5.0 - 0.1 * i for i in range(40)], [-2.5e5] * 40)  # a value loss that falls
