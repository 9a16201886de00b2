"""Weights & Biases runs: the `run-<id>.wandb` log of a run folder with its `files/`, or the W&B API.

The `.wandb` file is read directly (FORMATS.md §4.2): a 7-byte `:W&B` header, then a LevelDB-style log of
32 KiB blocks whose chunks (FULL, or FIRST MIDDLE* LAST) carry a CRC-32 of their type byte and data; each
record is a protobuf `wandb_internal.Record`, decoded with the classes the wandb package ships.

Policies:
- Step: the trainer's own step metric when the run has one (the `step_metric` of its `define_metric`
  records, else `train/global_step` or `trainer/global_step` in the rows), else W&B's `_step` counter. A
  row without the step metric takes the last value seen (what W&B's `step_sync` does).
- `line` is the record's number in the file (`Record.num`, 1-based, as `wandb leet inspect` shows it).
- System stats go to split `system` (GPU memory and utilisation, host memory) with their own wall
  time and the last history step logged at or before it (0 before the first row).
- Summary: keys the history never logged (HF's train_runtime, train_loss, total_flos) go to split
  `summary` at the last step; the whole summary is in meta['wandb']['summary'].
- Config: meta['wandb']['config']; the HF integration's config (every TrainingArguments field plus the
  model config) also fills meta['training_args'] and meta['model'], which normalize.derive_meta reads.
- Console: the `output_raw` records (else the older `output` ones) are joined and read by the console
  reader; its events get the record's number and time, and the last history step logged at or before
  that time (the console's own step before the first row). `files/output.log` is the same text, so it
  is read only when the log has no console records. Printed metric dicts are kept only when the run
  logged no history (otherwise they are rounded copies of it).
- End: an exit record with code 0 is a `run_end` event, another code an `exception` event; no exit
  record at all is a `signal` event (the process died before `wandb.finish`). meta['wandb'] keeps
  `exit_code` (None without a record) and `exit_record`.
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import math
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from analyzer.errors import InputError, Problem
from analyzer.ingest import console
from analyzer.ingest.base import (
    FrameBuilder,
    Result,
    Superseded,
    first_wall_time,
    load_json,
    newest_run_only,
    read_text,
)
from analyzer.ingest.configs import MODEL_KEYS
from analyzer.ingest.settings import deep_merge
from analyzer.ingest.training_args import TRAINING_ARG_KEYS
from analyzer.model import Frames
from analyzer.names import infer_trainer_kind, split_and_metric

if TYPE_CHECKING:
    from analyzer.ingest import Ingested

name = "wandb"

MAGIC = b":W&B"
_HEADER = struct.Struct("<4sHB")  # magic, 0xBEE1, format version 0
_CHUNK = struct.Struct("<IHB")  # CRC-32 (IEEE, unmasked) of type byte + data, data length, type
BLOCK = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_RUN_DIR = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-[A-Za-z0-9]+$")
_SIDECARS = {"output.log", "wandb-summary.json", "config.yaml", "wandb-metadata.json", "requirements.txt",
             "conda-environment.yaml", "diff.patch", "wandb-job.json"}
_TRAINER_STEPS = ("train/global_step", "trainer/global_step", "global_step")
_NONFINITE = {"NaN": math.nan, "nan": math.nan, "Infinity": math.inf, "inf": math.inf, "-Infinity": -math.inf,
              "-inf": -math.inf}
# System stats kept: GPU memory in use (% and bytes) and utilisation (`gpu.N.gpu`; `gpu.N.memory` is the memory
# controller's busy %, not an amount, so it is left out), host memory and CPU.
_STATS = re.compile(r"^(?:gpu\.(?:process\.)?\d+\.(?:memoryAllocated|memoryAllocatedBytes|gpu)|memory_percent|memory|"
                    r"cpu|proc\.memory\.rssMB)$")
_BLANK_FRAGMENT = re.compile(r"(?<![^\r\n])[ \t]+(?![^\r\n])")
_PACKAGES = re.compile(r"^(torch|transformers|peft|deepspeed|trl|accelerate|wandb|flash[-_]attn|vllm|"
                       r"bitsandbytes|lightning|pytorch[-_]lightning)==(\S+)\s*$", re.MULTILINE)


class WandbFetchError(Exception):
    """The W&B API could not be reached or refused the request (network, login, unknown run)."""


def run_folder(path: Path) -> Path | None:
    """The `run-*` / `offline-run-*` folder a file belongs to (its own folder, or files/ and logs/ in it)."""
    if _RUN_DIR.match(path.parent.name):
        return path.parent
    if path.parent.name in ("files", "logs") and _RUN_DIR.match(path.parent.parent.name):
        return path.parent.parent
    return None


def sniff(path: Path, head: bytes) -> bool:
    """The `:W&B` log (or an empty `.wandb`), the files W&B writes into a run folder, a wandb-summary.json."""
    if head.startswith(MAGIC) or path.suffix == ".wandb":
        return True
    folder = run_folder(path)
    if folder is not None and folder != path.parent:
        return path.parent.name == "logs" or path.name in _SIDECARS
    if path.parent.name == "wandb" and path.name.startswith("debug") and path.suffix == ".log":
        return True  # W&B's own logs (links to the newest run's logs/)
    return path.name == "wandb-summary.json" and head.lstrip().startswith(b"{")


# --- framing ------------------------------------------------------------------------------------------


def read_records(data: bytes, source: str) -> tuple[list[tuple[int, bytes]], list[Problem]]:
    """(byte offset, payload) of every record whose chunks are whole and pass their CRC, and the problems.

    A bad chunk is skipped with the record it belongs to; a chunk header that cannot be right skips
    the rest of its block; the file may end anywhere (a killed run): what came before is kept.
    """
    if not data:
        raise InputError(source, "file is empty")
    if len(data) < _HEADER.size or not data.startswith(MAGIC):
        raise InputError(source, "not a W&B transaction log (no `:W&B` header)", "byte 0")
    _, ident, version = _HEADER.unpack_from(data)
    if ident != 0xBEE1 or version != 0:
        raise InputError(source, f"unknown .wandb header (id {ident:#06x}, version {version})", "byte 4")
    records: list[tuple[int, bytes]] = []
    problems: list[Problem] = []
    parts: list[bytes] = []
    start, dropping, pos, size = -1, False, _HEADER.size, len(data)
    while pos < size:
        room = BLOCK - pos % BLOCK
        if room < _CHUNK.size or data[pos:pos + _CHUNK.size] == bytes(_CHUNK.size):
            pos += room  # a block's zero trailer, or zero fill after the last chunk
            continue
        if pos + _CHUNK.size > size:
            problems.append(Problem(source, "file ends inside a chunk header (truncated)", f"byte {pos}"))
            break
        crc, length, kind = _CHUNK.unpack_from(data, pos)
        end = pos + _CHUNK.size + length
        if length > room - _CHUNK.size or kind not in (FULL, FIRST, MIDDLE, LAST):
            problems.append(Problem(source, f"corrupt chunk header (type {kind}, length {length}); the rest of "
                                            "its 32 KiB block is skipped", f"byte {pos}"))
            parts, dropping, pos = [], True, pos + room
            continue
        if end > size:
            problems.append(Problem(source, f"file ends inside a record (truncated at byte {size}: the run was "
                                            "killed or the copy is incomplete)", f"byte {start if parts else pos}"))
            parts = []
            break
        payload = data[pos + _CHUNK.size:end]
        if zlib.crc32(payload, zlib.crc32(bytes((kind,)))) != crc:
            problems.append(Problem(source, "chunk fails its CRC-32 check; its record is skipped", f"byte {pos}"))
            parts, dropping, pos = [], True, end
            continue
        if kind in (FULL, FIRST):
            if parts:
                problems.append(Problem(source, "record cut off (its last chunk is missing); skipped", f"byte {start}"))
            dropping, parts, start = False, [payload], pos
            if kind == FULL:
                records.append((pos, payload))
                parts = []
        elif not parts:
            if not dropping:
                problems.append(Problem(source, "chunk continues a record whose start is missing; skipped",
                                        f"byte {pos}"))
            dropping = kind == MIDDLE
        else:
            parts.append(payload)
            if kind == LAST:
                records.append((start, b"".join(parts)))
                parts = []
        pos = end
    if parts:
        problems.append(Problem(source, f"the last record is cut off at byte {size} (truncated file)", f"byte {start}"))
    return records, problems


# --- records ------------------------------------------------------------------------------------------


@dataclass
class _Output:
    line: int
    time: float
    text: str


@dataclass
class _Log:
    """What the records of one `.wandb` file hold, in file order."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    summary_lines: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, list[_Output]] = field(default_factory=lambda: {"output_raw": [], "output": []})
    stats: list[tuple[int, float, dict[str, Any]]] = field(default_factory=list)
    step_defs: list[tuple[str, str]] = field(default_factory=list)  # (metric name or glob, step metric)
    exit: tuple[int, int, float] | None = None  # (line, exit code, runtime s)
    info: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    preempting: int | None = None
    last_line: int = 0
    last_time: float = math.nan


