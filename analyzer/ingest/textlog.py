"""Raw console output (nohup.out, slurm-*.out, train.log) of any trainer: metrics, events and facts.

The file is streamed in blocks and split on both `\\n` and `\\r`, so progress-bar redraws become
fragments of their own. A bar fragment updates the current step (and carries Lightning/accelerate
`key=value` metrics); what follows a bar on the same fragment is read as a line. Lines lose ANSI
escapes and launcher prefixes, then go through: Python dict lines (HF Trainer, TRL, axolotl,
LLaMA-Factory, ms-swift), the `***** x metrics *****` block, the line grammars of grammars.yaml,
event signatures, tracebacks and environment facts.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import InputError
from analyzer.ingest import hf_state
from analyzer.ingest.base import FrameBuilder, to_float
from analyzer.ingest.grammars import NUM, Grammars, LineGrammar, grammars
from analyzer.model import Frames
from analyzer.names import canonical_metric

name = "console_log"

BLOCK = 1 << 20
MAX_LINE = 64 * 1024  # longer fragments are cut: a 200 MB single line must not become one string
_SKIP_SUFFIXES = {".py", ".md", ".rst", ".ipynb", ".yaml", ".yml", ".toml", ".cfg", ".sh", ".html", ".css",
                  ".js", ".json", ".csv", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".png", ".jpg"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB012]")
_PREFIX = re.compile(
    r"^(?:\s*\[\d+\]\s(?=\[)"  # line numbers some paste tools add: [80746] [rank0]:...
    r"|\s*\([^()]*pid=\d+\)\s*"  # ray / skypilot: (head, pid=123)
    r"|\s*\[(?:rank|default)(?P<rank>\d+)\]:\s?"  # torchrun --tee / elastic
    r"|\s*\[[\w.-]+:(?P<srank>\d+)\]:\s?"  # srun: [host:3]:
    r"|\s*\[\d{4}-\d\d-\d\d[ T][\d:,.]+\]\s*(?:\[\w+\]\s*)?"  # [2024-07-10 15:50:45,798] [INFO]
    r")")
_ARROW = re.compile(r"^\[\w+\|[^\]]*\][^>]*>>\s?")  # [INFO|trainer.py:123] 2025-... >> message
_BAR = re.compile(r"(?P<pct>\d{1,3})%(?:\|[^|\r\n]*\||\s)\s*(?P<n>\d+)/(?P<total>\d+)\s*"
                  r"\[(?P<info>[^\]\[]*?(?:it/s|s/it)(?P<post>,[^\]\[]*)?)\]?")
_BAR_ONLY = re.compile(r"^\s*[\w\s:.-]*?:?\s*\d+it \[[^\]]*\]\s*$")
_POSTFIX = re.compile(rf"(?P<key>[A-Za-z_][\w/]*)=(?P<value>{NUM})(?=[,\s\]]|$)")
_TORCHTUNE_DESC = re.compile(rf"(?:(?P<epoch>\d+)\|(?P<step>\d+))?\|Loss: (?P<loss>{NUM})")
_LIGHTNING_DESC = re.compile(r"Epoch (?P<epoch>\d+)")
_DICT_PAIR = re.compile(r"""['"](?P<key>[^'"]+)['"]:\s*(?P<value>'[^']*'|"[^"]*"|tensor\([^)]*\)|[^,}]+)""")
_TENSOR = re.compile(rf"tensor\(\s*({NUM})")
_BLOCK_HEAD = re.compile(r"\*{5} (?P<split>\w+) metrics \*{5}")
_BLOCK_ROW = re.compile(r"^\s+(?P<key>[\w/.-]+)\s+=\s+(?P<value>\S+)\s*$")
_DURATION = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)$")
_SIZE = re.compile(rf"^({NUM})\s*(?:GF|MB|GB|TF)$")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\):")
_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>\S+)')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure|error))"
                        r"(?::\s*(?P<msg>.*))?$")
