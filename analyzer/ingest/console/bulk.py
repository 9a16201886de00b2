"""The bulk path for long logs: a repeated dict layout read by one regex per block, values by numpy."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from analyzer.ingest import hf_state
from analyzer.ingest.console.lines import read_text
from analyzer.ingest.console.records import flush, next_train_step, value_of
from analyzer.ingest.console.state import State

BAR_CORE = r"\d{1,3}%(?:\|[^|\r\n]*\||\s)\s*(?P<n>\d+)/(?P<total>\d+)\s*\[[^\]\r\n]*\]?"
_LEADING_BAR = re.compile(r"[\s]*[^\r\n%]{0,200}?" + BAR_CORE)
_LAST_BAR = re.compile(r"(?s:.*)" + BAR_CORE)
# One bar and the blank space before it. A chunk is bars only when these pieces, one after the other, and
# blank space cover it: one regex repeating the piece over the chunk backtracked exponentially when it
# failed at the end of many bars (an eval's bars, then its dict).
_BAR_PIECE = re.compile(r"[\r\n \t]*[^\r\n%{]{0,200}?" + BAR_CORE.replace("?P<n>", "").replace("?P<total>", ""))
_BLANK = re.compile(r"[\r\n \t]*")
_ONE_BAR = re.compile(r"[\r\n \t]*[^\r\n%{=]{0,200}?" + BAR_CORE + r"[\r\n \t]*")
# For all the chunks of a block in one call (joined by \x00): (n, total) of a chunk that is exactly
# one bar, ('', '') for any other chunk.
_ONE_BAR_OR_NOT = re.compile(
    r"(?:^|(?<=\x00))(?:[\r\n \t]*[^\r\n%{=\x00]{0,200}?"
    + BAR_CORE.replace("[^\\]\\r\\n]", "[^\\]\\r\\n\\x00]")
    + r"[\r\n \t]*(?=\x00|$)|[^\x00]*)"
)
CARRY_LIMIT = 64 * 1024  # a trailing dict waits for the next block's bar when it is this close to the end


def read_bulk(state: State, text: str, final: bool = False) -> str:
    """A block of a long HF-style log through the layout regex: bulk values, bars read cheaply.

    Same semantics as the line path: a dict's step is the progress bar drawn right after it, the
    fallback when there is none is the same as flush's, other text goes through read_text. Only the
    chunks between dicts that are not a single redrawn bar cost Python work per dict. Returns the
    text to put before the next block: a last dict whose bar is still to come.
    """
    assert state.fast is not None
    keys, pattern = state.fast
    text, carry = (text, "") if final else split_carry(keys, pattern, text)
    width = len(keys) + 1
    parts = pattern.split(text)
    if len(parts) == 1:
        read_text(state, text)
        return carry
    start(state, parts[0])
    after = parts[width::width]  # the text after each dict
    count = len(after)
    bars = _ONE_BAR_OR_NOT.findall("\x00".join(after))
    n = np.fromiter((int(b) if b else -1 for b, _ in bars), dtype=np.int64, count=count)
    total = np.fromiter((int(t) if t else -1 for _, t in bars), dtype=np.int64, count=count)
    newlines = np.fromiter((chunk.count("\n") for chunk in after), dtype=np.int64, count=count)
    steps, lines = place(state, n, total, newlines, after.__getitem__)
    emit(state, keys, steps, lines, [_floats(parts[1 + j :: width]) for j in range(len(keys))])
    return carry


def start(state: State, head: str) -> None:
    """The text before a block's first bulk-read dict, and what it settles."""
    between(state, head)
    flush(state)
    state.last_dict = ""  # the bulk-read dicts come between any two dict lines read one by one


def split_carry(keys: tuple[str, ...], pattern: re.Pattern[str], text: str) -> tuple[str, str]:
    """Hold back a trailing dict (and what follows it) when its bar has not been drawn in this block."""
    start = text.rfind("{'" + keys[0] + "'")
    if start < 0 or len(text) - start > CARRY_LIMIT:
        return text, ""
    match = pattern.match(text, start)
    if match is None or _LEADING_BAR.match(text, match.end()):
        return text, ""
    return text[:start], text[start:]