def _seconds(message: Any) -> float:
    """A protobuf Timestamp as epoch seconds."""
    return float(message.seconds) + message.nanos / 1e9


def _latest(old: float, new: Any) -> float:
    """The later of two times, NaN meaning unknown."""
    if not isinstance(new, float) or math.isnan(new):
        return old
    return new if math.isnan(old) or new > old else old


def _value(text: str) -> Any:
    """A `value_json`: numbers (NaN, Infinity included) on the fast path, anything else through json."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _flatten(key: str, value: Any, out: dict[str, Any]) -> None:
    """Numbers as float (bools too, NaN/Infinity strings as numbers), strings kept, nested dicts as `a.b`;
    media and tables (dicts with `_type`), lists and nulls dropped."""
    if isinstance(value, (bool, int, float)):
        out[key] = float(value)
    elif isinstance(value, str):
        out[key] = _NONFINITE.get(value, value)
    elif isinstance(value, dict) and "_type" not in value:
        for sub, item in value.items():
            _flatten(f"{key}.{sub}", item, out)


def _items(items: Any) -> dict[str, Any]:
    """History, summary, config or stats items as a flat dict (key, or nested keys joined with `.`)."""
    out: dict[str, Any] = {}
    for item in items:
        _flatten(item.key or ".".join(item.nested_key), _value(item.value_json), out)
    return out


def _config_items(items: Any, into: dict[str, Any]) -> None:
    """Config updates keep their JSON values as they are (ints, lists, dicts): settings, not series."""
    for item in items:
        key = item.key or ".".join(item.nested_key)
        if key != "_wandb":
            try:
                into[key] = json.loads(item.value_json)
            except (ValueError, RecursionError):
                into[key] = item.value_json


def _telemetry(message: Any, log: _Log) -> None:
    for field_name, key in (("python_version", "python"), ("cli_version", "wandb"),
                            ("huggingface_version", "transformers")):
        if getattr(message, field_name, ""):
            log.versions.setdefault(key, getattr(message, field_name))


def _environment(env: Any, log: _Log) -> None:
    """Facts of the machine and command (never the user name, e-mail or host)."""
    info = log.info
    for field_name in ("os", "python", "program", "cuda_version", "gpu_type"):
        if getattr(env, field_name, ""):
            info[field_name] = getattr(env, field_name)
    if env.args:
        info["args"] = list(env.args)
    if env.gpu_count:
        info["gpu_count"] = env.gpu_count
    names = [gpu.name for gpu in env.gpu_nvidia if gpu.name]
    if names:
        info["gpus"] = names


def _run(run: Any, log: _Log) -> None:
    _config_items(run.config.update, log.config)
    for field_name in ("run_id", "project", "entity", "display_name", "run_group", "job_type"):
        if getattr(run, field_name, ""):
            log.info[field_name] = getattr(run, field_name)
    if run.HasField("start_time"):
        log.info["started_at"] = _seconds(run.start_time)
    if run.resumed:
        log.info["resumed"] = True
    if run.HasField("telemetry"):
        _telemetry(run.telemetry, log)


def _one(record: Any, line: int, log: _Log) -> None:
    """Fold one decoded Record into the log."""
    kind = record.WhichOneof("record_type")
    if kind == "history":
        log.rows.append((line, _items(record.history.item)))
    elif kind == "summary":
        for key, value in _items(record.summary.update).items():
            log.summary[key] = value
            log.summary_lines[key] = line
        for item in record.summary.remove:
            log.summary.pop(item.key or ".".join(item.nested_key), None)
    elif kind in ("output_raw", "output"):
        out = getattr(record, kind)
        time = _seconds(out.timestamp) if out.HasField("timestamp") else math.nan
        log.outputs[kind].append(_Output(line, time, out.line))
        log.last_time = _latest(log.last_time, time)
    elif kind == "stats":
        time = _seconds(record.stats.timestamp)
        log.stats.append((line, time, _items(record.stats.item)))
        log.last_time = _latest(log.last_time, time)
    elif kind == "config":
        _config_items(record.config.update, log.config)
        for item in record.config.remove:
            log.config.pop(item.key or ".".join(item.nested_key), None)
    elif kind == "run":
        _run(record.run, log)
    elif kind == "exit":
        log.exit = (line, record.exit.exit_code, float(record.exit.runtime))
    elif kind == "metric" and record.metric.step_metric:
        log.step_defs.append((record.metric.name or record.metric.glob_name, record.metric.step_metric))
    elif kind == "environment":
        _environment(record.environment, log)
    elif kind == "telemetry":
        _telemetry(record.telemetry, log)
    elif kind == "preempting":
        log.preempting = line
    elif kind == "header" and record.header.version_info.producer:
        log.info["writer"] = record.header.version_info.producer


def decode(records: list[tuple[int, bytes]], source: str, problems: list[Problem]) -> _Log:
    """Parse every record with the wandb package's protobuf classes; undecodable ones become problems."""
    try:
        from google.protobuf.message import DecodeError
        from wandb.proto import wandb_internal_pb2 as pb
    except ImportError:
        raise InputError(source, "reading .wandb files needs the wandb package (pip install wandb)") from None
    log = _Log()
    for ordinal, (offset, payload) in enumerate(records, start=1):
        try:
            record = pb.Record.FromString(payload)  # type: ignore[attr-defined]  # a version-dependent re-export
        except DecodeError:
            problems.append(Problem(source, "record is not a valid wandb Record; skipped", f"byte {offset}"))
            continue
        line = record.num or ordinal
        log.last_line = line
        _one(record, line, log)
        if record.HasField("history") and "_timestamp" in log.rows[-1][1]:
            log.last_time = _latest(log.last_time, log.rows[-1][1]["_timestamp"])
    return log