_TERMINATE = re.compile(r"terminate called after throwing an instance of '(?P<type>[^']+)'")
_BREAK = re.compile(r"(\r\n|\n|\r)")
_BAR_CORE = r"\d{1,3}%(?:\|[^|\r\n]*\||\s)\s*(?P<n>\d+)/(?P<total>\d+)\s*\[[^\]\r\n]*\]?"
_LEADING_BAR = re.compile(r"[\s]*[^\r\n%]{0,200}?" + _BAR_CORE)
_LAST_BAR = re.compile(r"(?s:.*)" + _BAR_CORE)
_BARS_ONLY = re.compile(r"(?:[\r\n \t]*[^\r\n%{]{0,200}?" + _BAR_CORE.replace("?P<n>", "").replace("?P<total>", "")
                        + r")*[\r\n \t]*")
_ONE_BAR = re.compile(r"[\r\n \t]*[^\r\n%{=]{0,200}?" + _BAR_CORE + r"[\r\n \t]*")
FAST_AFTER = 20  # a dict layout printed this many times is read in bulk from then on
# Headers that name the epoch whose one-line summary follows (Keras `Epoch 3/30`, AllenNLP `TRAIN EPOCH 2:`).
_EPOCH_HEADER = re.compile(r"^(?:Epoch (?P<keras>\d+)/\d+\s*$|TRAIN EPOCH\s+(?P<zero_based>\d+):)")


def sniff(path: Path, head: bytes) -> bool:
    """Text, not claimed by a structured parser, and not source code or a known binary."""
    if path.suffix.lower() in _SKIP_SUFFIXES or not head:
        return False
    if b"\x00" in head[:4096]:
        return False
    sample = head[:4096]
    printable = sum(32 <= b < 127 or b in (9, 10, 13, 27) or b >= 128 for b in sample)
    return printable >= 0.95 * len(sample)


