"""Generate the ``sample_logs/`` gallery of real Hugging Face Trainer runs with planted faults.

Every case is a genuine ``transformers.Trainer`` run of a tiny, randomly initialised
Llama model on a synthetic token dataset, on CPU, in a few seconds. Each case runs in
its own subprocess whose stdout and stderr both go to ``<case>/nohup.out``, exactly
like ``nohup python train.py > nohup.out 2>&1 &`` (default Python buffering, so the
console capture is what a user really gets: tqdm bars, the Trainer's printed dict
lines, warnings, tracebacks). The script then trims checkpoints to the small files,
reads the real ``trainer_state.json`` back, locates where each fault first shows up and
writes ``<case>/expected.yaml``.

How to run (from the repository root)::

    . /work/venv/bin/activate
    python sample_logs/generate.py                      # regenerate every case
    python sample_logs/generate.py --only hf_healthy    # regenerate some cases
    python sample_logs/generate.py --list               # list the cases

Internally each case is executed as ``python generate.py --_worker CASE OUTDIR``.
The script exits non-zero if a case does not show the failure modes it is meant to.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
import transformers
import yaml
from torch import nn
from torch.utils.data import Dataset
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

SEED = 42
VOCAB_SIZE = 64
SEQ_LEN = 32
STRIDES = (1, 2, 3, 5)
N_TRAIN = 256
N_EVAL = 32
BATCH_SIZE = 8
MAX_STEPS = 60
EVAL_STEPS = 10
SAVE_STEPS = 20
IGNORE_INDEX = -100

# Files removed from every checkpoint-*/ after a run, to keep the gallery small.
CHECKPOINT_JUNK_NAMES = ("optimizer.pt", "scheduler.pt", "scaler.pt")
CHECKPOINT_JUNK_GLOB = "rng_state*.pth"

# Every failure mode the detector below knows how to locate in log_history.
KNOWN_MODES = (
    "healthy",
    "loss_zero",
    "loss_zero_grad_nan",
    "loss_nan",
    "grad_norm_nan",
    "grad_norm_zero",
    "eval_loss_nan",
    "divergence",
    "grad_explosion",
    "throughput_drop",
    "not_learning",
    "loss_spike",
    "overfitting",
    "crash",
    "lr_reaches_zero",
)

# A diagnosis whose onset is the first step of a symptom with another name.
SYMPTOM_OF = {"not_learning": ("grad_norm_zero", "lr_reaches_zero")}
GRPO_STEPS = 40

logger = logging.getLogger("train")


@dataclass(frozen=True)
class Case:
    """One gallery entry: how the run is configured and which fault is planted."""

    name: str
    how: str
    planted: str
    cause: str
    symptoms: tuple[str, ...]  # what this script checks in log_history (see ``detect``)
    failure_modes: tuple[str, ...]  # the diagnosis the analyzer must make (the taxonomy of docs/design.md)
    learning_rate: float = 5e-3
    lr_scheduler_type: str = "cosine"
    warmup_steps: int = 6
    logging_nan_inf_filter: bool = True
    mask_train_labels: bool = False
    mask_eval_labels: bool = False
    nan_at_step: int | None = None
    kill_at_step: int | None = None
    kill_signal: int = signal.SIGKILL
    raise_at_step: int | None = None
    slow_from_step: int | None = None
    mask_train_from_step: int | None = None  # labels of every training batch from this step on are -100
    lr_pulse_at: int | None = None  # the learning rate is multiplied by lr_pulse_factor for this one step
    lr_pulse_factor: float = 1.0
    n_train: int = N_TRAIN
    random_tokens: bool = False  # sequences of random tokens: nothing to generalise, only to memorise
    unknown_token_rows: int = 0  # training rows holding a token id the model's embedding does not have
    contention_from_step: int | None = None  # CPU-bound processes compete with training from this step on
    schedule_steps: int | None = None  # the LR scheduler is built for this many steps instead of max_steps
    max_steps: int = MAX_STEPS
    save_steps: int = SAVE_STEPS
    lr_scheduler_kwargs: dict[str, Any] | None = None
    trainer: str = "trainer"  # trainer | grpo (TRL's GRPOTrainer)
    reward_zero: bool = False  # GRPO: the reward function gives 0 to every completion
    extra_notes: str = ""


CASES: tuple[Case, ...] = (
    Case(
        name="hf_healthy",
        how="Normal run: linear warmup from 0 over 6 steps, cosine decay, lr 5e-3.",
        planted="nothing",
        cause="none: a healthy reference run",
        symptoms=("healthy",),
        failure_modes=("healthy",),
    ),
    Case(
        name="hf_labels_all_masked",
        how="Every training label is -100 (response-only masking never matched).",
        planted="labels[:] = -100 for every training example, from step 1; eval labels untouched",
        cause=(
            "Label masking bug (e.g. a chat template whose response marker never matches), so no "
            "token is supervised: each step's loss is sum/num_items_in_batch = 0/0 = NaN, which the "
            "default logging_nan_inf_filter logs as 0.0, while every gradient is exactly 0, so the "
            "weights never change and eval_loss stays at its initial value."
        ),
        symptoms=("loss_zero", "grad_norm_zero"),
        failure_modes=("loss_zero",),
        mask_train_labels=True,
        extra_notes=(
            "No NaN ever reaches log_history: the raw per-step loss is NaN (checked by calling the "
            "model with num_items_in_batch=0) but logging_nan_inf_filter replaces it by the mean of "
            "the previous logged losses, which is 0.0 with logging_steps=1. grad_norm is exactly 0.0 "
            "(cross-entropy backward writes 0 for ignored positions), AdamW moves nothing, eval_loss "
            "is identical at every eval (about ln(64), the uniform-prediction loss) and the summary "
            "train_loss is 0.0. The console prints {'loss': '0', 'grad_norm': '0', ...}."
        ),
    ),
    Case(
        name="hf_labels_all_masked_unfiltered",
        how="Every training label is -100, with logging_nan_inf_filter=False.",
        planted=(
            "labels[:] = -100 for every training example, from step 1; eval labels untouched; "
            "logging_nan_inf_filter=False"
        ),
        cause=(
            "Label masking bug: each step's loss is 0/0 = NaN and is logged as such because the "
            "NaN filter is off; every gradient is exactly 0 (grad_norm 0.0, not NaN), so the "
            "weights never change and eval_loss stays finite and flat."
        ),
        symptoms=("loss_nan", "grad_norm_zero"),
        failure_modes=("loss_nan",),
        mask_train_labels=True,
        logging_nan_inf_filter=False,
        extra_notes=(
            "Same run as hf_labels_all_masked with the filter off: loss NaN from step 1 but "
            "grad_norm 0.0 (finite), eval_loss finite and constant, summary train_loss NaN."
        ),
    ),
    Case(
        name="hf_nan_loss_unfiltered",
        how="NaN injected into the embeddings output at step 23, logging_nan_inf_filter=False.",
        planted=(
            "forward hook on embed_tokens multiplies its output by NaN during the forward "
            "pass of global step 23 only (training mode); the AdamW update then makes "
            "every weight NaN"
        ),
        cause="A single non-finite forward pass (bad batch / activation overflow) poisons the weights.",
        symptoms=("loss_nan", "grad_norm_nan", "eval_loss_nan"),
        failure_modes=("loss_nan", "eval_loss_nan"),
        logging_nan_inf_filter=False,
        nan_at_step=23,
        extra_notes=(
            "The eval at step 20 is finite; the first eval after the poisoned update (step 30) and "
            "all later ones are NaN. Summary train_loss and perplexity are NaN."
        ),
    ),
    Case(
        name="hf_nan_loss_filtered",
        how="Same NaN injection at step 23, default logging_nan_inf_filter=True.",
        planted=(
            "forward hook on embed_tokens multiplies its output by NaN during the forward "
            "pass of global step 23 only (training mode); the AdamW update then makes "
            "every weight NaN"
        ),
        cause=(
            "A single non-finite forward pass poisons the weights; the Trainer's "
            "logging_nan_inf_filter hides the NaN train loss."
        ),
        symptoms=("loss_zero_grad_nan", "loss_zero", "grad_norm_nan", "eval_loss_nan"),
        failure_modes=("loss_zero_grad_nan", "eval_loss_nan"),
        nan_at_step=23,
        extra_notes=(
            "The filter logs loss 0.0 (mean of previous logged losses since the last log, which "
            "is 0 with logging_steps=1) from step 23 on, while grad_norm is NaN. The summary "
            "train_loss averages the 0.0s in, so it is lower than the healthy run's."
        ),
    ),
    Case(
        name="hf_eval_nan",
        how="Every eval label is -100 (eval split truncated before the response).",
        planted="labels[:] = -100 for every eval example; training data untouched",
        cause=(
            "Eval preprocessing bug: no eval token is supervised, so every eval batch "
            "loss is a mean over zero tokens (NaN) and the Trainer's eval NaN filter "
            "has no finite batch to fall back on."
        ),
        symptoms=("eval_loss_nan",),
        failure_modes=("eval_loss_nan",),
        mask_eval_labels=True,
        extra_notes=(
            "Chosen over a NaN-injecting eval hook as the more realistic cause. The Trainer's "
            "evaluation loop drops non-finite batch losses when logging_nan_inf_filter is on and at "
            "least one batch is finite; here none is, so eval_loss is NaN from the first eval, and "
            "train loss/grad_norm stay finite and identical to hf_healthy."
        ),
    ),
    Case(
        name="hf_lr_too_high",
        how="learning_rate=200 (fp32, constant schedule, no warmup).",
        planted="learning_rate=200.0, lr_scheduler_type=constant, warmup_steps=0, from step 1",
        cause=(
            "Learning rate several orders of magnitude too high: the loss explodes after the "
            "first update and keeps climbing (finite in fp32), grad_norm grows without bound."
        ),
        symptoms=("divergence", "grad_explosion"),
        failure_modes=("divergence", "grad_explosion"),
        learning_rate=200.0,
        lr_scheduler_type="constant",
        warmup_steps=0,
        extra_notes=(
            "The loss stays finite in fp32 (no NaN/inf in log_history) while climbing by about six "
            "orders of magnitude; grad_norm exceeds 1e12 by the end; perplexity in all_results.json "
            "is inf (math.exp overflow in the script)."
        ),
    ),
    Case(
        name="hf_lr_extreme_collapse",
        how="learning_rate=1000 (fp32, constant schedule, no warmup).",
        planted="learning_rate=1000.0, lr_scheduler_type=constant, warmup_steps=0, from step 1",
        cause=(
            "Learning rate so high that after a two-step loss explosion the network saturates: "
            "gradients become exactly 0 and the loss freezes at ln(vocab_size), the loss of a "
            "uniform prediction (a dead model, not a NaN)."
        ),
        symptoms=("divergence", "grad_explosion", "grad_norm_zero"),
        failure_modes=("divergence", "grad_explosion", "not_learning"),
        learning_rate=1000.0,
        lr_scheduler_type="constant",
        warmup_steps=0,
        extra_notes=(
            "Steps 2-3 explode (loss above 1e7), then from step 4 on the loss is a constant 4.15888 "
            "(ln 64) with grad_norm exactly 0.0 and every eval_loss equal to it: no NaN anywhere."
        ),
    ),
    Case(
        name="hf_exception",
        how="A data error raised inside training at step 33 of 60 (an uncaught exception).",
        planted="callback raises RuntimeError in on_step_begin of global step 33 (a corrupt data shard)",
        cause=(
            "An uncaught exception ends training: the traceback is the last thing on the console, "
            "no summary, no final trainer_state.json; only checkpoint-20/ was saved."
        ),
        symptoms=("crash",),
        failure_modes=("crash",),
        raise_at_step=33,
        extra_notes="The traceback names the RuntimeError and the callback's frame.",
    ),
    Case(
        name="hf_slowdown",
        how="Steps slow down sharply from step 30 (a data loader stall simulated by a sleep).",
        planted=(
            "callback sleeps 3 s in on_step_begin from global step 30 on; a Trainer subclass logs "
            "steps_per_second (optimizer steps per second since the previous log) in every log row"
        ),
        cause="The input pipeline stalls from step 30: each step waits on data, throughput collapses.",
        symptoms=("healthy", "throughput_drop"),
        failure_modes=("throughput_drop",),
        slow_from_step=30,
        extra_notes="Loss and grad_norm are those of hf_healthy; only the speed changes.",
    ),
    Case(
        name="hf_vocab_mismatch_crash",
        how=("One training row holds token id 66 while the model's embedding has 64 rows (tokens added to the "
             "tokenizer, embeddings never resized): the batch that draws it crashes."),
        planted=("input_ids of the last of the 256 training rows carry id VOCAB_SIZE + 2; nothing else is changed: the "
                 "crash is torch's own IndexError in the embedding lookup"),
        cause=("An uncaught IndexError ('index out of range in self') from nn.Embedding ends training at the "
               "first batch holding the unknown id: traceback last on the console, no summary."),
        symptoms=("crash",),
        failure_modes=("crash",),
        unknown_token_rows=1,
        save_steps=5,
        extra_notes="The traceback ends in torch.nn.functional.embedding.",
    ),
    Case(
        name="hf_cpu_contention",
        how=("From step 30 three CPU-bound processes (another job on the same 2-core machine) compete with "
             "training; the Trainer's own steps slow down."),
        planted=("callback starts 3 busy-looping Python processes at the start of global step 30 and stops them "
                 "when training ends; a Trainer subclass logs steps_per_second in every log row"),
        cause="Training shares its CPU with other processes from step 30: every step takes longer.",
        symptoms=("healthy", "throughput_drop"),
        failure_modes=("throughput_drop",),
        contention_from_step=30,
        extra_notes="Loss and grad_norm are those of hf_healthy; only the speed changes.",
    ),
    Case(
        name="hf_lr_schedule_too_short",
        how=("The linear LR schedule is built for 30 steps (the steps of one epoch) while training runs 60: the "
             "logged learning rate is 0 from step 31 and the second half updates nothing."),
        planted=("a Trainer subclass builds its scheduler with transformers.get_scheduler(num_training_steps=30) "
                 "instead of max_steps=60 (lr_scheduler_type linear)"),
        cause=("The scheduler was sized for fewer steps than the run: the learning rate is 0 from step 31 on and "
               "the loss stops improving there."),
        symptoms=("lr_reaches_zero",),
        failure_modes=("not_learning",),
        lr_scheduler_type="linear",
        schedule_steps=30,
        extra_notes="log_history shows learning_rate 0.0 from step 31 to step 60.",
    ),
    Case(
        name="hf_sigterm_time_limit",
        how=("The job's time limit ends the run: SIGTERM at the end of step 52 of 60, as a batch scheduler sends "
             "it; nothing in the run handles the signal, so the process ends at once."),
        planted="callback calls os.kill(os.getpid(), SIGTERM) in on_step_end at global step 52",
        cause=("The process was terminated from outside (time limit or preemption): no final log row, no train "
               "summary, no top-level trainer_state.json; newest state checkpoint-40/."),
        symptoms=("crash",),
        failure_modes=("crash",),
        kill_at_step=52,
        kill_signal=signal.SIGTERM,
    ),
    Case(
        name="hf_killed",
        how="Process SIGKILLed (as by the OOM killer) at the end of step 45 of 60.",
        planted="callback calls os.kill(os.getpid(), SIGKILL) in on_step_end at global step 45",
        cause=(
            "The process was killed externally: no final log row, no train summary, no "
            "top-level trainer_state.json; only checkpoint-20/ and checkpoint-40/."
        ),
        symptoms=("crash",),
        failure_modes=("crash",),
        kill_at_step=45,
        extra_notes=(
            "onset_step for a crash is the last step persisted in any trainer_state.json. The kill "
            "happens in on_step_end of step 45, before the Trainer logs that step, so the console "
            "shows train log lines for steps 1-44 and the tqdm bar stops there."
        ),
    ),
    Case(
        name="hf_healthy_cosine_restarts",
        how="Normal run with a cosine schedule that restarts: 3 cycles of 20 steps (warmup 0, lr 5e-3).",
        planted="nothing: lr_scheduler_type=cosine_with_restarts, num_cycles=3, warmup_steps=0",
        cause="none: a healthy run whose learning rate jumps back to its peak twice (steps 21 and 41)",
        symptoms=("healthy",),
        failure_modes=("healthy",),
        lr_scheduler_type="cosine_with_restarts",
        lr_scheduler_kwargs={"num_cycles": 3},
        warmup_steps=0,
        extra_notes="The restarts must not be taken for faults: the loss keeps falling through them.",
    ),
    Case(
        name="hf_lr_zero",
        how="learning_rate=0 (a config typo): the weights never move.",
        planted="learning_rate=0.0 from step 1 (constant schedule)",
        cause="The learning rate is 0, so AdamW never changes a weight: the loss only wanders with the batches.",
        symptoms=("not_learning",),
        failure_modes=("not_learning",),
        learning_rate=0.0,
        lr_scheduler_type="constant",
        warmup_steps=0,
        extra_notes="grad_norm is finite and non-zero (gradients flow), eval_loss is identical at every eval.",
    ),
    Case(
        name="hf_labels_masked_from_step30",
        how="Training labels are all -100 from step 30 on (a data shard whose template stopped matching).",
        planted="compute_loss replaces every training label by -100 from global step 30",
        cause=(
            "Label masking breaks mid-run (a new data shard whose chat template no longer matches the "
            "response marker): from then on no token is supervised, the loss logs as 0.0 (NaN filtered) "
            "and every gradient is 0."
        ),
        symptoms=("loss_zero", "grad_norm_zero"),
        failure_modes=("loss_zero",),
        mask_train_from_step=30,
        extra_notes="Steps 1-29 are those of hf_healthy; from step 30 loss 0.0 and grad_norm 0.0.",
    ),
    Case(
        name="hf_lr_pulse",
        how="The learning rate is 40x its schedule for step 30 only (a bad manual LR change), then back.",
        planted="the LambdaLR schedule is multiplied by 40 at step 30 (lr about 0.13 for one step)",
        cause="One oversized update knocks the loss up; the next steps at the normal rate recover.",
        symptoms=("loss_spike",),
        failure_modes=("loss_spike",),
        lr_pulse_at=30,
        lr_pulse_factor=40.0,
        extra_notes="The logged learning_rate shows the pulse at step 30; the loss jumps at step 31.",
    ),
    Case(
        name="hf_overfit_tiny_train",
        how="16 training rows of random tokens, 200 steps: the model memorises them, eval loss rises.",
        planted="n_train=16 rows of uniformly random tokens (eval: 32 other random rows), max_steps=200",
        cause="Too little data for the steps: train loss falls towards 0 while eval loss climbs past its best.",
        symptoms=("overfitting",),
        failure_modes=("overfitting",),
        n_train=16,
        random_tokens=True,
        max_steps=200,
        save_steps=100,
        extra_notes="Random tokens have nothing to generalise: the best eval loss is near ln 64 early on.",
    ),
    Case(
        name="hf_grpo_zero_loss",
        how="TRL GRPOTrainer (loss_type grpo, beta 0): the loss is 0 up to rounding by design.",
        planted="nothing: a reward for even tokens, 4 generations per prompt, beta=0.0",
        cause=(
            "none: with beta=0 the GRPO loss is the advantage-weighted ratio, whose value is 0 when the "
            "policy has not moved within a step (advantages are centred per group); gradients are not 0."
        ),
        symptoms=("healthy",),
        failure_modes=("healthy",),
        trainer="grpo",
        learning_rate=1e-3,
        max_steps=GRPO_STEPS,
        extra_notes="A loss near 0 means nothing here: reward and grad_norm are what move.",
    ),
    Case(
        name="hf_grpo_reward_always_zero",
        how="TRL GRPOTrainer whose reward function gives 0 to every completion (a reward that never matches).",
        planted="reward_zero=True: the reward function returns 0.0 whatever the completion",
        cause=(
            "every completion of every prompt gets the same reward, so the group-relative advantages are 0 and "
            "the policy gets no learning signal (TRL logs reward_std 0 and frac_reward_zero_std 1 at every step)"
        ),
        symptoms=("not_learning", "grad_norm_zero"),
        failure_modes=("not_learning",),
        trainer="grpo",
        learning_rate=1e-3,
        max_steps=GRPO_STEPS,
        reward_zero=True,
        extra_notes="The loss looks like the healthy GRPO run's; only the reward statistics show the fault.",
    ),
)
CASES_BY_NAME = {case.name: case for case in CASES}


# --------------------------------------------------------------------------------------
# Worker side: the actual training run (executed in a subprocess).
# --------------------------------------------------------------------------------------


def progression(starts: torch.Tensor, strides: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Token rows ``(start + stride * i) % VOCAB_SIZE`` for i < seq_len."""
    return (starts[:, None] + strides[:, None] * torch.arange(seq_len)) % VOCAB_SIZE


