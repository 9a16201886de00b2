"""Generate the GPU-only cases of the ``sample_logs/`` gallery: real Trainer runs on a CUDA device.

These are failures a CPU run cannot show: a real fp16 overflow under mixed precision (and the
same setup in bf16 for contrast), a real ``torch.OutOfMemoryError`` and a real memory leak.
Like ``generate.py`` (whose dataset, logging set-up, detectors and helpers this script
imports), every case is a genuine ``transformers.Trainer`` run of a small, randomly
initialised Llama, executed in its own subprocess whose stdout and stderr both go to
``<case>/nohup.out``; afterwards the script trims the checkpoints, reads the real
``trainer_state.json`` and console back and writes ``<case>/expected.yaml`` from them.

How to run (from the repository root, on a machine with a CUDA GPU)::

    python sample_logs/generate_gpu.py                        # every case into sample_logs/gpu_*/
    python sample_logs/generate_gpu.py --out /tmp/x           # into /tmp/x/gpu_*/
    python sample_logs/generate_gpu.py --only gpu_cuda_oom
    python sample_logs/generate_gpu.py --device cpu --out /tmp/x   # smoke test without a GPU

``--device cpu`` only checks the plumbing: fp16 is switched off, the long batch of the OOM
case is short and no memory cap is set, so the planted faults do not fire; its output is
not a gallery case and the script does not check the expected symptoms in that mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
    default_data_collator,
    set_seed,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate as cpu_gen  # noqa: E402  (the CPU generator, same folder)

SEED = cpu_gen.SEED
VOCAB_SIZE = cpu_gen.VOCAB_SIZE
N_TRAIN = 1024
N_EVAL = 64
EVAL_STEPS = 10
SMOKE_STEPS = 12  # --device cpu
WEIGHT_FILE_LIMIT = 1 << 20  # model.safetensors larger than this is deleted from the gallery
logger = logging.getLogger("train")


@dataclass(frozen=True)
class GpuCase:
    """One GPU gallery entry."""

    name: str
    how: str
    planted: str
    cause: str
    expect: tuple[str, ...]  # symptoms this script insists on seeing (on GPU)
    precision: str = "fp32"  # fp16 | bf16 | fp32
    learning_rate: float = 1e-3
    max_steps: int = 200
    save_steps: int = 50
    batch_size: int = 16
    seq_len: int = 128
    attn_implementation: str = "sdpa"
    mlp_scale: float = 1.0  # gate_proj and up_proj weights multiplied by this at init
    long_batch_at_step: int | None = None
    long_len: int = 65536
    leak: bool = False
    cap_at_step: int | None = None  # leak case: per-process memory cap set at this step ...
    cap_oom_target_step: int | None = None  # ... sized to run out around this step
    deepspeed: bool = False  # DeepSpeed ZeRO-2 with its own fp16 loss scaler (DS_CONFIG)
    extra_notes: str = ""


MLP_SCALE = 175.0
MLP_SCALE_BIG = 300.0
# DeepSpeed's documented fp16 block: dynamic loss scale from 2^16, halved after `hysteresis` overflows,
# never below min_loss_scale (DeepSpeed then stops the run).
DS_CONFIG: dict[str, Any] = {
    "fp16": {"enabled": True, "loss_scale": 0, "initial_scale_power": 16, "loss_scale_window": 1000,
             "hysteresis": 2, "min_loss_scale": 1},
    "zero_optimization": {"stage": 2},
    "zero_allow_untested_optimizer": True,
    "train_micro_batch_size_per_gpu": "auto",
    "gradient_accumulation_steps": "auto",
    "gradient_clipping": "auto",
    "steps_per_print": 10,
}

CASES: tuple[GpuCase, ...] = (
    GpuCase(
        name="gpu_fp16_overflow",
        how=(
            f"fp16=True (torch.amp autocast + GradScaler) on a 4.2M-parameter Llama whose MLP gate_proj "
            f"and up_proj weights are {MLP_SCALE:g}x the default init (std 0.02 -> {0.02 * MLP_SCALE:g}), "
            "like weights pretrained in bf16 with large activations; lr 1e-3, 200 steps."
        ),
        planted=(
            f"gate_proj.weight and up_proj.weight of every layer multiplied by {MLP_SCALE:g} at init, "
            "so act(gate)*up, the input of down_proj, is tens of thousands at step 1 (fp32 probe) and grows "
            "past the fp16 maximum 65504 as training proceeds"
        ),
        cause=(
            "fp16 overflow: MLP activations exceed the fp16 range (65504) under autocast, the forward pass "
            "gives inf/NaN, the GradScaler skips the step; the Trainer's logging_nan_inf_filter logs the "
            "NaN loss as 0.0 while grad_norm is NaN."
        ),
        expect=("grad_norm_nan",),
        precision="fp16",
        mlp_scale=MLP_SCALE,
    ),
    GpuCase(
        name="gpu_fp16_overflow_from_start",
        how=(
            f"As gpu_fp16_overflow with the MLP gate_proj/up_proj weights {MLP_SCALE_BIG:g}x the default init "
            "(std 0.02 -> 6), so the fp16 range is exceeded from the first forward pass; 60 steps."
        ),
        planted=(
            f"gate_proj.weight and up_proj.weight of every layer multiplied by {MLP_SCALE_BIG:g} at init "
            "(act(gate)*up about 1e5 at step 1 in an fp32 probe, above the fp16 maximum 65504); fp16=True"
        ),
        cause=(
            "fp16 overflow from the first step: every forward pass gives inf/NaN, the GradScaler skips every "
            "optimizer step (the weights never change), the Trainer logs loss 0.0 with grad_norm NaN and "
            "eval_loss is NaN."
        ),
        expect=("grad_norm_nan",),
        precision="fp16",
        mlp_scale=MLP_SCALE_BIG,
        max_steps=60,
        save_steps=20,
    ),
    GpuCase(
        name="gpu_bf16_same_setup",
        how=f"The same run as gpu_fp16_overflow (MLP weights {MLP_SCALE:g}x, lr 1e-3) with bf16=True.",
        planted=(
            f"gate_proj.weight and up_proj.weight of every layer multiplied by {MLP_SCALE:g} at init; "
            "bf16 autocast instead of fp16"
        ),
        cause=(
            "Contrast case: bf16 has the fp32 exponent range, so the same activations do not overflow "
            "and no loss scaling is involved."
        ),
        expect=(),
        precision="bf16",
        mlp_scale=MLP_SCALE,
    ),
    GpuCase(
        name="gpu_cuda_oom",
        how=(
            "bf16 run with eager attention; at step 35 (of 60) the batch is 8 untruncated 65,536-token "
            "sequences instead of 128 tokens, and the attention scores do not fit in GPU memory."
        ),
        planted=(
            "forward pre-hook on the model replaces the training batch of global step 35 by 8 sequences "
            "of 65,536 tokens (a batch of long documents that escaped truncation); attn_implementation='eager'"
        ),
        cause=(
            "CUDA out of memory: eager attention needs L x L tensors per sequence; the first to fail is the "
            "4D float32 attention mask built by transformers' eager_mask (8 x 1 x 65536^2 x 4 bytes = "
            "128 GiB) on an 80 GB GPU; torch.OutOfMemoryError ends the run."
        ),
        expect=("oom", "crash"),
        precision="bf16",
        max_steps=60,
        save_steps=20,
        batch_size=8,
        attn_implementation="eager",
        long_batch_at_step=35,
    ),
    GpuCase(
        name="gpu_memory_leak",
        how=(
            "bf16 run whose compute_loss keeps every step's model outputs (logits and all hidden states, "
            "still attached to the autograd graph) in a Python list; torch.cuda.memory_allocated() is "
            "logged each step as memory_allocated_mb. At step 10 the process is capped (as on a shared "
            "GPU) at the memory it would need to reach about step 150."
        ),
        planted=(
            "Trainer.compute_loss appends the model outputs (output_hidden_states=True, not detached) to a "
            "list every training step; torch.cuda.set_per_process_memory_fraction at step 10, sized from "
            "the growth over steps 5-10 to run out around step 150"
        ),
        cause=(
            "Memory leak: tensors referenced from a list that lives across steps are never freed, so "
            "allocated memory climbs linearly until the allocator cannot satisfy a request (OOM)."
        ),
        expect=("memory_growth", "oom", "crash"),
        precision="bf16",
        batch_size=16,
        seq_len=256,
        save_steps=25,
        leak=True,
        cap_at_step=10,
        cap_oom_target_step=150,
    ),
    GpuCase(
        name="gpu_deepspeed_fp16_scale_collapse",
        how=(
            f"DeepSpeed ZeRO-2 with fp16 (dynamic loss scale from 2^16, min 1) on the Llama of "
            f"gpu_fp16_overflow_from_start (MLP weights {MLP_SCALE_BIG:g}x): every step overflows."
        ),
        planted=(
            f"gate_proj.weight and up_proj.weight of every layer multiplied by {MLP_SCALE_BIG:g} at init; "
            "deepspeed=DS_CONFIG (fp16 enabled, loss_scale 0 = dynamic, hysteresis 2, min_loss_scale 1)"
        ),
        cause=(
            "fp16 loss-scale collapse: activations overflow fp16 at any scale, so DeepSpeed skips every step "
            "and halves the loss scale until it reaches min_loss_scale, then stops the run."
        ),
        expect=("crash",),
        precision="fp16",
        mlp_scale=MLP_SCALE_BIG,
        max_steps=60,
        save_steps=5,  # the run stops before step 20: keep checkpoints from before the collapse
        deepspeed=True,
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}


# --------------------------------------------------------------------------------------
# Worker side (a subprocess per case).
# --------------------------------------------------------------------------------------


def build_model(case: GpuCase) -> LlamaForCausalLM:
    """A 4.2M-parameter Llama from a config (no hub access needed)."""
    config = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=256,
        intermediate_size=1024,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=None,
        use_cache=False,
        attn_implementation=case.attn_implementation,
    )
    model = LlamaForCausalLM(config)
    if case.mlp_scale != 1.0:
        with torch.no_grad():
            for layer in model.model.layers:
                layer.mlp.gate_proj.weight.mul_(case.mlp_scale)
                layer.mlp.up_proj.weight.mul_(case.mlp_scale)
    return model


class StepTracker(TrainerCallback):
    """Knows which global step the current forward pass belongs to."""

    def __init__(self) -> None:
        self.current_step = 0

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self.current_step = state.global_step + 1


class LongBatch:
    """Forward pre-hook: at one training step, the batch becomes ``long_len`` tokens per row."""

    def __init__(self, tracker: StepTracker, step: int, long_len: int) -> None:
        self.tracker, self.step, self.long_len = tracker, step, long_len

    def __call__(self, module: torch.nn.Module, args: Any, kwargs: dict[str, Any]) -> Any:
        if not (module.training and self.tracker.current_step == self.step):
            return None
        ids = kwargs["input_ids"]
        strides = (ids[:, 1] - ids[:, 0]) % VOCAB_SIZE
        long_ids = cpu_gen.progression(ids[:, 0].cpu(), strides.cpu(), self.long_len).to(ids.device)
        kwargs = {**kwargs, "input_ids": long_ids, "labels": long_ids.clone(),
                  "attention_mask": torch.ones_like(long_ids)}
        return args, kwargs


class MemoryCap(TrainerCallback):
    """Caps this process's GPU memory at ``cap_step``, sized from the growth rate since step 5."""

    def __init__(self, cap_step: int, target_step: int) -> None:
        self.cap_step, self.target_step = cap_step, target_step
        self.at5: int | None = None

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if not torch.cuda.is_available():
            return
        if state.global_step == 5:
            self.at5 = torch.cuda.memory_allocated()
        if state.global_step == self.cap_step and self.at5 is not None:
            rate = (torch.cuda.memory_allocated() - self.at5) / (self.cap_step - 5)
            limit = torch.cuda.memory_reserved() + rate * (self.target_step - self.cap_step)
            total = torch.cuda.get_device_properties(0).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, limit / total))
            logger.info(f"GPU memory limit for this process: {limit / 2**30:.2f} GiB of {total / 2**30:.2f} GiB")


