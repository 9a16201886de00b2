"""Statistics over series: pure functions and small estimators over a numeric series indexed by step.

- series.prepare: sort, one value per step, finite part apart, robust noise;
- spikes.find_spikes: robust z-score spikes against a lagged baseline, recovered or not (O(n));
- changepoints.segment: piecewise-linear segmentation, binned when long, refined to full resolution;
- events.change_events: level shifts, divergence onset, plateau start, slope changes with confidence;
- trend: falling/flat/rising against the noise, eval vs train after eval's best, memory growth;
- synthetic: curves with planted events and precision/recall scoring, for tests and benchmarks;
- toolkit: what the rules and the report use: summarize, nonfinite_scan, and `analyze_series`, which
  runs the estimators together the way the rules use them.
"""

from __future__ import annotations

from analyzer.signals.changepoints import segment
from analyzer.signals.events import ChangeEvent, change_events
from analyzer.signals.series import Prepared, prepare
from analyzer.signals.spikes import Spike, find_spikes
from analyzer.signals.toolkit import (
    NonFinite,
    SeriesSignals,
    analyze_series,
    longest_true_run,
    nonfinite_scan,
    run_signals,
    summarize,
    true_runs,
)
from analyzer.signals.trend import Trend, trend

__all__ = [
    "ChangeEvent",
    "NonFinite",
    "Prepared",
    "SeriesSignals",
    "Spike",
    "Trend",
    "analyze_series",
    "change_events",
    "find_spikes",
    "longest_true_run",
    "nonfinite_scan",
    "prepare",
    "run_signals",
    "segment",
    "summarize",
    "trend",
    "true_runs",
]
