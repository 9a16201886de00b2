"""Steps from the epochs, printed or counted.

When stdout is block-buffered apart from the bars on stderr (a `nohup.out`, or W&B's console capture),
the dicts arrive in bursts and their bar-derived steps are guesses. The Trainer logs
`epoch = step / steps_per_epoch` in every dict, so where the console also says how many update steps an
epoch has (its INFO banner, or `logging_steps` with the epoch increments), the step is exact again.

A loop that counts each epoch's batches and prints no epoch (`Iteration 0` .. `Iteration 700`, then
`Iteration 0` again) has its epochs counted where the counter starts again, when the loss goes on from where
it was there (a run started again takes its loss back up).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analyzer.ingest.console.generic import loss_back_up
from analyzer.model import Frames

_TOLERANCE = 0.1  # epoch x steps_per_epoch must land this close to a whole step, for every dict


def steps_per_epoch(meta: dict[str, Any], epochs: np.ndarray) -> int | None:
    """The Trainer's banner value, else logging_steps over the smallest epoch increment between dicts."""
    banner = meta.get("trainer_state", {}).get("steps_per_epoch")
    if banner:
        return int(str(banner).replace(",", ""))
    logging_steps = meta.get("training_args", {}).get("logging_steps")
    diffs = np.diff(np.unique(epochs))
    diffs = diffs[diffs > 0]
    if not logging_steps or not len(diffs):
        return None
    return max(1, round(float(logging_steps) / float(diffs.min())))


def restep_by_epoch(frames: Frames, other_epochs: dict[int, float]) -> bool:
    """Re-step every dict line that printed an epoch (train rows carry it as a metric, eval and summary rows
    in `other_epochs` by line); False, with the frames unchanged, when that is not exact."""
    m = frames.metrics
    metric_lines = m["line"].to_numpy(dtype=np.int64, na_value=-1)
    is_epoch = _equals(m["metric"], "epoch") & _equals(m["split"], "train") & (metric_lines >= 0)
    if not is_epoch.any():
        return False
    lines = np.concatenate(
        [metric_lines[is_epoch], np.fromiter(other_epochs.keys(), dtype=np.int64, count=len(other_epochs))]
    )
    epochs = np.concatenate(
        [
            m["value"].to_numpy(dtype=np.float64)[is_epoch],
            np.fromiter(other_epochs.values(), dtype=np.float64, count=len(other_epochs)),
        ]
    )
    if not np.isfinite(epochs).all():
        return False
    spe = steps_per_epoch(frames.meta, epochs)
    if spe is None:
        return False
    exact = epochs * spe
    steps = np.rint(exact)
    if np.abs(exact - steps).max() > _TOLERANCE or steps.min() < 0:
        return False
    # One step per line, the last one given for a line winning (as a dict built from the pairs would).
    known, last = np.unique(lines[::-1], return_index=True)
    by_line = steps[::-1][last].astype(np.int64)
    hit, step = _lookup(known, by_line, metric_lines)
    new_steps = m["step"].to_numpy(dtype=np.int64, copy=True)
    new_steps[hit] = step[hit]
    frames.metrics["step"] = new_steps
    ev = frames.events
    if not ev.empty:
        hit, step = _lookup(known, by_line, ev["line"].to_numpy(dtype=np.int64, na_value=-1))
        if hit.any():
            event_steps = ev["step"].array.copy()
            event_steps[hit] = step[hit]
            frames.events["step"] = event_steps
    return True


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """column == value as a numpy mask, by category code when the column is categorical."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return column.cat.codes.to_numpy() == categories.get_loc(value)
    return (column == value).to_numpy(dtype=bool)


def _lookup(known: np.ndarray, values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, value) of each key in the sorted `known` keys."""
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return known[at] == keys, values[at]


def restarts_each_epoch(counter: np.ndarray, loss: np.ndarray) -> bool:
    """A step counter that starts again from its first value two times or more, every stretch but the last running
    to the same last value (an epoch's batches, counted with no epoch printed), where the train loss goes on from
    where it was at every fall: not back halfway up to where the run began once it had fallen by a fifth (a run
    started again: folds, repeats, a relaunch, which the run split in normalize reads as such)."""
    known = np.isfinite(counter) & np.isfinite(loss)
    counter, loss = counter[known], loss[known]
    falls = np.flatnonzero(np.diff(counter) < 0) + 1
    if len(falls) < 2 or not bool(np.all(counter[falls] == counter[0])):
        return False
    ends = counter[falls - 1]
    if not bool(np.all(ends == ends[0])) or float(counter[falls[-1] :].max()) > float(ends[0]):
        return False
    starts = np.concatenate(([0], falls))
    if int(np.diff(starts).min()) < 2:
        return False
    # Judged against the run's first loss, not each stretch's (generic._runs_again judges a relaunch the same way):
    # one batch's loss is noise about its level, and an epoch's first batch may well read above the last one before
    return not any(loss_back_up(loss[0], loss[fall - 1], loss[fall]) for fall in falls)


def restep_unprinted_epochs(frames: Frames) -> bool:
    """Every row of a file whose train-loss counter starts again at each epoch (restarts_each_epoch) re-stepped
    epoch after epoch: (epochs before its line) x (largest counter + 1) + its step. False, the frames unchanged,
    when the file's loss does not count that way."""
    m = frames.metrics
    lines = m["line"].to_numpy(dtype=np.float64, na_value=np.nan)
    loss = _equals(m["split"], "train") & _equals(m["metric"], "loss") & np.isfinite(lines)
    if int(loss.sum()) < 6:
        return False
    order = np.argsort(lines[loss], kind="stable")
    steps = m["step"].to_numpy(dtype=np.float64)[loss][order]
    values = m["value"].to_numpy(dtype=np.float64)[loss][order]
    if not restarts_each_epoch(steps, values):
        return False
    finite = np.isfinite(values)
    kept, kept_lines = steps[finite], lines[loss][order][finite]
    falls = kept_lines[np.flatnonzero(np.diff(kept) < 0) + 1]  # the line each epoch after the first starts on
    per = int(np.nanmax(steps)) + 1
    frames.metrics["step"] = _restep(m["step"].to_numpy(dtype=np.int64), lines, falls, per)
    ev = frames.events
    if not ev.empty:
        event_lines = ev["line"].to_numpy(dtype=np.float64, na_value=np.nan)
        stepped = ev["step"].to_numpy(dtype=np.float64, na_value=np.nan)
        known = np.isfinite(stepped) & np.isfinite(event_lines)
        new = ev["step"].array.copy()
        new[known] = _restep(stepped[known].astype(np.int64), event_lines[known], falls, per)
        frames.events["step"] = new
    return True


def _restep(steps: np.ndarray, lines: np.ndarray, falls: np.ndarray, per: int) -> np.ndarray:
    """Each step moved to its epoch: the epochs started at or before its line (none for a row with no line)."""
    epochs = np.where(np.isfinite(lines), np.searchsorted(falls, np.nan_to_num(lines, nan=-1.0), side="right"), 0)
    return (epochs * per + steps).astype(np.int64)
