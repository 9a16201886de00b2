"""Generic checks a rule can use without new code: a value test over any series, a named event from
the statistics (analyzer.signals), a comparison of two series step by step, and event counts
(checks.event_present)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from analyzer.model import Run
from analyzer.rules.checks import Detection, check, cite_point, finite, fmt
from analyzer.signals import run_signals, true_runs

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# What signal_event can look for: recovered spikes, or a change event of analyzer.signals.events.
_EVENT_KINDS = ("spike", "level_shift_up", "level_shift_down", "divergence_onset", "plateau_start", "slope_change")


@check(
    "value_test",
    choices={"op": ("nonfinite", *_OPS)},
    metric=str,
    split=str,
    op=str,
    value=float,
    min_run=int,
    min_fraction=float,
)
def value_test(run: Run, params: dict[str, Any]) -> Detection | None:
    """Points of one series that pass a test (`op` one of == != < <= > >= against `value`, or `nonfinite`):
    fires on the first run of at least `min_run` consecutive passing points, when at least
    `min_fraction` of all points pass."""
    metric, split = str(params.get("metric", "loss")), str(params.get("split", "train"))
    series = run.series(metric, split=split)
    if series.empty:
        return None
    values = series.to_numpy(dtype="float64")
    op = str(params.get("op", "nonfinite"))
    if op == "nonfinite":
        passing = ~np.isfinite(values)
    elif op in _OPS:
        with np.errstate(invalid="ignore"):
            passing = np.asarray(_OPS[op](values, float(params.get("value", 0.0))), dtype=bool)
    else:
        raise ValueError(f"value_test: unknown op {op!r}")
    fraction = float(passing.mean())
    runs = [r for r in true_runs(passing) if r[1] - r[0] >= int(params.get("min_run", 1))]
    if not runs or fraction < float(params.get("min_fraction", 0.0)):
        return None
    start, stop = runs[0]
    step = int(series.index[start])
    test = "non-finite" if op == "nonfinite" else f"{op} {fmt(float(params.get('value', 0.0)))}"
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


@check(
    "signal_event",
    choices={"kind": _EVENT_KINDS},
    metric=str,
    split=str,
    kind=str,
    min_ratio=float,
    min_confidence=float,
    min_count=int,
)
def signal_event(run: Run, params: dict[str, Any]) -> Detection | None:
    """A named event of the statistics on one series: `spike` (recovered; `min_ratio` = peak over
    baseline) or a change event (`level_shift_up`, `level_shift_down`, `divergence_onset`,
    `plateau_start`, `slope_change`; `min_ratio` = after over before), at least `min_count` of them."""
    metric, split = str(params.get("metric", "loss")), str(params.get("split", "train"))
    series = run.series(metric, split=split)
    if len(series) < 8:
        return None
    sig = run_signals(run, metric, split)
    kind = str(params.get("kind", "spike"))
    ratio = float(params.get("min_ratio", 0.0))
    found: list[tuple[int, str, dict[str, Any]]] = []
    if kind == "spike":
        for s in sig.spikes:
            if s.recovered and (not ratio or (s.baseline > 0 and s.ratio >= ratio)):
                found.append(
                    (s.step, f"spike to {fmt(s.peak)} ({s.ratio:.3g}× its baseline {fmt(s.baseline)})", s.to_dict())
                )
    else:
        for e in sig.events_of(kind):
            if e.confidence < float(params.get("min_confidence", 0.0)):
                continue
            change = abs(e.after / e.before) if e.before else float("inf")
            if ratio and not (change >= ratio or (change and 1 / change >= ratio)):
                continue
            found.append((e.step, f"{kind.replace('_', ' ')} from {fmt(e.before)} to {fmt(e.after)}", e.to_dict()))
    if len(found) < int(params.get("min_count", 1)):
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


@check("series_compare", choices={"op": tuple(_OPS)}, a=str, b=str, op=str, value=float, min_points=int)
def series_compare(run: Run, params: dict[str, Any]) -> Detection | None:
    """Two series compared step by step: each point of `a` (split/metric, e.g. eval/loss) meets the
    latest point of `b` (e.g. train/loss) logged at or before its step; fires when a / b passes
    `op value` at each of the last `min_points` such pairs (a gap that holds at the end of the run)."""
    a_name, b_name = str(params.get("a", "eval/loss")), str(params.get("b", "train/loss"))
    a, b = (
        finite(run.series(metric, split=split)) for split, _, metric in (a_name.partition("/"), b_name.partition("/"))
    )
    if a.empty or b.empty:
        return None
    positions = np.searchsorted(b.index.to_numpy(), a.index.to_numpy(), side="right") - 1
    keep = positions >= 0
    steps, left, right = a.index.to_numpy()[keep], a.to_numpy()[keep], b.to_numpy()[positions[keep]]
    need = int(params.get("min_points", 3))
    if len(steps) < need:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = left / right
    op, value = str(params.get("op", ">")), float(params.get("value", 1.0))
    if op not in _OPS:
        raise ValueError(f"series_compare: unknown op {op!r}")
    passing = np.asarray(_OPS[op](ratio, value), dtype=bool) & np.isfinite(ratio)
    if not passing[-need:].all():
        return None
    start = true_runs(passing)[-1][0]  # the run of passing pairs that reaches the end
    step = int(steps[start])
    return Detection(
        step,
        f"{a_name} / {b_name} {op} {fmt(value)} from step {step} to the end "
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