# --- frames -------------------------------------------------------------------------------------------


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


def add_history(builder: FrameBuilder, rows: list[tuple[int, dict[str, Any]]],
                step_defs: list[tuple[str, str]]) -> _Axis:
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
            builder.metric(here[step_of(key)], split_metric[0], split_metric[1], value, line,
                           wall_time=time)
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
            builder.metric(step, "summary", key, value, lines.get(key),
                           wall_time=time if isinstance(time, float) else math.nan)


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
        if i < len(self.breaks_through) and self.breaks_through[i] == line - 1 and self.ends_with_break[i] \
                and line > 1:
            i += 1
        return min(i, len(self.breaks_through) - 1)


def add_console(builder: FrameBuilder, log: _Log, axis: _Axis, source: str) -> Frames | None:
    """Read the console records with the console reader; events get record number, time and step."""
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
        builder.event(event["kind"], event["severity"], event["message"], step, out.line if out else None,
                      wall_time=out.time if out else math.nan)
    if not log.rows:  # printed metrics only when nothing was logged to W&B (else rounded copies)
        for row in frames.metrics.to_dict("records"):
            out = outputs[index.record(int(row["line"]))] if not pd.isna(row["line"]) else None
            builder.metric(int(row["step"]), str(row["split"]), str(row["metric"]), float(row["value"]),
                           out.line if out else None, rank=None if pd.isna(row["rank"]) else int(row["rank"]))
    frames.meta["console_log"] = {f"{source} (console)": {
        **frames.meta.get("console_log", {}).get(f"{source} (console)", {}), "records": len(outputs), "kind": kind}}
    return frames


