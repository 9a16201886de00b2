"""Metric records of console logs: printed Trainer dicts and progress bars, and the steps they get."""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from analyzer.ingest import hf_state
from analyzer.ingest.base import to_float
from analyzer.ingest.console.generic import JSON_RECORD_IDS, field_name, rounded_zero, unwrap_numbers
from analyzer.ingest.console.state import State
from analyzer.ingest.grammars import NUM

BAR = re.compile(
    r"(?P<pct>\d{1,3})%(?:\|[^|\r\n]*\||\s)\s*(?P<n>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<info>[^\]\[]*?(?:[A-Za-z]+/s|s/[A-Za-z]+)\b(?P<post>,[^\]\[]*)?)\]?"  # a whole unit: `s/step`
)
# `loss=0.52`, `step_loss=nan`, and a key with a qualifier in parentheses (`loss (batch)=0.0278`).
# A non-finite value may carry a decimal part (`train_loss_step=nan.0`).
# tqdm's `set_postfix` keys may hold spaces (`Loss=0.0446, Depth Loss=0.0000`): a key is every word before `=`.
_POSTFIX = re.compile(
    rf"(?P<key>[A-Za-z_][\w/]*(?: [A-Za-z_][\w/]*)*(?: \([\w ]+\))?)=(?P<value>{NUM})(?:\.0)?(?=[,\s\]]|$)"
)
_TORCHTUNE_DESC = re.compile(rf"(?:(?P<epoch>\d+)\|(?P<step>\d+))?\|Loss: (?P<loss>{NUM})")
_LIGHTNING_DESC = re.compile(r"Epoch (?P<epoch>\d+)(?!\d|\s*/)")  # Lightning's `Epoch 3:`, not `Epoch 38/65, Steps:`
_DIGIT = re.compile(r"\d")
_DICT_PAIR = re.compile(r"""['"](?P<key>[^'"]+)['"]:\s*(?P<value>'[^']*'|"[^"]*"|tensor\([^)]*\)|[^,}]+)""")
_TENSOR = re.compile(rf"tensor\(\s*({NUM})")
FAST_AFTER = 20  # a dict layout printed this many times is read in bulk from then on


def value_of(text: str) -> float | None:
    try:
        return float(text)  # the common case: a bare number
    except ValueError:
        pass
    text = text.strip().strip("'\"")
    tensor = _TENSOR.match(text)
    if tensor:
        text = tensor.group(1)
    return to_float(text)


# A bar whose description names an evaluation pass: testing, validating, evaluating, (valid), a sanity check.
_EVAL_BAR = re.compile(
    r"(?i)\b(?:test(?:ing)?|valid(?:ate|ation|ating)?|val|eval(?:uat\w*)?|sanity check|predict\w*)\b"
)
# A bar whose description names set-up work (datasets' `Map`, `Loading checkpoint shards`, `Downloading`,
# `Generating train split`, `Running tokenizer`): what it counts is no training step.
_SETUP_BAR = re.compile(
    r"(?i)\b(?:load|download|map|tokeniz|generating \w+ split|filter|preprocess|extract|resolv|fetch|convert|"
    r"cach|shuffl|uploading|saving|writing)\w*"
)


