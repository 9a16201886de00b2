"""Synthetic training curves with planted events, and scoring of detections against them.

Used by the tests and benchmarks/changepoints.py: each generator returns the steps, the values
and the ground truth as `Planted(kind, index)` (index into the points, which are steps 0..n-1).
The base curve is a noisy loss that falls through the whole run (an exponential decay plus a
linear decline, so every quarter falls by more than the noise): by construction it holds no event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("clean", "spike", "level_shift", "divergence")


@dataclass(frozen=True)
class Planted:
    kind: str  # spike | level_shift_up | level_shift_down | divergence_onset
    index: int


def base_curve(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """A falling loss: (noise-free curve, Gaussian noise, noise deviation)."""
    noise = float(rng.uniform(0.01, 0.1))
    t = np.linspace(0.0, 1.0, n)
    start = rng.uniform(1.5, 4.0)
    decay = rng.uniform(0.5, 2.0)
    drop = rng.uniform(30, 80) * noise  # the exponential part
    decline = rng.uniform(10, 20) * noise  # keeps the last quarter falling by several noise deviations
    return start + drop * np.exp(-decay * t) - decline * t, rng.normal(0.0, noise, n), noise


def make_series(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[Planted]]:
    """(steps, values, planted events) for one of KINDS."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)
    curve, jitter, noise = base_curve(n, rng)
    values = curve + jitter
    steps = np.arange(n, dtype="int64")
    planted: list[Planted] = []
    lo, hi = int(0.15 * n), int(0.85 * n)
    if kind == "spike":
        count = int(rng.integers(1, 4))
        for at in np.sort(rng.choice(np.arange(lo, hi, max(1, n // 50)), size=count, replace=False)):
            width = int(rng.integers(1, 4))
            values[at : at + width] += rng.uniform(15, 40) * noise
            planted.append(Planted("spike", int(at)))
    elif kind == "level_shift":
        at = int(rng.integers(lo, hi))
        size = rng.uniform(6, 20) * noise * rng.choice([-1.0, 1.0])
        values[at:] += size
        planted.append(Planted("level_shift_up" if size > 0 else "level_shift_down", at))
    elif kind == "divergence":
        at = int(rng.integers(lo, hi))
        # The loss turns and climbs: 3-10 noise deviations per 1% of the run, an abrupt divergence.
        rate = rng.uniform(3, 10) * noise / (0.01 * n)
        ramp = rate * np.maximum(np.arange(n) - at, 0)
        values += ramp
        # Ground truth: where the noise-free curve stops falling (the base may still fall for a while).
        planted.append(Planted("divergence_onset", int(np.argmin(curve + ramp))))
    return steps, values, planted


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    matched: int
    detected: int
    planted: int


def score(detected: list[tuple[str, int]], planted: list[Planted], margin: int) -> Score:
    """Precision and recall of (kind, index) detections: a match has the same kind within ±margin points.

    Each planted event matches at most one detection and the other way round (greedy by distance).
    """
    used: set[int] = set()
    matched = 0
    for p in planted:
        best, best_d = -1, margin + 1
        for i, (kind, index) in enumerate(detected):
            d = abs(index - p.index)
            if i not in used and kind == p.kind and d < best_d:
                best, best_d = i, d
        if best >= 0:
            used.add(best)
            matched += 1
    precision = matched / len(detected) if detected else 1.0
    recall = matched / len(planted) if planted else 1.0
    return Score(precision, recall, matched, len(detected), len(planted))
