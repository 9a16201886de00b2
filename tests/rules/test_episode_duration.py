"""A time per episode in a log counted in episodes grows with the episodes' length (the agent lasts longer): no
slowdown of training. The same time in a log counted in steps is one."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze

# A custom RL loop's tab-separated line per episode, as a TD3 script prints it; episodes last longer from 8 on.
DURATIONS = [0.05] * 7 + [0.45] * 40


def _log(counter: str) -> str:
    return "".join(
        f"\t{counter} {i}\tAverage Score: {0.01 * i:.2f} \t current mean: 0.00\t Min:-0.01\tMax:0.00"
        f"\tDuration:{d:.2f}\n"
        for i, d in enumerate(DURATIONS, start=1)
    )


def _modes(tmp_path: Path, counter: str) -> set[str]:
    log = tmp_path / "train.log"
    log.write_text(_log(counter))
    return {f.failure_mode for f in analyze(log).findings}


def test_episode_time_is_no_throughput(tmp_path: Path) -> None:
    assert "throughput_drop" not in _modes(tmp_path, "Episode")


def test_step_time_is_one(tmp_path: Path) -> None:
    assert "throughput_drop" in _modes(tmp_path, "Step")
