"""Checks on the shape of curves: spikes, divergence, a loss that does not move, overfitting, memory growth.

Two regimes, because real bug reports paste anything from four log lines to a million steps:
- long series (at least LONG finite points): the statistics of analyzer.signals (robust spikes,
  piecewise-linear segmentation and its named events, trends against the noise);
- short series: direct comparisons between the few logged points, with thresholds stated in each
  check's parameters and a lower confidence.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from dataclasses import replace
from typing import Any, cast

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from analyzer.model import Run
from analyzer.names import LOSS_FUNCTIONS, is_memory_metric, loss_variant
from analyzer.rules.checks import (
    FLOAT32_FLOOR,
    Detection,
    check,
    cite_point,
    finite,
    fmt,
    loss_parts,
    per_episode,
    warming_up,
    zero_tail,
)
from analyzer.signals.spikes import Spike, noise_tail, tail_expected
from analyzer.signals.toolkit import run_signals, true_runs
from analyzer.signals.trend import eval_train_gap, growth

LONG = 32
_NOT_A_PLAIN_LOSS = {"grpo", "rl", "dpo", "kto", "reward"}  # losses that may sit at 0, go negative or rise by design


def _points(
    run: Run, metric: str, split: str, steps: list[int], values: list[float], limit: int = 8
) -> list[dict[str, Any]]:
    return [cite_point(run, split, metric, int(s), float(v)) for s, v in list(zip(steps, values, strict=True))[:limit]]


def _plain_loss(run: Run) -> bool:
    return str(run.meta.get("trainer_kind", "trainer")) not in _NOT_A_PLAIN_LOSS


def _lr_jump(run: Run, step: int) -> dict[str, Any] | None:
    """The logged learning rate at the spike or the step before, when it is over twice its neighbours'
    median: the update that caused the spike was larger than the schedule around it."""
    lr = finite(run.series("learning_rate"))
    if len(lr) < 5:
        return None
    steps, values = lr.index.to_numpy(), lr.to_numpy()
    for at in (step - 1, step):
        i = int(np.searchsorted(steps, at))
        if i >= len(steps) or steps[i] != at:
            continue
        around = np.concatenate([values[max(0, i - 3) : i], values[i + 1 : i + 4]])
        usual = float(np.median(around)) if len(around) else 0.0
        if usual > 0 and values[i] > 2 * usual:
            return {
                "step": int(at),
                "learning_rate": fmt(float(values[i])),
                "usual": fmt(usual),
                "ratio": round(float(values[i]) / usual, 2),
                "at": run.cite("train", "learning_rate", int(at)),
            }
    return None


_FAMILY_ERROR = 0.01  # the chance that some point of a series of pure noise is taken for a spike


def _beyond_log_noise(values: np.ndarray, start: int, peak: float, stop: int, window: int = 200) -> bool:
    """Whether a peak stands out of the loss's own multiplicative noise. A loss of one batch (a diffusion
    model's, whose timestep is drawn per sample) is heavy-tailed: 7x its median is an ordinary draw among
    500 such points, in a linear scale it is a 20-sigma event. On a log scale that noise is about normal:
    the peak's robust z against the `window` points before it (scale from their first differences, which a
    trend does not inflate) must pass the Bonferroni bound for a series this long (1% family-wise). A spike
    with fewer than 20 points before it (a run's first records) is judged against the noise of the points
    after it too, from `stop` on, where it had recovered: a loss of one sample per record is as heavy-tailed
    at its start as later."""
    before = values[max(0, start - window) : start]
    before = before[before > 0]
    after = values[stop : stop + window] if len(before) < 20 else values[:0]
    after = after[after > 0]
    if len(before) + len(after) < 20 or len(before) < 5 or peak <= 0:
        return True  # too little history to judge the noise: the ratio and z tests decide alone
    logs = np.log(before)
    moves = np.abs(np.concatenate([np.diff(logs), np.diff(np.log(after))]))
    scale = float(np.median(moves)) / (0.6745 * math.sqrt(2))
    if scale <= 0:
        return True
    z = (math.log(peak) - float(np.median(logs[-20:]))) / scale
    return z >= statistics.NormalDist().inv_cdf(1 - _FAMILY_ERROR / len(values))


def _hard_batch(steps: np.ndarray, spike: Spike, base: float, magnitude_ratio: float, start: float) -> bool:
    """One step's loss of a noisy per-batch loss (noise over SMOOTH_NOISE of its level), logged at every step,
    above its neighbours and back at the very next step, under `magnitude_ratio` x or under the loss's `start`
    level: one hard batch (a caption model's 4.25 among 1.9s; a one-shot fine-tune's 0.25 among 0.006s, its
    loss having started at 0.92), not an instability. A spike that shakes the weights lifts the loss of the
    batches after it too; a batch the model finds hard does not. Logged every N steps (a mean over them, or one
    batch in N), or a smooth loss (averaged over many samples), one point may be either: it stays a spike."""
    i = spike.index
    huge = spike.peak / base >= magnitude_ratio and spike.peak >= start
    if spike.points != 1 or spike.stop != i + 1 or huge or _smooth(spike, base):
        return False
    return 0 < i < len(steps) - 1 and bool(steps[i] - steps[i - 1] == 1 and steps[i + 1] - steps[i] == 1)


def _first_after_evaluation(run: Run, metric: str, steps: np.ndarray, spike: Spike) -> bool:
    """A one-point spike at the first train record after an evaluation, back at the next record, of a loss logged
    several times between evaluations: a loop that prints the running mean of its epoch (Flair's `epoch 10 - iter
    0/135 - loss 12.83`, then 6.72) starts it over after each evaluation, from one batch. An instability there
    lifts the records after it too."""
    i = spike.index
    if spike.points != 1 or spike.stop != i + 1 or not 0 < i < len(steps) - 1:
        return False
    evals, evaluations, loss_steps, loss_lines = _evaluation_lines(run, metric)
    if not evaluations or len(steps) < 3 * evaluations:
        return False  # evaluated about as often as the loss is logged: every record is the first after one

    def line_at(step: int) -> float:  # the line of the loss's record at a step (the last one printed there)
        k = int(np.searchsorted(loss_steps, step, side="right")) - 1
        return float(loss_lines[k]) if k >= 0 and loss_steps[k] == step else math.nan

    before, peak = line_at(int(steps[i - 1])), line_at(int(steps[i]))
    return bool(np.isfinite(before) and np.isfinite(peak) and ((evals > before) & (evals < peak)).any())


def _evaluation_lines(run: Run, metric: str) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """The lines evaluations were printed on, how many evaluations they are (counted by the gaps between train
    records they sit in, not by their lines: a table of 21 per-class IoUs is one evaluation), and the loss's steps
    in order with the line of each (by the lines: an evaluation may count epochs while the loss counts batches).
    Worked out once per run and series: a long log has millions of records and a spike test asks for each spike."""
    cache = run.__dict__.setdefault("_evaluation_lines", {})
    if metric not in cache:
        rows = run.series_rows()
        lines = run.metrics["line"].to_numpy(dtype="float64", na_value=np.nan)
        evals = np.unique(np.concatenate([lines[r] for (split, _), r in rows.items() if split == "eval"] or [[]]))
        evals = evals[np.isfinite(evals)]
        loss = rows.get(("train", metric), np.array([], dtype=np.int64))
        loss_lines, loss_steps = lines[loss], run.metrics["step"].to_numpy()[loss]
        trained = np.sort(loss_lines[np.isfinite(loss_lines)])
        evaluations = len(np.unique(np.searchsorted(trained, evals))) if len(evals) else 0
        order = np.argsort(loss_steps, kind="stable")
        cache[metric] = (evals, evaluations, loss_steps[order], loss_lines[order])
    return cast(tuple[np.ndarray, int, np.ndarray, np.ndarray], cache[metric])


def _returned(values: np.ndarray, steps: np.ndarray, spike: Spike, min_ratio: float) -> Spike:
    """A spike the detector saw no way back from within its horizon, whose loss stood at `min_ratio` x its
    baseline or more for the whole stretch and then fell back for good, in one move of at least half the
    excursion's height on a log scale, to under halfway towards the baseline (a model knocked off its minimum for
    several epochs, then back near where it was): an excursion that recovered late, returned as a recovered
    spike. Else the spike as it was: a level shift, the start of a divergence, or a run started again from its
    start (its loss decays back down, it does not jump back)."""
    if spike.recovered or spike.baseline <= 0:
        return spike
    high = min_ratio * spike.baseline
    width = 3  # points in a row back under the line: one dip is noise
    rest = values[spike.index :]
    if len(rest) < 2 * width or np.median(rest[:width]) < high:
        return spike
    level = float(np.median(rest[: max(width, spike.stop - spike.index)]))  # over the stretch the detector watched
    line = math.sqrt(level * spike.baseline) if level > 0 else high
    below = rest < min(line, level / min_ratio)
    settled = np.logical_and.reduce([below[k : len(below) - width + 1 + k] for k in range(width)])
    found = np.flatnonzero(settled)
    if not len(found):
        return spike
    back = spike.index + int(found[0])
    drop = math.log(values[back - 1] / values[back]) if values[back] > 0 and values[back - 1] > 0 else 0.0
    if np.median(values[back:]) >= line or drop < 0.5 * math.log(level / spike.baseline):
        return spike  # still up, or a decay back down (a run started again from its start): not a jump back
    at = spike.index + int(np.argmax(values[spike.index : back]))
    peak = float(values[at])
    rise = spike.peak - spike.baseline
    z = spike.z * (peak - spike.baseline) / rise if rise > 0 else spike.z  # the same noise scale, the new peak
    return replace(
        spike,
        stop=back,
        peak=peak,
        peak_step=int(steps[at]),
        z=z,
        recovered=True,
        recovery_steps=int(steps[back] - steps[spike.index]),
    )


def _small_against_start(peak: float, base: float, start: float) -> bool:
    """Whether a jump goes back under a tenth of the way from the loss's level to where it started: a loss that
    fell from 0.92 to 0.0001 (a one-shot fine-tune memorising its data) and reads 0.08 once has lost nothing of
    what it learned, however many times its tiny baseline that is. A spike that shakes the weights undoes a
    real share of the fall (2.0 to 6.0 after a start at 11)."""
    return start > base and peak - base < 0.1 * (start - base)


SMOOTH_NOISE = 0.02  # a loss whose noise is under this share of its level is averaged over many batches


def _least_ratio(spike: Spike, base: float, min_ratio: float, smooth_ratio: float) -> float:
    """How far above its baseline a spike must reach. `min_ratio` keeps a per-batch loss's hard batches out;
    a loss averaged over many batches (its noise under SMOOTH_NOISE of its level) has none, and a jump of a
    third there is 40 times its noise (a curriculum's new data pool mixed in): `smooth_ratio` suffices."""
    return smooth_ratio if _smooth(spike, base) else min_ratio


def _smooth(spike: Spike, base: float) -> bool:
    """Whether the loss around a spike is averaged over many batches: its noise under SMOOTH_NOISE of `base`."""
    noise = (spike.peak - spike.baseline) / spike.z if spike.z > 0 else float("inf")
    return noise <= SMOOTH_NOISE * base


@check("loss_spike")
def loss_spike(
    run: Run,
    *,
    metric: str = "loss",
    min_ratio: float = 1.5,
    short_ratio: float = 5.0,
    magnitude_ratio: float = 100.0,
    noisy: int = 5,
    smooth_ratio: float = 1.2,
) -> Detection | None:
    """Sudden jumps of the train loss: `min_ratio` × the baseline at least (long series: robust z-score
    spikes that came back, `smooth_ratio` × for a loss whose own noise is under 2% of its level; short
    series: a point `short_ratio` × the median of the points before it, not followed by a sustained climb,
    which is the divergence check's). A trainer whose loss is near 0
    or negative by design (RL, preference) has no baseline to divide by: there only a point
    `magnitude_ratio` × the largest magnitude before it that falls back under it at the next point. `noisy`
    recovered spikes or more in one long series are its noise: an info finding, unless the learning rate
    jumped."""
    loss = finite(run.series(metric))
    if len(loss) < 2:
        return None
    if not _plain_loss(run):
        return _magnitude_spike(run, metric, loss, magnitude_ratio)
    until = zero_tail(loss)  # a loss that reads 0.0 from there on did not recover: the zero check's failure
    loss = loss if until is None else loss[loss.index < until]
    if len(loss) >= LONG:
        sig = run_signals(run, metric, until=until)
        values = sig.prepared.values
        start = float(np.median(values[:5]))  # where the loss started (its first points)
        sized = []
        for s in (_returned(values, sig.prepared.steps, s, min_ratio) for s in sig.spikes):
            # The size against the level just before the spike as well as against the detector's trend
            # baseline: a spike that decays over several points lifts that baseline and would hide itself.
            before = values[max(0, s.index - 5) : s.index]
            level = float(np.median(before)) if len(before) else s.baseline
            base = min(s.baseline, level) if level > 0 else s.baseline
            if (
                s.recovered
                and base > 0
                and s.peak / base >= _least_ratio(s, base, min_ratio, smooth_ratio)
                and _beyond_log_noise(values, s.index, s.peak, s.stop)
                and not _hard_batch(sig.prepared.steps, s, base, magnitude_ratio, start)
                and not _small_against_start(s.peak, base, start)
                and not _first_after_evaluation(run, metric, sig.prepared.steps, s)
            ):
                sized.append((s, base, s.peak / base))
        if not sized:
            return None
        if len(sized) < noisy:  # (five or more excursions are the noisy case below, whatever the tail says)
            # Spikes the series' own heavy tail accounts for (at least one point that high expected among its noise)
            # are how this loss moves, not events: said as information when they are all there is.
            noise = noise_tail(sig.prepared, sig.spikes)
            tail = [t for t in sized if tail_expected(noise, t[0].z) >= 1]
            if len(tail) == len(sized):
                largest = max(ratio for _, _, ratio in tail)
                return Detection(
                    tail[0][0].step,
                    f"the loss is heavy-tailed: {len(tail)} excursion(s) of up to {round(largest, 2)}× its baseline, "
                    "each of which came back, no higher than its own noise reaches elsewhere",
                    {"pattern": "heavy_tailed", "count": len(tail), "largest_ratio": round(largest, 2)},
                    severity="info",
                )
            sized = [t for t in sized if t not in tail]
        first = sized[0][0]
        listed = [
            {
                "step": s.peak_step,
                "peak": fmt(s.peak),
                "baseline": fmt(base),
                "ratio": round(ratio, 2),
                "recovered_after_steps": s.recovery_steps,
                "at": run.cite("train", metric, s.peak_step),
            }
            for s, base, ratio in sorted(sized, key=lambda t: -t[2])[:10]
        ]
        spikes = [s for s, _, _ in sized]
        evidence: dict[str, Any] = {
            "spikes": listed,
            "count": len(spikes),
            "largest_ratio": listed[0]["ratio"],
            "one_point": all((s.recovery_steps or 0) <= 1 for s in spikes),
        }
        jump = _lr_jump(run, first.step)
        if jump:
            evidence["learning_rate_jump"] = jump
        if len(spikes) >= noisy and not jump:
            # A spike is an event; excursions this size again and again are how this loss moves (a per-batch
            # loss with hard batches, scheduled resets): said, as information, not as a failure.
            return Detection(
                first.step,
                f"the loss is noisy: {len(spikes)} excursions of up to {listed[0]['ratio']}× its baseline, each "
                "of which came back",
                {**evidence, "pattern": "noisy"},
                severity="info",
            )
        return Detection(
            first.step,
            f"{len(spikes)} loss spike(s) that recovered; the largest reached "
            f"{listed[0]['ratio']}× its baseline at step {listed[0]['step']}",
            evidence,
        )
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    for i in range(1, len(values)):
        base = float(np.median(values[:i]))
        # A falling loss's earlier points lift the median: judged against its level just before too, a jump that
        # is back under that level at the very next point (`4.92, 15.56, 3.79`) needs half the ratio asked against
        # the median (short_ratio / 2), and to stand beyond the loss's own moves from point to point.
        level = float(np.median(values[max(0, i - 3) : i]))
        back = i + 1 < len(values) and values[i + 1] <= level
        if back and 0 < level < base and values[i] >= short_ratio / 2 * level:
            if not _beyond_log_moves(values[:i], float(values[i]), level):
                continue
            base = level
        elif base <= 0 or values[i] < short_ratio * base or _within_log_noise(values[:i], float(values[i])):
            continue
        later = values[i + 1 :]
        if (len(later) >= 2 and (later[:2] >= min_ratio * base).all()) or (len(later) == 1 and later[0] >= values[i]):
            return None  # a sustained climb (or the log's last point higher still): a divergence, not a spike
        recovered = bool(len(later)) and bool(later[0] < min_ratio * base)
        note = (
            "came back at the next logged point"
            if recovered
            else ("the log ends there: recovery not seen" if not len(later) else "had not come back at the next point")
        )
        return Detection(
            int(steps[i]),
            f"loss jumped from {fmt(base)} to {fmt(values[i])} "
            f"({values[i] / base:.3g}×) at step {int(steps[i])}; {note}",
            {
                "onset": _points(run, metric, "train", [int(steps[i])], [float(values[i])])[0],
                "baseline": fmt(base),
                "ratio": round(float(values[i] / base), 3),
                "recovered": recovered,
                "points": len(values),
            },
            confidence=0.6,
        )
    return None


def _moves_during(run: Run, metric: str, split: str, steps: pd.Index) -> bool:
    """Whether a series beside a repeating train loss changed between the first and last of these steps (by
    more than SAME of itself): the loss's running average (`loss: 6.7274 (6.9064)`: the batches differ, so
    the repeating value is a windowed statistic, torchvision's MetricLogger prints the median of 20 batches
    first), or the eval loss (weights that do not move give the same eval loss every time, so the train loss
    that repeats meanwhile was carried over, as the Trainer's notebook table does until its next log)."""
    series = finite(run.series(metric, split=split))
    during = series[(series.index >= steps[0]) & (series.index <= steps[-1])].to_numpy() if len(steps) else []
    return len(during) >= 2 and float(np.ptp(during)) > SAME * abs(float(np.mean(during)))


_SHORT_SPIKE_Z = 4.0  # robust z-score, on a log scale, a short series' jump must reach against the points before


def _within_log_noise(before: np.ndarray, value: float) -> bool:
    """Whether `value` is within the spread the points before it already show, on a log scale (a robust
    z-score under _SHORT_SPIKE_Z): a loss printed from one batch every N epochs (a diffusion model's, a
    GAN's, with a random timestep or latent per batch) swings by several times from print to print, and a
    jump of 8x is its noise, not a spike. Four positive points before it at least, else no judgement."""
    if len(before) < 4 or value <= 0 or bool((before <= 0).any()):
        return False
    logs = np.log(before)
    scale = 1.4826 * float(np.median(np.abs(logs - np.median(logs))))
    return scale > 0 and (math.log(value) - float(np.median(logs))) / scale < _SHORT_SPIKE_Z


def _beyond_log_moves(before: np.ndarray, value: float, level: float) -> bool:
    """Whether the jump from `level` to `value` is beyond the moves from point to point before it, on a log scale
    (a robust z-score of _SHORT_SPIKE_Z or more): a falling loss's own moves, not the spread its fall makes of
    its levels. Four positive points before it at least, else no judgement (False)."""
    if len(before) < 4 or value <= 0 or level <= 0 or bool((before <= 0).any()):
        return False
    moves = np.diff(np.log(before))
    scale = 1.4826 * float(np.median(np.abs(moves - np.median(moves))))
    return scale > 0 and math.log(value / level) / scale >= _SHORT_SPIKE_Z


def _magnitude_spike(run: Run, metric: str, loss: pd.Series, ratio: float) -> Detection | None:
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    before = np.maximum.accumulate(np.abs(values))[:-1]
    for i in np.flatnonzero((before > 0) & (np.abs(values[1:]) >= ratio * before)) + 1:
        if i + 1 >= len(values) or abs(values[i + 1]) >= ratio * before[i - 1]:
            continue  # the log ends there, or it stayed up: not a spike seen to come back
        step = int(steps[i])
        size = abs(values[i]) / before[i - 1]
        return Detection(
            step,
            f"loss jumped to {fmt(float(values[i]))} at step {step}, {size:.3g}× the largest magnitude "
            f"before it ({fmt(float(before[i - 1]))}), and was back at {fmt(float(values[i + 1]))} the next point",
            {
                "onset": _points(run, metric, "train", [step], [float(values[i])])[0],
                "largest_before": fmt(float(before[i - 1])),
                "ratio": round(float(size), 3),
                "recovered": True,
                "points": len(values),
            },
            confidence=0.6,
        )
    return None


@check("divergence")
def divergence(
    run: Run,
    *,
    metric: str = "loss",
    min_rise: float = 0.2,
    ratio: float = 1.5,
    explosion_ratio: float = 1000.0,
    blowup: float = 1e6,
) -> Detection | None:
    """The train loss climbs away from its best value and stays up (or blows up into NaN).

    Long series: the segmentation's divergence onset with a rise of at least `min_rise` × the low.
    Any length: at least two points after the lowest one above `ratio` × the level before it, the
    last two too; a loss `explosion_ratio` × the median before it (it may fall back afterwards, to a
    dead constant); a loss above `blowup` in magnitude right before it turns NaN.
    """
    raw = run.series(metric)
    loss = finite(raw)
    if not _plain_loss(run):
        return None
    until = zero_tail(loss)  # a climb that ends in 0.0 at every step (a NaN the trainer logs as 0) did not come back
    loss = loss if until is None else loss[loss.index < until]
    found = _divergence_long(run, metric, loss, min_rise, until) if len(loss) >= LONG else None
    found = (
        found
        or _divergence_short(run, metric, loss, ratio)
        or (_steady_climb(run, metric, loss) if len(loss) < LONG else None)
        or _explosion(run, metric, loss, explosion_ratio)
        or _runaway_below_zero(run, metric, loss, explosion_ratio)
        or _blowup_into_nan(run, metric, raw, blowup)
        or _beyond_chance(run, metric, loss)
    )
    if found is None or (
        found.onset_step is not None
        and (_parts_fall(run, metric, loss, found.onset_step) or _errors_fall(run, metric, loss, found.onset_step))
    ):
        return None
    below = found.evidence.get("pattern") == "runaway_below_zero"  # an eval loss that runs away too looks "better"
    if found.onset_step is not None and not below and _eval_improves(run, found.onset_step):
        return None
    return found


def _eval_improves(run: Run, onset: int, by: float = 0.05) -> bool:
    """An evaluation that got better over the climb (its loss down, or a higher-is-better score up, by `by`
    of its value at the last evaluation before the climb began; a train accuracy doubled): a train loss that
    truly diverged does not leave the model better, so the series named the loss measures something else (a
    score under a misleading header: kbc's `Train(loss)` column holds the train MRR)."""
    named = [("eval", "loss", False)] + [
        (s, m, True)
        for s, m in run.series_names()
        if (s == "eval" and _HIGHER_IS_BETTER.search(m)) or (s == "train" and _TOP1.search(m) and "best" not in m)
    ]  # an accuracy filed as train (torchvision's ` * Acc@1 71.562` summary) that rose says the same
    for split, metric, higher in named:
        evals = finite(run.series(metric, split=split))
        before, after = evals[evals.index < onset], evals[evals.index >= onset]
        if before.empty:
            # The climb starts with the log: measured from its first evaluations, the median of three of them at
            # each end when there are six or more (a first evaluation before anything was learned, test accuracy
            # 0.24 from a model that predicts one class, is no level the model ever held)
            k = 3 if len(after) >= 6 else 1
            start, end = float(after.iloc[:k].median()), float(after.iloc[-k:].median())
            after = after.iloc[k:]
        elif len(after) >= 2:
            start, end = float(before.iloc[-1]), float(after.iloc[-1])
        if len(after) < 2:
            continue
        if metric == "loss" and not higher and start > 0 and end >= 2 * start:
            return False  # the eval loss doubled with it: the model got worse, whatever a score did meanwhile
        change = (end - start) if higher else (start - end)
        # a train accuracy (per batch, noisy) must have doubled at least: 0.78 -> 0.84 beside a loss at 1e13 is
        # noise; 0.1 -> 71.6 beside a climbing loss says the loss measures something else (a new stage's)
        needed = abs(start) if split == "train" else by * abs(start)
        if start != 0 and change > needed:
            return True
    return False


def _parts_fall(run: Run, metric: str, loss: pd.Series, onset: int) -> bool:
    """Two or more named parts of the loss (`hm_loss`, `wh_loss`, ...) whose sum is lower at the end than
    at the last point before the climb began: a total of them cannot have climbed, so the series named
    `loss` is some other quantity (a score a loop stored under that name), not a loss that diverged."""
    before = loss[loss.index < onset]
    parts = [m for m in loss_parts(run) if m != metric]
    if before.empty or len(parts) < 2:
        return False
    table = pd.concat([finite(run.series(m)) for m in parts], axis=1).dropna()
    start = table[table.index <= int(before.index[-1])]
    end = table[table.index > int(before.index[-1])]
    return not start.empty and not end.empty and float(end.iloc[-1].sum()) < float(start.iloc[-1].sum())


def _errors_fall(run: Run, metric: str, loss: pd.Series, onset: int) -> bool:
    """Error measures printed beside the loss (a word of their name a loss function's: MACE's `RMSE_E_per_atom`,
    `RMSE_F`) that all end at or below their value at the last point before the climb, one at least: a model
    that got worse would be worse on them too, so the series named `loss` changed what it sums (MACE re-weights
    its loss terms when its SWA stage begins, and says so), it did not diverge."""
    before = loss[loss.index < onset]
    if before.empty:
        return False
    last = int(before.index[-1])
    kept = 0
    for split, name in run.series_names():
        if split != "train" or name == metric or not any(word in LOSS_FUNCTIONS for word in name.split("_")):
            continue
        series = finite(run.series(name))
        then, after = series[series.index <= last], series[series.index > last]
        if then.empty or after.empty or float(then.iloc[-1]) <= 0:
            continue
        if float(after.iloc[-1]) > float(then.iloc[-1]):
            return False
        kept += 1
    return kept > 0


def _divergence_long(
    run: Run, metric: str, loss: pd.Series, min_rise: float, until: int | None = None
) -> Detection | None:
    sig = run_signals(run, metric, until=until)
    half = printed_unit(loss.to_numpy()) / 2
    for event in sig.events_of("divergence_onset"):
        low, final = event.before, event.after
        # judged on what the printed digits allow at worst: `0.07` then `0.09` (two decimals) may be 0.0749
        # then 0.0850, a rise of 13%, not 29%
        if low <= 0 or final - half < (1 + min_rise) * (low + half):
            continue
        return Detection(
            event.step,
            f"loss climbed from {fmt(low)} to {fmt(final)} from step {event.step} on and did not come back",
            {
                "onset": _points(run, metric, "train", [event.step], [float(loss.get(event.step, low))])[0],
                "low": fmt(low),
                "final": fmt(final),
                "rise_ratio": round(final / low, 3),
                "noise": fmt(sig.prepared.noise),
                "method": "piecewise-linear segmentation",
            },
            confidence=event.confidence,
        )
    return None


def printed_unit(values: np.ndarray) -> float:
    """The unit of the last digit the values were printed with (0.01 for `0.25`, `0.14`, `0.07`), or 0 when
    they carry more than eight decimals (a float printed in full, a structured log's exact value)."""
    finite_values = values[np.isfinite(values)]
    for decimals in range(9):
        scaled = finite_values * 10.0**decimals
        if bool(np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled)))):
            return 10.0**-decimals
    return 0.0


def _divergence_short(run: Run, metric: str, loss: pd.Series, ratio: float) -> Detection | None:
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    if len(loss) < 4:
        return _multiplied(run, metric, values, steps, ratio)
    i_min = int(np.argmin(values))
    # The level the climb is measured from: the median of the points up to the lowest one, so one
    # lucky low record in a noisy per-step loss is not taken for the run's level.
    base = float(np.median(values[: i_min + 1]))
    after = values[i_min + 1 :]
    high = after >= ratio * base
    up = (1 + (ratio - 1) / 2) * base
    stays = len(after) >= 2 and bool((after[-2:] >= up).all())
    if base <= 0 or values[i_min] <= 0 or int(high.sum()) < 2 or not stays:
        return None  # a low at or below 0 (a policy-gradient term, one batch's value): no ratio measures a climb
    onset = i_min + 1 + int(np.argmax(high))
    if bool((values[onset:] < up).any()):
        return None  # back near its level after the climb began: a noisy loss, not one that did not come back
    return Detection(
        int(steps[onset]),
        f"loss fell to {fmt(float(values[i_min]))} at step {int(steps[i_min])}, "
        f"then rose to {fmt(float(after.max()))} and ended at {fmt(float(values[-1]))}: "
        "it did not come back",
        {
            "low": _points(run, metric, "train", [int(steps[i_min])], [float(values[i_min])])[0],
            "level_before": fmt(base),
            "after": _points(run, metric, "train", steps[i_min + 1 :].tolist(), after.tolist()),
            "rise_ratio": round(float(after.max() / base), 3),
            "points": len(values),
        },
        confidence=0.7,
    )


STEADY_RISES = 5  # consecutive rises to the end of the log that make a climb (4 when the eval loss climbs too)


def _multiplied(run: Run, metric: str, values: np.ndarray, steps: np.ndarray, ratio: float) -> Detection | None:
    """Three points or so, each `ratio` x the one before it or more (COVID-Net's minibatch loss 6443, 39659,
    122188 over its first three epochs): too few for a level, but a loss does not multiply at every point by
    chance."""
    if len(values) < 3 or values[0] <= 0 or not bool((values[1:] >= ratio * values[:-1]).all()):
        return None
    return Detection(
        int(steps[1]),
        f"loss rose from {fmt(float(values[0]))} to {fmt(float(values[-1]))} over {len(values)} logged points, "
        f"at least {ratio}x at each one ({float(values[-1] / values[0]):.3g}x in all)",
        {
            "after": _points(run, metric, "train", steps.tolist(), values.tolist()),
            "rise_ratio": round(float(values[-1] / values[0]), 3),
            "points": len(values),
        },
        confidence=0.5,
    )


def _steady_climb(run: Run, metric: str, loss: pd.Series) -> Detection | None:
    """A short log whose loss rose at every point from its lowest one to the end: a sign test, not a
    size test (a slow divergence of a few percent per epoch never reaches divergence-short's ratio).
    STEADY_RISES rises in a row from the minimum happen by chance to a flat noisy loss about once in
    2^5 = 32 tries at that spot; with the eval loss rising over the same span one rise fewer is asked.
    The climb must also be 5% of the low (a flat loss jittering in its last digits is no climb)."""
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    if len(values) < STEADY_RISES:
        return None
    i_min = int(np.argmin(values))
    rises = len(values) - 1 - i_min
    if rises < STEADY_RISES - 1:
        return None
    low, last = float(values[i_min]), float(values[-1])
    if low <= 0 or last - low < 0.05 * low:
        return None
    if not bool((np.diff(values[i_min:]) > 0).all()):
        return _trend_climb(run, metric, loss, i_min)
    evals = finite(run.series(metric, split="eval"))
    span = evals[evals.index >= steps[i_min]]
    eval_climbs = len(span) >= 3 and bool((np.diff(span.to_numpy()) > 0).all())
    if rises < STEADY_RISES and not eval_climbs:
        return None
    also = "; the eval loss rose at every evaluation of that span too" if eval_climbs else ""
    return Detection(
        int(steps[i_min + 1]),
        f"loss rose at each of the last {rises} logged points, from {fmt(low)} at step {int(steps[i_min])} "
        f"to {fmt(last)} (+{(last / low - 1):.1%}){also}",
        {
            "low": _points(run, metric, "train", [int(steps[i_min])], [low])[0],
            "after": _points(run, metric, "train", steps[i_min + 1 :].tolist(), values[i_min + 1 :].tolist()),
            "consecutive_rises": rises,
            "eval_climbs": eval_climbs,
            "points": len(values),
        },
        confidence=0.6,
    )


TREND_POINTS = 10  # points from the lowest one on that a rank test of a climb needs
TREND_ERROR = 0.001  # its one-sided error: a flat noisy loss shows such a trend once in a thousand logs


def _trend_climb(run: Run, metric: str, loss: pd.Series, i_min: int) -> Detection | None:
    """A short log whose loss, from its lowest point to the end, rises as a trend with noise (a slow divergence
    of a percent per epoch that steps back now and then, so no run of rises reaches the sign test's): Mann-Kendall's
    rank test over the points from the lowest on, past TREND_ERROR one-sided, the climb 5% of the low or more,
    and the end at the climb's top quarter (it did not come back)."""
    after = loss.to_numpy()[i_min:]
    n = len(after)
    if n < TREND_POINTS:
        return None
    low, last, top = float(after[0]), float(after[-1]), float(after.max())
    if last < low + 0.75 * (top - low):
        return None
    s = float(np.sign(after[None, :] - after[:, None])[np.triu_indices(n, 1)].sum())
    z = (s - 1) / math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    if z < statistics.NormalDist().inv_cdf(1 - TREND_ERROR):
        return None
    steps = loss.index.to_numpy()
    return Detection(
        int(steps[i_min + 1]),
        f"loss rose as a trend over the last {n - 1} logged points, from {fmt(low)} at step {int(steps[i_min])} "
        f"to {fmt(last)} (+{(last / low - 1):.1%}; rank test z = {z:.1f})",
        {
            "low": _points(run, metric, "train", [int(steps[i_min])], [low])[0],
            "last": _points(run, metric, "train", [int(steps[-1])], [last])[0],
            "kendall_z": round(z, 2),
            "points": len(loss),
        },
        confidence=0.6,
    )


# A uniform guess over V classes has a cross-entropy of ln(V); no tokenizer has a million tokens.
CHANCE_CEILING = math.log(1_000_000)


def _beyond_chance(run: Run, metric: str, loss: pd.Series) -> Detection | None:
    """A token-level cross-entropy (the run logs a perplexity beside it) that ends above ln(1,000,000):
    worse than a uniform guess over any vocabulary, so the model has diverged, however flat the curve
    looks; an infinite perplexity says the same (exp of the loss overflowed)."""
    ppl = [(s, m) for s, m in run.series_names() if m in ("ppl", "perplexity")]
    if not ppl or len(loss) < 3:
        return None
    tail = loss.iloc[-3:]
    if not bool((tail > CHANCE_CEILING).all()):
        return None
    overflowed = []  # (split, first step) of each perplexity that went to inf
    for split, name in ppl:
        series = run.series(name, split=split)
        inf = series[np.isinf(series.to_numpy())]
        if len(inf):
            overflowed.append((split, int(inf.index[0])))
    above = (loss > CHANCE_CEILING).to_numpy()
    below = np.flatnonzero(~above)
    start = int(below[-1]) + 1 if len(below) else 0  # where the loss last went above the ceiling to stay
    step = int(loss.index[start])
    said = f"; {overflowed[0][0]} perplexity is inf at step {overflowed[0][1]}" if overflowed else ""
    return Detection(
        step,
        f"the loss is above ln(1,000,000) = {CHANCE_CEILING:.1f} from step {step} to the end "
        f"({fmt(float(tail.iloc[-1]))} last): "
        f"worse than a uniform guess over any vocabulary (the run logs a perplexity, so it is a cross-entropy){said}",
        {
            "last": _points(run, metric, "train", tail.index.tolist(), tail.tolist()),
            "chance_ceiling": round(CHANCE_CEILING, 2),
            "perplexity_series": [f"{s}/{m}" for s, m in ppl],
            "perplexity_inf_at": [{"split": s, "step": at} for s, at in overflowed],
        },
        confidence=0.7,
    )


def _explosion(run: Run, metric: str, loss: pd.Series, ratio: float) -> Detection | None:
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    if len(values) < 2:
        return None
    before = np.maximum.accumulate(np.abs(values))[:-1]  # running max: orders of magnitude, not noise
    with np.errstate(divide="ignore", invalid="ignore"):
        jumps = np.flatnonzero((before > 0) & (np.abs(values[1:]) >= ratio * before)) + 1
    if not len(jumps):
        return None
    i = int(jumps[0])
    level = float(np.median(values[:i]))
    after = values[i + 1 :]
    moving = (len(after) == 1 and after[0] != 0) or len(np.unique(after)) > 1  # not a dead constant
    # Back nearer its old range than the explosion (under the geometric middle of the two, on a log
    # scale) and still moving: a spike (loss-spike's), not a divergence.
    if len(after) and moving and bool(np.all(np.abs(after) <= math.sqrt(ratio) * before[i - 1])):
        return None
    return Detection(
        int(steps[i]),
        f"loss exploded from {fmt(level)} to {fmt(float(values[i]))} at step "
        f"{int(steps[i])} ({abs(values[i]) / max(abs(level), 1e-300):.3g}×)",
        {
            "onset": _points(run, metric, "train", [int(steps[i])], [float(values[i])])[0],
            "level_before": fmt(level),
            "peak": fmt(float(np.max(values[i:]))),
            "last": fmt(float(values[-1])),
        },
        confidence=0.8,
    )


def _runaway_below_zero(run: Run, metric: str, loss: pd.Series, ratio: float) -> Detection | None:
    """A loss below 0 throughout whose magnitude grew `ratio` x or more from its first point to its last, at four
    moves in five or more (a 12-lead ECG model's -33,835 at epoch 0, -65,066,624 at epoch 69): a loss that is
    unbounded below is being driven to minus infinity, not minimised (a sign error, a density whose variance
    collapses). Five points at least."""
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    if len(values) < 5 or not bool((values < 0).all()):
        return None
    grew = np.abs(values[-1]) >= ratio * np.abs(values[0]) and float(np.mean(np.diff(values) < 0)) >= 0.8
    if not grew:
        return None
    return Detection(
        int(steps[1]),
        f"loss ran away below zero: {fmt(float(values[0]))} at step {int(steps[0])}, {fmt(float(values[-1]))} at "
        f"step {int(steps[-1])} ({abs(values[-1] / values[0]):.3g}x its first magnitude), growing at most points",
        {
            "pattern": "runaway_below_zero",
            "first": _points(run, metric, "train", [int(steps[0])], [float(values[0])])[0],
            "last": _points(run, metric, "train", [int(steps[-1])], [float(values[-1])])[0],
            "ratio": round(float(abs(values[-1] / values[0])), 3),
        },
        confidence=0.6,
    )


def _blowup_into_nan(run: Run, metric: str, raw: pd.Series, blowup: float) -> Detection | None:
    bad = ~np.isfinite(raw.to_numpy())
    if not bad.any():
        return None
    first = int(np.argmax(bad))
    if first == 0 or abs(float(raw.iloc[first - 1])) < blowup:
        return None
    step, value = int(raw.index[first - 1]), float(raw.iloc[first - 1])
    return Detection(
        step,
        f"loss reached {fmt(value)} at step {step}, then became non-finite at step "
        f"{int(raw.index[first])}: the run blew up",
        {"onset": _points(run, metric, "train", [step], [value])[0], "first_nonfinite_step": int(raw.index[first])},
        confidence=0.6,
    )


@check("loss_parts_explode")
def loss_parts_explode(run: Run, *, explosion_ratio: float = 1000.0, blowup: float = 1e6) -> Detection | None:
    """With no series named the train loss: a named part of it (`l_g_pix`, `d_loss`, `loss_cls`) exploded
    `explosion_ratio` × above both its own largest value before and the whole objective's level (the sum
    of the parts' magnitudes before the jump: a small term that grows, a KL weight warming up, is no
    explosion), without coming back; or rose above `blowup` right before it turned NaN."""
    if run.has("loss"):
        return None
    parts = loss_parts(run)
    if not parts:
        return None
    table = pd.concat([run.series(m).rename(m) for m in parts], axis=1).sort_index()
    total = np.nansum(np.where(np.isfinite(table.to_numpy()), np.abs(table.to_numpy()), np.nan), axis=1)
    found: Detection | None = None
    for part in parts:
        raw = run.series(part)
        hit = _explosion(run, part, finite(raw), explosion_ratio) or _blowup_into_nan(run, part, raw, blowup)
        if hit is None or hit.onset_step is None:
            continue
        before = total[table.index.to_numpy() < hit.onset_step]
        jump = float(np.abs(raw.get(hit.onset_step, np.nan)))
        if hit.evidence.get("first_nonfinite_step") is None and (
            not len(before) or not jump >= explosion_ratio * float(np.median(before))
        ):
            continue  # large for this term, small beside the whole objective
        if found is None or hit.onset_step < (found.onset_step or 0):
            hit.message = f"loss part {part}" + hit.message.removeprefix("loss") + "; no series is named the train loss"
            hit.evidence["series"] = part
            found = hit
    return found or _every_part_diverged(run, parts)


def _every_part_diverged(run: Run, parts: list[str]) -> Detection | None:
    """Two parts or more of a loss nobody named `loss`, each of which diverged as a train loss would (DeepFaceLab's
    `src_loss` and `dst_loss` from 0.2 and 0.1 to 18 and 40 at one iteration, and never back): the objective they
    make up ran away. A GAN's generator loss that climbs while its discriminator's falls is no such thing."""
    if len(parts) < 2:
        return None
    hits = [divergence(run, metric=part) for part in parts]
    if not all(hit is not None and hit.onset_step is not None for hit in hits):
        return None
    first = min((h for h in hits if h is not None), key=lambda h: h.onset_step or 0)
    return Detection(
        first.onset_step,
        f"every part of the loss diverged ({', '.join(parts)}; no series is named the train loss): {first.message}",
        {**first.evidence, "parts": parts},
        confidence=first.confidence,
    )


@check("loss_not_moving")
def loss_not_moving(
    run: Run,
    *,
    min_points: int = 3,
    chance_tolerance: float = 0.015,
    flat_spread: float = 0.05,
    flat_relative: float = 0.02,
) -> Detection | None:
    """The train loss never moves: identical at every point, sitting at chance level ln(k), flat
    against its own noise over a long run, or a learning rate that is 0 at every logged step."""
    loss = finite(run.series("loss"))
    lr = finite(run.series("learning_rate"))
    grad = run.series("grad_norm").to_numpy()
    skipped = len(grad) > 0 and float((~np.isfinite(grad)).mean()) >= 0.9
    if len(lr) >= min_points and (lr == 0).all() and not skipped:  # skipped: an fp16 scaler skipped every
        return Detection(
            int(lr.index[0]),
            f"learning_rate is 0 at all {len(lr)} logged steps: nothing is updated",
            {"learning_rate": _points(run, "learning_rate", "train", lr.index.tolist(), lr.tolist(), 3)},
        )
    if not run.has("loss"):
        return _parts_not_moving(run, min_points)
    if len(loss) < min_points or not _plain_loss(run) or (loss == 0).all():
        return None  # a loss of exactly 0 is the loss-exactly-zero rule's
    values = loss.to_numpy()
    mean = float(values.mean())
    spread = float(np.ptp(values))

    def evidence(**pattern: Any) -> dict[str, Any]:
        """The first and last points, cited (built only for a finding: citing costs a lookup each)."""
        return {
            "points": len(values),
            "first": _points(run, "loss", "train", loss.index[:3].tolist(), values[:3].tolist()),
            "last": _points(run, "loss", "train", loss.index[-3:].tolist(), values[-3:].tolist()),
            **pattern,
        }

    frozen = _identical_tail(values)
    # Printed with few digits (`1.41`), a converging loss repeats its last value: identical then means
    # frozen only over most of the run, not over a short tail after a fall.
    moves = np.abs(np.diff(values))
    moves = moves[moves > 0]
    coarse = len(moves) > 0 and float(moves.min()) >= 1e-3 * abs(float(values[-1]))
    if (
        abs(values[-1]) > FLOAT32_FLOOR  # at float32's floor the loss is 0: the loss-exactly-zero rule's
        and frozen >= max(min_points, len(values) // 2 if coarse else len(values) // 4)
        and not _converged_into(values[: len(values) - frozen + 1])
        and not _at_printed_floor(values)
        and not warming_up(lr, int(loss.index[len(values) - frozen]))
        and not _moves_during(run, "loss_avg", "train", loss.index[len(values) - frozen :])
        and not _moves_during(run, "loss", "eval", loss.index[len(values) - frozen :])
    ):
        start = len(values) - frozen
        where = "at all" if start == 0 else f"from step {int(loss.index[start])} on, at the last"
        return Detection(
            int(loss.index[start]),
            f"loss is {fmt(float(values[-1]))} {where} {frozen} logged steps: nothing is learned",
            evidence(pattern="identical", frozen_points=frozen),
        )
    flat = spread <= flat_spread * abs(mean)
    updates = int(loss.index[-1] - loss.index[0]) + 1 if run.meta.get("step_unit", "step") == "step" else None
    # A learning rate still warming up over the whole stretch makes tiny updates by design: a classifier there
    # still predicts about uniformly (a video transformer's first 680 of 1,879 iterations at ln(k)).
    warming = warming_up(lr, int(loss.index[0]))
    chance = _chance_level(mean, run, chance_tolerance, len(values), updates) if flat and not warming else None
    if chance is None and not flat:
        settled = _settled_at_chance(run, values, loss.index.to_numpy(), flat_spread, chance_tolerance)
        if settled is not None:
            return settled
    evals = finite(run.series("loss", split="eval")).to_numpy()
    if chance is None and len(evals) >= min_points and np.ptp(evals) <= 0.01 * abs(float(evals.mean())):
        # The train loss still moves (a falling start), but the eval loss sits at chance and stays there.
        at_chance = _chance_level(float(evals.mean()), run, chance_tolerance, len(evals))
        if at_chance is not None and "accuracy" in at_chance[2]:
            k, level, why = at_chance
            return Detection(
                int(loss.index[0]),
                f"eval loss stays at {fmt(float(evals.mean()))} ≈ ln({k}) = {level:.4f} over all {len(evals)} "
                f"evaluations ({why}): the model predicts the uniform distribution over {k} classes",
                evidence(pattern="eval_at_chance_level", classes=k, ln_k=round(level, 4), k_from=why),
                confidence=0.7,
            )
    # An eval loss, else an eval score (accuracy, F1...), identical to all its digits at every evaluation.
    frozen_eval = (
        [("loss", evals)]
        if len(evals)
        else [
            (m, finite(run.series(m, split="eval")).to_numpy())
            for s, m in run.series_names()
            if s == "eval" and _HIGHER_IS_BETTER.search(m)
        ]
    )
    for name, series in frozen_eval:
        if (
            chance is None
            and flat
            and len(series) >= max(min_points, 4)
            and _identical_tail(series) == len(series)
            and _precise(float(series[-1]))  # `0.31` five times is a converged run printed with two digits
        ):
            return Detection(
                int(loss.index[0]),
                f"eval {name} is {fmt(float(series[-1]))} at all {len(series)} evaluations, the same to its "
                f"printed digits, while the train loss moves by {spread / abs(mean):.1%}: the model's "
                "predictions on the eval set do not change",
                evidence(pattern="eval_identical", evaluations=len(series), series=f"eval/{name}"),
                confidence=0.7,
            )
    stuck = _eval_scores_stuck(run, loss)
    if stuck is not None and chance is None:
        return stuck
    if chance is not None:
        k, level, why = chance
        return Detection(
            int(loss.index[0]),
            f"loss stays at {fmt(mean)} ≈ ln({k}) = {level:.4f} over all "
            f"{len(values)} logged steps ({why}): the model predicts the uniform distribution over {k} classes",
            evidence(pattern="chance_level", classes=k, ln_k=round(level, 4), k_from=why),
            confidence=0.8 if len(values) >= _LONG_CHANCE else 0.6,  # how much of the run was seen
        )
    if (
        flat
        and run.meta.get("step_unit") == "epoch"
        and int(loss.index[0]) <= 1
        and len(values) >= _LONG_CHANCE
        and values[-1] >= values[0] * (1 - flat_spread / 2)
    ):
        # Whole epochs from the first one on, and the loss of the last is no lower than the first's: a run
        # learns most in its first epochs (an epoch's mean holds every batch of it), this one did not.
        return Detection(
            int(loss.index[0]),
            f"loss stays within {spread / abs(mean):.1%} of {fmt(mean)} over the first {len(values)} epochs "
            f"({fmt(float(values[0]))} at epoch {int(loss.index[0])}, {fmt(float(values[-1]))} at epoch "
            f"{int(loss.index[-1])}): it is not learning",
            evidence(pattern="flat_from_first_epoch"),
            confidence=0.6,
        )
    peak_lr = float(lr.max()) if len(lr) else None
    if (
        peak_lr is not None
        and 0 < peak_lr <= TINY_LR
        and not warming
        and int(loss.index[0]) <= 1
        and updates is not None
        and updates >= _MIN_UPDATES
        and len(values) >= _LONG_CHANCE
        and abs(float(values[-1] - values[0])) <= 0.01 * abs(float(values[0]))
    ):
        # From the run's first step, over hundreds of updates, the loss moved by under 1% at a learning rate
        # no higher than 1e-6: each update changes a weight by about the rate, too little to learn (a DPO
        # run at 1.1e-8: 0.17329 -> 0.17280 over 6,480 steps). At a usual rate a flat start is judged below.
        change = float(values[-1] - values[0])
        return Detection(
            int(loss.index[0]),
            f"loss moved by {change / abs(float(values[0])):+.2%} ({fmt(float(values[0]))} -> "
            f"{fmt(float(values[-1]))}) over its first {updates} steps, at a learning rate of at most "
            f"{peak_lr:.2g}: too small for the weights to change",
            evidence(pattern="tiny_learning_rate", peak_learning_rate=peak_lr),
            confidence=0.6,
        )
    if (
        updates is not None
        and updates >= _FLAT_UPDATES
        and 0 <= int(loss.index[0]) <= 0.01 * updates
        and spread <= _FLAT_FOR_GOOD * abs(mean)
        and not warming
    ):
        # Seen near the run's first step and again thousands of updates later at the same value (within 1%),
        # however few lines the paste kept between them (a Caffe log's first and last iterations at 4.615): a
        # loss that learns moves far more than that over so many updates.
        return Detection(
            int(loss.index[0]),
            f"loss stays within {spread / abs(mean):.2%} of {fmt(mean)} from step {int(loss.index[0])} to step "
            f"{int(loss.index[-1])}, over {updates} updates: it is not learning",
            evidence(pattern="flat_over_many_updates", updates=updates),
            confidence=0.6,
        )
    # A loss that exploded is not flat, whatever its trend says: the explosion inflates the noise estimate
    # it is compared with (an absurd learning rate read as "not learning from step 1").
    moved = float(np.ptp(values)) > 10 * abs(float(np.median(values)))
    # A log that opens far into its run (a resumed stage at step 38,501, 500 steps logged) shows a converged tail:
    # where the loss started is not in it, so its flatness says nothing of whether the model learned.
    tail_only = int(loss.index[0]) > int(loss.index[-1] - loss.index[0])
    if len(values) >= LONG and not moved and not tail_only:
        t = run_signals(run, "loss").trend
        if (
            t.direction == "flat"
            and abs(t.change) < flat_relative * abs(mean)
            and not _moved_over_steps(loss, max(flat_relative * abs(mean), t.noise))
        ):
            return Detection(
                int(loss.index[0]),
                f"loss moved by {fmt(t.change)} over {len(values)} steps, "
                f"less than its own noise ({fmt(t.noise)}): it is not learning",
                evidence(pattern="flat", trend=t.to_dict()),
                confidence=0.7,
            )
    return None


def _moved_over_steps(loss: pd.Series, by: float) -> bool:
    """Whether the medians of the first and last quarter of the logged *steps* (not of the points) differ by
    more than `by`: a log cut in its middle keeps a few early points and many late ones, and quarters of the
    points then hold the late level at both ends (26 at iteration 0, 4.9 from iteration 45,000 on reads as
    flat). Three points in each quarter at least, else no judgement (False)."""
    steps, values = loss.index.to_numpy(), loss.to_numpy()
    span = float(steps[-1] - steps[0])
    first, last = values[steps <= steps[0] + span / 4], values[steps >= steps[-1] - span / 4]
    return len(first) >= 3 and len(last) >= 3 and abs(float(np.median(last) - np.median(first))) > by


def _settled_at_chance(
    run: Run, values: np.ndarray, steps: np.ndarray, spread: float, tolerance: float
) -> Detection | None:
    """A loss that moved at first (a warmup wobble, a jump) and then settled, over its last half or more
    (five points at least), within `spread` of ln(k), while the run's own accuracy over those points sits at
    1/k: the model predicts the uniform distribution. Only an accuracy says k here, never the level alone."""
    tail = values[::-1]  # each suffix's range against its mean, all at once (a loop would be quadratic)
    ranges = np.maximum.accumulate(tail) - np.minimum.accumulate(tail)
    within = ranges <= spread * np.abs(np.cumsum(tail) / np.arange(1, len(tail) + 1))
    start = len(values) - (int(np.argmin(within)) if not within.all() else len(values))
    if len(values) - start >= max(5, len(values) // 2):
        accuracy = _accuracy_level(run, since=int(steps[start]))
    elif len(values) - start >= 2:  # a short log: its accuracy must be one value at every record to say it
        accuracy = _frozen_accuracy(run)
    else:
        return None
    if accuracy is None:
        return None
    level = float(np.mean(values[start:]))
    for k in range(2, 21):
        if abs(level - math.log(k)) <= tolerance * math.log(k) and abs(accuracy - 1 / k) <= 0.15 / k:
            return Detection(
                int(steps[start]),
                f"loss settled at {fmt(level)} ≈ ln({k}) = {math.log(k):.4f} from step {int(steps[start])} on "
                f"({len(values) - start} of {len(values)} logged steps) and the accuracy sits at {accuracy:.3f} ≈ "
                f"1/{k}: the model predicts the uniform distribution over {k} classes",
                {"pattern": "settled_at_chance_level", "classes": k, "ln_k": round(math.log(k), 4)},
                confidence=0.7,
            )
    return None


def _at_printed_floor(values: np.ndarray) -> bool:
    """A loss at one or two units of the last digit it is printed with (`loss:0.001` with three decimals): its
    repeats say no more than "near 0", not that it stopped moving. A loss printed as whole numbers is excepted."""
    unit = printed_unit(values)
    return 0 < unit < 1 and abs(float(values[-1])) <= 2 * unit


def _converged_into(values: np.ndarray, share: float = 1e-3) -> bool:
    """Whether a loss came to its last value as an optimizer converges: its last three moves each smaller than
    the one before and the last under `share` of its whole fall (221.96, 96.34, 87.53, 86.85, 86.80, 86.7956:
    gradient descent on a convex loss reaching its optimum to the printed digits). A loss that freezes because
    nothing is updated any more stops at once, from moves as large as before."""
    moves = np.abs(np.diff(values))
    fall = float(values[0] - values[-1])
    if len(moves) < 3 or fall <= 0:
        return False
    last = moves[-3:]
    return bool(last[1] < last[0] and last[2] < last[1] and last[2] < share * fall)


def _frozen_accuracy(run: Run, min_points: int = 4) -> float | None:
    """The one value of a top-1 accuracy (train, else eval) that is the same at every one of its `min_points`
    records or more, as a fraction: a classifier that predicts one class for every input, whatever its loss
    does (a Keras binary classifier's `binary_accuracy: 0.5000` at every epoch, train and validation)."""
    for split in ("train", "eval"):
        for s, metric in run.series_names():
            if s == split and _TOP1.search(metric.lower()):
                values = finite(run.series(metric, split=split)).to_numpy()
                if len(values) >= min_points and np.ptp(values) == 0:
                    level = float(values[0])
                    return level / 100 if level > 1 else level
    return None


SAME = 1e-5  # relative: a loss printed with many digits that moves less than this between records is not moving


def _parts_not_moving(run: Run, min_points: int) -> Detection | None:
    """No series is named the train loss, and every one of its parts (two or more: a GAN's `gen_loss` and
    `dis_loss`, a detector's `box_loss` and `cls_loss`) keeps one value at every logged step. One constant
    part alone may be a term switched off; all of them still is nothing learned."""
    parts = loss_parts(run)
    if len(parts) < 2:
        return None
    series = [finite(run.series(m)) for m in parts]
    if any(len(v) < min_points or _identical_tail(v.to_numpy()) < len(v) for v in series):
        return None
    first = series[0]
    shown = ", ".join(f"{m} {fmt(float(v.iloc[-1]))}" for m, v in zip(parts, series, strict=True))
    return Detection(
        int(first.index[0]),
        f"every loss part keeps one value over all {len(first)} logged steps ({shown}): nothing is learned",
        {
            "parts": parts,
            "points": len(first),
            "first": _points(run, parts[0], "train", first.index[:3].tolist(), first.to_numpy()[:3].tolist()),
        },
        confidence=0.7,
    )


@check("train_score_falls_with_loss")
def train_score_falls_with_loss(
    run: Run, *, min_points: int = 4, loss_fall: float = 0.8, score_fall: float = 0.5
) -> Detection | None:
    """The train loss falls while a score measured on the same training data falls with it: the median of
    the last quarter of the loss at `loss_fall` × its first quarter's or lower, and the score's at
    `score_fall` × its first quarter's or lower. On the data it is trained on, a model that lowers its loss
    predicts better; one that predicts worse is lowering a loss that does not measure the task (labels that
    do not match the inputs, a loss on the wrong output, a collapse to the background class)."""
    loss = finite(run.series("loss"))
    if len(loss) < min_points:
        return None
    first, last = _quarter_medians(loss.to_numpy())
    if not (first > 0 and last <= loss_fall * first):
        return None
    terms: set[str] | None = None  # read only for a score that fell (a sum of seven series costs a millisecond)
    for split, metric in run.series_names():
        if split != "train" or not _is_score(metric):
            continue
        score = finite(run.series(metric))
        if len(score) < min_points:
            continue
        points = score.to_numpy()
        begin, end = _quarter_medians(points)
        if begin > 0 and end <= score_fall * begin:
            terms = loss_terms(run) if terms is None else terms
            if metric in terms:
                continue
            return Detection(
                int(score.index[0]),
                f"train loss fell from {fmt(first)} to {fmt(last)} while the train {metric} fell from {fmt(begin)} "
                f"to {fmt(end)} (medians of the first and last quarter): the loss goes down and the predictions "
                "on the same data get worse, so the loss does not measure the task",
                {
                    "loss": [round(first, 6), round(last, 6)],
                    "score": f"train/{metric}",
                    "score_quarters": [round(begin, 6), round(end, 6)],
                    "first": _points(run, metric, "train", score.index[:2].tolist(), points[:2].tolist()),
                    "last": _points(run, metric, "train", score.index[-2:].tolist(), points[-2:].tolist()),
                },
                confidence=0.6,
            )
    return None


def loss_terms(run: Run, split: str = "train", most: int = 6) -> set[str]:
    """The series of a split whose sum, or mean, is its loss at every step they share (two to four of them, among
    the first `most` others): `train: bce: 0.210124, dice: 0.994346, loss: 0.602235` holds a dice *loss*, a term
    of the objective, lower better, not the Dice score its name would say."""
    loss = finite(run.series("loss", split=split))
    if len(loss) < 2:
        return set()
    others = [m for s, m in run.series_names() if s == split and m != "loss" and not m.endswith("_summary")][:most]
    table = pd.concat([loss.rename("loss")] + [finite(run.series(m, split=split)).rename(m) for m in others], axis=1)
    table = table.dropna()
    if len(table) < 2:
        return set()
    target = table["loss"].to_numpy()
    tolerance = 1e-3 * np.maximum(np.abs(target), 1e-3) + printed_unit(target)
    for size in (2, 3, 4):
        for group in itertools.combinations(others, size):
            block = table[list(group)].to_numpy()
            for total in (block.sum(axis=1), block.mean(axis=1)):
                if bool(np.all(np.abs(total - target) <= tolerance * size)):
                    return set(group)
    return set()


def _quarter_medians(values: np.ndarray) -> tuple[float, float]:
    """The medians of the first and the last quarter of a series (one point each at least)."""
    quarter = max(1, len(values) // 4)
    return float(np.median(values[:quarter])), float(np.median(values[-quarter:]))


def _is_score(metric: str) -> bool:
    """A higher-is-better score that measures the model now, not a best-so-far tracker (`best_acc`) nor the
    change an early-stopping callback reports (Lightning's `Metric val_acc improved by 0.114`)."""
    return bool(_HIGHER_IS_BETTER.search(metric)) and "best" not in metric and not _CHANGE_OF.search(metric)


_CHANGE_OF = re.compile(r"(?:^|_)(?:improved_by|improvement|delta|change|diff)(?:_|$)")


def _significant_digits(value: float) -> int:
    """Significant digits of a value as it was printed, trailing zeros lost (`0.8952`: 4, `0.51`: 2)."""
    mantissa = f"{abs(value):.12e}".split("e")[0].replace(".", "").rstrip("0")
    return max(len(mantissa), 1)


@check("astronomical_loss")
def astronomical_loss(run: Run, *, ceiling: float = 1e15, min_points: int = 1) -> Detection | None:
    """A train loss, or a part of one, at `ceiling` or beyond in magnitude at `min_points` records or more, in
    any kind of run (a reinforcement learner's value loss too, whose growth by design the other divergence
    checks leave alone): a value loss of 1e15 means value estimates near 3e7 times the reward scale, and no
    supervised loss gets there without its weights having run away."""
    hits: list[tuple[int, str, float, int]] = []
    for metric in loss_parts(run):
        series = finite(run.series(metric))
        far = series[np.abs(series.to_numpy()) >= ceiling]
        if len(far) >= min_points:
            hits.append((int(far.index[0]), metric, float(np.abs(far.to_numpy()).max()), len(far)))
    if not hits:
        return None
    step, metric, largest, count = min(hits)
    first = float(finite(run.series(metric)).loc[step])
    return Detection(
        step,
        f"{metric} is {fmt(first)} at step {step} and reaches {fmt(largest)} ({count} records at {ceiling:.0e} "
        "or beyond): the weights or value estimates ran away",
        {
            "pattern": "astronomical",
            "series": f"train/{metric}",
            "records_beyond": count,
            "largest": fmt(largest),
            "first": cite_point(run, "train", metric, step, first),
            "others": sorted({m for _, m, _, _ in hits} - {metric}),
        },
    )


# A cross-entropy whose probability was clamped before its log: -ln(eps) is the largest value it can take, the
# loss of a prediction that gives the true class (almost) nothing. Caffe and others clamp at float32's smallest
# normal number (87.3365), Keras and TensorFlow.js at their epsilon 1e-7 (16.1181), others at 1e-8 ... 1e-15.
_CLAMPS = {
    "float32's smallest normal number": 1.1754943508222875e-38,
    "1e-7": 1e-7,
    "1e-8": 1e-8,
    "1e-10": 1e-10,
    "1e-12": 1e-12,
    "1e-15": 1e-15,
}


def _at_clamp(value: float) -> tuple[str, int] | None:
    """(clamp, loss weight w) when `value` is w × -ln(clamp), w a whole number up to 64, to the digits it was
    printed with or float32's precision (four significant digits at least; five for a weight above 1, as
    `1746.73` = 20 × 87.3365)."""
    digits = _significant_digits(value)
    if value <= 0 or digits < 4:
        return None
    unit = 10.0 ** (math.floor(math.log10(value)) - digits + 1)  # the last printed digit's place
    for name, eps in _CLAMPS.items():
        ceiling = -math.log(eps)
        weight = round(value / ceiling)
        # within half the last printed digit, or float32's rounding of the log (a few units of 1e-7 of it)
        close = abs(value - weight * ceiling) <= max(unit / 2, 1e-6 * value)
        if 1 <= weight <= 64 and close and (weight == 1 or digits >= 5):
            return name, weight
    return None


@check("loss_at_clamp")
def loss_at_clamp(run: Run, *, min_points: int = 2, reached: bool = True) -> Detection | None:
    """The train loss pinned at the ceiling of a clamped cross-entropy (-ln of the clamp, times a loss weight)
    at `min_points` records or more, every one the same printed value: each prediction gave the true class a
    probability at or below the clamp (saturated or non-finite outputs). `reached`: the loss had been below
    half the ceiling before (it diverged to it); else it sits there from its first record (nothing learned)."""
    loss = finite(run.series("loss"))
    values = loss.to_numpy()
    # Only values near a whole multiple of a ceiling (0.1% of it: wider than any printed precision the exact
    # test accepts) are tested one by one: a healthy loss of millions of points has none.
    near = np.zeros(len(values), dtype=bool)
    for eps in _CLAMPS.values():
        unit = -math.log(eps)
        multiple = np.rint(values / unit)
        near |= (multiple >= 1) & (multiple <= 64) & (np.abs(values - multiple * unit) <= 1e-3 * np.abs(values))
    at = [(int(i), hit) for i in np.flatnonzero(near) if (hit := _at_clamp(float(values[i]))) is not None]
    if not at:
        return None
    first, (name, weight) = at[0]
    pinned = [i for i, hit in at if hit == (name, weight) and values[i] == values[first]]
    if len(pinned) < min_points:
        return None
    ceiling = weight * -math.log(_CLAMPS[name])
    before = values[:first]
    lower_before = bool(len(before)) and bool((before < 0.5 * ceiling).any())
    if reached != lower_before:
        return None
    step, value = int(loss.index[first]), float(values[first])
    times = "" if weight == 1 else f"{weight} × "
    how = f"after {fmt(float(before.min()))} before it" if reached else "from its first record"
    return Detection(
        step,
        f"loss is {fmt(value)} = {times}-ln({name}) at {len(pinned)} records from step {step} ({how}): the "
        "cross-entropy of a probability clamped at its floor, every prediction giving the true class nothing",
        {
            "pattern": "clamped_cross_entropy",
            "clamp": name,
            "weight": weight,
            "ceiling": round(ceiling, 6),
            "records_at_ceiling": len(pinned),
            "points": len(values),
            "first": cite_point(run, "train", "loss", step, value),
        },
    )


_AUC = re.compile(r"(?:^|[^a-z])(?:roc_)?auc(?:[^a-z]|$)", re.I)
# a spread or an extreme of a score, not the score now (`std_auc`, `best_wer`): auc_at_chance, error_rate_at_full
_SPREAD_OR_EXTREME = re.compile(r"(?:^|[^a-z])(?:std|var|best|max|min)(?:[^a-z]|$)", re.I)


@check("auc_at_chance")
def auc_at_chance(run: Run, *, min_points: int = 4, tolerance: float = 0.01) -> Detection | None:
    """An ROC AUC within `tolerance` of 0.5 at every one of its `min_points` or more records: the model ranks
    positives above negatives no better than a coin, whatever the classes' balance (0.5 is chance for any
    data set, unlike an accuracy or a loss, whose chance level depends on the number of classes)."""
    hits: list[tuple[int, str, str, int, float, float]] = []
    for split, metric in run.series_names():
        if not _AUC.search(metric) or _SPREAD_OR_EXTREME.search(metric):
            continue
        series = finite(run.series(metric, split=split))
        values = series.to_numpy()
        if len(values) >= min_points and bool(np.all(np.abs(values - 0.5) <= tolerance)):
            hits.append((int(series.index[0]), split, metric, len(values), float(values.min()), float(values.max())))
    if not hits:
        return None
    step, split, metric, points, low, high = min(hits, key=lambda h: (h[1] != "eval", h[0]))
    shown = fmt(low) if low == high else f"{fmt(low)} to {fmt(high)}"
    return Detection(
        step,
        f"{split} {metric} is {shown} at all {points} records: the model ranks no better than chance (0.5)",
        {
            "series": f"{split}/{metric}",
            "points": points,
            "range": [low, high],
            "first": cite_point(run, split, metric, step, float(finite(run.series(metric, split=split)).iloc[0])),
            "others": sorted({f"{s}/{m}" for _, s, m, _, _, _ in hits} - {f"{split}/{metric}"}),
        },
    )


# A recogniser's error rates: word and character error rates, as printed alone or with a qualifier
# (`batch_wer`, `sample_wer`, `raw_wer`); a best-so-far tracker or a spread is no reading of the model now.
_RECOGNITION_ERROR = re.compile(r"(?:^|_)(?:wer|cer)$", re.I)


@check("error_rate_at_full")
def error_rate_at_full(
    run: Run, *, min_points: int = 4, tolerance: float = 0.01, below: float = 0.05, long: int = 8
) -> Detection | None:
    """A word or character error rate at 100% (every word wrong: the recogniser emits nothing, as after a CTC
    model collapses onto its blank) at each of its last `min_points` records or more, after it had been `below`
    (a share) under 100% earlier: it had learned something and lost it. At 100% from its first record it says
    so only over `long` records: a recogniser fine-tuned from a pretrained encoder prints 100% at its first
    evaluations before it learns to emit anything, as it should. Read on the fraction scale (1.0) when the
    series never goes above 1 (within `tolerance`), else on the percent scale (100)."""
    hits: list[tuple[int, str, str, int, int, float | None, float, float]] = []
    for split, metric in run.series_names():
        if not _RECOGNITION_ERROR.search(metric) or _SPREAD_OR_EXTREME.search(metric):
            continue
        series = finite(run.series(metric, split=split))
        values = series.to_numpy()
        if len(values) < min_points:
            continue
        full = 1.0 if float(values.max()) <= 1 + tolerance else 100.0
        at_full = np.abs(values - full) <= tolerance * full
        pinned = len(values) - int(np.flatnonzero(~at_full)[-1]) - 1 if not at_full.all() else len(values)
        before = values[: len(values) - pinned]
        learned = float(before.min()) if len(before) and float(before.min()) <= (1 - below) * full else None
        if pinned >= min_points and (learned is not None or pinned >= long):
            at = len(values) - pinned
            hits.append((int(series.index[at]), split, metric, pinned, len(values), learned, full, float(values[at])))
    if not hits:
        return None
    step, split, metric, pinned, points, learned, full, value = min(
        hits, key=lambda h: (h[5] is None, h[1] != "eval", h[0])
    )
    full_text = "100%" if full == 100.0 else "1.0 (100%)"
    how = f"after reaching {fmt(learned)}" if learned is not None else "from its first record"
    return Detection(
        step,
        f"{split} {metric} is {full_text} at the last {pinned} of its {points} records ({how}): the score of a "
        "model that emits nothing, no word or character of the reference matched",
        {
            "series": f"{split}/{metric}",
            "records_at_full": pinned,
            "points": points,
            "lowest_before": learned,
            "first": cite_point(run, split, metric, step, value),
            "others": sorted({f"{s}/{m}" for _, s, m, *_ in hits} - {f"{split}/{metric}"}),
        },
    )


def _fell_over(loss: pd.Series, first: int, last: int, by: float) -> bool:
    """The train loss over steps `first`..`last` ended at least `by` (a share) below where it began, and not near 0: a
    loss that falls to the prior's entropy (one class predicted for all) stays well above it, while one at ~0 has
    every train prediction right, so a score frozen below its best was measured on other data."""
    since = loss[(loss.index >= first) & (loss.index <= last)].to_numpy()
    if len(since) < 2 or not since[0] > 0:
        return False
    return 0.01 * float(since[0]) < float(since[-1]) <= (1 - by) * float(since[0])


@check("score_frozen")
def score_frozen(run: Run, *, min_points: int = 4, digits: int = 4, loss_fall: float = 0.25) -> Detection | None:
    """A classifier whose predictions stopped changing: an accuracy-type score (accuracy, F1, AUC, hit
    rate...) the same to all its printed digits over its last `min_points` records or more, and over half
    its records at least, whatever the loss does (a loss keeps moving while the argmax of every prediction
    stays on one class). Said when the score carries more than `digits` significant digits, or when two
    scores (train and eval) are frozen with `digits` each: a score printed with two digits repeats at
    convergence, one over thousands of samples to five digits does not. A score at 0 (nothing predicted
    yet) or at its maximum (everything right), and a best-so-far tracker, are no frozen prediction."""
    # split, metric, frozen points, points, value, first frozen step, last step (of the finite points)
    frozen: list[tuple[str, str, int, int, float, int, int]] = []
    for split, metric in run.series_names():
        if split not in ("train", "eval") or not _is_score(metric):
            continue
        series = finite(run.series(metric, split=split))
        values = series.to_numpy()
        if len(values) < min_points:
            continue
        tail, last = _identical_tail(values), float(values[-1])
        if tail >= max(min_points, (len(values) + 1) // 2) and last > 0 and last not in (1.0, 100.0):
            frozen.append(
                (split, metric, tail, len(values), last, int(series.index[len(values) - tail]), int(series.index[-1]))
            )
    sure = [f for f in frozen if _significant_digits(f[4]) > digits]
    both = [f for f in frozen if _significant_digits(f[4]) >= digits]
    loss = finite(run.series("loss"))
    # or a train score frozen while the train loss fell by a quarter over the same records: a loss that learns that
    # much moves some prediction across, unless every prediction stays on one class (a converged run's loss creeps)
    fell = [f for f in both if f[0] == "train" and _fell_over(loss, f[5], f[6], loss_fall)]
    chosen = sure or (both if len({f[0] for f in both}) >= 2 else fell)
    if not chosen:
        return None
    said = "; ".join(
        f"{split} {metric} {fmt(value)} at the last {tail} of {count}"
        for split, metric, tail, count, value, _, _ in chosen
    )
    moved = (
        f", while the train loss moved by {float(np.ptp(loss.to_numpy())) / abs(float(loss.mean())):.1%}"
        if len(loss) >= 2 and loss.mean()
        else ""
    )
    return Detection(
        min(f[5] for f in chosen),
        f"{said}, the same to every printed digit{moved}: the model's predictions no longer change "
        "(one class predicted for every input, or no update reaches the output)",
        {
            "pattern": "score_frozen",
            "scores": [
                {"series": f"{split}/{metric}", "value": value, "frozen_points": tail, "points": count}
                for split, metric, tail, count, value, _, _ in chosen
            ],
        },
        confidence=0.6,
    )


@check("eval_score_collapses")
def eval_score_collapses(
    run: Run, *, collapse: float = 0.01, least_best: float = 0.1, settled: int = 2, per_class: int = 3
) -> Detection | None:
    """An eval score (accuracy, AP, Dice, BLEU...) that had settled near its best and then falls below
    `collapse` of that best: the model's outputs broke (every mask empty, every box gone), whether or not
    it comes back later. The best must be a real score (`least_best` of its scale, 1 or 100) held at
    `settled` evaluations or more at half of it; per-class scores (`per_class` or more siblings sharing a
    name's last word, a segmenter's `car_iou`, `lake_iou`) are left out: a rare class scores 0 at times. Settled:
    the `settled` evaluations right before the fall at half the best or more (a toy task's BLEU on a tiny dev
    set reads 0, 16, 0, 0, 22, 0, 40 before it learns: that is no score falling from where it stood)."""
    names = [m for s, m in run.series_names() if s == "eval" and _is_score(m)]
    last_words = [m.rsplit("_", 1)[-1] for m in names]
    hits: list[tuple[int, str, float, float, int]] = []  # step, metric, best, value, points
    for metric, word in zip(names, last_words, strict=True):
        if last_words.count(word) >= per_class:
            continue
        series = finite(run.series(metric, split="eval"))
        values = series.to_numpy()
        if len(values) < settled + 1:
            continue
        best = np.maximum.accumulate(values)
        scale = 100.0 if float(best[-1]) > 1.0 else 1.0
        for i in range(settled, len(values)):
            top = float(best[i - 1])
            if top < least_best * scale or values[i] >= collapse * top:
                continue
            fall = i  # where the fall began (it may take two evaluations to reach the bottom: 0.70, 0.02, 0.003)
            while fall > 0 and values[fall - 1] < 0.5 * top:
                fall -= 1
            if fall >= settled and bool(np.all(values[fall - settled : fall] >= 0.5 * top)):  # settled before it
                hits.append((int(series.index[fall]), metric, top, float(values[i]), len(values)))
                break
    if not hits:
        return None
    step, metric, top, value, points = min(hits)
    back = float(finite(run.series(metric, split="eval")).iloc[-1])
    after = "and stays there" if back < collapse * top else f"(it reads {fmt(back)} at the last evaluation)"
    return Detection(
        step,
        f"eval {metric} fell from its best {fmt(top)} to {fmt(value)} from step {step} {after}: the model's "
        "outputs broke (an empty prediction scores 0), a collapse rather than a slow loss of accuracy",
        {
            "pattern": "eval_score_collapse",
            "series": f"eval/{metric}",
            "best": top,
            "collapsed_to": value,
            "points": points,
            "others": [m for _, m, _, _, _ in hits if m != metric],
        },
        confidence=0.6,
    )


_FROZEN_EVALS = 8  # evaluations in a row at one score before its never changing is no coincidence
_RUN_START = 0.05  # a log whose first train-loss point is past this share of its last step opened mid-run
_ACCURACY = re.compile(r"(?:^|_)(?:acc|accuracy|top_?[15]|prec[15])(?:_|$)")
_EXTREMUM = re.compile(r"(?:^|_)(?:best|max|min)(?:_|$)")  # a running best holds its value by design


def _eval_scores_stuck(run: Run, loss: pd.Series) -> Detection | None:
    """An eval accuracy or error rate the same to all its printed digits at every one of `_FROZEN_EVALS`
    evaluations or more, from one near the start of training, while the train loss moved over the same stretch:
    the model's predictions on the eval set never changed (one class for every input: the accuracy is that class's
    share). A score at its best (accuracy 1, error 0) is a task solved, and an accuracy of 0 a broken metric. Or
    every eval score the run reports (accuracy, Dice, mAP...: higher is better) under 1% of its scale at every one
    of those evaluations: the model gets next to nothing right (a segmenter that predicts empty masks)."""
    span = float(loss.index[-1] - loss.index[0])
    interval = float(loss.index[1] - loss.index[0]) if len(loss) > 1 else 1.0  # the first point is one logging
    if loss.index[0] > max(1.0, _RUN_START * float(loss.index[-1]), interval):  # interval in, at the earliest
        return None  # a log that opens mid-run: its first evaluation is no model's first
    scores: list[tuple[str, pd.Series, np.ndarray, np.ndarray | None]] = []  # name, series, values, train loss
    for split, name in run.series_names():
        error = bool(_ERROR_RATE.search(name))
        if split != "eval" or not (error or _is_score(name)) or _EXTREMUM.search(name):
            continue
        series = finite(run.series(name, split="eval"))
        values = series.to_numpy()
        during = _moving_during(loss, series, span)
        if not error and not (_ACCURACY.search(name) and not values.any()):
            # an accuracy of exactly 0 at every evaluation is no classifier's (one that names any class scores that
            # class's share): a metric that does not apply, a regression's floats compared for equality
            scores.append((name, series, values, during))
        if during is None or np.ptp(values) != 0 or values[0] <= 0 or values[0] in (1.0, 100.0):
            continue  # 0 or below: a broken metric or a sentinel (COCO's -1 for a size with no objects)
        if error and values[0] >= 100:
            continue
        if _another_eval_measure_moved(run, name):
            continue  # predictions that never change leave every score of them where it was (a COCO AP at 0.75
            # beside a PCK that rose: that AP is computed on something else)
        first = int(series.index[0])
        return Detection(
            first,
            f"eval {name} is {fmt(float(values[0]))} at all {len(values)} evaluations from step {first}, the same to "
            f"its printed digits, while the train loss went from {fmt(float(during[0]))} to {fmt(float(during[-1]))}: "
            "the model's predictions on the eval set never changed (one class for every input)",
            {
                "pattern": "eval_score_frozen",
                "series": f"eval/{name}",
                "evaluations": len(values),
                "first": cite_point(run, "eval", name, first, float(values[0])),
            },
            confidence=0.7,
        )
    if not scores or any(during is None for *_, during in scores):
        return None
    for _, _, values, _ in scores:
        scale = 100.0 if float(values.max()) > 1.0 else 1.0
        if float(values.max()) >= 0.01 * scale or float(values.min()) < 0:
            return None
    name, series, values, during = scores[0]
    assert during is not None
    first = int(series.index[0])
    return Detection(
        first,
        f"{', '.join(f'eval {n}' for n, *_ in scores)} never above {fmt(max(float(v.max()) for _, _, v, _ in scores))} "
        f"in {len(values)} evaluations from step {first}, while the train loss went from {fmt(float(during[0]))} to "
        f"{fmt(float(during[-1]))}: the model gets next to nothing right on the eval set",
        {
            "pattern": "eval_score_near_zero",
            "series": [f"eval/{n}" for n, *_ in scores],
            "evaluations": len(values),
            "first": cite_point(run, "eval", name, first, float(values[0])),
        },
        confidence=0.7,
    )


_NOT_A_MEASURE = re.compile(r"loss|time|second|mem|epoch|step|(?:^|_)lr(?:_|$)|learning_rate|count|num")


def _another_eval_measure_moved(run: Run, name: str) -> bool:
    """Whether an eval measure other than `name` (a score, an error: PCK, NME, F1...) changed over its evaluations;
    a loss may (the confidence of one class predicted for every input moves while the class does not), and so may
    times and counts."""
    for split, other in run.series_names():
        if split != "eval" or other == name or _EXTREMUM.search(other) or _NOT_A_MEASURE.search(other):
            continue
        values = finite(run.series(other, split="eval")).to_numpy()
        if len(values) > 1 and float(np.ptp(values)) > 0:
            return True
    return False


def _moving_during(loss: pd.Series, series: pd.Series, span: float) -> np.ndarray | None:
    """The train loss over the evaluations of `series` when they are `_FROZEN_EVALS` or more from near the start
    of training and the loss moved over them (by more than 2% of its level), else None."""
    if len(series) < _FROZEN_EVALS:
        return None
    first, last = int(series.index[0]), int(series.index[-1])
    if first > loss.index[0] + 0.25 * span:
        return None  # seen from mid-run: a converged score printed with few digits repeats
    during = loss[(loss.index >= first) & (loss.index <= last)].to_numpy()
    if len(during) < 2 or float(np.ptp(during)) <= 0.02 * abs(float(np.mean(during))):
        return None  # a train loss that does not move either: the frozen-loss checks'
    return during


def _precise(value: float) -> bool:
    """Printed with more than four significant digits (`0.90144944`, not `0.31` or `0.9000`)."""
    return value != 0 and math.isfinite(value) and _significant_digits(value) > 4


def _identical_tail(values: np.ndarray) -> int:
    """How many points at the end of the series equal the last one: exactly, or to within SAME of it.
    A loss measured on new batches moves in its fourth or fifth digit at least; one that moves only in
    its sixth (a uniform prediction, 11.090191 then 11.090240) is the same number printed with float noise."""
    differs = np.flatnonzero(np.abs(values - values[-1]) > SAME * abs(float(values[-1])))
    return len(values) - (int(differs[-1]) + 1 if len(differs) else 0)


def _chance_level(
    mean: float, run: Run, tolerance: float, points: int, updates: int | None = None
) -> tuple[int, float, str] | None:
    """(k, ln k, why k) when the loss sits at the cross-entropy of a uniform guess over k classes.

    Almost any loss between 0.7 and 3 is within a few percent of ln(k) for some k from 2 to 20, so a
    guessed k needs corroboration: k from the run itself (the model's vocabulary size or number of
    labels), or an accuracy series at 1/k (a uniform guess is right one time in k); or, without either,
    a long flat series (`_LONG_CHANCE` points or more) over more than the first few optimizer updates
    (`updates`: the steps it spans when they count updates; every classifier starts at chance)."""
    meta_model = run.meta.get("model")
    model: dict[str, Any] = meta_model if isinstance(meta_model, dict) else {}
    labels = model.get("id2label")
    known = {
        "vocabulary size": model.get("vocab_size"),
        "number of labels": model.get("num_labels") or (len(labels) if isinstance(labels, dict) else None),
    }
    for why, k in known.items():
        if isinstance(k, int) and k > 1 and abs(mean - math.log(k)) <= tolerance * math.log(k):
            return k, math.log(k), f"k is the model's {why}"
    accuracy = _accuracy_level(run)
    for k in range(2, 21):
        level = math.log(k)
        if abs(mean - level) > tolerance * level:
            continue
        if accuracy is not None and abs(accuracy - 1 / k) <= 0.15 / k:
            return k, level, f"the accuracy sits at {accuracy:.3f} ≈ 1/{k}"
        if points >= _LONG_CHANCE and (updates is None or updates >= _MIN_UPDATES) and not _sum_of_parts(run):
            return k, level, f"flat over {points} logged points"
    # More classes (CIFAR-100, ImageNet's 1,000): ln(k) apart by less than the tolerance, so only the run's
    # own accuracy at 1/k, with k the loss's level, says it; below 1/k (at 1/1,000 a batch of 32 is right about
    # once in 30 batches: an accuracy printed as 0 is chance there) only over a long flat run.
    k = round(math.exp(mean)) if 3.0 < mean < 10.0 else 0
    near = k > 20 and abs(mean - math.log(k)) <= tolerance * math.log(k)
    if near and accuracy is not None and abs(accuracy - 1 / k) <= 0.15 / k:
        return k, math.log(k), f"the accuracy sits at {accuracy:.4f} ≈ 1/{k}"
    # An accuracy below 1/k (printed as 0) is as weak a witness as none: it needs the long flat run too.
    long = points >= _LONG_CHANCE and (updates is None or updates >= _MIN_UPDATES)
    if near and accuracy is not None and accuracy <= 1 / k and long:
        return k, math.log(k), f"the accuracy sits at {accuracy:.4f}, no better than 1/{k}, over {points} logged points"
    return None


def _sum_of_parts(run: Run) -> bool:
    """A loss printed beside two or more named parts (`loss: 2.76 - regression_loss: 2.18 -
    classification_loss: 0.58`): a total of other losses, not one cross-entropy that ln(k) could be."""
    return len(_named_parts(run)) >= 2


def _named_parts(run: Run) -> list[str]:
    """The train loss's named parts, its variants (`loss_avg`, `loss_summary`) and the loss itself left out."""
    return [m for m in loss_parts(run) if m != "loss" and not loss_variant(m)]


TINY_LR = 1e-6  # a peak learning rate at which a loss that does not move from the start is explained by the rate
_LONG_CHANCE = 8  # points a flat loss at ln(k) needs when nothing else in the run says k
# Optimizer updates such a flat series must span: ten batches into training (warmup, a small learning
# rate) a classifier still predicts about uniformly, as it should.
_MIN_UPDATES = 100
_FLAT_UPDATES = 10_000  # updates over which a loss seen from its start at one value (within 1%) has not learned: an
# order of magnitude past the slow start a large classifier may take at ln(k) (1,200 updates at ln 1000 say nothing)
_FLAT_FOR_GOOD = 0.01


# Eval scores where higher is better, by a word of their name (`eval/accuracy`, `eval/stsb_spearman`, `val_f1`).
_HIGHER_IS_BETTER = re.compile(
    r"(?:^|_)(?:acc|accuracy|top1|top5|prec1|prec5|f1|bleu|rouge\w*|spearman|pearson|auc|ap|map|miou|iou|dice"
    r"|(?:ndcg|hr|hit|mrr|recall)(?:@\d+)?"
    r"|r@?\d+|r_?mean|rsum)(?:_|$)"  # retrieval's recall at k (`txt_r1`, `R@5`) and their mean (`r_mean`, `rsum`)
)
_ERROR_RATE = re.compile(r"misclass|error_rate|top_?1_err|^err(?:or)?$")  # a bare `err` beside a classifier's loss
_TOP1 = re.compile(r"acc(?![\w@]*5)|prec(?:ision)?@1(?!\d)|top_?1(?!\d)")  # torchvision's `Prec@1` is top-1 accuracy


def _accuracy_level(run: Run, since: int | None = None) -> float | None:
    """The median of the train (else eval) accuracy series as a fraction, when one is logged (from step
    `since` on, when given); else one minus an error rate's (`train_misclass`, `top1_err`)."""
    for pattern, error_rate in ((_TOP1, False), (_ERROR_RATE, True)):
        for split in ("train", "eval"):
            for s, metric in run.series_names():
                if s == split and pattern.search(metric.lower()):
                    series = finite(run.series(metric, split=split))
                    values = (series[series.index >= since] if since is not None else series).to_numpy()
                    if len(values):
                        level = float(np.median(values))
                        level = level / 100 if level > 1 else level
                        return 1 - level if error_rate else level
    return None


@check("eval_rises_while_train_falls")
def eval_rises_while_train_falls(run: Run, *, min_rise: float = 0.05, min_points: int = 2) -> Detection | None:
    """Overfitting: after its best point the eval loss rises on `min_points` evaluations by more than
    `min_rise` of its best value, while the train loss keeps falling or stays flat."""
    evals = finite(run.series("loss", split="eval"))
    train = finite(run.series("loss"))
    until = zero_tail(train)  # a train loss that reads 0.0 to the end (a NaN logged as 0) did not fall there
    train = train if until is None else train[train.index < until]
    if len(evals) < 3:
        return None
    if len(train) < 4:  # too few train points for a trend: a short fine-tune of three epochs
        return _short_rise(run, train, evals, min_rise, min_points)
    worse = _worse_after_best(train, evals, min_rise, min_points)
    if worse is None or not _gap_widened(train, evals, worse[0].best_step):
        return _thirds_rise(run, train, evals, min_rise)
    gap, later = worse
    return Detection(
        gap.best_step,
        f"eval loss was lowest ({fmt(gap.best)}) at step {gap.best_step} and rose to "
        f"{fmt(gap.last)} over {gap.rising_points} evaluations while the train loss was "
        f"{gap.train_after.direction}",
        {
            "best": _points(run, "loss", "eval", [gap.best_step], [gap.best])[0],
            "after": _points(run, "loss", "eval", later.index.tolist(), later.tolist()),
            "train_after": gap.train_after.to_dict(),
        },
    )


def _thirds_rise(run: Run, train: pd.Series, evals: pd.Series, min_rise: float) -> Detection | None:
    """Overfitting told by levels rather than by one best point: over nine evaluations or more, the median of the
    last third of the eval loss is 3 x `min_rise` above the median of its first third, while the train loss over
    the same two stretches fell by `min_rise` or more. A noisy eval set dips to a lucky low that the rise after it
    is measured against, with a noise margin its own swings inflate (0.59, 0.77, 0.91, 1.17, 1.20, 0.46, 1.31,
    1.33, 0.83, 6.47: best at the dip, the rise lost in the swings); the medians of thirds ignore single points."""
    values = evals.to_numpy()
    third = len(values) // 3
    if third < 3 or len(train) < 4:  # a median of three points or more: one misplaced point does not move it
        return None
    early, late = float(np.median(values[:third])), float(np.median(values[-third:]))
    if early <= 0 or late < early * (1 + 3 * min_rise):
        return None
    steps = train.index.to_numpy()
    before = train[steps <= evals.index[third - 1]].to_numpy()
    after = train[steps >= evals.index[-third]].to_numpy()
    if not len(before) or not len(after):
        return None
    trained_early, trained_late = float(np.median(before)), float(np.median(after))
    if trained_early <= 0 or trained_late > trained_early * (1 - min_rise):
        return None
    turn = int(np.argmin(values[: len(values) - third]))
    onset = int(evals.index[turn])
    if not _gap_widened(train, evals, onset):
        return None
    return Detection(
        onset,
        f"eval loss rose from a median of {fmt(early)} over its first {third} evaluations to {fmt(late)} over its "
        f"last {third} (lowest {fmt(float(values[turn]))} at step {onset}), while the train loss fell from a median "
        f"of {fmt(trained_early)} to {fmt(trained_late)} over the same stretches",
        {
            "best": _points(run, "loss", "eval", [onset], [float(values[turn])])[0],
            "first_third_median": fmt(early),
            "last_third_median": fmt(late),
            "train_medians": [fmt(trained_early), fmt(trained_late)],
        },
        confidence=0.6,
    )


def _short_rise(run: Run, train: pd.Series, evals: pd.Series, min_rise: float, min_points: int) -> Detection | None:
    """A log too short for a trend (three epochs of a fine-tune): after its best the eval loss rose at every
    one of `min_points` evaluations or more, the last by twice `min_rise` of the best, while the train loss
    fell at every record from there, by a tenth or more. Two rises in a row happen to noise one time in four;
    the size asked of the rise, and the train loss falling meanwhile, make the rest."""
    values = evals.to_numpy()
    best = int(np.argmin(values))
    later = evals.iloc[best + 1 :]
    best_step, low = int(evals.index[best]), float(values[best])
    if len(later) < min_points or not bool((np.diff(values[best:]) > 0).all()):
        return None
    if low <= 0 or float(later.iloc[-1]) < low * (1 + 2 * min_rise):
        return None
    upto = train.index[train.index <= best_step]
    segment = train[train.index >= (upto[-1] if len(upto) else train.index[0])].to_numpy()  # from eval's best on
    first = float(segment[0]) if len(segment) else 0.0
    if len(segment) < 2 or bool((np.diff(segment) > 0).any()) or float(segment[-1]) > 0.9 * first:
        return None
    return Detection(
        best_step,
        f"eval loss was lowest ({fmt(low)}) at step {best_step} and rose at each of the {len(later)} evaluations "
        f"after it, to {fmt(float(later.iloc[-1]))}, while the train loss fell from {fmt(first)} to "
        f"{fmt(float(train.iloc[-1]))}",
        {
            "best": _points(run, "loss", "eval", [best_step], [low])[0],
            "after": _points(run, "loss", "eval", later.index.tolist(), later.tolist()),
            "short": True,
        },
        confidence=0.6,
    )


@check("generalisation_gap")
def generalisation_gap(
    run: Run, *, loss_ratio: float = 3.0, accuracy_gap: float = 0.2, min_evals: int = 3
) -> Detection | None:
    """Overfitting told by the gap itself, for a window that starts after it opened (a pasted tail, a fit()
    called in a loop): at each of the last `min_evals` or more evaluations (the later half of them), the
    eval loss is `loss_ratio` × the train loss at the same step or more, and the eval accuracy is
    `accuracy_gap` (a fraction) or more below the train accuracy. Both gaps are asked for: a loss computed
    another way on the eval set (a sum, no label smoothing) widens only the first."""
    evals, train = finite(run.series("loss", split="eval")), finite(run.series("loss"))
    pair = _accuracy_pair(run)
    if pair is None or len(evals) < min_evals:
        return None
    name, train_acc, eval_acc = pair
    steps = evals.index[
        evals.index.isin(train.index) & evals.index.isin(train_acc.index) & evals.index.isin(eval_acc.index)
    ]
    steps = steps[len(steps) // 2 :]
    if len(steps) < min_evals:
        return None
    ratio = evals.loc[steps].to_numpy() / np.maximum(train.loc[steps].to_numpy(), 1e-12)
    gap = train_acc.loc[steps].to_numpy() - eval_acc.loc[steps].to_numpy()
    if not (bool((ratio >= loss_ratio).all()) and bool((gap >= accuracy_gap).all())):
        return None
    onset = int(steps[0])
    return Detection(
        onset,
        f"over the last {len(steps)} evaluations the eval loss is {fmt(float(ratio.min()))}-{fmt(float(ratio.max()))}× "
        f"the train loss and the eval {name} {fmt(float(gap.min()))}-{fmt(float(gap.max()))} below the train "
        f"{name} ({fmt(float(train_acc.loc[steps].iloc[-1]))} against {fmt(float(eval_acc.loc[steps].iloc[-1]))} "
        "at the end): the model fits the training data far better than data it has not seen",
        {
            "evaluations": len(steps),
            "loss_ratio": [round(float(ratio.min()), 3), round(float(ratio.max()), 3)],
            "accuracy_gap": [round(float(gap.min()), 4), round(float(gap.max()), 4)],
            "eval_loss": _points(run, "loss", "eval", steps.tolist()[-3:], evals.loc[steps].tolist()[-3:]),
            "train_loss": _points(run, "loss", "train", steps.tolist()[-3:], train.loc[steps].tolist()[-3:]),
        },
        confidence=0.6,
    )


def _accuracy_pair(run: Run) -> tuple[str, pd.Series, pd.Series] | None:
    """An accuracy logged for both the train and the eval split, as fractions: (name, train, eval)."""
    names = {(s, m) for s, m in run.series_names()}
    for s, m in sorted(names):
        if s == "eval" and ("train", m) in names and _TOP1.search(m.lower()) and not _ERROR_RATE.search(m.lower()):
            train, ev = finite(run.series(m)), finite(run.series(m, split="eval"))
            if len(train) and len(ev):
                scale = 100.0 if max(float(train.max()), float(ev.max())) > 1.0 else 1.0  # printed in percent
                return m, train / scale, ev / scale
    return None


def _parts_falling_together(run: Run) -> pd.Series:
    """With no series named the train loss, the sum of its named parts (two or more, logged at the same steps:
    ALBEF's `loss_ita` and `loss_itm`) when every part ended lower than it began: the training objective as a
    whole fell. Parts that pull apart (a GAN's generator and discriminator) give none (an empty series)."""
    parts = [finite(run.series(m)) for m in _named_parts(run)]
    if len(parts) < 2 or any(len(p) < 2 or not p.index.equals(parts[0].index) for p in parts):
        return pd.Series(dtype="float64")
    if any(float(p.iloc[-1]) >= float(p.iloc[0]) for p in parts):
        return pd.Series(dtype="float64")
    return cast(pd.Series, sum(parts[1:], parts[0]))


@check("eval_score_falls_while_train_falls")
def eval_score_falls_while_train_falls(
    run: Run, *, min_drop: float = 0.05, min_points: int = 2, min_evals: int = 5
) -> Detection | None:
    """Overfitting told by a score: with no eval loss, an eval score where higher is better (accuracy, F1,
    BLEU, a correlation) falls after its best on `min_points` evaluations by more than `min_drop` of its
    best value and its own noise, while the train loss keeps its level: the eval-loss check, mirrored. Not
    when a score on the training data fell to half with the loss (the model got worse on what it learns from)."""
    if any(split == "eval" and metric == "loss" for split, metric in run.series_names()):
        return None  # the eval loss decides
    train = finite(run.series("loss")) if run.has("loss") else _parts_falling_together(run)
    scores = [m for s, m in run.series_names() if s == "eval" and _HIGHER_IS_BETTER.search(m) and "loss" not in m]
    if len(train) < 4 or not scores:
        return None
    metric = max(scores, key=lambda m: (len(finite(run.series(m, split="eval"))), -len(m)))
    evals = finite(run.series(metric, split="eval"))
    if len(evals) < min_evals:
        return None
    worse = _worse_after_best(train, -evals, min_drop, min_points)  # negated: the best is the lowest
    if worse is None:
        return None
    gap, later = worse
    best, last = -gap.best, -gap.last
    if train_score_falls_with_loss(run) is not None:  # the score fell on the training data too: no overfitting,
        return None  # the model got worse on what it learns from (train-score-falls-with-loss says it)
    for other in scores:  # another score of the same evaluations ended above its value at this one's best: the
        series = finite(run.series(other, split="eval"))  # model did not get worse on unseen data by every measure
        then = series[series.index <= gap.best_step]
        if other != metric and len(then) and float(series.iloc[-1]) > float(then.iloc[-1]):
            return None
    return Detection(
        gap.best_step,
        f"eval {metric} was best ({fmt(best)}) at step {gap.best_step} and fell to {fmt(last)} over "
        f"{gap.rising_points} evaluations while the train loss was {gap.train_after.direction}",
        {
            "score": metric,
            "best": _points(run, metric, "eval", [gap.best_step], [best])[0],
            "after": _points(run, metric, "eval", later.index.tolist(), (-later).tolist()),
            "train_after": gap.train_after.to_dict(),
        },
        confidence=0.6,
    )


def _worse_after_best(
    train: pd.Series, evals: pd.Series, min_change: float, min_points: int
) -> tuple[Any, pd.Series] | None:
    """(eval_train_gap, the evaluations after the best) when an eval series where lower is better got worse
    after its best on the last `min_points` evaluations by more than `min_change` of the best and its own
    noise (or rose at each evaluation after the best, the last by that much), while the train loss did not
    rise and ended at or below its level at eval's best; else None.

    The noise: a noisy validation set dips to a lucky best and bounces back without any trend. From the best
    on it is read from second differences, which a steady rise does not inflate (first differences would
    count the overfitting itself as noise), scaled so that on pure noise the margin stays twice the median
    point-to-point move."""
    gap = eval_train_gap(train, evals) if len(train) >= 4 else None
    if gap is None:
        return None
    since = evals[evals.index >= gap.best_step]
    # Too few evaluations after the best for second differences: the moves up to the best, never the rise
    # itself (four evaluations, 0.363 0.349 0.425 0.530: the rise's own moves would hide it)
    if len(since) >= 4:
        noise = _detrended_margin(since)
    else:
        approach = np.abs(np.diff(evals[evals.index <= gap.best_step].to_numpy()))
        noise = 2 * float(np.median(approach)) if len(approach) else 2 * _median_move(evals)
    margin = max(min_change * abs(gap.best), noise)
    later = evals[evals.index > gap.best_step]
    # the last two evaluations above the best by the margin; or, over one evaluation more than that, every one
    # after the best above the one before and the last above by the margin (a short log's steady rise,
    # 0.3088 -> 0.3192 -> 0.3241 -> 0.3291: the second-to-last only 4.95% above)
    steady = len(later) > min_points and bool((np.diff(later.to_numpy()) > 0).all())  # one rise more than asked
    # a quiet evaluation (a large eval set: its moves far below the rise) that ends QUIET_RISE or more above its
    # best and twice its noise margin, over more evaluations than asked, while the train loss fell by a tenth more
    quiet = (
        len(later) > min_points
        and len(since) >= 4
        and (later.iloc[-2:] > gap.best + max(QUIET_RISE * abs(gap.best), 2 * noise)).all()
        and _train_fell_since(train, gap.best_step, 0.1)
    )
    worse = bool(
        len(later) >= min_points
        and (
            (later.iloc[-2:] > gap.best + margin).all()
            or (steady and float(later.iloc[-1]) > gap.best + margin)
            or quiet
        )
    )
    if not worse or gap.train_after.direction == "rising" or not _train_kept_its_level(train, gap.best_step):
        return None
    return gap, later


@check("many_epochs_no_eval")
def many_epochs_no_eval(
    run: Run, *, min_epochs: float = 10.0, max_fraction: float = 0.1, min_points: int = 3
) -> Detection | None:
    """No eval series at all, at least `min_epochs` passes over the training data, and a train loss that
    fell to under `max_fraction` of its first logged value: the run cannot show overfitting, and what it
    shows is what memorising a small training set looks like."""
    if any(split != "train" and metric == "loss" for split, metric in run.series_names()):
        return None  # with an eval loss the overfitting check decides
    loss, epochs = finite(run.series("loss")), finite(run.series("epoch"))
    if len(loss) < min_points or epochs.empty or float(epochs.max()) < min_epochs:
        return None
    first, last = float(loss.iloc[0]), float(loss.iloc[-1])
    if first <= 0 or last < 0 or last > max_fraction * first:
        return None
    at = epochs[epochs >= min_epochs]
    onset = int(at.index[0]) if len(at) else int(loss.index[-1])
    return Detection(
        onset,
        f"no eval loss was logged, the run went over its training data {fmt(float(epochs.max()))} times and "
        f"the train loss fell from {fmt(first)} to {fmt(last)}: it may be memorising the training set",
        {
            "epochs": fmt(float(epochs.max())),
            "first": cite_point(run, "train", "loss", int(loss.index[0]), first),
            "last": cite_point(run, "train", "loss", int(loss.index[-1]), last),
            "eval_logged": False,
        },
        confidence=0.5,
    )


def _detrended_margin(series: pd.Series) -> float:
    """Twice the median point-to-point move a series would have without its trend (0 under 4 points):
    1.155 x median |second difference| (on i.i.d. noise, median|d1| = 0.954 s and median|d2| = 1.652 s)."""
    values = series.to_numpy()
    return 1.155 * float(np.median(np.abs(np.diff(values, n=2)))) if len(values) >= 4 else 0.0


def _median_move(series: pd.Series) -> float:
    """The median size of a series' point-to-point moves (0 under 4 points): the noise a trend must clear."""
    return float(np.median(np.abs(np.diff(series.to_numpy())))) if len(series) >= 4 else 0.0


QUIET_RISE = 0.02  # the least rise of a quiet eval loss after its best that reads as overfitting


def _train_fell_since(train: pd.Series, step: int, by: float) -> bool:
    """The train loss's last point at least `by` (a fraction) below its value at `step` (or the last before)."""
    at = int(np.searchsorted(train.index.to_numpy(), step, side="right")) - 1
    if at < 0:
        return False
    then, end = float(train.iloc[at]), float(train.iloc[-1])
    return then > 0 and end <= (1 - by) * then


def _train_kept_its_level(train: pd.Series, best_step: int) -> bool:
    """Overfitting needs the model to keep fitting the training data: the train loss at the end at or
    below its level when the eval loss was best. A spike that did not fully recover, or a level shift up,
    leaves the train loss above that level: then the eval loss rose because the model got worse, and the
    spike or shift is the finding, not overfitting."""
    at = int(np.searchsorted(train.index.to_numpy(), best_step, side="right")) - 1
    # The level is the train loss around eval's best (a centred window: the points before it alone sit
    # higher on a falling curve), the end the last points.
    around = train.iloc[max(0, at - 2) : at + 3] if at >= 0 else train.iloc[:0]
    after = train[train.index > best_step].iloc[-3:]
    if len(around) == 0 or len(after) == 0:
        return True
    level, end = float(np.median(around)), float(np.median(after))
    noise = _median_move(train)
    return end <= level + max(0.05 * abs(level), 2 * noise)


def _gap_widened(train: pd.Series, evals: pd.Series, best_step: int) -> bool:
    """Overfitting is a generalisation gap that grows: at least half of the eval loss's rise since its
    best must be eval pulling away from train. When the train loss climbed about as much (a short
    paste where both rise round after round), the model got worse on everything: not overfitting."""
    at = int(np.searchsorted(train.index.to_numpy(), best_step, side="right")) - 1
    if at < 0:
        return True
    best, last = float(evals[best_step]), float(evals.iloc[-1])
    widened = (last - float(train.iloc[-1])) - (best - float(train.iloc[at]))
    return widened >= 0.5 * (last - best)


def _memory_series(run: Run) -> list[tuple[str, str]]:
    """(split, metric) of every memory series: names with 'mem' in them, allocated or reserved."""
    return [(s, m) for s, m in run.series_names() if is_memory_metric(m)]


_IMPLAUSIBLE_JUMP = 1000.0  # one move of a memory series multiplying it by this much is a glitch


_PEAK = re.compile(r"(?:^|[^a-z])(?:max|peak)(?:[^a-z]|$)", re.I)


def _peak_grew(name: str, values: np.ndarray, peak_rise: float) -> bool:
    """For a running peak (`max_mem`, `peak_mem`: torch's max_memory_allocated), whether it rose by `peak_rise`
    after the first quarter of the run. A peak never falls, so every move is up, and it follows the largest
    batch met so far: it creeps up by a few percent as larger inputs come, while a leak carries it far beyond.
    A series shaped like one is one whatever its name (mmdetection's `memory:` is max_memory_allocated): it
    never falls over 8 points or more and holds its value at half of its moves or more. Any other series: True
    (the caller's tests decide)."""
    moves = np.diff(values)
    shaped = len(values) >= 8 and bool(np.all(moves >= 0)) and float(np.mean(moves == 0)) >= 0.5
    if not (_PEAK.search(name) or shaped):
        return True
    start = float(values[len(values) // 4])
    return start > 0 and float(values[-1]) / start - 1 >= peak_rise


def _after_setup(run: Run, split: str, metric: str, series: pd.Series) -> pd.Series:
    """The points of a series printed after its file's first train-loss record: what a framework prints while it
    sets up (DeepSpeed's `see_memory_usage` as ZeRO allocates the parameters, then the optimizer states) climbs
    by construction, and says nothing of a leak. A file with no train loss, or no lines, keeps every point."""
    rows = run.series_rows().get((split, metric))
    loss = run.series_rows().get(("train", "loss"))
    if rows is None or loss is None or not len(series):
        return series
    lines = run.metrics["line"].to_numpy(dtype="float64", na_value=np.nan)
    sources = run.metrics["source"].to_numpy()
    loss_lines, loss_sources = lines[loss], sources[loss]
    printed = np.isfinite(loss_lines)
    before = np.zeros(len(rows), dtype=bool)  # a memory row printed before its file's first train-loss record
    for source in set(loss_sources[printed].tolist()):  # a run has a handful of files: no loop over its rows
        first = float(loss_lines[printed & (loss_sources == source)].min())
        before |= (sources[rows] == source) & (lines[rows] < first)
    if not before.any():
        return series
    return series[~series.index.isin(run.metrics["step"].to_numpy()[rows][before])]


@check("memory_growth")
def memory_growth(
    run: Run, *, min_points: int = 4, min_rise: float = 0.03, min_up: float = 0.75, peak_rise: float = 0.25
) -> Detection | None:
    """Memory that keeps climbing: at least `min_points` values, `min_up` of the moves upward, a rise of
    `min_rise` (relative), and still rising in the second half of the run (a warm-up plateau is not a leak);
    a running peak must also rise by `peak_rise` after the run's first quarter."""
    for split, metric in _memory_series(run):
        series = _after_setup(run, split, metric, finite(run.series(metric, split=split)))
        if len(series) < min_points or float(series.iloc[0]) <= 0:
            continue
        values = series.to_numpy()
        if not _peak_grew(metric, values, peak_rise):
            continue
        half = values[len(values) // 2 :]
        # Still rising in the second half by a real amount: a warm-up jump followed by a flat line (host
        # RSS after the first batches) is not a leak.
        still_rising = (float(half.max()) - float(values[: len(values) // 2].max())) / float(values[0]) >= min_rise / 4
        rise = float(values[-1] / values[0] - 1)
        # A process's memory does not grow a thousandfold while it trains: such a jump is a reporting
        # glitch (an unsigned counter wrapping round, a unit change), not a leak.
        steps = values[1:] / np.maximum(values[:-1], 1e-12)
        implausible = len(steps) and float(steps.max()) > _IMPLAUSIBLE_JUMP
        if rise < min_rise or not still_rising or implausible:
            continue
        g = growth(series)  # a Theil-Sen fit: paid only by a series that rose
        if g is None or g.up_fraction < min_up or g.slope <= 0:
            continue  # a slope of 0: the level held between a few steps up (an allocator's pool growing once)
        return Detection(
            int(series.index[0]),
            f"{metric} rose from {fmt(float(values[0]))} to "
            f"{fmt(float(values[-1]))} (+{rise:.1%}), upward in {g.up_fraction:.0%} of its moves",
            {
                "series": f"{split}/{metric}",
                "rise": round(rise, 4),
                "growth": g.to_dict(),
                "points": _points(run, metric, split, series.index.tolist(), values.tolist()),
            },
            confidence=0.6 if len(values) < LONG else 0.8,
        )
    return None


@check("grad_norm_explosion")
def grad_norm_explosion(
    run: Run, *, factor: float = 100.0, early_fraction: float = 0.0, ceiling: float = 1e7
) -> Detection | None:
    """grad_norm grows by orders of magnitude: a point `factor` × the median of the points before it
    (points in the first `early_fraction` of the run only set the baseline). The first point never
    counts: the large norms of the first steps are normal. With no history to compare to (a pasted line
    or two, or norms huge from the start), a norm above `ceiling` is an explosion on its own: even an
    fp16 norm logged before unscaling (scale 65,536 × a norm of 100) stays below 1e7."""
    grad = finite(run.series("grad_norm"))
    if len(grad) < 2:
        return _above_ceiling(run, grad, ceiling)
    values, steps = grad.to_numpy(), grad.index.to_numpy()
    early = max(1, int(early_fraction * len(values)))
    # Candidates: every point on short runs, 4,000 evenly spaced ones on long runs.
    take = (
        np.unique(np.linspace(early, len(values) - 1, min(len(values) - early, 4000)).astype(int))
        if len(values) > early
        else np.array([], dtype=int)
    )
    # A median of the points before is at least their minimum: a point under `factor` x the running
    # minimum cannot pass, so only the rest pay for a median (none, on a healthy run).
    floor = np.minimum.accumulate(values)
    take = take[values[take] >= factor * floor[take - 1]] if len(take) else take
    for i in take.tolist():
        # The median of at most 512 evenly spaced earlier points: O(1) per candidate on long runs.
        base = float(np.median(values[np.linspace(0, i - 1, min(i, 512)).astype(int)]))
        if base > 0 and values[i] >= factor * base:
            later = values[i:]
            return Detection(
                int(steps[i]),
                f"grad_norm reached {fmt(float(values[i]))} at step {int(steps[i])}, "
                f"{values[i] / base:.3g}× the median {fmt(base)} of the steps before",
                {
                    "onset": _points(run, "grad_norm", "train", [int(steps[i])], [float(values[i])])[0],
                    "baseline": fmt(base),
                    "ratio": round(float(values[i] / base), 3),
                    "max_after": fmt(float(later.max())),
                    "last": fmt(float(values[-1])),
                },
            )
    return _above_ceiling(run, grad, ceiling)


def _above_ceiling(run: Run, grad: pd.Series, ceiling: float) -> Detection | None:
    above = grad[grad >= ceiling]
    if above.empty:
        return None
    step, value = int(above.index[0]), float(above.iloc[0])
    return Detection(
        step,
        f"grad_norm is {fmt(value)} at step {step}, above {fmt(ceiling)}: no trained model has gradients "
        "that large, whatever came before",
        {"onset": _points(run, "grad_norm", "train", [step], [value])[0], "ceiling": fmt(ceiling), "points": len(grad)},
        confidence=0.6,
    )


@check("loss_plateau")
def loss_plateau(run: Run, *, min_flat_fraction: float = 0.4, max_relative_change: float = 0.02) -> Detection | None:
    """The loss stopped improving: over the last `min_flat_fraction` of the logged points (at least
    three) it moved by less than `max_relative_change` of its level, after a stretch that fell by
    more than ten times that. Information: a converged run looks the same; the finding says from
    which step nothing more was learned."""
    loss = finite(run.series("loss"))
    if len(loss) < 6 or not _plain_loss(run):
        return None
    values, steps = loss.to_numpy(), loss.index.to_numpy()
    tail = max(3, int(min_flat_fraction * len(values)))
    level = float(np.median(values[-tail:]))
    limit = max_relative_change * abs(level)
    if level <= 0:
        return None
    # Walk back from the end while the points stay inside the band around the final level.
    inside = np.abs(values - level) <= limit
    start = len(values) - (int(np.argmin(inside[::-1])) if not inside.all() else len(values))
    flat = len(values) - start
    fell = float(values[: max(start, 1)].max() - level)
    if flat < tail or start == 0 or fell <= 10 * limit:
        return None
    return Detection(
        int(steps[start]),
        f"loss has stayed within ±{fmt(limit)} of {fmt(level)} since step "
        f"{int(steps[start])} ({flat} of {len(values)} logged points), after falling by {fmt(fell)}",
        {
            "level": fmt(level),
            "flat_points": flat,
            "fell_by": fmt(fell),
            "onset": _points(run, "loss", "train", [int(steps[start])], [float(values[start])])[0],
        },
        severity="info",
    )


_THROUGHPUT = ("per_second", "throughput", "tokens_per_s", "samples_per_s", "it/s", "tflops")
# A time per step or per epoch by its name: `dt` and `s_per_iter` as words of it (`idt_aux`, an identity loss,
# and `loss_per_token` are no times).
_DURATION = re.compile(r"time|duration|(?<![a-z0-9])(?:dt|s_per|sec_per)(?![a-z])")
# A name that says the value is one interval's (`time delta`, `time_per_iter`), never a clock since the start.
_INTERVAL = ("delta", "per_")
_NOT_DURATION = (
    "elapsed",
    "total",
    "eta",
    "data",
    "remaining",
    "left",  # PyMARL's `Estimated time left: 15 hours, 46 minutes`: the time to the end, not a step's
    "passed",  # `Time passed: 39 seconds`: since the start
    "wall",
    "since",
    "timestep",
    "per_second",
)


SUSTAINED = 5  # logged points in a row that make a rate the run held


@check("throughput_drop")
def throughput_drop(run: Run, *, min_points: int = 8, max_ratio: float = 0.5) -> Detection | None:
    """A throughput series (samples, tokens or steps per second) whose last quarter runs at under
    `max_ratio` of its first half (medians). Without a logged one, the steps per second between
    logged train-loss points, from the wall-clock times TensorBoard or W&B recorded."""
    names = [(split, metric) for split, metric in run.series_names() if split in ("train", "system")]
    logged = [(split, metric) for split, metric in names if any(t in metric.lower() for t in _THROUGHPUT)]
    # (name, label, rates, the printed unit of the durations they invert: 0 for a rate logged as one)
    candidates = [
        (f"{split}/{metric}", metric, finite(run.series(metric, split=split)), 0.0) for split, metric in logged
    ]
    if not logged:  # a time per step or per epoch (`time: 0.37`, `time this epoch= 1.7`) is a rate upside down
        for split, metric in names:
            low = metric.lower()
            if _DURATION.search(low) and not any(t in low for t in _NOT_DURATION) and not per_episode(run, metric):
                durations = finite(run.series(metric, split=split))
                durations = durations[durations > 0]
                if any(t in low for t in _INTERVAL) or not _cumulative(durations):
                    unit = printed_unit(durations.to_numpy())
                    candidates.append((f"{split}/{metric}", f"1 / {metric}", 1.0 / durations, unit))
    if not candidates:
        candidates.append(("train/loss wall-clock", "steps per second", _steps_per_second(run), 0.0))
    loss = finite(run.series("loss"))
    for name, label, series, unit in candidates:
        if len(loss):  # a rate printed before the first train-loss record is the set-up's (features extracted
            series = series[series.index >= loss.index[0]]  # for pseudo-labels, a data scan), not training's
        if len(series) < min_points:
            continue
        values, steps = series.to_numpy(), series.index.to_numpy()
        # The earlier rate: the first half's median, or the best rate held over SUSTAINED points in a row in the
        # first half when the fall came early (0.57 samples/s over the first five points, then 0.13 and down:
        # the first half's median is already the slow rate)
        half = values[: len(values) // 2]
        # held over 5% of the run at least: the batches a data loader prefetched before the first step come faster
        # than the run's own rate (KAIR: 1 s an iteration for the first ten of 465, then 3.7 s to the end)
        width = max(SUSTAINED, len(values) // 20)
        held = np.median(sliding_window_view(half, width), axis=1).max() if len(half) >= width else -np.inf
        before = max(float(np.median(half)), float(held))
        after = float(np.median(values[-max(2, len(values) // 4) :]))
        if before <= 0:
            continue
        judged_before, judged_after = before, after
        if unit:
            # Times printed to a unit (Keras' whole seconds): each may be half a unit off, so the rates are judged
            # at their least different (`1s` then `2s` may be 1.49 s and 1.51 s); the message says them as printed
            if 1 / after - unit / 2 <= 0:
                continue
            judged_before, judged_after = 1 / (1 / before + unit / 2), 1 / (1 / after - unit / 2)
        if judged_after > max_ratio * judged_before:
            # Back to its rate at the end, after a long slow stretch (a quarter of the run or more, at under
            # max_ratio of the earlier rate): the slowdown happened all the same.
            stretch = _slow_stretch(values, max_ratio * judged_before, max(min_points, len(values) // 4))
            if stretch is None:
                continue
            i, j = stretch
            during = float(np.median(values[i:j]))
            return Detection(
                int(steps[i]),
                f"{label} fell from {fmt(before)} to {fmt(during)} ({during / before:.0%} of its earlier rate) for "
                f"{j - i} logged points, steps {int(steps[i])} to {int(steps[j - 1])}, then came back to {fmt(after)}",
                {
                    "series": name,
                    "before": fmt(before),
                    "after": fmt(during),
                    "ratio": round(during / before, 3),
                    "recovered_to": fmt(after),
                },
            )
        # Onset: the first slow point from which 90% of the points stay slow (a slow eval step alone
        # is not the start of the drop), with at least 4 points before it, 75% of them fast: a drop is a
        # change from a faster regime, not a run that was uneven from its start.
        slow = values < (before + after) / 2
        count = np.arange(len(values))
        stays = np.cumsum(slow[::-1])[::-1] >= 0.9 * (len(values) - count)
        fast_before = np.concatenate(([0], np.cumsum(~slow)[:-1])) >= 0.75 * count
        start = np.flatnonzero(slow & stays & fast_before & (count >= 4))
        if not len(start):
            continue
        onset = int(steps[start[0]])
        return Detection(
            onset,
            f"{label} fell from {fmt(before)} to {fmt(after)} ({after / before:.0%} of its "
            f"earlier rate) from about step {onset}",
            {"series": name, "before": fmt(before), "after": fmt(after), "ratio": round(after / before, 3)},
        )
    return None


def _slow_stretch(values: np.ndarray, below: float, least: int) -> tuple[int, int] | None:
    """(start, end) of the longest run of consecutive points under `below`, when it holds `least` points or
    more and starts after 4 points at least (a change from a faster regime)."""
    slow = np.concatenate(([False], values < below, [False]))
    edges = np.flatnonzero(np.diff(slow.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    if not len(starts):
        return None
    k = int(np.argmax(ends - starts))
    start, end = int(starts[k]), int(ends[k])
    return (start, end) if end - start >= least and start >= 4 else None


SMOOTH_CLOCK = 30  # logged points in a row, each above the one before, that no measured time per step makes


def _whole_clock(values: np.ndarray, rises: int = 3) -> bool:
    """A clock printed in whole units (`Train time 00h 00m 01s`): whole numbers that never go down and climb by
    one unit or two at a time, `rises` times or more, the same reading printed at the points in between. A time
    per step printed in whole seconds goes up and down, or jumps once to a new level."""
    if len(values) < 2 * rises or not bool(np.all(values == np.round(values))):
        return False
    moves = np.diff(values)
    up = moves[moves > 0]
    return bool(np.all(moves >= 0)) and len(up) >= rises and bool(np.all(up <= 2))


def _cumulative(times: pd.Series) -> bool:
    """A clock since the start (`Time 4981.4s` at epoch 5, `9074.8s` at epoch 10), not a time per step:
    it rises at every logged point and grows about as fast as the step count does, or rises at every one of
    SMOOTH_CLOCK points or more. A clock that started over from near 0 a few times (each resumed process's
    own) is judged on its longest stretch."""
    values, steps = times.to_numpy(), times.index.to_numpy().astype("float64")
    falls = np.flatnonzero(np.diff(values) <= 0)
    if len(falls) and len(falls) <= max(2, len(values) // 50) and bool(np.all(values[falls + 1] < 0.5 * values[falls])):
        # started over from near 0 where the run was resumed (`[6339s]` at step 21100, `[39s]` after its restart
        # from step 20000): a clock per process, judged on its longest stretch
        bounds = [0, *(falls + 1).tolist(), len(values)]
        start, stop = max(itertools.pairwise(bounds), key=lambda b: b[1] - b[0])
        return _cumulative(times.iloc[start:stop])
    if _whole_clock(values):
        return True
    if len(values) < 3 or len(falls):
        return False
    if len(values) >= SMOOTH_CLOCK:  # a measured time per step goes up and down; this many rises in a row
        return True  # are a clock (however long its start-up took: 12.2 s at step 10, then 2 s per 10 steps)
    if steps[0] <= 0:  # counted from 0 (`[   0/3165] time: 2.6742`): steps done, one interval before the first
        steps = steps - steps[0] + max(float(np.min(np.diff(steps))), 1.0)
    if values[-1] / values[0] >= 0.5 * steps[-1] / steps[0]:
        return True
    # A clock whose first reading holds the start-up (`train_time:896ms` at step 1, then 90 ms a step): past its
    # first point it grows at one rate per step (the same over both halves), and the start-up is a small part
    # of its last reading.
    middle = len(values) // 2
    first, second = (
        (values[j] - values[i]) / (steps[j] - steps[i]) for i, j in ((0, middle), (middle, len(values) - 1))
    )
    offset = values[0] - (values[-1] - values[0]) / (steps[-1] - steps[0]) * steps[0]
    return bool(
        len(values) >= 5
        and steps[-1] >= 10 * steps[0]
        and 0.5 <= second / first <= 2
        and 0 <= offset <= 0.1 * values[-1]
    )


def _steps_per_second(run: Run) -> pd.Series:
    """Optimizer steps per second between consecutive logged train-loss points, at the later point."""
    walls = run.wall_times("loss")
    if len(walls) < 2:
        return pd.Series(dtype="float64")
    steps, seconds = walls.index.to_numpy(), walls.to_numpy()
    elapsed, advanced = np.diff(seconds), np.diff(steps)
    keep = elapsed > 0
    return pd.Series(advanced[keep] / elapsed[keep], index=steps[1:][keep])


@check("lr_reaches_zero")
def lr_reaches_zero(run: Run, *, min_points: int = 3, min_fraction: float = 0.2) -> Detection | None:
    """The learning rate was positive, then exactly 0 at every logged step to the end, for at least
    `min_points` points and `min_fraction` of the run: training went on without updating anything.
    A schedule that decays to 0 on its last step, or warms up from 0, stays silent."""
    lr = finite(run.series("learning_rate"))
    if len(lr) < 2:
        return None
    values, steps = lr.to_numpy(), lr.index.to_numpy()
    nonzero = np.flatnonzero(values != 0)
    if not len(nonzero) or nonzero[-1] == len(values) - 1:
        return None
    start = int(nonzero[-1]) + 1
    zeros = len(values) - start
    if zeros < min_points or zeros < min_fraction * len(values):
        return None
    onset = int(steps[start])
    loss = finite(run.series("loss"))
    after = loss[loss.index >= onset]
    evidence: dict[str, Any] = {
        "last_positive": cite_point(run, "train", "learning_rate", int(steps[start - 1]), float(values[start - 1])),
        "first_zero": cite_point(run, "train", "learning_rate", onset, 0.0),
        "zero_points": zeros,
        "fraction": round(zeros / len(values), 3),
        "max_steps": run.meta.get("max_steps"),
        "restarted": bool((run.events["kind"] == "restart").any()),
    }
    if len(after) >= 2:
        evidence["loss_after"] = {"first": fmt(float(after.iloc[0])), "last": fmt(float(after.iloc[-1]))}
    return Detection(
        onset,
        f"learning_rate is 0 from step {onset} to the end ({zeros} of {len(values)} logged "
        f"points): the last {zeros / len(values):.0%} of the run updated nothing",
        evidence,
    )


@check("fp16_overflow_skips")
def fp16_overflow_skips(run: Run, *, persistent_run: int = 16, calibration_points: int = 10) -> Detection | None:
    """Overflow skips inferred from the logs of an fp16 run whose loss scale is never printed (native
    AMP under the Trainer): each non-finite grad_norm is a step the GradScaler skipped while halving
    its scale. `persistent_run` skips in a row (16 take 2^16 down to 1) mean the scale collapsed;
    skips after the first `calibration_points` logged steps mean activations overflow fp16 mid-run.
    A few skips at the very start are the scaler calibrating and stay silent."""
    if run.meta.get("precision") != "fp16":
        return None
    grad = run.series("grad_norm")
    if grad.empty:
        return None
    bad = ~np.isfinite(grad.to_numpy())
    if not bad.any():
        return None
    runs = true_runs(bad)
    longest = max(b - a for a, b in runs)
    steps = grad.index.to_numpy()
    late = [a for a, _ in runs if a >= calibration_points]
    persistent = longest >= persistent_run
    if not persistent and not late:
        return None
    first = runs[0][0] if persistent else late[0]
    onset = int(steps[first])
    count = int(bad.sum())
    if persistent:
        text = (
            f"grad_norm is non-finite on {longest} logged steps in a row from step {onset}: in fp16 each is an "
            f"overflow skip that halves the loss scale, so the scale has collapsed and nothing is learned"
        )
    else:
        text = (
            f"{count} overflow skip(s) in fp16 after the scaler's calibration, first at step {onset} "
            f"(grad_norm non-finite); activations are reaching fp16's range"
        )
    return Detection(
        onset,
        text,
        {
            "skips": count,
            "longest_run": longest,
            "persistent": persistent,
            "first": _points(run, "grad_norm", "train", [onset], [float(grad.iloc[first])])[0],
            "skipped_steps": [int(s) for s in steps[bad][:20]],
        },
        severity=None if persistent else "warning",
    )
