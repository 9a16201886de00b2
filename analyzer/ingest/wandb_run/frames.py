"""Frames of a W&B run: the step axis, history, summary, system stats, console records and how the run ended."""

from __future__ import annotations

import bisect
import fnmatch
import math
import re
from dataclasses import dataclass, field
from typing import Any

from analyzer.errors import InputError
from analyzer.ingest import console
from analyzer.ingest.base import FrameBuilder
from analyzer.ingest.wandb_run.records import _Log
from analyzer.model import Frames
from analyzer.names import split_and_metric

name = "wandb"

_TRAINER_STEPS = ("train/global_step", "trainer/global_step", "global_step")
# System stats kept: GPU memory in use (% and bytes) and utilisation (`gpu.N.gpu`; `gpu.N.memory` is the memory
# controller's busy %, not an amount, so it is left out), host memory and CPU.
_STATS = re.compile(
    r"^(?:gpu\.(?:process\.)?\d+\.(?:memoryAllocated|memoryAllocatedBytes|gpu)|memory_percent|memory|"
    r"cpu|proc\.memory\.rssMB)$"
)
_BLANK_FRAGMENT = re.compile(r"(?<![^\r\n])[ \t]+(?![^\r\n])")


def _as_step(value: Any) -> int | None:
    """A logged value as a step: a finite whole number, else None."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 2**62:
        return int(value)
    return None


@dataclass
class _Axis:
    """The run's step axis: which key it is, and the step of each history row by its time."""

    key: str
    times: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # every key the history logged
    last_step: int | None = None

    def at(self, time: float) -> int | None:
        """The step of the last history row logged at or before `time` (None before the first one)."""
        if math.isnan(time):
            return None
        i = bisect.bisect_right(self.times, time) - 1
        return self.steps[i] if i >= 0 else None


def _step_keys(rows: list[tuple[int, dict[str, Any]]], step_defs: list[tuple[str, str]]) -> tuple[str, set[str]]:
    """The main step key (first defined step metric the rows carry, else a trainer step, else `_step`)
    and every step metric the rows carry."""
    candidates = [s for pattern, s in step_defs if pattern == "*"] + [s for _, s in step_defs] + list(_TRAINER_STEPS)
    present = {key for key in dict.fromkeys(candidates) if any(key in row for _, row in rows)}
    main = next((key for key in candidates if key in present), "_step")
    return main, present


@dataclass
class _StepOf:
    """metric key -> the step metric it was defined against (exact name, then the newest glob), else main."""

    main: str
    defs: list[tuple[str, str]]
    cache: dict[str, str] = field(default_factory=dict)

    def __call__(self, key: str) -> str:
        found = self.cache.get(key)
        if found is None:
            exact = [step for pattern, step in self.defs if pattern == key]
            globs = [step for pattern, step in self.defs if fnmatch.fnmatchcase(key, pattern)]
            found = self.cache[key] = (exact or globs or [self.main])[-1]
        return found


def add_history(
    builder: FrameBuilder, rows: list[tuple[int, dict[str, Any]]], step_defs: list[tuple[str, str]]
) -> _Axis:
    """Every numeric history value at its step (see the module's step policy)."""
    main, present = _step_keys(rows, step_defs)
    axis = _Axis(main)
    step_of = _StepOf(main, [(pattern, step) for pattern, step in step_defs if step in present])
    names: dict[str, tuple[str, str]] = {}
    last: dict[str, int] = {}
    step_keys = present | {main}
    for ordinal, (line, row) in enumerate(rows):
        fallback = _as_step(row.get("_step"))
        here: dict[str, int] = {}
        for skey in step_keys:
            step = _as_step(row.get(skey))
            if step is not None:
                last[skey] = step
            here[skey] = last.get(skey, fallback if fallback is not None else ordinal)
        time = row.get("_timestamp", math.nan)
        time = time if isinstance(time, float) else math.nan
        if not math.isnan(time):
            axis.times.append(time)
            axis.steps.append(here[main])
        axis.last_step = here[main]
        for key, value in row.items():
            if type(value) is not float or key.startswith("_") or key in present:
                continue
            split_metric = names.get(key)
            if split_metric is None:
                split_metric = names[key] = split_and_metric(key)
            builder.metric(here[step_of(key)], split_metric[0], split_metric[1], value, line, wall_time=time)
    axis.keys = set(names) | present
    return axis


