"""Ablations at the flagged step: the same update under another precision, rate or clipping, or without the batch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from analyzer.replay.step import Stepper

NAN_MODES = {"loss_nan", "grad_norm_nan", "loss_zero_grad_nan", "fp16_overflow", "eval_loss_nan", "crash"}
SPIKE_MODES = {"loss_spike", "divergence", "grad_explosion"}
SPIKE_RATIO = 1.5  # the next loss this many times the step's loss is a spike (the rules' jumps are larger)


@dataclass
class Outcome:
    """One variant of the update at the step, and the loss of the following batch after it."""

    name: str
    precision: str
    lr: float
    clip: float | None
    loss: float
    logged_loss: float  # what the Trainer would have logged for the step (its NaN/inf filter applied)
    grad_norm: float
    applied: bool
    next_loss: float | None
    symptom: bool  # does this variant show the failure the finding describes?

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def shows_symptom(mode: str, loss: float, grad_norm: float, applied: bool, next_loss: float | None) -> bool:
    """Whether numbers from a replayed step show the finding's failure mode."""
    finite = math.isfinite(loss) and math.isfinite(grad_norm) and applied
    if mode in SPIKE_MODES:
        return next_loss is None or not math.isfinite(next_loss) or next_loss > SPIKE_RATIO * max(loss, 1e-12)
    if mode in ("loss_zero", "not_learning"):
        return not math.isfinite(loss) or loss == 0.0 or grad_norm == 0.0
    return not finite or (next_loss is not None and not math.isfinite(next_loss))


def variants(stepper: Stepper, step: int, clip: float | None) -> list[tuple[str, str, float, float | None]]:
    """(name, precision, lr, clip) for each ablation worth running at this step, the run's own settings first."""
    s = stepper.settings
    lr = s.lr_at(step)
    out = [("as run", s.precision, lr, clip)]
    if s.precision != "fp32":
        out.append(("fp32", "fp32", lr, clip))
    scheduled = s.scheduled_lr(step)
    if scheduled is not None and not math.isclose(scheduled, lr, rel_tol=0.05):
        out.append(("scheduled lr", s.precision, scheduled, clip))
    out.append(("lr / 10", s.precision, lr / 10, clip))
    if not clip:
        out.append(("clipping 1.0", s.precision, lr, 1.0))
    return out


def run_ablations(
    stepper: Stepper, mode: str, update_step: int, micro: list[dict[str, Any]], following: list[dict[str, Any]]
) -> tuple[list[Outcome], dict[str, float]]:
    """Each variant from the same saved state; 'batch skipped' measures the following batch with no update.
    Also returns the per-layer gradient norms of the update as run."""
    saved = stepper.snapshot()
    clip = stepper.settings.max_grad_norm or None
    outcomes: list[Outcome] = []
    norms: dict[str, float] = {}
    for name, precision, lr, c in variants(stepper, update_step, clip):
        stepper.restore(saved)
        u = stepper.update(micro, precision, lr, c)
        norms = norms or u.layer_norms
        nxt = stepper.loss(following, precision) if following else None
        outcomes.append(
            Outcome(
                name,
                precision,
                lr,
                c,
                u.loss,
                u.logged_loss,
                u.grad_norm,
                u.applied,
                nxt,
                shows_symptom(mode, u.loss, u.grad_norm, u.applied, nxt),
            )
        )
    stepper.restore(saved)
    if following:
        precision = stepper.settings.precision
        nxt = stepper.loss(following, precision)
        first = outcomes[0]
        outcomes.append(
            Outcome(
                "batch skipped",
                precision,
                0.0,
                clip,
                first.loss,
                first.logged_loss,
                first.grad_norm,
                False,
                nxt,
                mode in SPIKE_MODES and shows_symptom(mode, first.loss, 0.0, True, nxt),
            )
        )
    stepper.restore(saved)
    return outcomes, norms


def batches_at_checkpoint(
    stepper: Stepper, flagged: list[dict[str, Any]], others: list[list[dict[str, Any]]]
) -> dict[str, Any]:
    """The flagged step's batch and its neighbours, each on the checkpoint's weights (forward only): a batch
    that alone is non-finite on healthy weights carries the fault itself."""
    precision = stepper.settings.precision
    flagged_loss = stepper.loss(flagged, precision)
    other_losses = [stepper.loss(m, precision) for m in others if m]
    return {
        "flagged_loss": flagged_loss,
        "other_losses": other_losses,
        "flagged_finite": math.isfinite(flagged_loss),
        "others_finite": bool(other_losses) and all(math.isfinite(v) for v in other_losses),
    }


def eval_ablation(stepper: Stepper, rows: list[dict[str, Any]], batch_size: int, pad_id: int) -> dict[str, Any]:
    """Eval loss of the first eval batches at the run's batch size against one row at a time, and eager
    attention against sdpa at the run's batch size."""
    from analyzer.replay.data import collate

    rows = rows[: batch_size * 4]
    precision = stepper.settings.precision
    model = stepper.model
    model.eval()
    try:
        batched = [
            stepper.loss([collate(rows[i : i + batch_size], pad_id)], precision)
            for i in range(0, len(rows), batch_size)
        ]
        single = [stepper.loss([collate([r], pad_id)], precision) for r in rows]
        result: dict[str, Any] = {
            "batch_size": batch_size,
            "rows": len(rows),
            "batched_losses": batched,
            "batched_nonfinite": sum(not math.isfinite(v) for v in batched),
            "single_nonfinite": sum(not math.isfinite(v) for v in single),
            "single_rows_with_labels_nonfinite": sum(
                not math.isfinite(v) for v, r in zip(single, rows, strict=True) if any(t != -100 for t in _labels(r))
            ),
        }
        result["attention"] = _attention(stepper, rows, batch_size, pad_id, precision)
    finally:
        model.train()
    return result


def _labels(row: dict[str, Any]) -> list[Any]:
    labels = row.get("labels", [])
    return labels if isinstance(labels, list) else [labels]


def _attention(
    stepper: Stepper, rows: list[dict[str, Any]], batch_size: int, pad_id: int, precision: str
) -> dict[str, Any]:
    from analyzer.replay.data import collate

    model = stepper.model
    if not hasattr(model, "set_attn_implementation"):
        return {"skipped": "the model cannot switch attention implementation"}
    before = getattr(model.config, "_attn_implementation", None)
    found: dict[str, Any] = {"original": before}
    try:
        for impl in ("eager", "sdpa"):
            model.set_attn_implementation(impl)
            losses = [
                stepper.loss([collate(rows[i : i + batch_size], pad_id)], precision)
                for i in range(0, len(rows), batch_size)
            ]
            found[impl + "_nonfinite"] = sum(not math.isfinite(v) for v in losses)
    except (ValueError, ImportError) as exc:
        found["skipped"] = str(exc)
    finally:
        if before:
            model.set_attn_implementation(before)
    return found
