"""The bulk path for long logs: a repeated dict layout read by one regex per block, values by numpy."""

from __future__ import annotations

import re

import numpy as np

from analyzer.ingest.console.lines import read_text
from analyzer.ingest.console.records import flush, plan, value_of
from analyzer.ingest.console.state import State

_BAR_CORE = r"\d{1,3}%(?:\|[^|\r\n]*\||\s)\s*(?P<n>\d+)/(?P<total>\d+)\s*\[[^\]\r\n]*\]?"
_LEADING_BAR = re.compile(r"[\s]*[^\r\n%]{0,200}?" + _BAR_CORE)
_LAST_BAR = re.compile(r"(?s:.*)" + _BAR_CORE)
_BARS_ONLY = re.compile(r"(?:[\r\n \t]*[^\r\n%{]{0,200}?" + _BAR_CORE.replace("?P<n>", "").replace("?P<total>", "")
                        + r")*[\r\n \t]*")
_ONE_BAR = re.compile(r"[\r\n \t]*[^\r\n%{=]{0,200}?" + _BAR_CORE + r"[\r\n \t]*")


def read_bulk(state: State, text: str) -> None:
    """A block of a long HF-style log through the layout regex: bulk values, bars read cheaply.

    Same semantics as the line path: a dict's step is the progress bar drawn right after it, the
    fallback when there is none is the same as flush's, other text goes through read_text.
    """
    assert state.fast is not None
    keys, pattern = state.fast
    width = len(keys) + 1
    parts = pattern.split(text)
    if len(parts) == 1:
        read_text(state, text)
        return
    steps: list[int] = []
    lines: list[int] = []
    rows: list[list[str]] = []
    waiting = False  # a dict whose step comes from the bar at the head of the next chunk
    for i in range(0, len(parts), width):
        chunk = parts[i]
        one = _ONE_BAR.fullmatch(chunk)
        if one is not None and int(one["total"]) >= state.bar_total:  # the usual case: one redrawn bar
            state.step = int(one["n"])
            state.lineno += chunk.count("\n")
            if waiting:
                steps.append(state.step)
        else:
            if waiting:
                steps.append(_step_after(state, chunk))
            _chunk(state, chunk)
        if waiting:
            state.last_train_step = steps[-1]
        waiting = i + 1 < len(parts)
        if waiting:
            flush(state)
            rows.append(parts[i + 1:i + width])
            lines.append(state.lineno)
    if len(steps) < len(rows):  # the block ended on a dict: its bar is in the next block, if any
        steps.append(state.step + 1 if state.step is not None and state.step == state.last_train_step
                     else state.step or 0)
        state.last_train_step = steps[-1]
    _emit_bulk(state, keys, steps, lines, rows)

def _step_after(state: State, chunk: str) -> int:
    """The step of a dict whose next chunk is not a lone bar: a bar at its head, else flush's guess."""
    head = _LEADING_BAR.match(chunk)
    if head and int(head["total"]) >= state.bar_total:
        return int(head["n"])
    step = state.step if state.step is not None else 0
    if state.last_train_step is not None and step <= state.last_train_step:
        step = state.last_train_step + 1
        state.unbarred += 1
    return step

def _chunk(state: State, chunk: str) -> None:
    """Text between two bulk-read dicts: bars only (cheap), or anything else line by line."""
    if not chunk:
        return
    if "=" not in chunk and _BARS_ONLY.fullmatch(chunk):
        last = _LAST_BAR.match(chunk)
        if last and int(last["total"]) >= state.bar_total:
            state.bar_total, state.step = int(last["total"]), int(last["n"])
        state.lineno += chunk.count("\n")
    else:
        read_text(state, chunk)

def _emit_bulk(state: State, keys: tuple[str, ...], steps: list[int], lines: list[int],
               rows: list[list[str]]) -> None:
    _, columns = plan(state, dict.fromkeys(keys))
    if not rows:
        return
    step_array, line_array = np.asarray(steps, dtype=np.int64), np.asarray(lines, dtype=np.int64)
    table = list(zip(*rows, strict=True))
    index = {k: j for j, k in enumerate(keys)}
    for key, split, metric in columns:
        raw = table[index[key]]
        try:
            values = np.asarray(raw, dtype=np.float64)
        except ValueError:  # tensor(...), odd strings: the careful way
            values = np.asarray([np.nan if (v := value_of(x)) is None else v for x in raw], dtype=np.float64)
        state.builder.extend(step_array, split, metric, values, line_array)
    state.records += len(rows)
    state.frameworks["transformers"] = state.frameworks.get("transformers", 0) + len(rows)
    state.note_axis("progress_bar" if state.axis != "ordinal" else "ordinal")
