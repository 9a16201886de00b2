"""Benchmark: the TensorBoard reader's CRC-32C, numpy table beside the C libraries google-crc32c and crc32c.

    python benchmarks/tensorboard_crc32c.py [STEPS] [--runs N] [--dir DIR]

The input comes from ../shared/bench/gen_tensorboard.py (default 125,000 steps: 1,000,000 scalar events,
about 54 MB; `--dir` reuses a folder written before), framed by the reader. Everything is timed in this
process, best of N runs (default 3): _measure times whole processes, which would bury a checksum under
the interpreter's start and the framing. Three tables:
1. the data checksum of every record of the file (all scalar events, so all under 1 KiB: the reader
   verifies every one): the numpy table over all records of one length at once, one google-crc32c or
   crc32c call per record, and the reader's own mix (analyzer.ingest.tensorboard.checksums._data_crc_ok);
2. one record at a time (headers of large records, records over 1 KiB, small groups): the pure-Python
   table loop (the reader's masked_crc32c before google-crc32c) beside the two libraries;
3. numpy against google-crc32c per record, by record length and records of that length, which sets where
   the reader switches from one to the other.
Every method must give the same checksums, and every stored checksum of the file must match.
"""

from __future__ import annotations

import mmap
import os
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import crc32c
import google_crc32c
import numpy as np
from _measure import tensorboard_arguments, tensorboard_input
from numpy.lib.stride_tricks import sliding_window_view

from analyzer.ingest.tensorboard.checksums import _crc_rows, _crc_table, _data_crc_ok
from analyzer.ingest.tensorboard.framing import _records, _View

_MASK_DELTA = np.uint32(0xA282EAD8)
_TABLE = [int(x) for x in _crc_table()]


