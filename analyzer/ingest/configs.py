"""JSON configs beside a run: model `config.json`, PEFT `adapter_config.json`, `generation_config.json`, DeepSpeed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analyzer.errors import InputError
from analyzer.ingest.base import load_json, read_text
from analyzer.model import Frames

name = "json_config"

_MARKERS = (
    b'"peft_type"',
    b'"architectures"',
    b'"model_type"',
    b'"zero_optimization"',
    b'"train_micro_batch_size_per_gpu"',
    b'"_from_model_config"',
    b'"decoder_start_token_id"',
)
_DS_KEYS = {
    "zero_optimization",
    "train_micro_batch_size_per_gpu",
    "train_batch_size",
    "gradient_clipping",
    "zero_allow_untested_optimizer",
    "steps_per_print",
}
_GEN_KEYS = {
    "max_new_tokens",
    "do_sample",
    "num_beams",
    "temperature",
    "top_p",
    "top_k",
    "eos_token_id",
    "bos_token_id",
    "pad_token_id",
    "decoder_start_token_id",
}
_PEFT_KEYS = (
    "peft_type",
    "task_type",
    "r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "modules_to_save",
    "base_model_name_or_path",
    "use_dora",
    "use_rslora",
    "bias",
    "init_lora_weights",
    "revision",
)
MODEL_KEYS = (
    "model_type",
    "architectures",
    "torch_dtype",
    "dtype",
    "transformers_version",
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "max_position_embeddings",
    "problem_type",
    "tie_word_embeddings",
    "pad_token_id",
)


def sniff(path: Path, head: bytes) -> bool:
    """A JSON object carrying one of the config markers in its first bytes."""
    return head.lstrip().startswith(b"{") and any(m in head for m in _MARKERS)


def _deepspeed(doc: dict[str, Any]) -> dict[str, Any]:
    zero: dict[str, Any] = doc["zero_optimization"] if isinstance(doc.get("zero_optimization"), dict) else {}
    out: dict[str, Any] = {"zero_stage": zero.get("stage")}
    for key in (
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "train_batch_size",
        "gradient_clipping",
    ):
        if key in doc:
            out[key] = doc[key]
    for prec in ("fp16", "bf16"):
        section = doc.get(prec)
        if isinstance(section, dict):
            out[prec] = {k: v for k, v in section.items() if not isinstance(v, (dict, list))}
    if zero.get("offload_optimizer") or zero.get("offload_param"):
        out["offload"] = True
    return out


def classify(doc: dict[str, Any]) -> str | None:
    """peft | deepspeed | generation | model, or None for a JSON object that is none of them."""
    if "peft_type" in doc:
        return "peft"
    if _DS_KEYS & doc.keys():
        return "deepspeed"
    if "architectures" in doc or ("model_type" in doc and "_from_model_config" not in doc):
        return "model"
    if "_from_model_config" in doc or (_GEN_KEYS & doc.keys() and "transformers_version" in doc):
        return "generation"
    return None


def parse(path: Path, source: str) -> Frames:
    """The config's settings into meta under its kind; versions where the file states them."""
    doc = load_json(read_text(path, source), source)
    kind = classify(doc) if isinstance(doc, dict) else None
    if kind is None:
        raise InputError(source, "JSON object is not a model, PEFT, generation or DeepSpeed config")
    meta: dict[str, Any] = {}
    if kind == "peft":
        meta["peft"] = {k: doc[k] for k in _PEFT_KEYS if k in doc}
        if "peft_version" in doc:
            meta["versions"] = {"peft": doc["peft_version"]}
    elif kind == "deepspeed":
        meta["deepspeed"] = _deepspeed(doc)
    elif kind == "model":
        model = {k: doc[k] for k in MODEL_KEYS if k in doc}
        if isinstance(doc.get("id2label"), dict):
            model["num_labels"] = len(doc["id2label"])
        if isinstance(doc.get("quantization_config"), dict):
            model["quantization"] = doc["quantization_config"].get("quant_method", "yes")
        meta["model"] = model
    else:
        meta["generation"] = {k: doc[k] for k in sorted(_GEN_KEYS | {"transformers_version"}) if k in doc}
    if isinstance(doc.get("transformers_version"), str):
        meta.setdefault("versions", {})["transformers"] = doc["transformers_version"]
    meta["config_files"] = {source: kind}
    return Frames(meta=meta)
