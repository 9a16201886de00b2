"""TensorBoard event files (`events.out.tfevents.*`): every scalar, the text summaries and hparams, no sampling.

Reading. A file is mapped into memory and framed (FORMATS.md §3.1: `uint64 length`, masked CRC32C of the
length, the serialized `Event`, masked CRC32C of the data): the headers of records under 64 KiB are found
over the whole file at once with numpy (six zero bytes, then the checksum of the length) and chained from
byte 0; larger records are stepped over with struct. Checksums are computed with numpy over all records
at once. The commonest record, an Event holding one `simple_value` (torch's SummaryWriter, tensorboardX,
the HF Trainer, Keras), is decoded straight from the wire format with numpy; the decoder takes a record
only when every one of its bytes has the expected shape. Every other record goes through tensorboard's
protobuf classes: tensor scalars (float_val, double_val, tensor_content by dtype, half_val, int values),
text summaries, hparams, SessionLog.

Checks. Every header checksum is verified: after a bad one the framing cannot be trusted, so the file is
read up to there. The data checksum of every record up to 1 KiB (all scalar events) and of every larger
record that yields something (text, hparams, scalars) is verified; a bad record is reported with its byte
offset and skipped. Larger records that are skipped anyway (images, histograms, graphs) are not
checksummed, as TensorBoard's data server does by default. A file that ends mid-record (a crashed run) is
read up to the break and the break is reported.

Sources and resumed runs. Each event file is its own source, so every value cites `file:record`. The
files of one directory are one run, read in file-name (timestamp) order, and the run's policy is applied
across them here: normalize applies "the later observation wins" only within one source and would keep
the earlier file's value across sources (merging the files into one source instead would make the record
numbers point into the wrong file):
- a `SessionLog.START` event (torch's `purge_step`) drops every value logged before it at a step >= its
  step, as TensorBoard does;
- where a later file logs a step that an earlier file logged for the same series, the later value wins;
- each resume is reported as a `restart` event at the resume step.
Steps going back inside one file without a START are left to normalize (rule 1, and its `restart`
events for train/loss), as for every other format. Different
directories are different runs or splits: a `train/`, `eval/` or `validation/` folder gives the split of
tags that carry none (Keras writes `epoch_loss` into both); `epoch_loss` reads as `loss`, `Loss/test` as
split test, metric loss.

Meta. meta['tensorboard'] holds per-file counts (`files`), the text summaries (`text`, JSON parsed, e.g.
the HF Trainer's `args` and `model_config`), the hparams of `add_hparams` (`hparams`) and, from them, the
training settings under derive_meta's names (`settings`). The HF `args` also fill meta['training_args'] and
`model_config` fills meta['model'], the sections that training_args.bin and config.json fill, so
derive_meta finds precision, learning rate and batch size as it does for those files.
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap
import re
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from analyzer.errors import InputError, Problem
from analyzer.ingest import configs, training_args
from analyzer.ingest.base import FrameBuilder
from analyzer.ingest.settings import settings_from_params
from analyzer.model import Frames
from analyzer.names import METRIC_ALIASES, canonical_metric, split_and_metric

name = "tensorboard"

_LFS = b"version https://git-lfs.github.com/spec/"
_HEADER = struct.Struct("<QI")
_LENGTH = struct.Struct("<Q")
_MASK_DELTA = 0xA282EAD8
_CHECK_ALL_UP_TO = 1024  # bytes: the data CRC of every record this small is verified
_NUMPY_CRC_GROUP = 16  # records of one length from which the vectorized CRC beats a Python loop
_NUMPY_CRC_MAX = 4096
_CHUNK = 1 << 20  # records per vectorized CRC batch (bounds the memory of the byte matrix)
_SMALL = 1 << 16  # records shorter than this are framed by pattern, longer ones one by one
_SCAN_BYTES = 1 << 22
_MAX_PROBLEMS = 20  # corrupt records listed per file; the rest are counted
_MAX_TEXT = 65536  # characters kept of one text summary
_SPLIT_NAMES = {"train": "train", "training": "train", "eval": "eval", "evaluation": "eval", "validation": "eval",
                "val": "eval", "valid": "eval", "test": "test"}
# The HF Trainer's end-of-training row, which TensorBoardCallback logs as `train/<key>`: the `summary` split,
# as analyzer.ingest.hf_state reads the same row (train_loss there is the run's mean, not a point of the loss).
_HF_SUMMARY = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
_START, _CHECKPOINT = 1, 3  # SessionLog.status
_DIGITS = re.compile(r"(\d+)")
# TensorProto dtypes that hold a number -> numpy dtype of tensor_content; bfloat16 (14) is decoded by hand.
_DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?", 17: "<u2", 19: "<f2",
           22: "<u4", 23: "<u8"}
_BFLOAT16 = 14
_K1, _K2, _K3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


# ---------------------------------------------------------------------------------------------- checksums

@cache
def _crc_table() -> np.ndarray:
    """The byte table of CRC-32C (Castagnoli, reflected polynomial 0x82F63B78)."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0x82F63B78), table >> 1).astype(np.uint32)
    return table