class GpuTrainer(Trainer):
    """Trainer that logs GPU memory with every train row, and (leak case) leaks outputs."""

    def __init__(self, *args: Any, leak: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leak = leak
        self.kept_outputs: list[Any] = []

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and torch.cuda.is_available():
            logs["memory_allocated_mb"] = round(torch.cuda.memory_allocated() / 2**20, 1)
        super().log(logs, start_time)

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        if not (self.leak and model.training):
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        loss, outputs = super().compute_loss(
            model, {**inputs, "output_hidden_states": True}, True, num_items_in_batch
        )
        self.kept_outputs.append(outputs)  # the bug: kept for "later analysis", never detached or freed
        return (loss, outputs) if return_outputs else loss


def run_worker(case: GpuCase, outdir: Path, device: str) -> None:
    """Train one case into ``outdir``."""
    cpu_gen.configure_logging()
    set_seed(SEED)
    on_gpu = device == "cuda"
    if case.deepspeed and on_gpu:  # one process without the `deepspeed` launcher: the env it would set
        for key, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
                           "MASTER_PORT": "29512"}.items():
            os.environ.setdefault(key, value)
    if not on_gpu:  # smoke test: a few steps, the OOM batch early
        case = dataclasses.replace(case, max_steps=SMOKE_STEPS, save_steps=5,
                                   long_batch_at_step=case.long_batch_at_step and 7)
    training_args = TrainingArguments(
        output_dir=str(outdir),
        max_steps=case.max_steps,
        per_device_train_batch_size=case.batch_size,
        per_device_eval_batch_size=case.batch_size,
        learning_rate=case.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=10,
        weight_decay=0.0,
        max_grad_norm=1.0,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=EVAL_STEPS,
        save_strategy="steps",
        save_steps=case.save_steps,
        save_only_model=not case.deepspeed,
        fp16=case.precision == "fp16" and on_gpu,
        bf16=case.precision == "bf16",
        deepspeed=DS_CONFIG if case.deepspeed and on_gpu else None,
        seed=SEED,
        data_seed=SEED,
        report_to=["tensorboard", "wandb"],  # W&B offline (generate.launch sets WANDB_MODE)
        use_cpu=not on_gpu,
        disable_tqdm=False,
        dataloader_num_workers=0,
    )
    logger.warning(
        f"Process rank: {training_args.local_process_index}, device: {training_args.device}, "
        f"n_gpu: {training_args.n_gpu}, distributed training: "
        f"{training_args.parallel_mode.value == 'distributed'}, 16-bits training: "
        f"{training_args.fp16 or training_args.bf16}"
    )
    logger.info(f"Training/evaluation parameters {training_args}")

    model = build_model(case)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info(f"Training new model from scratch - Total size={n_params / 2**20:.2f}M params")

    train_dataset = cpu_gen.PatternDataset(N_TRAIN, SEED, mask_labels=False, seq_len=case.seq_len)
    eval_dataset = cpu_gen.PatternDataset(N_EVAL, SEED + 1, mask_labels=False, seq_len=case.seq_len)
    tracker = StepTracker()
    callbacks: list[TrainerCallback] = [tracker]
    if case.long_batch_at_step is not None:
        long_len = case.long_len if on_gpu else 4 * case.seq_len
        model.register_forward_pre_hook(LongBatch(tracker, case.long_batch_at_step, long_len), with_kwargs=True)
    if case.cap_at_step is not None and on_gpu:
        callbacks.append(MemoryCap(case.cap_at_step, case.cap_oom_target_step or case.max_steps))

    trainer = GpuTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=default_data_collator,
        callbacks=callbacks,
        leak=case.leak,
    )
    train_result = trainer.train()
    trainer.save_model()
    metrics = dict(train_result.metrics)
    metrics["train_samples"] = len(train_dataset)
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)
    trainer.save_state()

    logger.info("*** Evaluate ***")
    metrics = trainer.evaluate()
    metrics["eval_samples"] = len(eval_dataset)
    try:
        metrics["perplexity"] = math.exp(metrics["eval_loss"])
    except OverflowError:
        metrics["perplexity"] = float("inf")
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)