def read_bar(state: State, match: re.Match[str], desc: str, lineno: int) -> bool:
    """Read one progress bar; True when its description was read too (Lightning's epoch, torchtune's
    step and loss), False when the description is left for the line readers (a YOLO row glued to it)."""
    n, total = int(match["n"]), int(match["total"])
    lightning = _LIGHTNING_DESC.search(desc)
    tune = _TORCHTUNE_DESC.search(desc)
    if not lightning and not tune and _SETUP_BAR.search(desc):
        return True  # `Loading checkpoint shards: 33/33`, `Map: 1000/1000`: set-up work, not the run's steps
    if _EVAL_BAR.search(desc):  # `testing minibatch loop: 9/9 [.., cost=14.1]`, Catalyst's `Epoch (valid):`,
        # Lightning's `Validation sanity check:`: its counter is no train step, its values are the eval split's
        if n and state.step is not None:
            for key, raw in _POSTFIX.findall(match["post"] or ""):
                value = to_float(raw)
                split, metric = field_name(key)
                if value is not None and key != "v_num":
                    state.builder.metric(state.step, "eval" if split == "train" else split, metric, value, lineno)
        return not _DIGIT.search(desc)  # `Valid Epoch: 16 Loss: nan: 100%|..`: the description is a row of its own
    step = int(lightning["epoch"]) * total + n if lightning else n
    if tune and tune["step"]:
        step = int(tune["step"])
    metrics = [(m["key"], m["value"]) for m in _POSTFIX.finditer(match["post"] or "")]
    printed = next((to_float(v) for k, v in metrics if k in ("step", "global_step")), None)
    said = printed is not None and math.isfinite(printed)
    if printed is not None and said:  # `..., loss=0.656, step=8569]`: the bar says its step, also the step of
        step = int(printed)  # the records waiting for this bar
        metrics = [(k, v) for k, v in metrics if k not in ("step", "global_step")]
    elif (
        not lightning and not (tune and tune["step"]) and total >= state.bar_total and (metrics or _DIGIT.search(desc))
    ):
        # A bar per epoch that shows the loop's values: a new bar of the same length after one that ran to its
        # end counts on from it, so that epoch 82's batches come after epoch 81's, not onto them; so does a
        # finished bar shown again with other values (each epoch's bar saved once, at 100%, as a notebook keeps
        # it), while the same finished bar drawn twice (tqdm's refresh on close) is one. (A bar with nothing of
        # its own, a Trainer's, may be an evaluation's of the same length after the last step.)
        last = state.bar_last.get(state.rank)
        post = match["post"] or ""
        if last is not None and last == (total, total) and (n < total or post != state.bar_post.get(state.rank)):
            state.bar_offset[state.rank] = state.bar_offset.get(state.rank, 0) + total
        state.bar_last[state.rank] = (n, total)
        state.bar_post[state.rank] = post
        step += state.bar_offset.get(state.rank, 0)
    if n == 0:  # nothing of this bar has run yet: its postfix still shows the values before it (a redraw)
        metrics = []
    if total >= state.bar_total or lightning:
        state.bar_total = max(state.bar_total, total)
        if state.axis != "ordinal":
            state.step = step
            state.note_axis("progress_bar")
        flush(state, step)
    elif said and state.axis != "ordinal":
        state.step = step
    if tune:
        metrics.append(("loss", tune["loss"]))
    for key, raw in metrics:
        value = to_float(raw)
        if value is not None and key != "v_num":
            split, metric = ("train", "loss") if key in ("step_loss", "train_loss", "loss_step") else field_name(key)
            state.builder.metric(step, split, metric, value, lineno, rank=state.rank)
            state.records += 1
    # `Epoch 1, Step 0, Loss: 0.97:` says more than Lightning's `Epoch 3:`: the line readers read it.
    more = lightning is not None and bool(re.search(r"\d", desc[: lightning.start()] + desc[lightning.end() :]))
    return bool((lightning and not more) or tune)


_NEXT_DICT = re.compile(r"\}\s*(?=\{\s*['\"])")  # `{...} {'loss': ...}`: a dict that starts where one ends


