"""signals/: planted events found within 0.5% of the length at 1e3, 1e5 and 1e7 points; clean curves
silent over many seeds; degenerate inputs behave."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analyzer.signals import analyze_series, find_spikes, nonfinite_scan, prepare, segment, trend
from analyzer.signals.events import change_events
from analyzer.signals.synthetic import KINDS, Planted, make_series, score
from analyzer.signals.trend import eval_train_gap, growth


def detections(steps: np.ndarray, values: np.ndarray) -> list[tuple[str, int]]:
    """What the analyzer reports, as (kind, index): recovered spikes and every change event."""
    sig = analyze_series((steps, values))
    return [("spike", s.index) for s in sig.spikes if s.recovered] + [(e.kind, e.index) for e in sig.events]


@pytest.mark.parametrize(("n", "seeds"), [(1_000, 60), (100_000, 8)])
@pytest.mark.parametrize("kind", KINDS)
def test_planted_events_found_and_nothing_else(kind: str, n: int, seeds: int) -> None:
    margin = int(0.005 * n)
    for seed in range(seeds):
        steps, values, planted = make_series(kind, n, seed)
        result = score(detections(steps, values), planted, margin)
        assert result.recall == 1.0 and result.precision == 1.0, (kind, n, seed, planted, detections(steps, values))


@pytest.mark.parametrize("kind", KINDS)
def test_ten_million_points(kind: str) -> None:
    n = 10_000_000
    steps, values, planted = make_series(kind, n, seed=7)
    found = detections(steps, values)
    result = score(found, planted, int(0.005 * n))
    assert result.recall == 1.0 and result.precision == 1.0, (planted, found)


def test_level_shift_located_exactly_at_full_resolution() -> None:
    steps, values, planted = make_series("level_shift", 1_000_000, seed=3)
    events = analyze_series((steps, values)).events
    assert [e.kind for e in events] == [planted[0].kind]
    assert abs(events[0].index - planted[0].index) <= 2  # binned, then refined on the raw points


def test_spike_recovery_is_measured() -> None:
    rng = np.random.default_rng(0)
    values = 2.0 + rng.normal(0, 0.01, 2_000)
    values[1000] += 1.0
    values[1001:1004] += 0.5  # comes down over three more steps
    spikes = find_spikes((np.arange(2_000) * 10, values))
    assert len(spikes) == 1
    spike = spikes[0]
    assert (spike.step, spike.peak_step, spike.recovered) == (10_000, 10_000, True)
    assert spike.recovery_steps == 40 and spike.peak == pytest.approx(values[1000])
    assert spike.z > 50


def test_spike_after_a_decay_that_slowed_is_judged_against_a_positive_baseline() -> None:
    # A loss that fell from 546 to about 4 in its first 40 points, then a 5x jump that comes back: the
    # window's early fall must not be carried forward at its early pace (below zero, where every ratio is
    # meaningless); the last stretch's own slow fall is the trend.
    k = np.arange(100, dtype="float64")
    values = 4.0 + 540.0 * np.exp(-k / 8.0)
    values[71:75] = [19.2, 19.2, 17.0, 15.9]
    spikes = [s for s in find_spikes((k * 10, values)) if s.recovered]
    assert [s.step for s in spikes] == [710]
    assert 0.0 < spikes[0].baseline < 6.0 and spikes[0].ratio > 3


def test_jump_that_stays_is_not_a_recovered_spike() -> None:
    rng = np.random.default_rng(1)
    values = 2.0 + rng.normal(0, 0.01, 3_000)
    values[2000:] += 1.0
    sig = analyze_series((np.arange(3_000), values))
    assert [s.recovered for s in sig.spikes] == [False]
    assert [(e.kind, e.step) for e in sig.events] == [("level_shift_up", 2000)]
    assert sig.events[0].magnitude == pytest.approx(1.0, abs=0.01)
    assert sig.events[0].confidence > 0.9


def test_flat_series_is_a_plateau_from_the_start_and_flat_trend() -> None:
    rng = np.random.default_rng(2)
    values = math.log(32_000) + rng.normal(0, 0.02, 500)  # stuck at ln(vocab)
    sig = analyze_series((np.arange(500), values))
    assert [(e.kind, e.step) for e in sig.events] == [("plateau_start", 0)]
    assert sig.events[0].magnitude == pytest.approx(math.log(32_000), abs=0.01)
    assert sig.trend.direction == "flat"


def test_learning_then_plateau() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(2_000)
    values = np.where(t < 800, 5.0 - 3.0 * t / 800, 2.0) + rng.normal(0, 0.02, 2_000)
    events = analyze_series((t, values)).events
    plateau = [e for e in events if e.kind == "plateau_start"]
    assert len(plateau) == 1 and abs(plateau[0].step - 800) <= 10


def test_trend_directions() -> None:
    t = np.arange(400)
    rng = np.random.default_rng(4)
    noise = rng.normal(0, 0.05, 400)
    assert trend((t, 3.0 - t / 200 + noise)).direction == "decreasing"
    assert trend((t, 1.0 + t / 200 + noise)).direction == "rising"
    assert trend((t, 1.0 + noise)).direction == "flat"
    assert trend((t, np.full(400, 0.0))).direction == "flat"
    assert trend((t[:3], t[:3] * 1.0)).direction == "unknown"
    window = trend((t, 3.0 - t / 200 + noise), start_step=300, end_step=310)
    assert window.points == 11


def test_eval_rising_while_train_falls() -> None:
    train_steps = np.arange(0, 1000, 10)
    train = 3.0 - 2.0 * train_steps / 1000
    eval_steps = np.arange(100, 1001, 100)
    evals = np.array([2.5, 2.2, 2.0, 1.9, 1.95, 2.05, 2.2, 2.4, 2.6, 2.8])
    gap = eval_train_gap((train_steps, train), (eval_steps, evals))
    assert gap is not None
    assert (gap.best_step, gap.rising_points) == (400, 6)
    assert gap.rise == pytest.approx(0.9)
    assert gap.train_after.direction == "decreasing"
    assert eval_train_gap((train_steps, train), (eval_steps[:2], evals[:2])) is None


def test_memory_growth() -> None:
    steps = np.arange(1000)
    rng = np.random.default_rng(5)
    leak = 10.0 + 0.01 * steps + rng.normal(0, 0.05, 1000)
    g = growth((steps, leak))
    assert g is not None
    assert g.slope == pytest.approx(0.01, rel=0.02) and g.up_fraction > 0.5
    steady = growth((steps, 10.0 + rng.normal(0, 0.05, 1000)))
    assert steady is not None and abs(steady.rise) < 0.05


# Degenerate inputs ---------------------------------------------------------------------------------


def test_empty_and_single_point() -> None:
    for size in (0, 1):
        series = pd.Series(np.ones(size), index=pd.Index(np.arange(size), dtype="int64"))
        sig = analyze_series(series)
        assert sig.spikes == [] and sig.events == []
        assert len(sig.segmentation.segments) == size
        assert sig.trend.direction == "unknown"
        assert nonfinite_scan(series).count == 0


def test_constant_series() -> None:
    sig = analyze_series((np.arange(1000), np.full(1000, 0.0)))
    assert sig.spikes == []
    assert len(sig.segmentation.segments) == 1
    assert [e.kind for e in sig.events] == ["plateau_start"]
    assert sig.prepared.noise == 0.0


def test_nan_and_inf_are_set_apart() -> None:
    values = np.linspace(3.0, 1.0, 200)
    values[[50, 120]] = np.nan
    values[150:] = np.inf
    sig = analyze_series((np.arange(200), values))
    assert list(sig.prepared.nonfinite_steps[:2]) == [50, 120]
    assert len(sig.prepared.nonfinite_steps) == 52
    assert np.isfinite(sig.prepared.values).all() and len(sig.prepared) == 148
    assert sig.spikes == []
    all_nan = analyze_series((np.arange(10), np.full(10, np.nan)))
    assert len(all_nan.prepared) == 0 and all_nan.events == []


def test_unsorted_and_duplicate_steps() -> None:
    steps = np.array([5, 1, 3, 3, 2, 4, 1])
    values = np.array([5.0, 1.0, 3.0, 30.0, 2.0, 4.0, 10.0])
    prep = prepare((steps, values))
    assert list(prep.steps) == [1, 2, 3, 4, 5]
    assert list(prep.values) == [10.0, 2.0, 30.0, 4.0, 5.0]  # the later observation of a step wins
    with pytest.raises(ValueError, match="differ in length"):
        prepare((steps, values[:3]))


def test_quantised_series_has_noise() -> None:
    # Printed with 2 decimals: most differences are 0, the noise must not be.
    rng = np.random.default_rng(6)
    values = np.round(2.0 + rng.normal(0, 0.002, 5000), 2)
    assert prepare((np.arange(5000), values)).noise > 0
    assert find_spikes((np.arange(5000), values)) == []


def test_segment_respects_min_size_and_reports_penalty() -> None:
    rng = np.random.default_rng(8)
    values = np.concatenate([np.full(300, 1.0), np.full(300, 2.0)]) + rng.normal(0, 0.05, 600)
    seg = segment((np.arange(600), values), min_size=20)
    assert seg.change_steps == [300]
    assert all(s.length >= 20 for s in seg.segments)
    assert seg.penalty > 0
    assert change_events(seg)[0].kind == "level_shift_up"


def test_score_matches_kind_and_margin() -> None:
    planted = [Planted("spike", 100), Planted("level_shift_up", 500)]
    result = score([("spike", 103), ("level_shift_up", 520), ("spike", 900)], planted, margin=5)
    assert (result.matched, result.recall, result.precision) == (1, 0.5, pytest.approx(1 / 3))
    assert score([], [], margin=1).recall == 1.0
    with pytest.raises(ValueError, match="unknown kind"):
        make_series("wobble", 10, 0)
