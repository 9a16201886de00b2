"""Benchmark: read a large LLaMA-Factory trainer_log.jsonl, beside a bare json.loads loop + DataFrame.

    python benchmarks/llamafactory_ingest.py [LINES]     (default 1,000,000 lines)

Lines follow LLaMA-Factory's LogCallback (current_steps, total_steps, loss, lr, epoch, percentage,
elapsed_time, remaining_time, throughput, total_tokens), as in ../shared/real_logs artifacts 014/015.
Each reader runs in its own process, twice; the table shows the best wall time, the peak resident
memory and the ratio to the baseline. The baseline only parses and tabulates (it converts no
durations, names no metric and reports no broken line), so it is a floor, not a peer.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from _measure import measure, print_table

BASELINE = (
    "import json, sys, pandas as pd; rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]; "
    "print(pd.DataFrame(rows).shape)"
)
INGEST = (
    "import sys; from pathlib import Path; from analyzer.ingest import llamafactory; "
    "print(len(llamafactory.parse(Path(sys.argv[1]), 'x').metrics))"
)


def write_log(path: Path, lines: int) -> None:
    rng = random.Random(0)
    with path.open("w") as out:
        for s in range(1, lines + 1):
            out.write(
                json.dumps(
                    {
                        "current_steps": s,
                        "total_steps": lines,
                        "loss": round(2 - s / lines + rng.random() * 0.1, 4),
                        "lr": 2e-5 * (1 - s / lines),
                        "epoch": round(3 * s / lines, 2),
                        "percentage": round(100 * s / lines, 2),
                        "elapsed_time": f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}",
                        "remaining_time": "1:00:00",
                        "throughput": round(1200 + rng.random() * 100, 2),
                        "total_tokens": s * 4096,
                    }
                )
                + "\n"
            )


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "trainer_log.jsonl"
        write_log(log, lines)
        size = log.stat().st_size / 1e6
        rows = [
            ("json.loads loop + DataFrame (floor)", measure([sys.executable, "-c", BASELINE, str(log)], 2)),
            ("analyzer ingest (llamafactory.parse)", measure([sys.executable, "-c", INGEST, str(log)], 2)),
            (
                "analyze --format json (end to end)",
                measure([sys.executable, "-m", "analyzer", str(log), "-f", "json"], 2),
            ),
        ]
    print_table(
        f"LLaMA-Factory trainer_log.jsonl, {lines:,} lines ({size:.0f} MB), best of 2",
        rows,
        "x floor",
        per=("us/line", lines),
    )


if __name__ == "__main__":
    main()
