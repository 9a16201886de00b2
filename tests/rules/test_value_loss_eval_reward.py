"""An offline RL loop that only evaluates its policy (no train reward) and whose critic loss runs away diverged:
the value-loss rule takes the evaluation's return as the reward when the run logs no other."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze


def _log(qf: list[float]) -> str:
    lines = []
    for i, loss in enumerate(qf, start=1):
        lines += [
            "=" * 80,
            f"Iteration {i}",
            f"time/training: {48.3 + i:.4f}",
            f"evaluation/target_12000_return_mean: {-171.1 - 0.5 * i:.4f}",
            "evaluation/target_12000_length_mean: 1000.0",
            f"training/policy_losses_mean: {-4.03 + 0.01 * i:.6f}",
            f"training/qf_losses_mean: {loss:.6g}",
        ]
    return "\n".join(lines) + "\n"


def test_a_critic_loss_running_away_is_divergence(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_log([10.2 * 4.0**i for i in range(20)]))
    assert "rl-value-loss-diverges" in {f.rule_id for f in analyze(log).findings}


def test_a_steady_critic_loss_is_not(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_log([10.2 + 0.3 * (i % 3) for i in range(20)]))
    assert "rl-value-loss-diverges" not in {f.rule_id for f in analyze(log).findings}
