"""Spikes at full resolution in O(n): robust z-scores against a lagged robust baseline.

Every point is compared with what came before it, never with itself or what follows:

- the points are cut into blocks of `block` consecutive points; each block keeps its median and
  the median absolute first difference inside it (a local, trend-free noise scale);
- a point's baseline is the median of the medians of the `lag` blocks before its own block, and
  its scale the median of their noise scales (floored at a quarter of the whole series' noise, so a
  quiet stretch does not turn a ripple into a spike);
- z = (value − baseline) / scale. A run of points above `z_min` is one spike; its peak is the
  highest point. Warm-up: the first block has no history and is never scored.

A spike has recovered when the series comes back under baseline + `calm` × scale (baseline and
scale frozen where the spike began) within `horizon` points; how many steps that took is kept. A
spike that never comes back is not a spike but the start of a level shift or a divergence: it is
returned with `recovered=False` for the rules to combine with the change events.
All of it is numpy over blocks plus a loop over the (few) spikes: O(n) time, O(n / block) memory
beyond the z-scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from analyzer.signals.series import Prepared, prepare, robust_noise

_SETTLE = 3
_TRIES = 50  # candidate recovery points checked against the block median before giving up
_MEAN_ABS = np.sqrt(np.pi) / 2.0  # mean |x[i+1] - x[i]| -> σ for Gaussian noise


@dataclass(frozen=True)
class Spike:
    """One upward (or downward) excursion."""

    step: int  # first point above the threshold
    peak_step: int
    index: int  # position of the first point among the finite points
    stop: int  # position where the series was back in the calm band (or the horizon's end)
    peak: float
    baseline: float
    z: float  # robust z-score of the peak
    recovered: bool
    recovery_steps: int | None  # steps from the first point until back within the calm band
    points: int  # points above the threshold

    @property
    def ratio(self) -> float:
        """Peak over baseline (meaningful for positive series such as losses)."""
        return self.peak / self.baseline if self.baseline else float("inf")

    def to_dict(self) -> dict[str, float | int | bool | None]:
        return {
            "step": self.step,
            "peak_step": self.peak_step,
            "peak": self.peak,
            "baseline": self.baseline,
            "z": round(self.z, 2),
            "recovered": self.recovered,
            "recovery_steps": self.recovery_steps,
            "points": self.points,
        }


def block_baseline(
    values: np.ndarray, block: int = 32, lag: int = 9, noise: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-block lagged (baseline, scale); NaN baseline for the first block (no history yet).

    A block is summarised by its mean and its mean absolute first difference (scaled to a Gaussian
    σ); a spike moves one block's summary, and the median over `lag` blocks ignores that block.
    """
    n = len(values)
    nb = -(-n // block)
    full = n // block
    means = values[: full * block].reshape(full, block).mean(axis=1)
    diffs = np.diff(values)
    np.abs(diffs, out=diffs)
    diffs = np.append(diffs, diffs[-1:]) if len(diffs) else np.zeros(n)
    scales = diffs[: full * block].reshape(full, block).mean(axis=1) * _MEAN_ABS
    if full < nb:  # a short last block
        means = np.append(means, values[full * block :].mean())
        scales = np.append(scales, diffs[full * block :].mean() * _MEAN_ABS)
    pad = np.full(lag - 1, np.nan)
    windows = sliding_window_view(np.concatenate((pad, means[:-1])), lag)  # row k: blocks k-lag .. k-1
    # The level of the last third of the window, carried forward along the window's own trend: a
    # falling loss is not a spike when it stops falling. The trend is the smallest of the two steps
    # between the thirds' medians and the last third's own step, when all go the same way, else none: a
    # level shift inside the window moves one step only and must not be extrapolated as a slope, and a
    # decay that slows must not be carried forward at its earlier pace (below zero, for a loss).
    third = lag // 3
    early, mid, late = (_row_medians(windows[:, k * third : (k + 1) * third], lag) for k in range(3))
    first, second = np.nan_to_num(mid - early), np.nan_to_num(late - mid)
    slope = np.where(first * second > 0, np.sign(second) * np.minimum(np.abs(first), np.abs(second)), 0.0) / third
    if third > 1:  # nor steeper than the last third's own step per block: a decay slows (546 -> 5 over 8 blocks)
        inner = np.nan_to_num(windows[:, -1] - windows[:, -third]) / (third - 1)
        slope = np.where(slope * inner > 0, np.sign(slope) * np.minimum(np.abs(slope), np.abs(inner)), 0.0)
    level = late + slope * (third + 1) / 2  # from the last third's centre to the current block's centre
    base_b = np.concatenate(([np.nan], level))
    scale_b = np.concatenate(
        ([np.nan], _row_medians(sliding_window_view(np.concatenate((pad, scales[:-1])), lag), lag))
    )
    # Floors: a quarter of the series' noise, and the print resolution (the smallest non-zero step) so
    # that a value printed with few digits moving by one unit is never a spike.
    moved = diffs[diffs > 0]
    quantum = float(moved.min()) if len(moved) else 0.0
    floor = max(0.25 * (noise if noise is not None else robust_noise(values)), quantum)
    return base_b, np.maximum(scale_b, max(floor, 1e-12))


def _row_medians(rows: np.ndarray, lag: int) -> np.ndarray:
    """Median of each row; only the first `lag` rows can hold the NaN padding (nanmedian is slow: it
    goes through masked arrays). Those rows are sorted (NaN last) and read at their own middle."""
    out = np.empty(len(rows))
    head = min(lag, len(rows))
    if head:
        ordered = np.sort(rows[:head], axis=1)
        count = (~np.isnan(ordered)).sum(axis=1)
        at = np.arange(head)
        low, high = ordered[at, np.maximum(count - 1, 0) // 2], ordered[at, count // 2 - (count == 0)]
        out[:head] = np.where(count > 0, (low + high) / 2, np.nan)
    out[head:] = np.median(rows[head:], axis=1)
    return out


def _hot(
    values: np.ndarray, base_b: np.ndarray, scale_b: np.ndarray, block: int, z_min: float, sign: float
) -> np.ndarray:
    """Indices whose robust z-score (in the direction `sign`) exceeds z_min, without n-sized floats."""
    n = len(values)
    limit = base_b + sign * z_min * scale_b
    full = n // block
    with np.errstate(invalid="ignore"):
        body = values[: full * block].reshape(full, block)
        mask = (body > limit[:full, None]) if sign > 0 else (body < limit[:full, None])
        hot = np.flatnonzero(mask.ravel())
        if full < len(limit):
            tail = values[full * block :]
            extra = np.flatnonzero(tail > limit[-1] if sign > 0 else tail < limit[-1]) + full * block
            hot = np.concatenate((hot, extra))
    return hot


def default_block(n: int) -> int:
    """The block length for a series of `n` points: a hundredth of it, from 8 to 32 points."""
    return int(np.clip(n // 100, 8, 32))


def find_spikes(
    series: Prepared | object,
    z_min: float = 8.0,
    calm: float = 3.0,
    block: int | None = None,
    lag: int = 9,
    horizon: int | None = None,
    direction: str = "up",
    max_spikes: int = 1000,
) -> list[Spike]:
    """Spikes of a series, in step order (see the module docstring).

    `direction` is "up" (losses, grad norms), "down" or "both"; `horizon` (default: 5% of the points,
    at least 50, at most 1,000) is how long a spike may take to come back and still count as recovered. At most
    `max_spikes` are returned, the highest z-scores first when there are more.
    """
    prep = series if isinstance(series, Prepared) else prepare(series)  # type: ignore[arg-type]
    values, steps = prep.values, prep.steps
    n = len(values)
    block = block if block is not None else default_block(n)
    if n < 2 * block:
        return []
    base_b, scale_b = block_baseline(values, block, lag, prep.noise)
    horizon = horizon if horizon is not None else max(50, min(n // 20, 1000))
    settle = (lag + 1) * block  # points until the lagged baseline stands wholly on a new level
    spikes: list[Spike] = []
    for sign in (1.0,) if direction == "up" else (-1.0,) if direction == "down" else (1.0, -1.0):
        hot = _hot(values, base_b, scale_b, block, z_min, sign)
        spikes.extend(_episodes(sign, values, steps, hot, base_b, scale_b, block, z_min, calm, horizon, settle))
    if len(spikes) > max_spikes:
        spikes = sorted(spikes, key=lambda s: -abs(s.z))[:max_spikes]
    return sorted(spikes, key=lambda s: s.step)


def _episodes(
    sign: float,
    values: np.ndarray,
    steps: np.ndarray,
    hot: np.ndarray,
    base_b: np.ndarray,
    scale_b: np.ndarray,
    block: int,
    z_min: float,
    calm: float,
    horizon: int,
    settle: int,
) -> list[Spike]:
    out: list[Spike] = []
    n = len(values)
    i = 0
    while i < len(hot):
        # After a spike, look again from where it ended; after a new level, once the baseline stands on it.
        start = int(hot[i])
        base, sc = float(base_b[start // block]), float(scale_b[start // block])
        band = base + sign * calm * sc
        # Back within the calm band (frozen at the start), looking `horizon` points ahead at most.
        end = min(n, start + horizon + 1)
        # Back means back for good: `_SETTLE` points in a row inside the band (one dip is noise).
        back = _back(sign, values, start, end, band, block)
        stop = back if back >= 0 else end
        peak_at = start + int(np.argmax(sign * values[start:stop]))
        points = int(np.searchsorted(hot, stop) - i)
        i = int(np.searchsorted(hot, back if back >= 0 else max(end, start + settle)))
        if back >= 0 and sign * (values[peak_at] - np.median(values[back : back + block])) < z_min * sc:
            continue  # it does not stand out from what follows either: noise over a misjudged baseline
        out.append(
            Spike(
                int(steps[start]),
                int(steps[peak_at]),
                start,
                stop,
                float(values[peak_at]),
                base,
                float(sign * (values[peak_at] - base) / sc),
                back >= 0,
                int(steps[back] - steps[start]) if back >= 0 else None,
                points,
            )
        )
    return out


def _back(sign: float, values: np.ndarray, start: int, end: int, band: float, block: int) -> int:
    """First index after `start` from which the series is back inside the band for good: `_SETTLE`
    points in a row inside it (one dip is noise) and the median of the next block inside it too (a
    level shift that noise dips into is not a recovery). -1 when that does not happen before `end`."""
    inside = sign * (values[start + 1 : end] - band) <= 0
    if len(inside) >= _SETTLE:
        inside = np.logical_and.reduce([inside[k : len(inside) - _SETTLE + 1 + k] for k in range(_SETTLE)])
    candidates = np.flatnonzero(inside)[:_TRIES] + start + 1
    for back in candidates.tolist():
        if sign * (float(np.median(values[back : back + block])) - band) <= 0:
            return int(back)
    return -1


def despike(prep: Prepared, spikes: list[Spike]) -> Prepared:
    """The series with each recovered spike replaced by its baseline (for the segmentation)."""
    recovered = [s for s in spikes if s.recovered]
    if not recovered:
        return prep
    values = prep.values.copy()
    for s in recovered:
        # The median of the points around the spike: the lagged baseline trails a falling curve.
        around = np.concatenate((prep.values[max(s.index - 8, 0) : s.index], prep.values[s.stop : s.stop + 8]))
        values[s.index : s.stop] = np.median(around) if len(around) else s.baseline
    return Prepared(prep.steps, values, prep.nonfinite_steps, prep.noise)


_TAIL_MIN = 5  # points of the noise at a robust z of 6 or more before its tail's slope is estimated


def noise_tail(prep: Prepared, spikes: list[Spike], lag: int = 9) -> tuple[int, int]:
    """How many of the series' points outside every excursion (spikes, level shifts) stand at a robust z-score of 4
    or more, and of 6 or more, against the detector's own lagged baseline: the tail of its noise (`tail_expected`).
    One pass over the series."""
    values = prep.values
    n = len(values)
    block = default_block(n)  # the detector's own blocks (find_spikes' default)
    if n < 2 * block:
        return 0, 0
    base_b, scale_b = block_baseline(values, block, lag, prep.noise)
    at = np.arange(block, n)
    scores = (values[block:] - base_b[at // block]) / scale_b[at // block]
    keep = np.isfinite(scores)
    for s in spikes:
        keep[max(s.index - block, 0) : max(s.stop - block, 0)] = False
    scores = scores[keep]
    return int((scores >= 4).sum()), int((scores >= 6).sum())


def tail_expected(tail: tuple[int, int], z: float) -> float:
    """How many points the series' own noise would be expected to put at a robust z-score of `z` or more.

    Its points outside the excursions that reach 4 and 6 (`noise_tail`) give its tail's slope on a log-log scale
    (a power law, the heavier of the usual tails), extrapolated to `z`. A loss averaged over few samples of a
    skewed distribution (a small batch of hard and easy images) is heavy-tailed: excursions that a Gaussian would
    put once in 1e15 points come every few hundred, and its other points show it. 0 when fewer than `_TAIL_MIN` of
    them reach 6 (a light tail, or one seen only in the excursions: nothing to extrapolate from)."""
    over4, over6 = tail
    if over6 < _TAIL_MIN:
        return 0.0
    if over4 <= over6:
        return float(over6)
    slope = np.log(over4 / over6) / np.log(6 / 4)
    return float(over6 * (6 / max(z, 6)) ** slope)
