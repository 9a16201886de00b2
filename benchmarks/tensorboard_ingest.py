"""Benchmark: read a large TensorBoard event file beside tbparse, EventAccumulator, trainproof and losslint.

    python benchmarks/tensorboard_ingest.py [STEPS] [--runs N] [--dir DIR]

The input comes from ../shared/bench/gen_tensorboard.py: STEPS steps x 8 tags, one Event per scalar
(default 125,000 steps: 1,000,000 scalar events, about 54 MB; writing it takes a few minutes, so
`--dir` reuses a folder written before). Each command runs in its own process; the table shows the
best wall time of N runs (default 1), the peak resident memory of its process tree and the time ratio
to our reader. Rows:
- analyzer ingest: analyzer.ingest.ingest(DIR), the TensorBoard reader alone (contract frames);
- analyze --format json: end to end (ingest, merge, signals, rules, report);
- tbparse `SummaryReader(DIR).scalars`;
- tensorboard `EventAccumulator(DIR, size_guidance={'scalars': 0, 'tensors': 0})`, Reload and every scalar;
- `trainproof doctor DIR` and `losslint check DIR`, end to end.
The readers that return rows write their count to a file; the script checks that ours found as many
scalar points as tbparse and EventAccumulator.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _measure import measure, print_table, tensorboard_arguments, tensorboard_input

OURS = (
    "import sys; from pathlib import Path; from analyzer.ingest import ingest; "
    "n = sum(len(f.metrics) for _, f in ingest(Path(sys.argv[1])).frames); open(sys.argv[2], 'w').write(str(n))"
)
TBPARSE = (
    "import sys; from tbparse import SummaryReader; "
    "open(sys.argv[2], 'w').write(str(len(SummaryReader(sys.argv[1]).scalars)))"
)
ACCUMULATOR = (
    "import sys; from tensorboard.backend.event_processing.event_accumulator import EventAccumulator; "
    "ea = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0, 'tensors': 0}); ea.Reload(); "
    "n = sum(len(ea.Scalars(t)) for t in ea.Tags()['scalars']); open(sys.argv[2], 'w').write(str(n))"
)


def tool(name: str) -> str:
    """A console script of this interpreter's environment (the peers are installed beside us)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def main() -> None:
    args = tensorboard_arguments(__doc__.splitlines()[0], runs=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = tensorboard_input(args, tmp)
        size = sum(p.stat().st_size for p in folder.rglob("*tfevents*")) / 1e6
        counts = {name: Path(tmp) / f"{name}.count" for name in ("ours", "tbparse", "accumulator")}
        commands = [
            ("analyzer ingest (TensorBoard reader)", [sys.executable, "-c", OURS, str(folder), str(counts["ours"])]),
            ("analyze --format json (end to end)", [sys.executable, "-m", "analyzer", str(folder), "-f", "json"]),
            (
                "tbparse SummaryReader(dir).scalars",
                [sys.executable, "-c", TBPARSE, str(folder), str(counts["tbparse"])],
            ),
            (
                "EventAccumulator (size_guidance 0)",
                [sys.executable, "-c", ACCUMULATOR, str(folder), str(counts["accumulator"])],
            ),
            ("trainproof doctor DIR", [tool("trainproof"), "doctor", str(folder)]),
            ("losslint check DIR", [tool("losslint"), "check", str(folder)]),
        ]
        rows = [(label, measure(cmd, args.runs)) for label, cmd in commands]
        found = {name: int(path.read_text()) if path.exists() else None for name, path in counts.items()}
    print_table(
        f"TensorBoard event file, {int(args.steps) * 8:,} scalar events ({size:.0f} MB), best of {args.runs}",
        rows,
        "x ours",
    )
    print("scalar points found: " + ", ".join(f"{k} {v:,}" if v is not None else f"{k} ?" for k, v in found.items()))
    if found["ours"] != found["tbparse"]:
        sys.exit(f"MISMATCH: ours found {found['ours']} points, tbparse {found['tbparse']}")


if __name__ == "__main__":
    main()