def blocks(path: Path) -> Iterator[str]:
    """The file as text in blocks of whole lines; invalid UTF-8 is replaced and a runaway line
    (no newline for MAX_LINE characters) is cut to its first MAX_LINE characters."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    with path.open("rb") as fh:
        while True:
            raw = fh.read(BLOCK)
            text = pending + decoder.decode(raw, final=not raw)
            if not raw:
                if text:
                    yield text
                return
            cut = max(text.rfind("\n"), text.rfind("\r"))
            if cut < 0:
                pending = text if len(text) <= MAX_LINE else text[:MAX_LINE]
                continue
            pending = text[cut + 1:]
            if len(pending) > MAX_LINE:
                pending = pending[:MAX_LINE]
            yield text[:cut + 1]


@dataclass
class _State:
    """What the reader knows at the current line."""

    builder: FrameBuilder
    grammars: Grammars
    step: int | None = None
    bar_total: int = 0
    counter: int = 0  # records read on an ordinal axis
    epoch_counter: int = 0
    axis: str = ""  # logged | progress_bar | ordinal
    frameworks: dict[str, int] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    block_split: str | None = None
    traceback: dict[str, Any] | None = None
    last_dict: str = ""
    last_epoch: str = ""
    echo: bool = False  # the line came through a logger (LLaMA-Factory echoes the Trainer's dict)
    prev_echo: bool = False
    pending: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    last_train_step: int | None = None
    unbarred: int = 0
    plans: dict[tuple[str, ...], tuple[str, list[tuple[str, str, str]]]] = field(default_factory=dict)
    lineno: int = 1
    layouts: dict[tuple[str, ...], int] = field(default_factory=dict)  # how often each dict layout was seen
    fast: tuple[tuple[str, ...], re.Pattern[str]] | None = None  # the layout read in bulk
    vanishing_seen: set[str] = field(default_factory=set)
    rank: int | None = None
    records: int = 0

    def note_axis(self, axis: str) -> None:
        order = ("", "ordinal", "progress_bar", "logged")
        if order.index(axis) > order.index(self.axis):
            self.axis = axis


def _value(text: str) -> float | None:
    try:
        return float(text)  # the common case: a bare number
    except ValueError:
        pass
    text = text.strip().strip("'\"")
    tensor = _TENSOR.match(text)
    if tensor:
        text = tensor.group(1)
    return to_float(text)


def _bar(state: _State, match: re.Match[str], desc: str, lineno: int) -> None:
    n, total = int(match["n"]), int(match["total"])
    lightning = _LIGHTNING_DESC.search(desc)
    tune = _TORCHTUNE_DESC.search(desc)
    step = int(lightning["epoch"]) * total + n if lightning else n
    if tune and tune["step"]:
        step = int(tune["step"])
    if total >= state.bar_total or lightning:
        state.bar_total = max(state.bar_total, total)
        if state.axis != "ordinal":
            state.step = step
            state.note_axis("progress_bar")
        _flush(state, step)
    metrics = [(m["key"], m["value"]) for m in _POSTFIX.finditer(match["post"] or "")]
    if tune:
        metrics.append(("loss", tune["loss"]))
    for key, raw in metrics:
        value = to_float(raw)
        if value is not None and key != "v_num":
            metric = "loss" if key in ("step_loss", "train_loss", "loss_step") else canonical_metric(key)
            state.builder.metric(step, "train", metric, value, lineno, rank=state.rank)
            state.records += 1


def _dict_line(state: _State, text: str, lineno: int) -> bool:
    """A printed metrics dict. Without a `step` key its step is only known from the progress bar
    that tqdm.write redraws right after the line, so the record waits for that bar (see _flush)."""
    start = text.find("{")
    if start < 0 or (text.find("'", start, start + 3) < 0 and text.find('"', start, start + 3) < 0):
        return False
    row: dict[str, Any] = {}
    for pair in _DICT_PAIR.finditer(text, start):
        row[pair["key"]] = pair["value"]
    if not _is_log_row(row):
        return False
    state.frameworks["transformers"] = state.frameworks.get("transformers", 0) + 1
    step: float | None = None
    if "step" in row:
        step = _value(row.pop("step"))
    elif "global_step/max_steps" in row:  # ms-swift: '12/176'
        step = to_float(str(row.pop("global_step/max_steps")).strip("'\"").split("/")[0])
    if step is not None and math.isfinite(step):
        _flush(state)
        state.step = int(step)
        state.note_axis("logged")
        _emit(state, row, lineno, state.step)
        return True
    if text == state.last_dict:  # the same line printed by two ranks
        return True
    layout = tuple(row)
    seen = state.layouts[layout] = state.layouts.get(layout, 0) + 1
    if seen == FAST_AFTER and state.fast is None and not state.echo and _plan(state, row)[0] == "train":
        state.fast = (layout, _layout_pattern(layout))
    # LLaMA-Factory's callback logs the Trainer's dict through its logger just before the Trainer
    # prints it: the two lines are one logging event and share a step.
    same_event = state.prev_echo and not state.echo and row.get("epoch") == state.last_epoch
    if not same_event:
        _flush(state)
    state.pending.append((row, lineno))
    state.last_dict, state.last_epoch, state.prev_echo = text, row.get("epoch", ""), state.echo
    return True


def _plan(state: _State, row: dict[str, Any]) -> tuple[str, list[tuple[str, str, str]]]:
    """The row's kind and columns, resolved once per key layout (as trainer_state rows are)."""
    keys = tuple(row)
    plan = state.plans.get(keys)
    if plan is None:
        plan = state.plans[keys] = hf_state._plan(row)
    return plan


def _is_log_row(row: dict[str, Any]) -> bool:
    """A Trainer log row (train loss, eval results, end summary), not a printed config dict."""
    if {"loss", "eval_loss", "train_runtime"} & row.keys():
        return True
    return any(k.startswith("eval_") and k.endswith(("_runtime", "_loss")) for k in row)


def _emit(state: _State, row: dict[str, Any], lineno: int, step: int) -> None:
    kind, columns = _plan(state, row)
    for key, split, metric in columns:
        value = _value(row[key])
        if value is not None:
            state.builder.metric(step, split, metric, value, lineno, rank=state.rank)
    if kind == "summary":
        state.builder.event("run_end", "info", "end-of-training summary printed", step, lineno)
    elif kind == "train":
        state.last_train_step = step
    state.records += 1