def add_exit(builder: FrameBuilder, log: _Log, axis: _Axis) -> None:
    """How the run ended, as an event: run_end (exit 0), exception (another code) or no_exit_record (the log
    stops: the process was killed, or is still running; the run status rules weigh it with the others)."""
    if log.exit is None:
        builder.event("no_exit_record", "warning", "no W&B exit record: the process ended without wandb.finish() "
                      "(killed, preempted, out of host memory or a native crash), or the run was still going",
                      axis.last_step, log.last_line or None, wall_time=log.last_time)
        return
    line, code, _ = log.exit
    if code == 0:
        builder.event("run_end", "info", "W&B exit record: exit code 0", axis.last_step, line, log.last_time)
    else:
        builder.event("exception", "error", f"the process exited with code {code} (W&B exit record)",
                      axis.last_step, line, log.last_time)


# --- meta ---------------------------------------------------------------------------------------------


def config_meta(config: dict[str, Any]) -> dict[str, Any]:
    """meta sections a run config fills: meta['wandb']['config'] always; the HF integration's config (all
    TrainingArguments plus the model config) also fills `training_args` and `model`, the sections
    normalize.derive_meta reads for training_args.bin and config.json."""
    meta: dict[str, Any] = {"wandb": {"config": config}}
    if {"learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps"} <= config.keys():
        meta["training_args"] = {k: config[k] for k in TRAINING_ARG_KEYS if k in config}
        meta["framework"] = "transformers"
    if "model_type" in config and ("architectures" in config or "transformers_version" in config):
        meta["model"] = {k: config[k] for k in MODEL_KEYS if k in config}
    if isinstance(config.get("transformers_version"), str):
        meta["versions"] = {"transformers": config["transformers_version"]}
    return meta


