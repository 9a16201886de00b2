"""The files W&B writes beside the log in `files/`: config.yaml, wandb-metadata.json, requirements.txt, the summary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from analyzer import safe_yaml
from analyzer.errors import InputError
from analyzer.ingest.base import FrameBuilder, Result, load_json, read_text
from analyzer.ingest.settings import deep_merge
from analyzer.ingest.wandb_run.frames import _Axis, add_summary, name
from analyzer.ingest.wandb_run.meta import _facts_meta, _unwrap, config_meta
from analyzer.ingest.wandb_run.records import _flatten
from analyzer.model import Frames

_PACKAGES = re.compile(
    r"^(torch|transformers|peft|deepspeed|trl|accelerate|wandb|flash[-_]attn|vllm|"
    r"bitsandbytes|lightning|pytorch[-_]lightning)==(\S+)\s*$",
    re.MULTILINE,
)


def _config_yaml(path: Path, source: str) -> dict[str, Any]:
    try:
        doc = safe_yaml.load(read_text(path, source))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            source, f"invalid YAML: {getattr(exc, 'problem', exc)}", f"line {mark.line + 1}" if mark is not None else ""
        ) from None
    if not isinstance(doc, dict):
        raise InputError(source, "config.yaml is not a mapping of settings")
    config, internal = _unwrap(doc)
    meta = config_meta(config)
    versions = {
        k: str(internal[f])
        for k, f in (("python", "python_version"), ("wandb", "cli_version"), ("transformers", "huggingface_version"))
        if internal.get(f)
    }
    deep_merge(meta, {"versions": versions} if versions else {})
    return meta


def _metadata_json(path: Path, source: str) -> dict[str, Any]:
    """wandb-metadata.json: interpreter, command, GPU, CUDA (never the user name, e-mail or host)."""
    doc = load_json(read_text(path, source), source)
    if not isinstance(doc, dict):
        raise InputError(source, "wandb-metadata.json is not a JSON object")
    info = {
        k: doc[f]
        for k, f in (
            ("python", "python"),
            ("os", "os"),
            ("program", "program"),
            ("args", "args"),
            ("gpu_type", "gpu"),
            ("gpu_count", "gpu_count"),
        )
        if doc.get(f)
    }
    cuda = doc.get("cuda") or doc.get("cudaVersion")
    if cuda:
        info["cuda_version"] = cuda
    devices = doc.get("gpu_nvidia") or doc.get("gpu_devices") or []
    names = [d["name"] for d in devices if isinstance(d, dict) and isinstance(d.get("name"), str)]
    if names:
        info["gpus"] = names
    return {"wandb": info, **_facts_meta(info, {})}


def _requirements(path: Path, source: str) -> dict[str, Any]:
    versions = {m[1].lower().replace("_", "-"): m[2] for m in _PACKAGES.finditer(read_text(path, source))}
    return {"versions": versions} if versions else {}


def _summary_json(path: Path, source: str) -> dict[str, Any]:
    doc = load_json(read_text(path, source), source)
    if not isinstance(doc, dict):
        raise InputError(source, "wandb-summary.json is not a JSON object")
    summary: dict[str, Any] = {}
    for key, value in doc.items():
        _flatten(str(key), value, summary)
    return summary


_SIDE_READERS = {"config.yaml": _config_yaml, "wandb-metadata.json": _metadata_json, "requirements.txt": _requirements}


def _summary_frames(summary: dict[str, Any], source: str) -> Frames:
    """A wandb-summary.json on its own: its values in the `summary` split at the run's last step."""
    axis = _Axis("_step")
    builder = FrameBuilder(source, producer=name)
    add_summary(builder, summary, {}, axis)
    if not len(builder):
        raise InputError(source, "wandb-summary.json holds no numeric values")
    values = {k: v for k, v in summary.items() if isinstance(v, (float, str)) and not k.startswith("_")}
    return builder.frames({"wandb": {"summary": values}})


def _side_meta(side: dict[str, tuple[Path, str]], results: list[tuple[str, Result]]) -> dict[str, Any]:
    """meta from config.yaml, wandb-metadata.json and requirements.txt; a file that fails is a result of its own."""
    meta: dict[str, Any] = {}
    for file_name, reader in _SIDE_READERS.items():
        if file_name in side:
            try:
                deep_merge(meta, reader(*side[file_name]))
            except InputError as exc:
                results.append((side[file_name][1], exc))
    return meta