def _flush(state: _State, bar_step: int | None = None) -> None:
    """Give the waiting dict records their step: the bar drawn after them, else the best guess."""
    if not state.pending:
        return
    is_train = any(_plan(state, row)[0] == "train" for row, _ in state.pending)
    if bar_step is not None and state.axis != "ordinal":
        step = bar_step
    elif state.axis == "progress_bar" and state.step is not None:
        step = state.step
        if is_train and state.last_train_step is not None and step <= state.last_train_step:
            step = state.last_train_step + 1  # no bar after the line (e.g. killed): the next step
            state.unbarred += 1  # twice or more: stdout was buffered apart from the bars on stderr
    else:
        state.counter += 1
        step = state.counter
        state.note_axis("ordinal")
    for row, lineno in state.pending:
        _emit(state, row, lineno, step)
    state.pending.clear()
    state.step = step if state.axis == "ordinal" else state.step


def _grammar_line(state: _State, grammar: LineGrammar, match: re.Match[str], text: str, lineno: int) -> None:
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    if grammar.step_mode == "epoch_counter":  # one record per epoch: headers set the counter
        state.epoch_counter += 1
        step = state.epoch_counter
        state.note_axis("ordinal")
    elif "step" in groups:
        step = int(groups["step"])
        if grammar.step_mode == "per_epoch" and "total" in groups and "epoch_index" in groups:
            step = (int(groups["epoch_index"]) - grammar.epoch_base) * int(groups["total"]) + step
        state.note_axis("logged")
    else:
        step = state.step if state.step is not None else state.counter + 1
    state.step = step
    state.frameworks[grammar.framework] = state.frameworks.get(grammar.framework, 0) + 1
    if "total" in groups and grammar.step_mode == "absolute":
        state.meta.setdefault("trainer_state", {}).setdefault("max_steps", int(groups["total"]))
    items = [(k, v) for k, v in groups.items() if k not in ("step", "total", "epoch_index")]
    if grammar.pairs is not None:
        items += [(m["key"].strip(), m["value"]) for m in grammar.pairs.finditer(text)]
    if grammar.vanishing:
        names = {grammar.keys.get(k) or canonical_metric(k): v for k, v in items}
        if grammar.vanishing in names:
            state.vanishing_seen.add(grammar.name)
        elif grammar.name in state.vanishing_seen and not (to_float(names.get("skipped_iterations", "0")) or 0) > 0:
            items.append((grammar.vanishing, "nan"))
            state.builder.event("warning", "warning", f"`{grammar.vanishing}` missing from a {grammar.framework} "
                                "record: the framework omits it when it is NaN", step, lineno)
    for key, raw in items:
        if key in grammar.ignore:
            continue
        value = to_float(raw)
        if value is None:
            continue
        split = grammar.split
        if grammar.eval_keys is not None and grammar.eval_keys.search(key):
            split, key = "eval", grammar.eval_keys.sub("", key)
        metric = grammar.keys.get(key) or canonical_metric(key)
        state.builder.metric(step, split, metric, value, lineno, rank=state.rank)
    state.records += 1


def _block_value(text: str) -> float | None:
    duration = _DURATION.match(text)
    if duration:
        days, h, m, s = duration.groups()
        return int(days or 0) * 86400 + int(h) * 3600 + int(m) * 60 + float(s)
    size = _SIZE.match(text)
    return to_float(size.group(1) if size else text)


def _traceback_line(state: _State, text: str, lineno: int) -> bool:
    tb = state.traceback
    if tb is None:
        return False
    frame = _FRAME.match(text)
    if frame:
        tb["frame"] = f"{frame['file']}:{frame['line']} in {frame['fn']}"
        return True
    if text.startswith((" ", "\t")) or not text.strip() or text.strip() == "^" * len(text.strip()):
        return True
    exc = _EXCEPTION.match(text.strip())
    if exc:
        frame_text = f" (last frame {tb['frame']})" if tb.get("frame") else ""
        state.builder.event("exception", "error", f"{exc['type']}: {exc['msg'] or ''}".rstrip(": ") + frame_text,
                            state.step, tb["line"])
    state.traceback = None
    return exc is not None


