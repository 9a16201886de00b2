#!/usr/bin/env python3
"""Plain PyTorch training loops (no Trainer) with planted faults, for the sample gallery.

    python sample_logs/generate_plain.py            # every case
    python sample_logs/generate_plain.py --list

Each case trains generate.py's tiny Llama on the same token progressions with a hand-written loop,
prints nanoGPT-style `iter N: loss X, time Tms` lines to its console capture (train.log) and writes
TensorBoard scalars with torch's SummaryWriter (runs/). expected.yaml is computed from the values the
loop logged, never written by hand. Needs torch, transformers (for the model class) and tensorboard.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from generate import BATCH_SIZE, N_TRAIN, SEED, PatternDataset, build_model, lr_zero_from, versions
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

HERE = Path(__file__).resolve().parent
STEPS = 60


@dataclass(frozen=True)
class Case:
    name: str
    how: str
    cause: str
    failure_modes: tuple[str, ...]
    schedule_iters: int  # LinearLR(total_iters=...) from 1.0 to end_factor
    end_factor: float


CASES = (
    Case(
        name="torch_lr_schedule_too_short",
        how=("A plain PyTorch loop of 60 steps whose LinearLR(start_factor=1, end_factor=0, total_iters=30) was sized "
             "for one epoch: the learning rate is 0 from step 31 and the second half updates nothing."),
        cause="The scheduler's total_iters is half the run: the learning rate reaches 0 mid-run.",
        failure_modes=("not_learning",),
        schedule_iters=30,
        end_factor=0.0,
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}


def train(case: Case, folder: Path) -> list[dict[str, float]]:
    """The loop; returns what it logged (step, loss, learning_rate)."""
    torch.manual_seed(SEED)
    model = build_model()
    data = DataLoader(PatternDataset(N_TRAIN, seed=SEED, mask_labels=False), batch_size=BATCH_SIZE, shuffle=True,
                      generator=torch.Generator().manual_seed(SEED))
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0, end_factor=case.end_factor,
                                                  total_iters=case.schedule_iters)
    writer = SummaryWriter(log_dir=str(folder / "runs"))
    logged: list[dict[str, float]] = []
    batches = iter(data)
    with (folder / "train.log").open("w") as console:
        console.write(f"number of parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M\n")
        for step in range(1, STEPS + 1):
            try:
                batch = next(batches)
            except StopIteration:
                batches = iter(data)
                batch = next(batches)
            start = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]  # the rate this step uses
            loss = model(input_ids=batch["input_ids"], labels=batch["labels"]).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            elapsed_ms = (time.perf_counter() - start) * 1000
            value = loss.item()
            console.write(f"iter {step}: loss {value:.4f}, time {elapsed_ms:.2f}ms\n")
            writer.add_scalar("train/loss", value, step)
            writer.add_scalar("train/lr", lr, step)
            logged.append({"step": step, "loss": value, "learning_rate": lr})
    writer.close()
    return logged


def write_expected(case: Case, folder: Path, logged: list[dict[str, float]]) -> None:
    onset = lr_zero_from(logged)
    if onset is None:
        raise RuntimeError(f"{case.name}: the learning rate never stayed at 0: the planted fault did not happen")
    loss = {int(row["step"]): row["loss"] for row in logged}
    first, last = logged[0]["loss"], logged[-1]["loss"]
    expected: dict[str, Any] = {
        "case": case.name,
        "failure_modes": list(case.failure_modes),
        "onset_step": onset,
        "onset_step_by_mode": {"not_learning": onset},
        "cause": case.cause,
        "notes": (f"{case.how} Logged learning rate {logged[0]['learning_rate']:.3g} at step 1, 0.0 from step "
                  f"{onset} to {STEPS}. "
                  f"Train loss {first:.4f} at step 1 -> {loss[onset - 1]:.4f} at step {onset - 1} "
                  f"-> {last:.4f} at step {STEPS}. No trainer_state.json: train.log (console) and runs/ "
                  "(TensorBoard, torch SummaryWriter) only."),
        "versions": versions(),
    }
    (folder / "expected.yaml").write_text(yaml.safe_dump(expected, sort_keys=False, width=110))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CASES_BY_NAME), metavar="CASE")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name:32s} {case.how}")
        return 0
    for case in [CASES_BY_NAME[n] for n in args.only] if args.only else CASES:
        folder = HERE / case.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        logged = train(case, folder)
        if not all(math.isfinite(row["loss"]) for row in logged):
            print(f"PROBLEM: {case.name}: a non-finite loss", file=sys.stderr)
            return 1
        write_expected(case, folder, logged)
        print(f"{case.name:32s} {len(logged)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
