"""The records of a `.wandb` log, decoded with the protobuf classes the wandb package ships, folded into a _Log."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from analyzer.errors import InputError, Problem
from analyzer.ingest.base import json_depth_ok

_NONFINITE = {
    "NaN": math.nan,
    "nan": math.nan,
    "Infinity": math.inf,
    "inf": math.inf,
    "-Infinity": -math.inf,
    "-inf": -math.inf,
}


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
                value = json.loads(item.value_json)
            except (ValueError, RecursionError):
                value = item.value_json
            into[key] = value if json_depth_ok(value) else item.value_json  # too deep to report: as text


def _telemetry(message: Any, log: _Log) -> None:
    for field_name, key in (
        ("python_version", "python"),
        ("cli_version", "wandb"),
        ("huggingface_version", "transformers"),
    ):
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
