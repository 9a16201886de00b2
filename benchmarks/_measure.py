"""Shared by the benchmarks: time a command in its own process and read its peak memory."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "gen_tensorboard.py"

# Runs a command and prints the peak RSS (KiB) of its process tree: a fresh parent per measurement,
# so one command's peak never leaks into another's.
_PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def measure(cmd: list[str], runs: int = 3) -> tuple[float, float]:
    """Best wall time (s) over `runs` runs and the peak RSS (MiB) of the command's process tree."""
    best, peak = float("inf"), 0.0
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _PEAK, *cmd], check=True, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        peak = max(peak, int(out.stdout.strip()) / 1024)
    return best, peak


def print_table(
    title: str, rows: list[tuple[str, tuple[float, float]]], ratio: str, per: tuple[str, int] | None = None
) -> None:
    """The benchmark's table: each command's best seconds and peak MiB, its time as a multiple of the
    first row's (column `ratio`), and with `per` = (column, count) microseconds per counted unit."""
    width = max(40, *(len(label) + 2 for label, _ in rows))
    extra = f" {per[0]:>8s}" if per else ""
    print(title)
    print(f"{'command':{width}s} {'seconds':>8s} {'peak MiB':>9s} {ratio:>10s}{extra}")
    first = rows[0][1][0]
    for label, (seconds, peak) in rows:
        extra = f" {seconds / per[1] * 1e6:8.1f}" if per else ""
        print(f"{label:{width}s} {seconds:8.2f} {peak:9.0f} {seconds / first:10.2f}{extra}")


def tensorboard_arguments(description: str, runs: int) -> argparse.Namespace:
    """STEPS, --runs and --dir of a benchmark on gen_tensorboard.py's event file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("steps", nargs="?", default="125000")
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--dir", type=Path, help="an input folder written before by gen_tensorboard.py")
    return parser.parse_args()


def tensorboard_input(args: argparse.Namespace, tmp: str) -> Path:
    """The folder of the event file: `--dir`, else one written into `tmp` by gen_tensorboard.py (minutes)."""
    if args.dir is not None:
        return Path(args.dir)
    if not GENERATOR.is_file():
        sys.exit(f"needs {GENERATOR} (the shared benchmark generators)")
    folder = Path(tmp) / "run"
    subprocess.run([sys.executable, str(GENERATOR), args.steps, str(folder)], check=True)
    return folder