def _line(state: _State, text: str, lineno: int) -> None:
    rank = None
    while True:
        prefix = _PREFIX.match(text)
        if not prefix or not prefix.group(0):
            break
        rank = prefix["rank"] or prefix["srank"] or rank
        text = text[prefix.end():]
    state.rank = int(rank) if rank is not None else None
    logged = _ARROW.match(text)
    if logged:
        text = text[logged.end():]
    state.echo = bool(logged) and "{" in text
    if not text.strip():
        return
    if _traceback_line(state, text, lineno):
        _events_and_meta(state, text, lineno)  # e.g. "RuntimeError: DataLoader worker ... killed"
        return
    if _TRACEBACK.search(text):
        state.traceback = {"line": lineno}
        return
    if state.block_split:
        row = _BLOCK_ROW.match(text)
        if row:
            value = _block_value(row["value"])
            if value is not None and state.step is not None:
                state.builder.metric(state.step, "summary" if state.block_split == "train" else state.block_split,
                                     row["key"], value, lineno)
            return
        state.block_split = None
    head = _BLOCK_HEAD.search(text)
    if head:
        state.block_split = head["split"]
    if "{" in text and _dict_line(state, text, lineno):
        return
    header = _EPOCH_HEADER.match(text)
    if header:  # the next epoch_counter record is this epoch
        state.epoch_counter = int(header["keras"] or header["zero_based"]) - 1
    for grammar in state.grammars.metrics:
        if grammar.prefilter and grammar.prefilter not in text:
            continue
        match = grammar.match.search(text)
        if match and not (grammar.exclude and grammar.exclude.search(text)):
            _grammar_line(state, grammar, match, text, lineno)
            break
    _events_and_meta(state, text, lineno)


