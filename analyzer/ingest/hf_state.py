"""Hugging Face Trainer `trainer_state.json` (and its `checkpoint-N/` copies)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.errors import InputError, Problem
from analyzer.ingest.base import FrameBuilder, Result, Superseded, load_json, read_text, to_float
from analyzer.model import Frames
from analyzer.names import canonical_metric, infer_trainer_kind

name = "hf_trainer_state"

_CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
_ROW_START = re.compile(r"^[ \t]*\{[ \t]*\r?$", re.MULTILINE)
_SETTINGS = (
    "global_step",
    "max_steps",
    "num_train_epochs",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "train_batch_size",
    "epoch",
    "best_metric",
    "best_model_checkpoint",
    "best_global_step",
    "total_flos",
    "num_input_tokens_seen",
    "is_hyper_param_search",
)


def sniff(path: Path, head: bytes) -> bool:
    """A JSON object that names `log_history`, or Trainer state keys near its top."""
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    return b'"log_history"' in text or (b'"global_step"' in text and b'"is_world_process_zero"' in text)


@dataclass
class State:
    """A loaded trainer_state.json and where it lives."""

    path: Path
    source: str
    doc: dict[str, Any]
    text: str

    @property
    def global_step(self) -> int:
        value = to_float(self.doc.get("global_step"))
        return int(value) if value is not None and value == value else 0

    @property
    def in_checkpoint(self) -> bool:
        return bool(_CHECKPOINT_DIR.match(self.path.parent.name))

    @property
    def root(self) -> Path:
        """The Trainer's output_dir: a checkpoint copy belongs to its parent folder."""
        return self.path.parent.parent if self.in_checkpoint else self.path.parent

    def rank_key(self) -> tuple[int, int, int]:
        """Newest, most complete history first: more steps, more rows, the top-level copy."""
        return (self.global_step, len(self.doc["log_history"]), 0 if self.in_checkpoint else 1)


def load(path: Path, source: str) -> State:
    """Read and check one trainer_state.json; InputError says where it breaks."""
    text = read_text(path, source)
    doc = load_json(text, source)
    if not isinstance(doc, dict):
        raise InputError(source, f"not a Trainer state: top level is a JSON {type(doc).__name__}")
    history = doc.get("log_history")
    if not isinstance(history, list):
        raise InputError(source, "not a Hugging Face trainer_state.json: no `log_history` list")
    return State(path=path, source=source, doc=doc, text=text)


def choose(states: list[State]) -> tuple[State, list[tuple[State, str]]]:
    """Pick the one history to analyze; the others are superseded copies or other runs.

    Every checkpoint copy holds the full history up to its step, so the newest copy of a
    run's output_dir contains all the others: reading more than one would double count.
    """
    best = max(states, key=lambda s: (s.rank_key(), s.source))
    others: list[tuple[State, str]] = []
    for s in states:
        if s is best:
            continue
        if s.root == best.root:
            others.append((s, f"superseded by {best.source} (history to step {best.global_step})"))
        else:
            others.append(
                (s, f"another training history (to step {s.global_step}) not analyzed: run analyze on {s.root} for it")
            )
    return best, others


def _row_lines(state: State) -> list[int] | None:
    """1-based line of each log_history row in the file, when the file is laid out as the Trainer writes it."""
    start = state.text.find('"log_history"')
    n = len(state.doc["log_history"])
    if start < 0 or n == 0:
        return None
    lines: list[int] = []
    line, pos = state.text.count("\n", 0, start) + 1, start
    for match in _ROW_START.finditer(state.text, start):
        line += state.text.count("\n", pos, match.start())
        pos = match.start()
        lines.append(line)
        if len(lines) == n:
            break
    return lines if len(lines) == n else None


def _eval_prefix(row: dict[str, Any]) -> str:
    """`eval_` or, with several eval sets, `eval_<name>_`, from the row's runtime or loss key."""
    for key in row:
        if key.startswith("eval_") and key.endswith("_runtime"):
            return key[: -len("runtime")]
    if "eval_loss" in row:
        return "eval_"
    for key in row:
        if key.startswith("eval_") and key.endswith("_loss"):
            return key[: -len("loss")]
    return "eval_"


def classify(row: dict[str, Any]) -> str:
    """train | eval | summary | predict | test, from the keys a log_history row carries."""
    if "train_runtime" in row:
        return "summary"
    for prefix in ("eval", "predict", "test"):
        if any(k.startswith(prefix + "_") for k in row):
            return prefix
    return "train"


