"""rl-policy-frozen: PPO updates that clip no sample and move the KL by nothing no longer change the policy
(stable-baselines3's tables, as its logger prints them: new logs 3993 and 3995); a healthy PPO clips a few percent
and moves the KL by about 1e-2."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze

RULE = "rl-policy-frozen"


def _table(iteration: int, kl: str, clip: str) -> str:
    rows = [
        ("time/", ""),
        ("   fps", "394"),
        ("   iterations", str(iteration)),
        ("   time_elapsed", str(3 * iteration)),
        ("   total_timesteps", str(512 * iteration)),
        ("train/", ""),
        ("   approx_kl", kl),
        ("   clip_fraction", clip),
        ("   clip_range", "0.2"),
        ("   entropy_loss", "-14.2"),
        ("   learning_rate", "0.0003"),
        ("   loss", f"{1.1e9 + iteration * 1e7:.3g}"),
        ("   n_updates", str(10 * (iteration - 1))),
        ("   value_loss", "2.55e+09"),
    ]
    rule = "-" * 42
    return "\n".join([rule, *(f"| {k:<23} | {v:<12} |" for k, v in rows), rule]) + "\n"


def _fired(tmp_path: Path, kls: list[str], clips: list[str]) -> bool:
    log = tmp_path / "train.log"
    log.write_text("".join(_table(i + 2, kl, c) for i, (kl, c) in enumerate(zip(kls, clips, strict=True))))
    return RULE in {f.rule_id for f in analyze(log).findings}


def test_updates_that_clip_nothing_and_move_no_kl_froze_the_policy(tmp_path: Path) -> None:
    assert _fired(tmp_path, [f"{2.5e-5 + 1e-6 * i:.6e}" for i in range(12)], ["0"] * 12)


def test_a_healthy_ppo_clips_a_few_percent(tmp_path: Path) -> None:
    kls = [f"{0.012 + 0.001 * (i % 3):.6f}" for i in range(12)]
    assert not _fired(tmp_path, kls, [f"0.{10 + i:02d}" for i in range(12)])


def test_a_few_quiet_updates_are_not_a_frozen_policy(tmp_path: Path) -> None:
    assert not _fired(tmp_path, [f"{2.5e-5:.6e}"] * 6, ["0"] * 6)
