"""A short log's divergence must stay up: a noisy per-batch loss that starts on a few lucky low batches
and keeps coming back to them is not a loss that 'did not come back' (MONAI's tutorial, new log 153)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

NOISY = [0.1162, 0.1221, 0.1084, 0.2122, 0.3382, 0.3024, 0.1587, 0.2303, 0.2210, 0.1176, 0.3121, 0.2280]
CLIMB = [0.1162, 0.1221, 0.1084, 0.2122, 0.3382, 0.3024, 0.2587, 0.2303, 0.3210, 0.4176, 0.5121, 0.6280]


def modes(tmp_path: Path, name: str, values: list[float]) -> set[str]:
    log = tmp_path / f"{name}.log"
    log.write_text("".join(f"{i}/16, train_loss: {v:.4f} step time: 0.9368\n" for i, v in enumerate(values, 1)))
    return {f.failure_mode for f in analyze(log).findings}


def test_a_noisy_loss_that_returns_to_its_level_is_no_divergence(tmp_path: Path) -> None:
    assert "divergence" not in modes(tmp_path, "noisy", NOISY)


def test_a_loss_that_climbs_and_stays_up_is(tmp_path: Path) -> None:
    assert "divergence" in modes(tmp_path, "climb", CLIMB)


def test_a_clock_since_the_start_counted_from_step_0_is_no_slowdown(tmp_path: Path) -> None:
    # DCGAN-tensorflow prints seconds since the start as `time:`; its batches count from 0.
    line = "Epoch: [ 0] [{i:4d}/3165] time: {t:.4f}, d_loss: {d:.8f}, g_loss: {g:.8f}\n"
    times = [2.6742, 4.7950, 6.1750, 7.5570, 8.9367, 10.3201, 11.7144, 13.1084, 14.4916, 15.8697]
    log = tmp_path / "dcgan.log"
    log.write_text("".join(line.format(i=i, t=t, d=7 - i / 4, g=0.001 + i / 200) for i, t in enumerate(times)))
    assert "throughput_drop" not in {f.failure_mode for f in analyze(log).findings}


def test_a_climb_from_a_low_at_or_below_zero_is_no_ratio_divergence(tmp_path: Path) -> None:
    # recurrent-visual-attention's epoch-end bar shows one batch's REINFORCE-weighted loss (new log 419):
    # -0.071 then 1.19 is no multiple of anything.
    log = tmp_path / "train.log"
    values = (0.512, 0.301, 0.288, -0.071, 1.192, 0.954, 1.137)
    log.write_text("".join(f"Epoch {e}: loss: {v} - acc: 93.75\n" for e, v in enumerate(values, start=1)))
    assert "divergence" not in {f.failure_mode for f in analyze(log).findings}
