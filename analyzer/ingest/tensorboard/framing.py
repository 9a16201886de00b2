"""TFRecord framing of an event file: records found, headers checked, breaks reported; and sniff.

A file is mapped into memory and framed (docs/formats.md §3.1: `uint64 length`, masked CRC32C of the
length, the serialized `Event`, masked CRC32C of the data): the headers of records under 64 KiB are found
over the whole file at once with numpy (six zero bytes, then the checksum of the length) and chained from
byte 0; larger records are stepped over with struct. Every header checksum is verified: after a bad one
the framing cannot be trusted, so the file is read up to there. A file that ends mid-record (a crashed
run) is read up to the break and the break is reported.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from analyzer.errors import InputError, Problem
from analyzer.ingest.tensorboard.checksums import _crc_rows, masked_crc32c

_LFS = b"version https://git-lfs.github.com/spec/"
_HEADER = struct.Struct("<QI")
_SMALL = 1 << 16  # records shorter than this are framed by pattern, longer ones one by one
_SCAN_BYTES = 1 << 22


@dataclass
class _View:
    """A file's bytes with numpy views: bytes, and little-endian numbers starting at every byte offset."""

    data: bytes
    u8: np.ndarray
    u32: np.ndarray
    u64: np.ndarray
    f32: np.ndarray
    f64: np.ndarray

    @classmethod
    def of(cls, data: bytes) -> _View:
        n = len(data)

        def at(dtype: str, size: int) -> np.ndarray:
            return np.ndarray((max(n - size + 1, 0),), dtype=dtype, buffer=data, strides=(1,))

        return cls(data, np.frombuffer(data, dtype=np.uint8), at("<u4", 4), at("<u8", 8), at("<f4", 4), at("<f8", 8))


@cache
def _header_crcs() -> np.ndarray:
    """The header checksum (of the 8-byte little-endian length) of every length below _SMALL."""
    return _crc_rows(np.arange(_SMALL, dtype="<u8").view(np.uint8).reshape(-1, 8))


def _small_headers(view: _View) -> np.ndarray:
    """Offsets holding a valid header of a record shorter than _SMALL bytes.

    Found by their pattern over the whole file at once (6 zero bytes, then the checksum of the length):
    every such record's offset, plus rare look-alikes inside record data that _walk never lands on.
    """
    last = len(view.data) - 12
    parts = [np.empty(0, dtype=np.int64)]
    for begin in range(0, last + 1, _SCAN_BYTES):
        at = np.flatnonzero(view.u64[begin : min(begin + _SCAN_BYTES, last + 1)] < _SMALL) + begin
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
            parts.append(found[i : j + 1])
            pos = int(after[j])
            continue
        parts.append(np.array([pos], dtype=np.int64))
        length, crc = _HEADER.unpack_from(data, pos)
        if masked_crc32c(data[pos : pos + 8]) != crc:
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
        problems.append(
            Problem(
                source,
                f"record {end + 1}: corrupt header (length checksum mismatch); the rest of "
                f"the file cannot be framed and was not read",
                f"byte {stop}",
            )
        )
    elif end and int(offsets[-1]) + 16 + int(raw[-1]) > size:
        end -= 1
        problems.append(_cut_off(source, int(offsets[end]), end))
    elif stop < size:
        problems.append(_cut_off(source, stop, end))
    return offsets[:end] + 12, raw[:end].astype(np.int64)


def _cut_off(source: str, offset: int, records: int) -> Problem:
    before = f"the {records} records before it were read" if records else "no complete record before it"
    return Problem(
        source, f"file ends mid-record at byte offset {offset} (run stopped while writing?); {before}", f"byte {offset}"
    )


def _open(path: Path, source: str) -> bytes:
    """The file's bytes; InputError when it is unreadable, empty or a Git LFS pointer.

    Read into memory rather than mapped: a map of a file that another process truncates while it is
    read raises SIGBUS and kills the analysis with no message (found by tests/fuzz)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_LFS))
            if not head:
                raise InputError(source, "file is empty")
            if head.startswith(_LFS):
                raise InputError(source, "Git LFS pointer, not the event file: run git lfs pull")
            return head + fh.read()
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None


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
    return named or b"brain.Event:" in head[12 : 12 + min(length, 64)]
