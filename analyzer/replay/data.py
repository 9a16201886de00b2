"""Tokenized rows from a dataset file, and the batches the Trainer fed at a step (its sampler rebuilt)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from analyzer.replay.errors import ReplayError

Row = dict[str, Any]
COLUMNS = ("input_ids", "attention_mask", "labels")


def read_rows(path: Path) -> list[Row]:
    """Rows of a JSONL file, a Parquet file, or a folder written by `datasets.save_to_disk` (Arrow files)."""
    if path.is_dir():
        files = sorted(path.glob("data-*.arrow")) or sorted(path.glob("*.arrow"))
        if not files:
            raise ReplayError(f"{path}: no .arrow files (expected a folder written by datasets.save_to_disk)")
        import pyarrow as pa

        rows: list[Row] = []
        for file in files:
            with pa.memory_map(str(file)) as source:
                rows.extend(pa.ipc.open_stream(source).read_all().to_pylist())
        return _checked(rows, path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return _checked(pq.read_table(path).to_pylist(), path)
    rows = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ReplayError(f"{path}:{number}: not a JSON line ({exc})") from None
    return _checked(rows, path)


def _checked(rows: list[Row], path: Path) -> list[Row]:
    if not rows:
        raise ReplayError(f"{path}: no rows")
    if "input_ids" not in rows[0]:
        raise ReplayError(f"{path}: rows need tokenized input_ids (columns: {', '.join(map(str, rows[0]))})")
    return rows


def epoch_order(n: int, sampler: str, seed: int, epoch: int) -> list[int]:
    """The row order of one epoch.

    `trainer`: the Trainer's default shuffle. transformers wraps its RandomSampler in accelerate's
    SeedableRandomSampler (`use_seedable_sampler`, on by default), which reseeds a fresh generator with
    `data_seed` (else the seed `set_seed` gave torch) plus the epoch and draws one `randperm` per epoch.
    """
    if sampler == "sequential":
        return list(range(n))
    import torch

    generator = torch.Generator()
    generator.manual_seed(seed + epoch)
    return [int(i) for i in torch.randperm(n, generator=generator).tolist()]


def step_indices(
    n: int, step: int, batch_size: int, grad_accum: int, sampler: str, seed: int, drop_last: bool = False
) -> list[list[int]]:
    """Row indices of each micro-batch of optimizer step `step` (1-based, as `global_step` counts)."""
    micro = n // batch_size if drop_last else math.ceil(n / batch_size)
    per_epoch = math.ceil(micro / grad_accum)
    if per_epoch == 0:
        raise ReplayError(f"{n} rows make no batch of {batch_size}")
    epoch, update = divmod(step - 1, per_epoch)
    order = epoch_order(n, sampler, seed, epoch)
    first, last = update * grad_accum, min((update + 1) * grad_accum, micro)
    return [order[b * batch_size : (b + 1) * batch_size] for b in range(first, last)]


def collate(rows: list[Row], pad_id: int) -> dict[str, Any]:
    """Pad to the longest row on the right (labels with -100), as the usual collators do; tensors on CPU.

    Scalar labels (classification or regression targets) stay one value per row.
    """
    import torch

    longest = max(len(r["input_ids"]) for r in rows)
    fills = {"input_ids": pad_id, "attention_mask": 0, "labels": -100}

    def padded(seq: list[Any], column: str) -> list[Any]:
        return list(seq) + [fills[column]] * (longest - len(seq))

    batch: dict[str, Any] = {
        "input_ids": torch.tensor([padded(r["input_ids"], "input_ids") for r in rows]),
        "attention_mask": torch.tensor(
            [padded(r.get("attention_mask") or [1] * len(r["input_ids"]), "attention_mask") for r in rows]
        ),
    }
    if all("labels" in r for r in rows):
        labels = [r["labels"] for r in rows]
        batch["labels"] = torch.tensor([padded(v, "labels") for v in labels] if isinstance(labels[0], list) else labels)
    return batch