def best(work: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Best wall time (s) of `runs` calls, and the last call's result."""
    seconds, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, result


def mask(crcs: np.ndarray) -> np.ndarray:
    return ((crcs >> 15) | (crcs << 17)) + _MASK_DELTA


def by_numpy(view: _View, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Masked checksums of the records, the records of each length at once through the 16-bit numpy table."""
    out = np.zeros(len(starts), dtype=np.uint32)
    order = np.argsort(lengths.astype(np.uint16), kind="stable")  # as the reader sorts them
    for rows in np.split(order, np.flatnonzero(np.diff(lengths[order])) + 1):
        out[rows] = _crc_rows(sliding_window_view(view.u8, int(lengths[rows[0]]))[starts[rows]])
    return out


def by_library(crc: Callable[[bytes], int]) -> Callable[[_View, np.ndarray, np.ndarray], np.ndarray]:
    """Masked checksums of the records, one library call per record."""

    def run(view: _View, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        data = view.data
        raw = np.fromiter(
            (crc(data[s : s + n]) for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)),
            dtype=np.uint32,
            count=len(starts),
        )
        return mask(raw)

    return run


def python_table(data: bytes) -> int:
    """masked CRC-32C with a byte-table loop in Python (what the reader did before google-crc32c)."""
    value = 0xFFFFFFFF
    for byte in data:
        value = _TABLE[(value ^ byte) & 0xFF] ^ (value >> 8)
    value ^= 0xFFFFFFFF
    return (((value >> 15) | (value << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def masked(crc: Callable[[bytes], int]) -> Callable[[bytes], int]:
    """A library's CRC-32C as TFRecord's masked checksum."""

    def run(data: bytes) -> int:
        value = crc(data)
        return (((value >> 15) | (value << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    return run


def table(title: str, rows: list[tuple[str, float]], unit: str, scale: float) -> None:
    """Rows of (label, seconds), each with its speed-up over the first row (first row's time / its time)."""
    print(title)
    width = max(44, *(len(label) + 2 for label, _ in rows))
    print(f"{'method':{width}s} {unit:>12s} {'speed-up':>9s}")
    for label, seconds in rows:
        print(f"{label:{width}s} {seconds * scale:12.3f} {rows[0][1] / seconds:9.2f}")
    print()


def whole_file(view: _View, starts: np.ndarray, lengths: np.ndarray, runs: int) -> None:
    stored = view.u32[starts + lengths]
    methods = [
        ("numpy table, all records of a length at once", by_numpy),
        ("google-crc32c, one call per record", by_library(google_crc32c.value)),
        ("crc32c, one call per record", by_library(crc32c.crc32c)),
    ]
    rows = []
    for label, method in methods:
        seconds, crcs = best(lambda method=method: method(view, starts, lengths), runs)
        if not (crcs == stored).all():
            sys.exit(f"MISMATCH: {label} disagrees with {int((crcs != stored).sum())} stored checksums")
        rows.append((label, seconds))
    seconds, ok = best(lambda: _data_crc_ok(view, starts, lengths), runs)
    if not ok.all():
        sys.exit("MISMATCH: the reader's _data_crc_ok rejects a record every other method accepts")
    rows.append(("the reader (_data_crc_ok: numpy, else google-crc32c)", seconds))
    sizes = np.bincount(lengths)
    table(
        f"data checksums of all {len(starts):,} records ({int(lengths.sum()) / 1e6:.0f} MB of data, "
        f"{np.count_nonzero(sizes)} lengths from {lengths.min()} to {lengths.max()} bytes), best of {runs}",
        rows,
        "seconds",
        1.0,
    )
    print(
        f"ratio of times: google-crc32c / numpy {rows[1][1] / rows[0][1]:.2f}, crc32c / numpy "
        f"{rows[2][1] / rows[0][1]:.2f}, the reader / numpy {rows[3][1] / rows[0][1]:.2f}\n"
    )


def one_record(runs: int) -> None:
    methods = [
        ("Python byte-table loop", python_table),
        ("google-crc32c", masked(google_crc32c.value)),
        ("crc32c", masked(crc32c.crc32c)),
    ]
    for size in (64, 1024, 65536, 1 << 20):
        data = os.urandom(size)
        calls = max(1, (1 << 18) // size)
        rows = []
        for label, method in methods:
            seconds, value = best(lambda m=method, d=data, k=calls: [m(d) for _ in range(k)][-1], runs)
            if value != python_table(data):
                sys.exit(f"MISMATCH: {label} on {size} bytes")
            rows.append((label, seconds / calls))
        table(f"one record of {size:,} bytes", rows, "µs a record", 1e6)


def crossover(runs: int) -> None:
    rng = np.random.default_rng(0)
    print("numpy table / google-crc32c, time per record (above 1: the library is faster)")
    counts = (256, 1024, 4096, 65536)
    print(f"{'length':>8s} " + " ".join(f"{f'{n} records':>14s}" for n in counts))
    for length in (32, 48, 64, 80, 96, 128, 256):
        ratios = []
        for count in counts:
            data = rng.integers(0, 256, count * length, dtype=np.uint8).tobytes()
            view = _View.of(data)
            starts = np.arange(count, dtype=np.int64) * length
            lengths = np.full(count, length, dtype=np.int64)
            numpy_s, a = best(lambda view=view, s=starts, n=lengths: by_numpy(view, s, n), runs)
            library_s, b = best(
                lambda view=view, s=starts, n=lengths: by_library(google_crc32c.value)(view, s, n), runs
            )
            if not (a == b).all():
                sys.exit(f"MISMATCH: numpy and google-crc32c at {length} bytes")
            ratios.append(numpy_s / library_s)
        print(f"{length:8d} " + " ".join(f"{r:14.2f}" for r in ratios))


def main() -> None:
    args = tensorboard_arguments(__doc__.splitlines()[0], runs=3)
    print(
        f"google-crc32c {version('google-crc32c')} ({google_crc32c.implementation} implementation), "
        f"crc32c {version('crc32c')} (hardware: {crc32c.hardware_based})\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = tensorboard_input(args, tmp)
        path = max(folder.rglob("*tfevents*"), key=lambda p: p.stat().st_size)
        with path.open("rb") as fh:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        view = _View.of(data)
        starts, lengths = _records(view, path.name, [])
        whole_file(view, starts, lengths, args.runs)
    one_record(args.runs)
    crossover(args.runs)


if __name__ == "__main__":
    main()
