"""Start-up: what a user waits for before any real work, beside the peers on the same small run.

    python benchmarks/startup.py [RUN_FILE]

Each command runs in its own process, best of 7 (wall time from the parent, so Python's own start is
included); RUN_FILE defaults to sample_logs/hf_healthy/trainer_state.json (60 steps). Goals (issue 16):
`analyze --help` under 0.3 s and the small run under 0.5 s end to end on the 2-core development machine.
`python -c "import pandas"` is printed as the floor every reader of the Run contract (pandas frames) pays.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def best(cmd: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    run = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "sample_logs" / "hf_healthy" / "trainer_state.json")
    analyze = [sys.executable, "-m", "analyzer"]
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ('python -c "import pandas" (floor)', [sys.executable, "-c", "import pandas"]),
        ("analyze --help", [*analyze, "--help"]),
        ("analyze RUN -q", [*analyze, run, "-q"]),
        ("analyze RUN --format json", [*analyze, run, "--format", "json"]),
    ]
    for peer, args in (("trainproof", ["doctor", run]), ("losslint", ["check", run])):
        exe = shutil.which(peer)
        if exe:
            rows.append((f"{peer} {args[0]} RUN", [exe, *args]))
        else:
            print(f"({peer} not installed: pip install '.[bench]')")
    results = [(label, best(cmd)) for label, cmd in rows]
    ours = dict(results)["analyze RUN -q"]
    print(f"run file: {run}")
    print(f"{'command':40s} {'seconds':>8s} {'x analyze RUN -q':>17s}")
    for label, seconds in results:
        print(f"{label:40s} {seconds:8.3f} {seconds / ours:17.2f}")


if __name__ == "__main__":
    main()