def _facts_meta(info: dict[str, Any], versions: dict[str, str]) -> dict[str, Any]:
    """`versions` and `env` (GPU) from the run's environment facts."""
    versions = dict(versions)
    if info.get("cuda_version"):
        versions.setdefault("cuda", str(info["cuda_version"]))
    env = {k: info[f] for k, f in (("gpu", "gpu_type"), ("gpu_count", "gpu_count")) if info.get(f)}
    return {k: v for k, v in (("versions", versions), ("env", env)) if v}


def _log_meta(log: _Log, axis: _Axis, source: str) -> dict[str, Any]:
    info = dict(log.info)
    info.update(step_metric=axis.key, history_rows=len(log.rows), stats_records=len(log.stats),
                exit_record=log.exit is not None, exit_code=log.exit[1] if log.exit else None)
    if log.exit:
        info["runtime"] = log.exit[2]
    if log.preempting:
        info["preempting"] = True
    info["summary"] = {k: v for k, v in log.summary.items() if isinstance(v, (float, str)) and not k.startswith("_")}
    meta = config_meta(log.config)
    meta["wandb"].update(info)
    deep_merge(meta, _facts_meta(info, log.versions))
    if meta.get("framework") == "transformers":
        train = {metric for split, metric in map(split_and_metric, axis.keys) if split == "train"}
        meta["trainer_kind"] = infer_trainer_kind(train)
    meta["line_numbers"] = {source: "record"}
    return meta


