"""Named events read from a segmentation: level shifts, divergence onset, plateau start, slope changes.

The segmentation splits wherever the data allow, including the gentle bends of a smooth curve, so
a boundary is not an event by itself. Each event is a test on the fitted lines:

- `level_shift_up` / `level_shift_down`: the lines disagree at the boundary (a jump) by more than
  `k_noise` point-noise deviations and by more than `z_min` standard errors of that jump;
- `divergence_onset`: after its lowest point the fitted curve climbs by more than `k_noise` noise
  deviations and 10% of the curve's range, and ends near its post-minimum high: the start of the
  first rising line after the minimum is the onset (a jump to a new flat level is a level shift);
- `plateau_start`: from some boundary to the end the fitted curve moves by less than 2 noise
  deviations, over at least a quarter of the series, after a stretch that fell by more than that
  (a converged run shows one too: it is information, the rules decide whether it matters);
  a series flat from its first point gets one at its first step;
- `slope_change`: a falling line followed by a rising one (or the reverse) without a jump.

Confidence is how far the deciding statistic clears its threshold, mapped through the normal CDF
into [0.5, 0.99]: 0.5 at the threshold, 0.84 one standard error beyond it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from analyzer.signals.changepoints import Segment, Segmentation, hinge_index, jump_or_bend
from analyzer.signals.series import Prepared

K_NOISE = 3.0  # a jump or a rise smaller than this many noise deviations is not an event
MIN_POINTS = 8  # fewer finite points than this carry no events
Z_MIN = 5.0  # a jump must also clear this many standard errors of its own estimate


@dataclass(frozen=True)
class ChangeEvent:
    """One named change in a series."""

    kind: str  # level_shift_up | level_shift_down | divergence_onset | plateau_start | slope_change
    step: int
    index: int  # position among the finite points
    magnitude: float  # jump size, rise, or the plateau's level
    before: float  # fitted value just before the change
    after: float  # fitted value just after it
    confidence: float

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "kind": self.kind,
            "step": self.step,
            "magnitude": self.magnitude,
            "before": self.before,
            "after": self.after,
            "confidence": round(self.confidence, 3),
        }


def _confidence(excess: float) -> float:
    """Standard errors beyond the threshold -> a probability-like score in [0.5, 0.99]."""
    normal_cdf = 0.5 * (1.0 + math.erf(excess / math.sqrt(2.0)))
    return float(min(0.99, max(0.5, normal_cdf)))


def change_events(seg: Segmentation) -> list[ChangeEvent]:
    """Every named event of a segmentation, in step order."""
    segments = seg.segments
    if len(seg.prepared) < MIN_POINTS:
        return []
    noise = max(seg.noise, 1e-12)
    events = _jumps(seg.prepared, segments, noise)
    divergence = _divergence(segments, noise)
    bends = [e for e in _slope_changes(segments, noise) if divergence is None or e.index != divergence.index]
    events += [_at_bend(seg.prepared, segments, e) for e in bends]
    if divergence is not None:
        events.append(_at_bend(seg.prepared, segments, divergence, wide=True))
    plateau = _plateau(segments, noise, len(seg.prepared))
    if plateau is not None:
        events.append(plateau)
    return sorted(events, key=lambda e: (e.step, e.kind))


def _at_bend(prep: Prepared, segments: list[Segment], event: ChangeEvent, wide: bool = False) -> ChangeEvent:
    """Move a change that starts a new slope to the knot of the best continuous broken line fitted
    over the segments on both sides (unless the change is a jump, which the segmentation places).

    `wide`: the left side reaches back over every short or flat segment to the last one that fell
    clearly, so a short transition segment does not pin the knot."""
    i = next((k for k, s in enumerate(segments) if s.start == event.index), None)
    if i is None or i == 0:
        return event
    left, right = segments[i - 1], segments[i]
    noise = max(1e-12, prep.noise)
    if abs(right.intercept - left.end_value) > K_NOISE * noise:
        two_lines, bend = jump_or_bend(prep, right.start, left.start, right.stop)
        if bend - two_lines >= Z_MIN * Z_MIN * noise * noise:
            return event
    j = i - 1
    while wide and j > 0 and _significant_direction(segments[j], noise) >= 0:
        j -= 1
    k = hinge_index(prep, segments[j].start, right.stop)
    return replace(event, index=k, step=int(prep.steps[k]))


def _jumps(prep: Prepared, segments: list[Segment], noise: float) -> list[ChangeEvent]:
    out: list[ChangeEvent] = []
    for left, right in itertools.pairwise(segments):
        # Compare both lines at the same place: midway between the last left and first right step.
        mid = (left.last_step + right.first_step) / 2
        before = left.intercept + left.slope * (mid - left.first_step)
        after = right.intercept + right.slope * (mid - right.first_step)
        jump = after - before
        # Standard error of a line's end-point value is about 2·noise/√length; of their difference:
        se = 2.0 * noise * math.sqrt(1.0 / left.length + 1.0 / right.length)
        threshold = max(K_NOISE * noise, Z_MIN * se)
        if abs(jump) <= threshold:
            continue
        # A steep bend fitted by two free lines looks like a jump: keep it only if a continuous broken
        # line explains the data clearly worse (by more than Z_MIN² noise variances).
        two_lines, bend = jump_or_bend(prep, right.start, left.start, right.stop)
        if bend - two_lines < Z_MIN * Z_MIN * noise * noise:
            continue
        excess = (abs(jump) - threshold) / max(se, 1e-300)
        out.append(
            ChangeEvent(
                "level_shift_up" if jump > 0 else "level_shift_down",
                right.first_step,
                right.start,
                jump,
                before,
                after,
                _confidence(excess),
            )
        )
    return out


def _significant_direction(s: Segment, noise: float) -> int:
    """+1 rising, -1 falling, 0 flat: the fitted change against the noise and its own error."""
    se = noise * math.sqrt(12.0 / max(s.length, 1))  # error of (slope × span) for a least-squares line
    if abs(s.change) <= max(2.0 * noise, 3.0 * se):
        return 0
    return 1 if s.change > 0 else -1


def _slope_changes(segments: list[Segment], noise: float) -> list[ChangeEvent]:
    out: list[ChangeEvent] = []
    for left, right in itertools.pairwise(segments):
        a, b = _significant_direction(left, noise), _significant_direction(right, noise)
        if a and b and a != b:
            se = noise * math.sqrt(12.0 / right.length)
            excess = (abs(right.change) - max(2.0 * noise, 3.0 * se)) / max(se, 1e-300)
            out.append(
                ChangeEvent(
                    "slope_change",
                    right.first_step,
                    right.start,
                    right.slope,
                    left.end_value,
                    right.intercept,
                    _confidence(excess),
                )
            )
    return out


def _divergence(segments: list[Segment], noise: float) -> ChangeEvent | None:
    """The loss climbs away from its lowest point and stays up."""
    starts = np.array([s.intercept for s in segments])
    ends = np.array([s.end_value for s in segments])
    lows = np.minimum(starts, ends)
    i_min = int(np.argmin(lows))
    low = float(lows[i_min])
    span = float(max(starts.max(), ends.max()) - min(starts.min(), ends.min()))
    final = float(ends[-1])
    high = float(max(starts[i_min:].max(), ends[i_min:].max()))
    rise = final - low
    threshold = max(K_NOISE * noise, 0.1 * span)
    # Stays up: the end is within a quarter of the climb from the highest point after the minimum.
    if rise <= threshold or (high - final) > 0.25 * (high - low):
        return None
    # Onset: the first boundary after the minimum where the curve goes up (a jump or a rising line).
    onset: Segment | None = None
    if ends[i_min] - starts[i_min] > K_NOISE * noise:
        onset = segments[i_min]  # the lowest segment itself climbs
    else:  # the first climb after it; a jump to a new flat level is a level shift, not a divergence
        onset = next((s for s in segments[i_min + 1 :] if _significant_direction(s, noise) > 0), None)
    if onset is None:
        return None
    excess = (rise - threshold) / max(noise, 1e-300)
    return ChangeEvent("divergence_onset", onset.first_step, onset.start, rise, low, final, _confidence(excess / 3))


def _plateau(segments: list[Segment], noise: float, n: int) -> ChangeEvent | None:
    """The longest flat tail: from which boundary on the curve stops moving."""
    tail_lo = tail_hi = segments[-1].end_value
    start = len(segments)
    for i in range(len(segments) - 1, -1, -1):
        s = segments[i]
        lo = min(tail_lo, s.intercept, s.end_value)
        hi = max(tail_hi, s.intercept, s.end_value)
        if hi - lo > 2.0 * noise:
            break
        tail_lo, tail_hi, start = lo, hi, i
    if start == len(segments):
        return None
    first = segments[start]
    length = n - first.start
    if start > 0:
        prev = segments[start - 1]
        fell = prev.intercept - first.intercept > 2.0 * noise or prev.intercept - prev.end_value > 2.0 * noise
        if not fell or length < n / 4:
            return None
    level = (tail_lo + tail_hi) / 2
    return ChangeEvent(
        "plateau_start",
        first.first_step,
        first.start,
        level,
        segments[start - 1].end_value if start else level,
        level,
        _confidence(4.0 * length / n - 1.0),
    )
