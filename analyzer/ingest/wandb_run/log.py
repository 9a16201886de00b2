"""The `.wandb` transaction log: its header and LevelDB-style block framing, into record payloads.

The `.wandb` file is read directly (docs/formats.md §4.2): a 7-byte `:W&B` header, then a LevelDB-style
log of 32 KiB blocks whose chunks (FULL, or FIRST MIDDLE* LAST) carry a CRC-32 of their type byte and data.
"""

from __future__ import annotations

import struct
import zlib

from analyzer.errors import InputError, Problem

MAGIC = b":W&B"
_HEADER = struct.Struct("<4sHB")  # magic, 0xBEE1, format version 0
_CHUNK = struct.Struct("<IHB")  # CRC-32 (IEEE, unmasked) of type byte + data, data length, type
BLOCK = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


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
        if room < _CHUNK.size or data[pos : pos + _CHUNK.size] == bytes(_CHUNK.size):
            pos += room  # a block's zero trailer, or zero fill after the last chunk
            continue
        if pos + _CHUNK.size > size:
            problems.append(Problem(source, "file ends inside a chunk header (truncated)", f"byte {pos}"))
            break
        crc, length, kind = _CHUNK.unpack_from(data, pos)
        end = pos + _CHUNK.size + length
        if length > room - _CHUNK.size or kind not in (FULL, FIRST, MIDDLE, LAST):
            problems.append(
                Problem(
                    source,
                    f"corrupt chunk header (type {kind}, length {length}); the rest of its 32 KiB block is skipped",
                    f"byte {pos}",
                )
            )
            parts, dropping, pos = [], True, pos + room
            continue
        if end > size:
            problems.append(
                Problem(
                    source,
                    f"file ends inside a record (truncated at byte {size}: the run was "
                    "killed or the copy is incomplete)",
                    f"byte {start if parts else pos}",
                )
            )
            parts = []
            break
        payload = data[pos + _CHUNK.size : end]
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
                problems.append(
                    Problem(source, "chunk continues a record whose start is missing; skipped", f"byte {pos}")
                )
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
