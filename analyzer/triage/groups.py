"""Groups: failing runs that fail the same way, what they share, and how that differs from healthy runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyzer.triage.compare import differences

# The settings a group is described by (columns of the runs table), in the order they are told.
FACTS = (
    "model",
    "precision",
    "deepspeed_stage",
    "transformers",
    "torch",
    "deepspeed",
    "peft",
    "trl",
    "learning_rate",
    "batch_size",
    "grad_accum",
    "optim",
    "host",
    "gpu",
)
SIGNATURE = ("verdict", "top_cause", "exception", "first_nonfinite")


@dataclass
class Group:
    """Runs with one failure signature."""

    signature: dict[str, Any]
    runs: list[str]
    shared: dict[str, Any] = field(default_factory=dict)  # settings every member has, equal
    healthy: int = 0  # healthy runs they were compared with
    baseline: str = ""  # which healthy runs: "of the same model" or "all"
    differs: list[tuple[str, Any, Any]] = field(default_factory=list)  # (setting, group's, healthy's usual)

    def sentence(self) -> str:
        """`12 runs: loss_zero_grad_nan (bad-batch), all bf16 with transformers 4.46; the 40 healthy runs of
        the same model use transformers 4.45`."""
        sig = self.signature
        what = str(sig["verdict"]) + (f" ({sig['top_cause']})" if sig.get("top_cause") else "")
        if sig.get("exception"):
            what += f", exception `{sig['exception'][:80]}`"
        if sig.get("first_nonfinite"):
            what += f", first non-finite {sig['first_nonfinite']}"
        text = f"{len(self.runs)} run{'s' if len(self.runs) > 1 else ''}: {what}"
        if self.shared:
            text += ", all " + ", ".join(f"{k} {_show(v)}" for k, v in self.shared.items())
        if self.differs:
            use = ", ".join(f"{k} {_show(h)}" for k, _, h in self.differs)
            text += f"; the {self.healthy} healthy runs {self.baseline} use {use}"
        elif not self.shared:
            text += "; no recorded setting is common to all of them"
        elif self.healthy:
            text += f"; the {self.healthy} healthy runs {self.baseline} mostly use the same"
        return text


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _usual(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Each setting's most common value among these runs (missing where none of them has it)."""
    out: dict[str, Any] = {}
    for column in columns:
        values = frame[column].dropna() if column in frame else pd.Series(dtype=object)
        if len(values):
            out[column] = Counter(values.tolist()).most_common(1)[0][0]
    return out


def find_groups(runs: pd.DataFrame, least: int = 2) -> list[Group]:
    """Failing runs clustered by signature (failure mode and top cause, exception, first non-finite metric),
    largest group first; groups smaller than `least` are left out."""
    if runs.empty:
        return []
    failing = runs[(runs["verdict"] != "healthy") & (runs["verdict"] != "error")]
    healthy = runs[runs["verdict"] == "healthy"]
    keyed = failing.assign(**{c: failing[c].astype(object).where(failing[c].notna(), "") for c in SIGNATURE})
    out: list[Group] = []
    for key, members in keyed.groupby(list(SIGNATURE), sort=False):
        if len(members) < least:
            continue
        signature = {c: (v or None) for c, v in zip(SIGNATURE, key, strict=True)}
        group = Group(signature, sorted(members["run"].tolist()))
        for fact in FACTS:
            values = members[fact].dropna().unique().tolist() if fact in members else []
            if len(values) == 1 and members[fact].notna().all():
                group.shared[fact] = values[0]
        model = group.shared.get("model")
        same = healthy[healthy["model"] == model] if model is not None else healthy.iloc[0:0]
        base, group.baseline = (same, "of the same model") if len(same) else (healthy, "of any model")
        group.healthy = len(base)
        if len(base):
            usual = _usual(base, [f for f in group.shared if f != "model"])
            group.differs = [
                (k, a, b) for k, a, b in differences(group.shared, usual) if k != "model" and b is not None
            ]
        out.append(group)
    out.sort(key=lambda g: (-len(g.runs), str(g.signature["verdict"])))
    return out
