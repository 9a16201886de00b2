"""The masked CRC-32C of TFRecord framing: of one record, or of many records at once.

The data checksum of many records of one length is computed with numpy over all of them at once (two
bytes a step through a 64Ki-entry table); every other checksum goes through masked_crc32c.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

if TYPE_CHECKING:
    from analyzer.ingest.tensorboard.framing import _View

_MASK_DELTA = 0xA282EAD8
_NUMPY_CRC_GROUP = 16  # records of one length from which the vectorized CRC beats a Python loop
_NUMPY_CRC_MAX = 4096
_CHUNK = 1 << 20  # records per vectorized CRC batch (bounds the memory of the byte matrix)


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
            ok[rows] = [
                masked_crc32c(view.data[s : s + size]) == c
                for s, c in zip(starts[rows].tolist(), stored[rows].tolist(), strict=True)
            ]
    return ok
