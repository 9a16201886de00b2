"""Raw console output (nohup.out, slurm-*.out, train.log) of any trainer: metrics, events and facts.

The file is streamed in blocks and split on both `\\n` and `\\r`, so progress-bar redraws become
fragments of their own. A bar fragment updates the current step (and carries Lightning/accelerate
`key=value` metrics); what follows a bar on the same fragment is read as a line. Lines lose ANSI
escapes and launcher prefixes, then go through: Python dict lines (HF Trainer, TRL, axolotl,
LLaMA-Factory, ms-swift), the `***** x metrics *****` block, the line grammars of grammars.yaml,
event signatures, tracebacks and environment facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from analyzer.errors import InputError, NotARun
from analyzer.ingest.base import FrameBuilder
from analyzer.ingest.console import columnar
from analyzer.ingest.console.bulk import read_bulk
from analyzer.ingest.console.epochs import restep_by_epoch, restep_unprinted_epochs
from analyzer.ingest.console.generic import close, finish
from analyzer.ingest.console.lines import BLOCK, blocks, drop_unrepeated, end_traceback, read_text, unwrap_rest
from analyzer.ingest.console.records import flush
from analyzer.ingest.console.state import State
from analyzer.ingest.grammars import Grammars, active_grammars
from analyzer.model import Frames

name = "console_log"
_SKIP_SUFFIXES = {
    ".py",
    ".md",
    ".rst",
    ".ipynb",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".sh",
    ".html",
    ".css",
    ".js",
    ".json",
    ".csv",
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".png",
    ".jpg",
}


_PRINTABLE = bytes(range(32, 127)) + bytes((8, 9, 10, 13, 27)) + bytes(range(128, 256))  # 8: a bar's backspaces


def sniff(path: Path, head: bytes) -> bool:
    """Text, not claimed by a structured parser, and not source code or a known binary."""
    if path.suffix.lower() in _SKIP_SUFFIXES or not head:
        return False
    if b"\x00" in head[:4096]:
        return False
    sample = head[:4096]
    unprintable = len(sample.translate(None, _PRINTABLE))  # the bytes left once the printable ones are deleted
    return len(sample) - unprintable >= 0.95 * len(sample)


def parse(path: Path, source: str, extra: Grammars | None = None) -> Frames:
    """Metrics, events and environment facts from one console capture, read with `extra` or the grammars
    of the reading in progress (ingest.grammars.reading_with). Text with no metric and no event raises
    NotARun: a note, not a source read."""
    try:
        if path.stat().st_size == 0:
            raise InputError(source, "file is empty")
        engine = columnar.engine() if path.stat().st_size >= columnar.MIN_BYTES else None
        frames = _read(blocks(path), source, extra, engine)
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    if frames.metrics.empty and frames.events.empty:
        lines = (frames.meta.get("console_log") or {}).get(source, {}).get("lines", 0)
        raise NotARun(source, f"text with no training metric or event recognised ({max(lines - 1, 0)} lines)")
    return frames


def parse_text(text: str, source: str, extra: Grammars | None = None) -> Frames:
    """The same as `parse` for console text already in memory (the console records of a W&B run);
    line numbers count line breaks in `text`, starting at 1."""
    if not text:
        raise InputError(source, "no console text")
    return _read(_text_blocks(text), source, extra)


def _clock_rows(metrics: pd.DataFrame, lines: np.ndarray, stamps: np.ndarray) -> None:
    """Each row without a wall time takes the clock reading its line began with (console.clock), when it did:
    `lines` are the lines that began with a timestamp, `stamps` their readings."""
    if metrics.empty:
        return
    order = np.argsort(lines, kind="stable")  # a line read again later (a wrapped record, a cut bar) came late
    lines, stamps = lines[order], stamps[order]
    rows = metrics["line"].to_numpy(dtype="float64", na_value=np.nan)
    open_ = np.isfinite(rows) & metrics["wall_time"].isna().to_numpy()
    wanted = rows[open_]
    at = np.searchsorted(lines, wanted)
    hit = at < len(lines)
    hit[hit] = lines[at[hit]] == wanted[hit]
    if hit.any():
        walls = metrics["wall_time"].to_numpy(dtype="float64", copy=True)
        where = np.flatnonzero(open_)[hit]
        walls[where] = stamps[at[hit]]
        metrics["wall_time"] = walls


def _text_blocks(text: str) -> Iterator[str]:
    """`text` in pieces of about BLOCK characters that end at a line break (as `blocks` reads files)."""
    start = 0
    while start < len(text):
        end = start + BLOCK
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind("\r", start, end))
            if cut < start:  # one line longer than a block: up to its end
                ends = [i for i in (text.find("\n", end), text.find("\r", end)) if i >= 0]
                cut = min(ends) if ends else len(text) - 1
            end = cut + 1
        yield text[start:end]
        start = end


def _read(chunks: Iterable[str], source: str, extra: Grammars | None, engine: ModuleType | None = None) -> Frames:
    """Every block of the text; with `engine` (a large file), blocks of the bulk layout on the columnar path."""
    state = State(builder=FrameBuilder(source, producer=name), grammars=extra or active_grammars())
    carry = ""  # a dict whose bar is in the next block
    for text in chunks:
        if state.fast is not None and state.axis == "progress_bar":
            done = None if engine is None else columnar.read_columnar(state, carry + text, engine)
            carry = read_bulk(state, carry + text) if done is None else done
        else:
            read_text(state, carry + text)
            carry = ""
    if carry:
        read_bulk(state, carry, final=True)
    unwrap_rest(state)
    flush(state)
    end_traceback(state)
    drop_unrepeated(state)
    close(state.generic)
    read = finish(
        state.generic,
        state.builder,
        stepped=state.axis in ("logged", "progress_bar"),
        hinted_unplaced=state.hinted_unplaced,
        reader_axis=state.axis,
    )
    if read["templates"] and not state.axis:
        state.axis = read["templates"][0]["step_axis"]
    lines = state.lineno
    meta: dict[str, Any] = dict(state.meta)
    if state.frameworks:
        meta["framework"] = max(state.frameworks, key=lambda k: state.frameworks[k])
    axis = state.axis or "none"
    if axis == "progress_bar" and state.unbarred > 1:
        axis = "guessed"  # dict lines printed apart from their bars: their steps are not reliable
    frames = state.builder.frames(meta)
    if state.stamps:
        _clock_rows(frames.metrics, np.frombuffer(state.stamp_lines, dtype=np.int64), np.frombuffer(state.stamps))
    if axis == "guessed" and restep_by_epoch(frames, state.epoch_lines):
        axis = "epoch_x_steps"  # exact again: step = epoch x update steps per epoch
    elif axis in ("logged", "step") and restep_unprinted_epochs(frames):
        axis = "batch_in_epoch"  # epochs counted where the step counter starts again, the loss going on
    frames.meta["console_log"] = {
        source: {
            "lines": lines,
            "records": state.records + sum(t["records"] for t in read["templates"]),
            "step_axis": axis,
            **read,
            "hints": list(state.hints.values()),
        }
    }
    return frames
