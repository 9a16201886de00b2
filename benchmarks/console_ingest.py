"""Benchmark: read a large Trainer console log, beside `grep -c "'loss'"` and a plain Python loop.

    python benchmarks/console_ingest.py [STEPS]     (default 2,000,000 steps, about 287 MB)

The input comes from ../shared/bench/gen_trainer_stdout.py (dict lines, tqdm redraws with \\r, eval
lines). Each command runs in its own process; best wall time of RUNS runs and the peak resident
memory of its process tree are printed with the ratio to grep. Rows:
- grep -c "'loss'": the floor the issue measures against (counts lines, parses nothing);
- python -c "import pandas": starting Python and importing pandas, which any reader that returns the
  Run contract's pandas frames pays before it reads a byte (reads nothing);
- plain Python: `for line in file` + `ast.literal_eval` of each dict line (the 17 s figure of docs/design.md);
- analyzer ingest: the console reader alone (console.parse: metrics, events, steps from the bars);
- analyze end to end: `analyze FILE --format json` (ingest, merge, rules, report).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _measure import measure, print_table

GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "gen_trainer_stdout.py"
RUNS = 2
PLAIN = (
    "import ast, sys\nn = 0\nfor line in open(sys.argv[1], errors='replace'):\n"
    "    i = line.find(\"{'loss'\")\n    if i >= 0:\n"
    "        d = ast.literal_eval(line[i:].strip().replace('nan', 'None')); n += 1\nprint(n)"
)
INGEST = (
    "import sys; from pathlib import Path; from analyzer.ingest import console; console.parse(Path(sys.argv[1]), 'x')"
)


def main() -> None:
    steps = sys.argv[1] if len(sys.argv) > 1 else "2000000"
    if not GENERATOR.is_file():
        sys.exit(f"needs {GENERATOR} (the shared benchmark generators)")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "stdout.log"
        subprocess.run([sys.executable, str(GENERATOR), steps, str(log)], check=True)
        size = log.stat().st_size / 1e6
        commands = [
            ("grep -c \"'loss'\"", ["grep", "-c", "'loss'", str(log)]),
            ("python -c 'import pandas' (reads nothing)", [sys.executable, "-c", "import pandas"]),
            ("plain Python loop + literal_eval", [sys.executable, "-c", PLAIN, str(log)]),
            ("analyzer ingest (console.parse)", [sys.executable, "-c", INGEST, str(log)]),
            ("analyze --format json (end to end)", [sys.executable, "-m", "analyzer", str(log), "-f", "json"]),
        ]
        rows = [(label, measure(cmd, RUNS)) for label, cmd in commands]
    print_table(
        f"Trainer console log, {int(steps):,} steps ({size:.0f} MB), best of {RUNS}, 2-core machine", rows, "x grep"
    )


if __name__ == "__main__":
    main()
