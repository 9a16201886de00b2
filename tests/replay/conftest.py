"""Real runs for the replay tests: a tiny Llama built from a config, trained a few steps by the real Trainer on CPU.

Each run's tokenized rows are written beside the run (JSONL or Parquet), never inside it, as a user's dataset is.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

try:  # the replay extra; without it the replay tests skip (tests/replay/test_command.py checks the message)
    import torch
    import transformers
except ImportError:  # pragma: no cover - exercised in the CI job without the extra
    torch = transformers = None

VOCAB, SEQ, SEED = 128, 16, 42


def config(**extra: Any) -> Any:
    return transformers.LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=0,
        **extra,
    )


def progression_rows(n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """Arithmetic token progressions (learnable), ids 2..127 so that pad 0 and eos 1 never occur."""
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, 126, (n,), generator=g).tolist()
    strides = torch.randint(1, 7, (n,), generator=g).tolist()
    rows = []
    for a, d in zip(starts, strides, strict=True):
        ids = [2 + (a + d * i) % 126 for i in range(SEQ)]
        rows.append({"input_ids": ids, "attention_mask": [1] * SEQ, "labels": list(ids)})
    return rows


class Recorder(transformers.TrainerCallback if transformers else object):  # type: ignore[misc]
    """Keeps the input_ids of every micro-batch the Trainer fed, per global step (the order to reproduce)."""

    def __init__(self) -> None:
        self.steps: dict[int, list[list[list[int]]]] = {}
        self.state: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self.state = state

        def hook(module: Any, a: Any, kw: dict[str, Any]) -> None:
            if module.training and "input_ids" in kw:
                self.steps.setdefault(self.state.global_step + 1, []).append(kw["input_ids"].tolist())

        model.register_forward_pre_hook(hook, with_kwargs=True)


class Pulse(transformers.Trainer if transformers else object):  # type: ignore[misc]
    """The Trainer with a one-step learning-rate pulse planted in its schedule (the logged rate shows it)."""

    pulse_at = 0
    factor = 1.0

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        scheduler = super().create_scheduler(num_training_steps, optimizer)
        at, factor = self.pulse_at - 1, self.factor
        scheduler.lr_lambdas = [lambda i, f=f: f(i) * (factor if i == at else 1.0) for f in scheduler.lr_lambdas]
        for group, lr in zip(scheduler.optimizer.param_groups, scheduler.get_lr(), strict=True):
            group["lr"] = lr
        return scheduler


def train(
    out: Path,
    model: Any,
    rows: list[dict[str, Any]],
    *,
    steps: int = 6,
    save_steps: int = 2,
    trainer_cls: Any = None,
    callbacks: list[Any] | None = None,
    **args: Any,
) -> Recorder:
    """Train with the real Trainer into `out` (checkpoints every `save_steps`, trainer_state.json saved)."""
    transformers.set_seed(SEED)
    defaults: dict[str, Any] = dict(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=8,
        learning_rate=5e-3,
        logging_steps=1,
        save_strategy="steps",
        save_steps=save_steps,
        seed=SEED,
        use_cpu=True,
        report_to="none",
        disable_tqdm=True,
        lr_scheduler_type="constant",
        max_grad_norm=1.0,
        dataloader_num_workers=0,
    )
    defaults.update(args)
    recorder = Recorder()
    trainer = (trainer_cls or transformers.Trainer)(
        model=model,
        args=transformers.TrainingArguments(**defaults),
        train_dataset=rows,
        callbacks=[recorder, *(callbacks or [])],
    )
    trainer.train()
    trainer.save_state()
    return recorder


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """Build each case's run once per session, on first use."""
    root = tmp_path_factory.mktemp("replay_runs")
    built: dict[str, dict[str, Any]] = {}
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def get(name: str) -> dict[str, Any]:
        if name not in built:
            built[name] = BUILDERS[name](root / name)
        return built[name]

    return get


def masked(folder: Path) -> dict[str, Any]:
    """Every label -100 (a chat template whose response marker never matched): loss 0, grad norm 0."""
    folder.mkdir()
    rows = [{**r, "labels": [-100] * SEQ} for r in progression_rows(64)]
    data = write_jsonl(folder / "train.jsonl", rows)
    train(folder / "run", transformers.LlamaForCausalLM(config()), rows)
    return {"run": folder / "run", "dataset": data}


def healthy(folder: Path) -> dict[str, Any]:
    """A clean run over two epochs with gradient accumulation: the batch order to reproduce."""
    folder.mkdir()
    rows = progression_rows(40)
    data = write_jsonl(folder / "train.jsonl", rows)
    recorder = train(
        folder / "run",
        transformers.LlamaForCausalLM(config()),
        rows,
        steps=8,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        save_steps=4,
    )
    return {"run": folder / "run", "dataset": data, "recorded": recorder.steps, "rows": rows}


def lr_pulse(folder: Path) -> dict[str, Any]:
    """A one-step learning-rate pulse (x100) at step 12 of a constant schedule: the loss jumps at step 13."""
    folder.mkdir()
    rows = progression_rows(160)
    data = write_jsonl(folder / "train.jsonl", rows)
    Pulse.pulse_at, Pulse.factor = 12, 100.0
    train(
        folder / "run",
        transformers.LlamaForCausalLM(config()),
        rows,
        steps=20,
        save_steps=5,
        trainer_cls=Pulse,
        learning_rate=1e-2,
    )
    return {"run": folder / "run", "dataset": data}


