"""Steps from the printed epoch, for Trainer dicts whose progress bars cannot be trusted.

When stdout is block-buffered apart from the bars on stderr (a `nohup.out`, or W&B's console capture),
the dicts arrive in bursts and their bar-derived steps are guesses. The Trainer logs
`epoch = step / steps_per_epoch` in every dict, so where the console also says how many update steps an
epoch has (its INFO banner, or `logging_steps` with the epoch increments), the step is exact again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    is_epoch = (m["metric"] == "epoch").to_numpy() & (m["split"] == "train").to_numpy() & m["line"].notna().to_numpy()
    if not is_epoch.any():
        return False
    lines = np.concatenate(
        [
            m.loc[is_epoch, "line"].to_numpy(dtype=np.int64),
            np.fromiter(other_epochs.keys(), dtype=np.int64, count=len(other_epochs)),
        ]
    )
    epochs = np.concatenate(
        [
            m.loc[is_epoch, "value"].to_numpy(dtype=np.float64),
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
    by_line = dict(zip(lines.tolist(), steps.astype(np.int64).tolist(), strict=True))
    mapped = m["line"].map(by_line)
    keep = mapped.notna().to_numpy()
    frames.metrics.loc[keep, "step"] = mapped[keep].astype("int64").to_numpy()
    ev = frames.events
    if not ev.empty:
        moved = ev["line"].map(by_line)
        hit = moved.notna().to_numpy()
        frames.events.loc[hit, "step"] = moved[hit].astype("Int64").to_numpy()
    return True
