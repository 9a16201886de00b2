"""Benchmark: analyze a large trainer_state.json, beside a bare `json.load` + DataFrame of log_history.

    python benchmarks/trainer_state_ingest.py [ROWS]     (default 200,000 logged steps)

The input is written with the Trainer's own writer when transformers is installed
(`TrainerState.save_to_json`), otherwise with the same call it makes
(`json.dumps(asdict(state), indent=2, sort_keys=True)`). Each reader runs in its own process,
end to end from the command line, three times; the table shows the best wall time, the peak
resident memory and the ratio to the baseline. The baseline only parses and tabulates: it
classifies nothing, canonicalizes nothing and runs no rule, so it is a floor, not a peer.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from _measure import measure, print_table

BASELINE = (
    "import json, sys, pandas as pd; d = json.load(open(sys.argv[1])); "
    "df = pd.DataFrame(d['log_history']); print(df.shape)"
)


def write_state(path: Path, rows: int) -> None:
    """A trainer_state.json with `rows` train rows and an eval row every 1,000 steps."""
    rng = random.Random(0)
    history: list[dict[str, float | int]] = []
    for step in range(1, rows + 1):
        history.append(
            {
                "epoch": step / 1000,
                "grad_norm": rng.uniform(0.2, 3.0),
                "learning_rate": 1e-5,
                "loss": 2.0 + rng.random(),
                "step": step,
            }
        )
        if step % 1000 == 0:
            history.append(
                {
                    "epoch": step / 1000,
                    "eval_loss": 1.5 + rng.random(),
                    "eval_runtime": 1.2,
                    "eval_samples_per_second": 30.0,
                    "eval_steps_per_second": 3.0,
                    "step": step,
                }
            )
    try:
        from transformers import TrainerState

        state = TrainerState(global_step=rows, max_steps=rows, log_history=history, logging_steps=1)
        state.save_to_json(str(path))
    except ImportError:
        doc = {"global_step": rows, "max_steps": rows, "log_history": history, "logging_steps": 1}
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trainer_state.json"
        write_state(path, rows)
        size = path.stat().st_size / 2**20
        table = [
            ("json.load + pandas.DataFrame (floor)", measure([sys.executable, "-c", BASELINE, str(path)])),
            (
                "analyze --format json (ingest + rules)",
                measure([sys.executable, "-m", "analyzer", str(path), "--format", "json"]),
            ),
        ]
    print_table(
        f"trainer_state.json with {rows:,} logged steps ({size:.1f} MiB), best of 3, end to end", table, "time ratio"
    )


if __name__ == "__main__":
    main()
