"""A score printed per episode is the episode's return (Udacity's deep-RL projects: `Episode 100\tAverage Score:
13.2`; new log 4703, IQN on CartPole with an exploration rate that never decays: the 100-episode average stays near
22, the random policy's; 3990, TD3 at 0.00 for 620 episodes): the reward checks read it as the run's reward. A score
that rose is a policy that learned; one printed to two decimals that goes from 0.01 back to 0.00 moved by one printed
unit and has not collapsed."""

from __future__ import annotations

import math
from pathlib import Path

from analyzer import analyze


def _episodes(tmp_path: Path, scores: list[float]) -> Path:
    lines = [f"Episode {k}\tAverage Score: {s:.2f}\tcurrent mean: {s:.2f}" for k, s in enumerate(scores, 1)]
    (tmp_path / "stdout.log").write_text("Using cpu\n" + "\n".join(lines) + "\n")
    return tmp_path


def _fired(path: Path) -> set[str]:
    return {f.rule_id for f in analyze(path).findings}


def test_a_score_per_episode_that_never_rises_is_a_policy_not_learning(tmp_path: Path) -> None:
    scores = [22.0 + 3.0 * math.sin(k / 3.0) for k in range(120)]
    assert "rl-reward-never-improves" in _fired(_episodes(tmp_path, scores))


def test_a_score_per_episode_that_rises_is_a_policy_learning(tmp_path: Path) -> None:
    scores = [min(200.0, 20.0 + 1.8 * k + 3.0 * math.sin(k / 3.0)) for k in range(120)]
    assert not {"rl-reward-never-improves", "rl-reward-collapses"} & _fired(_episodes(tmp_path, scores))


def test_a_score_one_printed_unit_above_zero_that_goes_back_has_not_collapsed(tmp_path: Path) -> None:
    scores = [0.0] * 6 + [0.01, 0.02, 0.01, 0.01] * 15 + [0.0] * 60
    assert "rl-reward-collapses" not in _fired(_episodes(tmp_path, scores))


def test_a_score_outside_episodes_is_no_reward(tmp_path: Path) -> None:
    lines = [f"Epoch {k}\tval score: {0.61 + 0.001 * math.sin(k):.4f}\tloss: {1.0 - k / 300:.4f}" for k in range(120)]
    (tmp_path / "stdout.log").write_text("\n".join(lines) + "\n")
    assert not {"rl-reward-never-improves", "rl-reward-collapses"} & _fired(tmp_path)
