"""What the run used at each step, read from its records (trainer_state, logs, configs) or given by the user."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from analyzer.model import Run


@dataclass
class Settings:
    """The training settings replay needs, each with where it came from."""

    precision: str = "fp32"  # fp32 | fp16 | bf16 (autocast, as the Trainer's fp16/bf16 flags)
    batch_size: int = 8
    eval_batch_size: int = 8
    grad_accum: int = 1
    seed: int = 42
    max_grad_norm: float = 1.0
    logging_nan_inf_filter: bool = True  # the Trainer logs a running mean in place of a NaN/inf micro-batch loss
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str | None = None
    warmup_steps: int = 0
    max_steps: int | None = None
    logged_lr: dict[int, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def lr_at(self, step: int) -> float:
        """The learning rate the run used at `step`: the logged value (transformers >= 4.5x logs the step's own
        rate), the nearest logged one when logging skipped the step, else the schedule."""
        if step in self.logged_lr:
            return self.logged_lr[step]
        if self.logged_lr:
            nearest = min(self.logged_lr, key=lambda s: (abs(s - step), s))
            if abs(nearest - step) <= 2:
                return self.logged_lr[nearest]
        scheduled = self.scheduled_lr(step)
        return scheduled if scheduled is not None else self.learning_rate

    def scheduled_lr(self, step: int) -> float | None:
        """The rate the run's configured schedule gives at `step` (transformers' own scheduler), if it is known."""
        if self.schedule is None or self.max_steps is None:
            return None
        import torch
        from transformers import get_scheduler

        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=self.learning_rate)
        scheduler = get_scheduler(self.schedule, optimizer, self.warmup_steps, self.max_steps)
        for _ in range(step - 1):
            optimizer.step()
            scheduler.step()
        return float(optimizer.param_groups[0]["lr"])


def _args(meta: dict[str, Any]) -> dict[str, Any]:
    """Training arguments from every place the ingest found them (console dump, TensorBoard text, W&B config)."""
    merged: dict[str, Any] = {}
    merged.update((meta.get("wandb") or {}).get("config") or {})
    merged.update(((meta.get("tensorboard") or {}).get("text") or {}).get("args") or {})
    merged.update(meta.get("training_args") or {})
    return merged


def _flag(value: Any) -> bool:
    """A boolean argument as the logs wrote it (True, "True", "true", 1)."""
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false", "1", "0"):
            raise ValueError(value)
        return value.strip().lower() in ("true", "1")
    return bool(value)


def read_settings(run: Run, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from the run's meta and logged learning rates; `overrides` (the user's flags) win."""
    meta, args = run.meta, _args(run.meta)
    s = Settings()

    def take(attr: str, value: Any, source: str, cast: Any) -> None:
        if value is not None:
            try:
                setattr(s, attr, cast(value))
                s.sources[attr] = source
            except (TypeError, ValueError):
                pass

    state = meta.get("trainer_state") or {}
    take("batch_size", args.get("per_device_train_batch_size") or state.get("train_batch_size"), "run", int)
    take("eval_batch_size", args.get("per_device_eval_batch_size"), "run", int)
    take("grad_accum", args.get("gradient_accumulation_steps"), "run", int)
    seed = args.get("data_seed") if args.get("data_seed") is not None else args.get("seed")
    take("seed", seed, "run (data_seed, else seed)", int)
    take("max_grad_norm", args.get("max_grad_norm"), "run", float)
    take("logging_nan_inf_filter", args.get("logging_nan_inf_filter"), "run", _flag)
    take("learning_rate", args.get("learning_rate"), "run", float)
    take("weight_decay", args.get("weight_decay"), "run", float)
    take("eps", args.get("adam_epsilon"), "run", float)
    if args.get("adam_beta1") is not None and args.get("adam_beta2") is not None:
        s.betas = (float(args["adam_beta1"]), float(args["adam_beta2"]))
    take("schedule", args.get("lr_scheduler_type"), "run", str)
    take("warmup_steps", args.get("warmup_steps"), "run", int)
    take("max_steps", args.get("max_steps") or state.get("max_steps"), "run", int)
    precision = meta.get("precision")
    if precision in ("fp16", "bf16", "fp32"):
        take("precision", precision, str(meta.get("precision_source") or "run"), str)
    if run.has("learning_rate"):
        series = run.series("learning_rate")
        s.logged_lr = {int(str(k)): float(v) for k, v in series.items() if math.isfinite(float(v))}
    for key, value in (overrides or {}).items():
        if value is not None:
            take(key, value, "given", type(getattr(s, key)) if getattr(s, key) is not None else str)
    return s
