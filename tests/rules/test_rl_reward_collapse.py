"""rl-reward-collapses: an RL run's mean reward falls from a level it held to the bottom of its range and stays.
Real runs: a custom GRPO loop's `reward_data: {...}` lines (new_real_logs/1322) and verl's metric lines
(new_real_logs/1329), both in the rule's examples; the variants below keep verl's `step:N - key:value`
line format and change the values."""

from __future__ import annotations

import math
from pathlib import Path

from analyzer import analyze

RULE = "rl-reward-collapses"


def _verl(tmp_path: Path, scores: list[float]) -> Path:
    lines = []
    for step, score in enumerate(scores, 1):
        fields = {
            "actor/entropy": 0.2 + 0.01 * math.sin(step),
            "actor/pg_loss": 0.01 * (-1) ** step,
            "actor/grad_norm": 0.4 + 0.05 * math.cos(step),
            "critic/score/mean": score,
            "critic/rewards/mean": score,
            "response_length/mean": 1700.0 + 10 * math.sin(step),
        }
        lines.append(f"step:{step} - " + " - ".join(f"{k}:{v}" for k, v in fields.items()))
    (tmp_path / "stdout.log").write_text("\n".join(lines) + "\n")
    return tmp_path


def _fired(path: Path):
    return [f for f in analyze(path).findings if f.rule_id == RULE]


def test_reward_that_falls_to_its_floor_and_stays_fires(tmp_path: Path):
    scores = [-0.2, -0.15, -0.1, -0.12, -0.3, -0.6, -0.9, *[-1.0] * 8]
    found = _fired(_verl(tmp_path, scores))
    assert len(found) == 1 and found[0].failure_mode == "divergence"
    assert found[0].onset_step == 8  # the first point in the bottom tenth of the range (-0.9 is just above it)


def test_noisy_reward_ending_on_low_draws_is_silent(tmp_path: Path):
    scores = [0.5 + 0.4 * math.sin(1.7 * s) for s in range(30)]
    assert not _fired(_verl(tmp_path, [*scores, -0.1, -0.1, -0.1]))  # the fall is the reward's own noise


def test_reward_that_comes_back_is_silent(tmp_path: Path):
    scores = [-0.2, -0.15, -0.1, -0.12, -0.3, -0.9, -1.0, -1.0, -0.6, -0.3, -0.2, -0.1]
    assert not _fired(_verl(tmp_path, scores))


def test_dpo_rejected_reward_falling_by_design_is_silent(tmp_path: Path):
    rows = []
    for step in range(1, 21):
        rejected = -0.05 * step**1.5 if step < 12 else -2.0
        rows.append(
            f"{{'loss': {0.69 - 0.02 * step:.4f}, 'rewards/chosen': {0.02 * step:.4f}, "
            f"'rewards/rejected': {rejected:.4f}, 'rewards/margins': {0.02 * step - rejected:.4f}, "
            f"'epoch': {step / 20}}}"
        )
    (tmp_path / "stdout.log").write_text("\n".join(rows) + "\n")
    assert not _fired(tmp_path)


def test_a_penalty_term_beside_a_rising_total_is_no_collapse(tmp_path: Path):
    # rsl_rl's blocks: the total reward rises while a penalty term (action rate) grows in magnitude by design
    # as the episodes get longer, then holds at its most negative
    penalty = [-0.001, -0.003, -0.009, -0.0146, -0.0146, -0.02, -0.05] + [-0.08 + 0.001 * (i % 3) for i in range(13)]
    blocks = "".join(
        f"Learning iteration {i}/20\n"
        f"Mean total reward: {0.2 + i:.2f}\n"
        f"Mean episode rew_reward_action_rate: {p:.4f}\n"
        f"Total timesteps: {98304 * (i + 1)}\n"
        for i, p in enumerate(penalty)
    )
    (tmp_path / "stdout.log").write_text(blocks)
    assert not _fired(tmp_path)


def test_a_sparse_reward_that_was_at_its_floor_most_of_the_time_before_has_not_collapsed(tmp_path: Path):
    # two completions a step, mostly both wrong: 0, now and then 0.5 or 1, then 60 zeros (new log 4553)
    early = [0.5 if step % 7 == 0 else 1.0 if step == 40 else 0.0 for step in range(1, 80)]
    assert not _fired(_verl(tmp_path, early + [0.0] * 60))
