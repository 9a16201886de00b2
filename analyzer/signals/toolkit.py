"""The signal toolkit: what the rules and the report ask of a run's series, built on the estimators of
the other modules of analyzer.signals: a table of every series (summarize), where a series is
non-finite (nonfinite_scan, true_runs), and spikes, segmentation, change events and trend together
(analyze_series; run_signals caches them per run and series).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyzer.model import Run
from analyzer.signals.changepoints import Segmentation, segment
from analyzer.signals.events import ChangeEvent, change_events
from analyzer.signals.series import Prepared, prepare
from analyzer.signals.spikes import Spike, despike, find_spikes
from analyzer.signals.trend import Trend, trend


def summarize(run: Run) -> dict[str, dict[str, Any]]:
    """For each `split/metric` series: count, first_step, last_step and number of non-finite values."""
    if run.metrics.empty:
        return {}
    step, value = run.metrics["step"].to_numpy(), run.metrics["value"].to_numpy()
    out = {}
    for (split, metric), rows in sorted(run.series_rows().items()):
        steps = step[rows]
        out[f"{split}/{metric}"] = {
            "count": len(rows),
            "first_step": int(steps.min()),
            "last_step": int(steps.max()),
            "nonfinite": int((~np.isfinite(value[rows])).sum()),
        }
    return out


@dataclass(frozen=True)
class NonFinite:
    """Where a series is NaN or ±inf."""

    steps: np.ndarray  # steps of the non-finite points, ascending
    total: int  # points in the series
    longest_run: int  # most consecutive non-finite points
    last_is_nonfinite: bool
    recovered: bool  # a finite value follows the last non-finite one

    @property
    def count(self) -> int:
        return len(self.steps)

    @property
    def fraction(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def first_step(self) -> int | None:
        return int(self.steps[0]) if self.count else None


def longest_true_run(mask: np.ndarray) -> int:
    """Length of the longest run of True values."""
    if not mask.any():
        return 0
    padded = np.concatenate(([0], mask.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True values, stop exclusive."""
    padded = np.concatenate(([0], mask.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def nonfinite_scan(series: pd.Series) -> NonFinite:
    """First NaN/inf, runs of them and whether the series came back to finite values."""
    values = series.to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    steps = series.index.to_numpy()[bad]
    last_bad = int(np.flatnonzero(bad)[-1]) if bad.any() else -1
    return NonFinite(
        steps=steps,
        total=len(values),
        longest_run=longest_true_run(bad),
        last_is_nonfinite=bool(bad[-1]) if len(bad) else False,
        recovered=bool(bad.any() and np.isfinite(values[last_bad + 1 :]).any()),
    )


class SeriesSignals:
    """Everything the statistics say about one series: the spikes at once, the rest when first asked for (a
    rule that reads only the spikes of a series does not pay for its segmentation, most of the cost)."""

    def __init__(self, prepared: Prepared, spikes: list[Spike]) -> None:
        self.prepared = prepared
        self.spikes = spikes

    @functools.cached_property
    def segmentation(self) -> Segmentation:
        """The piecewise-linear segmentation of the series with its recovered spikes taken out (a spike is not
        a level shift)."""
        return segment(despike(self.prepared, self.spikes))

    @functools.cached_property
    def events(self) -> list[ChangeEvent]:
        return change_events(self.segmentation)

    @functools.cached_property
    def trend(self) -> Trend:
        return trend(self.prepared)

    def events_of(self, kind: str) -> list[ChangeEvent]:
        return [e for e in self.events if e.kind == kind]


def analyze_series(series: pd.Series | tuple[np.ndarray, np.ndarray], direction: str = "up") -> SeriesSignals:
    """Spikes first; then (on first use) the segmentation of the series without them, the named change
    events and the overall trend."""
    prep = prepare(series)
    return SeriesSignals(prep, find_spikes(prep, direction=direction))


def run_signals(run: Run, metric: str, split: str = "train", until: int | None = None) -> SeriesSignals:
    """analyze_series of one series of a run (its steps before `until` when given), computed once per run
    and series (several rules read it)."""
    cache: dict[tuple[str, str, int | None], SeriesSignals] = run.__dict__.setdefault("_signals", {})
    if (split, metric, until) not in cache:
        series = run.series(metric, split=split)
        cache[(split, metric, until)] = analyze_series(series if until is None else series[series.index < until])
    return cache[(split, metric, until)]
