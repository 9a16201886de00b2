"""Registered checks: typed functions over a Run that return evidence, never a bare bool.

A rule file (rules/*.yaml) names one check and its parameters; the check finds the onset and the
evidence, the rule supplies the failure mode, severity, causes and fixes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analyzer.model import Run
from analyzer.names import is_eval_split
from analyzer.signals import nonfinite_scan, true_runs


@dataclass
class Detection:
    """What a check saw: onset, a sentence, evidence; optionally a lower severity or confidence."""

    onset_step: int | None
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None  # overrides the rule's when the pattern is benign
    confidence: float | None = None


Check = Callable[[Run, dict[str, Any]], Detection | None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register a check under the name rules use."""
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return register


def fmt(value: float) -> str:
    """A value as a report shows it: NaN, inf, or up to 6 significant digits."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def _point(run: Run, split: str, metric: str, step: int, value: float) -> dict[str, Any]:
    return {"step": int(step), "value": fmt(value), "at": run.cite(split, metric, step)}


def _last_finite_before(series: pd.Series, step: int) -> dict[str, Any] | None:
    before = series[(series.index < step) & np.isfinite(series.to_numpy())]
    return {"step": int(before.index[-1]), "value": fmt(float(before.iloc[-1]))} if len(before) else None


def _train_broken_by(run: Run, step: int) -> bool:
    """The train loss was non-finite, or 0 with a non-finite grad_norm, at or before `step`."""
    loss, grad = run.series("loss"), run.series("grad_norm")
    loss = loss[loss.index <= step]
    if (~np.isfinite(loss.to_numpy())).any():
        return True
    bad_grad = grad.index[~np.isfinite(grad.to_numpy())]
    return bool(((loss == 0) & loss.index.isin(bad_grad)).any())


def runup_before(run: Run, onset: int, window: int = 5) -> dict[str, Any] | None:
    """Whether loss or grad_norm climbed in the logged steps just before `onset`.

    A run-up points at the optimizer (learning rate, precision range); a failure out of a calm,
    decreasing curve points at one batch or one operation.
    """
    loss = run.series("loss")
    before = loss[(loss.index < onset) & np.isfinite(loss.to_numpy()) & (loss.to_numpy() != 0)]
    if len(before) < 3:
        return None
    recent, earlier = before.iloc[-min(window, len(before) - 1):], before.iloc[:-min(window, len(before) - 1)]
    loss_up = bool(recent.max() > 1.5 * max(float(earlier.min()), 1e-12))
    grad = run.series("grad_norm")
    grad_before = grad[(grad.index < onset) & np.isfinite(grad.to_numpy())]
    grad_up = False
    if len(grad_before) >= 3:
        median = float(np.median(grad_before.iloc[:-min(window, len(grad_before) - 1)]))
        grad_up = bool(grad_before.iloc[-min(window, len(grad_before) - 1):].max() > 10 * max(median, 1e-12))
    return {"runup": loss_up or grad_up, "loss_rose": loss_up, "grad_norm_rose": grad_up,
            "recent_losses": [fmt(float(v)) for v in recent]}


def _aligned(run: Run) -> pd.DataFrame:
    """Train loss and grad_norm side by side on their steps (NaN where one was not logged)."""
    return pd.DataFrame({"loss": run.series("loss"), "grad_norm": run.series("grad_norm")}).sort_index()


@check("zero_loss_with_nonfinite_grad_norm")
def zero_loss_with_nonfinite_grad_norm(run: Run, params: dict[str, Any]) -> Detection | None:
    """Steps whose loss is exactly 0 while grad_norm is NaN/inf at the same step."""
    loss, raw = run.series("loss"), run.series("grad_norm")
    bad_grad = raw.index[~np.isfinite(raw.to_numpy())]
    hit = (loss == 0) & loss.index.isin(bad_grad)
    if not hit.any():
        return None
    steps = loss.index[hit.to_numpy()]
    onset = int(steps[0])
    grad_text = fmt(float(raw.get(onset, np.nan)))
    evidence: dict[str, Any] = {
        "onset": {"step": onset, "loss": "0", "grad_norm": grad_text,
                  "at": run.cite("train", "loss", onset)},
        "steps_affected": len(steps), "train_steps_logged": len(loss),
        "step_range": [onset, int(steps[-1])],
        "last_finite_loss_before": _last_finite_before(loss[loss != 0], onset),
        "before_onset": runup_before(run, onset),
    }
    return Detection(onset, f"loss is exactly 0.0 while grad_norm is {grad_text} from "
                            f"step {onset} ({len(steps)} of {len(loss)} logged steps)", evidence,
                     confidence=None if len(steps) >= params.get("min_points", 2) else 0.75)


@check("zero_loss_run")
def zero_loss_run(run: Run, params: dict[str, Any]) -> Detection | None:
    """A run of logged train losses that are exactly 0 while grad_norm is finite or not logged."""
    both = _aligned(run).dropna(subset=["loss"])
    if both.empty:
        return None
    raw = run.series("grad_norm")
    grad_bad = both.index.isin(raw.index[~np.isfinite(raw.to_numpy())])
    zero = ((both["loss"] == 0).to_numpy()) & ~grad_bad
    runs = [r for r in true_runs(zero) if r[1] - r[0] >= min(params.get("min_points", 2), len(both))]
    if not runs:
        return None
    start, stop = runs[0]
    steps = both.index.to_numpy()
    onset = int(steps[start])
    grads = both["grad_norm"].to_numpy()[start:stop]
    grads = grads[np.isfinite(grads)]
    from_start = start == 0
    evidence: dict[str, Any] = {
        "pattern": "from_start" if from_start else "after_finite_start",
        "onset": _point(run, "train", "loss", onset, 0.0),
        "zero_steps": int(zero.sum()), "train_steps_logged": len(both),
        "step_range": [onset, int(steps[stop - 1])],
        "grad_norm_during": ("not logged" if not len(grads) else
                             "all 0" if not grads.any() else f"{fmt(grads.min())} to {fmt(grads.max())}"),
        "grad_norm_zero": bool(len(grads)) and not grads.any(),
    }
    if not from_start:
        evidence["last_nonzero_loss_before"] = _last_finite_before(run.series("loss")[run.series("loss") != 0],
                                                                     onset)
    where = "from the first logged step" if from_start else f"from step {onset} after a non-zero start"
    message = (f"train loss is exactly 0 {where}: {int(zero.sum())} of {len(both)} logged steps, "
               f"grad_norm {evidence['grad_norm_during']}")
    confidence = 0.95 if from_start and evidence["grad_norm_zero"] else (0.85 if from_start else 0.7)
    return Detection(onset, message, evidence, confidence=confidence)


@check("nonfinite_train_loss")
def nonfinite_train_loss(run: Run, params: dict[str, Any]) -> Detection | None:
    """Train loss NaN or ±inf at one or more logged steps."""
    loss = run.series("loss")
    scan = nonfinite_scan(loss)
    if not scan.count:
        return None
    onset = scan.first_step
    assert onset is not None
    evidence = {"onset": _point(run, "train", "loss", onset, float(loss[onset])),
                "nonfinite_steps": scan.count, "train_steps_logged": scan.total,
                "longest_run": scan.longest_run, "recovered": scan.recovered,
                "last_finite_before": _last_finite_before(loss, onset),
                "before_onset": runup_before(run, onset)}
    tail = "and it never came back" if not scan.recovered else "then finite values again"
    return Detection(onset, f"train loss is {fmt(float(loss[onset]))} at step {onset} "
                            f"({scan.count} of {scan.total} logged steps), {tail}", evidence)


@check("nonfinite_grad_norm")
def nonfinite_grad_norm(run: Run, params: dict[str, Any]) -> Detection | None:
    """grad_norm NaN/inf where the loss is finite and non-zero (or not logged).

    A few isolated non-finite values early in the run are the fp16 GradScaler finding its scale
    (the step is skipped, and so is the scheduler): reported at info severity only.
    """
    grad = run.series("grad_norm")
    loss = run.series("loss").reindex(grad.index)
    # Steps whose loss is 0 or non-finite belong to the loss rules (loss-zero-grad-norm-nan, loss-becomes-nan).
    values = loss.to_numpy()
    loss_broken = (values == 0) | np.isinf(values) | (np.isnan(values) & loss.index.isin(run.series("loss").index))
    candidate = grad[~loss_broken]
    scan = nonfinite_scan(candidate)
    if not scan.count:
        return None
    onset = scan.first_step
    assert onset is not None
    early_limit = max(params.get("early_points", 10), int(0.1 * len(grad)))
    positions = np.flatnonzero(~np.isfinite(candidate.to_numpy()))
    benign = (scan.longest_run <= params.get("benign_max_run", 2) and scan.count <= params.get("benign_max_count", 3)
              and not scan.last_is_nonfinite and bool(positions.max() < early_limit))
    bad_steps = [int(s) for s in scan.steps[:20]]
    evidence: dict[str, Any] = {"pattern": "early_isolated" if benign else "repeated",
                "onset": _point(run, "train", "grad_norm", onset, float(grad[onset])),
                "nonfinite_steps": bad_steps, "nonfinite_count": scan.count,
                "grad_norm_logged": len(grad), "longest_run": scan.longest_run,
                "loss_at_onset": fmt(float(loss.get(onset, np.nan))) if onset in loss.index else "not logged"}
    if benign:
        return Detection(onset, f"grad_norm is non-finite at {scan.count} isolated early step(s) "
                                f"({', '.join(map(str, bad_steps))}) and finite afterwards: "
                                "mixed-precision loss-scale calibration, not a failure", evidence,
                         severity="info", confidence=0.6)
    severity = "error" if scan.last_is_nonfinite or scan.longest_run >= 3 else None
    return Detection(onset, f"grad_norm is non-finite at {scan.count} of {len(grad)} logged steps from step "
                            f"{onset} while the loss stays finite", evidence, severity=severity)


@check("nonfinite_eval_loss")
def nonfinite_eval_loss(run: Run, params: dict[str, Any]) -> Detection | None:
    """Eval loss NaN/inf in any eval set; says whether the train loss was still finite then."""
    found: list[tuple[int, str, float]] = []
    for split in run.splits():
        if is_eval_split(split):
            series = run.series("loss", split)
            scan = nonfinite_scan(series)
            if scan.count and scan.first_step is not None:
                found.append((scan.first_step, split, float(series[scan.first_step])))
    if not found:
        return None
    onset, split, value = min(found)
    series = run.series("loss", split)
    scan = nonfinite_scan(series)
    train = run.series("loss")
    upto = train[train.index <= onset]
    train_broken = _train_broken_by(run, onset)
    evidence: dict[str, Any] = {
        "pattern": "train_broken" if train_broken else ("train_finite" if len(upto) else "no_train_loss"),
        "onset": _point(run, split, "loss", onset, value), "eval_set": split,
        "nonfinite_evals": scan.count, "evals": scan.total,
        "eval_sets_affected": sorted({s for _, s, _ in found}),
        "train_loss_at_onset": ({"step": int(upto.index[-1]), "value": fmt(float(upto.iloc[-1]))}
                                if len(upto) else None),
    }
    train_text = ("while the train loss is also broken" if train_broken else
                  f"while the train loss is {evidence['train_loss_at_onset']['value']}" if len(upto) else
                  "(no train loss logged before it)")
    return Detection(onset, f"{split} loss is {fmt(value)} at step {onset} ({scan.count} of {scan.total} "
                            f"evaluations) {train_text}", evidence,
                     confidence=0.6 if train_broken else None)


@check("stopped_before_max_steps")
def stopped_before_max_steps(run: Run, params: dict[str, Any]) -> Detection | None:
    """The run's status says it ended before its planned number of steps."""
    if run.meta.get("status") != "stopped_early":
        return None
    last = int(run.metrics["step"].max()) if not run.metrics.empty else None
    return Detection(last, f"the run stopped early: {run.meta.get('status_reason', '')}",
                     {"status_reason": run.meta.get("status_reason", ""), "last_step": last,
                      "max_steps": run.meta.get("max_steps")})
