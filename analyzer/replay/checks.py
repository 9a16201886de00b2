"""Checks of a batch itself: supervised tokens, empty or all-pad rows, lengths, token ids past the embedding."""

from __future__ import annotations

import math
from typing import Any


def check_batch(micro: list[dict[str, Any]], vocab_size: int | None, pad_id: int | None) -> dict[str, Any]:
    """Facts about the step's micro-batches (all rows together), each a number a reader can check."""
    rows = supervised = empty = all_pad = nonfinite_labels = 0
    lengths: list[int] = []
    max_id = -1
    token_labels = True
    for batch in micro:
        ids, mask = batch["input_ids"], batch.get("attention_mask")
        rows += int(ids.shape[0])
        row_lengths = (
            mask.sum(dim=1) if mask is not None else (ids != (pad_id if pad_id is not None else -1)).sum(dim=1)
        )
        lengths.extend(int(v) for v in row_lengths.tolist())
        empty += int((row_lengths == 0).sum().item())
        if pad_id is not None:
            all_pad += int((ids == pad_id).all(dim=1).sum().item())
        max_id = max(max_id, int(ids.max().item()) if ids.numel() else -1)
        labels = batch.get("labels")
        if labels is None:
            continue
        if labels.is_floating_point() or labels.dim() == 1:
            token_labels = False
            supervised += int(labels.numel())
            if labels.is_floating_point():
                nonfinite_labels += int((~labels.isfinite()).sum().item())
        else:
            supervised += int((labels != -100).sum().item())
    facts: dict[str, Any] = {
        "rows": rows,
        "supervised_tokens" if token_labels else "labelled_rows": supervised,
        "empty_rows": empty,
        "all_pad_rows": all_pad,
        "length_min": min(lengths) if lengths else 0,
        "length_max": max(lengths) if lengths else 0,
        "length_mean": round(sum(lengths) / len(lengths), 1) if lengths else 0.0,
        "max_token_id": max_id,
        "vocab_size": vocab_size,
        "ids_past_embedding": vocab_size is not None and max_id >= vocab_size,
    }
    if not token_labels:
        facts["nonfinite_labels"] = nonfinite_labels
    return facts


def no_supervision(facts: dict[str, Any]) -> bool:
    return facts.get("supervised_tokens", 1) == 0 or facts.get("labelled_rows", 1) == 0


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