@cache
def _crc_list() -> list[int]:
    return [int(x) for x in _crc_table()]


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum of `data`: CRC-32C rotated right by 15 bits plus 0xa282ead8."""
    table = _crc_list()
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


@cache
def _crc_table16() -> np.ndarray:
    """CRC-32C steps over two bytes at once: the state after xoring in a 16-bit little-endian word."""
    table = _crc_table()
    state = np.arange(1 << 16, dtype=np.uint32)
    for _ in range(2):
        state = table[state & 0xFF] ^ (state >> 8)
    return state


def _crc_rows(rows: np.ndarray) -> np.ndarray:
    """masked_crc32c of every row of an (n, length) uint8 matrix, two columns at a time."""
    crc = np.full(len(rows), 0xFFFFFFFF, dtype=np.uint32)
    if rows.shape[1] % 2:
        crc = _crc_table()[(crc ^ rows[:, 0]) & 0xFF] ^ (crc >> 8)
        rows = rows[:, 1:]
    table, words = _crc_table16(), np.ascontiguousarray(rows).view("<u2")
    for j in range(words.shape[1]):
        crc = table[(crc ^ words[:, j]) & 0xFFFF] ^ (crc >> 16)
    crc ^= np.uint32(0xFFFFFFFF)
    return ((crc >> 15) | (crc << 17)) + np.uint32(_MASK_DELTA)


@cache
def _header_crcs() -> np.ndarray:
    """The header checksum (of the 8-byte little-endian length) of every length below _SMALL."""
    return _crc_rows(np.arange(_SMALL, dtype="<u8").view(np.uint8).reshape(-1, 8))


@dataclass
class _View:
    """A file's bytes with numpy views: bytes, and little-endian numbers starting at every byte offset."""

    data: bytes | mmap.mmap
    u8: np.ndarray
    u32: np.ndarray
    u64: np.ndarray
    f32: np.ndarray
    f64: np.ndarray

    @classmethod
    def of(cls, data: bytes | mmap.mmap) -> _View:
        n = len(data)

        def at(dtype: str, size: int) -> np.ndarray:
            return np.ndarray((max(n - size + 1, 0),), dtype=dtype, buffer=data, strides=(1,))
        return cls(data, np.frombuffer(data, dtype=np.uint8), at("<u4", 4), at("<u8", 8), at("<f4", 4), at("<f8", 8))


