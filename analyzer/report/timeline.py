"""The run's timeline: its events, repeated kinds folded into one entry, with the findings' onsets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analyzer.model import Report

_FOLD = 3  # a kind seen more often than this becomes one entry with a count and a step range


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    step: int | None
    kind: str
    severity: str
    text: str
    where: str = ""
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind,
            "severity": self.severity,
            "text": self.text,
            "where": self.where,
            "count": self.count,
        }


def _where(row: Any) -> str:
    return f"{row.source}:{int(row.line)}" if pd.notna(row.line) else str(row.source or "")


def _step(value: Any) -> int | None:
    return int(value) if pd.notna(value) else None


def timeline(report: Report) -> list[Entry]:
    """Events in step order (those without a step last); one entry per kind when it repeats."""
    run = report.run
    entries: list[Entry] = []
    for kind, group in run.events.groupby("kind", sort=False):
        rows = list(group.sort_values("step", na_position="last").itertuples(index=False))
        if len(rows) > _FOLD:
            steps = group["step"].dropna()
            span = f"steps {int(steps.min())}–{int(steps.max())}" if len(steps) else "no step known"
            first = rows[0]
            entries.append(
                Entry(
                    _step(first.step),
                    str(kind),
                    str(first.severity),
                    f"{len(rows)}× {kind} ({span}); first: {first.message}",
                    _where(first),
                    len(rows),
                )
            )
        else:
            entries += [Entry(_step(r.step), str(kind), str(r.severity), str(r.message), _where(r)) for r in rows]
    train = report.signals.get("train/loss")
    if train:
        entries.append(Entry(train["first_step"], "first_step", "info", "first logged train step"))
        entries.append(Entry(train["last_step"], "last_step", "info", "last logged train step"))
    for i, f in enumerate(report.findings, start=1):
        if f.onset_step is not None and f.run is None and f.severity != "info":  # another run's: its own axis
            entries.append(Entry(f.onset_step, "onset", f.severity, f"finding {i}: {f.failure_mode} begins"))
    order = {"first_step": 0, "onset": 2, "last_step": 3}
    return sorted(entries, key=lambda e: (e.step is None, e.step or 0, order.get(e.kind, 1)))
