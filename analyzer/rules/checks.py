"""Registered checks: typed functions over a Run that return evidence, never a bare bool.

A rule file (rules/*.yaml) names one check and its parameters; the check finds the onset and the
evidence, the rule supplies the failure mode, severity, causes and fixes.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast, get_args, get_origin, get_type_hints

import numpy as np
import pandas as pd

from analyzer.model import SEVERITIES, Run, severity_rank
from analyzer.names import LOSS_FUNCTIONS, is_eval_split, loss_variant
from analyzer.signals.toolkit import NonFinite, nonfinite_scan, true_runs


@dataclass
class Detection:
    """What a check saw: onset, a sentence, evidence; optionally a lower severity or confidence."""

    onset_step: int | None
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: str | None = None  # overrides the rule's when the pattern is benign
    confidence: float | None = None


Check = Callable[..., Detection | None]
CheckT = TypeVar("CheckT", bound=Check)
CHECKS: dict[str, Check] = {}


@dataclass(frozen=True)
class Param:
    """One parameter of a check, read from its signature: a rule file may set it, else the default runs."""

    name: str
    type: type  # int, float, str, bool, or tuple: a list of strings in a rule file
    default: Any
    choices: tuple[str, ...] = ()  # from a Literal annotation: the only values it takes

    @property
    def type_name(self) -> str:
        """The type as a rule file writes it."""
        return "list[str]" if self.type is tuple else self.type.__name__

    def accepts(self, value: Any) -> bool:
        """A value of this type (float takes ints too; a list of strings for a tuple) and one of the choices."""
        if isinstance(value, bool):
            ok = self.type is bool
        elif self.type is float:
            ok = isinstance(value, (int, float))
        elif self.type is tuple:
            ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, self.type)
        return ok and (not self.choices or value in self.choices)

    def convert(self, value: Any) -> Any:
        """A rule file's value as the check takes it: a YAML list as a tuple, an int as a float."""
        return tuple(value) if self.type is tuple else float(value) if self.type is float else value


# Check name -> its parameters, in signature order.
CHECK_SPECS: dict[str, dict[str, Param]] = {}


def params_of(fn: Callable[..., Any]) -> dict[str, Param]:
    """The parameters of a check from its signature: after the run, keyword-only, each annotated with
    int, float, str, bool, tuple[str, ...] or a Literal of strings (its choices), and with a default."""
    hints = get_type_hints(fn)
    out: dict[str, Param] = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        hint = hints.get(p.name)
        if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.default is inspect.Parameter.empty:
            raise TypeError(f"check {fn.__name__}: parameter `{p.name}` must be keyword-only with a default")
        if get_origin(hint) is Literal and all(isinstance(c, str) for c in get_args(hint)):
            param = Param(p.name, str, p.default, get_args(hint))
        elif hint == tuple[str, ...]:
            param = Param(p.name, tuple, p.default)
        elif hint in (int, float, str, bool):
            param = Param(p.name, hint, p.default)
        else:
            raise TypeError(f"check {fn.__name__}: parameter `{p.name}` has an unsupported type {hint}")
        if not param.accepts(p.default):
            raise TypeError(f"check {fn.__name__}: the default of `{p.name}` is not a {param.type_name}")
        out[p.name] = param
    return out


def check(name: str) -> Callable[[CheckT], CheckT]:
    """Register a check under the name rules use; its parameters, their types, defaults and choices come
    from its signature (checked when a rule loads, not when it runs)."""

    def register(fn: CheckT) -> CheckT:
        CHECK_SPECS[name] = params_of(fn)
        CHECKS[name] = fn
        return fn

    return register


def finite(series: pd.Series) -> pd.Series:
    """The points of a series that are neither NaN nor inf (the series itself when all are: no indexing)."""
    keep = np.isfinite(series.to_numpy())
    return series if keep.all() else series[keep]


