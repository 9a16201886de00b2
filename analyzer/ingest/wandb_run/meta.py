"""meta of a W&B run: its config (with the HF sections it fills), environment facts, and the log's own facts."""

from __future__ import annotations

from typing import Any

from analyzer.ingest.configs import MODEL_KEYS
from analyzer.ingest.settings import deep_merge
from analyzer.ingest.training_args import TRAINING_ARG_KEYS
from analyzer.ingest.wandb_run.frames import _Axis
from analyzer.ingest.wandb_run.records import _Log
from analyzer.names import infer_trainer_kind, split_and_metric


def _unwrap(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """config.yaml / API config: `key: {value: v}` (older files add `desc`) to `key: v`; `_wandb` apart."""
    plain: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        plain[str(key)] = value
    internal = plain.pop("_wandb", None)
    return plain, internal if isinstance(internal, dict) else {}


def config_meta(config: dict[str, Any]) -> dict[str, Any]:
    """meta sections a run config fills: meta['wandb']['config'] always; the HF integration's config (all
    TrainingArguments plus the model config) also fills `training_args` and `model`, the sections
    normalize.derive_meta reads for training_args.bin and config.json."""
    meta: dict[str, Any] = {"wandb": {"config": config}}
    if {"learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps"} <= config.keys():
        meta["training_args"] = {k: config[k] for k in TRAINING_ARG_KEYS if k in config}
        meta["framework"] = "transformers"
    if "model_type" in config and ("architectures" in config or "transformers_version" in config):
        meta["model"] = {k: config[k] for k in MODEL_KEYS if k in config}
    if isinstance(config.get("transformers_version"), str):
        meta["versions"] = {"transformers": config["transformers_version"]}
    return meta


def _facts_meta(info: dict[str, Any], versions: dict[str, str]) -> dict[str, Any]:
    """`versions` and `env` (GPU) from the run's environment facts."""
    versions = dict(versions)
    if info.get("cuda_version"):
        versions.setdefault("cuda", str(info["cuda_version"]))
    env = {k: info[f] for k, f in (("gpu", "gpu_type"), ("gpu_count", "gpu_count")) if info.get(f)}
    return {k: v for k, v in (("versions", versions), ("env", env)) if v}


def _log_meta(log: _Log, axis: _Axis, source: str) -> dict[str, Any]:
    info = dict(log.info)
    info.update(
        step_metric=axis.key,
        history_rows=len(log.rows),
        stats_records=len(log.stats),
        exit_record=log.exit is not None,
        exit_code=log.exit[1] if log.exit else None,
    )
    if log.exit:
        info["runtime"] = log.exit[2]
    if log.preempting:
        info["preempting"] = True
    info["summary"] = {k: v for k, v in log.summary.items() if isinstance(v, (float, str)) and not k.startswith("_")}
    meta = config_meta(log.config)
    meta["wandb"].update(info)
    deep_merge(meta, _facts_meta(info, log.versions))
    if meta.get("framework") == "transformers":
        train = {metric for split, metric in map(split_and_metric, axis.keys) if split == "train"}
        meta["trainer_kind"] = infer_trainer_kind(train)
    meta["line_numbers"] = {source: "record"}
    return meta
