"""LLaMA-Factory `trainer_log.jsonl`: one JSON object per logging step, old and new schemas."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from analyzer.errors import InputError, Problem
from analyzer.ingest.base import FrameBuilder, read_text, to_float
from analyzer.model import Frames
from analyzer.names import canonical_metric

name = "llamafactory_jsonl"

# key -> (split, canonical metric); keys not listed are kept under their own name in `train`.
_KEYS: dict[str, tuple[str, str]] = {
    "loss": ("train", "loss"),
    "eval_loss": ("eval", "loss"),
    "predict_loss": ("predict", "loss"),
    "reward": ("train", "reward"),
    "accuracy": ("train", "rewards/accuracies"),
    "lr": ("train", "learning_rate"),
    "learning_rate": ("train", "learning_rate"),
    "epoch": ("train", "epoch"),
    "throughput": ("train", "throughput"),
    "total_tokens": ("train", "total_tokens"),
    "vram_allocated": ("system", "vram_allocated_gib"),
    "vram_reserved": ("system", "vram_reserved_gib"),
}
_SKIP = {"current_steps", "total_steps", "percentage", "elapsed_time", "remaining_time"}
_DURATION = re.compile(r"^\s*(?:(\d+) days?, )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


def sniff(path: Path, head: bytes) -> bool:
    """The first line is a JSON object with `current_steps` and `total_steps`."""
    first = head.lstrip().split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"current_steps"' in first and b'"total_steps"' in first


def parse_duration(text: str) -> float:
    """str(timedelta) ('9 days, 21:39:23', '0:00:24') to seconds; NaN when it is not one."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m:
        return math.nan
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse(path: Path, source: str) -> Frames:
    """Every row's metrics at its `current_steps`; `elapsed_time` becomes seconds since the start."""
    text = read_text(path, source)
    builder = FrameBuilder(source, producer=name)
    problems: list[Problem] = []
    last_step, total_steps, rows = -1, None, 0
    lines = text.split("\n")
    for lineno, raw_line in enumerate(lines, start=1):
        if not raw_line.strip():
            continue
        try:
            row: Any = json.loads(raw_line)
        except json.JSONDecodeError as exc:
            cut = lineno == len(lines) or (lineno == len(lines) - 1 and not lines[-1])
            why = "last line is cut off (run killed while writing?)" if cut else f"invalid JSON: {exc.msg}"
            problems.append(Problem(source, why, f"line {lineno} column {exc.colno}"))
            continue
        if not isinstance(row, dict):
            problems.append(Problem(source, "line is not a JSON object; skipped", f"line {lineno}"))
            continue
        step_value = to_float(row.get("current_steps"))
        if step_value is None or not math.isfinite(step_value) or abs(step_value) > 2**62:
            problems.append(Problem(source, "row has no `current_steps`; skipped", f"line {lineno}"))
            continue
        step = int(step_value)
        rows += 1
        last_step = max(last_step, step)
        total = to_float(row.get("total_steps"))
        if total is not None and math.isfinite(total):
            total_steps = int(total)
        elapsed = parse_duration(row.get("elapsed_time", ""))
        for key, raw in row.items():
            if key in _SKIP or raw is None:
                continue
            value = to_float(raw)
            if value is None:
                continue
            split, metric = _KEYS.get(key, ("train", canonical_metric(key)))
            builder.metric(step, split, metric, value, lineno, wall_time=elapsed)
    if rows == 0:
        raise InputError(source, "no readable LLaMA-Factory log rows", problems[0].where if problems else "")
    meta: dict[str, Any] = {
        "framework": "llamafactory",
        "clock": "elapsed",
        "llamafactory": {"last_step": last_step, "total_steps": total_steps, "rows": rows},
    }
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    return frames