@functools.lru_cache(maxsize=4096)
def layout_plan(keys: tuple[str, ...]) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """For a row with these keys (logs repeat a handful of layouts, so this is cached): its kind and,
    for each key, the (key, split, canonical metric) it lands in."""
    row = dict.fromkeys(keys)
    kind = classify(row)
    prefix = _eval_prefix(row) if kind == "eval" else kind + "_"
    split = prefix[:-1] if kind in ("eval", "predict", "test") else kind
    columns = []
    for key in row:
        if key == "step" or (key == "epoch" and kind != "train"):
            continue
        where = split
        if kind in ("eval", "predict", "test"):
            if key.startswith(prefix):
                metric = canonical_metric(key[len(prefix) :])
            else:  # a script that merged its train log into the eval row (transformers 2.x's run_glue prints
                # `{"eval_acc": .., "learning_rate": .., "loss": .., "step": 100}`): the unprefixed keys are training's
                where, metric = "train", canonical_metric(key)
        elif kind == "summary":
            metric = key
        # a loop's own JSON row `{"step": 100, "loss": .., "valid_loss": ..}`: the held-out split's value
        elif held_out := _HELD_OUT_KEY.match(key):
            where, metric = "eval", canonical_metric(held_out["rest"])
        else:
            metric = canonical_metric(key)
        columns.append((key, where, metric))
    return kind, tuple(columns)


# A key of a train row that names a held-out split (`val_loss`, `valid_loss`, `dev_acc`): that split's value.
_HELD_OUT_KEY = re.compile(r"(?:val|valid|validation|dev)_(?P<rest>\w+)")


def to_frames(state: State) -> Frames:
    """Long metrics of every log_history row, plus the state's settings as meta."""
    rows_lines = _row_lines(state)
    builder = FrameBuilder(state.source, producer=name)
    problems: list[Problem] = []
    train_keys: set[str] = set()
    has_summary = False
    last_step: int | None = None
    stepless: list[int] = []
    for i, row in enumerate(state.doc["log_history"]):
        where = f"log_history[{i}]"
        if not isinstance(row, dict):
            problems.append(Problem(state.source, "row is not a JSON object; skipped", where))
            continue
        step_value = to_float(row.get("step"))
        if step_value is None or step_value != step_value:
            if last_step is None:
                problems.append(Problem(state.source, "row has no `step` and no row before it; skipped", where))
                continue
            stepless.append(i)  # e.g. predict rows logged by a callback without a step
            step_value = last_step
        if abs(step_value) > 2**62:
            problems.append(Problem(state.source, f"step {step_value:g} is out of range; row skipped", where))
            continue
        step = last_step = int(step_value)
        line = rows_lines[i] if rows_lines else i + 1
        keys = tuple(row)
        kind, columns = layout_plan(keys)
        has_summary |= kind == "summary"
        if kind == "train":
            train_keys.update(keys)
        for key, split, metric in columns:
            raw = row[key]
            value = raw if type(raw) is float else to_float(raw)
            if value is not None:  # null (TRL's "no valid values"), strings, nested objects are skipped
                builder.metric(step, split, metric, value, line)
    if stepless:
        problems.append(
            Problem(
                state.source,
                f"{len(stepless)} row(s) without `step` placed at the step of the row before them",
                f"log_history[{stepless[0]}]",
                level="note",
            )
        )
    settings = {k: state.doc[k] for k in _SETTINGS if k in state.doc}
    settings["has_summary_row"] = has_summary
    settings["rows"] = len(state.doc["log_history"])
    meta: dict[str, Any] = {"trainer_state": settings, "framework": "transformers"}
    if train_keys:
        meta["trainer_kind"] = infer_trainer_kind(train_keys)
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    if not rows_lines and state.doc["log_history"]:
        frames.meta["line_numbers"] = {state.source: "record"}
    return frames


def parse(path: Path, source: str) -> Frames:
    """Read one trainer_state.json on its own."""
    return to_frames(load(path, source))


def parse_group(files: list[tuple[Path, str]]) -> list[tuple[str, Result]]:
    """Every trainer_state.json under the run: the newest complete history is read, the other copies
    are superseded (quietly: a checkpoint copy is part of it) and other runs' histories are named."""
    states: list[State] = []
    out: list[tuple[str, Result]] = []
    for path, source in files:
        try:
            states.append(load(path, source))
        except InputError as exc:
            out.append((source, exc))
    if states:
        chosen, others = choose(states)
        out.append((chosen.source, to_frames(chosen)))
        out += [(state.source, Superseded(why, quiet=state.root == chosen.root)) for state, why in others]
    return out
