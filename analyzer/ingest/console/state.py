"""What the console reader knows at the current line."""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from typing import Any

from analyzer.ingest.base import FrameBuilder
from analyzer.ingest.console.clock import Clock
from analyzer.ingest.console.generic import Collector
from analyzer.ingest.grammars import Grammars


@dataclass
class State:
    """What the reader knows at the current line."""

    builder: FrameBuilder
    grammars: Grammars
    step: int | None = None
    bar_total: int = 0
    bar_last: dict[int | None, tuple[int, int]] = field(default_factory=dict)  # (n, total) of each rank's last bar
    bar_offset: dict[int | None, int] = field(default_factory=dict)  # steps of the finished bars before it
    bar_post: dict[int | None, str] = field(default_factory=dict)  # the postfix each rank's last bar showed
    counter: int = 0  # records read on an ordinal axis
    epoch_counter: int = 0
    epoch_header_seen: bool = False
    headless_from: int | None = None  # builder mark of the first epoch-counted record read before any header
    axis: str = ""  # logged | progress_bar | ordinal
    frameworks: dict[str, int] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    block_split: str | None = None
    traceback: dict[str, Any] | None = None
    last_dict: str = ""
    last_epoch: str = ""
    echo: bool = False  # the line came through a logger (LLaMA-Factory echoes the Trainer's dict)
    prev_echo: bool = False
    pending: list[tuple[dict[str, Any], int, int | None]] = field(default_factory=list)  # (row, line, rank)
    rank_counters: dict[int, int] = field(default_factory=dict)  # ordinal records read per rank
    last_train_step: int | None = None
    unbarred: int = 0
    lineno: int = 1
    layouts: dict[tuple[str, ...], int] = field(default_factory=dict)  # how often each dict layout was seen
    fast: tuple[tuple[str, ...], re.Pattern[str]] | None = None  # the layout read in bulk
    vanishing_seen: set[str] = field(default_factory=set)
    rank: int | None = None
    hosts: dict[str, int] = field(default_factory=dict)  # host prefix -> its index, first seen first (a rank)
    records: int = 0
    epoch_lines: dict[int, float] = field(default_factory=dict)  # line -> epoch of eval/summary dicts
    generic: Collector = field(default_factory=Collector)  # lines no reader claimed (console.generic)
    bar_head: tuple[str, int] | None = None  # a bar the terminal cut before its `| n/total [`, and its line
    wrapped: list[tuple[str, int]] | None = None  # (text, line) of each piece of a record wrapped by a paste
    info_level: bool = False  # the line's logger prefix marked it informational (glog's `I0912 ...]`)
    warned: bool = False  # the line was a Python warning: an indented line after it is its source line
    hints: dict[str, dict[str, Any]] = field(default_factory=dict)  # grammar hint -> the lines it read (inspect)
    # event signature (its index) that counts only when it repeats -> the events it added so far (lines.drop_unrepeated)
    repeated: dict[int, list[int]] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)  # the time of day the lines begin with (console.clock)
    stamp_lines: array[int] = field(default_factory=lambda: array("q"))  # lines that began with a timestamp
    stamps: array[float] = field(default_factory=lambda: array("d"))  # and their clock readings
    # line -> the stand-in step of a hint's record the generic reader places (an epoch the hint counted, a Keras
    # epoch line; or a record with no step of its own, COCOeval's summary): console.generic._hints_under_main
    hinted_unplaced: dict[int, int] = field(default_factory=dict)

    def note_axis(self, axis: str) -> None:
        order = ("", "ordinal", "epoch", "progress_bar", "logged")
        if order.index(axis) > order.index(self.axis):
            self.axis = axis
