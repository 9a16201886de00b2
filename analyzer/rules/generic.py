"""Generic checks a rule can use without new code: a value test over any series, a named event from
the statistics (analyzer.signals), a comparison of two series step by step, and event counts
(checks.event_present)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from analyzer.model import Run
from analyzer.rules.checks import Detection, check, cite_point, finite, fmt
from analyzer.signals.toolkit import run_signals, true_runs

# The comparisons a rule may name, in the order errors list them; _OPS holds their functions.
Op = Literal["==", "!=", "<", "<=", ">", ">="]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# What signal_event can look for: recovered spikes, or a change event of analyzer.signals.events.
EventKind = Literal["spike", "level_shift_up", "level_shift_down", "divergence_onset", "plateau_start", "slope_change"]


@check("value_test")
def value_test(
    run: Run,
    *,
    metric: str = "loss",
    split: str = "train",
    op: Literal["nonfinite", Op] = "nonfinite",
    value: float = 0.0,
    min_run: int = 1,
    min_fraction: float = 0.0,
) -> Detection | None:
    """Points of one series that pass a test (`op` one of == != < <= > >= against `value`, or `nonfinite`):
    fires on the first run of at least `min_run` consecutive passing points, when at least
    `min_fraction` of all points pass."""
    series = run.series(metric, split=split)
    if series.empty:
        return None
    values = series.to_numpy(dtype="float64")
    if op == "nonfinite":
        passing = ~np.isfinite(values)
    elif op in _OPS:
        with np.errstate(invalid="ignore"):
            passing = np.asarray(_OPS[op](values, value), dtype=bool)
    else:
        raise ValueError(f"value_test: unknown op {op!r}")
    fraction = float(passing.mean())
    runs = [r for r in true_runs(passing) if r[1] - r[0] >= min_run]
    if not runs or fraction < min_fraction:
        return None
    start, stop = runs[0]
    step = int(series.index[start])
    test = "non-finite" if op == "nonfinite" else f"{op} {fmt(value)}"
    return Detection(
        step,
        f"{split}/{metric} is {test} at {int(passing.sum())} of {len(values)} points, "
        f"first from step {step} for {stop - start} points",
        {
            "onset": cite_point(run, split, metric, step, float(values[start])),
            "fraction": round(fraction, 4),
            "longest_run": max(b - a for a, b in runs),
        },
    )


@check("signal_event")
def signal_event(
    run: Run,
    *,
    metric: str = "loss",
    split: str = "train",
    kind: EventKind = "spike",
    min_ratio: float = 0.0,
    min_confidence: float = 0.0,
    min_count: int = 1,
) -> Detection | None:
    """A named event of the statistics on one series: `spike` (recovered; `min_ratio` = peak over
    baseline) or a change event (`level_shift_up`, `level_shift_down`, `divergence_onset`,
    `plateau_start`, `slope_change`; `min_ratio` = after over before), at least `min_count` of them."""
    series = run.series(metric, split=split)
    if len(series) < 8:
        return None
    sig = run_signals(run, metric, split)
    found: list[tuple[int, str, dict[str, Any]]] = []
    if kind == "spike":
        for s in sig.spikes:
            if s.recovered and (not min_ratio or (s.baseline > 0 and s.ratio >= min_ratio)):
                found.append(
                    (s.step, f"spike to {fmt(s.peak)} ({s.ratio:.3g}× its baseline {fmt(s.baseline)})", s.to_dict())
                )
    else:
        for e in sig.events_of(kind):
            if e.confidence < min_confidence:
                continue
            change = abs(e.after / e.before) if e.before else float("inf")
            if min_ratio and not (change >= min_ratio or (change and 1 / change >= min_ratio)):
                continue
            found.append((e.step, f"{kind.replace('_', ' ')} from {fmt(e.before)} to {fmt(e.after)}", e.to_dict()))
    if len(found) < min_count:
        return None
    step, text, first = found[0]
    return Detection(
        step,
        f"{split}/{metric}: {text} at step {step}" + (f" ({len(found)} in all)" if len(found) > 1 else ""),
        {
            "onset": {**first, "at": run.cite(split, metric, step)},
            "count": len(found),
            "events": [f[2] for f in found[:10]],
        },
    )


@check("series_compare")
def series_compare(
    run: Run, *, a: str = "eval/loss", b: str = "train/loss", op: Op = ">", value: float = 1.0, min_points: int = 3
) -> Detection | None:
    """Two series compared step by step: each point of `a` (split/metric, e.g. eval/loss) meets the
    latest point of `b` (e.g. train/loss) logged at or before its step; fires when a / b passes
    `op value` at each of the last `min_points` such pairs (a gap that holds at the end of the run)."""
    first, second = (finite(run.series(m, split=s)) for s, _, m in (a.partition("/"), b.partition("/")))
    if first.empty or second.empty:
        return None
    positions = np.searchsorted(second.index.to_numpy(), first.index.to_numpy(), side="right") - 1
    keep = positions >= 0
    steps, left, right = first.index.to_numpy()[keep], first.to_numpy()[keep], second.to_numpy()[positions[keep]]
    if len(steps) < min_points:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = left / right
    if op not in _OPS:
        raise ValueError(f"series_compare: unknown op {op!r}")
    passing = np.asarray(_OPS[op](ratio, value), dtype=bool) & np.isfinite(ratio)
    if not passing[-min_points:].all():
        return None
    start = true_runs(passing)[-1][0]  # the run of passing pairs that reaches the end
    step = int(steps[start])
    return Detection(
        step,
        f"{a} / {b} {op} {fmt(value)} from step {step} to the end "
        f"({len(passing) - start} points; last ratio {fmt(float(ratio[-1]))})",
        {
            "first": {
                "step": step,
                "a": fmt(float(left[start])),
                "b": fmt(float(right[start])),
                "ratio": round(float(ratio[start]), 4),
            },
            "last_ratio": round(float(ratio[-1]), 4),
            "points": int(len(passing) - start),
        },
    )
