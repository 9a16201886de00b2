"""One optimizer step of the loaded model, as the Trainer takes it, under a given precision, rate and clipping."""

from __future__ import annotations

import copy
import math
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from analyzer.replay.checkpoint import Loaded, load_torch_file
from analyzer.replay.settings import Settings

DTYPES = {"fp16": "float16", "bf16": "bfloat16"}


@dataclass
class Update:
    """What one step did: its loss, gradient norm before clipping, and whether the weights moved."""

    loss: float
    grad_norm: float
    applied: bool  # False when the gradients were non-finite and the step was skipped (GradScaler, or our guard)
    layer_norms: dict[str, float]


def _finite(x: float) -> bool:
    return math.isfinite(x)


class Stepper:
    """The model, its optimizer (state from optimizer.pt when the checkpoint kept it) and the run's precision."""

    def __init__(self, loaded: Loaded, settings: Settings, device: str) -> None:
        import torch

        self.torch = torch
        self.device = device
        self.settings = settings
        self.model = loaded.model.to(device)
        self.notes: list[str] = []
        self.optimizer = self._optimizer(loaded)
        scaler = load_torch_file(loaded.checkpoint.path / "scaler.pt")
        self.loss_scale = float(scaler["scale"]) if isinstance(scaler, dict) and "scale" in scaler else 2.0**16

    def _optimizer(self, loaded: Loaded) -> Any:
        """AdamW with the Trainer's two groups (decay / no decay), so that optimizer.pt's state lines up."""
        torch = self.torch
        from transformers import Trainer

        decay = set(Trainer.get_decay_parameter_names(None, self.model))  # type: ignore[arg-type]
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        groups = [
            {"params": [p for n, p in named if n in decay], "weight_decay": self.settings.weight_decay},
            {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0},
        ]
        s = self.settings
        optimizer = torch.optim.AdamW(groups, lr=s.learning_rate, betas=s.betas, eps=s.eps)
        state = load_torch_file(loaded.checkpoint.path / "optimizer.pt")
        if state is None:
            self.notes.append("optimizer.pt not in the checkpoint: Adam moments start from zero")
        else:
            try:
                optimizer.load_state_dict(state)
                self.notes.append("optimizer state loaded from optimizer.pt")
            except (ValueError, KeyError, RuntimeError) as exc:
                self.notes.append(
                    f"optimizer.pt does not match the model's parameter groups ({exc}): moments from zero"
                )
        return optimizer

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Weights and optimizer state, copied, to come back to before each ablation."""
        weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return weights, copy.deepcopy(self.optimizer.state_dict())

    def restore(self, saved: tuple[dict[str, Any], dict[str, Any]]) -> None:
        self.model.load_state_dict(saved[0])
        self.optimizer.load_state_dict(copy.deepcopy(saved[1]))
        self.optimizer.zero_grad(set_to_none=True)

    def autocast(self, precision: str) -> AbstractContextManager[Any]:
        if precision not in DTYPES:
            return nullcontext()
        kind = "cuda" if self.device.startswith("cuda") else "cpu"
        return self.torch.autocast(kind, dtype=getattr(self.torch, DTYPES[precision]))

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) for k, v in batch.items()}

    def loss(self, batch: dict[str, Any], precision: str) -> float:
        """Loss of one batch without updating (what the next logged loss would read)."""
        with self.torch.no_grad(), self.autocast(precision):
            out = self.model(**self.to_device(batch))
        return float(out.loss.float().item())

    def update(self, micro: list[dict[str, Any]], precision: str, lr: float, clip: float | None) -> Update:
        """Forward and backward every micro-batch, clip, and step unless the gradients are non-finite.

        fp16 scales the loss as the Trainer's GradScaler does (the checkpoint's scale when scaler.pt was kept),
        so that gradients underflow or overflow as they did in the run.
        """
        torch = self.torch
        self.optimizer.zero_grad(set_to_none=True)
        scale = self.loss_scale if precision == "fp16" else 1.0
        losses = []
        for batch in micro:
            with self.autocast(precision):
                out = self.model(**self.to_device(batch))
            loss = out.loss.float() / len(micro)
            losses.append(float(loss.item()) * len(micro))
            (loss * scale).backward()
        grads = [p for p in self.model.parameters() if p.grad is not None]
        if scale != 1.0:
            for p in grads:
                p.grad.div_(scale)
        norms = layer_grad_norms(self.model)
        total = math.sqrt(sum(v * v for v in norms.values())) if norms else 0.0
        if not all(_finite(v) for v in norms.values()):
            total = math.nan
        applied = _finite(total)
        if applied:
            if clip:
                torch.nn.utils.clip_grad_norm_(grads, clip)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return Update(sum(losses) / len(losses), total, applied, norms)


def layer_grad_norms(model: Any) -> dict[str, float]:
    """Gradient norm per layer (`...layers.N`) or top-level part (embeddings, head), in model order."""
    sums: dict[str, float] = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        sums[layer_of(name)] = sums.get(layer_of(name), 0.0) + float(p.grad.detach().float().pow(2).sum().item())
    return {k: math.sqrt(v) if _finite(v) else math.nan for k, v in sums.items()}


def layer_of(name: str) -> str:
    """`model.layers.3.mlp.up_proj.weight` -> `model.layers.3`; `lm_head.weight` -> `lm_head`."""
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part.isdigit():
            return ".".join(parts[: i + 1])
    return ".".join(parts[:-1][:2]) or name