def add_summary(builder: FrameBuilder, summary: dict[str, Any], lines: dict[str, int], axis: _Axis) -> None:
    """Summary values the history never logged (HF's train_runtime, train_loss, total_flos...) into the
    `summary` split at the last step, under their own names as hf_state does."""
    step = axis.last_step
    if step is None:
        step = next((s for s in (_as_step(summary.get(k)) for k in (*_TRAINER_STEPS, "_step")) if s is not None), 0)
    time = summary.get("_timestamp", math.nan)
    for key, value in summary.items():
        if type(value) is float and not key.startswith("_") and key not in axis.keys and key not in _TRAINER_STEPS:
            builder.metric(
                step, "summary", key, value, lines.get(key), wall_time=time if isinstance(time, float) else math.nan
            )


def add_stats(builder: FrameBuilder, stats: list[tuple[int, float, dict[str, Any]]], axis: _Axis) -> None:
    """GPU and host memory/utilisation samples into the `system` split (key names kept)."""
    for line, time, items in stats:
        step = axis.at(time)
        for key, value in items.items():
            if type(value) is float and _STATS.match(key):
                builder.metric(step if step is not None else 0, "system", key, value, line, wall_time=time)


class _LineIndex:
    """Maps a line of the joined console text back to the output record where that line starts."""

    def __init__(self, texts: list[str]) -> None:
        self.ends_with_break = [t.endswith("\n") for t in texts]
        self.breaks_through: list[int] = []  # line breaks up to the end of each record
        total = 0
        for text in texts:
            total += text.count("\n")
            self.breaks_through.append(total)

    def record(self, line: int) -> int:
        """Index of the record holding the start of console line `line` (1-based)."""
        i = bisect.bisect_left(self.breaks_through, line - 1)
        if i < len(self.breaks_through) and self.breaks_through[i] == line - 1 and self.ends_with_break[i] and line > 1:
            i += 1
        return min(i, len(self.breaks_through) - 1)


def add_console(builder: FrameBuilder, log: _Log, axis: _Axis, source: str) -> Frames | None:
    """Read the console records with the console reader; events get record number, time and step."""
    import pandas as pd  # here, not at import: the registry imports this package on every start

    kind = "output_raw" if log.outputs["output_raw"] else "output"
    outputs = log.outputs[kind]
    if not outputs:
        return None
    texts = [o.text for o in outputs]
    # Blank fragments (tqdm erasing its line with spaces) are emptied: the console reader's bar-only regex
    # backtracks cubically on long runs of spaces (50 ms for 143 spaces). Line breaks are kept.
    text = _BLANK_FRAGMENT.sub("", "".join(texts))
    try:
        frames = console.parse_text(text, f"{source} (console)")
    except InputError:
        return None
    index = _LineIndex(texts)
    for event in frames.events.to_dict("records"):
        out = outputs[index.record(int(event["line"]))] if not pd.isna(event["line"]) else None
        step = axis.at(out.time) if out is not None else None
        if step is None and not pd.isna(event["step"]):
            step = int(event["step"])
        builder.event(
            event["kind"],
            event["severity"],
            event["message"],
            step,
            out.line if out else None,
            wall_time=out.time if out else math.nan,
        )
    if not log.rows:  # printed metrics only when nothing was logged to W&B (else rounded copies)
        for row in frames.metrics.to_dict("records"):
            out = outputs[index.record(int(row["line"]))] if not pd.isna(row["line"]) else None
            builder.metric(
                int(row["step"]),
                str(row["split"]),
                str(row["metric"]),
                float(row["value"]),
                out.line if out else None,
                rank=None if pd.isna(row["rank"]) else int(row["rank"]),
            )
    frames.meta["console_log"] = {
        f"{source} (console)": {
            **frames.meta.get("console_log", {}).get(f"{source} (console)", {}),
            "records": len(outputs),
            "kind": kind,
        }
    }
    return frames


def add_exit(builder: FrameBuilder, log: _Log, axis: _Axis) -> None:
    """How the run ended, as an event: run_end (exit 0), exception (another code) or no_exit_record (the log
    stops: the process was killed, or is still running; the run status rules weigh it with the others)."""
    if log.exit is None:
        builder.event(
            "no_exit_record",
            "warning",
            "no W&B exit record: the process ended without wandb.finish() "
            "(killed, preempted, out of host memory or a native crash), or the run was still going",
            axis.last_step,
            log.last_line or None,
            wall_time=log.last_time,
        )
        return
    line, code, _ = log.exit
    if code == 0:
        builder.event("run_end", "info", "W&B exit record: exit code 0", axis.last_step, line, log.last_time)
    else:
        builder.event(
            "exception",
            "error",
            f"the process exited with code {code} (W&B exit record)",
            axis.last_step,
            line,
            log.last_time,
        )
