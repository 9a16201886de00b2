"""Meta helpers shared by the readers and normalize: training settings from a run's hyperparameters, meta merge."""

from __future__ import annotations

import math
import re
from typing import Any

from analyzer.ingest.base import to_float


def deep_merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    """Merge `other` into `into`; values already present win (sources arrive in priority order)."""
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        elif key not in into:
            into[key] = value


# Setting -> names it goes by in hyperparameter files (Lightning hparams, MLflow params, HF, Keras autolog).
_SETTING_NAMES: dict[str, tuple[str, ...]] = {
    "learning_rate": ("learning_rate", "lr", "opt_learning_rate", "base_lr", "init_lr", "initial_lr"),
    "per_device_train_batch_size": (
        "per_device_train_batch_size",
        "batch_size",
        "train_batch_size",
        "micro_batch_size",
        "per_gpu_train_batch_size",
    ),
    "gradient_accumulation_steps": ("gradient_accumulation_steps", "accumulate_grad_batches", "grad_accum_steps"),
    "max_grad_norm": ("max_grad_norm", "gradient_clip_val", "clipnorm", "opt_clipnorm", "grad_clip"),
    "max_steps": ("max_steps",),
    "num_train_epochs": ("num_train_epochs", "max_epochs", "num_epochs", "epochs"),
    "warmup_steps": ("warmup_steps", "num_warmup_steps"),
    "warmup_ratio": ("warmup_ratio",),
    "weight_decay": ("weight_decay", "opt_weight_decay"),
    "logging_steps": ("logging_steps", "log_every_n_steps"),
    "optim": ("optim", "optimizer", "optimizer_name", "opt_name"),
    "lr_scheduler_type": ("lr_scheduler_type", "lr_scheduler", "scheduler"),
}
_TEXT_SETTINGS = {"optim", "lr_scheduler_type"}
_INT_SETTINGS = {
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "max_steps",
    "num_train_epochs",
    "warmup_steps",
    "logging_steps",
}


def flatten_params(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested hyperparameters as one level: `{"opt": {"lr": 1}}` -> `{"opt.lr": 1}`."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(flatten_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def settings_from_params(params: dict[str, Any], where: str) -> dict[str, Any]:
    """Training settings under derive_meta's names (learning_rate, per_device_train_batch_size, precision...)
    from a run's hyperparameters: Lightning hparams (nested allowed) or MLflow params (strings)."""
    by_name: dict[str, tuple[str, Any]] = {}
    for key, value in flatten_params(params).items():
        by_name.setdefault(key.rpartition(".")[2].lower(), (key, value))
    settings: dict[str, Any] = {}
    for setting, aliases in _SETTING_NAMES.items():
        found = next((by_name[a] for a in aliases if a in by_name and _usable(by_name[a][1])), None)
        if found is None:
            continue
        value = found[1]
        if setting in _TEXT_SETTINGS:  # HF enums arrive as `SchedulerType.COSINE` in MLflow params
            text = str(value).strip()
            enum = re.fullmatch(r"(?:SchedulerType|OptimizerNames)\.(\w+)", text)
            settings[setting] = enum.group(1).lower() if enum else text
        else:
            number = to_float(value)
            if number is None or not math.isfinite(number) or (setting == "max_steps" and number <= 0):
                continue
            settings[setting] = int(number) if setting in _INT_SETTINGS and number.is_integer() else number
    precision = _precision(by_name)
    if precision is not None:
        settings["precision"], settings["precision_source"] = precision[0], f"{where}{precision[1]}"
    return settings


def _usable(value: Any) -> bool:
    return value is not None and not isinstance(value, (dict, list)) and str(value).strip() not in ("", "None")


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1")


def _precision(by_name: dict[str, tuple[str, Any]]) -> tuple[str, str] | None:
    """bf16 | fp16 | fp32 | fp64 and the key that says so, when the hyperparameters state it."""
    for flag in ("bf16", "fp16"):
        if flag in by_name and _truthy(by_name[flag][1]):
            return flag, by_name[flag][0]
    for alias in ("precision", "mixed_precision"):
        if alias in by_name:
            key, value = by_name[alias]
            text = str(value).strip().lower()
            if "bf16" in text or "bfloat16" in text:
                return "bf16", key
            if text in ("16", "16-mixed", "16-true", "fp16", "float16", "half", "mixed_float16"):
                return "fp16", key
            if text in ("32", "32-true", "fp32", "float32", "no"):
                return "fp32", key
            if text in ("64", "64-true", "fp64", "float64", "double"):
                return "fp64", key
    if "bf16" in by_name and "fp16" in by_name:  # both stated and both false (HF TrainingArguments as params)
        return "fp32", f"{by_name['bf16'][0]}, {by_name['fp16'][0]}"
    return None
