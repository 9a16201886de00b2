"""One optimizer step of the loaded model, as the Trainer takes it, under a given precision, rate and clipping."""

from __future__ import annotations

import copy
import inspect
import math
import random
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from analyzer.replay.checkpoint import Loaded, load_torch_file
from analyzer.replay.settings import Settings

DTYPES = {"fp16": "float16", "bf16": "bfloat16"}


@dataclass
class Update:
    """What one step did: its loss, gradient norm before clipping, and whether the weights moved."""

    loss: float  # the Trainer's loss of the step: its micro-batch losses summed (NaN stays NaN)
    logged_loss: float  # what the Trainer logs for it (logging_steps=1): non-finite parts filtered as it does
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
        self.accepts_loss_kwargs, self.shifts_labels = loss_rule(self.model)
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

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Weights, optimizer and RNG states, copied, to come back to before each ablation (same dropout masks)."""
        weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return weights, copy.deepcopy(self.optimizer.state_dict()), rng_state(self.device)

    def restore(self, saved: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> None:
        self.model.load_state_dict(saved[0])
        self.optimizer.load_state_dict(copy.deepcopy(saved[1]))
        self.optimizer.zero_grad(set_to_none=True)
        set_rng_state(saved[2], self.device)

    def autocast(self, precision: str) -> AbstractContextManager[Any]:
        if precision not in DTYPES:
            return nullcontext()
        kind = "cuda" if self.device.startswith("cuda") else "cpu"
        return self.torch.autocast(kind, dtype=getattr(self.torch, DTYPES[precision]))

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) for k, v in batch.items()}

    def micro_losses(self, micro: list[dict[str, Any]], precision: str) -> Iterator[Any]:
        """Each micro-batch's loss as the Trainer's `training_step` returns it (and backpropagates).

        A model whose forward takes loss kwargs gets `num_items_in_batch`, the supervised tokens of every
        micro-batch of the step (`labels[..., 1:]` for a causal LM), and sums its loss over that count;
        another model's mean loss is divided by the number of micro-batches.
        """
        torch = self.torch
        items = supervised_items(micro, self.shifts_labels) if self.accepts_loss_kwargs else None
        extra = {} if items is None else {"num_items_in_batch": torch.tensor(items, device=self.device)}
        for batch in micro:
            with self.autocast(precision):
                out = self.model(**self.to_device(batch), **extra)
            loss = out.loss.float()
            yield loss if items is not None else loss / len(micro)

    def loss(self, micro: list[dict[str, Any]], precision: str) -> float:
        """The Trainer's loss of a step's micro-batches without updating (what the step's logged loss reads)."""
        with self.torch.no_grad():
            return sum(float(v.item()) for v in self.micro_losses(micro, precision))

    def update(self, micro: list[dict[str, Any]], precision: str, lr: float, clip: float | None) -> Update:
        """Forward and backward every micro-batch, clip, and step unless the gradients are non-finite.

        fp16 scales the loss as the Trainer's GradScaler does (the checkpoint's scale when scaler.pt was kept),
        so that gradients underflow or overflow as they did in the run.
        """
        torch = self.torch
        self.optimizer.zero_grad(set_to_none=True)
        scale = self.loss_scale if precision == "fp16" else 1.0
        losses = []
        for loss in self.micro_losses(micro, precision):
            losses.append(float(loss.item()))
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
        logged = logged_loss(losses, self.settings.logging_nan_inf_filter)
        return Update(sum(losses), logged, total, applied, norms)


def rng_state(device: str) -> dict[str, Any]:
    """The generators the Trainer saves in rng_state.pth, under its keys."""
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.random.get_rng_state()}
    if device.startswith("cuda"):
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any], device: str) -> list[str]:
    """Set python's, numpy's and torch's generators (and the GPU's) to `state`; returns the ones set."""
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.random.set_rng_state(state["cpu"])
    done = ["python", "numpy", "torch CPU"]
    cuda = state.get("cuda")
    if device.startswith("cuda") and cuda is not None:
        # one process saved its device's state; a distributed run saved every device's (get_rng_state_all)
        torch.cuda.set_rng_state(cuda if torch.is_tensor(cuda) else cuda[torch.cuda.current_device()])
        done.append("CUDA")
    return done


def loss_rule(model: Any) -> tuple[bool, bool]:
    """(the model takes loss kwargs, its loss shifts the labels), decided as transformers' Trainer decides them
    (`model_accepts_loss_kwargs` and `_loss_shifts_labels` in its `__init__`)."""
    from transformers.loss.loss_utils import LOSS_MAPPING, ForCausalLMLoss
    from transformers.trainer_utils import unwrap_peft_model

    inner = unwrap_peft_model(model)
    if hasattr(inner, "accepts_loss_kwargs"):
        accepts = bool(inner.accepts_loss_kwargs)
    else:
        params = inspect.signature(inner.forward).parameters.values()
        accepts = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params)
    causal = LOSS_MAPPING.get(str(getattr(inner, "loss_type", None) or "")) is ForCausalLMLoss
    return accepts, causal and not getattr(getattr(inner, "config", None), "is_encoder_decoder", False)


def supervised_items(micro: list[dict[str, Any]], shifted: bool) -> int | None:
    """The Trainer's `num_items_in_batch`: labels != -100 over every micro-batch of the step (a causal LM's
    first position predicts nothing, so `labels[..., 1:]`); None without labels."""
    if not micro or "labels" not in micro[0]:
        return None
    return sum(int((b["labels"][..., 1:] if shifted else b["labels"]).ne(-100).sum()) for b in micro)


def logged_loss(losses: list[float], nan_inf_filter: bool) -> float:
    """The loss the Trainer logs for one step at logging_steps=1: its micro-batch losses summed, where its
    `logging_nan_inf_filter` (on by default) adds the running sum (`_tr_loss / (1 + steps since the log)`) in
    place of a NaN or inf one, so that a step whose every micro-batch is 0/0 (no supervised token) logs 0.0."""
    total = 0.0
    for value in losses:
        total += total if nan_inf_filter and not math.isfinite(value) else value
    return total


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