def parse_log(path: Path, source: str) -> Frames:
    """One `.wandb` file into frames (the module docstring says what goes where)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    records, problems = read_records(data, source)
    if not records:
        where = problems[0].where if problems else f"byte {_HEADER.size}"
        raise InputError(source, "no readable record after the header (the run died, or was still running, "
                                 "before its first 32 KiB block was written)", where)
    log = decode(records, source, problems)
    builder = FrameBuilder(source, producer=name)
    axis = add_history(builder, log.rows, log.step_defs)
    add_summary(builder, log.summary, log.summary_lines, axis)
    add_stats(builder, log.stats, axis)
    console_frames = add_console(builder, log, axis, source)
    if log.preempting:
        builder.event("signal", "warning", "W&B recorded that the run was being preempted", axis.last_step,
                      log.preempting)
    add_exit(builder, log, axis)
    meta = _log_meta(log, axis, source)
    if console_frames is not None:
        deep_merge(meta, console_frames.meta)
        problems.extend(console_frames.problems)
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    return frames


# --- files/ beside the log ----------------------------------------------------------------------------


def _unwrap(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """config.yaml / API config: `key: {value: v}` (older files add `desc`) to `key: v`; `_wandb` apart."""
    plain: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        plain[str(key)] = value
    internal = plain.pop("_wandb", None)
    return plain, internal if isinstance(internal, dict) else {}


def _config_yaml(path: Path, source: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(read_text(path, source))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(source, f"invalid YAML: {getattr(exc, 'problem', exc)}",
                         f"line {mark.line + 1}" if mark is not None else "") from None
    if not isinstance(doc, dict):
        raise InputError(source, "config.yaml is not a mapping of settings")
    config, internal = _unwrap(doc)
    meta = config_meta(config)
    versions = {k: str(internal[f]) for k, f in (("python", "python_version"), ("wandb", "cli_version"),
                                                  ("transformers", "huggingface_version")) if internal.get(f)}
    deep_merge(meta, {"versions": versions} if versions else {})
    return meta


def _metadata_json(path: Path, source: str) -> dict[str, Any]:
    """wandb-metadata.json: interpreter, command, GPU, CUDA (never the user name, e-mail or host)."""
    doc = load_json(read_text(path, source), source)
    if not isinstance(doc, dict):
        raise InputError(source, "wandb-metadata.json is not a JSON object")
    info = {k: doc[f] for k, f in (("python", "python"), ("os", "os"), ("program", "program"), ("args", "args"),
                                    ("gpu_type", "gpu"), ("gpu_count", "gpu_count")) if doc.get(f)}
    cuda = doc.get("cuda") or doc.get("cudaVersion")
    if cuda:
        info["cuda_version"] = cuda
    devices = doc.get("gpu_nvidia") or doc.get("gpu_devices") or []
    names = [d["name"] for d in devices if isinstance(d, dict) and isinstance(d.get("name"), str)]
    if names:
        info["gpus"] = names
    return {"wandb": info, **_facts_meta(info, {})}


def _requirements(path: Path, source: str) -> dict[str, Any]:
    versions = {m[1].lower().replace("_", "-"): m[2] for m in _PACKAGES.finditer(read_text(path, source))}
    return {"versions": versions} if versions else {}


def _summary_json(path: Path, source: str) -> dict[str, Any]:
    doc = load_json(read_text(path, source), source)
    if not isinstance(doc, dict):
        raise InputError(source, "wandb-summary.json is not a JSON object")
    summary: dict[str, Any] = {}
    for key, value in doc.items():
        _flatten(str(key), value, summary)
    return summary


_SIDE_READERS = {"config.yaml": _config_yaml, "wandb-metadata.json": _metadata_json,
                 "requirements.txt": _requirements}


def _summary_frames(summary: dict[str, Any], source: str) -> Frames:
    """A wandb-summary.json on its own: its values in the `summary` split at the run's last step."""
    axis = _Axis("_step")
    builder = FrameBuilder(source, producer=name)
    add_summary(builder, summary, {}, axis)
    if not len(builder):
        raise InputError(source, "wandb-summary.json holds no numeric values")
    values = {k: v for k, v in summary.items() if isinstance(v, (float, str)) and not k.startswith("_")}
    return builder.frames({"wandb": {"summary": values}})


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _side_meta(side: dict[str, tuple[Path, str]], results: list[tuple[str, Result]]) -> dict[str, Any]:
    """meta from config.yaml, wandb-metadata.json and requirements.txt; a file that fails is a result of its own."""
    meta: dict[str, Any] = {}
    for file_name, reader in _SIDE_READERS.items():
        if file_name in side:
            try:
                deep_merge(meta, reader(*side[file_name]))
            except InputError as exc:
                results.append((side[file_name][1], exc))
    return meta


