"""The masked CRC-32C of TFRecord framing: of one record, or of many records at once.

One checksum is one call to google-crc32c (C, hardware CRC32C where the CPU has it). Thousands of short
records of one length (scalar events) are checked faster all at once with numpy, two bytes a step through
a 64Ki-entry table, than with a library call per record: benchmarks/tensorboard_crc32c.py measures both
and where one overtakes the other.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import google_crc32c
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:
    from analyzer.ingest.tensorboard.framing import _View

_MASK_DELTA = 0xA282EAD8
# Records of one length checked with numpy when there are at least this many, each this short at most:
# beyond, one google-crc32c call per record is faster (benchmarks/tensorboard_crc32c.py).
_NUMPY_CRC_GROUP = 2048
_NUMPY_CRC_MAX = 80
_CHUNK = 1 << 20  # records per vectorized CRC batch (bounds the memory of the byte matrix)


@cache
def _crc_table() -> np.ndarray:
    """The byte table of CRC-32C (Castagnoli, reflected polynomial 0x82F63B78)."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0x82F63B78), table >> 1).astype(np.uint32)
    return table


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum of `data`: CRC-32C rotated right by 15 bits plus 0xa282ead8."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _masked(crcs: np.ndarray) -> np.ndarray:
    """masked_crc32c's rotation and offset over an array of CRC-32C values (uint32)."""
    return ((crcs >> 15) | (crcs << 17)) + np.uint32(_MASK_DELTA)


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
    return _masked(crc ^ np.uint32(0xFFFFFFFF))


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
                part = rows[i : i + _CHUNK]
                ok[part] = _crc_rows(windows[starts[part]]) == stored[part]
        else:
            data = view.data
            crcs = np.fromiter(
                (google_crc32c.value(data[s : s + size]) for s in starts[rows].tolist()), np.uint32, len(rows)
            )
            ok[rows] = _masked(crcs) == stored[rows]
    return ok
