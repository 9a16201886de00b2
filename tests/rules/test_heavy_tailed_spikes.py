"""A loss averaged over a few samples of a skewed distribution (a segmenter's batch of two images) is heavy-tailed:
excursions of three times its level come every few hundred records and go. They are judged against the series' own
tail, read from its points outside every excursion, not against a Gaussian one: said as information when that tail
puts a point as high among the noise (new log 4601, PaddleSeg on Cityscapes: three 3x excursions in 2,911 records,
healthy; the rule's silent examples). A spike far above that tail is still a spike; a light-tailed loss keeps its
spikes."""

from __future__ import annotations

import numpy as np

from analyzer.rules.checks import CHECKS
from analyzer.signals.spikes import noise_tail, tail_expected
from analyzer.signals.toolkit import run_signals
from tests.rules.test_checks import make_run


def _bumpy(spike_at: int | None = None, height: float = 1.0, seed: int = 0) -> dict[int, float]:
    """3,000 records of a flat loss with small Gaussian noise, 50 hard batches at about z 5 and 20 harder ones at
    about z 7 scattered through it: a tail the points outside the excursions show."""
    rng = np.random.default_rng(seed)
    values = np.exp(0.03 * rng.standard_normal(3000))
    bumps = rng.choice(np.arange(100, 2990), 70, replace=False)
    values[bumps[:50]] *= 1.17
    values[bumps[50:]] *= 1.25
    if spike_at is not None:
        values[spike_at] *= height
    return {10 * (i + 1): float(v) for i, v in enumerate(values)}


def test_the_tail_of_the_noise_predicts_its_own_excursions_and_not_a_far_higher_one() -> None:
    run = make_run({"train/loss": _bumpy(1500, 3.0)})
    signals = run_signals(run, "loss")
    by_step = {s.step: s for s in signals.spikes}
    far = by_step[15010]
    tail = noise_tail(signals.prepared, signals.spikes)
    assert tail_expected(tail, far.z) < 0.1
    noise = [s for s in signals.spikes if s.step != 15010]
    assert noise and all(tail_expected(tail, s.z) >= 1 for s in noise)


def test_a_spike_far_above_the_tail_is_still_a_spike() -> None:
    found = CHECKS["loss_spike"](make_run({"train/loss": _bumpy(1500, 3.0)}))
    assert found is not None and found.severity != "info" and found.onset_step == 15010
    assert found.evidence["count"] == 1  # the excursions the tail accounts for are left out


def test_a_light_tailed_loss_keeps_a_modest_spike() -> None:
    values = np.exp(0.02 * np.random.default_rng(4).standard_normal(3000))
    values[1500:1503] *= 3.0
    found = CHECKS["loss_spike"](make_run({"train/loss": {10 * (i + 1): float(v) for i, v in enumerate(values)}}))
    assert found is not None and found.severity != "info" and found.onset_step == 15010


def test_paddleseg_s_noisy_averages_are_said_as_information() -> None:
    """The real log (new log 4601, 2,911 records of a loss averaged over ten iterations of two images each)."""
    from pathlib import Path

    from analyzer import analyze

    log = next((Path(__file__).parents[2] / "benchmarks" / "new_real_logs").glob("4601_*"))
    spikes = [f for f in analyze(log).findings if f.rule_id == "loss-spike"]
    assert [f.severity for f in spikes] == ["info"] and spikes[0].evidence["pattern"] == "heavy_tailed"