def place(
    state: State, n: np.ndarray, total: np.ndarray, newlines: np.ndarray, chunk: Callable[[int], str]
) -> tuple[list[int], list[int]]:
    """Each dict's step and line. `n`/`total`: the bar that is the whole chunk after dict i (-1 when that
    chunk is not one bar); `newlines`: the line breaks in each chunk; `chunk(i)`: the chunk's text, read
    one by one when it is not one bar of at least the current total."""
    lines = state.lineno + np.concatenate(([0], np.cumsum(newlines)[:-1]))
    steps = n.copy()
    regular = (n >= 0) & (total >= state.bar_total)
    for i in np.flatnonzero(~regular).tolist():
        state.lineno = int(lines[i])
        if i:
            state.step = state.last_train_step = int(steps[i - 1])
            flush(state)
        text = chunk(i)
        steps[i] = _step_after(state, text)
        state.last_train_step = int(steps[i])
        between(state, text)
        flush(state)
    state.lineno = int(lines[-1] + newlines[-1])
    if regular[-1]:
        state.step = int(n[-1])
        state.bar_total = max(state.bar_total, int(total[-1]))
    state.last_train_step = int(steps[-1])
    return steps.tolist(), lines.tolist()


def between(state: State, chunk: str) -> None:
    """Text before or after a bulk-read dict: one redrawn bar (the usual case), or _chunk."""
    one = _ONE_BAR.fullmatch(chunk)
    if one is not None and int(one["total"]) >= state.bar_total:
        state.step = int(one["n"])
        state.lineno += chunk.count("\n")
    else:
        _chunk(state, chunk)


def _step_after(state: State, chunk: str) -> int:
    """The step of a dict whose next chunk is not a lone bar: a bar at its head, else flush's guess."""
    head = _LEADING_BAR.match(chunk)
    if head and int(head["total"]) >= state.bar_total:
        return int(head["n"])
    step, stale = next_train_step(state)
    if stale and ("/" not in chunk or not _LEADING_BAR.search(chunk)):  # no bar at all: stdout apart from bars
        state.unbarred += 1
    return step


def _chunk(state: State, chunk: str) -> None:
    """Text between two bulk-read dicts: bars only (cheap), or anything else line by line."""
    if not chunk:
        return
    if "=" not in chunk and _bars_only(chunk):
        last = _LAST_BAR.match(chunk)
        if last and int(last["total"]) >= state.bar_total:
            state.bar_total, state.step = int(last["total"]), int(last["n"])
        state.lineno += chunk.count("\n")
    else:
        read_text(state, chunk)


def _bars_only(chunk: str) -> bool:
    """Whether the chunk is progress bars and blank space, nothing else."""
    at = 0
    while (piece := _BAR_PIECE.match(chunk, at)) is not None and piece.end() > at:
        at = piece.end()
    return _BLANK.fullmatch(chunk, at) is not None


def _floats(raw: list[str]) -> np.ndarray:
    """The captured values of one key as floats: all at once, or one by one when any is not a bare number."""
    try:
        return np.asarray(raw, dtype=np.float64)
    except ValueError:  # tensor(...), odd strings: the careful way
        return np.asarray([np.nan if (v := value_of(x)) is None else v for x in raw], dtype=np.float64)


def emit(state: State, keys: tuple[str, ...], steps: list[int], lines: list[int], values: list[np.ndarray]) -> None:
    """One bulk series per key; `values` holds each key's values, in the order of `keys`."""
    _, columns = hf_state.layout_plan(keys)
    if not steps:
        return
    step_array, line_array = np.asarray(steps, dtype=np.int64), np.asarray(lines, dtype=np.int64)
    index = {k: j for j, k in enumerate(keys)}
    for key, split, metric in columns:
        state.builder.extend(step_array, split, metric, values[index[key]], line_array)
    state.records += len(steps)
    state.frameworks["transformers"] = state.frameworks.get("transformers", 0) + len(steps)
    state.note_axis("progress_bar" if state.axis != "ordinal" else "ordinal")