def _data_crc_ok(view: _View, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """True where the checksum stored after a record's data matches the data."""
    ok = np.zeros(len(starts), dtype=bool)
    if not len(starts):
        return ok
    stored = view.u32[starts + lengths]
    order = np.argsort(lengths.astype(np.uint16) if lengths.max() < 1 << 16 else lengths, kind="stable")
    for rows in np.split(order, np.flatnonzero(np.diff(lengths[order])) + 1):
        size = int(lengths[rows[0]])
        if len(rows) >= _NUMPY_CRC_GROUP and 0 < size <= _NUMPY_CRC_MAX:
            windows = sliding_window_view(view.u8, size)
            for i in range(0, len(rows), _CHUNK):
                part = rows[i:i + _CHUNK]
                ok[part] = _crc_rows(windows[starts[part]]) == stored[part]
        else:
            ok[rows] = [masked_crc32c(view.data[s:s + size]) == c
                        for s, c in zip(starts[rows].tolist(), stored[rows].tolist(), strict=True)]
    return ok


# ------------------------------------------------------------------------------------------------ framing

def _small_headers(view: _View) -> np.ndarray:
    """Offsets holding a valid header of a record shorter than _SMALL bytes.

    Found by their pattern over the whole file at once (6 zero bytes, then the checksum of the length):
    every such record's offset, plus rare look-alikes inside record data that _walk never lands on.
    """
    last = len(view.data) - 12
    parts = [np.empty(0, dtype=np.int64)]
    for begin in range(0, last + 1, _SCAN_BYTES):
        at = np.flatnonzero(view.u64[begin:min(begin + _SCAN_BYTES, last + 1)] < _SMALL) + begin
        parts.append(at[_header_crcs()[view.u64[at]] == view.u32[at + 8]])
    return np.concatenate(parts)


def _walk(view: _View) -> tuple[np.ndarray, int, bool]:
    """Offsets of the records from byte 0 whose header lies inside the file, where the walk stopped, and
    whether it stopped at a broken header (the last offset).

    Runs of small records chained one to the next are taken from _small_headers whole; a record it
    does not hold (64 KiB or more, or a broken header) is stepped over with struct after checking its header.
    """
    data, limit = view.data, len(view.data) - 12
    found = _small_headers(view)
    after = found + view.u64[found].astype(np.int64) + 16
    breaks = np.flatnonzero(after[:-1] != found[1:])
    parts: list[np.ndarray] = [np.empty(0, dtype=np.int64)]
    pos = 0
    while pos <= limit:
        i = int(np.searchsorted(found, pos))
        if i < len(found) and found[i] == pos:
            k = int(np.searchsorted(breaks, i))
            j = int(breaks[k]) if k < len(breaks) else len(found) - 1
            parts.append(found[i:j + 1])
            pos = int(after[j])
            continue
        parts.append(np.array([pos], dtype=np.int64))
        length, crc = _HEADER.unpack_from(data, pos)
        if masked_crc32c(data[pos:pos + 8]) != crc:
            return np.concatenate(parts), pos, True
        pos += length + 16
    return np.concatenate(parts), pos, False


def _records(view: _View, source: str, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Data offsets and lengths of the complete records with a valid header; the break, if any, in problems."""
    offsets, stop, broken = _walk(view)
    size, end = len(view.data), len(offsets)
    raw = view.u64[offsets]
    if broken:
        end -= 1
        problems.append(Problem(source, f"record {end + 1}: corrupt header (length checksum mismatch); the rest of "
                                        f"the file cannot be framed and was not read", f"byte {stop}"))
    elif end and int(offsets[-1]) + 16 + int(raw[-1]) > size:
        end -= 1
        problems.append(_cut_off(source, int(offsets[end]), end))
    elif stop < size:
        problems.append(_cut_off(source, stop, end))
    return offsets[:end] + 12, raw[:end].astype(np.int64)


def _cut_off(source: str, offset: int, records: int) -> Problem:
    before = f"the {records} records before it were read" if records else "no complete record before it"
    return Problem(source, f"file ends mid-record at byte offset {offset} (run stopped while writing?); {before}",
                   f"byte {offset}")


# ------------------------------------------------------------------------- fast path: one simple_value per event

def _varint(u8: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Protobuf varints starting at `pos`: values (int64, two's complement), end positions, validity."""
    last = len(u8) - 1
    byte = u8[np.clip(pos, 0, last)].astype(np.uint64)
    value = byte & np.uint64(0x7F)
    end = pos + 1
    pending = np.flatnonzero(byte >= 0x80)
    shift = 7
    while pending.size and shift < 64:
        byte = u8[np.clip(end[pending], 0, last)].astype(np.uint64)
        value[pending] |= (byte & np.uint64(0x7F)) << np.uint64(shift)
        end[pending] += 1
        pending = pending[byte >= 0x80]
        shift += 7
    valid = np.ones(len(pos), dtype=bool)
    valid[pending] = False
    return value.view(np.int64), end, valid


@dataclass
class _Fast:
    """Records decoded by the fast path (indexes into the candidates) and their fields."""

    index: np.ndarray
    step: np.ndarray
    wall: np.ndarray
    value: np.ndarray
    tag_pos: np.ndarray
    tag_len: np.ndarray


def _fast_scalars(view: _View, starts: np.ndarray, ends: np.ndarray) -> _Fast:
    """Decode `Event{wall_time, step, summary{value{tag, simple_value}}}` records, exactly that shape only."""
    u8, last = view.u8, len(view.u8) - 1

    def byte_is(pos: np.ndarray, value: int) -> np.ndarray:
        return np.asarray(u8[np.clip(pos, 0, last)] == value)

    pos = starts.copy()
    has_wall = byte_is(pos, 0x09)  # field 1, fixed64 (absent when 0)
    wall = np.where(has_wall, view.f64[np.clip(pos + 1, 0, len(view.f64) - 1)], 0.0)
    pos += 9 * has_wall
    ok = np.ones(len(pos), dtype=bool)
    step = np.zeros(len(pos), dtype=np.int64)
    with_step = np.flatnonzero(byte_is(pos, 0x10))  # field 2, varint (absent when 0)
    step[with_step], pos[with_step], ok[with_step] = _varint(u8, pos[with_step] + 1)
    for field_key in (0x2A, 0x0A):  # summary (field 5) holding exactly one value (field 1) up to the end
        ok &= byte_is(pos, field_key)
        size, pos, valid = _varint(u8, pos + 1)
        ok &= valid & (pos + size == ends)
    ok &= byte_is(pos, 0x0A)  # Value.tag (field 1), then simple_value (field 2, fixed32) and the end
    tag_len, pos, valid = _varint(u8, pos + 1)
    ok &= valid & (tag_len > 0) & (pos + tag_len + 5 == ends)
    ok &= byte_is(pos + tag_len, 0x15)
    index = np.flatnonzero(ok)
    tag_pos = pos[index]
    value = view.f32[tag_pos + tag_len[index] + 1].astype(np.float64)
    return _Fast(index, step[index], wall[index], value, tag_pos, tag_len[index])


def _tag_ids(view: _View, pos: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Group the fast-path tags: an id per record, the tag of each id, and which records are grouped for sure.

    Records are keyed by length, first and last 8 bytes; longer tags are compared in full with the first
    record of their group. A record that differs (a hash collision) or whose tag is not UTF-8 is left to the
    protobuf path.
    """
    first = view.u64[pos]
    short = size < 8
    keep_bits = (np.uint64(1) << (np.minimum(size, 7).astype(np.uint64) * np.uint64(8))) - np.uint64(1)
    first = np.where(short, first & keep_bits, first)
    tail = np.where(size > 8, view.u64[pos + np.maximum(size - 8, 0)], np.uint64(0))
    codes, _ = pd.factorize(first * _K1 ^ tail * _K2 ^ size.astype(np.uint64) * _K3)
    codes = codes.astype(np.int64)
    # pd.factorize numbers keys in order of appearance: a first appearance is a new running maximum.
    reps = np.flatnonzero(codes > np.maximum.accumulate(np.concatenate(([-1], codes[:-1]))))
    rep = reps[codes]
    exact = (size == size[rep]) & (first == first[rep]) & (tail == tail[rep])
    long = np.flatnonzero(size > 16)
    for offset in range(8, int(size.max(initial=0)) - 8, 8):
        rows = long[size[long] - 8 > offset]
        exact[rows] &= view.u64[pos[rows] + offset] == view.u64[pos[rep[rows]] + offset]
    tags: list[str] = []
    for code, at in enumerate(reps.tolist()):
        raw = bytes(view.data[int(pos[at]):int(pos[at]) + int(size[at])])
        try:
            tags.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            tags.append("")
            exact &= codes != code
    return codes, tags, exact


# ------------------------------------------------------------------------------- protobuf path: everything else

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
            return json.loads(value)
        except (ValueError, RecursionError):
            pass
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


def _decode_rest(view: _View, starts: np.ndarray, lengths: np.ndarray, indexes: np.ndarray, scan: _Scan,
                 rows: _Slow) -> None:
    """The records the fast path did not take, through the protobuf classes (checksums of big ones on use)."""
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto.event_pb2 import Event

    for i in indexes.tolist():
        start, size = int(starts[i]), int(lengths[i])
        raw = view.data[start:start + size]
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
        scan.problems.append(Problem(scan.source, f"record {index + 1} and later: more corrupt records; skipped",
                                     f"byte {offset}"))


def _open(path: Path, source: str) -> mmap.mmap:
    """The file mapped read-only; InputError when it is unreadable, empty or a Git LFS pointer."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_LFS))
            if not head:
                raise InputError(source, "file is empty")
            if head.startswith(_LFS):
                raise InputError(source, "Git LFS pointer, not the event file: run git lfs pull")
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None


def _scan_file(path: Path, source: str) -> _Scan:
    """Read one event file: framing, checksums, fast path, then the protobuf path for the rest."""
    data = _open(path, source)
    try:
        return _scan(_View.of(data), source)
    finally:
        with contextlib.suppress(BufferError):  # a numpy view still points into the map: it goes with it
            data.close()


def _scan(view: _View, source: str) -> _Scan:
    scan = _Scan(source)
    starts, lengths = _records(view, source, scan.problems)
    if not len(starts):
        problem = scan.problems[0] if scan.problems else Problem(source, "no complete record")
        raise InputError(source, problem.message, problem.where)
    scan.records = len(starts)
    good = np.ones(len(starts), dtype=bool)
    small = np.flatnonzero(lengths <= _CHECK_ALL_UP_TO)
    good[small] = _data_crc_ok(view, starts[small], lengths[small])
    for i in np.flatnonzero(~good).tolist():
        _corrupt(scan, i, int(starts[i]) - 12, "data checksum mismatch (corrupt record); skipped")
    candidates = np.flatnonzero(good)
    fast = _fast_scalars(view, starts[candidates], starts[candidates] + lengths[candidates])
    codes, tags, exact = _tag_ids(view, fast.tag_pos, fast.tag_len)
    taken = np.zeros(len(candidates), dtype=bool)
    taken[fast.index[exact]] = True
    rows = _Slow(tags)
    _decode_rest(view, starts, lengths, candidates[~taken], scan, rows)
    scan.tags = rows.tags
    record = np.concatenate([candidates[fast.index[exact]], np.asarray(rows.record, dtype=np.int64)])
    order = np.argsort(record, kind="stable") if rows.record else np.arange(len(record))
    scan.record = record[order]
    scan.tag = np.concatenate([codes[exact], np.asarray(rows.tag, dtype=np.int64)])[order]
    scan.step = np.concatenate([fast.step[exact], np.asarray(rows.step, dtype=np.int64)])[order]
    wall = np.concatenate([fast.wall[exact], np.asarray(rows.wall, dtype=np.float64)])[order]
    scan.wall = np.where(wall == 0.0, np.nan, wall)
    scan.value = np.concatenate([fast.value[exact], np.asarray(rows.value, dtype=np.float64)])[order]
    scan.problems.sort(key=lambda p: int(p.where.removeprefix("byte ")))  # in file order
    return scan


# ------------------------------------------------------------------------------ one run: the files of a directory

def series_name(tag: str, folder_split: str = "train") -> tuple[str, str]:
    """(split, canonical metric) of a tag; `folder_split` applies when the tag names no split.

    `train/loss` and `eval/loss` as everywhere; the HF summary `train/train_loss` is summary/train_loss;
    `Loss/test` (split last, as torch's tutorial logs) is test/loss; Keras' `epoch_loss` in a `validation/`
    folder is eval/loss.
    """
    head, _, last = tag.rpartition("/")
    if head == "train" and last in _HF_SUMMARY:
        return "summary", last
    if head and last.lower() in _SPLIT_NAMES and "/" not in head:
        return _SPLIT_NAMES[last.lower()], canonical_metric(head)
    split, metric = split_and_metric(tag, folder_split)
    if metric.lower().startswith("epoch_") and metric[6:].lower() in METRIC_ALIASES:
        metric = canonical_metric(metric[6:])
    return split, metric


@dataclass
class _Outcome:
    """What the run policy decided for one file: rows kept, restart events, counts."""

    keep: np.ndarray
    restarts: list[tuple[int, float, int, str]] = field(default_factory=list)  # step, wall, record, message
    purged: int = 0
    superseded: int = 0


def _purge(scans: list[_Scan], outcomes: list[_Outcome], k: int) -> None:
    """Apply file k's SessionLog START events: drop what came before at steps >= the START's step."""
    for record, step, wall in scans[k].starts:
        before = [(j, np.ones(len(scans[j].step), dtype=bool)) for j in range(k)]
        before.append((k, scans[k].record < record))
        reached = [int(scans[j].step[m].max()) for j, m in before if m.any()]
        if not reached:
            continue  # the first session of the run: nothing to resume from
        dropped = 0
        for j, mask in before:
            hit = mask & outcomes[j].keep & (scans[j].step >= step)
            outcomes[j].keep &= ~hit
            outcomes[j].purged += int(hit.sum())
            dropped += int(hit.sum())
        outcomes[k].restarts.append((step, wall, record + 1, (
            f"resumed at step {step} after step {max(reached)} (SessionLog START): {dropped} values logged "
            f"earlier at steps >= {step} were dropped")))


def _by_series(codes: np.ndarray) -> dict[int, np.ndarray]:
    """Row numbers of each series, in record order."""
    order = np.argsort(codes, kind="stable")
    return {int(codes[rows[0]]): rows for rows in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)
            if rows.size}


def _supersede(scans: list[_Scan], series: list[dict[int, np.ndarray]], outcomes: list[_Outcome], k: int) -> None:
    """File k's steps replace the same series' steps of earlier files; a step going back is a restart."""
    back: list[tuple[int, int, int, float]] = []  # record, first step in file k, earlier maximum, wall
    for code, mine in series[k].items():
        steps = scans[k].step[mine]
        earlier = [(j, series[j][code]) for j in range(k) if code in series[j]]
        for j, theirs in earlier:
            hit = theirs[np.isin(scans[j].step[theirs], steps) & outcomes[j].keep[theirs]]
            outcomes[j].keep[hit] = False
            outcomes[j].superseded += len(hit)
        reached = max((int(scans[j].step[theirs].max()) for j, theirs in earlier), default=None)
        if reached is not None and steps[0] < reached:
            back.append((int(scans[k].record[mine[0]]), int(steps[0]), reached, float(scans[k].wall[mine[0]])))
    if back and not scans[k].starts:
        record, _, _, wall = min(back)
        to, reached = min(b[1] for b in back), max(b[2] for b in back)
        outcomes[k].restarts.append((to, wall, record + 1, (
            f"step went back from {reached} to {to}: this file continues a run logged by an earlier file of the "
            "same directory (resumed from a checkpoint); where both logged a step, this file's value is kept")))


def _run_policy(scans: list[_Scan], series: list[np.ndarray]) -> list[_Outcome]:
    """The Run's duplicate policy across the files of one directory, in file order."""
    outcomes = [_Outcome(np.ones(len(scan.step), dtype=bool)) for scan in scans]
    groups = [_by_series(codes) for codes in series] if len(scans) > 1 else []
    for k in range(len(scans)):
        _purge(scans, outcomes, k)
        if k:
            _supersede(scans, groups, outcomes, k)
    return outcomes


def _meta(scan: _Scan, outcome: _Outcome) -> dict[str, Any]:
    """meta of one file: its counts, text summaries and hparams, and the HF args/model config sections."""
    counts = {"records": scan.records, "scalars": int(outcome.keep.sum()), "purged": outcome.purged,
              "superseded": outcome.superseded}
    section: dict[str, Any] = {"files": {scan.source: counts}}
    meta: dict[str, Any] = {"tensorboard": section}
    if scan.text:
        section["text"] = scan.text
    if scan.hparams:
        section["hparams"] = scan.hparams
        settings = settings_from_params(scan.hparams, "tensorboard hparams.")
        if settings:
            section["settings"] = settings  # derive_meta's fallback when no TrainingArguments say it
    args, model = scan.text.get("args"), scan.text.get("model_config")
    if isinstance(args, dict):
        meta["training_args"] = {k: args[k] for k in training_args.TRAINING_ARG_KEYS if k in args}
        meta["framework"] = "transformers"
    if isinstance(model, dict):
        meta["model"] = {k: model[k] for k in configs.MODEL_KEYS if k in model}
        if isinstance(model.get("transformers_version"), str):
            meta["versions"] = {"transformers": model["transformers_version"]}
    return meta


def _frames(scan: _Scan, names: list[tuple[str, str]], outcome: _Outcome) -> Frames:
    """Contract frames of one file: its kept rows per tag, its restart and checkpoint events, its meta."""
    builder = FrameBuilder(scan.source, producer=name)
    kept = np.flatnonzero(outcome.keep)
    order = kept[np.argsort(scan.tag[kept], kind="stable")]
    for rows in np.split(order, np.flatnonzero(np.diff(scan.tag[order])) + 1):
        if rows.size:
            split, metric = names[int(scan.tag[rows[0]])]
            builder.extend(scan.step[rows], split, metric, scan.value[rows], scan.record[rows] + 1, scan.wall[rows])
    events = [(line, "restart", message, step, wall) for step, wall, line, message in outcome.restarts]
    events += [(record + 1, "checkpoint", f"checkpoint saved{': ' + path if path else ''}", step, wall)
               for record, step, wall, path in scan.checkpoints]
    for line, kind, message, step, wall in sorted(events):
        builder.event(kind, "info", message, step, line, wall)
    frames = builder.frames(_meta(scan, outcome))
    frames.problems.extend(scan.problems)
    return frames


def _read_run(members: list[tuple[Path, str]], folder_split: str) -> list[tuple[str, Frames | InputError]]:
    """The event files of one directory, in name order, under one run policy."""
    results: dict[str, Frames | InputError] = {}
    scans: list[_Scan] = []
    for path, source in members:
        try:
            scans.append(_scan_file(path, source))
        except InputError as exc:
            results[source] = exc
    codes: dict[tuple[str, str], int] = {}
    names = [[series_name(tag, folder_split) for tag in scan.tags] for scan in scans]
    series = [np.asarray([codes.setdefault(n, len(codes)) for n in tag_names] or [0], dtype=np.int64)[scan.tag]
              for scan, tag_names in zip(scans, names, strict=True)]
    for scan, tag_names, outcome in zip(scans, names, _run_policy(scans, series), strict=True):
        results[scan.source] = _frames(scan, tag_names, outcome)
    return [(source, results[source]) for _, source in members]


def _natural(file_name: str) -> tuple[Any, ...]:
    """Sort key in which numbers compare as numbers: `…1269.10` (the writer's 11th file) after `…1269.9`."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(file_name))


def sniff(path: Path, head: bytes) -> bool:
    """A TFRecord whose first record is an Event (file_version `brain.Event:`) or is named like an event file.

    An empty file or a Git LFS pointer named like an event file is claimed too, so that it is reported.
    """
    named = "tfevents" in path.name
    if len(head) < 12 or head.startswith(_LFS):
        return named
    length, crc = _HEADER.unpack_from(head)
    if masked_crc32c(head[:8]) != crc:
        return False
    return named or b"brain.Event:" in head[12:12 + min(length, 64)]


def parse_group(files: list[tuple[Path, str]]) -> list[tuple[str, Frames | InputError]]:
    """Every event file, grouped by directory: one run per directory, one source per file.

    `*.profile-empty` files (the profiler's markers, which TensorBoard skips too) are left out.
    """
    runs: dict[Path, list[tuple[Path, str]]] = {}
    for path, source in files:
        if not path.name.endswith(".profile-empty"):
            runs.setdefault(path.parent, []).append((path, source))
    results: list[tuple[str, Frames | InputError]] = []
    for folder in sorted(runs):
        members = sorted(runs[folder], key=lambda item: _natural(item[0].name))
        results.extend(_read_run(members, _SPLIT_NAMES.get(folder.name.lower(), "train")))
    return results
