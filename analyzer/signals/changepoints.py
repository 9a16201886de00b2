"""Piecewise-linear segmentation of a training curve, at any length.

A decreasing loss is a slope, not a staircase, so each segment is a straight line (its own intercept
and slope; a jump between segments is allowed). The fit is penalised binary segmentation:

1. Long series are cut into at most `max_bins` bins of consecutive points and each bin keeps the
   exact sufficient statistics of a least-squares line (n, Σt, Σt², Σy, Σty, Σy²). The squared error
   of any run of whole bins is then the exact squared error of the raw points, read from prefix sums
   in O(1): binning loses only the position of a change inside its bin, never the cost.
2. Binary segmentation on the bins: the segment whose best split lowers the error most is split
   first, all candidate splits of a segment evaluated at once with numpy; it stops when the best
   gain is below the penalty.
3. The penalty is BIC-like on a robust noise estimate: `penalty * noise² * log(n)` where noise comes
   from the median absolute first difference (signals.series.robust_noise), so trends, spikes and
   jumps do not inflate it. `penalty` defaults to 4 (three parameters per change, plus a margin for
   the maximum over candidate positions, as in MBIC).
4. Each change found between bins is refined to full resolution: the exact best split of the raw
   points in the bins around it.

Cost: O(n) to bin (numpy reductions), O(max_bins · changes) to segment, O(window) per refinement.
ruptures' Binseg evaluates every raw split position with a Python-level cost per candidate; the
benchmark in benchmarks/changepoints.py measures both on the same series.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import numpy as np

from analyzer.signals.series import Prepared, prepare

MAX_BINS = 4096


@dataclass(frozen=True)
class Segment:
    """One straight piece: raw point indices [start, stop) and the least-squares line over them."""

    start: int
    stop: int
    first_step: int
    last_step: int
    intercept: float  # fitted value at first_step
    slope: float  # per step
    rss: float  # residual sum of squares of the raw points

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def end_value(self) -> float:
        """Fitted value at last_step."""
        return self.intercept + self.slope * (self.last_step - self.first_step)

    @property
    def change(self) -> float:
        """Fitted rise (positive) or fall (negative) across the segment."""
        return self.slope * (self.last_step - self.first_step)


@dataclass(frozen=True)
class Segmentation:
    """The segments of one series, with the noise and penalty that produced them."""

    prepared: Prepared
    segments: list[Segment]
    noise: float
    penalty: float
    binned: bool

    @property
    def change_indices(self) -> list[int]:
        """Raw indices where a new segment starts (the first segment's start excluded)."""
        return [s.start for s in self.segments[1:]]

    @property
    def change_steps(self) -> list[int]:
        return [s.first_step for s in self.segments[1:]]


class _Stats:
    """Prefix sums of the six sufficient statistics over consecutive units (points or bins)."""

    def __init__(
        self, count: np.ndarray, st: np.ndarray, stt: np.ndarray, sy: np.ndarray, sty: np.ndarray, syy: np.ndarray
    ) -> None:
        def cum(a: np.ndarray) -> np.ndarray:
            return np.concatenate(([0.0], np.cumsum(a, dtype="float64")))

        self.n, self.t, self.tt, self.y, self.ty, self.yy = (cum(a) for a in (count, st, stt, sy, sty, syy))

    def rss(self, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
        """Residual sum of squares of the best line over units [a, b), vectorised over a and b."""
        n = self.n[b] - self.n[a]
        t = self.t[b] - self.t[a]
        y = self.y[b] - self.y[a]
        with np.errstate(divide="ignore", invalid="ignore"):
            stt = (self.tt[b] - self.tt[a]) - t * t / n
            sty = (self.ty[b] - self.ty[a]) - t * y / n
            syy = (self.yy[b] - self.yy[a]) - y * y / n
            out = np.where(stt > 1e-12 * np.maximum(1.0, np.abs(self.tt[b] - self.tt[a])), syy - sty * sty / stt, syy)
        return np.minimum(np.fmax(out, 0.0), _LARGEST)  # = max(nan_to_num(out), 0): NaN and -inf are 0

    def sums(self, a: int, b: int) -> np.ndarray:
        """(n, Σt, Σt², Σy, Σty, Σy²) over units [a, b)."""
        return np.array([p[b] - p[a] for p in (self.n, self.t, self.tt, self.y, self.ty, self.yy)])


_LARGEST = np.finfo(np.float64).max


def _bin_stats(t: np.ndarray, y: np.ndarray, edges: np.ndarray) -> _Stats:
    """Per-bin sums without n-sized temporaries (einsum over equal-width bins, the short tail apart)."""
    width = int(edges[1] - edges[0])
    full = (len(edges) - 1) if int(edges[-1] - edges[-2]) == width else len(edges) - 2
    tb = t[: full * width].reshape(full, width)
    yb = y[: full * width].reshape(full, width)
    parts = [
        tb.sum(axis=1),
        np.einsum("ij,ij->i", tb, tb),
        yb.sum(axis=1),
        np.einsum("ij,ij->i", tb, yb),
        np.einsum("ij,ij->i", yb, yb),
    ]
    if full < len(edges) - 1:  # the tail bin
        tt, yt = t[full * width :], y[full * width :]
        tail = [tt.sum(), np.dot(tt, tt), yt.sum(), np.dot(tt, yt), np.dot(yt, yt)]
        parts = [np.append(p, q) for p, q in zip(parts, tail, strict=True)]
    return _Stats(np.diff(edges).astype("float64"), *parts)


def _point_stats(t: np.ndarray, y: np.ndarray) -> _Stats:
    return _Stats(np.ones(len(t)), t, t * t, y, t * y, y * y)


def _bin_edges(n: int, bins: int) -> np.ndarray:
    """Edges of bins of equal width covering n points, the remainder in one shorter last bin."""
    width = math.ceil(n / bins)
    edges = np.arange(0, n, width, dtype="int64")
    return np.append(edges, n)


def _best_split(stats: _Stats, a: int, b: int, min_units: int) -> tuple[float, int]:
    """Gain and position of the best split of units [a, b); (-inf, -1) when none is allowed."""
    if b - a < 2 * min_units:
        return -math.inf, -1
    k = np.arange(a + min_units, b - min_units + 1)
    total = float(stats.rss(a, b))
    gains = total - stats.rss(a, k) - stats.rss(k, b)
    i = int(np.argmax(gains))
    return float(gains[i]), int(k[i])


def segment(
    series: Prepared | object,
    penalty: float = 4.0,
    min_size: int | None = None,
    max_changes: int = 200,
    max_bins: int = MAX_BINS,
) -> Segmentation:
    """Piecewise-linear segmentation of the finite points of a series (see the module docstring).

    `min_size` is the fewest points a segment may hold (default: 5, or 0.1% of the points on long
    series); `max_changes` bounds the work on pathological input.
    """
    prep = series if isinstance(series, Prepared) else prepare(series)  # type: ignore[arg-type]
    n = len(prep)
    noise = prep.noise
    if n < 2:
        if n == 0:
            return Segmentation(prep, [], noise, 0.0, False)
        single = Segment(0, 1, int(prep.steps[0]), int(prep.steps[0]), float(prep.values[0]), 0.0, 0.0)
        return Segmentation(prep, [single], noise, 0.0, False)
    min_points = min_size if min_size is not None else max(5, n // 1000)
    steps = prep.steps
    span = float(steps[-1] - steps[0]) or 1.0
    binned = n > max_bins
    edges = _bin_edges(n, max_bins) if binned else np.arange(n + 1)
    units = len(edges) - 1
    # Time in units of bins (0..units) and values centred keep the prefix sums well conditioned;
    # built in place, since on 10^7 points every temporary array costs more than the arithmetic.
    t = steps.astype("float64")
    t -= steps[0]
    t *= units / span
    offset = float(prep.values.mean())
    # Centre the values only when their level dwarfs the noise (a copy of 10^7 floats costs ~0.2 s).
    y = prep.values - offset if abs(offset) > 1e4 * max(noise, 1e-300) else prep.values
    offset = offset if y is not prep.values else 0.0
    stats = _bin_stats(t, y, edges) if binned else _point_stats(t, y)
    min_units = max(1, math.ceil(min_points / (n / units)))
    # A floor on the noise: a perfectly flat or piecewise-exact series must not split on rounding.
    scale = max(noise, 1e-9 * max(1.0, float(np.abs(prep.values).max())))
    pen = penalty * scale * scale * math.log(n)

    cuts = _binary_segmentation(stats, units, min_units, pen, max_changes)
    raw_cuts = [int(edges[c]) for c in cuts]
    if binned:
        raw_cuts = _refine(t, y, raw_cuts, edges, cuts, min_points)
    bounds = [0, *raw_cuts, n]
    sums = [_range_sums(stats, edges, t, y, a, b) for a, b in itertools.pairwise(bounds)]
    if binned:
        sums, bounds = _prune(sums, bounds, pen, min_points)
    per_step = units / span
    segments = [
        _segment_from(prep, t, s, offset, a, b, per_step)
        for s, (a, b) in zip(sums, itertools.pairwise(bounds), strict=True)
    ]
    return Segmentation(prep, segments, noise, pen, binned)


def _binary_segmentation(stats: _Stats, units: int, min_units: int, pen: float, max_changes: int) -> list[int]:
    """Unit indices where segments start, best split first, until no split gains more than `pen`."""
    heap: list[tuple[float, int, int, int]] = []

    def push(a: int, b: int) -> None:
        gain, k = _best_split(stats, a, b, min_units)
        if gain > pen:
            heapq.heappush(heap, (-gain, a, b, k))

    push(0, units)
    cuts: list[int] = []
    while heap and len(cuts) < max_changes:
        _, a, b, k = heapq.heappop(heap)
        cuts.append(k)
        push(a, k)
        push(k, b)
    return sorted(cuts)


def _refine(
    t: np.ndarray, y: np.ndarray, raw_cuts: list[int], edges: np.ndarray, cuts: list[int], min_points: int
) -> list[int]:
    """Move each change found at a bin edge to the best raw split in the two bins on either side.

    Each change is refined on its own; two that land closer than `min_points` are settled by the
    pruning that follows (which merges segments shorter than that first)."""
    refined: list[int] = []
    n = len(y)
    for c in cuts:
        lo = max(int(edges[max(c - 2, 0)]), 1)
        hi = min(int(edges[min(c + 2, len(edges) - 1)]), n - 1)
        # The window's line fits reach `min_points` beyond it so a split near its edge is judged fairly.
        a, b = max(lo - min_points, 0), min(hi + min_points, n)
        local = _point_stats(t[a:b] - t[a], y[a:b])
        k = np.arange(lo - a, hi - a + 1)
        costs = local.rss(0, k) + local.rss(k, b - a)
        refined.append(a + int(k[int(np.argmin(costs))]))
    return sorted(set(refined))


def _sums(t: np.ndarray, y: np.ndarray, a: int, b: int) -> np.ndarray:
    """(n, Σt, Σt², Σy, Σty, Σy²) of raw points [a, b), from dot products (no temporaries)."""
    ts, ys = t[a:b], y[a:b]
    return np.array([b - a, ts.sum(), np.dot(ts, ts), ys.sum(), np.dot(ts, ys), np.dot(ys, ys)], dtype="float64")


def _range_sums(stats: _Stats, edges: np.ndarray, t: np.ndarray, y: np.ndarray, a: int, b: int) -> np.ndarray:
    """The sums of raw points [a, b) from the whole bins inside it plus the raw points of the partial
    bins at its ends: O(bin width), not O(b - a). Unbinned, every point is a bin of its own."""
    first = int(np.searchsorted(edges, a))  # first bin starting at or after a
    last = int(np.searchsorted(edges, b, side="right")) - 1  # last bin edge at or before b
    if first >= last:
        return _sums(t, y, a, b)
    return stats.sums(first, last) + _sums(t, y, a, int(edges[first])) + _sums(t, y, int(edges[last]), b)


def _line(sums: np.ndarray) -> tuple[float, float, float]:
    """(slope, mean t, residual sum of squares) of the least-squares line with these sums."""
    n, st, stt, sy, sty, syy = sums
    stt_c = stt - st * st / n
    sty_c = sty - st * sy / n
    syy_c = syy - sy * sy / n
    slope = sty_c / stt_c if stt_c > 1e-12 * max(1.0, st * st / n) else 0.0
    return float(slope), float(st / n), float(max(syy_c - slope * sty_c, 0.0))


def _prune(
    sums: list[np.ndarray], bounds: list[int], pen: float, min_points: int
) -> tuple[list[np.ndarray], list[int]]:
    """Drop the changes that no longer pay for themselves once placed at full resolution (two changes
    found in neighbouring bins often describe one): merge the weakest while its gain is below `pen`,
    and any segment shorter than `min_points` into its weaker side first."""
    while len(sums) > 1:
        gains = np.array(
            [_line(left + right)[2] - _line(left)[2] - _line(right)[2] for left, right in itertools.pairwise(sums)]
        )
        short = [i for i, s in enumerate(sums) if s[0] < min_points]
        if short:
            i = short[0]
            sides = [j for j in (i - 1, i) if 0 <= j < len(gains)]
            weakest = min(sides, key=lambda j: gains[j])
        else:
            weakest = int(np.argmin(gains))
            if gains[weakest] >= pen:
                break
        sums[weakest : weakest + 2] = [sums[weakest] + sums[weakest + 1]]
        del bounds[weakest + 1]
    return sums, bounds


def _segment_from(
    prep: Prepared, t: np.ndarray, sums: np.ndarray, offset: float, a: int, b: int, per_step: float
) -> Segment:
    """A Segment from the sums of points [a, b); `t` is in bin units, `per_step` of them per step."""
    slope_t, t_mean, rss = _line(sums)
    intercept = sums[3] / sums[0] + offset - slope_t * (t_mean - float(t[a]))  # fitted value at the first step
    return Segment(a, b, int(prep.steps[a]), int(prep.steps[b - 1]), intercept, slope_t * per_step, rss)


def hinge_index(prep: Prepared, lo: int, hi: int, max_points: int = 50_000) -> int:
    """Index in [lo, hi) of the knot of the best continuous broken line (a bend, not a jump).

    Fits y = a + b·t + c·(t − t_k)+ for every candidate knot k at once (suffix sums give each
    candidate's normal equations in O(1)). Windows longer than `max_points` are fitted on block
    means first, then refined on the raw points of the blocks around the coarse knot.
    """
    hi = min(hi, len(prep))
    if hi - lo < 6:
        return lo
    if hi - lo > max_points:
        width = -(-(hi - lo) // max_points)
        full = (hi - lo) // width
        coarse_t = prep.steps[lo : lo + full * width].reshape(full, width).mean(axis=1)
        coarse_y = prep.values[lo : lo + full * width].reshape(full, width).mean(axis=1)
        k = lo + _hinge(coarse_t, coarse_y)[0] * width
        return hinge_index(prep, max(lo, k - 2 * width), min(hi, k + 2 * width), max_points)
    return lo + _hinge(prep.steps[lo:hi].astype("float64"), prep.values[lo:hi])[0]


def jump_or_bend(prep: Prepared, boundary: int, lo: int, hi: int, reach: int = 2000) -> tuple[float, float]:
    """Residual sums of squares near a boundary of two models: two free lines split at the boundary
    (a jump allowed) and the best continuous broken line (a bend only), over at most `reach` points
    on each side. A jump is real when the first is clearly smaller."""
    a, b = max(lo, boundary - reach), min(hi, boundary + reach)
    t = prep.steps[a:b].astype("float64")
    y = prep.values[a:b]
    if b - a < 6:
        return 0.0, 0.0
    stats = _point_stats((t - t[0]) / max(float(t[-1] - t[0]), 1e-300), y - float(y.mean()))
    k = boundary - a
    two_lines = float(stats.rss(0, k) + stats.rss(k, b - a))
    return two_lines, _hinge(t, y)[1]


def _hinge(t: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """(knot position, residual sum of squares) of the best continuous broken line."""
    t = (t - t[0]) / max(float(t[-1] - t[0]), 1e-300)
    y = y - float(y.mean())
    n = len(t)

    def suffix(a: np.ndarray) -> np.ndarray:
        return np.cumsum(a[::-1])[::-1]

    ns, st, stt, sy, sty = suffix(np.ones(n)), suffix(t), suffix(t * t), suffix(y), suffix(t * y)
    knots = slice(2, n - 2)  # a knot needs points on both sides to bend
    tk = t[knots]
    sh = st[knots] - tk * ns[knots]
    shh = stt[knots] - 2 * tk * st[knots] + tk * tk * ns[knots]
    sth = stt[knots] - tk * st[knots]
    shy = sty[knots] - tk * sy[knots]
    m = len(tk)
    xtx = np.empty((m, 3, 3))
    xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 0, 2] = n, st[0], sh
    xtx[:, 1, 1], xtx[:, 1, 2], xtx[:, 2, 2] = stt[0], sth, shh
    xtx[:, 1, 0], xtx[:, 2, 0], xtx[:, 2, 1] = xtx[:, 0, 1], xtx[:, 0, 2], xtx[:, 1, 2]
    xty = np.stack([np.full(m, sy[0]), np.full(m, sty[0]), shy], axis=1)
    beta = np.linalg.solve(xtx + np.eye(3) * 1e-12, xty[..., None])[..., 0]
    explained = np.einsum("ij,ij->i", beta, xty)
    best = int(np.argmax(explained))
    return 2 + best, max(float(np.dot(y, y) - explained[best]), 0.0)
