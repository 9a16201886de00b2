"""Find the checkpoint before a step and load it safely: safetensors, `weights_only` torch files, no remote code."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.replay.errors import ReplayError

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# Never unpickled (arbitrary code on load): the settings are read from trainer_state, the logs and configs instead.
NEVER_LOADED = ("training_args.bin",)


@dataclass
class Checkpoint:
    """One `checkpoint-N/` folder the Trainer wrote."""

    path: Path
    step: int

    @property
    def adapter(self) -> bool:
        return (self.path / "adapter_config.json").is_file()


@dataclass
class Loaded:
    """The model rebuilt from a checkpoint, with what loading said about it."""

    model: Any
    checkpoint: Checkpoint
    architecture: str
    missing_keys: list[str] = field(default_factory=list)  # parameters the checkpoint did not hold (left at init)
    unexpected_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_checkpoints(run_dir: Path) -> list[Checkpoint]:
    """Every `checkpoint-N/` folder under the run (one level of nesting too), oldest first."""
    found: dict[Path, Checkpoint] = {}
    for pattern in ("checkpoint-*", "*/checkpoint-*"):
        for folder in run_dir.glob(pattern):
            match = _CHECKPOINT.match(folder.name)
            if match and folder.is_dir():
                found[folder] = Checkpoint(folder, _state_step(folder) or int(match.group(1)))
    return sorted(found.values(), key=lambda c: (c.step, str(c.path)))


def _state_step(folder: Path) -> int | None:
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        return int(state["global_step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def has_weights(folder: Path) -> bool:
    names = ("model.safetensors", "model.safetensors.index.json", "adapter_model.safetensors", "pytorch_model.bin")
    return any((folder / n).is_file() for n in (*names, "adapter_model.bin"))


def checkpoint_before(run_dir: Path, step: int) -> tuple[Checkpoint, int, list[str]]:
    """The newest checkpoint holding weights from before `step` (the state step `step` started from).

    A failure flagged before the first checkpoint (often step 1) is replayed at the first step after it
    instead, with a note: a failure that lasts shows there too. Returns the checkpoint, the step, the notes.
    """
    every = find_checkpoints(run_dir)
    with_weights = [c for c in every if has_weights(c.path)]
    usable = [c for c in with_weights if c.step < step]
    if usable:
        return usable[-1], step, []
    if with_weights:
        first = with_weights[0]
        note = f"no checkpoint before step {step}: replayed step {first.step + 1}, the first after {first.path.name}"
        return first, first.step + 1, [note]
    seen = ", ".join(f"{c.path.name} (no weights)" for c in every)
    raise ReplayError(f"no checkpoint with weights under {run_dir} (found: {seen or 'none'})")


def load_model(checkpoint: Checkpoint, base_model: Path | None = None) -> Loaded:
    """Load the model (or the PEFT adapter on `base_model`) on CPU in fp32, from local files only."""
    import transformers

    transformers.utils.logging.disable_progress_bar()  # "Loading weights" bars on stderr say nothing here
    source = base_model if checkpoint.adapter else checkpoint.path
    if checkpoint.adapter and base_model is None:
        raise ReplayError(f"{checkpoint.path} holds a PEFT adapter: pass --base-model DIR (the base model's folder)")
    assert source is not None
    config = transformers.AutoConfig.from_pretrained(source, local_files_only=True, trust_remote_code=False)
    names = list(getattr(config, "architectures", None) or [])
    name = (_adapter_base_class(checkpoint.path) if checkpoint.adapter else None) or (names[0] if names else None)
    name = name or "AutoModelForCausalLM"
    cls = getattr(transformers, name, None)
    if cls is None or not hasattr(cls, "from_pretrained"):  # only classes transformers ships: no code from the input
        raise ReplayError(f"architecture {name!r} of {source} is not a transformers class (remote code is never run)")
    model, info = cls.from_pretrained(
        source, local_files_only=True, trust_remote_code=False, dtype="float32", output_loading_info=True
    )
    loaded = Loaded(
        model, checkpoint, name, sorted(info.get("missing_keys", [])), sorted(info.get("unexpected_keys", []))
    )
    if checkpoint.adapter:
        _attach_adapter(loaded, checkpoint.path)
    model.train()
    return loaded


_TASKS = {
    "CAUSAL_LM": "AutoModelForCausalLM",
    "SEQ_CLS": "AutoModelForSequenceClassification",
    "TOKEN_CLS": "AutoModelForTokenClassification",
    "SEQ_2_SEQ_LM": "AutoModelForSeq2SeqLM",
}


def _adapter_base_class(folder: Path) -> str | None:
    """The class PEFT wrapped (adapter_config's auto_mapping, else its task type): the head the run trained."""
    try:
        adapter = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    mapped = (adapter.get("auto_mapping") or {}).get("base_model_class")
    return str(mapped) if mapped else _TASKS.get(str(adapter.get("task_type")))


def _attach_adapter(loaded: Loaded, folder: Path) -> None:
    """Put the adapter on the base model; a base parameter still missing after it was never loaded from anywhere."""
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise ReplayError("the checkpoint is a PEFT adapter: pip install peft") from exc
    loaded.model = PeftModel.from_pretrained(loaded.model, str(folder), is_trainable=True, local_files_only=True)
    saved = adapter_keys(folder)
    loaded.missing_keys = [k for k in loaded.missing_keys if not any(s.endswith(k) for s in saved)]
    loaded.notes.append(f"PEFT adapter from {folder.name} on the base model")


def adapter_keys(folder: Path) -> list[str]:
    """Tensor names in the adapter file (safetensors header only)."""
    path = folder / "adapter_model.safetensors"
    if not path.is_file():
        return []
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return [str(k) for k in f.keys()]  # noqa: SIM118 (safe_open is not a mapping)


def load_torch_file(path: Path) -> Any:
    """A torch-pickled file read with `weights_only=True` (tensors and plain containers only), or None if absent."""
    if not path.is_file():
        return None
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def load_rng_state(path: Path) -> dict[str, Any] | None:
    """The Trainer's `rng_state.pth` (python, numpy and torch generator states), or None if absent.

    Read with `weights_only=True` too: numpy's state is a tuple holding an array, so exactly the numpy names
    that array pickles into are allowed (its rebuild function, ndarray, dtype and the uint32 dtype class, the
    list transformers' own `safe_globals()` allows); anything else in the file is still refused.
    """
    if not path.is_file():
        return None
    import numpy as np
    import torch

    core = np._core if hasattr(np, "_core") else np.core  # numpy 2 renamed numpy.core
    allowed = [core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]
    with torch.serialization.safe_globals(allowed):
        state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ReplayError(f"{path}: not the Trainer's RNG state")
    return state