def _parse_run(members: list[tuple[Path, str]]) -> list[tuple[str, Result]]:
    """One run folder: its log(s) with the sidecars' meta merged into the first, or the sidecars alone."""
    side = {p.name: (p, s) for p, s in members if p.suffix != ".wandb" and p.name in _SIDECARS}
    results: list[tuple[str, Result]] = []
    meta = _side_meta(side, results)
    carriers: list[tuple[str, Frames]] = []  # what was read, in order; the first one takes the sidecars' meta
    for path, source in (m for m in members if m[0].suffix == ".wandb"):
        try:
            carriers.append((source, parse_log(path, source)))
        except InputError as exc:
            results.append((source, exc))
    main = carriers[0][1] if carriers else None
    if "wandb-summary.json" in side:
        path, source = side["wandb-summary.json"]
        try:
            summary = _summary_json(path, source)
            if main is None:
                carriers.append((source, _summary_frames(summary, source)))
            elif not main.meta["wandb"].get("summary"):
                meta.setdefault("wandb", {})["summary"] = summary
        except InputError as exc:
            results.append((source, exc))
    if "output.log" in side and _size(side["output.log"][0]):
        path, source = side["output.log"]
        if main is not None and main.meta.get("console_log"):
            results.append((source, Superseded(f"the same console text is in the records of {carriers[0][0]}",
                                                quiet=True)))
        else:
            try:
                carriers.append((source, console.parse(path, source)))
            except InputError as exc:
                results.append((source, exc))
    if not carriers and meta:
        carriers.append((next(iter(side.values()))[1], Frames()))
    if carriers:
        deep_merge(carriers[0][1].meta, meta)
    return [*carriers, *results]


def parse_group(files: list[tuple[Path, str]]) -> list[tuple[str, Result]]:
    """Every run folder's `.wandb` log with its files/ (one result per log; config.yaml, wandb-metadata.json
    and requirements.txt join its meta), or its files alone; a lone wandb-summary.json is a run of its own.
    W&B's own debug logs are claimed and left out."""
    groups: dict[Path, list[tuple[Path, str]]] = {}
    for path, source in files:
        groups.setdefault(run_folder(path) or path, []).append((path, source))
    # Several runs in one wandb/ folder (a script run again into the same output_dir): only the run that
    # started last is analyzed, with all of its results (the log, its sidecars, output.log).
    return newest_run_only([_parse_run(members) for members in groups.values()], first_wall_time, lambda newest: (
        f"another W&B run in the same folder; only the newest ({newest}) is analyzed: point analyze at this "
        "run's folder to analyze it"))


# --- the W&B API ---------------------------------------------------------------------------------------

_REMOTE = re.compile(r"^wandb:/+(?P<entity>[^/\s]+)/(?P<project>[^/\s]+)/(?:runs/)?(?P<run>[^/\s]+)/?$")
_STATES = {"finished": ("run_end", "info", "W&B reports the run finished"),
           "failed": ("exception", "error", "W&B reports the run failed (the process exited with an error)"),
           "crashed": ("signal", "error", "W&B reports the run crashed (its heartbeat stopped: the process died)"),
           "killed": ("signal", "error", "W&B reports the run was killed")}