_GATES: dict[int, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _events_and_meta(state: _State, text: str, lineno: int) -> None:
    gates = _GATES.get(id(state.grammars))
    if gates is None:
        gates = _GATES[id(state.grammars)] = (state.grammars.event_gate(), state.grammars.meta_gate())
    if gates[0].search(text):
        for event in state.grammars.events:
            match = event.pattern.search(text)
            if match:
                groups = {k: v or "" for k, v in match.groupdict().items()}
                try:
                    message = event.message.format(**groups)
                except (KeyError, IndexError, ValueError):
                    message = event.message
                state.builder.event(event.kind, event.severity, message, state.step, lineno)
                if event.kind == "overflow_skip" and groups.get("scale") and state.step is not None:
                    scale = to_float(groups["scale"])
                    if scale is not None:
                        state.builder.metric(state.step, "train", "loss_scale", scale, lineno, rank=state.rank)
                break
    terminate = _TERMINATE.search(text)
    if terminate:
        state.builder.event("exception", "error", f"terminate: {terminate['type']}", state.step, lineno)
    if gates[1].search(text):
        for fact in state.grammars.meta:
            match = fact.pattern.search(text)
            if match:
                section = state.meta.setdefault(fact.section, {})
                for key, value in match.groupdict().items():
                    if value is not None and key not in section:
                        section[key] = _fact(value)


def _fact(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    number = to_float(text.replace(",", ""))
    if number is not None and re.fullmatch(r"[\d,]+", text):
        return int(number)
    return number if number is not None and not re.fullmatch(r"\d+\.\d+\.\d+.*", text) else text


def _fragment(state: _State, fragment: str, lineno: int) -> None:
    """One piece between line breaks: a progress bar, what follows it, or a plain line."""
    text = _ANSI.sub("", fragment) if "\x1b" in fragment else fragment
    if "%" in text and "/" in text:
        bar = _BAR.search(text)
        if bar:
            _bar(state, bar, text[:bar.start()], lineno)
            text = text[bar.end():]
    if text and not _BAR_ONLY.match(text):
        _line(state, text, lineno)


def _general(state: _State, text: str) -> None:
    """Every fragment of a text block, line by line."""
    pieces = _BREAK.split(text)
    for i in range(0, len(pieces), 2):
        if pieces[i]:
            _fragment(state, pieces[i][:MAX_LINE], state.lineno)
        if i + 1 < len(pieces) and pieces[i + 1] != "\r":
            state.lineno += 1


def _layout_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """A regex for one exact printed dict layout, capturing every value (quoted or not)."""
    value = r"""'?([^,'"{}\r\n]*)'?"""
    return re.compile(r"\{" + ", ".join(f"'{re.escape(k)}': {value}" for k in keys) + r"\}")


def _fast_block(state: _State, text: str) -> None:
    """A block of a long HF-style log through the layout regex: bulk values, bars read cheaply.

    Same semantics as the line path: a dict's step is the progress bar drawn right after it, the
    fallback when there is none is the same as _flush's, other text goes through _general.
    """
    assert state.fast is not None
    keys, pattern = state.fast
    width = len(keys) + 1
    parts = pattern.split(text)
    if len(parts) == 1:
        _general(state, text)
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
            _flush(state)
            rows.append(parts[i + 1:i + width])
            lines.append(state.lineno)
    if len(steps) < len(rows):  # the block ended on a dict: its bar is in the next block, if any
        steps.append(state.step + 1 if state.step is not None and state.step == state.last_train_step
                     else state.step or 0)
        state.last_train_step = steps[-1]
    _emit_bulk(state, keys, steps, lines, rows)


def _step_after(state: _State, chunk: str) -> int:
    """The step of a dict whose next chunk is not a lone bar: a bar at its head, else _flush's guess."""
    head = _LEADING_BAR.match(chunk)
    if head and int(head["total"]) >= state.bar_total:
        return int(head["n"])
    step = state.step if state.step is not None else 0
    if state.last_train_step is not None and step <= state.last_train_step:
        step = state.last_train_step + 1
        state.unbarred += 1
    return step


def _chunk(state: _State, chunk: str) -> None:
    """Text between two bulk-read dicts: bars only (cheap), or anything else line by line."""
    if not chunk:
        return
    if "=" not in chunk and _BARS_ONLY.fullmatch(chunk):
        last = _LAST_BAR.match(chunk)
        if last and int(last["total"]) >= state.bar_total:
            state.bar_total, state.step = int(last["total"]), int(last["n"])
        state.lineno += chunk.count("\n")
    else:
        _general(state, chunk)


def _emit_bulk(state: _State, keys: tuple[str, ...], steps: list[int], lines: list[int],
               rows: list[list[str]]) -> None:
    _, columns = _plan(state, dict.fromkeys(keys))
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
            values = np.asarray([np.nan if (v := _value(x)) is None else v for x in raw], dtype=np.float64)
        state.builder.extend(step_array, split, metric, values, line_array)
    state.records += len(rows)
    state.frameworks["transformers"] = state.frameworks.get("transformers", 0) + len(rows)
    state.note_axis("progress_bar" if state.axis != "ordinal" else "ordinal")


def parse(path: Path, source: str, extra: Grammars | None = None) -> Frames:
    """Metrics, events and environment facts from one console capture."""
    state = _State(builder=FrameBuilder(source, producer=name), grammars=extra or grammars())
    try:
        if path.stat().st_size == 0:
            raise InputError(source, "file is empty")
        for text in blocks(path):
            if state.fast is not None and state.axis == "progress_bar":
                _fast_block(state, text)
            else:
                _general(state, text)
        _flush(state)
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    lines = state.lineno
    meta: dict[str, Any] = dict(state.meta)
    if state.frameworks:
        meta["framework"] = max(state.frameworks, key=lambda k: state.frameworks[k])
    axis = state.axis or "none"
    if axis == "progress_bar" and state.unbarred > 1:
        axis = "guessed"  # dict lines printed apart from their bars: their steps are not reliable
    meta["console_log"] = {source: {"lines": lines, "records": state.records, "step_axis": axis}}
    return state.builder.frames(meta)
