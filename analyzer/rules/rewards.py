"""Checks on the learning signal of reinforcement-learning runs (GRPO/RLOO/PPO on language models, and
any policy-gradient loop that logs its advantages).

A policy gradient is the advantage times the log-probability's gradient: when every sample's advantage
is the same (zero after a group-relative baseline), no sample is preferred to another and the policy
gets no signal, whatever the loss prints. Logs show it as spread statistics of the batch: an advantage
whose max equals its min, a reward std of 0, TRL's `frac_reward_zero_std` at 1.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from analyzer.model import Run
from analyzer.names import name_words
from analyzer.rules.checks import Detection, check, cite_point, finite, fmt, per_episode, warming_up

# Group-relative methods normalise each prompt's rewards by the group's: equal rewards, zero advantages.
_GROUP_RELATIVE = {"grpo"}
_SEP = r"[/_.]"
_WHAT = rf"(?:^|{_SEP})(?P<what>rewards?|scores?|advantages?)(?:{_SEP}|$)"
_SPREAD = re.compile(rf"{_WHAT}.*?(?P<stat>std|max|min)$")


@dataclass
class _Spread:
    """One spread statistic of the batch over the run: which samples' values it describes, the steps it
    was logged at and whether the samples were all alike there."""

    what: str  # "reward" or "advantage"
    name: str  # as the report names it: the series, or `max`/`min` pair
    steps: np.ndarray
    alike: np.ndarray  # bool per step


def _kind(word: str) -> str:
    return "advantage" if word.startswith("advantage") else "reward"


def _spreads(run: Run) -> list[_Spread]:
    """Every spread statistic of rewards, scores and advantages the run logged in its train split."""
    names = [m for s, m in run.series_names() if s == "train"]
    found: list[_Spread] = []
    if "frac_reward_zero_std" in names:  # TRL: the share of prompts whose completions all got one reward
        frac = finite(run.series("frac_reward_zero_std"))
        found.append(_Spread("reward", "frac_reward_zero_std", frac.index.to_numpy(), frac.to_numpy() >= 1.0))
    pairs: dict[str, dict[str, str]] = {}
    for name in names:
        low = name.lower()
        if low.startswith("frac_"):
            continue
        match = _SPREAD.search(low)
        if not match:
            continue
        stat = match["stat"]
        what = _kind(match["what"])
        if stat == "std":
            std = finite(run.series(name))
            found.append(_Spread(what, name, std.index.to_numpy(), std.to_numpy() == 0))
        else:
            stem = low[: -len(stat)]
            pairs.setdefault(stem, {"what": what})[stat] = name
    for pair in pairs.values():
        if "max" not in pair or "min" not in pair:
            continue
        high, low_ = finite(run.series(pair["max"])), finite(run.series(pair["min"]))
        steps = np.intersect1d(high.index.to_numpy(), low_.index.to_numpy())
        if len(steps):
            alike = high.loc[steps].to_numpy() == low_.loc[steps].to_numpy()
            found.append(_Spread(pair["what"], f"{pair['max']} = {pair['min']}", steps, alike))
    return found


def _mean_reward(run: Run) -> tuple[str, np.ndarray] | None:
    """The logged mean reward (or score) of the batch, if any: its name and its finite values."""
    for name in ("reward", "rewards_mean", "critic_rewards_mean", "critic_score_mean", "reward_mean"):
        values = finite(run.series(name)).to_numpy()
        if len(values):
            return name, values
    return None


@check("no_learning_signal")
def no_learning_signal(run: Run, *, min_records: int = 2) -> Detection | None:
    """Every sample of every logged batch had the same advantage (max = min, or std 0), or, in a
    group-relative run (GRPO/RLOO), the same reward: at least `min_records` records, all of them, and
    no spread statistic of the run that says otherwise."""
    spreads = _spreads(run)
    if not spreads or any(not s.alike.all() for s in spreads):
        return None  # some batch had samples that differ: there was something to learn from
    advantages = [s for s in spreads if s.what == "advantage"]
    group_relative = str(run.meta.get("trainer_kind", "")) in _GROUP_RELATIVE
    if not advantages and not group_relative:
        return None  # equal rewards still leave a critic's advantages (PPO), or a solved task (classic RL)
    shown = advantages or spreads
    steps = np.unique(np.concatenate([s.steps for s in shown]))
    if len(steps) < min_records:
        return None
    onset = int(steps[0])
    mean = _mean_reward(run)
    reward_value = None
    if mean is not None and len(np.unique(mean[1])) == 1:
        reward_value = float(mean[1][0])
    subject = "advantage" if advantages else "reward"
    evidence: dict[str, Any] = {
        "records": len(steps),
        "step_range": [onset, int(steps[-1])],
        "statistics": [s.name for s in shown][:6],
        "subject": subject,
        "reward_constant": reward_value is not None,
        "reward_zero": reward_value == 0.0,
    }
    if mean is not None:
        evidence["reward"] = (
            fmt(reward_value) if reward_value is not None else f"{fmt(mean[1].min())} to {fmt(mean[1].max())}"
        )
        series = finite(run.series(mean[0]))
        evidence["onset"] = cite_point(run, "train", mean[0], int(series.index[0]), float(series.iloc[0]))
    said = f", the reward {evidence['reward']} throughout" if mean is not None and reward_value is not None else ""
    who = (
        "every sample of every batch had the same advantage"
        if advantages
        else ("the completions of every prompt got the same reward")
    )
    message = (
        f"{who} ({', '.join(evidence['statistics'][:3])}) at all {len(steps)} logged steps from step {onset}"
        f"{said}: the policy gradient has no signal to learn from"
    )
    return Detection(onset, message, evidence, confidence=None if len(steps) >= 5 else 0.7)


# The reward a policy is trained to raise: a mean over the batch or episode, not its spread, not a running
# best, not a DPO model's implicit rewards of the chosen and rejected answers (the rejected one falls by design).
_REWARD_WORDS = {"reward", "rewards", "return", "returns"}
_NOT_THE_REWARD = {
    "std", "max", "min", "var", "best", "worst", "margin", "margins", "chosen", "rejected", "kl", "penalty",
    "coeff", "len", "length", "count", "num", "frac", "clip", "ratio", "time", "timing", "s",
    "accuracies",  # DPO's `rewards/accuracies`: the share of pairs ranked right, no reward earned
}  # fmt: skip


def _reward_series(run: Run) -> list[str]:
    """Train series that hold the reward a run optimises: named reward or return (or, in a run that logs
    rewards, a policy's `score`), whose other words name no spread, count or implicit DPO reward."""
    kind = str(run.meta.get("trainer_kind", ""))
    if kind in ("dpo", "kto", "reward"):
        return []
    out, totals = [], []
    for split, name in run.series_names():
        words = name_words(name)
        # a policy's `score`: in a run that logs rewards, or in records counted in episodes (`Episode 100  Average
        # Score: 13.2`, the episode's return)
        scored = "score" in words and (kind in ("rl", "grpo") or (split == "train" and per_episode(run, name)))
        if split == "train" and (words & _REWARD_WORDS or scored) and not words & _NOT_THE_REWARD:
            out.append(name)
            # A total beside its terms (rsl_rl's `Mean total reward` above `Mean episode rew_action_rate`...):
            # the total is the reward; a penalty term grows in magnitude by design as the episodes get longer.
            if name in _TOTAL_REWARDS or "total" in words:
                totals.append(name)
    return totals or out


_TOTAL_REWARDS = {"reward", "rewards", "mean_reward", "reward_mean", "rewards_mean", "episode_reward"}


@check("reward_collapses")
def reward_collapses(
    run: Run, *, floor: float = 0.1, held: float = 0.5, tail: int = 3, tail_share: float = 0.2, noise: float = 5.0
) -> Detection | None:
    """The reward of an RL run falls from a level it had held to the floor of its range and stays there to
    the end of the log: the policy collapsed (a degenerate output, an entropy blow-up) and earns nothing.

    The floor is the lowest `floor` share of the range the reward covered; `held`: it had been in the upper
    half of that range at two logged points at least before; it sits at the floor for its last `tail` points
    and `tail_share` of all of them at least; the fall is `noise` times the reward's median step-to-step change at
    least (a noisy reward that ends on a few low draws is no collapse)."""
    hits: list[tuple[int, str, float, float, int]] = []
    for name in _reward_series(run):
        series = finite(run.series(name))
        values = series.to_numpy()
        n = len(values)
        if n < 2 * tail:
            continue
        low, high = float(values.min()), float(values.max())
        span = high - low
        if span <= 0:
            continue
        at_floor = values <= low + floor * span
        above = np.flatnonzero(~at_floor)
        onset = int(above[-1]) + 1 if len(above) else 0
        if onset == 0 or n - onset < max(tail, math.ceil(tail_share * n)):
            continue
        before = values[:onset]
        if int(np.sum(before >= low + held * span)) < 2:
            continue
        if float(np.mean(at_floor[:onset])) >= 0.5:
            continue  # at its floor most of the time before too (a sparse reward: 0, now and then 0.5): no level held
        moves = np.abs(np.diff(values))
        # its median step-to-step change, and no less than its print resolution (the smallest step it takes): a
        # score printed to two decimals that goes from 0.01 back to 0.00 moved by one printed unit, no collapse
        step_noise = max(float(np.median(moves)), float(moves[moves > 0].min()) if (moves > 0).any() else 0.0)
        level = float(np.median(before[before >= low + held * span]))
        if level - float(np.median(values[onset:])) < noise * step_noise:
            continue
        hits.append((int(series.index[onset]), name, level, float(values[-1]), n))
    if not hits:
        return None
    step, name, level, last, points = min(hits)
    series = finite(run.series(name))
    return Detection(
        step,
        f"{name} fell from the {fmt(level)} it had held to {fmt(float(series.loc[step]))} at step {step} and stays at "
        f"the bottom of its range to the end ({fmt(last)} at the last of {points} points): the policy collapsed",
        {
            "pattern": "reward_collapse",
            "series": f"train/{name}",
            "held": fmt(level),
            "onset": cite_point(run, "train", name, step, float(series.loc[step])),
            "last": cite_point(run, "train", name, int(series.index[-1]), last),
            "points": points,
            "others": sorted({m for _, m, _, _, _ in hits} - {name}),
        },
    )


_VALUE_WORDS = {"value", "critic", "vf", "q", "td", "qf"}


def _value_losses(run: Run) -> list[str]:
    """Train series that hold an RL run's value loss (`value_loss`, `loss_critic`, `vf_loss`, `q_loss`,
    rsl_rl's `Value function loss`); in a run that names none, its train loss (a DQN loop prints its TD loss as
    `loss`)."""
    named = []
    for split, name in run.series_names():
        words = name_words(name)
        if split == "train" and "loss" in words and words & _VALUE_WORDS and not words & _NOT_THE_REWARD:
            named.append(name)
    return named or (["loss"] if run.has("loss") else [])


@check("value_loss_diverges")
def value_loss_diverges(run: Run, *, growth: float = 100.0, min_points: int = 8) -> Detection | None:
    """An RL run's value loss (a critic's, a Q-function's TD error) ends `growth` times or more above the low
    it reached in the first half of the log, by more than the reward's own growth can explain: a value loss
    scales with the square of the returns it regresses on, so returns that grew k times allow k² more. The
    value estimates ran away (the deadly triad of bootstrapping, off-policy data and function approximation;
    a target network synced too often; a learning rate too high), whatever the policy's reward does."""
    # The reward the policy earns in training, else on its evaluation episodes (an offline RL loop that only
    # evaluates: CQL's `evaluation/return_mean`)
    rewards = [("train", name) for name in _reward_series(run)] or [("eval", name) for name in _eval_rewards(run)]
    if not rewards:
        return None
    reward = finite(run.series(rewards[0][1], split=rewards[0][0]))
    if len(reward) < min_points:
        return None
    quarter = max(1, len(reward) // 4)
    r_first = float(np.median(np.abs(reward.to_numpy()[:quarter])))
    r_last = float(np.median(np.abs(reward.to_numpy()[-quarter:])))
    # (a reward at 0 from first to last grew by nothing: it explains no growth; one that left 0 explains any)
    explained = max(1.0, r_last / r_first) ** 2 if r_first > 0 else 1.0 if r_last == 0 else math.inf
    for name in _value_losses(run):
        series = finite(run.series(name))
        values = series.to_numpy()
        n = len(values)
        if n < min_points or bool((values < 0).any()):
            continue
        low_at = int(np.argmin(values[: n // 2]))
        low = float(values[low_at])
        tail = float(np.median(values[-max(1, n // 4) :]))
        if low <= 0 or tail < growth * explained * low:
            continue
        above = np.flatnonzero(values[low_at:] >= math.sqrt(growth) * low)
        onset = int(series.index[low_at + int(above[0])]) if len(above) else int(series.index[low_at])
        return Detection(
            onset,
            f"{name} rose from {fmt(low)} to {fmt(tail)} (median of the last quarter), {tail / low:.3g}× its low, "
            f"while |{rewards[0][1]}| went from {fmt(r_first)} to {fmt(r_last)}: the value estimates ran away",
            {
                "pattern": "value_divergence",
                "series": f"train/{name}",
                "low": cite_point(run, "train", name, int(series.index[low_at]), low),
                "onset": cite_point(run, "train", name, onset, float(series.loc[onset])),
                "growth": round(tail / low, 1),
                "reward_series": f"{rewards[0][0]}/{rewards[0][1]}",
                "reward_growth": round(r_last / r_first, 3) if r_first > 0 else None,
            },
        )
    return None


def _eval_rewards(run: Run) -> list[str]:
    """Eval series that hold a policy's reward on its test episodes (`test_reward`, `eval/mean_reward`)."""
    out = []
    for split, name in run.series_names():
        words = name_words(name)
        if split == "eval" and words & _REWARD_WORDS and not words & _NOT_THE_REWARD:
            out.append(name)
    return out


@check("reward_never_improves")
def reward_never_improves(
    run: Run, *, min_points: int = 32, start_share: float = 0.05, min_steps: int = 100
) -> Detection | None:
    """An RL run seen from its start (its first point within `start_share` of its last step) over `min_points`
    points and `min_steps` steps or more (every policy starts at its first reward: 40 GRPO updates of a tiny
    model may not move it, and need not), whose reward ends no higher than it began: the mean of the last quarter
    of the points is not above the first quarter's by twice the standard error of their difference (a reward
    of a few whole points per episode moves its quarters' medians by the draw alone). The eval reward (test episodes)
    is judged when logged, else the train reward; a reward that never varies is a placeholder or another
    check's, a learning rate still warming up at the end made tiny updates by design, and the points after a
    non-finite train loss are left out (a model broken by a NaN stops earning for that reason)."""
    if str(run.meta.get("trainer_kind", "")) in ("dpo", "kto", "reward"):
        return None
    evals = _eval_rewards(run)
    names, split = (evals, "eval") if evals else (_reward_series(run), "train")
    loss = run.series("loss")
    lr = finite(run.series("learning_rate"))
    broken = loss[~np.isfinite(loss.to_numpy())]
    until = int(broken.index[0]) if len(broken) else None
    for name in names:
        series = finite(run.series(name, split=split))
        if until is not None:
            series = series[series.index < until]
        values, steps = series.to_numpy(), series.index.to_numpy()
        if len(values) < min_points or np.ptp(values) == 0 or steps[-1] < min_steps:
            continue
        if steps[0] > start_share * steps[-1] or warming_up(lr, int(steps[0])):
            continue  # seen from mid-run; or a learning rate still warming up: nothing had a chance to learn
        quarter = len(values) // 4
        first, last = values[:quarter], values[-quarter:]
        spread = math.sqrt((first.var(ddof=1) + last.var(ddof=1)) / quarter) if quarter > 1 else 0.0
        if last.mean() > first.mean() + 2 * spread:
            continue
        return Detection(
            int(steps[0]),
            f"{split} {name} ends no higher than it began over {len(values)} points from step {int(steps[0])}: "
            f"its last quarter averages {fmt(float(last.mean()))} against {fmt(float(first.mean()))} for the first "
            "(medians too): the policy is not learning",
            {
                "pattern": "reward_flat",
                "series": f"{split}/{name}",
                "first_quarter_mean": fmt(float(first.mean())),
                "last_quarter_mean": fmt(float(last.mean())),
                "first": cite_point(run, split, name, int(steps[0]), float(values[0])),
                "last": cite_point(run, split, name, int(steps[-1]), float(values[-1])),
                "points": len(values),
            },
        )
    return None


# A PPO-style update's own measures of how far it moved the policy: the share of samples whose probability ratio
# left the clip range (SB3's `clip_fraction`, CleanRL's `clipfrac`, verl's `pg_clipfrac`) and the KL estimate
# between the old and the new policy (`approx_kl`, baselines' `approxkl`, verl's `ppo_kl`).
_CLIP_FRACTION = re.compile(r"(?:^|_)clip_?frac(?:tion)?$")
_POLICY_KL = re.compile(r"(?:^|_)(?:approx|ppo)_?kl$")


@check("policy_frozen")
def policy_frozen(
    run: Run, *, min_updates: int = 8, frozen_share: float = 0.75, max_kl: float = 1e-4
) -> Detection | None:
    """The policy updates no longer move the policy: the clip fraction is exactly 0 at `frozen_share` of `min_updates`
    logged updates or more, and the KL between the old and the new policy has a median under `max_kl` (a healthy
    PPO update moves it by about 1e-2 and clips a few percent of the samples). A collapsed policy (its entropy at
    0, as after a learning rate far too high) or a gradient that vanished: the agent no longer learns, whatever its
    losses print."""
    names = [name for split, name in run.series_names() if split == "train"]
    clip = next((n for n in names if _CLIP_FRACTION.search(n)), None)
    kl = next((n for n in names if _POLICY_KL.search(n)), None)
    if clip is None or kl is None:
        return None
    fractions = finite(run.series(clip))
    kls = finite(run.series(kl)).to_numpy()
    values = fractions.to_numpy()
    if len(values) < min_updates or len(kls) < min_updates:
        return None
    zero = values == 0
    median_kl = float(np.median(np.abs(kls)))
    if float(zero.mean()) < frozen_share or median_kl >= max_kl:
        return None
    onset = int(fractions.index[int(np.argmax(zero))])
    return Detection(
        onset,
        f"{clip} is exactly 0 at {int(zero.sum())} of {len(values)} updates from step {onset} and {kl} has a median of "
        f"{fmt(median_kl)}: the updates no longer move the policy (its entropy collapsed or its gradient vanished)",
        {
            "clip_fraction": f"train/{clip}",
            "kl": f"train/{kl}",
            "zero_updates": int(zero.sum()),
            "updates": len(values),
            "median_kl": fmt(median_kl),
            "onset": cite_point(run, "train", clip, onset, 0.0),
        },
    )
