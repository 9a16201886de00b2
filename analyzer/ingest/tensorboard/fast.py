"""The fast path: Events holding one `simple_value`, decoded straight from the wire format with numpy.

That record is the commonest (torch's SummaryWriter, tensorboardX, the HF Trainer, Keras). The decoder
takes a record only when every one of its bytes has the expected shape; anything else is left to the
protobuf path (analyzer.ingest.tensorboard.events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.ingest.tensorboard.framing import _View

_K1, _K2, _K3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)


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
    import pandas as pd  # here, not at import: the registry imports this package on every start

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
        raw = bytes(view.data[int(pos[at]) : int(pos[at]) + int(size[at])])
        try:
            tags.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            tags.append("")
            exact &= codes != code
    return codes, tags, exact