# --------------------------------------------------------------------------------------
# Driver side.
# --------------------------------------------------------------------------------------


def versions() -> dict[str, Any]:
    """generate.py's versions plus the GPU and CUDA."""
    out: dict[str, Any] = cpu_gen.versions()
    out["cuda"] = torch.version.cuda
    out["cudnn"] = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    out["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if torch.cuda.is_available():
        out["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 2)
        try:
            smi = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, check=False, timeout=30)
            out["nvidia_driver"] = smi.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            out["nvidia_driver"] = None
    return out


def trim(case_dir: Path) -> None:
    """generate.py's checkpoint trimming, plus deleting weight files over WEIGHT_FILE_LIMIT."""
    cpu_gen.trim_checkpoints(case_dir)
    for weights in case_dir.rglob("model.safetensors"):
        if weights.stat().st_size > WEIGHT_FILE_LIMIT:
            weights.unlink()
    for folder in case_dir.glob("checkpoint-*/global_step*"):  # DeepSpeed's optimizer and weight shards
        shutil.rmtree(folder)
    for script in case_dir.glob("checkpoint-*/zero_to_*.py"):  # a script DeepSpeed copies in
        script.unlink()


OOM_RE = re.compile(r"(torch\.OutOfMemoryError|torch\.cuda\.OutOfMemoryError): (CUDA out of memory\..*)")


def memory_growth_step(train_rows: Sequence[dict[str, Any]]) -> int | None:
    """First logged step from which memory_allocated_mb never decreases and ends >= 1.5x that value."""
    mem = [(int(r["step"]), float(r["memory_allocated_mb"])) for r in train_rows if "memory_allocated_mb" in r]
    if len(mem) < 4:
        return None
    last = mem[-1][1]
    for i, (step, value) in enumerate(mem):
        later = [v for _, v in mem[i:]]
        if all(b >= a for a, b in itertools.pairwise(later)) and value > 0 and last >= 1.5 * value:
            return step
        if len(mem) - i < 4:
            break
    return None


def write_expected(case: GpuCase, case_dir: Path, returncode: int, elapsed: float, device: str,
                   recorded: dict[str, Any] | None = None) -> list[str]:
    """Write ``expected.yaml`` from the real outputs; return the problems found. `recorded`: the versions
    of the machine that made the run (``--reexpect`` keeps those of the existing expected.yaml)."""
    state, state_file = cpu_gen.read_state(case_dir)
    log_history = state["log_history"]
    found = cpu_gen.detect(log_history, state, returncode)
    console = cpu_gen.console_summary(case_dir / "nohup.out")
    text = (case_dir / "nohup.out").read_text(encoding="utf-8", errors="replace")
    train_rows = [r for r in log_history if "loss" in r]
    eval_rows = [r for r in log_history if "eval_loss" in r]
    if "crash" in found:
        # As in generate.py: the console goes on after the last checkpoint (one train dict per step).
        found["crash"] = max(found["crash"], console["train_log_lines"])
    oom = OOM_RE.search(text)
    if oom:
        console["oom_message"] = oom.group(0)[:400]
        # The OOM is raised inside the step after the last one the console printed (logging_steps=1),
        # or, when the traceback goes through the evaluation loop, in the eval of the last printed step.
        traceback = text[text.rfind("Traceback (most recent call last)"):]
        in_eval = "evaluation_loop" in traceback or "in evaluate" in traceback
        console["oom_during_eval"] = in_eval
        found["oom"] = console["train_log_lines"] + (0 if in_eval else 1)
    grow = memory_growth_step(train_rows)
    if grow is not None:
        found["memory_growth"] = grow
    if len(found) > 1:
        found.pop("healthy", None)

    # The diagnosis, from what happened. In fp16 a non-finite grad_norm/loss is an fp16 overflow.
    modes: dict[str, int] = {}
    nonfinite = [found[k] for k in ("loss_zero_grad_nan", "grad_norm_nan", "loss_nan") if k in found]
    if case.precision == "fp16" and nonfinite:
        modes["fp16_overflow"] = min(nonfinite)
    for mode in ("loss_zero_grad_nan", "loss_nan", "eval_loss_nan", "loss_zero", "divergence",
                 "memory_growth", "oom"):
        if mode in found and not (mode == "loss_zero" and "loss_zero_grad_nan" in found):
            modes[mode] = found[mode]
    if "grad_norm_nan" in found and not {"loss_zero_grad_nan", "loss_nan"} & set(found):
        modes["grad_norm_nan"] = found["grad_norm_nan"]
    # DeepSpeed stops a run whose loss scale reached its minimum: that end is the fp16 overflow's, as an
    # OOM's end is the OOM's, not a separate crash.
    scale_min = "Current loss scale already at minimum" in text
    console["loss_scale_at_minimum"] = scale_min
    if case.precision == "fp16" and scale_min:
        modes.setdefault("fp16_overflow", found.get("crash", 0))
    if "crash" in found and "oom" not in found and not scale_min:
        modes["crash"] = found["crash"]
    if not modes and "healthy" in found:
        modes["healthy"] = 0
    problems = []
    if device == "cuda" and not set(case.expect) <= set(found):
        problems.append(f"{case.name}: expected symptoms {sorted(case.expect)}, detected {found}")

    onset_steps = sorted({s for m, s in found.items() if m != "healthy"})
    rows = cpu_gen.rows_around(log_history, onset_steps)
    for row, full in zip(rows, [r for r in log_history if ("loss" in r or "eval_loss" in r)
                                and any(s - 2 <= r.get("step", -1) <= s + 2 for s in onset_steps)], strict=True):
        if "memory_allocated_mb" in full:
            row["memory_allocated_mb"] = full["memory_allocated_mb"]
    notes = [case.how]
    notes += [cpu_gen.describe_onset(rows, s) for s in onset_steps if any(r["step"] == s for r in rows)]
    nonfinite_train = [r["step"] for r in train_rows if cpu_gen._nonfinite(r.get("grad_norm"))
                       or cpu_gen._nonfinite(r["loss"])]
    if nonfinite_train:
        notes.append(f"{len(nonfinite_train)} of {len(train_rows)} logged train rows have a non-finite "
                     f"loss or grad_norm (first {nonfinite_train[0]}, last {nonfinite_train[-1]}); "
                     f"{sum(1 for r in train_rows if r['loss'] == 0.0)} rows have loss 0.0.")
    if train_rows and eval_rows:
        notes.append(
            f"Train loss {train_rows[0]['loss']!r} at step {train_rows[0]['step']} -> "
            f"{train_rows[-1]['loss']!r} at step {train_rows[-1]['step']}; eval_loss "
            f"{eval_rows[0]['eval_loss']!r} at step {eval_rows[0]['step']} -> "
            f"{eval_rows[-1]['eval_loss']!r} at step {eval_rows[-1]['step']} in {state_file}."
        )
    mem = [r["memory_allocated_mb"] for r in train_rows if "memory_allocated_mb" in r]
    if mem:
        notes.append(f"memory_allocated_mb {mem[0]!r} at step {train_rows[0]['step']} -> {mem[-1]!r} at step "
                     f"{train_rows[-1]['step']} (max {max(mem)!r}) in {state_file}.")
    results_file = case_dir / "all_results.json"
    if results_file.exists():
        results = json.loads(results_file.read_text())
        notes.append(f"all_results.json: train_loss={results.get('train_loss')!r}, "
                     f"eval_loss={results.get('eval_loss')!r}, perplexity={results.get('perplexity')!r}.")
    if oom:
        notes.append(f"nohup.out ends in a traceback: {oom.group(0)[:300]}")
        notes.append(f"The console printed {console['train_log_lines']} train dicts (last: "
                     f"{console['last_train_log_line']}); the oom onset is "
                     + ("that step: the traceback goes through the evaluation loop run after it."
                        if console["oom_during_eval"] else
                        "that count + 1, the training step whose forward/backward raised the error."))
    if returncode != 0:
        ckpts = sorted(p.name for p in case_dir.glob("checkpoint-*"))
        notes.append(f"Exit status {returncode}; newest state is {state_file} (global_step "
                     f"{state['global_step']} of max_steps {state['max_steps']}); checkpoints: {', '.join(ckpts)}.")
    if case.extra_notes:
        notes.append(case.extra_notes)
    if device != "cuda":
        notes.append("SMOKE TEST on CPU: the planted fault did not fire; not a gallery case.")

    expected: dict[str, Any] = {
        "case": case.name,
        "failure_modes": list(modes),
        "onset_step": None if "healthy" in modes else min(modes.values(), default=None),
        "onset_step_by_mode": {m: s for m, s in modes.items() if m != "healthy"},
        "symptoms": {m: s for m, s in sorted(found.items(), key=lambda kv: kv[1]) if m != "healthy"},
        "planted": case.planted,
        "cause": case.cause,
        "notes": " ".join(notes),
        "onset_rows": rows,
        "console": console,
        "run": {
            "exit_code": returncode,
            "planted_step": case.long_batch_at_step or case.cap_at_step,
            "state_file": state_file,
            "global_step": state["global_step"],
            "max_steps": state["max_steps"],
            "precision": case.precision if device == "cuda" or case.precision != "fp16" else "fp32 (cpu smoke test)",
            "learning_rate": case.learning_rate,
            "lr_scheduler_type": "cosine",
            "warmup_steps": 10,
            "batch_size": case.batch_size,
            "seq_len": case.seq_len,
            "attn_implementation": case.attn_implementation,
            "mlp_scale": case.mlp_scale,
            "logging_nan_inf_filter": True,
            "eval_steps": EVAL_STEPS,
            "save_steps": case.save_steps,
            "device": device,
            "wall_seconds": round(elapsed, 1),
        },
        "versions": recorded or versions(),
    }
    with open(case_dir / "expected.yaml", "w") as fh:
        yaml.safe_dump(expected, fh, sort_keys=False, width=100, allow_unicode=True)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CASES_BY_NAME), metavar="CASE")
    parser.add_argument("--out", type=Path, default=HERE, help="folder that receives the gpu_*/ cases")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--reexpect", action="store_true",
                        help="rewrite expected.yaml from the runs already in --out (no GPU, no training): for a "
                             "change in how the outputs are read; keeps the recorded exit code, time and versions")
    parser.add_argument("--_worker", nargs=3, metavar=("CASE", "OUTDIR", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._worker:
        name, outdir, device = args._worker
        run_worker(CASES_BY_NAME[name], Path(outdir), device)
        return 0
    if args.list:
        for case in CASES:
            print(f"{case.name:24s} {case.how}")
        return 0
    if args.reexpect:
        for case in [CASES_BY_NAME[n] for n in args.only] if args.only else list(CASES):
            old = yaml.safe_load((args.out / case.name / "expected.yaml").read_text())
            write_expected(case, args.out / case.name, old["run"]["exit_code"], old["run"]["wall_seconds"],
                           old["run"]["device"], recorded=old["versions"])
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device: use --device cpu for a smoke test")
    selected = [CASES_BY_NAME[n] for n in args.only] if args.only else list(CASES)
    problems: list[str] = []
    for case in selected:
        case_dir = args.out / case.name
        start = time.monotonic()
        returncode = cpu_gen.launch(case.name, case_dir, Path(__file__), [args.device])
        elapsed = time.monotonic() - start
        trim(case_dir)
        problems += write_expected(case, case_dir, returncode, elapsed, args.device)
        print(f"{case.name:24s} exit={returncode:4d} {elapsed:6.1f}s "
              f"{cpu_gen.dir_size(case_dir) / 1024:7.1f} KiB", flush=True)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
