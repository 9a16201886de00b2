"""Per-run analysis cost of two checkouts, measured at the same moments: one process per checkout, one per core.

    python benchmarks/side_by_side.py OLD_CHECKOUT NEW_CHECKOUT [--runs 300] [--rounds 3]

This machine's speed swings about twofold over minutes (a shared host), so two timings taken one after the other
compare the moments more than the code. Here both checkouts analyse the same generated runs (the mix of
benchmarks/triage.py) in warm worker processes started together, round after round; the ratio of each round is
what to read (the same code gives 1.00 within about half a percent). Use a git worktree for the old checkout:
`git worktree add /tmp/old HEAD~1`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage import generate  # the benchmark's own run mix

WORKER = """
import json, sys, time
from pathlib import Path
from analyzer.triage.runner import preload
preload()
from analyzer.triage.discover import discover
from analyzer.triage.worker import Options, analyse_targets
targets = discover([Path(sys.argv[1])])
analyse_targets(targets[:20], Options())  # warm: first-use imports and caches
print("ready", flush=True)
sys.stdin.readline()
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    analyse_targets(targets, Options())
    print(json.dumps(1000 * (time.perf_counter() - start) / len(targets)), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as work:
        runs = Path(work) / "runs"
        generate(runs, args.runs)
        procs = {
            root: subprocess.Popen(
                [sys.executable, "-c", WORKER, str(runs), str(args.rounds)],
                cwd=root,
                env={"PYTHONPATH": str(root.resolve()), "PATH": "/usr/bin:/bin"},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for root in (args.old, args.new)
        }
        for proc in procs.values():
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs.values():  # both start their rounds together
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        times = {root: [json.loads(line) for line in proc.stdout or []] for root, proc in procs.items()}
        for proc in procs.values():
            proc.wait()
    old, new = times[args.old], times[args.new]
    for label, values in (("old", old), ("new", new)):
        print(f"{label}: " + " ".join(f"{v:.2f}" for v in values) + " ms per run")
    ratios = [n / o for o, n in zip(old, new, strict=True)]
    print("new / old per round: " + " ".join(f"{r:.3f}" for r in ratios) + f"   in all: {sum(new) / sum(old):.3f}")


if __name__ == "__main__":
    main()
