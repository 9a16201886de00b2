"""LLaMA-Factory `trainer_log.jsonl`: one JSON object per logging step, old and new schemas."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import InputError, Problem
from analyzer.ingest.base import FrameBuilder, parse_duration, to_float
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


def sniff(path: Path, head: bytes) -> bool:
    """The first line is a JSON object with `current_steps` and `total_steps`."""
    first = head.lstrip().split(b"\n", 1)[0]
    return first.startswith(b"{") and b'"current_steps"' in first and b'"total_steps"' in first


def parse(path: Path, source: str) -> Frames:
    """Every row's metrics at its `current_steps`; `elapsed_time` becomes seconds since the start.
    Values are collected per key and converted one column at a time (a million lines in seconds)."""
    problems: list[Problem] = []
    total_steps: Any = None
    steps: list[int] = []
    elapsed: list[str] = []
    row_lines: list[int] = []
    columns: dict[str, tuple[list[int], list[Any]]] = {}  # key -> (row indices, raw values)
    broken: tuple[int, json.JSONDecodeError] | None = None  # the last unreadable line, until one follows it
    for lineno, raw_line in enumerate(_lines(path, source), start=1):
        if not raw_line.strip():
            continue
        if broken is not None:
            problems.append(
                Problem(source, f"invalid JSON: {broken[1].msg}", f"line {broken[0]} column {broken[1].colno}")
            )
            broken = None
        try:
            row: Any = json.loads(raw_line)
        except json.JSONDecodeError as exc:
            broken = (lineno, exc)
            continue
        except RecursionError:  # json's C decoder recurses once per `[`
            problems.append(Problem(source, "line nested too deeply to be a log row; skipped", f"line {lineno}"))
            continue
        if not isinstance(row, dict):
            problems.append(Problem(source, "line is not a JSON object; skipped", f"line {lineno}"))
            continue
        step_value = to_float(row.get("current_steps"))
        if step_value is None or not math.isfinite(step_value) or abs(step_value) > 2**62:
            problems.append(Problem(source, "row has no `current_steps`; skipped", f"line {lineno}"))
            continue
        index = len(steps)
        steps.append(int(step_value))
        row_lines.append(lineno)
        elapsed.append(row.get("elapsed_time", ""))
        total = row.get("total_steps")
        if total is not None:
            total_steps = total
        for key, raw in row.items():
            if raw is not None and key not in _SKIP:
                column = columns.get(key)
                if column is None:
                    column = columns[key] = ([], [])
                column[0].append(index)
                column[1].append(raw)
    if broken is not None:  # nothing readable after it: the file ends inside this line
        problems.append(
            Problem(
                source, "last line is cut off (run killed while writing?)", f"line {broken[0]} column {broken[1].colno}"
            )
        )
    rows = len(steps)
    if rows == 0:
        raise InputError(source, "no readable LLaMA-Factory log rows", problems[0].where if problems else "")
    total = to_float(total_steps)
    step_array, line_array = np.asarray(steps, dtype=np.int64), np.asarray(row_lines, dtype=np.int64)
    walls = np.asarray([parse_duration(e) for e in elapsed], dtype=np.float64)
    builder = FrameBuilder(source, producer=name)
    for key, (indices, raws) in columns.items():
        values, keep = _floats(raws)  # text that is not a number is skipped, a logged NaN kept
        at = np.asarray(indices, dtype=np.int64)[keep]
        split, metric = _KEYS.get(key, ("train", canonical_metric(key)))
        builder.extend(step_array[at], split, metric, values[keep], line_array[at], walls[at])
    meta: dict[str, Any] = {
        "framework": "llamafactory",
        "clock": "elapsed",
        "llamafactory": {
            "last_step": int(step_array.max()),
            "rows": rows,
            "total_steps": int(total) if total is not None and math.isfinite(total) else None,
        },
    }
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    return frames


def _lines(path: Path, source: str) -> Iterator[str]:
    """The file's lines, streamed (invalid UTF-8 replaced) up to its size when opened (a run still writing
    appends meanwhile: the read ends); an empty or unreadable file raises InputError."""
    try:
        with path.open("rb") as fh:
            left = os.fstat(fh.fileno()).st_size
            if left == 0:
                raise InputError(source, "file is empty")
            for number, raw in enumerate(fh):
                line = raw[:left].decode("utf-8", errors="replace")
                yield line.removeprefix("\ufeff") if number == 0 else line
                left -= len(raw)
                if left <= 0:
                    return
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None


def _floats(raws: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Logged values as float64 and a mask of those that are numbers (NaN included): numbers and bools
    at C speed, anything else through to_float."""
    try:
        values = np.asarray(raws, dtype=np.float64)
        return values, np.ones(len(values), dtype=bool)
    except (ValueError, TypeError):
        parsed = [to_float(r) for r in raws]
        return (
            np.asarray([math.nan if v is None else v for v in parsed], dtype=np.float64),
            np.asarray([v is not None for v in parsed], dtype=bool),
        )