class PatternDataset(Dataset[dict[str, torch.Tensor]]):
    """Arithmetic token progressions ``(start + stride * i) % VOCAB_SIZE`` of ``seq_len`` tokens.

    The first two tokens reveal the stride, so a tiny causal LM learns the rest quickly.
    """

    def __init__(self, n: int, seed: int, mask_labels: bool, seq_len: int = SEQ_LEN, random_tokens: bool = False,
                 unknown_token_rows: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        starts = torch.randint(0, VOCAB_SIZE, (n,), generator=gen)
        stride_idx = torch.randint(0, len(STRIDES), (n,), generator=gen)
        strides = torch.tensor(STRIDES)[stride_idx]
        self.input_ids = progression(starts, strides, seq_len)
        if random_tokens:  # no pattern: a model can only memorise the training rows
            self.input_ids = torch.randint(0, VOCAB_SIZE, (n, seq_len), generator=gen)
        if unknown_token_rows:  # the newest rows use a token the tokenizer gained and the embedding lacks
            self.input_ids[n - unknown_token_rows:, seq_len // 2] = VOCAB_SIZE + 2
        self.labels = self.input_ids.clone()
        if mask_labels:
            self.labels.fill_(IGNORE_INDEX)

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def __getitem__(self, idx: int) -> dict[str, torch.Tensor]:
        ids = self.input_ids[idx]
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": self.labels[idx]}


class NaNInjector(TrainerCallback):
    """Makes the embedding output NaN during the training forward pass of one global step."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.current_step = 0

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        # global_step counts completed optimizer steps; this one will become global_step + 1.
        self.current_step = state.global_step + 1

    def hook(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> torch.Tensor | None:
        """Forward hook: return a NaN copy of the output at the planted step."""
        if module.training and self.current_step == self.step:
            return output * float("nan")
        return None


class Killer(TrainerCallback):
    """Sends a signal (SIGKILL: no cleanup, no flush) to the training process at the end of a given
    global step."""

    def __init__(self, step: int, signum: int = signal.SIGKILL) -> None:
        self.step, self.signum = step, signum

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.global_step == self.step:
            os.kill(os.getpid(), self.signum)


class Raiser(TrainerCallback):
    """Raises an uncaught exception at the start of a given global step (a corrupt data shard)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.global_step + 1 == self.step:
            raise RuntimeError(f"data shard 3 is corrupt: sample {self.step * BATCH_SIZE} has 0 tokens")


class Sleeper(TrainerCallback):
    """Makes every step from a given global step on wait, like a stalled data loader."""

    def __init__(self, step: int, seconds: float = 3.0) -> None:
        self.step, self.seconds = step, seconds

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.global_step + 1 >= self.step:
            time.sleep(self.seconds)


class CpuHogs(TrainerCallback):
    """Starts busy-looping processes at a given global step (another job on the machine) and stops them
    when training ends."""

    def __init__(self, step: int, count: int = 3) -> None:
        self.step, self.count = step, count
        self.procs: list[subprocess.Popen[bytes]] = []

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if state.global_step + 1 == self.step and not self.procs:
            self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(self.count)]

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


class ThroughputTrainer(Trainer):
    """A Trainer that adds steps_per_second (since the previous log) to every training log row."""

    _last: tuple[float, int] | None = None

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        if "loss" in logs:
            now, step = time.perf_counter(), self.state.global_step
            if self._last is not None and step > self._last[1]:
                logs["steps_per_second"] = round((step - self._last[1]) / (now - self._last[0]), 3)
            self._last = (now, step)
        super().log(logs, *args, **kwargs)


class FaultTrainer(Trainer):
    """The Trainer with this script's planted faults: labels masked from a step on, a one-step LR pulse."""

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mask_from_step, self.pulse_at, self.pulse_factor = (case.mask_train_from_step, case.lr_pulse_at,
                                                                 case.lr_pulse_factor)
        self.schedule_steps = case.schedule_steps

    def compute_loss(self, model: nn.Module, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if model.training and self.mask_from_step is not None and self.state.global_step + 1 >= self.mask_from_step:
            inputs = {**inputs, "labels": torch.full_like(inputs["labels"], IGNORE_INDEX)}
        return super().compute_loss(model, inputs, *args, **kwargs)

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        if self.schedule_steps is not None:  # the user passed the steps of one epoch, not of the run
            num_training_steps = self.schedule_steps
        scheduler = super().create_scheduler(num_training_steps, optimizer)
        if self.pulse_at is not None and isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):
            # The pulse goes into the schedule itself, so the logged learning_rate shows it as well.
            pulse, factor = self.pulse_at - 1, self.pulse_factor  # LambdaLR counts from 0
            lambdas = scheduler.lr_lambdas
            scheduler.lr_lambdas = [lambda i, f=f: f(i) * (factor if i == pulse else 1.0) for f in lambdas]
            for group, lr in zip(scheduler.optimizer.param_groups, scheduler.get_lr(), strict=True):
                group["lr"] = lr
        return scheduler


def build_model(pad_token_id: int | None = None) -> LlamaForCausalLM:
    """A ~50k-parameter Llama built from a config (no hub access needed)."""
    config = LlamaConfig(
        vocab_size=VOCAB_SIZE,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        bos_token_id=0,
        eos_token_id=1 if pad_token_id is None else VOCAB_SIZE - 1,
        pad_token_id=pad_token_id,
    )
    return LlamaForCausalLM(config)


def configure_logging() -> None:
    """Logging set up the way the Hugging Face example scripts (run_clm.py) do it."""
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%m/%d/%Y %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    logger.setLevel(logging.INFO)
    transformers.utils.logging.set_verbosity_info()
    transformers.utils.logging.enable_default_handler()
    transformers.utils.logging.enable_explicit_format()


def run_grpo_worker(case: Case, outdir: Path) -> None:
    """TRL's GRPOTrainer on the tiny Llama with a word-level tokenizer built here (no hub access)."""
    from datasets import Dataset as HFDataset
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from trl import GRPOConfig, GRPOTrainer

    configure_logging()
    set_seed(SEED)
    vocab = {f"t{i}": i for i in range(VOCAB_SIZE - 2)} | {"<pad>": VOCAB_SIZE - 2, "<eos>": VOCAB_SIZE - 1}
    core = Tokenizer(models.WordLevel(vocab, unk_token="t0"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="<eos>")
    prompts = HFDataset.from_dict({"prompt": [" ".join(f"t{(s + i) % (VOCAB_SIZE - 2)}" for i in range(4))
                                              for s in range(64)]})

    def even_tokens(completions: list[str], **kwargs: Any) -> list[float]:
        """Reward: the share of even-numbered tokens in a completion (of up to 8)."""
        if case.reward_zero:  # a reward that never matches: the same 0 for every completion
            return [0.0 for _ in completions]
        return [sum(w[1:].isdigit() and int(w[1:]) % 2 == 0 for w in c.split()) / 8 for c in completions]

    args = GRPOConfig(output_dir=str(outdir), max_steps=case.max_steps, per_device_train_batch_size=BATCH_SIZE,
                      num_generations=4, max_completion_length=8, learning_rate=case.learning_rate,
                      loss_type="grpo", beta=0.0, logging_steps=1, save_strategy="steps", save_steps=SAVE_STEPS,
                      seed=SEED, report_to=["tensorboard", "wandb"], use_cpu=True, disable_tqdm=False)
    trainer = GRPOTrainer(model=build_model(pad_token_id=VOCAB_SIZE - 2), reward_funcs=even_tokens, args=args,
                          train_dataset=prompts, processing_class=tokenizer)
    train_result = trainer.train()
    trainer.save_model()
    trainer.log_metrics("train", train_result.metrics)
    trainer.save_metrics("train", train_result.metrics)
    trainer.save_state()


def run_worker(case: Case, outdir: Path) -> None:
    """Train one case into ``outdir`` (the current directory of the subprocess)."""
    if case.trainer == "grpo":
        run_grpo_worker(case, outdir)
        return
    configure_logging()
    set_seed(SEED)
    training_args = TrainingArguments(
        output_dir=str(outdir),
        max_steps=case.max_steps,
        per_device_train_batch_size=BATCH_SIZE,
        per_device_eval_batch_size=BATCH_SIZE,
        learning_rate=case.learning_rate,
        lr_scheduler_type=case.lr_scheduler_type,
        lr_scheduler_kwargs=case.lr_scheduler_kwargs or {},
        warmup_steps=case.warmup_steps,
        weight_decay=0.0,
        max_grad_norm=1.0,
        logging_steps=1,
        logging_nan_inf_filter=case.logging_nan_inf_filter,
        eval_strategy="steps",
        eval_steps=EVAL_STEPS,
        save_strategy="steps",
        save_steps=case.save_steps,
        seed=SEED,
        data_seed=SEED,
        report_to=["tensorboard", "wandb"],  # W&B offline: launch() sets WANDB_MODE=offline
        use_cpu=True,
        disable_tqdm=False,
        dataloader_num_workers=0,
    )
    logger.warning(
        f"Process rank: {training_args.local_process_index}, device: {training_args.device}, "
        f"n_gpu: {training_args.n_gpu}, distributed training: "
        f"{training_args.parallel_mode.value == 'distributed'}"
    )
    logger.info(f"Training/evaluation parameters {training_args}")

    model = build_model()
    n_params = sum(p.numel() for p in model.parameters())
    logger.info(f"Training new model from scratch - Total size={n_params / 2**20:.2f}M params")

    train_dataset = PatternDataset(case.n_train, seed=SEED, mask_labels=case.mask_train_labels,
                                   random_tokens=case.random_tokens, unknown_token_rows=case.unknown_token_rows)
    eval_dataset = PatternDataset(N_EVAL, seed=SEED + 1, mask_labels=case.mask_eval_labels,
                                  random_tokens=case.random_tokens)

    callbacks: list[TrainerCallback] = []
    if case.nan_at_step is not None:
        injector = NaNInjector(case.nan_at_step)
        model.get_input_embeddings().register_forward_hook(injector.hook)
        callbacks.append(injector)
    if case.kill_at_step is not None:
        callbacks.append(Killer(case.kill_at_step, case.kill_signal))
    if case.raise_at_step is not None:
        callbacks.append(Raiser(case.raise_at_step))
    if case.slow_from_step is not None:
        callbacks.append(Sleeper(case.slow_from_step))
    if case.contention_from_step is not None:
        callbacks.append(CpuHogs(case.contention_from_step))

    common: dict[str, Any] = {"model": model, "args": training_args, "train_dataset": train_dataset,
                              "eval_dataset": eval_dataset, "data_collator": default_data_collator,
                              "callbacks": callbacks}
    if case.mask_train_from_step is not None or case.lr_pulse_at is not None or case.schedule_steps is not None:
        trainer: Trainer = FaultTrainer(**common, case=case)
    else:
        timed = case.slow_from_step is not None or case.contention_from_step is not None
        trainer = (ThroughputTrainer if timed else Trainer)(**common)

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
        perplexity = math.exp(metrics["eval_loss"])
    except OverflowError:
        perplexity = float("inf")
    metrics["perplexity"] = perplexity
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)


# --------------------------------------------------------------------------------------
# Driver side: launch workers, trim checkpoints, read results back, write expected.yaml.
# --------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    """Versions of the software that produced the gallery."""
    return {
        "python": platform.python_version(),
        "torch": metadata.version("torch"),
        "transformers": metadata.version("transformers"),
        "accelerate": metadata.version("accelerate"),
        "platform": platform.platform(),
    }


def launch(name: str, case_dir: Path, script: Path | None = None, extra: Sequence[str] = ()) -> int:
    """Run the worker like ``nohup python train.py > nohup.out 2>&1`` (default buffering: the environment
    is passed without PYTHONUNBUFFERED); return its exit code. `script` is the generator to run as the
    worker (this file by default), `extra` its arguments after the case folder."""
    if case_dir.exists():
        shutil.rmtree(case_dir)
    case_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update({"PYTHONHASHSEED": "0", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "WANDB_MODE": "offline", "WANDB_PROJECT": "sample_logs", "WANDB_DIR": ".", "WANDB_NAME": name})
    cmd = [sys.executable, os.path.relpath((script or Path(__file__)).resolve(), case_dir)]
    cmd += ["--_worker", name, ".", *extra]
    with open(case_dir / "nohup.out", "wb") as out:
        proc = subprocess.run(
            cmd, cwd=case_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    drop_outside_links(case_dir)
    return proc.returncode


def drop_outside_links(case_dir: Path) -> None:
    """Delete symlinks that leave the case folder or dangle. W&B links ``logs/debug-core.log`` to
    ``~/.cache/wandb/logs/``: committed, such a link resolves only on the machine that made it."""
    top = case_dir.resolve()
    for link in [p for p in case_dir.rglob("*") if p.is_symlink()]:
        target = link.resolve()
        if not target.exists() or not target.is_relative_to(top):
            link.unlink()


def trim_checkpoints(case_dir: Path) -> None:
    """Delete optimizer/scheduler/RNG/scaler state from every checkpoint-*/ folder."""
    for ckpt in case_dir.glob("checkpoint-*"):
        for name in CHECKPOINT_JUNK_NAMES:
            (ckpt / name).unlink(missing_ok=True)
        for rng in ckpt.glob(CHECKPOINT_JUNK_GLOB):
            rng.unlink()


def checkpoint_step(path: Path) -> int:
    """Global step encoded in a ``checkpoint-N`` folder name."""
    return int(path.name.rsplit("-", 1)[1])


def read_state(case_dir: Path) -> tuple[dict[str, Any], str]:
    """The most complete trainer_state.json: top-level if present, else the latest checkpoint's."""
    top = case_dir / "trainer_state.json"
    if top.exists():
        return json.loads(top.read_text()), "trainer_state.json"
    ckpts = sorted(case_dir.glob("checkpoint-*/trainer_state.json"), key=lambda p: checkpoint_step(p.parent))
    if not ckpts:
        raise RuntimeError(f"{case_dir}: no trainer_state.json at all")
    latest = ckpts[-1]
    return json.loads(latest.read_text()), str(latest.relative_to(case_dir))


def _nonfinite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _first_step(rows: Sequence[dict[str, Any]], key: str, pred: Any) -> int | None:
    for row in rows:
        if key in row and pred(row):
            return int(row["step"])
    return None


def detect(log_history: Sequence[dict[str, Any]], state: dict[str, Any], returncode: int, grpo: bool = False
           ) -> dict[str, int]:
    """Locate every known failure mode in a real log_history: ``{mode: first step}``.

    Definitions (train rows are those with ``loss``, eval rows those with ``eval_loss``):

    * ``loss_nan``: train loss NaN/inf.  ``loss_zero``: train loss exactly 0.0.
    * ``grad_norm_nan``: grad_norm NaN/inf.  ``grad_norm_zero``: grad_norm exactly 0.0.
    * ``loss_zero_grad_nan``: the same row has loss 0.0 and a non-finite grad_norm.
    * ``eval_loss_nan``: eval_loss NaN/inf.
    * ``divergence``: a finite train loss above 2x the first logged loss.
    * ``grad_explosion``: a finite grad_norm above 100x the median of the grad norms before it.
    * ``throughput_drop``: ``steps_per_second`` below half the median of its first half, from a
      step on (that row and 90% of the rows from it; a slow eval step alone does not count).
    * ``not_learning``: every train loss finite and within 5% of the first, no grad_norm exactly 0
      (step 1: it never learned).
    * ``loss_spike``: a finite train loss above 1.5x the median of the 5 before it, with the loss back
      under 1.2x that median within 10 steps.
    * ``overfitting``: the last eval_loss is more than 10% above the best one, which came before it,
      while the train loss went on falling (the step is the best eval's).
    * ``lr_reaches_zero``: learning_rate exactly 0 from a step on (3 logged rows or more) after a positive
      value: the rest of the run updates nothing.
    * ``crash``: the process exited non-zero; the step is the last one recorded
      in the newest trainer_state.json (nothing after it was persisted).
    * ``healthy``: none of the above and the last train loss is < half the first (for GRPO, whose loss
      is about 0 by design: all losses finite and below 1e-3 in size).
    """
    train = [r for r in log_history if "loss" in r]
    found: dict[str, int | None] = {
        "loss_nan": _first_step(train, "loss", lambda r: _nonfinite(r["loss"])),
        "loss_zero": _first_step(train, "loss", lambda r: r["loss"] == 0.0),
        "grad_norm_nan": _first_step(train, "grad_norm", lambda r: _nonfinite(r["grad_norm"])),
        "grad_norm_zero": _first_step(train, "grad_norm", lambda r: r["grad_norm"] == 0.0),
        "loss_zero_grad_nan": _first_step(
            train, "grad_norm", lambda r: r["loss"] == 0.0 and _nonfinite(r["grad_norm"])
        ),
        "eval_loss_nan": _first_step(log_history, "eval_loss", lambda r: _nonfinite(r["eval_loss"])),
    }
    if train:
        first_loss = train[0]["loss"]
        found["divergence"] = _first_step(
            train, "loss", lambda r: math.isfinite(r["loss"]) and r["loss"] > 2 * first_loss
        )
        norms = [(r["step"], r["grad_norm"]) for r in train if "grad_norm" in r and math.isfinite(r["grad_norm"])]
        found["grad_explosion"] = next(
            (step for i, (step, g) in enumerate(norms)
             if i and g > 100 * sorted(v for _, v in norms[:i])[(i - 1) // 2]), None)
    losses = [(int(r["step"]), r["loss"]) for r in train]
    if losses and all(math.isfinite(v) for _, v in losses) and all(r.get("grad_norm") != 0.0 for r in train) \
            and max(abs(v - losses[0][1]) for _, v in losses) < 0.05 * abs(losses[0][1]):
        found["not_learning"] = losses[0][0]
    for i in range(5, len(losses)):
        base = sorted(v for _, v in losses[i - 5:i])[2]
        if math.isfinite(losses[i][1]) and base > 0 and losses[i][1] > 1.5 * base and \
                any(v < 1.2 * base for _, v in losses[i + 1:i + 11]):
            found["loss_spike"] = losses[i][0]
            break
    evals = [(int(r["step"]), r["eval_loss"]) for r in log_history if "eval_loss" in r and "step" in r]
    evals = [e for e in evals if math.isfinite(e[1])]
    if len(evals) >= 3:
        best = min(range(len(evals)), key=lambda k: evals[k][1])
        later_train = [v for step, v in losses if step > evals[best][0]]
        if best < len(evals) - 1 and evals[-1][1] > 1.1 * evals[best][1] and later_train and \
                later_train[-1] < min(v for step, v in losses if step <= evals[best][0]):
            found["overfitting"] = evals[best][0]
    speed = [(r["step"], r["steps_per_second"]) for r in train if "steps_per_second" in r]
    if len(speed) >= 8:
        early = sorted(v for _, v in speed[: len(speed) // 2])[len(speed) // 4]
        # The first step from which the speed stays low: that row and 90% of the rows from it.
        found["throughput_drop"] = next(
            (step for i, (step, v) in enumerate(speed)
             if v < 0.5 * early and sum(w < 0.5 * early for _, w in speed[i:]) >= 0.9 * (len(speed) - i)), None)
    found["lr_reaches_zero"] = lr_zero_from(train)
    if returncode != 0:
        found["crash"] = int(state["global_step"])
    result = {mode: step for mode, step in found.items() if step is not None}
    loss_only = {m for m in result if m != "throughput_drop"}
    if grpo:  # exact zeros and a flat loss are the design there, not symptoms
        by_design = {"loss_zero", "not_learning", "loss_spike", "divergence"}
        result = {m: v for m, v in result.items() if m not in by_design}
        # Every prompt's completions all got one reward at every step: zero advantages, nothing learned.
        if train and all(r.get("frac_reward_zero_std") == 1.0 for r in train):
            result["not_learning"] = int(train[0]["step"])
        if not result and returncode == 0 and all(abs(v) < 1e-3 for _, v in losses):
            result["healthy"] = 0
        return result
    if not loss_only and train and returncode == 0 and train[-1]["loss"] < 0.5 * train[0]["loss"]:
        result["healthy"] = 0
    return result


def lr_zero_from(rows: Sequence[dict[str, Any]]) -> int | None:
    """The step from which learning_rate is exactly 0 to the end (3 logged rows or more), after a positive
    value; None when the learning rate never does that."""
    rates = [(int(r["step"]), r["learning_rate"]) for r in rows if "learning_rate" in r]
    zero_from = next((i for i in range(len(rates)) if all(v == 0.0 for _, v in rates[i:])), len(rates))
    if 0 < zero_from <= len(rates) - 3 and any(v > 0 for _, v in rates[:zero_from]):
        return rates[zero_from][0]
    return None


def rows_around(
    log_history: Sequence[dict[str, Any]], steps: Sequence[int], before: int = 2, after: int = 2
) -> list[dict[str, Any]]:
    """Train and eval log_history rows within ``[s - before, s + after]`` of any of ``steps``."""
    keep = ("step", "loss", "grad_norm", "learning_rate", "eval_loss")
    return [
        {k: row[k] for k in keep if k in row}
        for row in log_history
        if ("loss" in row or "eval_loss" in row)
        and any(s - before <= row.get("step", -1) <= s + after for s in steps)
    ]


def console_summary(nohup: Path) -> dict[str, Any]:
    """What the console capture shows: printed log dicts, summary blocks, tracebacks."""
    text = nohup.read_text(encoding="utf-8", errors="replace")
    train_lines = re.findall(r"\{'loss': [^}]*\}", text)
    eval_lines = re.findall(r"\{'eval_loss': [^}]*\}", text)
    return {
        "train_log_lines": len(train_lines),
        "eval_log_lines": len(eval_lines),
        "last_train_log_line": train_lines[-1] if train_lines else None,
        "has_train_summary_row": "'train_runtime'" in text,
        "has_train_metrics_block": "***** train metrics *****" in text,
        "has_eval_metrics_block": "***** eval metrics *****" in text,
        "has_traceback": "Traceback (most recent call last)" in text,
    }


def describe_onset(rows: Sequence[dict[str, Any]], step: int) -> str:
    """Human-readable summary of the log_history rows at the onset step."""
    parts = []
    for row in rows:
        if row["step"] != step:
            continue
        fields = ", ".join(f"{k}={row[k]!r}" for k in ("loss", "grad_norm", "eval_loss") if k in row)
        parts.append(f"{'eval' if 'eval_loss' in row else 'train'} row: {fields}")
    return f"At step {step} log_history has " + "; ".join(parts) + "."


def write_expected(case: Case, case_dir: Path, returncode: int, elapsed: float) -> list[str]:
    """Write ``expected.yaml`` from the real outputs; return a list of problems found."""
    state, state_file = read_state(case_dir)
    log_history = state["log_history"]
    found = detect(log_history, state, returncode, grpo=case.trainer == "grpo")
    console = console_summary(case_dir / "nohup.out")
    if "crash" in found:
        # The console goes on after the last checkpoint: with logging_steps=1 it prints one train
        # dict per step, so the last step the process reached is the number of those lines, or the
        # training bar's last count when stdout (the dicts) lost its buffered tail to a SIGKILL while
        # stderr (the bar, unbuffered) did not.
        text = (case_dir / "nohup.out").read_text(encoding="utf-8", errors="replace")
        bars = [int(done) for done, total in re.findall(r"\b(\d+)/(\d+) \[", text) if int(total) == case.max_steps]
        console["last_train_bar_step"] = max(bars, default=None)
        found["crash"] = max(found["crash"], console["train_log_lines"], max(bars, default=0))
    problems = []
    if set(found) != set(case.symptoms):
        problems.append(f"{case.name}: expected symptoms {sorted(case.symptoms)}, detected {found}")
    by_mode = {m: found.get(m, next((found[x] for x in SYMPTOM_OF.get(m, ()) if x in found), None))
               for m in case.failure_modes if m != "healthy"}
    onset = min((step for mode, step in found.items() if mode != "healthy"), default=None)

    train_rows = [r for r in log_history if "loss" in r]
    eval_rows = [r for r in log_history if "eval_loss" in r]
    onset_steps = sorted({step for mode, step in found.items() if mode != "healthy"})
    rows = rows_around(log_history, onset_steps)
    notes = [case.how]
    notes += [describe_onset(rows, step) for step in onset_steps]
    curve = (f"Train loss {train_rows[0]['loss']!r} at step {train_rows[0]['step']} -> "
             f"{train_rows[-1]['loss']!r} at step {train_rows[-1]['step']}")
    if eval_rows:
        curve += (f"; eval_loss {eval_rows[0]['eval_loss']!r} at step {eval_rows[0]['step']} -> "
                  f"{eval_rows[-1]['eval_loss']!r} at step {eval_rows[-1]['step']}")
    notes.append(curve + ".")
    results_file = case_dir / "all_results.json"
    if results_file.exists():
        results = json.loads(results_file.read_text())
        notes.append("all_results.json: " + ", ".join(f"{k}={results[k]!r}" for k in
                                                      ("train_loss", "eval_loss", "perplexity") if k in results) + ".")
    if returncode != 0:
        ckpts = sorted(p.name for p in case_dir.glob("checkpoint-*"))
        notes.append(
            f"nohup.out has {console['train_log_lines']} train log lines (last: "
            f"{console['last_train_log_line']}) and ends "
            + ("with a traceback." if console["has_traceback"] else "without a traceback or summary.")
        )
        notes.append(
            f"Exit status {returncode} ({_signal_name(returncode)}); no all_results.json and no "
            f"top-level trainer_state.json; newest state is {state_file} (global_step "
            f"{state['global_step']} of max_steps {state['max_steps']}); checkpoints: {', '.join(ckpts)}."
        )
    if case.extra_notes:
        notes.append(case.extra_notes)

    expected: dict[str, Any] = {
        "case": case.name,
        "failure_modes": list(case.failure_modes),
        "onset_step": onset,
        "onset_step_by_mode": by_mode,
        "symptoms": {m: s for m, s in sorted(found.items(), key=lambda kv: kv[1]) if m != "healthy"},
        "planted": case.planted,
        "cause": case.cause,
        "notes": " ".join(notes),
        "onset_rows": rows,
        "console": console,
        "run": {
            "exit_code": returncode,
            "planted_step": (case.nan_at_step or case.kill_at_step or case.raise_at_step or case.slow_from_step
                             or case.contention_from_step),
            "state_file": state_file,
            "global_step": state["global_step"],
            "max_steps": state["max_steps"],
            "learning_rate": case.learning_rate,
            "lr_scheduler_type": case.lr_scheduler_type,
            "warmup_steps": case.warmup_steps,
            "logging_nan_inf_filter": case.logging_nan_inf_filter,
            "eval_steps": EVAL_STEPS,
            "save_steps": case.save_steps,
            "wall_seconds": round(elapsed, 1),
        },
        "versions": versions(),
    }
    with open(case_dir / "expected.yaml", "w") as fh:
        yaml.safe_dump(expected, fh, sort_keys=False, width=100, allow_unicode=True)
    return problems


def _signal_name(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return "error exit"


def dir_size(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", choices=sorted(CASES_BY_NAME), metavar="CASE", help="cases to run"
    )
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--_worker", nargs=2, metavar=("CASE", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._worker:
        name, outdir = args._worker
        run_worker(CASES_BY_NAME[name], Path(outdir))
        return 0
    if args.list:
        for case in CASES:
            print(f"{case.name:32s} {case.how}")
        return 0

    selected = [CASES_BY_NAME[n] for n in args.only] if args.only else list(CASES)
    problems: list[str] = []
    for case in selected:
        case_dir = HERE / case.name
        start = time.monotonic()
        returncode = launch(case.name, case_dir)
        elapsed = time.monotonic() - start
        trim_checkpoints(case_dir)
        problems += write_expected(case, case_dir, returncode, elapsed)
        print(f"{case.name:32s} exit={returncode:4d} {elapsed:5.1f}s {dir_size(case_dir) / 1024:7.1f} KiB")
    print(f"sample_logs total: {dir_size(HERE) / 1024:.1f} KiB")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