def fmt(value: float) -> str:
    """A value as a report shows it: NaN, inf, or up to 6 significant digits."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def cite_point(run: Run, split: str, metric: str, step: int, value: float) -> dict[str, Any]:
    """One observation as evidence: step, value as shown, and its `file:line`."""
    return {"step": int(step), "value": fmt(value), "at": run.cite(split, metric, step)}


def _last_finite_before(series: pd.Series, step: int) -> dict[str, Any] | None:
    before = series[(series.index < step) & np.isfinite(series.to_numpy())]
    return {"step": int(before.index[-1]), "value": fmt(float(before.iloc[-1]))} if len(before) else None


def _stays_nonfinite(scan: NonFinite, least: int = 3) -> bool:
    """A series finite over `least` records or more, then non-finite at every record to its end, `least` or more
    (one run of non-finite points, the last one): a quantity the model computes broke and never came back (one
    column alone, `L: nan C: 7.52`)."""
    to_the_end = scan.last_is_nonfinite and scan.longest_run == scan.count
    return to_the_end and scan.count >= least and scan.total - scan.count >= least


def _train_broken_by(run: Run, step: int) -> bool:
    """The train loss was non-finite, or 0 with a non-finite grad_norm, at or before `step`."""
    loss, grad = run.series("loss"), run.series("grad_norm")
    loss = loss[loss.index <= step]
    if (~np.isfinite(loss.to_numpy())).any():
        return True
    return bool(((loss == 0) & loss.index.isin(_nonfinite_steps(grad))).any())


def runup_before(run: Run, onset: int, window: int = 5) -> dict[str, Any] | None:
    """Whether loss or grad_norm climbed in the logged steps just before `onset`.

    A run-up points at the optimizer (learning rate, precision range); a failure out of a calm,
    decreasing curve points at one batch or one operation.
    """
    loss = run.series("loss")
    before = loss[(loss.index < onset) & np.isfinite(loss.to_numpy()) & (loss.to_numpy() != 0)]
    if len(before) < 3:
        return None
    recent, earlier = before.iloc[-min(window, len(before) - 1) :], before.iloc[: -min(window, len(before) - 1)]
    loss_up = bool(recent.max() > 1.5 * max(float(earlier.min()), 1e-12))
    grad = run.series("grad_norm")
    grad_before = grad[(grad.index < onset) & np.isfinite(grad.to_numpy())]
    grad_up = False
    if len(grad_before) >= 3:
        median = float(np.median(grad_before.iloc[: -min(window, len(grad_before) - 1)]))
        grad_up = bool(grad_before.iloc[-min(window, len(grad_before) - 1) :].max() > 10 * max(median, 1e-12))
    return {
        "runup": loss_up or grad_up,
        "loss_rose": loss_up,
        "grad_norm_rose": grad_up,
        "recent_losses": [fmt(float(v)) for v in recent],
    }


def _nonfinite_steps(series: pd.Series) -> pd.Index:
    """The steps at which a series is NaN or ±inf."""
    return series.index[~np.isfinite(series.to_numpy())]


def _aligned(run: Run) -> pd.DataFrame:
    """Train loss and grad_norm side by side on their steps (NaN where one was not logged)."""
    return pd.DataFrame({"loss": run.series("loss"), "grad_norm": run.series("grad_norm")}).sort_index()


@check("zero_loss_with_nonfinite_grad_norm")
def zero_loss_with_nonfinite_grad_norm(run: Run, *, min_points: int = 2) -> Detection | None:
    """Steps whose loss is exactly 0 while grad_norm is NaN/inf at the same step."""
    loss, raw = run.series("loss"), run.series("grad_norm")
    if not (loss.to_numpy() == 0).any():
        return None
    hit = (loss == 0) & loss.index.isin(_nonfinite_steps(raw))
    if not hit.any():
        return None
    steps = loss.index[hit.to_numpy()]
    onset = int(steps[0])
    grad_text = fmt(float(raw.get(onset, np.nan)))
    evidence: dict[str, Any] = {
        "onset": {"step": onset, "loss": "0", "grad_norm": grad_text, "at": run.cite("train", "loss", onset)},
        "steps_affected": len(steps),
        "train_steps_logged": len(loss),
        "step_range": [onset, int(steps[-1])],
        "last_finite_loss_before": _last_finite_before(loss[loss != 0], onset),
        "before_onset": runup_before(run, onset),
    }
    return Detection(
        onset,
        f"loss is exactly 0.0 while grad_norm is {grad_text} from "
        f"step {onset} ({len(steps)} of {len(loss)} logged steps)",
        evidence,
        confidence=None if len(steps) >= min_points else 0.75,
    )


FLOAT32_FLOOR = 1.2e-7  # float32's machine epsilon (1.1921e-07), rounded up: a loss at or below it is 0 to float32


@check("zero_loss_run")
def zero_loss_run(run: Run, *, min_points: int = 2) -> Detection | None:
    """A run of logged train losses that are exactly 0 while grad_norm is finite or not logged; or 0 to float32
    precision: at or below FLOAT32_FLOOR (Keras/TF clip probabilities to [eps, 1 - eps], so the cross-entropy
    they print for a model that is certain never goes below eps = 1.1921e-07), the same value at least twice in a
    row (a regression's error that keeps falling past 1e-7 is no floor)."""
    if not (np.abs(run.series("loss").to_numpy()) <= FLOAT32_FLOOR).any():
        return None
    both = _aligned(run).dropna(subset=["loss"])
    if both.empty:
        return None
    grad_bad = both.index.isin(_nonfinite_steps(run.series("grad_norm")))
    values = both["loss"].to_numpy()
    repeated = np.zeros(len(values), dtype=bool)  # a floor is where the loss stays: the same value twice in a row
    repeated[1:] |= values[1:] == values[:-1]
    repeated[:-1] |= values[:-1] == values[1:]
    zero = ((values == 0) | ((np.abs(values) <= FLOAT32_FLOOR) & repeated)) & ~grad_bad
    # A run of zeros at least `min_points` long, or one the log ends in (a paste cut after the first 0.0:
    # it never came back within what was seen), said with less confidence when shorter.
    runs = [r for r in true_runs(zero) if r[1] - r[0] >= min(min_points, len(both)) or (r[1] == len(both) and r[0] > 0)]
    if runs and runs[0][0] == 0 and len(runs) == 1 and not zero[runs[0][1] :].any() and 5 * runs[0][1] <= len(both):
        # 0 over a start-up stretch only (an RL loop before its replay buffer holds a batch), a loss at every one
        # of the four times as many records after it: the loss works
        return None
    if not runs:
        return None
    start, stop = runs[0]
    steps = both.index.to_numpy()
    onset = int(steps[start])
    grads = both["grad_norm"].to_numpy()[start:stop]
    grads = grads[np.isfinite(grads)]
    from_start = start == 0
    if _improves_meanwhile(run, onset, from_start):
        # a model that gets better at evaluation from the first 0 on has a loss: the printed 0 is the logger's
        return None
    evidence: dict[str, Any] = {
        "pattern": "from_start" if from_start else "after_finite_start",
        "onset": cite_point(run, "train", "loss", onset, float(values[start])),
        "zero_steps": int(zero.sum()),
        "train_steps_logged": len(both),
        "step_range": [onset, int(steps[stop - 1])],
        "grad_norm_during": (
            "not logged"
            if not len(grads)
            else "all 0"
            if not grads.any()
            else f"{fmt(grads.min())} to {fmt(grads.max())}"
        ),
        "grad_norm_zero": bool(not grads.any()) if len(grads) else None,  # None: grad_norm not logged
    }
    floor = float(np.abs(values[start:stop]).max())
    if floor > 0:
        evidence["at_float_floor"] = True  # 1.1921e-07, not exactly 0
    if not from_start:
        loss = both["loss"]
        evidence["last_nonzero_loss_before"] = _last_finite_before(loss[loss != 0], onset)
    where = "from the first logged step" if from_start else f"from step {onset} after a non-zero start"
    said = (
        "exactly 0"
        if floor == 0
        else f"0 to float32 precision ({fmt(floor)}, the floor a clipped cross-entropy prints)"
    )
    message = (
        f"train loss is {said} {where}: {int(zero.sum())} of {len(both)} logged steps, "
        f"grad_norm {evidence['grad_norm_during']}"
    )
    confidence = 0.95 if from_start and evidence["grad_norm_zero"] else (0.85 if from_start else 0.7)
    if stop - start < min(min_points, len(both)):
        confidence, message = 0.6, message + " (the log ends there)"
    return Detection(onset, message, evidence, confidence=confidence)


def _improves_meanwhile(run: Run, onset: int, from_start: bool) -> bool:
    """An evaluation (loss or score) that got better by 2% or more of its value when the loss first read 0 (see
    curves._eval_improves; weight decay alone moves a model with no gradient, it does not improve it): a loss of 0
    gives no gradient, so such a run is learning from a loss its log does not show (HugeCTR prints `Loss: 0.000000`
    at every iteration while the AUC climbs to its target; Keras prints `loss: 0` for a Levenberg-Marquardt fit
    whose validation error falls to 1e-7). After a start with a loss, the baseline is the first evaluation at or
    after the first 0: the evaluations before it saw the updates made before the loss became 0."""
    from analyzer.rules.curves import _eval_improves  # curves imports this module

    if not from_start:
        after = [
            int(series.index[series.index >= onset][0])
            for split, metric in run.series_names()
            if split == "eval"
            and len(series := finite(run.series(metric, split=split)))
            and (series.index >= onset).any()
        ]
        if not after:
            return False
        onset = min(after) + 1
    return _eval_improves(run, onset, by=0.02)


def _reported_nonfinite_loss(run: Run) -> Detection | None:
    """A loop that says its loss was not finite and goes on (`Skipping batch at iter 43167: non-finite
    loss`): the NaN never reaches a printed value, the loop's own words say it."""
    said = run.events_of(["loss_nonfinite"])
    if said.empty:
        return None
    first = said.iloc[0]
    onset = None if pd.isna(first["step"]) else int(first["step"])
    return Detection(
        onset,
        f"the training loop reported a non-finite loss {len(said)} time(s)"
        + (f", first at step {onset}" if onset is not None else "")
        + ": the forward pass produced NaN or inf (the loop skipped those batches, no printed value shows it)",
        {"reports": len(said), "first_report": _cite_event(first)},
        confidence=0.8,
    )


@check("nonfinite_train_loss")
def nonfinite_train_loss(run: Run) -> Detection | None:
    """Train loss NaN or ±inf at one or more logged steps; or its running mean printed beside it
    (`loss: 23.37 (nan)`: a batch between two printed ones was NaN), the loss aggregated under a name of
    its own (icefall's `tot_loss[loss=nan]` beside the batch's finite `loss`), or the loss a second kind
    of record summarises (`Mean Training loss : nan` after each epoch's bar), whichever turns first: an
    average that is not finite took a value that was not."""
    metric, loss = "loss", run.series("loss")
    scan = nonfinite_scan(loss)
    variants = [m for s, m in run.series_names() if s == "train" and loss_variant(m) and m != "loss_avg"]
    for other in ("loss_avg", *variants, "loss_summary"):
        if not run.has(other):
            continue
        series = run.series(other)
        found = nonfinite_scan(series)
        earlier = scan.first_step is None or (found.first_step is not None and found.first_step < scan.first_step)
        if found.count and earlier:
            metric, loss, scan = other, series, found
    if not scan.count:
        return _reported_nonfinite_loss(run)
    onset = scan.first_step
    assert onset is not None
    named = {"loss": "train loss", "loss_avg": "running mean of the train loss"}.get(
        metric, "train loss of the summary records" if metric == "loss_summary" else f"train loss as `{metric}`"
    )
    evidence = {
        "onset": cite_point(run, "train", metric, onset, float(loss[onset])),
        "nonfinite_steps": scan.count,
        "train_steps_logged": scan.total,
        "longest_run": scan.longest_run,
        "recovered": scan.recovered,
        "last_finite_before": _last_finite_before(loss, onset),
        "before_onset": runup_before(run, onset),
    }
    if metric != "loss":
        evidence["series"] = metric
    again = bool(np.isfinite(loss[loss.index > onset].to_numpy(dtype=float)).any())
    tail = (
        "then finite values again"
        if scan.recovered
        else "finite again at times, and non-finite at the end"
        if again
        else "and it never came back"
    )
    return Detection(
        onset,
        f"{named} is {fmt(float(loss[onset]))} at step {onset} ({scan.count} of {scan.total} logged steps), {tail}",
        evidence,
    )


# Series that say nothing of the model's numbers when they are NaN (a schedule, a counter, a clock).
_NOT_COMPUTED = re.compile(
    r"learning_rate|^lr|epoch|step|time|speed|per_second|samples|tokens|mem|^labels$|size$|(?:^|_)best(?:_|$)"
)
_SCALER = re.compile(r"(?:^|_)loss_scaler?(?:$|_)")  # the fp16 scaler's setting, not a loss


def loss_parts(run: Run) -> list[str]:
    """The train series that are parts of a loss nobody named `loss`: a word of the name holds `loss`
    (`d_loss`, `value_function_loss`, `lossG`, `total_closs`), or the name is BasicSR's `l_<term>`
    (`l_pix`, `l_g_gan`, `l_d_real`), the fp16 loss scale excepted."""
    return [
        m
        for s, m in run.series_names()
        if s == "train"
        and (any("loss" in word for word in m.split("_")) or (m.startswith("l_") and len(m) > 2) or _loss_function(m))
        and not _SCALER.search(m)
        and "best" not in m.split("_")  # a best-so-far tracker (`best_loss = inf` before the first eval)
    ]


def zero_tail(loss: pd.Series, least: int = 2) -> int | None:
    """The step from which a loss reads exactly 0.0 to its end (`least` points or more), after non-zero values."""
    values = loss.to_numpy()
    nonzero = np.flatnonzero(values != 0)
    if not len(nonzero) or len(values) - 1 - int(nonzero[-1]) < least:
        return None
    return int(loss.index[int(nonzero[-1]) + 1])


def _loss_function(metric: str) -> bool:
    """A name that is a loss function's (`smoothl1`, `cross_entropy`, `metrics_language_cross_entropy`): a loss."""
    return metric in LOSS_FUNCTIONS or any(metric.endswith("_" + f) for f in LOSS_FUNCTIONS if len(f) > 3)


@check("zero_loss_part")
def zero_loss_part(run: Run, *, least: int = 4) -> Detection | None:
    """With no series named the train loss: a named part of it (a GAN's `discriminator_loss`) that reads
    exactly 0 at its last `least` records or more, and its last quarter at least, after non-zero values: that
    term no longer gives a gradient (a discriminator that wins outright, a term whose inputs are all masked)."""
    if run.has("loss"):
        return None  # the loss-exactly-zero rule reads the loss itself
    for part in loss_parts(run):
        series = finite(run.series(part))
        values = series.to_numpy()
        onset = zero_tail(series, max(least, len(values) // 4))
        if onset is None:
            continue
        tail = int((series.index >= onset).sum())
        return Detection(
            onset,
            f"loss part {part} is exactly 0 from step {onset} to the end ({tail} of {len(values)} records) after "
            f"non-zero values; no series is named the train loss: that term gives no gradient any more",
            {
                "pattern": "loss_part_zero",
                "series": part,
                "onset": cite_point(run, "train", part, onset, 0.0),
                "zero_steps": tail,
                "train_steps_logged": len(values),
                "last_nonzero_loss_before": _last_finite_before(series[series != 0], onset),
            },
            confidence=0.6,
        )
    return None


@check("nonfinite_train_metrics")
def nonfinite_train_metrics(run: Run, *, min_together: int = 2) -> Detection | None:
    """With no series named the train loss, or one that reads exactly 0 at every record (a logger's 0 that
    shows no NaN: `loss: 0.00000 | Train mse: nan`) or from some record to its end while the metrics are
    non-finite there (a trainer's NaN filter: a DPO run's `loss: 0.0` beside NaN `logps` and `rewards`): its
    parts (`value_function_loss`, `d_loss`, an `mse`) NaN or ±inf, or several train metrics the model computes
    turning non-finite at the same step (a table of loss parts whose header never says `loss`: YOLO's `box obj
    cls`). With a train loss printed: a part that turns non-finite after the loss's last record (the total was
    no longer printed)."""
    loss = run.series("loss")
    printed = loss.to_numpy()
    zero = bool(len(printed)) and bool((printed == 0).all())
    tail = None if zero else zero_tail(loss)  # 0 from this step on, after values that were not
    zero = zero or tail is not None
    # A loss printed and moving: loss-becomes-nan reads it; only a part that turns NaN after the loss's last
    # record is this check's (the total stopped being printed: a federated round's workers' own losses).
    since = int(loss.index[-1]) if run.has("loss") and not zero else None
    names = [m for s, m in run.series_names() if s == "train" and m != "loss" and not _NOT_COMPUTED.search(m)]
    # a loss is computed whatever else its name says (`noise_step_loss`, `loss_time`)
    parts = [m for m in loss_parts(run) if m != "loss"]
    if since is not None and not parts:
        return None
    scans = {m: nonfinite_scan(run.series(m)) for m in (parts or names)}
    broken = {
        m: scan
        for m, scan in scans.items()
        if scan.count
        and (since is None or (scan.first_step is not None and scan.first_step > since))
        and (tail is None or bool((scan.steps >= tail).any()))  # non-finite where the loss reads 0
    }
    if not broken:
        return None
    onset = min(int(scan.first_step) for scan in broken.values() if scan.first_step is not None)
    together = [m for m, scan in broken.items() if scan.first_step == onset]
    if not parts:
        # Any metric, so ask more: several at once (at the onset or the record after it: a NaN in the train loss
        # reaches the eval loss one epoch later), finite before (a column that is always NaN is no failure).
        after = [index[index > onset] for index in (run.series(m).index for m in names)]
        following = min((int(a.min()) for a in after if len(a)), default=onset)
        at_once = [m for m, scan in broken.items() if scan.first_step is not None and scan.first_step <= following]
        # finite before, or never finite over three records or more (a list of unnamed losses printed NaN from
        # its first line: a column that is NaN alone is no failure, several at every record are)
        finite_before = [
            m
            for m in at_once
            if _last_finite_before(run.series(m), onset) is not None
            or (len(values := run.series(m).to_numpy()) >= 3 and not np.isfinite(values).any())
        ]
        # one alone, where no loss is printed at all (beside a loss of 0, a NaN grad_norm is loss-zero-grad-norm-nan's)
        alone = len(finite_before) == 1 and not run.has("loss") and finite_before[0] != "grad_norm"
        if len(finite_before) < min_together and not (alone and _stays_nonfinite(scans[finite_before[0]])):
            return None
        together = finite_before
    first = together[0]
    value = float(run.series(first)[onset])
    shown = ", ".join(together[:6]) + (f" and {len(together) - 6} more" if len(together) > 6 else "")
    kind = ("loss part" if parts else "train metric") + ("" if len(together) == 1 else "s")
    return Detection(
        onset,
        f"{kind} {shown} {'is' if len(together) == 1 else 'are'} non-finite from step {onset} "
        f"({fmt(value)}); "
        + (
            "the train loss reads exactly 0 at every record, a NaN it does not show"
            if zero and tail is None
            else f"the train loss reads exactly 0 from step {tail} on, a NaN it does not show"
            if zero
            else f"the train loss was last printed at step {since}, finite"
            if since is not None
            else "no series is named the train loss"
        ),
        {
            "onset": cite_point(run, "train", first, onset, value),
            "series": together,
            "named_loss_parts": bool(parts),
            "last_finite_before": _last_finite_before(run.series(first), onset),
            "before_onset": runup_before(run, onset),
        },
        confidence=None if parts else 0.6,
    )


@check("nonfinite_grad_norm")
def nonfinite_grad_norm(
    run: Run, *, early_points: int = 10, benign_max_run: int = 2, benign_max_count: int = 3
) -> Detection | None:
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
    early_limit = max(early_points, int(0.1 * len(grad)))
    positions = np.flatnonzero(~np.isfinite(candidate.to_numpy()))
    benign = (
        scan.longest_run <= benign_max_run
        and scan.count <= benign_max_count
        and not scan.last_is_nonfinite
        and bool(positions.max() < early_limit)
    )
    # Each non-finite grad_norm came with a step the scaler skipped and a lower loss scale (`Gradient norm: inf`,
    # then `Skipped batch, new scale: 512.0`): the dynamic loss scaler at work; a collapse is the fp16 rule's
    skips = run.count_events(["overflow_skip"])
    # Or every one is +inf (an overflow, not a NaN), at a minority of the logged steps, in a run that logs its
    # dynamic loss scale, held above 1 throughout: the scaler skipped those steps and kept its scale (MAE's epoch
    # means of `train_grad_norm` are Infinity whenever one step of the epoch overflowed). A scale at its floor is
    # the fp16 rule's; a norm that is never finite shows no healthy step to set the overflows against.
    scale = finite(run.series("loss_scale"))
    inf_only = bool(np.isposinf(candidate.to_numpy()[positions]).all()) and 2 * scan.count < len(candidate)
    scaler = skips >= scan.count or (inf_only and len(scale) > 0 and float(scale.min()) > 1.0)
    bad_steps = [int(s) for s in scan.steps[:20]]
    evidence: dict[str, Any] = {
        "pattern": "early_isolated" if benign else "scaler_skips" if scaler else "repeated",
        "onset": cite_point(run, "train", "grad_norm", onset, float(grad[onset])),
        "nonfinite_steps": bad_steps,
        "nonfinite_count": scan.count,
        "grad_norm_logged": len(grad),
        "longest_run": scan.longest_run,
        "loss_at_onset": fmt(float(loss.get(onset, np.nan))) if onset in loss.index else "not logged",
    }
    if benign:
        return Detection(
            onset,
            f"grad_norm is non-finite at {scan.count} isolated early step(s) "
            f"({', '.join(map(str, bad_steps))}) and finite afterwards: "
            "mixed-precision loss-scale calibration, not a failure",
            evidence,
            severity="info",
            confidence=0.6,
        )
    if scaler:
        return Detection(
            onset,
            f"grad_norm is non-finite at {scan.count} logged step(s), "
            + (
                f"each with a step the loss scaler skipped ({skips} overflow skips in the log)"
                if skips >= scan.count
                else f"each +inf while the logged loss scale stays at {fmt(float(scale.min()))} or above"
            )
            + ": mixed-precision loss scaling at work, not a failure while the scale recovers",
            evidence,
            severity="info",
            confidence=0.6,
        )
    severity = "error" if scan.last_is_nonfinite or scan.longest_run >= 3 else None
    return Detection(
        onset,
        f"grad_norm is non-finite at {scan.count} of {len(grad)} logged steps from step "
        f"{onset} while the loss stays finite",
        evidence,
        severity=severity,
    )


@check("nonfinite_eval_loss")
def nonfinite_eval_loss(run: Run) -> Detection | None:
    """Eval loss NaN/inf in any eval set; says whether the train loss was still finite then."""
    found: list[tuple[int, str, float]] = []
    name = {}  # an evaluation printed at its first batch only: a NaN there is one in the evaluation's mean too
    for split in run.splits():
        if is_eval_split(split):
            name[split] = (
                "loss" if run.has("loss", split) or not run.has("loss_first_batch", split) else "loss_first_batch"
            )
            series = run.series(name[split], split)
            scan = nonfinite_scan(series)
            if scan.count and scan.first_step is not None:
                found.append((scan.first_step, split, float(series[scan.first_step])))
    if not found:
        return None
    onset, split, value = min(found)
    series = run.series(name[split], split)
    scan = nonfinite_scan(series)
    train = run.series("loss")
    upto = train[train.index <= onset]
    train_broken = _train_broken_by(run, onset)
    # Lightning's sanity check runs validation on an untrained model before the first training step:
    # a NaN that only shows there is not a training failure (evaluations during training would repeat it).
    if len(train) and scan.steps.max() < train.index.min():
        later = len(series[series.index >= train.index.min()])
        return Detection(
            onset,
            f"{split} loss is {fmt(value)} only before training started (step {onset}, a sanity "
            f"check); {later} evaluation(s) during training",
            {
                "pattern": "before_training",
                "eval_set": split,
                "later_evals": later,
                "onset": cite_point(run, split, "loss", onset, value),
            },
            severity="info",
            confidence=0.6,
        )
    evidence: dict[str, Any] = {
        "pattern": "train_broken" if train_broken else ("train_finite" if len(upto) else "no_train_loss"),
        "onset": cite_point(run, split, name[split], onset, value),
        "eval_set": split,
        "nonfinite_evals": scan.count,
        "evals": scan.total,
        "eval_sets_affected": sorted({s for _, s, _ in found}),
        "train_loss_at_onset": (
            {"step": int(upto.index[-1]), "value": fmt(float(upto.iloc[-1]))} if len(upto) else None
        ),
    }
    train_text = (
        "while the train loss is also broken"
        if train_broken
        else f"while the train loss is {evidence['train_loss_at_onset']['value']}"
        if len(upto)
        else "(no train loss logged before it)"
    )
    return Detection(
        onset,
        f"{split} loss{' (of its first batch)' if name[split] != 'loss' else ''} is {fmt(value)} at step {onset} "
        f"({scan.count} of {scan.total} evaluations) {train_text}",
        evidence,
        confidence=0.6 if train_broken else None,
    )


@check("run_status")
def run_status(run: Run, *, status: tuple[str, ...] = ("stopped_early",)) -> Detection | None:
    """The run's status (meta.status) is one of `status`: it ended before its planned steps."""
    if run.meta.get("status") not in status:
        return None
    last = int(run.metrics["step"].max()) if not run.metrics.empty else None
    return Detection(
        last,
        f"the run {run.meta['status'].replace('_', ' ')}: {run.meta.get('status_reason', '')}",
        {"status_reason": run.meta.get("status_reason", ""), "last_step": last, "max_steps": run.meta.get("max_steps")},
    )


def _cite_event(row: pd.Series) -> dict[str, Any]:
    return {
        "step": None if pd.isna(row["step"]) else int(row["step"]),
        "message": row["message"],
        "at": f"{row['source']}:{row['line']}" if pd.notna(row["line"]) else str(row["source"]),
    }


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _says(events: pd.DataFrame, pattern: str) -> np.ndarray:
    """Which events' messages match `pattern` (a few messages: re over the list, not pandas' str machinery)."""
    search = _compiled(pattern).search
    return np.fromiter((bool(search(str(m))) for m in events["message"]), dtype=bool, count=len(events))


def _train_record_lines(run: Run) -> dict[str, np.ndarray]:
    """The line numbers of each file's train records, sorted (what the event checks order an event against);
    computed once per run."""
    lines = run.__dict__.get("_train_record_lines")
    if lines is None:
        train = run.metrics[(run.metrics["split"] == "train") & run.metrics["line"].notna()]
        lines = run.__dict__["_train_record_lines"] = {
            str(source): np.sort(group["line"].to_numpy(dtype=np.int64))
            for source, group in train.groupby("source", observed=True)
        }
    return cast(dict[str, np.ndarray], lines)


def _caught_again(run: Run, found: pd.DataFrame) -> np.ndarray:
    """Which of the `found` events are one exception printed two times or more in one file with training records
    printed after its last time: a loop that catches an exception, prints its traceback and goes on (a metric
    that fails at every evaluation, a compile error retried). One printed once may have ended a run that was then
    resumed in the same file, and stays."""
    lines = _train_record_lines(run)
    keys = list(zip(found["source"], found["message"], strict=True))
    counts: dict[tuple[Any, Any], int] = {}
    last_line: dict[tuple[Any, Any], int] = {}
    for key, line in zip(keys, found["line"], strict=True):
        counts[key] = counts.get(key, 0) + 1
        if not pd.isna(line):
            last_line[key] = max(last_line.get(key, -1), int(line))
    return np.fromiter(
        (
            counts[key] >= 2 and key in last_line and key[0] in lines and lines[key[0]][-1] > last_line[key]
            for key in keys
        ),
        dtype=bool,
        count=len(keys),
    )


def _explained(run: Run, found: pd.DataFrame, by: pd.DataFrame) -> np.ndarray:
    """Which of the `found` events a more specific event explains. The one that ends its file (no training
    record after it) only by one with no training record printed between the two (the RuntimeError a dead
    DataLoader worker raises in the main process, the exception after an OOM): a worker that died and was
    replaced 2,500 iterations before the run's last exception explains nothing of it. One that training went
    on after (an OOM caught and the batch skipped), one without a line, and one in another file than the
    explaining event (W&B's exit record beside the console's OOM), by any."""
    lines = _train_record_lines(run)
    out = np.zeros(len(found), dtype=bool)
    for k, (source, line) in enumerate(zip(found["source"], found["line"], strict=True)):
        records = lines.get(source, np.zeros(0, dtype=np.int64))
        if pd.isna(line) or (len(records) and int(records[-1]) > int(line)):  # no line, or training went on
            out[k] = True
            continue
        for other_source, other_line in zip(by["source"], by["line"], strict=True):
            if pd.isna(other_line) or other_source != source:  # nothing to order them by (W&B's record)
                out[k] = True
            else:
                low, high = sorted((int(line), int(other_line)))
                out[k] = np.searchsorted(records, high) - np.searchsorted(records, low, side="right") == 0
            if out[k]:
                break
    return out


@check("event_present")
def event_present(
    run: Run,
    *,
    kinds: tuple[str, ...] = (),
    min_count: int = 1,
    unless_kinds: tuple[str, ...] = (),
    pattern: str = "",
    caught: bool = False,
) -> Detection | None:
    """Events of the given kinds happened (OOM, dataloader crash, exception...), at least `min_count`
    of them, whose message matches `pattern` (a regular expression) when given, unless a more specific
    kind in `unless_kinds` explains them. With `caught`, an exception printed again and again with training
    records after its last time is left out: the loop caught it, printed it and went on."""
    if run.count_events(kinds) < max(min_count, 1):
        return None
    found = run.events_of(kinds)
    if pattern:
        found = found[_says(found, pattern)]
    if caught and len(found) > 1:
        found = found[~_caught_again(run, found)]
    unless = run.events_of(unless_kinds)
    if len(unless) and len(found):
        found = found[~_explained(run, found, unless)]
    if len(found) < min_count:
        return None
    # The most severe first: a launcher's SIGTERMs to the other ranks (a warning) come before the SIGKILL of the rank
    # that died (an error) in torchrun's output, but they are its consequence.
    ranks = found["severity"].map(lambda s: severity_rank(str(s)) if s in SEVERITIES else 0).to_numpy()
    first = found.iloc[int(np.argmax(ranks == ranks.max()))]
    # How often it happened is counted in the file that shows it first: the same crash seen again in another
    # source (W&B's exit record, a tracker's copy of the console) corroborates it, it is not a second one.
    same = found[
        (found["source"] == first["source"])
        & (found["kind"] == first["kind"])
        & (found["severity"] == first["severity"])
    ]
    last = same.iloc[-1]
    onset = None if pd.isna(first["step"]) else int(first["step"])
    evidence: dict[str, Any] = {"first": _cite_event(first), "count": len(same)}
    if len(same) > 1:
        evidence["last"] = _cite_event(last)
    others = found[found["source"] != first["source"]]
    if len(others):
        evidence["also_in"] = [_cite_event(row) for _, row in others.head(5).iterrows()]
    where = f" at step {onset}" if onset is not None else ""
    more = f" ({len(same)} times)" if len(same) > 1 else ""
    return Detection(onset, f"{first['message']}{where}{more}", evidence)


@check("stopped_on_nonfinite")
def stopped_on_nonfinite(
    run: Run,
    *,
    kinds: tuple[str, ...] = (),
    pattern: str = "",
    report_kinds: tuple[str, ...] = ("warning",),
    report: str = "",
) -> Detection | None:
    """An exception or stop line says the loss is non-finite (`event_present`); or the log's last word is a
    report of a non-finite value (`NaN detected`, a guard that prints and returns): nothing was logged after
    it in that file, so the run stopped there."""
    said = event_present(run, kinds=kinds, pattern=pattern)
    if said is not None or not report or not run.count_events(report_kinds):
        return said
    reports = run.events_of(report_kinds)
    reports = reports[_says(reports, report) & reports["line"].notna().to_numpy()]
    if reports.empty:
        return None
    last = reports.iloc[-1]
    same = run.metrics[run.metrics["source"] == last["source"]]
    if same.empty or bool((same["line"] > last["line"]).any()):
        return None  # records went on after it: a warning the run lived through
    onset = None if pd.isna(last["step"]) else int(last["step"])
    where = f" at step {onset}" if onset is not None else ""
    return Detection(
        onset,
        f"the log ends on a report of a non-finite value{where} ({last['message']}): nothing was logged after it",
        {"report": _cite_event(last), "records_before": len(same)},
        confidence=0.6,
    )


def _trailing_skips(run: Run, skips: pd.DataFrame) -> pd.DataFrame:
    """The overflow skips after the last metric record of the file that printed the last skip (the scales
    the skip lines set are no record); none when that file has no record (a paste of the start-up
    calibration alone)."""
    skips = skips[skips["line"].notna().to_numpy()]
    if skips.empty:
        return skips
    source = skips.iloc[-1]["source"]
    same = run.metrics[
        (run.metrics["source"] == source).to_numpy() & (run.metrics["metric"] != "loss_scale").to_numpy()
    ]
    if same.empty or not same["line"].notna().any():
        return skips.iloc[:0]  # no record at all: a scaler calibrating before the first logged step
    after = float(same["line"].max())
    return skips[(skips["source"] == source).to_numpy() & (skips["line"] > after).to_numpy()]


_PROGRESS = re.compile(r"rank (?P<rank>\d+): last enqueued work (?P<enq>\d+), last completed (?P<done>-?\d+)")


@check("nccl_timeout")
def nccl_timeout(run: Run) -> Detection | None:
    """A collective timed out; says which ranks timed out and which rank lagged behind the others."""
    found = run.events_of(["nccl_timeout"])
    if found.empty:
        return None
    first = found.iloc[0]
    ranks = sorted({int(m) for m in found["message"].str.extract(r"^rank (\d+)")[0].dropna()})
    progress: dict[int, tuple[int, int]] = {}
    for message in run.events_of(["nccl_progress"])["message"]:
        m = _PROGRESS.search(message)
        if m:
            progress[int(m["rank"])] = (int(m["enq"]), int(m["done"]))
    evidence: dict[str, Any] = {"first": _cite_event(first), "ranks_timed_out": ranks, "count": len(found)}
    lagging = ""
    if len(progress) > 1:
        low = min(e for e, _ in progress.values())
        behind = sorted(r for r, (e, _) in progress.items() if e == low)
        if len(behind) < len(progress):
            evidence["lagging_ranks"] = behind
            lagging = f"; rank(s) {behind} enqueued the fewest collectives ({low}): the one(s) that fell behind"
        evidence["work_by_rank"] = {str(r): {"enqueued": e, "completed": c} for r, (e, c) in sorted(progress.items())}
    onset = None if pd.isna(first["step"]) else int(first["step"])
    return Detection(onset, f"NCCL collective timeout: {first['message']}{lagging}", evidence)


def _configured_floor(run: Run) -> float | None:
    """The scaler's minimum as the run configured it (fairseq's and DeepSpeed's `min_loss_scale`), when known:
    a scale that falls to 0.5 with a minimum of 1e-4 is still far above where the scaler gives up."""
    for section, key in (("loss_scaling", None), ("deepspeed", "fp16")):
        found = run.meta.get(section)
        found = found.get(key) if key and isinstance(found, dict) else found
        value = found.get("min_loss_scale") if isinstance(found, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e9:
            return float(value)
    return None


@check("loss_scale_collapse")
def loss_scale_collapse(
    run: Run, *, floor: float = 1.0, min_nan_skips: int = 3, end_skips: int = 3
) -> Detection | None:
    """The dynamic loss scale fell to its floor, or overflow skips hit consecutive NaN-loss steps, or the log
    ends on `end_skips` overflow skips or more with no record after them (the scaler still halving when the
    run stopped, or the paste was cut there).

    A handful of halvings from a high initial scale is the scaler calibrating and stays silent.
    """
    if not run.count_events(["overflow_skip", "loss_scale_min"]) and not run.has("loss_scale"):
        return None
    skips = run.events_of(["overflow_skip"])
    at_min = run.events_of(["loss_scale_min"])
    # Scales after each halving, from the overflow lines only: a bf16 run logs a constant scale of 1.
    scales = pd.to_numeric(skips["message"].str.extract(r"-> (\S+)$")[0], errors="coerce").dropna()
    lowest = float(scales.min()) if len(scales) else math.nan
    # A logged loss-scale series that fell (fairseq's `loss_scale 0` field) says the same; a constant one
    # (a bf16 run logs 1 throughout) does not.
    # Only a point below an earlier one fell: a first point that is also the lowest is a setting echoed before
    # training (DeepSpeed's config prints `"loss_scale": 0`, meaning dynamic), no collapse.
    logged = finite(run.series("loss_scale"))
    scale = logged.to_numpy()
    fell = scale < np.maximum.accumulate(scale) if len(scale) else np.zeros(0, dtype=bool)
    if fell.any():
        lowest = float(np.nanmin([lowest, float(scale[fell].min())]))
    loss = run.series("loss")
    nan_steps = set(_nonfinite_steps(loss))
    with_nan = sorted({int(s) for s in skips["step"].dropna()} & nan_steps)
    reason, row = "", None
    floor = _configured_floor(run) or floor
    if not at_min.empty:
        reason, row = "the loss scale reached its minimum", at_min.iloc[0]
    elif lowest <= floor:
        reason = f"the loss scale fell to {fmt(lowest)} (floor {fmt(floor)})"
        if len(skips):
            row = skips.iloc[0]
        else:  # only the logged series says so: the onset is the first fall of its last descent to the floor
            at = logged.index.to_numpy()
            first = int(np.argmax((scale <= floor) & fell))
            top = first
            while top > 0 and scale[top - 1] >= scale[top]:
                top -= 1
            onset_at = top + 1 if top < first else first
            reason = (
                f"the logged loss scale fell from {fmt(float(scale[top]))} at step {int(at[top])} "
                f"to {fmt(float(scale[first]))} at step {int(at[first])} (floor {fmt(floor)}) and did not recover"
            )
            row = pd.Series({"step": int(at[onset_at])}, dtype="object")
    elif len(with_nan) >= min_nan_skips:
        reason, row = f"overflow skips on {len(with_nan)} steps whose loss is NaN", skips.iloc[0]
    elif len(ending := _trailing_skips(run, skips)) >= end_skips:
        reason, row = (
            f"the log ends on {len(ending)} overflow skips in a row, nothing logged after them",
            ending.iloc[0],
        )
    if row is None:
        return None
    evidence: dict[str, Any] = {
        "first_skip": _cite_event(skips.iloc[0]) if len(skips) else None,
        "overflow_skips": len(skips),
        "lowest_scale": fmt(lowest),
        "skips_with_nan_loss": len(with_nan),
    }
    onset = None if pd.isna(row["step"]) else int(row["step"])
    skipped = f" after {len(skips)} skipped step(s)" if len(skips) and not reason.startswith("the log ends") else ""
    return Detection(onset, f"fp16 overflow: {reason}{skipped}", evidence)


def warming_up(lr: pd.Series, since: int) -> bool:
    """The learning rate rises from `since` on and is still rising over its last three logged values (a
    warmup: tiny updates by design). A rate that has reached its plateau no longer excuses a frozen loss."""
    window = lr[lr.index >= since].to_numpy()
    return len(window) >= 2 and bool((np.diff(window) >= 0).all()) and window[-1] > window[max(0, len(window) - 3)]


_EPISODE = re.compile(r"(?i)^(?:ep|eps|episodes?|episode[ _]?(?:num|number|idx|index|id))$")


def per_episode(run: Run, metric: str) -> bool:
    """Whether a printed record that holds this train metric is counted in episodes (`Episode 12 ... Duration:
    0.29`, `Episode 100  Average Score: 13.2`): a reinforcement learner's, whatever its metrics are called."""
    for reading in (run.meta.get("console_log") or {}).values():
        for template in reading.get("templates", []):
            slots = template.get("slots", [])
            if any(s.get("metric") == metric and s.get("split") == "train" for s in slots) and any(
                s.get("role") != "value" and _EPISODE.match(str(s.get("name") or "").strip()) for s in slots
            ):
                return True
    return False
