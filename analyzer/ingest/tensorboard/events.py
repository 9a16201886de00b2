"""The protobuf path: every record the fast path did not take, through tensorboard's protobuf classes.

Kept: tensor scalars (float_val, double_val, tensor_content by dtype, half_val, int values), text
summaries, hparams, SessionLog START and CHECKPOINT. A record over 1 KiB is checksummed only when it
yields something (images, histograms and graphs are skipped unchecked, as TensorBoard's data server does
by default); a bad record is reported with its byte offset and skipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyzer.errors import Problem
from analyzer.ingest.base import json_depth_ok
from analyzer.ingest.tensorboard.checksums import masked_crc32c
from analyzer.ingest.tensorboard.framing import _View

_CHECK_ALL_UP_TO = 1024  # bytes: the data CRC of every record this small is verified
_MAX_PROBLEMS = 20  # corrupt records listed per file; the rest are counted
_MAX_TEXT = 65536  # characters kept of one text summary
_START, _CHECKPOINT = 1, 3  # SessionLog.status
# TensorProto dtypes that hold a number -> numpy dtype of tensor_content; bfloat16 (14) is decoded by hand.
_DTYPES = {
    1: "<f4",
    2: "<f8",
    3: "<i4",
    4: "u1",
    5: "<i2",
    6: "i1",
    9: "<i8",
    10: "?",
    17: "<u2",
    19: "<f2",
    22: "<u4",
    23: "<u8",
}
_BFLOAT16 = 14


def _half(bits: int, dtype: int) -> float:
    """A 16-bit float from its bit pattern: IEEE half, or bfloat16 (the top half of a float32)."""
    if dtype == _BFLOAT16:
        return float(np.array([bits << 16], dtype=np.uint32).view(np.float32)[0])
    return float(np.array([bits], dtype=np.uint16).view(np.float16)[0])


def _tensor_scalar(tensor: Any) -> float | None:
    """The number of a numeric shape-[] TensorProto, or None for anything else (vectors, strings)."""
    dtype = tensor.dtype
    if tensor.tensor_shape.dim or tensor.tensor_shape.unknown_rank or (dtype not in _DTYPES and dtype != _BFLOAT16):
        return None
    if tensor.float_val:
        return float(tensor.float_val[0])
    if tensor.double_val:
        return float(tensor.double_val[0])
    content = tensor.tensor_content
    if content:
        if dtype == _BFLOAT16:
            return _half(int.from_bytes(content, "little"), dtype) if len(content) == 2 else None
        number = np.dtype(_DTYPES[dtype])
        return float(np.frombuffer(content, dtype=number)[0]) if len(content) == number.itemsize else None
    if tensor.half_val:
        return _half(tensor.half_val[0] & 0xFFFF, dtype)
    for values in (tensor.int_val, tensor.int64_val, tensor.bool_val, tensor.uint32_val, tensor.uint64_val):
        if values:
            return float(values[0])
    return 0.0  # a TensorProto without values is all zeros (tensorflow's MakeNdarray reads it so)


def _hparams(content: bytes) -> dict[str, Any]:
    """The hparams of an `_hparams_/session_start_info` value (name -> number, string or bool)."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    if not data.HasField("session_start_info"):
        return {}
    values = {}
    for key, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        values[key] = getattr(value, kind) if kind in ("number_value", "string_value", "bool_value") else None
    return values


def _text(value: str) -> Any:
    """A text summary as stored in meta: JSON objects and lists parsed (json, never eval), long text cut."""
    if value.lstrip().startswith(("{", "[")):
        try:
            doc = json.loads(value)
        except (ValueError, RecursionError):
            pass
        else:
            if json_depth_ok(doc):  # a value nested deeper than the report can walk stays text
                return doc
    return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + " [cut]"


