"""One event file read whole: framing, data checksums, the fast path, then the protobuf path for the rest.

The data checksum of every record up to 1 KiB (all scalar events) is verified before decoding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analyzer.errors import InputError, Problem
from analyzer.ingest.tensorboard.checksums import _data_crc_ok
from analyzer.ingest.tensorboard.events import _CHECK_ALL_UP_TO, _corrupt, _decode_rest, _Scan, _Slow
from analyzer.ingest.tensorboard.fast import _fast_scalars, _tag_ids
from analyzer.ingest.tensorboard.framing import _open, _records, _View


def _scan_file(path: Path, source: str) -> _Scan:
    """Read one event file: framing, checksums, fast path, then the protobuf path for the rest."""
    return _scan(_View.of(_open(path, source)), source)


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
