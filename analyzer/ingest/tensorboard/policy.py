"""The run policy across the event files of one directory (resumed runs), applied before normalize.

normalize applies "the later observation wins" only within one source and would keep the earlier file's
value across sources; merging the files into one source instead would make the record numbers point into
the wrong file. So, in file order:
- a `SessionLog.START` event (torch's `purge_step`) drops every value logged before it at a step >= its
  step, as TensorBoard does;
- where a later file logs a step that an earlier file logged for the same series, the later value wins;
- each resume is reported as a `restart` event at the resume step.
Steps going back inside one file without a START are left to normalize, as for every other format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.ingest.tensorboard.events import _Scan


@dataclass
class _Outcome:
    """What the run policy decided for one file: rows kept, restart events, counts."""

    keep: np.ndarray
    restarts: list[tuple[int, float, int, str]] = field(default_factory=list)  # step, wall, record, message
    purged: int = 0
    superseded: int = 0


def _purge(scans: list[_Scan], outcomes: list[_Outcome], k: int) -> None:
    """Apply file k's SessionLog START events: drop what came before at steps >= the START's step."""
    for record, step, wall in scans[k].starts:
        before = [(j, np.ones(len(scans[j].step), dtype=bool)) for j in range(k)]
        before.append((k, scans[k].record < record))
        reached = [int(scans[j].step[m].max()) for j, m in before if m.any()]
        if not reached:
            continue  # the first session of the run: nothing to resume from
        dropped = 0
        for j, mask in before:
            hit = mask & outcomes[j].keep & (scans[j].step >= step)
            outcomes[j].keep &= ~hit
            outcomes[j].purged += int(hit.sum())
            dropped += int(hit.sum())
        message = (
            f"resumed at step {step} after step {max(reached)} (SessionLog START): {dropped} values logged "
            f"earlier at steps >= {step} were dropped"
        )
        outcomes[k].restarts.append((step, wall, record + 1, message))


def _by_series(codes: np.ndarray) -> dict[int, np.ndarray]:
    """Row numbers of each series, in record order."""
    order = np.argsort(codes, kind="stable")
    return {
        int(codes[rows[0]]): rows for rows in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1) if rows.size
    }


def _supersede(scans: list[_Scan], series: list[dict[int, np.ndarray]], outcomes: list[_Outcome], k: int) -> None:
    """File k's steps replace the same series' steps of earlier files; a step going back is a restart."""
    back: list[tuple[int, int, int, float]] = []  # record, first step in file k, earlier maximum, wall
    for code, mine in series[k].items():
        steps = scans[k].step[mine]
        earlier = [(j, series[j][code]) for j in range(k) if code in series[j]]
        for j, theirs in earlier:
            hit = theirs[np.isin(scans[j].step[theirs], steps) & outcomes[j].keep[theirs]]
            outcomes[j].keep[hit] = False
            outcomes[j].superseded += len(hit)
        reached = max((int(scans[j].step[theirs].max()) for j, theirs in earlier), default=None)
        if reached is not None and steps[0] < reached:
            back.append((int(scans[k].record[mine[0]]), int(steps[0]), reached, float(scans[k].wall[mine[0]])))
    if back and not scans[k].starts:
        record, _, _, wall = min(back)
        to, reached = min(b[1] for b in back), max(b[2] for b in back)
        message = (
            f"step went back from {reached} to {to}: this file continues a run logged by an earlier file of "
            "the same directory (resumed from a checkpoint); where both logged a step, this file's value is kept"
        )
        outcomes[k].restarts.append((to, wall, record + 1, message))


def _run_policy(scans: list[_Scan], series: list[np.ndarray]) -> list[_Outcome]:
    """The Run's duplicate policy across the files of one directory, in file order."""
    outcomes = [_Outcome(np.ones(len(scan.step), dtype=bool)) for scan in scans]
    groups = [_by_series(codes) for codes in series] if len(scans) > 1 else []
    for k in range(len(scans)):
        _purge(scans, outcomes, k)
        if k:
            _supersede(scans, groups, outcomes, k)
    return outcomes