def read_dict_lines(state: State, text: str, lineno: int) -> bool:
    """The printed metrics dicts of a line: one, or several a paste joined onto one line (its line breaks
    lost), each its own record, in order."""
    cuts = [m.end() for m in _NEXT_DICT.finditer(text)]
    if not cuts:
        return read_dict_line(state, text, lineno)
    read = [read_dict_line(state, text[a:b], lineno) for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return any(read)


_GLOBAL_STEP_KEYS = ("step", "global_step", "num_updates")  # a dict's own global step, by its key


def read_dict_line(state: State, text: str, lineno: int) -> bool:
    """A printed metrics dict. Without a `step` key its step is only known from the progress bar
    that tqdm.write redraws right after the line, so the record waits for that bar (see flush)."""
    start = text.find("{")
    if start < 0 or (text.find("'", start, start + 3) < 0 and text.find('"', start, start + 3) < 0):
        return False
    text = unwrap_numbers(text)  # `'total_loss': array(13.2169, dtype=float32)`
    row: dict[str, Any] = {}
    for pair in _DICT_PAIR.finditer(text, start):
        row[pair["key"]] = pair["value"]
    if not _is_log_row(row):
        return False
    state.frameworks["transformers"] = state.frameworks.get("transformers", 0) + 1
    step: float | None = None
    counter = next((k for k in _GLOBAL_STEP_KEYS if k in row), None)
    if counter is not None:  # fairseq's json log format: `"num_updates": "200"` beside a fractional `update`
        step = value_of(row.pop(counter))
    elif "global_step/max_steps" in row:  # ms-swift: '12/176'
        step = to_float(str(row.pop("global_step/max_steps")).strip("'\"").split("/")[0])
    if step is not None and math.isfinite(step):
        flush(state)
        state.step = int(step)
        state.note_axis("logged")
        _emit(state, row, lineno, state.step, state.rank)
        return True
    if text == state.last_dict and state.pending and state.axis not in ("", "ordinal"):
        return True  # the same line printed by two ranks, with no bar drawn in between
    # With no bar at all (ordinal records), an identical line is the next record: a frozen run prints the
    # same `{'loss': 0.0, 'learning_rate': ..., 'epoch': 0.01}` at every logging step.
    layout = tuple(row)
    seen = state.layouts[layout] = state.layouts.get(layout, 0) + 1
    if seen == FAST_AFTER and state.fast is None and not state.echo and hf_state.layout_plan(tuple(row))[0] == "train":
        state.fast = (layout, layout_pattern(layout))
    # LLaMA-Factory's callback logs the Trainer's dict through its logger just before the Trainer
    # prints it: the two lines are one logging event and share a step.
    same_event = state.prev_echo and not state.echo and row.get("epoch") == state.last_epoch
    if not same_event:
        flush(state)
    state.pending.append((row, lineno, state.rank))
    state.last_dict, state.last_epoch, state.prev_echo = text, row.get("epoch", ""), state.echo
    return True


def layout_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """A regex for one exact printed dict layout, capturing every value (quoted or not)."""
    value = r"""'?([^,'"{}\r\n]*)'?"""
    return re.compile(r"\{" + ", ".join(f"'{re.escape(k)}': {value}" for k in keys) + r"\}")


def _is_log_row(row: dict[str, Any]) -> bool:
    """A Trainer log row (train loss, eval results, end summary), not a printed config dict. A record that
    names its split in a field (`"mode": "train"`, OpenMMLab's json log, counted by `epoch` and `iter`) is no
    Trainer's: the generic reader reads its counters and split."""
    if "mode" in row:
        return False
    if {"loss", "eval_loss", "train_runtime"} & row.keys():
        return True
    # `trainer.evaluate(metric_key_prefix="test")` logs its set's results under that prefix, timed (`test_runtime`); a
    # loop's own JSON line with `train_loss` and `test_loss` (MAE's log.txt) is read by the generic reader
    return any(
        (k.startswith("eval_") and k.endswith(("_runtime", "_loss")))
        or (k.startswith(("test_", "predict_")) and k.endswith("_runtime"))
        for k in row
    )


@functools.lru_cache(maxsize=4096)
def _record_plan(keys: tuple[str, ...]) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """hf_state.layout_plan for a dict record of the console, less the keys that say who printed it and from
    where (a JSON log record's source line, process, thread: no metric); worked out once per layout."""
    kind, columns = hf_state.layout_plan(keys)
    return kind, tuple(column for column in columns if column[0].lower() not in JSON_RECORD_IDS)


def _emit(state: State, row: dict[str, Any], lineno: int, step: int, rank: int | None) -> None:
    """One dict record's metrics at `step`, printed by `rank`."""
    kind, columns = _record_plan(tuple(row))
    for key, split, metric in columns:
        value = value_of(row[key])
        if value is not None:
            rounded = rounded_zero(str(row[key])) if value == 0 else 0.0
            state.builder.metric(step, split, metric, value, lineno, rank=rank, rounded=rounded)
    if kind != "train" and "epoch" in row:  # not a metric of these rows, but it places them (epochs.py)
        epoch = value_of(row["epoch"])
        if epoch is not None:
            state.epoch_lines[lineno] = epoch
    if kind == "summary":
        state.builder.event("run_end", "info", "end-of-training summary printed", step, lineno)
    elif kind == "train":
        state.last_train_step = step
    state.records += 1


def next_train_step(state: State) -> tuple[int, bool]:
    """The step of a train dict with no bar drawn after it: the current bar's, or the next step when
    that bar was already used by the previous train dict (stale). Returns (step, stale)."""
    step = state.step if state.step is not None else 0
    if state.last_train_step is not None and step <= state.last_train_step:
        return state.last_train_step + 1, True
    return step, False


def flush(state: State, bar_step: int | None = None) -> None:
    """Give the waiting dict records their step: the bar drawn after them, else the best guess."""
    if not state.pending:
        return
    is_train = any(hf_state.layout_plan(tuple(row))[0] == "train" for row, _, _ in state.pending)
    ranks = {rank for _, _, rank in state.pending if rank is not None}
    per_rank: dict[int, int] = {}  # the step of each rank's record, on an ordinal axis counted per rank
    if bar_step is not None and state.axis != "ordinal":
        step = bar_step
    elif state.axis == "progress_bar" and state.step is not None:
        step, stale = next_train_step(state) if is_train else (state.step, False)
        if stale:
            state.unbarred += 1  # twice or more: stdout was buffered apart from the bars on stderr
    elif ranks:  # ranks that print the same records each count their own (`22.1.171.4: {'loss': ..}`)
        for r in ranks:
            state.rank_counters[r] = per_rank[r] = state.rank_counters.get(r, 0) + 1
        step = state.counter = max(state.counter, *per_rank.values())
        state.note_axis("ordinal")
    else:
        state.counter += 1
        step = state.counter
        state.note_axis("ordinal")
    for row, lineno, rank in state.pending:
        _emit(state, row, lineno, step if rank is None else per_rank.get(rank, step), rank)
    state.pending.clear()
    state.step = step if state.axis == "ordinal" else state.step
