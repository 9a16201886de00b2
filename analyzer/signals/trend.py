"""Trend helpers the rules need: is a curve falling, flat or rising; is eval pulling away from train;
is memory climbing step after step."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analyzer.signals.series import Prepared, prepare, robust_noise


@dataclass(frozen=True)
class Trend:
    """Direction of a series between two steps, judged against its own noise."""

    direction: str  # decreasing | flat | rising | unknown (fewer than 4 points)
    change: float  # median of the last quarter minus median of the first quarter
    relative: float  # change / |first-quarter median| (NaN when that is 0)
    noise: float  # point noise (signals.series.robust_noise)
    points: int

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "direction": self.direction,
            "change": self.change,
            "relative": self.relative,
            "noise": self.noise,
            "points": self.points,
        }


def trend(series: Prepared | object, start_step: int | None = None, end_step: int | None = None) -> Trend:
    """Compare the first and last quarter of the points (medians) with the noise.

    Flat means the curve moved less than the larger of one noise deviation and three standard errors
    of the difference of two quarter medians (1.25·σ/√q each): a curve that moves less than its own
    noise band is not learning, whatever its slope.
    """
    prep = series if isinstance(series, Prepared) else prepare(series)  # type: ignore[arg-type]
    steps, values = prep.steps, prep.values
    if start_step is not None or end_step is not None:
        lo = np.searchsorted(steps, start_step) if start_step is not None else 0
        hi = np.searchsorted(steps, end_step, side="right") if end_step is not None else len(steps)
        values = values[lo:hi]
    n = len(values)
    noise = robust_noise(values) if n >= 3 else 0.0
    if n < 4:
        return Trend("unknown", math.nan, math.nan, noise, n)
    q = max(1, n // 4)
    first, last = float(np.median(values[:q])), float(np.median(values[-q:]))
    change = last - first
    threshold = max(noise, 3.0 * 1.25 * noise * math.sqrt(2.0 / q))
    direction = "flat" if abs(change) <= threshold else ("rising" if change > 0 else "decreasing")
    relative = change / abs(first) if first else math.nan
    return Trend(direction, change, relative, noise, n)


@dataclass(frozen=True)
class Divergence:
    """Eval against train after the eval curve's best point (overfitting shows as eval rising alone)."""

    best_step: int  # step of the lowest eval value
    best: float
    last: float  # last eval value
    rise: float  # last - best
    rising_points: int  # eval points after the best one
    train_after: Trend  # the train curve from best_step on

    def to_dict(self) -> dict[str, float | int | str | dict[str, float | int | str]]:
        return {
            "best_step": self.best_step,
            "best": self.best,
            "last": self.last,
            "rise": self.rise,
            "rising_points": self.rising_points,
            "train_after": self.train_after.to_dict(),
        }


def eval_train_gap(train: Prepared | object, evals: Prepared | object) -> Divergence | None:
    """Where eval stopped improving, how far it rose since, and what train did meanwhile."""
    tr = train if isinstance(train, Prepared) else prepare(train)  # type: ignore[arg-type]
    ev = evals if isinstance(evals, Prepared) else prepare(evals)  # type: ignore[arg-type]
    if len(ev) < 3 or len(tr) < 4:
        return None
    best = int(np.argmin(ev.values))
    return Divergence(
        int(ev.steps[best]),
        float(ev.values[best]),
        float(ev.values[-1]),
        float(ev.values[-1] - ev.values[best]),
        len(ev) - 1 - best,
        trend(tr, start_step=int(ev.steps[best])),
    )


@dataclass(frozen=True)
class Growth:
    """How steadily a series (memory) climbs."""

    slope: float  # per step, Theil-Sen on at most 2,000 evenly spaced points
    rise: float  # fitted rise over the whole series
    relative: float  # rise / first fitted value
    up_fraction: float  # share of non-zero steps that go up

    def to_dict(self) -> dict[str, float]:
        return {"slope": self.slope, "rise": self.rise, "relative": self.relative, "up_fraction": self.up_fraction}


def growth(series: Prepared | object) -> Growth | None:
    """Robust slope of a series and the share of its moves that are upward (a leak climbs steadily)."""
    from scipy.stats import theilslopes

    prep = series if isinstance(series, Prepared) else prepare(series)  # type: ignore[arg-type]
    n = len(prep)
    if n < 4:
        return None
    take = np.unique(np.linspace(0, n - 1, min(n, 2000)).astype("int64"))
    x, y = prep.steps[take].astype("float64"), prep.values[take]
    slope, intercept = theilslopes(y, x)[:2]
    span = float(x[-1] - x[0])
    start = float(intercept + slope * x[0])
    moves = np.diff(prep.values)
    moving = moves[moves != 0]
    up = float((moving > 0).mean()) if len(moving) else 0.0
    return Growth(float(slope), float(slope * span), float(slope * span / abs(start)) if start else math.nan, up)
