"""Steps from the printed epoch, for Trainer dicts whose progress bars cannot be trusted.

When stdout is block-buffered apart from the bars on stderr (a `nohup.out`, or W&B's console capture),
the dicts arrive in bursts and their bar-derived steps are guesses. The Trainer logs
`epoch = step / steps_per_epoch` in every dict, so where the console also says how many update steps an
epoch has (its INFO banner, or `logging_steps` with the epoch increments), the step is exact again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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
