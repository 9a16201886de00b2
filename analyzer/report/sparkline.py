"""Unicode sparklines: the shape of a series in a few characters, for markdown and the terminal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BARS = "▁▂▃▄▅▆▇█"
NONFINITE = "×"  # a column holding a NaN or inf
_LOG_RATIO = 100.0  # positive series spanning more than this many times are drawn on a log scale


@dataclass(frozen=True)
class Sparkline:
    """A drawn series: the characters and what they stand for."""

    text: str
    first: float
    last: float
    low: float
    high: float
    log: bool
    nonfinite: int
    zeros: int = 0

    def caption(self) -> str:
        """`first → last (min …, max …)`, the numbers a reader needs beside the shape."""
        scale = ", log scale" if self.log else ""
        bad = f", {self.nonfinite} non-finite ({NONFINITE})" if self.nonfinite else ""
        zeros = f", {self.zeros} exactly 0" if self.zeros else ""
        return (
            f"{_num(self.first)} → {_num(self.last)} (min {_num(self.low)}, max {_num(self.high)}{scale}{bad}{zeros})"
        )


def _num(value: float) -> str:
    return f"{value:.4g}"


def sparkline(series: pd.Series, width: int = 40) -> Sparkline | None:
    """The series (indexed by step) in at most `width` columns of equal point counts; None when empty.

    Each column shows the mean of its finite points; a column with any NaN or inf shows `×`, so a single
    non-finite step is never averaged away.
    """
    values = series.to_numpy(dtype="float64")
    if not len(values) or width < 1:
        return None
    finite = np.isfinite(values)
    if not finite.any():
        return Sparkline(NONFINITE * min(width, len(values)), values[0], values[-1], np.nan, np.nan, False, len(values))
    good = values[finite]
    low, high = float(good.min()), float(good.max())
    log = low > 0 and high / low > _LOG_RATIO
    columns = min(width, len(values))
    edges = np.linspace(0, len(values), columns + 1).astype(np.int64)
    starts = edges[:-1]
    with np.errstate(all="ignore"):
        clean = np.where(finite, np.log10(values) if log else values, 0.0)
    sums = np.add.reduceat(clean, starts)
    counts = np.add.reduceat(finite.astype(np.int64), starts)
    bad = np.add.reduceat((~finite).astype(np.int64), starts) > 0
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    lo, hi = (np.log10(low), np.log10(high)) if log else (low, high)
    span = hi - lo
    levels = (
        np.zeros(columns, dtype=np.int64)
        if span <= 0
        else np.clip(np.round((means - lo) / span * (len(BARS) - 1)), 0, len(BARS) - 1).astype(np.int64)
    )
    chars = [NONFINITE if b else BARS[k] for b, k in zip(bad, levels, strict=True)]
    return Sparkline(
        "".join(chars),
        float(values[0]),
        float(values[-1]),
        low,
        high,
        bool(log),
        int((~finite).sum()),
        int((values == 0).sum()),
    )