def remote_path(path: str | Path) -> str | None:
    """`entity/project/run_id` of a `wandb://entity/project/run_id` argument; None for a local path."""
    text = str(path)
    if not text.startswith("wandb:"):
        return None
    match = _REMOTE.match(text)
    if match is None:
        raise WandbFetchError(f"{text}: expected wandb://entity/project/run_id")
    return f"{match['entity']}/{match['project']}/{match['run']}"


def api_frames(rows: Iterable[dict[str, Any]], config: dict[str, Any], summary: dict[str, Any], source: str,
               state: str | None = None) -> Frames:
    """Rows as `Run.scan_history()` yields them (`_step`, `_timestamp`, `_runtime`, the trainer's step,
    None for keys a row lacks), with the run's config, summary and state: the same step policy and meta
    as a `.wandb` log; `line` is the row's position in the scan."""
    parsed: list[tuple[int, dict[str, Any]]] = []
    for ordinal, row in enumerate(rows, start=1):
        flat: dict[str, Any] = {}
        for key, value in row.items():
            _flatten(str(key), value, flat)
        parsed.append((ordinal, flat))
    flat_summary: dict[str, Any] = {}
    for key, value in summary.items():
        _flatten(str(key), value, flat_summary)
    builder = FrameBuilder(source, producer=name)
    axis = add_history(builder, parsed, [])
    add_summary(builder, flat_summary, {}, axis)
    if not len(builder):
        raise InputError(source, "the run has no numeric history or summary values")
    if state in _STATES:
        builder.event(*_STATES[state], axis.last_step, None)
    plain, internal = _unwrap(config)
    meta = config_meta(plain)
    meta["wandb"].update(step_metric=axis.key, history_rows=len(parsed), state=state,
                         summary={k: v for k, v in flat_summary.items()
                                  if isinstance(v, (float, str)) and not k.startswith("_")})
    if internal.get("cli_version"):
        deep_merge(meta, {"versions": {"wandb": str(internal["cli_version"])}})
    if meta.get("framework") == "transformers":
        meta["trainer_kind"] = infer_trainer_kind(
            {metric for split, metric in map(split_and_metric, axis.keys) if split == "train"})
    meta["line_numbers"] = {source: "row"}
    return builder.frames(meta)


def fetch(run_path: str) -> Frames:
    """A run's unsampled history through `wandb.Api().run(path).scan_history()`; WandbFetchError when
    the API cannot be reached, refuses the login or does not know the run."""
    try:
        import wandb

        run = wandb.Api(timeout=30).run(run_path)
        rows = list(run.scan_history())
        config, summary, state = dict(run.config), dict(run.summary_metrics), getattr(run, "state", None)
    except Exception as exc:  # network, login, unknown run: one line for the user, whatever the client raised
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise WandbFetchError(f"cannot fetch W&B run {run_path}: {type(exc).__name__}: {first}") from None
    return api_frames(rows, config, summary, f"wandb://{run_path}", state=state if isinstance(state, str) else None)


def ingest_remote(run_path: str) -> Ingested:
    """What `ingest` returns for a folder, for one run read through the W&B API."""
    from analyzer.ingest import Ingested  # here: analyzer.ingest imports this module
    from analyzer.model import SourceInfo

    source = f"wandb://{run_path}"
    out = Ingested(root=Path("."))
    try:
        frames = fetch(run_path)
    except InputError as exc:
        out.problems.append(exc.problem)
        out.sources.append(SourceInfo(source, name, status="failed", note=exc.problem.message))
        return out
    out.frames.append((name, frames))
    out.sources.append(SourceInfo(source, name, rows=len(frames.metrics)))
    out.problems.extend(frames.problems)
    return out
