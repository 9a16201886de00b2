"""Triage throughput: N generated runs, `analyze triage` beside `trainproof doctor` run once per run.

    python benchmarks/triage.py [--runs 1000] [--jobs 2] [--peer-runs N] [--keep DIR]

The runs are made from sample_logs/: a mix of healthy and failing Trainer runs, each a folder with a
trainer_state.json, a console log (nohup.out), or both; every trainer_state.json has its loss values
scaled by a small per-run factor so that no two runs are byte-identical. Printed: runs per second of a
first triage (a fresh index, end to end: process start, discovery, analysis on warm worker processes,
the index, the summary), of a second incremental triage over the unchanged folders, and of trainproof
doctor, one process per run folder, sequentially and two at a time (the machine has 2 cores), with the
ratios. `--peer-runs N` times trainproof on the first N runs only (its rate is per run, so the ratio
holds; the full set is the default).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_logs"
# (sample, verdict it carries) - the healthy ones repeat so that about half the runs are healthy.
TEMPLATES = (
    "hf_healthy",
    "hf_healthy",
    "hf_healthy_cosine_restarts",
    "hf_healthy_cosine_restarts",
    "hf_grpo_zero_loss",
    "hf_nan_loss_filtered",
    "hf_nan_loss_unfiltered",
    "hf_lr_too_high",
    "hf_labels_all_masked",
    "hf_lr_zero",
    "hf_eval_nan",
    "hf_overfit_tiny_train",
    "hf_lr_pulse",
    "hf_slowdown",
)
CONSOLE_ONLY = ("hf_exception", "hf_killed", "gpu_cuda_oom", "hf_vocab_mismatch_crash", "hf_sigterm_time_limit")


def generate(dest: Path, count: int, seed: int = 17) -> list[Path]:
    """`count` run folders under dest/team_<k>/run_<i>: trainer state, console log, or both."""
    rng = random.Random(seed)
    states = {name: json.loads((SAMPLES / name / "trainer_state.json").read_text()) for name in TEMPLATES}
    runs = []
    for i in range(count):
        folder = dest / f"team_{i % 7}" / f"run_{i:05d}"
        folder.mkdir(parents=True)
        kind = rng.random()
        if kind < 0.2:
            name = rng.choice(CONSOLE_ONLY)
            shutil.copy(SAMPLES / name / "nohup.out", folder / "nohup.out")
        else:
            name = rng.choice(TEMPLATES)
            state = json.loads(json.dumps(states[name]))
            factor = 1 + rng.uniform(-0.01, 0.01)
            for row in state.get("log_history", []):
                if isinstance(row.get("loss"), float) and row["loss"] not in (0.0,) and row["loss"] == row["loss"]:
                    row["loss"] *= factor
            (folder / "trainer_state.json").write_text(json.dumps(state, indent=2))
            if kind > 0.6:
                shutil.copy(SAMPLES / name / "nohup.out", folder / "nohup.out")
        runs.append(folder)
    return runs


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def peer(runs: list[Path], parallel: int) -> float:
    exe = shutil.which("trainproof")
    if exe is None:
        raise SystemExit("trainproof is not installed: pip install '.[bench]'")
    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(lambda r: subprocess.run([exe, "doctor", str(r)], capture_output=True, check=False), runs))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--peer-runs", type=int, default=0, help="trainproof on the first N runs (0: all)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    root = args.keep or work / "runs"
    runs = generate(root, args.runs) if not root.exists() else sorted(root.glob("team_*/run_*"))
    db = (args.keep.parent if args.keep else work) / "index.duckdb"
    cmd = [sys.executable, "-m", "analyzer", "triage", str(root), "--jobs", str(args.jobs), "--db", str(db)]
    first, done = timed(cmd)
    if done.returncode not in (0, 1):
        raise SystemExit(f"triage failed ({done.returncode}): {done.stderr[-2000:]}")
    with duckdb.connect(str(db), read_only=True) as con:
        busy, median = con.execute("SELECT sum(seconds), median(seconds) FROM runs").fetchone() or (0.0, 0.0)
    second, again = timed(cmd)
    print("first pass: " + done.stderr.strip().splitlines()[-1])
    print("second pass: " + again.stderr.strip().splitlines()[-1])
    if " 0 analysed" not in again.stderr:
        print("warning: the second pass analysed runs again: the rules or the version changed in between")
    print(
        f"in the workers: {1000 * median:.1f} ms median per run, {busy:.1f} s in all = "
        f"{busy / (args.jobs * first):.0%} of {args.jobs} workers x the first pass's wall time"
    )
    print(done.stdout.splitlines()[0])
    sample = runs[: args.peer_runs] if args.peer_runs else runs
    seq = peer(sample, 1) * len(runs) / len(sample)
    par = peer(sample, 2) * len(runs) / len(sample)
    n = len(runs)
    rows = [
        ("analyze triage (first pass)", first),
        ("analyze triage (second pass, unchanged)", second),
        ("trainproof doctor, one process per run", seq),
        ("trainproof doctor, 2 processes at a time", par),
    ]
    note = f" (timed on {len(sample)} runs, scaled)" if len(sample) < n else ""
    print(f"{n} runs, {args.jobs} jobs; trainproof{note}")
    print(f"{'':44s} {'seconds':>8s} {'runs/s':>8s} {'x trainproof seq':>17s} {'x trainproof 2p':>16s}")
    for label, seconds in rows:
        print(f"{label:44s} {seconds:8.2f} {n / seconds:8.1f} {seq / seconds:17.2f} {par / seconds:16.2f}")
    print(f"incremental speed-up (first / second pass): {first / second:.1f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