@dataclass
class _Scan:
    """Everything read from one event file: scalar rows in record order, text, hparams, session events."""

    source: str
    records: int = 0
    tags: list[str] = field(default_factory=list)
    record: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # 0-based record number
    tag: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    step: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    wall: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    value: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    text: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    starts: list[tuple[int, int, float]] = field(default_factory=list)  # SessionLog START: record, step, wall
    checkpoints: list[tuple[int, int, float, str]] = field(default_factory=list)  # record, step, wall, path
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Slow:
    """Rows of the protobuf path, collected as lists and joined to the fast path's arrays at the end."""

    tags: list[str]  # id -> tag, starting with the fast path's ("" where its tag was not UTF-8)
    ids: dict[str, int] = field(init=False)
    record: list[int] = field(default_factory=list)
    tag: list[int] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = {tag: i for i, tag in enumerate(self.tags) if tag}

    def add(self, record: int, tag: str, step: int, wall: float, value: float) -> None:
        tag_id = self.ids.get(tag)
        if tag_id is None:
            tag_id = self.ids[tag] = len(self.tags)
            self.tags.append(tag)
        self.record.append(record)
        self.tag.append(tag_id)
        self.step.append(step)
        self.wall.append(wall)
        self.value.append(value)


def _kind(value: Any) -> str | None:
    """What a Summary.Value gives this reader: "scalar", "text", "hparams", or None (images, histograms...)."""
    kind, plugin = value.WhichOneof("value"), value.metadata.plugin_data.plugin_name
    if kind == "simple_value":
        return "scalar"
    if kind == "tensor" and plugin == "text":
        return "text"
    if kind == "tensor" and plugin in ("", "scalars"):  # TF writes the plugin only on a tag's first value
        return "scalar" if _tensor_scalar(value.tensor) is not None else None
    return "hparams" if plugin == "hparams" else None


def _uses(event: Any) -> bool:
    """True when an Event holds something this reader keeps (so its checksum must be verified)."""
    what = event.WhichOneof("what")
    return what == "session_log" or (what == "summary" and any(_kind(v) for v in event.summary.value))


def _take_event(event: Any, record: int, scan: _Scan, rows: _Slow) -> None:
    """Keep an Event's scalars, text, hparams and session markers."""
    what = event.WhichOneof("what")
    step, wall = event.step, event.wall_time or math.nan  # proto3 leaves an unset wall_time at 0
    if what == "session_log":
        status = event.session_log.status
        if status == _START:
            scan.starts.append((record, step, wall))
        elif status == _CHECKPOINT:
            scan.checkpoints.append((record, step, wall, event.session_log.checkpoint_path))
        return
    for value in event.summary.value if what == "summary" else ():
        kind = _kind(value)
        if kind == "scalar":
            simple = value.WhichOneof("value") == "simple_value"
            number = value.simple_value if simple else _tensor_scalar(value.tensor)
            if number is not None:
                rows.add(record, value.tag, step, wall, number)
        elif kind == "text":
            text = "\n".join(s.decode("utf-8", "replace") for s in value.tensor.string_val)
            scan.text.setdefault(value.tag.removesuffix("/text_summary"), _text(text))
        elif kind == "hparams":
            scan.hparams.update(_hparams(value.metadata.plugin_data.content))


def _decode_rest(
    view: _View, starts: np.ndarray, lengths: np.ndarray, indexes: np.ndarray, scan: _Scan, rows: _Slow
) -> None:
    """The records the fast path did not take, through the protobuf classes (checksums of big ones on use)."""
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto.event_pb2 import Event

    for i in indexes.tolist():
        start, size = int(starts[i]), int(lengths[i])
        raw = view.data[start : start + size]
        checked = size <= _CHECK_ALL_UP_TO
        try:
            event = Event.FromString(raw)
        except (DecodeError, RecursionError, ValueError):
            event = None
        if event is not None and not _uses(event):
            continue
        if not checked and masked_crc32c(raw) != int(view.u32[start + size]):
            _corrupt(scan, i, start - 12, "data checksum mismatch (corrupt record); skipped")
        elif event is None:
            _corrupt(scan, i, start - 12, "not a TensorBoard Event (undecodable protobuf); skipped")
        else:
            try:
                _take_event(event, i, scan, rows)
            except (DecodeError, ValueError) as exc:
                _corrupt(scan, i, start - 12, f"unreadable summary ({exc}); skipped")


def _corrupt(scan: _Scan, index: int, offset: int, why: str) -> None:
    """Report one bad record (the first few of a file in full, then a count)."""
    bad = sum(1 for p in scan.problems if p.message.startswith("record "))
    if bad < _MAX_PROBLEMS:
        scan.problems.append(Problem(scan.source, f"record {index + 1}: {why}", f"byte {offset}"))
    elif bad == _MAX_PROBLEMS:
        scan.problems.append(
            Problem(scan.source, f"record {index + 1} and later: more corrupt records; skipped", f"byte {offset}")
        )
