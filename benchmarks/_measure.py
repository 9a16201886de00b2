"""Shared by the benchmarks: time a command in its own process and read its peak memory."""

from __future__ import annotations

import subprocess
import sys
import time

# Runs a command and prints the peak RSS (KiB) of its process tree: a fresh parent per measurement,
# so one command's peak never leaks into another's.
_PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
         "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def measure(cmd: list[str], runs: int = 3) -> tuple[float, float]:
    """Best wall time (s) over `runs` runs and the peak RSS (MiB) of the command's process tree."""
    best, peak = float("inf"), 0.0
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _PEAK, *cmd], check=True, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        peak = max(peak, int(out.stdout.strip()) / 1024)
    return best, peak