def nan_batch(folder: Path, flight_recorder: bool = False) -> dict[str, Any]:
    """A regression fine-tune whose target is NaN in one row, which the Trainer's shuffle puts in step 4."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from analyzer.replay.data import step_indices

    folder.mkdir()
    rows = progression_rows(64)
    for r in rows:
        r["labels"] = float(sum(r["input_ids"]) % 7) / 7.0
    poisoned = step_indices(len(rows), 4, 8, 1, "trainer", SEED)[0][3]
    rows[poisoned]["labels"] = math.nan
    data = folder / "train.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    model = transformers.LlamaForSequenceClassification(config(num_labels=1, problem_type="regression"))
    callbacks = []
    if flight_recorder:
        from analyzer.integrations.hf import FlightRecorderCallback

        callbacks.append(FlightRecorderCallback(keep=4))
    train(folder / "run", model, rows, logging_nan_inf_filter=False, callbacks=callbacks)
    return {"run": folder / "run", "dataset": data, "row": poisoned, "rows": rows}


BUILDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "masked": masked,
    "healthy": healthy,
    "lr_pulse": lr_pulse,
    "nan_batch": nan_batch,
}


def lora_head(folder: Path, save_head: bool) -> dict[str, Any]:
    """A LoRA classification fine-tune of a base LM: without `modules_to_save` the new `score` head is trained
    nowhere and saved nowhere, so a reload gets a freshly initialised head (peft's classic pitfall)."""
    import peft

    folder.mkdir()
    base = folder / "base"
    transformers.set_seed(1)
    transformers.LlamaForCausalLM(config()).save_pretrained(base)
    rows = progression_rows(64)
    for r in rows:
        r["labels"] = r["input_ids"][0] % 2
    model = transformers.LlamaForSequenceClassification.from_pretrained(base, num_labels=2)
    lora = peft.LoraConfig(r=4, target_modules=["q_proj", "v_proj"], modules_to_save=["score"] if save_head else None)
    train(folder / "run", peft.get_peft_model(model, lora), rows)
    return {"run": folder / "run", "dataset": write_jsonl(folder / "train.jsonl", rows), "base": base}


BUILDERS["lora_head_lost"] = lambda folder: lora_head(folder, save_head=False)
BUILDERS["lora_head_saved"] = lambda folder: lora_head(folder, save_head=True)


BUILDERS["nan_batch_recorded"] = lambda folder: nan_batch(folder, flight_recorder=True)


def big_mlp(folder: Path) -> dict[str, Any]:
    """A Llama whose MLP gate/up weights are 1000x their init (as sample_logs/gpu_fp16_overflow plants, scaled to
    this width): its MLP activations stay finite in fp32 and pass the fp16 maximum (65504) under fp16 autocast.
    Trained in fp32 (the CPU Trainer has no fp16); replay is asked for fp16 with --precision."""
    folder.mkdir()
    transformers.set_seed(SEED)
    model = transformers.LlamaForCausalLM(config())
    with torch.no_grad():
        for layer in model.model.layers:
            layer.mlp.gate_proj.weight.mul_(1000.0)
            layer.mlp.up_proj.weight.mul_(1000.0)
    rows = progression_rows(64)
    train(folder / "run", model, rows, learning_rate=1e-4)
    return {"run": folder / "run", "dataset": write_jsonl(folder / "train.jsonl", rows)}


BUILDERS["big_mlp"] = big_mlp


def prompt_masked(folder: Path) -> dict[str, Any]:
    """Rows whose first 1..12 labels are masked (a prompt), so the micro-batches of a step hold different numbers
    of supervised tokens; accumulation 2, every step logged. The Trainer's loss (summed over the step's tokens,
    `num_items_in_batch`) then differs from the mean of the micro-batches' means."""
    folder.mkdir()
    rows = progression_rows(48)
    g = torch.Generator().manual_seed(3)
    for r, cut in zip(rows, torch.randint(1, 13, (len(rows),), generator=g).tolist(), strict=True):
        r["labels"] = [-100] * cut + r["input_ids"][cut:]
    data = write_jsonl(folder / "train.jsonl", rows)
    transformers.set_seed(SEED)
    model = transformers.LlamaForCausalLM(config())
    train(
        folder / "run", model, rows, steps=4, save_steps=2, per_device_train_batch_size=4, gradient_accumulation_steps=2
    )
    return {"run": folder / "run", "dataset": data}


BUILDERS["prompt_masked"] = prompt_masked


def dropout(folder: Path) -> dict[str, Any]:
    """A Llama with attention dropout 0.3: each step's loss depends on the dropout masks the run's generator drew."""
    folder.mkdir()
    rows = progression_rows(64)
    data = write_jsonl(folder / "train.jsonl", rows)
    transformers.set_seed(SEED)
    train(folder / "run", transformers.LlamaForCausalLM(config(attention_dropout=0.3)), rows, steps=4, save_steps=2)
    return {"run": folder / "run", "dataset": data}


BUILDERS["dropout"] = dropout
