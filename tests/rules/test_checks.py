"""Every registered check on small synthetic runs: one that fires (at the expected step) and one that
stays silent; the parameter spec each check's signature declares; rule files validated against it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest

from analyzer.api import analyze
from analyzer.model import Run, validate_events, validate_metrics
from analyzer.rules import CHECK_SPECS, CHECKS, Param, generic, load_rule
from analyzer.rules.checks import params_of
from analyzer.rules.docs import explain
from analyzer.rules.schema import RuleError

NAN = float("nan")
Series = list[float] | dict[int, float]


def make_run(
    series: dict[str, Series] | None = None,
    events: list[tuple[str, int | None, str]] | None = None,
    **meta: Any,
) -> Run:
    """A run from `split/metric` series (a list is logged at steps 1, 2, ...) and (kind, step, message) events."""
    rows = []
    for name, values in (series or {}).items():
        split, metric = name.split("/", 1)
        points = values.items() if isinstance(values, dict) else enumerate(values, start=1)
        rows += [(int(step), split, metric, float(value)) for step, value in points]
    frame = pd.DataFrame(rows, columns=["step", "split", "metric", "value"])
    metrics = pd.DataFrame(
        {
            "step": frame["step"].astype("int64"),
            "wall_time": np.full(len(frame), np.nan),
            "split": frame["split"].astype("category"),
            "metric": frame["metric"].astype("category"),
            "value": frame["value"].astype("float64"),
            "source": pd.Categorical(["train.log"] * len(frame)),
            "line": pd.array(range(1, len(frame) + 1), dtype="Int64"),
            "rank": pd.array([None] * len(frame), dtype="Int64"),
        }
    )
    listed = events or []
    ev = pd.DataFrame(
        {
            "step": pd.array([s for _, s, _ in listed], dtype="Int64"),
            "wall_time": np.full(len(listed), np.nan),
            "kind": pd.Series([k for k, _, _ in listed], dtype="object"),
            "severity": pd.Series(["error"] * len(listed), dtype="object"),
            "message": pd.Series([m for _, _, m in listed], dtype="object"),
            "source": pd.Series(["train.log"] * len(listed), dtype="object"),
            "line": pd.array(range(1, len(listed) + 1), dtype="Int64"),
        }
    )
    return Run("synthetic", validate_metrics(metrics, "test"), validate_events(ev, "test"), dict(meta))


@dataclass
class Case:
    """A run to build, the parameters a rule would set, and for a firing case the onset step expected."""

    run: Callable[[], Run]
    params: dict[str, Any] = field(default_factory=dict)
    onset: int | None = None


def falling(n: int, start: float = 2.0, stop: float = 1.0) -> list[float]:
    return np.linspace(start, stop, n).tolist()


def noisy(n: int, seed: int = 0) -> np.ndarray:
    """A gently falling loss with 1% noise: the long-series statistics find nothing in it."""
    rng = np.random.default_rng(seed)
    return 2.0 * np.exp(-np.arange(n) / 80) * (1 + 0.01 * rng.standard_normal(n))


def spiked(n: int = 64, at: int = 40, factor: float = 10.0) -> list[float]:
    values = noisy(n)
    values[at] *= factor
    return values.tolist()


def shifted(n: int = 60) -> list[float]:
    """A flat series that jumps to five times its level halfway and stays there."""
    values = 1.0 + 0.01 * np.random.default_rng(1).standard_normal(n)
    values[n // 2 :] += 4.0
    return values.tolist()


OVERFLOW = "fp16 overflow (apex), loss scale ->"  # the message the console reader writes
# Eval losses at steps 2, 4, ..., 20: best at step 10, then up by far more than their noise, or by less.
EVAL_U = {2 * i: v for i, v in enumerate([1.5, 1.4, 1.3, 1.2, 1.1, 1.15, 1.3, 1.45, 1.6, 1.75], start=1)}
EVAL_FLAT = {2 * i: v for i, v in enumerate([1.5, 1.4, 1.3, 1.2, 1.1, 1.15, 1.12, 1.18, 1.17, 1.19], start=1)}
NCCL = [
    ("nccl_timeout", 120, "rank 0: Watchdog caught collective operation timeout: WorkNCCL(SeqNum=11)"),
    ("nccl_progress", 120, "rank 0: last enqueued work 11, last completed 10"),
    ("nccl_progress", 120, "rank 1: last enqueued work 9, last completed 9"),
]

FIRES: dict[str, Case] = {
    "zero_loss_with_nonfinite_grad_norm": Case(
        lambda: make_run({"train/loss": [2.0, 1.5, 0, 0, 0], "train/grad_norm": [1, 1, NAN, NAN, NAN]}), onset=3
    ),
    "zero_loss_run": Case(lambda: make_run({"train/loss": [0, 0, 0, 0], "train/grad_norm": [0, 0, 0, 0]}), onset=1),
    "nonfinite_train_loss": Case(lambda: make_run({"train/loss": [1.0, 0.9, NAN, NAN]}), onset=3),
    "nonfinite_train_metrics": Case(lambda: make_run({"train/d_loss": [1.0, 0.9, 0.8, NAN]}), onset=4),
    "nonfinite_grad_norm": Case(
        lambda: make_run({"train/loss": falling(50), "train/grad_norm": [1.0] * 30 + [NAN] * 5 + [1.0] * 15}),
        onset=31,
    ),
    "nonfinite_eval_loss": Case(
        lambda: make_run({"train/loss": falling(20), "eval/loss": {10: 1.2, 20: NAN}}),
        onset=20,
    ),
    "run_status": Case(lambda: make_run({"train/loss": falling(5)}, status="crashed"), {"status": ("crashed",)}, 5),
    "event_present": Case(
        lambda: make_run(events=[("oom", 7, "CUDA out of memory. Tried to allocate 2.00 GiB")]),
        {"kinds": ("oom",), "pattern": "Tried to allocate"},
        7,
    ),
    "stopped_on_nonfinite": Case(
        lambda: make_run(events=[("exception", 9, "RuntimeError: the loss is nan, stopping")]),
        {"kinds": ("exception",), "pattern": "loss is nan", "report": "non-finite"},
        9,
    ),
    "nccl_timeout": Case(lambda: make_run(events=NCCL), onset=120),
    "loss_scale_collapse": Case(
        lambda: make_run(events=[("overflow_skip", s, f"{OVERFLOW} {v}") for s, v in [(3, 2.0), (4, 1.0), (5, 0.5)]]),
        {"floor": 1.0},
        3,
    ),
    "loss_spike": Case(lambda: make_run({"train/loss": [2.0, 1.9, 1.8, 15.0, 1.7, 1.6]}), onset=4),
    "divergence": Case(lambda: make_run({"train/loss": [2.0, 1.5, 1.0, 3.0, 4.0, 5.0]}), onset=4),
    "loss_not_moving": Case(lambda: make_run({"train/loss": [2.3] * 10}), onset=1),
    "train_score_falls_with_loss": Case(  # BlazePose: loss 1.06 -> 0.06 while the train accuracy goes 30% -> 0.7%
        lambda: make_run(
            {
                "train/loss": np.linspace(1.06, 0.064, 12).tolist(),
                "train/accuracy": np.linspace(0.30, 0.007, 12).tolist(),
            }
        ),
        onset=1,
    ),
    "zero_loss_part": Case(  # a 3D DCGAN: the discriminator's loss 0.0000 from epoch 5 on, the generator's stuck
        lambda: make_run(
            {
                "train/discriminator_loss": [1.51, 1.06, 0.4, 0.1] + [0.0] * 6,
                "train/generator_loss": [19.6, 12.2, 22.6, 30.1] + [55.5] * 6,
            }
        ),
        onset=5,
    ),
    "eval_score_collapses": Case(  # a 3D U-Net's Dice 0.26 -> 0.90, then 6e-11 (every mask empty), then back
        lambda: make_run({"eval/dice": {1: 0.26, 2: 0.83, 3: 0.90, 4: 0.82, 5: 6.4e-11, 6: 0.34, 7: 0.50}}),
        onset=5,
    ),
    "score_frozen": Case(  # a GCN predicting one class: the loss creeps down, the accuracies never move
        lambda: make_run(
            {
                "train/loss": np.linspace(1.32, 1.21, 10).tolist(),
                "train/acc": [0.55, 0.60] + [0.62857] * 8,
                "eval/acc": [0.51] * 10,
            }
        ),
        onset=3,
    ),
    "eval_rises_while_train_falls": Case(
        lambda: make_run({"train/loss": falling(20, 2.0, 0.5), "eval/loss": EVAL_U}),
        onset=10,
    ),
    "eval_score_falls_while_train_falls": Case(  # an accuracy with the eval loss's U turned upside down
        lambda: make_run(
            {"train/loss": falling(20, 2.0, 0.5), "eval/accuracy": {s: 2.0 - v for s, v in EVAL_U.items()}}
        ),
        onset=10,
    ),
    "generalisation_gap": Case(  # a pasted tail: eval loss 15x train's, eval accuracy 30 points below
        lambda: make_run(
            {
                "train/loss": [0.23, 0.2, 0.5, 0.15, 0.1],
                "eval/loss": [3.38, 3.18, 4.69, 3.5, 3.38],
                "train/acc": [0.94, 0.95, 0.90, 0.96, 0.97],
                "eval/acc": [0.67, 0.68, 0.56, 0.66, 0.69],
            }
        ),
        onset=3,
    ),
    "loss_parts_explode": Case(  # BasicSR's parts, no `loss`: the pixel loss jumps ten-billionfold
        lambda: make_run(
            {"train/l_g_pix": [0.0081, 0.0079, 0.0078, 8.6e7, 1.4e27], "train/l_d": [0.11, 0.1, 0.1, 0.2, 9.0]}
        ),
        onset=4,
    ),
    "reward_collapses": Case(  # a policy's reward held near 0.8, then down to 0 for good
        lambda: make_run({"train/reward": [0.6, 0.8, 0.75, 0.8, 0.4, 0.05, 0.0, 0.0, 0.01, 0.0]}, trainer_kind="grpo"),
        onset=6,
    ),
    "reward_never_improves": Case(  # 80 epochs of test episodes from the start, the reward wandering around 5
        lambda: make_run(
            {
                "train/loss": [2.5 - 0.02 * i for i in range(80)],
                "eval/test_reward": {10 * i: 5.0 + 3.0 * ((i * 7) % 5 - 2) / 2 for i in range(80)},
            }
        ),
        onset=0,
    ),
    "discriminator_wins": Case(  # D's losses fall to about 0 by batch 12 and stay there; G's loss climbs
        lambda: make_run(
            {
                "train/d_real": [0.4 - 0.03 * i for i in range(12)] + [0.002 + 0.001 * (i % 3) for i in range(20)],
                "train/d_fake": [0.5 - 0.04 * i for i in range(12)] + [0.003, 0.04] * 10,
                "train/g_gan": [2.0 + 0.2 * i for i in range(32)],
            }
        ),
        onset=13,  # the first of the twenty points at about 0 (steps count from 1)
    ),
    "policy_frozen": Case(  # a first PPO update that clipped 97% of the samples, then updates that move nothing
        lambda: make_run(
            {
                "train/clip_fraction": [0.967] + [0.0] * 11,
                "train/approx_kl": [86.0] + [0.0] * 11,
            }
        ),
        onset=2,
    ),
    "value_loss_diverges": Case(  # a critic's loss 600x its low while the reward stays where it was
        lambda: make_run(
            {
                "train/value_loss": [5.0, 4.0, 3.0, 2.0, 1.0, 3.0, 12.0, 50.0, 200.0, 400.0, 600.0, 800.0],
                "train/reward": [-10.0] * 12,
            }
        ),
        onset=7,
    ),
    "astronomical_loss": Case(  # keras-rl's CDQN: a TD loss of 3.6e23 and on (an RL run: no other check judges it)
        lambda: make_run({"train/loss": [3.57e23, 2.09e24, 1.24e26, 6.15e25]}, trainer_kind="rl"), onset=1
    ),
    "loss_at_clamp": Case(  # Caffe's softmax loss at -ln(FLT_MIN) after 6.08 at iteration 0
        lambda: make_run({"train/loss": [6.07532, 87.3365, 87.3365, 87.3365]}), onset=2
    ),
    "auc_at_chance": Case(  # PNN's CTR model: AUC 0.5 at every epoch, train and eval
        lambda: make_run({"train/auc": [0.5] * 5, "eval/auc": [0.5, 0.5, 0.5, 0.5, 0.5]}), onset=1
    ),
    "error_rate_at_full": Case(  # a lip reader's CER falls to 0.917, then is 1.000 at every step after
        lambda: make_run({"eval/cer": [0.967, 0.890, 0.917, 1.0, 1.0, 1.0, 1.0, 1.0]}), onset=4
    ),
    "no_learning_signal": Case(  # GRPO: every prompt's completions got one reward at every step
        lambda: make_run({"train/reward": [0.0] * 6, "train/reward_std": [0.0] * 6}, trainer_kind="grpo"), onset=1
    ),
    "memory_growth": Case(lambda: make_run({"train/memory_allocated": np.linspace(1000, 2000, 11).tolist()}), onset=1),
    "grad_norm_explosion": Case(lambda: make_run({"train/grad_norm": [1.0, 1.1, 0.9, 1.0, 1.0, 500.0]}), onset=6),
    "loss_plateau": Case(lambda: make_run({"train/loss": [3.0, 2.5, 2.0, 1.5] + [1.0] * 6}), onset=5),
    "throughput_drop": Case(lambda: make_run({"train/train_samples_per_second": [100.0] * 8 + [40.0] * 8}), onset=9),
    "lr_reaches_zero": Case(lambda: make_run({"train/learning_rate": [1e-3] * 6 + [0.0] * 4}), onset=7),
    "many_epochs_no_eval": Case(
        lambda: make_run({"train/loss": [6.5, 2.1, 0.6, 0.2], "train/epoch": [4.2, 8.3, 12.5, 16.7]}), onset=3
    ),
    "fp16_overflow_skips": Case(
        lambda: make_run({"train/grad_norm": [1.0] * 20 + [NAN] + [1.0] * 9}, precision="fp16"), onset=21
    ),
    "value_test": Case(lambda: make_run({"train/loss": [1.0, 0.9, NAN, NAN]}), {"min_run": 2}, 3),
    "signal_event": Case(
        lambda: make_run({"train/grad_norm": shifted()}),
        {"metric": "grad_norm", "kind": "level_shift_up", "min_ratio": 2.0},
        31,
    ),
    "series_compare": Case(
        lambda: make_run({"train/loss": [1.0] * 10, "eval/loss": {2: 0.9, 4: 1.2, 6: 1.3, 8: 1.4, 10: 1.5}}),
        {"a": "eval/loss", "b": "train/loss", "op": ">", "value": 1.1},
        4,
    ),
}

SILENT: dict[str, Case] = {
    "zero_loss_with_nonfinite_grad_norm": Case(
        lambda: make_run({"train/loss": [2.0, 1.5, 0, 0, 0], "train/grad_norm": [1, 1, 1, 1, 1]})
    ),
    "zero_loss_run": Case(lambda: make_run({"train/loss": [1.0, 0.9, 0, 0.8, 0.7]}), {"min_points": 2}),
    "nonfinite_train_loss": Case(lambda: make_run({"train/loss": falling(10)})),
    "nonfinite_train_metrics": Case(  # a single metric gone NaN is not enough when none is a loss part
        lambda: make_run({"train/box": [1.0, 0.9, NAN], "train/obj": [1.0, 0.9, 0.8]}), {"min_together": 2}
    ),
    "nonfinite_grad_norm": Case(lambda: make_run({"train/loss": falling(50), "train/grad_norm": [1.0] * 50})),
    "nonfinite_eval_loss": Case(lambda: make_run({"train/loss": falling(20), "eval/loss": {10: 1.2, 20: 1.1}})),
    "run_status": Case(lambda: make_run({"train/loss": falling(5)}, status="completed")),
    "event_present": Case(  # the OOM is explained by a more specific kind of event
        lambda: make_run(events=[("oom", 7, "CUDA out of memory"), ("dataloader_error", 7, "worker killed")]),
        {"kinds": ("oom",), "unless_kinds": ("dataloader_error",)},
    ),
    "stopped_on_nonfinite": Case(  # a NaN reported on line 1, records logged after it: the run went on
        lambda: make_run({"train/loss": falling(5)}, events=[("warning", 1, "a non-finite value reported")]),
        {"kinds": ("exception",), "pattern": "loss is nan", "report": "non-finite"},
    ),
    "nccl_timeout": Case(lambda: make_run({"train/loss": falling(5)}, events=NCCL[1:])),
    "loss_scale_collapse": Case(  # a few halvings from 2^16: the scaler calibrating
        lambda: make_run(
            {"train/loss": falling(10)},
            events=[("overflow_skip", s, f"{OVERFLOW} {v}") for s, v in [(1, 32768.0), (2, 16384.0)]],
        )
    ),
    "loss_spike": Case(lambda: make_run({"train/loss": falling(6)})),
    "divergence": Case(lambda: make_run({"train/loss": [2.0, 1.5, 1.2, 1.0, 0.9, 0.85]})),
    "loss_not_moving": Case(lambda: make_run({"train/loss": falling(6)})),
    "train_score_falls_with_loss": Case(  # the accuracy rises as the loss falls; an eval score may fall (overfitting)
        lambda: make_run(
            {
                "train/loss": np.linspace(1.06, 0.064, 12).tolist(),
                "train/accuracy": np.linspace(0.30, 0.95, 12).tolist(),
                "eval/accuracy": np.linspace(0.60, 0.20, 12).tolist(),
            }
        )
    ),
    "zero_loss_part": Case(  # a term that is 0 by design from the start, and a part at 0 for too short a tail
        lambda: make_run(
            {
                "train/aux_loss": [0.0] * 10,
                "train/box_loss": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.0, 0.0, 0.0],
            }
        )
    ),
    "eval_score_collapses": Case(  # a fall to a tenth of the best: a bad evaluation, not outputs that broke
        lambda: make_run({"eval/accuracy": [0.41, 0.62, 0.70, 0.07, 0.66, 0.71]})
    ),
    "score_frozen": Case(  # a score printed with two digits repeats at convergence; a best-so-far never falls
        lambda: make_run({"train/loss": falling(10), "eval/acc": [0.51] * 10, "eval/best_acc": [0.912345] * 10})
    ),
    "eval_rises_while_train_falls": Case(  # back up by less than its own noise
        lambda: make_run({"train/loss": falling(20, 2.0, 0.5), "eval/loss": EVAL_FLAT})
    ),
    "eval_score_falls_while_train_falls": Case(  # down by less than its own noise
        lambda: make_run(
            {"train/loss": falling(20, 2.0, 0.5), "eval/accuracy": {s: 2.0 - v for s, v in EVAL_FLAT.items()}}
        )
    ),
    "generalisation_gap": Case(  # the eval loss summed (10x) but the accuracies close: no overfitting
        lambda: make_run(
            {
                "train/loss": [0.5, 0.45, 0.4, 0.38, 0.36],
                "eval/loss": [5.2, 4.8, 4.3, 4.0, 3.9],
                "train/acc": [0.80, 0.82, 0.84, 0.85, 0.86],
                "eval/acc": [0.78, 0.79, 0.80, 0.80, 0.81],
            }
        )
    ),
    "loss_parts_explode": Case(  # a KL term warming up from 1e-7 beside a reconstruction loss of 0.5
        lambda: make_run(
            {"train/kl_loss": [1e-7, 1e-7, 1e-3, 2e-2, 2e-2], "train/recon_loss": [0.6, 0.55, 0.5, 0.5, 0.5]}
        )
    ),
    "reward_collapses": Case(  # the same fall with the reward back up at the end: no collapse that stays
        lambda: make_run({"train/reward": [0.6, 0.8, 0.75, 0.8, 0.4, 0.05, 0.0, 0.0, 0.01, 0.5]}, trainer_kind="grpo")
    ),
    "reward_never_improves": Case(  # the same run whose reward climbs; and the flat one seen from its middle
        lambda: make_run(
            {
                "eval/test_reward": [5.0 + 0.3 * i for i in range(80)],
                "train/episode_reward": {1000 + i: 5.0 + ((i * 7) % 5 - 2) for i in range(80)},
            }
        )
    ),
    "discriminator_wins": Case(  # D near its equilibrium, dipping under 0.01 now and then
        lambda: make_run({"train/d_loss": [0.6, 0.004, 0.7, 0.5, 0.008, 0.65] * 6, "train/g_loss": [1.0] * 36})
    ),
    "policy_frozen": Case(  # a healthy PPO: a few percent clipped, the KL moved by about 1e-2
        lambda: make_run(
            {
                "train/clip_fraction": [0.04 + 0.01 * (i % 5) for i in range(12)],
                "train/approx_kl": [0.012 + 0.001 * (i % 3) for i in range(12)],
            }
        )
    ),
    "value_loss_diverges": Case(  # the same climb while the returns grow 100-fold: their square allows it
        lambda: make_run(
            {
                "train/value_loss": [5.0, 4.0, 3.0, 2.0, 1.0, 3.0, 12.0, 50.0, 200.0, 400.0, 600.0, 800.0],
                "train/reward": [1.0, 1.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0, 100.0, 100.0, 100.0],
            }
        )
    ),
    "astronomical_loss": Case(  # a value loss that grows with the returns by design, far below 1e15
        lambda: make_run({"train/value_loss": [12.0, 480.0, 9.3e3, 2.2e5]}, trainer_kind="rl")
    ),
    "loss_at_clamp": Case(  # 32.24 is 2 x 16.118 to four digits: a weighted ceiling needs five
        lambda: make_run({"train/loss": [35.1, 32.24, 32.24, 31.9]})
    ),
    "auc_at_chance": Case(  # a federated model's first round near chance, then learning
        lambda: make_run({"eval/averaged_auc": [0.5071, 0.61, 0.68, 0.7141], "eval/std_auc": [0.5, 0.5, 0.5, 0.5]})
    ),
    "error_rate_at_full": Case(  # a fine-tuned recogniser at 100% for its first evaluations, then learning: and
        # a percent-scale WER of 1.0% (an excellent model), which is no fraction at its full
        lambda: make_run(
            {"eval/wer": [100.0, 100.0, 100.0, 100.0, 54.1, 31.0], "train/cer": [2.0, 1.4, 1.0, 1.0, 1.0, 1.0]}
        )
    ),
    "no_learning_signal": Case(  # the same flat reward outside a group-relative method: a critic still differs
        lambda: make_run({"train/reward": [0.0] * 6, "train/reward_std": [0.0] * 6}, trainer_kind="rl")
    ),
    "memory_growth": Case(lambda: make_run({"train/memory_allocated": [1000.0] * 11})),
    "grad_norm_explosion": Case(lambda: make_run({"train/grad_norm": [1.0, 1.2, 0.9, 1.1, 1.0, 1.0]})),
    "loss_plateau": Case(lambda: make_run({"train/loss": falling(10, 3.0, 1.0)})),
    "throughput_drop": Case(lambda: make_run({"train/train_samples_per_second": [100.0] * 16})),
    "lr_reaches_zero": Case(lambda: make_run({"train/learning_rate": np.linspace(1e-3, 0, 10).tolist()})),
    "many_epochs_no_eval": Case(  # an eval loss exists: overfitting is measured, not guessed
        lambda: make_run(
            {"train/loss": [6.5, 2.1, 0.6, 0.2], "train/epoch": [4.2, 8.3, 12.5, 16.7], "eval/loss": {4: 1.0}}
        )
    ),
    "fp16_overflow_skips": Case(  # skips in the first logged steps: the scaler calibrating
        lambda: make_run({"train/grad_norm": [NAN, NAN] + [1.0] * 28}, precision="fp16")
    ),
    "value_test": Case(lambda: make_run({"train/loss": falling(10)}), {"op": ">", "value": 2.5}),
    "signal_event": Case(
        lambda: make_run({"train/grad_norm": noisy(60).tolist()}),
        {"metric": "grad_norm", "kind": "level_shift_up", "min_ratio": 2.0},
    ),
    "series_compare": Case(
        lambda: make_run({"train/loss": [1.0] * 10, "eval/loss": {2: 0.9, 4: 1.0, 6: 1.0, 8: 1.2, 10: 1.3}}),
        {"op": ">", "value": 1.1},  # the gap holds at the last 2 pairs, not the 3 asked
    ),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_fires(name: str) -> None:
    case = FIRES[name]  # a KeyError: a registered check without its tests
    found = CHECKS[name](case.run(), **case.params)
    assert found is not None and found.onset_step == case.onset, found
    assert found.message


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_stays_silent(name: str) -> None:
    case = SILENT[name]
    assert CHECKS[name](case.run(), **case.params) is None


@pytest.mark.parametrize(
    ("name", "run", "params", "onset"),
    [  # the long-series paths and the parameters that decide between firing and not
        ("loss_spike", lambda: make_run({"train/loss": spiked()}), {}, 41),
        ("loss_spike", lambda: make_run({"train/loss": spiked(factor=1.3)}), {"min_ratio": 1.5}, None),
        ("loss_spike", lambda: make_run({"train/loss": [2.0, 1.9, 1.8, 15.0, 1.7, 1.6]}), {"short_ratio": 10.0}, None),
        ("loss_spike", lambda: make_run({"train/loss": noisy(64).tolist()}), {}, None),
        (  # the only loss a diffusers loop prints is named after its step: a loss part all the same
            "nonfinite_train_metrics",
            lambda: make_run({"train/noise_step_loss": [0.12, 0.11, NAN, NAN], "train/learning_rate": [1e-5] * 4}),
            {},
            3,
        ),
        (  # a column headed `Train(loss)` that holds the train MRR: it climbs while the eval MRR climbs with it
            "divergence",
            lambda: make_run(
                {
                    "train/loss": np.linspace(0.2856, 0.9995, 40).tolist(),
                    "eval/mrr": {s: 0.216 + 0.016 * s for s in range(1, 41, 4)},
                }
            ),
            {},
            None,
        ),
        (  # the same climb with nothing better on held-out data: a divergence
            "divergence",
            lambda: make_run({"train/loss": [0.2856] * 8 + np.linspace(0.2856, 0.9995, 32).tolist()}),
            {},
            9,
        ),
        (  # a windowed median repeats while the running average beside it moves: not frozen
            "loss_not_moving",
            lambda: make_run(
                {
                    "train/loss": [6.7313, 6.7595, 6.7313, 6.7274, 6.7274, 6.7274, 6.7274],
                    "train/loss_avg": [6.9128, 6.9122, 6.9096, 6.9064, 6.9065, 6.9046, 6.9041],
                }
            ),
            {},
            None,
        ),
        (  # the Trainer's notebook table repeats the last logged train loss while the eval loss moves
            "loss_not_moving",
            lambda: make_run(
                {
                    "train/loss": {500: 0.7754, 600: 0.7754, 700: 0.7754, 800: 0.7754, 900: 0.7754},
                    "eval/loss": {500: 0.9128, 600: 0.9490, 700: 1.0012, 800: 1.0867, 900: 1.1240},
                }
            ),
            {},
            None,
        ),
        (  # the same repeats with the average frozen too: nothing is learned
            "loss_not_moving",
            lambda: make_run(
                {
                    "train/loss": [6.7313, 6.7595, 6.7313, 6.7274, 6.7274, 6.7274, 6.7274],
                    "train/loss_avg": [6.9128, 6.9122, 6.9096, 6.9064, 6.9064, 6.9064, 6.9064],
                }
            ),
            {},
            4,
        ),
        (  # one batch's diffusion loss printed every 25 epochs: it swings 6x from print to print, 8x is its noise
            "loss_spike",
            lambda: make_run(
                {"train/loss": [723.7, 503.6, 440.2, 256.9, 1187.5, 1018.3, 199.9, 1030.4, 4998.2, 436.2]}
            ),
            {},
            None,
        ),
        (  # the same jump in a smooth series is a spike
            "loss_spike",
            lambda: make_run({"train/loss": [723.7, 700.1, 690.4, 671.9, 660.2, 655.3, 640.0, 633.1, 4998.2, 620.4]}),
            {},
            9,
        ),
        ("grad_norm_explosion", lambda: make_run({"train/grad_norm": [1e8]}), {}, 1),
        ("grad_norm_explosion", lambda: make_run({"train/grad_norm": [1e8]}), {"ceiling": 1e9}, None),
        ("zero_loss_run", lambda: make_run({"train/loss": [1.0, 0.9, 0, 0.8, 0.7]}), {"min_points": 1}, 3),
        ("nonfinite_train_metrics", lambda: make_run({"train/box": [1, 0.9, NAN], "train/obj": [1, 0.9, NAN]}), {}, 3),
        ("run_status", lambda: make_run({"train/loss": falling(5)}, status="crashed"), {}, None),
        ("value_test", lambda: make_run({"train/loss": [1.0, 0.9, NAN, 0.8]}), {"min_run": 2}, None),
        ("lr_reaches_zero", lambda: make_run({"train/learning_rate": [1e-3] * 6 + [0.0] * 4}), {"min_points": 5}, None),
        ("loss_scale_collapse", lambda: FIRES["loss_scale_collapse"].run(), {"floor": 0.25}, None),
    ],
)
def test_parameters_change_the_outcome(
    name: str, run: Callable[[], Run], params: dict[str, Any], onset: int | None
) -> None:
    found = CHECKS[name](run(), **params)
    assert (found.onset_step if found else None) == onset


def test_benign_patterns_are_reported_at_info() -> None:
    early = make_run({"train/loss": falling(50), "train/grad_norm": [NAN] + [1.0] * 49})
    found = CHECKS["nonfinite_grad_norm"](early)
    assert found is not None and found.severity == "info" and found.evidence["pattern"] == "early_isolated"
    assert CHECKS["nonfinite_grad_norm"](early, benign_max_count=0) is not None
    plateau = CHECKS["loss_plateau"](FIRES["loss_plateau"].run())
    assert plateau is not None and plateau.severity == "info"


def test_nccl_timeout_names_the_rank_that_fell_behind() -> None:
    found = CHECKS["nccl_timeout"](FIRES["nccl_timeout"].run())
    assert found is not None and found.evidence["lagging_ranks"] == [1] and found.evidence["ranks_timed_out"] == [0]


def test_the_spec_comes_from_the_signature() -> None:
    assert set(CHECK_SPECS) == set(CHECKS)
    assert list(CHECK_SPECS["loss_spike"].values()) == [
        Param("metric", str, "loss"),
        Param("min_ratio", float, 1.5),
        Param("short_ratio", float, 5.0),
        Param("magnitude_ratio", float, 100.0),
        Param("noisy", int, 5),
        Param("smooth_ratio", float, 1.2),
    ]
    assert CHECK_SPECS["event_present"]["kinds"] == Param("kinds", tuple, ())
    assert CHECK_SPECS["run_status"]["status"].default == ("stopped_early",)
    assert CHECK_SPECS["series_compare"]["op"].choices == tuple(generic._OPS)
    assert CHECK_SPECS["value_test"]["op"].choices == ("nonfinite", *generic._OPS)
    assert "level_shift_up" in CHECK_SPECS["signal_event"]["kind"].choices
    assert CHECK_SPECS["nonfinite_train_loss"] == {}


def test_a_check_signature_that_cannot_be_a_spec_is_refused() -> None:
    def positional(run: Run, ratio: float = 1.0) -> None: ...

    def no_default(run: Run, *, ratio: float) -> None: ...

    def untyped(run: Run, *, ratio: list[float] = []) -> None: ...  # noqa: B006

    def wrong_default(run: Run, *, op: Literal["<", ">"] = "=") -> None: ...

    for fn in (positional, no_default, untyped, wrong_default):
        with pytest.raises(TypeError, match=r"ratio|op"):
            params_of(fn)


RULE = """\
id: my-rule
failure_mode: loss_nan
severity: error
confidence: 0.5
title: A title
detect:
  ooms: {check: event_present, params: {kinds: [oom], min_count: 2}}
  cmp: {check: series_compare, params: {op: ">", value: 2}}
condition: ooms or cmp
falsepositives: [none known]
references: [https://example.org]
"""


def test_rule_values_are_converted_to_the_declared_types(tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(RULE)
    rule = load_rule(path)
    assert rule.detect["ooms"].params == {"kinds": ("oom",), "min_count": 2}
    value = rule.detect["cmp"].params["value"]
    assert value == 2.0 and isinstance(value, float)


def test_rule_parameter_mistakes_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(RULE.replace("min_count: 2", "min_count: 2.5, kinds_of: [x]").replace('op: ">"', "op: '=>'"))
    with pytest.raises(RuleError) as err:
        load_rule(path)
    found = [(e.line, e.message) for e in err.value.errors]
    assert found == [
        (7, "parameter `min_count` of `event_present` must be int"),
        (
            7,
            "check `event_present` has no parameter `kinds_of` "
            "(parameters: caught, kinds, min_count, pattern, unless_kinds)",
        ),
        (8, "parameter `op` of `series_compare` must be one of ==, !=, <, <=, >, >="),
    ]
    path.write_text(RULE.replace("kinds: [oom]", "kinds: oom"))
    with pytest.raises(RuleError, match="parameter `kinds` of `event_present` must be list"):
        load_rule(path)


def test_explain_lists_every_parameter_with_its_default_and_the_rule_value(tmp_path: Path) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(RULE)
    page = explain(load_rule(path))
    assert "  - `kinds: list[str] = []` (rule: [oom])" in page
    assert '  - `pattern: str = ""`\n' in page
    assert '  - `op: str = ">"` (one of: ==, !=, <, <=, >, >=) (rule: ">")' in page
    assert "  - `value: float = 1.0` (rule: 2.0)" in page
    assert page.count("\n  - `") == len(CHECK_SPECS["event_present"]) + len(CHECK_SPECS["series_compare"])


def test_a_joint_climb_of_train_and_eval_is_not_overfitting() -> None:
    # LightGBM rounds where both losses rise together (benchmarks/new_real_logs/036): the gap never widens.
    train, evals = [0.712679, 0.732192, 0.751667, 0.77109], [0.712513, 0.731889, 0.751244, 0.770573]
    assert CHECKS["eval_rises_while_train_falls"](make_run({"train/loss": train, "eval/loss": evals})) is None
    rising_eval = [0.7125, 0.72, 0.715, 0.90, 0.95]
    apart = make_run({"train/loss": [0.7127, 0.70, 0.69, 0.68, 0.67], "eval/loss": rising_eval})
    assert CHECKS["eval_rises_while_train_falls"](apart) is not None


def test_a_finished_warmup_no_longer_excuses_a_frozen_loss() -> None:
    lr_warm = {50: 4.6e-5, 60: 5.8e-5, 70: 6.9e-5, 172: 1e-4, 180: 1e-4, 190: 1e-4}
    loss = {step: 1.0 for step in lr_warm}
    found = CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/learning_rate": lr_warm}))
    assert found is not None and found.onset_step == 50
    still_warming = {step: 1e-5 * (i + 1) for i, step in enumerate(lr_warm)}
    assert CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/learning_rate": still_warming})) is None


def test_a_short_identical_tail_at_print_resolution_is_not_a_frozen_loss() -> None:
    # CenterNet's table, two decimals: a loss converging to 1.41 repeats it; frozen for most of a run is frozen.
    converging = [2.24, 2.01, 1.86, 1.75, 1.66, 1.60, 1.55, 1.51, 1.47, 1.44, 1.42, 1.41, 1.41, 1.41]
    assert CHECKS["loss_not_moving"](make_run({"train/loss": converging})) is None
    assert CHECKS["loss_not_moving"](make_run({"train/loss": [2.24, 2.01] + [1.41] * 12})) is not None


def test_a_steady_eval_rise_is_not_taken_for_its_own_noise() -> None:
    # A TF2 custom loop: the eval loss climbs every epoch after its best; first differences would call the
    # climb itself noise and raise the bar above all but the last point.
    run = make_run(
        {
            "train/loss": [0.679, 0.447, 0.349, 0.282, 0.222, 0.164],
            "eval/loss": [0.572, 0.491, 0.514, 0.564, 0.644, 0.771],
        }
    )
    assert CHECKS["eval_rises_while_train_falls"](run) is not None


@pytest.mark.parametrize(
    ("series", "onset"),
    [
        ({"train/acc": [0.8952] * 4, "eval/acc": [0.9042] * 4}, 1),  # both splits, four digits each: frozen
        ({"train/acc": [0.8952] * 4}, None),  # one split with four digits: a converged score may repeat
        ({"eval/acc": [0.0] * 8}, None),  # nothing predicted yet (a thresholded F1 early on)
        ({"train/acc": [1.0] * 8, "eval/acc": [1.0] * 8}, None),  # everything right
        ({"eval/f1": [0.2, 0.3, 0.41, 0.47, 0.5, 0.71234, 0.71234, 0.71234]}, None),  # frozen for less than half
    ],
)
def test_score_frozen_needs_digits_and_length(series: dict[str, Series], onset: int | None) -> None:
    found = CHECKS["score_frozen"](make_run({"train/loss": falling(8), **series}))
    assert (found.onset_step if found else None) == onset


@pytest.mark.parametrize(
    ("loss", "onset"),
    [
        ([2.71, 2.47, 2.18, 1.94, 1.76, 1.63, 1.3, 1.11], 2),  # fell by half: predictions that never change
        ([2.71, 2.47, 2.46, 2.45, 2.44, 2.43, 2.42, 2.41], None),  # a loss that creeps: a converged score repeats
        ([21.1, 1.34, 6e-4, 2e-4, 1e-4, 1e-4, 1e-4, 1e-5], None),  # every train prediction right: measured elsewhere
    ],
)
def test_one_frozen_train_score_counts_where_the_loss_fell_by_a_quarter_over_it(
    loss: list[float], onset: int | None
) -> None:
    # Keras' `loss: 2.4653 - accuracy: 0.5885` at every epoch from the second (a pitch-type model predicting the
    # majority class) while its loss halves
    found = CHECKS["score_frozen"](make_run({"train/loss": loss, "train/accuracy": [0.5339] + [0.5885] * 7}))
    assert (found.onset_step if found else None) == onset


def test_a_frozen_score_is_judged_against_the_loss_over_its_own_finite_records() -> None:
    # The accuracy turns NaN at the last two records while the loss climbs back: over the records where the score
    # was printed (1-8) the loss halved; its rise after them says nothing about the frozen score
    loss = [2.71, 2.47, 2.18, 1.94, 1.76, 1.63, 1.3, 1.11, 2.6, 2.7]
    accuracy = [0.5339] + [0.5885] * 7 + [float("nan")] * 2
    found = CHECKS["score_frozen"](make_run({"train/loss": loss, "train/accuracy": accuracy}))
    assert found is not None and found.onset_step == 2


@pytest.mark.parametrize(
    ("series", "onset"),
    [
        ({"eval/ap": [0.047, 0.166, 0.21, 0.00015, 0.00015, 0.00015]}, 4),  # AP gone at the 4th evaluation
        ({"eval/ap": [0.047, 0.166, 0.00015, 0.00015]}, None),  # one evaluation near the best: nothing settled
        ({"eval/acc": [0.02, 0.06, 0.09, 0.0]}, None),  # a best of 9%: no real score to lose
        ({"train/acc": [0.5, 0.8, 0.9, 0.0]}, None),  # a train batch's accuracy is noisy: eval only
        (  # per-class IoUs of a segmenter: a rare class scores 0 at times
            {f"eval/{c}_iou": [40.0, 50.0, 52.0, 0.0] for c in ("car", "lake", "hill")},
            None,
        ),
        ({"eval/map": [20.0, 35.0, 40.0, 0.3]}, 4),  # in percent: 0.3 is under 1% of 40
    ],
)
def test_eval_score_collapse_needs_a_settled_real_score(series: dict[str, Series], onset: int | None) -> None:
    found = CHECKS["eval_score_collapses"](make_run(series))
    assert (found.onset_step if found else None) == onset


@pytest.mark.parametrize(
    ("loss", "onset"),
    [
        ([3.04, 1.2, 0.44, 1.1921e-07, 1.1921e-07, 1.1921e-07], 4),  # Keras's floor, kept: 0 to float32
        ([3.04, 1.2, 0.44, 3.6e-14, 7.6e-11, 2.1e-12], None),  # a regression error falling past 1e-7: no floor
        ([3.04, 1.2, 0.44, 2.5e-06, 2.5e-06, 2.5e-06], None),  # above float32's floor: frozen, not zero
    ],
)
def test_a_loss_kept_at_float32s_floor_is_zero(loss: list[float], onset: int | None) -> None:
    found = CHECKS["zero_loss_run"](make_run({"train/loss": loss}))
    assert (found.onset_step if found else None) == onset
    if found:
        assert found.evidence["at_float_floor"] and "float32" in found.message
    frozen = CHECKS["loss_not_moving"](make_run({"train/loss": loss}))
    assert frozen is None or onset is None  # at the floor the zero rule speaks, not "nothing is learned"


@pytest.mark.parametrize(
    ("scale", "onset"),
    [
        ({1: 0.0, 10: 2048.0, 20: 2048.0, 30: 4096.0}, None),  # DeepSpeed's config echo (`"loss_scale": 0`) first
        ({10: 2048.0, 20: 64.0, 30: 1.0, 40: 1.0}, 20),  # a scale that fell to the floor from 2048
    ],
)
def test_a_loss_scale_collapse_is_a_fall_from_a_higher_scale(scale: dict[int, float], onset: int | None) -> None:
    found = CHECKS["loss_scale_collapse"](make_run({"train/loss_scale": scale, "train/loss": falling(4)}))
    assert (found.onset_step if found else None) == onset


@pytest.mark.parametrize(
    ("accuracy", "fires"),
    [
        ([0.1] * 8 + np.linspace(0.5, 71.6, 32).tolist(), False),  # a new stage's loss while the accuracy climbs
        ([0.81, 0.78] * 4 + [0.80, 0.84] * 16, True),  # a per-batch accuracy's noise beside a loss running away
    ],
)
def test_a_train_accuracy_that_doubled_over_the_climb_is_no_divergence(accuracy: list[float], fires: bool) -> None:
    loss = [0.94] * 8 + np.linspace(14.6, 30.0, 32).tolist()
    found = CHECKS["divergence"](make_run({"train/loss": loss, "train/acc": accuracy}))
    assert (found is not None) == fires


@pytest.mark.parametrize(
    ("evals", "onset"),
    [
        ([0.3156, 0.3088, 0.3192, 0.3241, 0.3291], 2),  # a BERT fine-tune's table: rising at each evaluation after
        # its best, the second-to-last only 4.95% above it
        ([0.0053, 0.0051, 0.0010, 0.0021, 0.0276], None),  # two points after a tiny best: one rise more is asked
        ([0.3156, 0.3088, 0.3292, 0.3190, 0.3291], None),  # up, down, up: not steady, the second-to-last too close
    ],
)
def test_eval_loss_rising_at_each_evaluation_after_its_best(evals: list[float], onset: int | None) -> None:
    run = make_run({"train/loss": [0.279, 0.22, 0.19, 0.17, 0.158], "eval/loss": evals})
    found = CHECKS["eval_rises_while_train_falls"](run)
    assert (found.onset_step if found else None) == onset


def test_a_loss_that_climbs_and_then_reads_zero_to_the_end_diverged_and_did_not_recover() -> None:
    # a wav2vec2 model card: the loss climbs 0.21 -> 1.44 while the eval loss climbs too, then reads 0.0 at
    # every logged step (a NaN the Trainer logs as 0): no recovery, and no train loss that "kept falling"
    train = [0.45, 0.41, 0.39, 0.34, 0.30, 0.28, 0.25, 0.24, 0.23, 0.21, 0.23, 0.28, 0.34, 0.43, 0.59, 0.78]
    train += [0.93, 1.0, 1.05, 1.44, 0.0, 0.0, 0.0, 0.0]
    evals = [0.23, 0.20, 0.19, 0.17, 0.16, 0.15, 0.145, 0.14, 0.138, 0.1335, 0.16, 0.18, 0.25, 0.28, 0.32, 0.42]
    evals += [0.61, 0.68, 0.76, 0.76]
    series = {"train/loss": train, "eval/loss": dict(enumerate(evals, start=1))}
    assert CHECKS["divergence"](make_run(series)) is not None
    assert CHECKS["loss_spike"](make_run(series)) is None  # the fall to 0.0 is no recovery
    assert CHECKS["eval_rises_while_train_falls"](make_run(series)) is None  # the train loss rose as well


def test_a_best_so_far_tracker_at_inf_is_no_broken_loss_part() -> None:
    # `Loaded checkpoint with best_loss_d value of inf`: the tracker's start value, not a loss turning inf
    run = make_run({"train/with_best_loss_d_value": [float("inf"), float("inf")], "train/d_loss": [1.5, 1.0, 0.9]})
    assert CHECKS["nonfinite_train_metrics"](run) is None


@pytest.mark.parametrize(
    ("evals", "train_end", "onset"),
    [  # a char-level LM on a large held-out set: its eval loss moves by thousandths
        ([3.603, 2.279, 1.856, 1.678, 1.573, 1.531, 1.488, 1.476, 1.483, 1.481, 1.488, 1.514, 1.532], 0.921, 8),
        # the same rise while the train loss stopped falling: no overfitting said on a small rise
        ([3.603, 2.279, 1.856, 1.678, 1.573, 1.531, 1.488, 1.476, 1.483, 1.481, 1.488, 1.514, 1.532], 1.15, None),
        # a noisy eval set: 1.55 is within its own moves of the best
        ([3.6, 2.3, 1.9, 1.6, 1.62, 1.5, 1.58, 1.476, 1.56, 1.49, 1.58, 1.51, 1.55], 0.921, None),
    ],
)
def test_a_quiet_eval_loss_rising_a_few_percent_as_train_falls_is_overfitting(
    evals: list[float], train_end: float, onset: int | None
) -> None:
    train = [3.57, 2.23, 1.70, 1.48, 1.36, 1.28, 1.21, 1.16, 1.12, 1.07, 1.02, 0.975, train_end]
    found = CHECKS["eval_rises_while_train_falls"](make_run({"train/loss": train, "eval/loss": evals}))
    assert (found.onset_step if found else None) == onset


@pytest.mark.parametrize(("auc", "fires"), [([0.774, 0.79, 0.797, 0.8029], False), ([0.774] * 4, True)])
def test_a_loss_printed_zero_from_the_start_while_an_eval_score_improves_is_the_loggers(
    auc: list[float], fires: bool
) -> None:
    # HugeCTR prints `Loss: 0.000000` at every iteration while the AUC climbs to its target: no gradient
    # could have done that, so the 0 is the logger's; the same zeros with an AUC that never moves are a zero loss
    run = make_run({"train/loss": [0.0] * 8, "eval/auc": {2: auc[0], 4: auc[1], 6: auc[2], 8: auc[3]}})
    assert (CHECKS["zero_loss_run"](run) is not None) == fires


@pytest.mark.parametrize(("val", "fires"), [([0.47, 0.02, 3e-4, 1e-6, 1.4e-7], False), ([0.47] * 5, True)])
def test_a_loss_printed_zero_after_a_start_while_the_eval_loss_falls_is_the_loggers(
    val: list[float], fires: bool
) -> None:
    # Keras prints `loss: 0.0000e+00` from epoch 2 for a Levenberg-Marquardt fit while its validation error falls
    # 0.47 -> 1.4e-7: a loss of 0 gives no gradient, so it is not the loss the model learns from; the same zeros
    # beside a validation loss that stays where it was are a loss that became 0
    run = make_run({"train/loss": [0.46] + [0.0] * 9, "eval/loss": dict(zip([1, 3, 5, 7, 9], val, strict=True))})
    assert (CHECKS["zero_loss_run"](run) is not None) == fires


def test_a_series_named_after_a_loss_function_is_a_loss_part() -> None:
    # GluonCV's SSD prints `CrossEntropy=.., SmoothL1=nan`, composer `metrics/train/LanguageCrossEntropy: nan`:
    # with no series named the loss, a field named after a loss function is one of its parts
    run = make_run({"train/cross_entropy": [19.1, 2.9e33, 1.9e33], "train/smoothl1": [NAN, NAN, NAN]})
    found = CHECKS["nonfinite_train_metrics"](run)
    assert found is not None and found.evidence["named_loss_parts"] and "smoothl1" in found.evidence["series"]
    run = make_run({"train/metrics_language_cross_entropy": [2.1, NAN], "train/samples_per_second": [5.0, 5.0]})
    assert CHECKS["nonfinite_train_metrics"](run) is not None


@pytest.mark.parametrize(
    ("values", "fires"),
    [
        ([4.0, 3.7, 4.2, 3.6, NAN, NAN, NAN], True),  # finite, then NaN at every record to its end
        ([4.0, 3.7, 4.2, 3.6, NAN, NAN, 3.1], False),  # came back: a NaN now and then, no broken quantity
        ([4.0, 3.7, NAN, NAN, NAN, NAN, NAN], False),  # two finite records: too few to say it ever worked
        ([4.0, 3.7, 4.2, 3.6, 3.3, NAN, NAN], False),  # two NaN records at the end of a paste
    ],
)
def test_one_unnamed_train_metric_that_breaks_and_stays_broken_is_a_nan(values: list[float], fires: bool) -> None:
    # RFBNet prints `L: nan C: 7.5253` (its localisation and confidence losses by one letter each), DenseFusion
    # `avg_dis: nan`: one column alone turns NaN, the others stay finite
    run = make_run({"train/l": values, "train/c": [10.7, 9.1, 9.2, 8.7, 8.9, 6.9, 7.5]})
    assert (CHECKS["nonfinite_train_metrics"](run) is not None) == fires


@pytest.mark.parametrize(
    ("loss", "fires"),
    [
        ({20: 4.61511, 40: 4.61494, 60: 4.61493, 19820: 4.61208, 19840: 4.60292}, True),  # Caffe's first and last
        ({20: 4.61511, 40: 4.52, 60: 4.41, 19820: 3.12, 19840: 3.10}, False),  # learned between the two blocks
        ({5020: 1.2051, 5040: 1.2049, 19820: 1.2032, 19840: 1.2040}, False),  # a tail far into its run: converged
        (
            {20: 4.61511, 40: 4.61494, 60: 4.61493, 1800: 4.61208},
            False,
        ),  # a slow start: a large classifier may sit at ln(k)
    ],
)
def test_a_loss_seen_at_one_value_from_the_start_over_thousands_of_updates_is_not_learning(
    loss: dict[int, float], fires: bool
) -> None:
    # a pasted Caffe log: iterations 20-60, then 19,820-19,840, the loss at 4.615 in both (ln 101, UCF101's classes)
    assert (CHECKS["loss_not_moving"](make_run({"train/loss": loss})) is not None) == fires


def test_a_running_peak_that_creeps_up_is_no_leak() -> None:
    # torchvision's MetricLogger and detectron2 print `max_mem`, torch's running peak: it never falls and
    # creeps up by a few percent as larger images come; a leak carries it far beyond (mlx's peak 28 -> 73 GB).
    creep = [2547.0, 2648, 2648, 2700, 2700, 2790, 2790, 2850, 2850, 2900, 2944, 2944]
    assert CHECKS["memory_growth"](make_run({"train/max_mem": creep})) is None
    assert CHECKS["memory_growth"](make_run({"train/memory_allocated": creep})) is not None  # not a peak: a climb
    leak = [28.3, 30.0, 45.7, 50.1, 52.0, 55.3, 58.9, 61.0, 64.4, 68.0, 71.2, 73.3]
    assert CHECKS["memory_growth"](make_run({"train/peak_mem": leak})) is not None


def test_a_log_cut_in_its_middle_that_fell_before_the_cut_is_learning() -> None:
    # A committed train.log cut to its first and last lines: nine points from iteration 0 (26.4 falling) and a
    # hundred and ten from iteration 45,080 on, where an epoch's running mean sits at 4.93. Quarters of the
    # points hold the late level at both ends; quarters of the steps see the fall.
    rng = np.random.default_rng(3)
    early = {10 * i: 26.4 - 0.8 * i for i in range(9)}
    late = {45080 + 10 * i: 4.93 + 0.005 * float(rng.standard_normal()) for i in range(110)}
    assert CHECKS["loss_not_moving"](make_run({"train/loss": {**early, **late}})) is None
    # the late stretch's values alone are flat (logged from the first step; logged from 45,080 on they are a tail)
    assert CHECKS["loss_not_moving"](make_run({"train/loss": dict(enumerate(late.values()))})) is not None
    assert CHECKS["loss_not_moving"](make_run({"train/loss": late})) is None


def test_a_loss_at_a_clamp_ceiling_from_its_first_record_is_not_learning() -> None:
    # Keras clips probabilities at 1e-7: a batch of wrong one-hot predictions reads -ln(1e-7) = 16.118095 (to
    # float32's precision); never lower before it, the run is not learning rather than diverging.
    run = make_run({"train/loss": [16.118095, 16.118095, 4.533215, 15.614405, 16.118095]})
    assert CHECKS["loss_at_clamp"](run, reached=True) is None
    found = CHECKS["loss_at_clamp"](run, reached=False)
    assert found is not None and found.onset_step == 1 and found.evidence["clamp"] == "1e-7"


def test_a_zero_printed_beside_a_nan_objective_hides_the_nan() -> None:
    # an MLX loop prints `loss: 0.00000 | Train mse: nan` at every epoch: the zero was never computed
    run = make_run({"train/loss": [0.0] * 5, "train/mse": [NAN] * 5, "train/learning_rate": [3e-3] * 5})
    found = CHECKS["nonfinite_train_metrics"](run)
    assert found is not None and found.onset_step == 1 and "reads exactly 0" in found.message
    moving = make_run({"train/loss": [0.5, 0.4, 0.3, 0.3, 0.2], "train/mse": [NAN] * 5})
    assert CHECKS["nonfinite_train_metrics"](moving) is None  # a loss that moves: loss-becomes-nan's to judge


def test_three_epochs_of_a_fine_tune_whose_eval_loss_rises_each_epoch_overfit() -> None:
    # Keras BERT fine-tune, three epochs: val_loss 0.265 -> 0.2776 -> 0.328 while loss 0.32 -> 0.19 -> 0.12
    run = make_run({"train/loss": [0.3203, 0.1934, 0.1207], "eval/loss": [0.265, 0.2776, 0.328]})
    found = CHECKS["eval_rises_while_train_falls"](run)
    assert found is not None and found.onset_step == 1
    wobble = make_run({"train/loss": [0.3203, 0.1934, 0.1207], "eval/loss": [0.265, 0.2676, 0.270]})
    assert CHECKS["eval_rises_while_train_falls"](wobble) is None  # 2% up: noise at this length
    both = make_run({"train/loss": [0.3203, 0.3301, 0.35], "eval/loss": [0.265, 0.2776, 0.328]})
    assert CHECKS["eval_rises_while_train_falls"](both) is None  # the train loss rose too: no gap


def test_a_loss_part_that_turns_nan_after_the_loss_was_last_printed() -> None:
    # a federated round: each worker prints its own average loss, the global average only after the round;
    # the workers' losses turn NaN in round 2, and the log ends before the global loss is printed again
    run = make_run({"train/loss": {1: 0.023}, "train/worker_avg_loss": {1: 0.023, 2: NAN, 3: NAN}})
    found = CHECKS["nonfinite_train_metrics"](run)
    assert found is not None and found.onset_step == 2 and "last printed at step 1" in found.message
    printed = make_run({"train/loss": {1: 0.023, 2: 0.02, 3: 0.02}, "train/worker_avg_loss": {1: 0.023, 2: NAN}})
    assert CHECKS["nonfinite_train_metrics"](printed) is None  # the total was printed there: loss-becomes-nan's


def test_a_throughput_that_fell_early_and_stayed_down_drops() -> None:
    # MXNet's `Speed: 0.603 samples/sec`: five points near 0.57, then 0.28, 0.22 ... 0.06 to the end; the first
    # half's median is already the slow rate, the rate held over the first five points is not
    speed = [0.926, 0.563, 0.603, 0.572, 0.514, 0.28, 0.218, 0.162, 0.164, 0.124] + [0.12 - i / 400 for i in range(30)]
    found = CHECKS["throughput_drop"](make_run({"train/samples_per_second": speed}))
    assert found is not None and found.onset_step == 6
    rng = np.random.default_rng(5)
    noisy = (1.0 + 0.15 * rng.standard_normal(40)).tolist()  # a noisy steady rate: no five-point stretch twice the end
    assert CHECKS["throughput_drop"](make_run({"train/samples_per_second": noisy})) is None


def test_unnamed_losses_non_finite_at_every_record_are_a_nan_loss() -> None:
    # VITS's list printed `[nan, nan, nan, 83.04, 0.99, inf, 28400, 0.0002]` from its first line on
    nan_columns = {f"train/column_{k}": [NAN] * 4 for k in (1, 2, 3)}
    run = make_run({**nan_columns, "train/column_4": [83.0, 84.8, 88.0, 91.3], "train/column_5": [1.0] * 4})
    found = CHECKS["nonfinite_train_metrics"](run)
    assert found is not None and found.onset_step == 1
    one = make_run({"train/column_1": [NAN] * 4, "train/column_4": [83.0, 84.8, 88.0, 91.3]})
    assert CHECKS["nonfinite_train_metrics"](one) is None  # one column NaN throughout is no failure


def test_a_time_named_an_interval_is_never_a_clock_since_the_start() -> None:
    # `time delta` per ten epochs growing in a straight line (new log 1650: each epoch slower than the
    # last) rises at every point like a clock since the start would; its name says it is one interval's.
    delta = {10 * k: 0.0057 + 0.29 * k for k in range(9)}
    loss = {10 * k: 0.2 for k in range(9)}
    found = CHECKS["throughput_drop"](make_run({"train/loss": loss, "train/time_delta": delta}))
    assert found is not None and found.onset_step == 40
    clock = {10 * k: 0.0057 + 0.29 * k for k in range(9)}
    assert CHECKS["throughput_drop"](make_run({"train/loss": [0.2] * 9, "train/time": clock})) is None


@pytest.mark.parametrize(
    ("seconds", "fires"),
    [
        ([13, 11, 11, 12, 11, 12, 11, 11, 11, 12, 11, 11, 33, 31, 36, 35], True),  # 11-13 s an epoch, then 31-36 s
        ([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2], False),  # whole seconds of 1 or 2: one unit of resolution
    ],
)
def test_an_epoch_time_says_a_slowdown_only_well_above_its_printed_resolution(seconds: list[int], fires: bool) -> None:
    # Keras prints each epoch's time in whole seconds (`- 13s 1s/step - loss: ..`): new log 6620's epochs went from
    # 11-13 s to 18-40 s; a tiny model's `1s` and `2s` say nothing of its speed
    run = make_run({"train/loss": [0.5] * 16, "train/epoch_time": seconds})
    assert (CHECKS["throughput_drop"](run) is not None) == fires


def test_a_loss_with_many_excursions_that_each_came_back_is_noisy_not_spiking() -> None:
    # A per-batch loss with hard batches (a Paddle retrieval fine-tune, 3D Gaussian splatting's resets): a
    # dozen 2-3x excursions over a long run are how that loss moves; one such excursion is a spike.
    rng = np.random.default_rng(3)
    base = 1.0 + 0.02 * rng.standard_normal(600)
    noisy = base.copy()
    for k in range(12):
        noisy[40 + 45 * k : 43 + 45 * k] = 2.5
    found = CHECKS["loss_spike"](make_run({"train/loss": noisy.tolist()}))
    assert found is not None and found.severity == "info" and found.evidence["pattern"] == "noisy"
    once = base.copy()
    once[300:303] = 2.5
    found = CHECKS["loss_spike"](make_run({"train/loss": once.tolist()}))
    assert found is not None and found.severity is None and found.evidence["count"] == 1


def test_a_name_holding_dt_or_s_per_inside_a_word_is_no_time() -> None:
    # A CycleGAN variant's identity loss `idt_aux` (new log 1784) doubling is no slowdown; `loss_per_token` is
    # no time either. `dt` and `s_per_iter` as words of the name are.
    rising = {k: 0.12 if k < 6 else 0.36 for k in range(12)}  # tripled, well above the printed unit
    for name in ("idt_aux", "loss_per_token"):
        assert CHECKS["throughput_drop"](make_run({"train/loss": [1.0] * 12, f"train/{name}": rising})) is None
    for name in ("dt", "s_per_iter"):
        assert CHECKS["throughput_drop"](make_run({"train/loss": [1.0] * 12, f"train/{name}": rising})) is not None


def test_a_loss_scale_is_judged_against_the_minimum_the_run_configured() -> None:
    # fairseq's wav2vec 2.0 fine-tune (new log 1769): 9 overflow skips in 113k updates, the scale at 0.5 when
    # the log ends, with `min_loss_scale: 0.0001` in the config it printed: far above where the scaler gives up.
    scale = {k * 200: s for k, s in enumerate([128, 64, 8, 4, 4, 2, 2, 1, 1, 0.5, 0.5, 0.5])}
    series = {"train/loss": [50.0 - k for k in range(12)], "train/loss_scale": scale}
    assert CHECKS["loss_scale_collapse"](make_run(series)) is not None  # 1, the default floor, when none is known
    configured = make_run(series, loss_scaling={"min_loss_scale": 0.0001})
    assert CHECKS["loss_scale_collapse"](configured) is None
    deepspeed = make_run(series, deepspeed={"fp16": {"enabled": True, "min_loss_scale": 1}})
    assert CHECKS["loss_scale_collapse"](deepspeed) is not None


def test_a_long_slow_stretch_is_a_throughput_drop_even_when_the_rate_came_back() -> None:
    # Gluon's ShuffleNAS on ImageNet (new log 1866): ~815 samples/s, ~400 over a third of the run, ~737 at the
    # end. A few slow points (an evaluation, a checkpoint write) are no stretch.
    speed = [815.0] * 40 + [400.0] * 35 + [737.0] * 30
    found = CHECKS["throughput_drop"](make_run({"train/samples_per_second": speed}))
    assert found is not None and found.onset_step == 41 and found.evidence["recovered_to"] == "737"
    blips = [815.0] * 40 + [400.0, 815.0, 815.0] * 10 + [737.0] * 35
    assert CHECKS["throughput_drop"](make_run({"train/samples_per_second": blips})) is None


def test_a_score_that_never_settled_before_reading_zero_did_not_collapse() -> None:
    # Joey NMT's toy reversal task (new log 1831): dev BLEU 0, 0, 0, 16.5, 0, 0, 22, 0, 40 ... 100 while it
    # learns on a tiny dev set; a score held near its best and then at 0 is a collapse
    learning = [0.0, 0.0, 0.0, 16.46, 0.0, 0.0, 21.95, 0.0, 40.2, 35.8, 50.0, 100.0]
    run = make_run({"train/loss": [50.0 - 4 * k for k in range(12)], "eval/bleu": learning})
    assert CHECKS["eval_score_collapses"](run) is None
    held = [10.0, 20.0, 21.0, 22.0, 21.5, 0.0, 0.0]
    run = make_run({"train/loss": [5.0 - k / 2 for k in range(7)], "eval/bleu": held})
    assert CHECKS["eval_score_collapses"](run) is not None


def test_a_time_rising_at_every_one_of_many_points_is_a_clock_whatever_its_start_up() -> None:
    # A SmolLM2 loop (new log 1861): `step=0010 ... time=12.2s`, then +2 s per 10 steps to 1156 s at step 5450:
    # its start-up made it grow slower than the step count, but no time per step rises at 500 points in a row
    clock = {10 * k: 12.2 + 2.1 * (k - 1) for k in range(1, 546)}
    assert CHECKS["throughput_drop"](make_run({"train/loss": [1.5] * 545, "train/time": clock})) is None


def test_a_collapse_reached_over_two_evaluations_dates_from_where_it_began() -> None:
    # MindCV's gMLP on ImageNet (new log 1317): top-1 0.71, 0.70, 0.695, then 0.021 and 0.0027
    top1 = [0.70, 0.71, 0.715, 0.70, 0.695, 0.0208, 0.00266]
    found = CHECKS["eval_score_collapses"](make_run({"train/loss": [3.0] * 7, "eval/top1": top1}))
    assert found is not None and found.onset_step == 6


def test_a_specific_event_explains_only_an_exception_with_no_training_record_between_them() -> None:
    # GibberishGPT (new log 1855): a DataLoader worker killed at iteration 2500 and replaced, training on to
    # 5000, then a RuntimeError in generation; the worker's death explains nothing of that last exception
    params = {"kinds": ("exception",), "unless_kinds": ("dataloader_error",)}

    def run(worker_line: int) -> Run:
        made = make_run(
            {"train/loss": falling(10)},
            events=[("dataloader_error", 5, "DataLoader worker killed"), ("exception", 10, "RuntimeError: x")],
        )
        made.events["line"] = pd.array([worker_line, 101], dtype="Int64")  # the records sit on lines 1-10
        return made

    assert CHECKS["event_present"](run(100), **params) is None  # right before it: the same ending
    found = CHECKS["event_present"](run(5), **params)
    assert found is not None and found.message.startswith("RuntimeError")


@pytest.mark.parametrize(("tail", "fires"), [(0.09, False), (0.11, True)])
def test_a_climb_is_judged_on_what_the_printed_digits_allow(tail: float, fires: bool) -> None:
    # A TF1 loop's bar prints `loss=0.07` with two decimals (new log 2209, these values): 0.07 then 0.09 may be
    # 0.0749 then 0.0850, a rise of 13%, under the 20% a divergence asks; 0.07 then 0.11 is one at worst
    loss = [0.25] * 7 + [0.14] * 7 + [0.11] * 10 + [0.08] * 13 + [0.07] * 7 + [tail] * 3
    found = CHECKS["divergence"](make_run({"train/loss": loss}))
    assert (found is not None) == fires


def test_a_field_the_loss_is_the_mean_of_is_a_term_of_it_not_a_score() -> None:
    # A U-Net loop prints `train: bce: 0.210124, dice: 0.994346, loss: 0.602235`: the loss is the mean of bce and
    # dice, so `dice` is the dice loss (lower is better) falling with it, not a Dice score falling
    bce = [0.21, 0.022, 0.023, 0.02, 0.018, 0.015, 0.012, 0.01]
    dice = [0.994, 0.806, 0.522, 0.3, 0.12, 0.06, 0.03, 0.02]
    loss = [round((b + d) / 2, 6) for b, d in zip(bce, dice, strict=True)]
    run = make_run({"train/loss": loss, "train/bce": bce, "train/dice": dice})
    assert CHECKS["train_score_falls_with_loss"](run) is None
    scored = make_run({"train/loss": loss, "train/dice": dice})  # no sum to be a term of: a score that falls
    assert CHECKS["train_score_falls_with_loss"](scored) is not None


@pytest.mark.parametrize(("accuracy", "fires"), [(0.0, True), (0.001, True), (0.05, False)])
def test_a_loss_at_ln_of_many_classes_is_chance_when_the_accuracy_is_no_better(accuracy: float, fires: bool) -> None:
    # guided-diffusion's ImageNet classifier: train_loss 6.94 -> 6.91 (ln 1000 = 6.908) with acc@1 printed as 0.
    # At 1/1,000 a batch of 32 is right about once in 30 batches: 0 is chance; 5% is learning something.
    values = [6.94, 6.93, 6.94, 6.92, 6.93, 6.91, 6.92, 6.91, 6.92, 6.90, 6.91, 6.90]
    steps = range(0, 200 * len(values), 200)
    loss = dict(zip(steps, values, strict=True))
    top1, top5 = dict.fromkeys(steps, accuracy), dict.fromkeys(steps, 0.02)
    found = CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/acc@1": top1, "train/acc@5": top5}))
    assert (found is not None) is fires  # acc@5 at 2% is not the top-1 accuracy
    first = {s: v for s, v in loss.items() if s < 1400}  # seven points: every classifier starts at chance, and an
    zero = dict.fromkeys(steps, 0.0)  # accuracy printed as 0 says no more than that
    assert CHECKS["loss_not_moving"](make_run({"train/loss": first, "train/acc@1": zero})) is None
    warmup = {s: 1e-6 * (s + 1) for s in steps}  # the learning rate still rising: tiny updates by design
    assert (
        CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/acc@1": top1, "train/learning_rate": warmup}))
        is None
    )


def test_a_loss_that_does_not_move_from_the_start_at_a_tiny_learning_rate_is_not_learning() -> None:
    # A DPO loop at a peak rate of 1.1e-8: 0.17329 -> 0.17280 over 6,480 steps.
    steps = range(0, 6480, 30)
    loss = {s: 0.17329 - 0.0005 * s / 6480 + 0.00002 * ((s // 30) % 3) for s in steps}
    tiny = {s: 1.1e-8 * (1 - 0.9 * s / 6480) for s in steps}
    found = CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/learning_rate": tiny}))
    assert found is not None and found.onset_step == 0 and "1.1e-08" in found.message
    usual = {s: 2e-5 * (1 - 0.9 * s / 6480) for s in steps}  # at a usual rate the trend test judges it
    later = {s: v for s, v in loss.items() if s >= 3000}  # a paste from mid-run: the start is not seen
    for run in (
        make_run({"train/loss": loss, "train/learning_rate": usual}),
        make_run({"train/loss": later, "train/learning_rate": tiny}),
    ):
        found = CHECKS["loss_not_moving"](run)
        assert found is None or found.evidence.get("pattern") != "tiny_learning_rate"


@pytest.mark.parametrize(("noise", "fires"), [(0.003, True), (0.05, False)])
def test_a_third_higher_is_a_spike_only_on_a_smooth_loss(noise: float, fires: bool) -> None:
    rng = np.random.default_rng(3)
    values = 0.48 + noise * rng.standard_normal(80)
    values[60] = 0.64  # a curriculum's new data pool mixed in, then back
    found = CHECKS["loss_spike"](make_run({"train/loss": values.tolist()}))
    assert (found is not None and found.onset_step == 61) is fires


def test_a_heavy_tailed_per_batch_loss_has_no_spike_at_its_ordinary_highs() -> None:
    # One batch's diffusion loss every 100 iterations (SSSD on ECG): 0.008-0.055 around 0.025, one 0.16 among
    # 523 points. Seven times the median is an ordinary draw of that noise; on a smooth loss it is a spike.
    rng = np.random.default_rng(5)
    noisy = np.exp(np.log(0.025) + 0.6 * rng.standard_normal(520))
    noisy[400] = 0.16
    assert CHECKS["loss_spike"](make_run({"train/loss": noisy.tolist()})) is None
    smooth = 0.025 * (1 + 0.01 * rng.standard_normal(520))  # averaged over many samples: its noise under 2%
    smooth[400] = 0.16
    found = CHECKS["loss_spike"](make_run({"train/loss": smooth.tolist()}))
    assert found is not None and found.onset_step == 401


def test_a_flat_reward_is_judged_only_from_the_start_and_before_the_loss_breaks() -> None:
    flat = [5.0 + ((i * 7) % 5 - 2) for i in range(80)]
    from_start = {10 * i: v for i, v in enumerate(flat)}
    assert CHECKS["reward_never_improves"](make_run({"train/episode_reward": from_start})) is not None
    short = dict(enumerate(flat))  # 80 updates: every policy starts at its first reward, and may stay there
    assert CHECKS["reward_never_improves"](make_run({"train/episode_reward": short})) is None
    middle = {1000 + 10 * i: v for i, v in enumerate(flat)}  # a paste from mid-run: it may have learned before
    assert CHECKS["reward_never_improves"](make_run({"train/episode_reward": middle})) is None
    rising = {10 * i: 1.0 + 0.1 * i for i in range(80)}  # learning until the loss went NaN, then nothing earned
    rising.update({10 * i: 0.0 for i in range(60, 80)})
    loss = {10 * i: 1.0 if i < 60 else float("nan") for i in range(80)}
    assert CHECKS["reward_never_improves"](make_run({"train/episode_reward": rising, "train/loss": loss})) is None


def test_a_reward_is_not_judged_while_the_learning_rate_warms_up() -> None:
    # A preference run's first 202 of 5,100 steps, the rate rising from 1e-9 to 2e-7: nothing had a chance to learn.
    steps = range(1, 203)
    reward = {s: 0.6 + 0.05 * ((s * 7) % 5 - 2) for s in steps}
    warmup = {s: 1e-9 * s for s in steps}
    run = make_run({"train/reward": reward, "train/learning_rate": warmup})
    assert CHECKS["reward_never_improves"](run) is None
    assert CHECKS["reward_never_improves"](make_run({"train/reward": reward})) is not None


def test_few_evaluations_after_the_best_take_their_noise_from_the_approach_not_the_rise() -> None:
    # Four epochs of a Keras IMDB classifier: val 0.363 0.349 0.425 0.530 while train falls 0.561 -> 0.024. The
    # moves of the rise itself (0.076, 0.105) are no noise; the approach to the best (0.014) is.
    train = [0.561, 0.280, 0.150, 0.024]
    found = CHECKS["eval_rises_while_train_falls"](
        make_run({"train/loss": train, "eval/loss": [0.363, 0.349, 0.425, 0.530]})
    )
    assert found is not None and found.onset_step == 2
    # a tiny dev loss that jumps around from the start (0.0053 0.0051 0.0010 0.0021 0.0276): its approach is noisy too
    noisy = make_run(
        {"train/loss": [0.0665, 0.0373, 0.0262, 0.0213, 0.0219], "eval/loss": [0.0053, 0.0051, 0.0010, 0.0021, 0.0276]}
    )
    assert CHECKS["eval_rises_while_train_falls"](noisy) is None


# A planar normalizing flow's per-epoch loss table (new log 2631, these values): lowest at epoch 1, then a climb of
# a percent or two per epoch that steps back now and then, so no run of rises reaches the sign test's five
FLOW = [
    400.33,
    395.87,
    398.76,
    397.50,
    397.67,
    397.04,
    397.30,
    398.43,
    400.96,
    399.94,
    402.02,
    402.45,
    403.37,
    406.23,
    410.40,
    411.17,
    416.53,
    417.15,
    421.76,
    424.31,
    428.14,
    431.83,
    437.10,
    438.74,
    443.45,
    448.93,
    450.85,
    449.87,
    451.66,
    450.01,
]


def test_a_short_climb_with_steps_back_is_a_divergence_by_its_rank_trend() -> None:
    found = CHECKS["divergence"](make_run({"train/loss": FLOW}))
    assert found is not None and found.onset_step == 3 and found.evidence["kendall_z"] > 5  # make_run counts from 1


@pytest.mark.parametrize("seed", range(20))
def test_a_flat_noisy_short_loss_shows_no_rank_trend(seed: int) -> None:
    noise = np.random.default_rng(seed).normal(0.0, 4.0, size=30)
    assert CHECKS["divergence"](make_run({"train/loss": (400.0 + noise).round(2).tolist()})) is None


def test_a_climb_that_came_back_down_is_no_rank_trend() -> None:
    came_back = [*FLOW[:24], 430.0, 415.0, 405.0, 400.0, 398.0, 399.0]  # ends in the climb's lower quarter
    assert CHECKS["divergence"](make_run({"train/loss": came_back})) is None


def test_a_draw_among_a_run_first_records_is_judged_against_the_noise_after_it() -> None:
    # A loss of one sample per record (a MindSpore loop's, new log 2597) is heavy-tailed from its first record
    # on: a draw 50x the median of the 19 records before it is ordinary among the 600 that follow
    rng = np.random.default_rng(7)
    loss = np.exp(rng.normal(np.log(0.005), 1.6, size=620))
    loss[19] = 50 * float(np.median(loss[:19]))
    assert CHECKS["loss_spike"](make_run({"train/loss": loss.tolist()})) is None
    smooth = np.exp(rng.normal(np.log(0.5), 0.02, size=620))  # the same jump on a quiet loss is a spike
    smooth[19:22] = 25.0
    assert CHECKS["loss_spike"](make_run({"train/loss": smooth.tolist()})) is not None


def test_a_reward_whose_last_quarter_is_within_its_noise_of_the_first_never_improved() -> None:
    # A DQN on a Breakout clone (new log 2701, these rewards of every 50th episode, first and last 26): whole
    # points from 0 to 4, the last quarter's median 1.5 above the first's 1.0 by the draw of the episodes alone
    first = [0, 1, 0, 2, 1, 1, 0, 3, 3, 1, 1, 4, 0, 3, 3, 0, 0, 0, 1, 3, 2, 1, 3, 3, 4, 2]
    last = [2, 1, 4, 0, 0, 0, 2, 0, 2, 1, 2, 1, 2, 3, 2, 0, 3, 4, 2, 0, 0, 1, 1, 1, 3, 2]
    middle = [1, 2, 2, 0, 3, 1, 2, 1, 1, 2, 0, 2, 1, 3, 1, 2, 1, 0, 2, 2, 1, 3, 1, 2, 1, 2]
    rewards = [float(r) for r in first + middle + middle + last]
    assert CHECKS["reward_never_improves"](make_run({"train/episode_reward": rewards})) is not None
    learned = [float(r) for r in first + middle + middle] + [r + 2.0 for r in last]  # two points up: learned
    assert CHECKS["reward_never_improves"](make_run({"train/episode_reward": learned})) is None


def test_a_short_log_whose_accuracy_is_one_value_at_1_over_k_and_loss_ends_at_ln_k_is_at_chance() -> None:
    # A Keras binary classifier (new log 2662, these values): five epochs, `binary_accuracy: 0.5000` at each, the
    # loss falling from 796 to 0.6930 = ln 2; too short for the five settled points a moving accuracy needs
    loss = [796.1661, 0.7462, 0.7070, 0.6943, 0.6930]
    found = CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/binary_accuracy": [0.5] * 5}))
    assert found is not None and found.evidence["classes"] == 2
    moving = [0.5, 0.55, 0.6, 0.62, 0.64]  # an accuracy that moves is no witness over three points
    assert CHECKS["loss_not_moving"](make_run({"train/loss": loss, "train/binary_accuracy": moving})) is None


def test_a_score_that_fell_while_another_of_the_same_evaluations_ended_higher_is_no_overfitting() -> None:
    # A course homework's classifier (new log 2668, these values): macro-F1 best at epoch 11 (0.581) then 0.542,
    # while the accuracy of the same evaluations ended above its value at that epoch (0.905 -> 0.909)
    loss = [
        0.9505,
        0.2708,
        0.1461,
        0.1243,
        0.1079,
        0.1212,
        0.0725,
        0.0964,
        0.0787,
        0.1219,
        0.0503,
        0.0292,
        0.0230,
        0.0125,
        0.0284,
    ]
    f1 = [0.385, 0.534, 0.495, 0.399, 0.387, 0.422, 0.447, 0.393, 0.343, 0.490, 0.406, 0.581, 0.546, 0.549, 0.542]
    acc = [0.802, 0.869, 0.877, 0.770, 0.794, 0.810, 0.849, 0.774, 0.817, 0.865, 0.873, 0.905, 0.897, 0.921, 0.909]
    check = CHECKS["eval_score_falls_while_train_falls"]
    assert check(make_run({"train/loss": loss, "eval/f1": f1})) is not None  # the F1 alone says it
    assert check(make_run({"train/loss": loss, "eval/f1": f1, "eval/accuracy": acc})) is None


def test_a_loss_that_converged_to_its_printed_digits_is_not_frozen() -> None:
    # Gradient descent on a linear regression (new log 2734, these values): each move a tenth of the one before,
    # then 86.7956 to the last printed digit: the optimum of a convex loss, not a model that stopped updating
    converged = [221.9567, 96.3356, 87.5333, 86.8531, 86.8001, 86.7956, 86.7956, 86.7956, 86.7956, 86.7956]
    assert CHECKS["loss_not_moving"](make_run({"train/loss": converged})) is None
    stopped = [221.9567, 96.3356, 87.5333, 80.8531, 79.8001] + [79.8001] * 5  # frozen from moves as large as before
    assert CHECKS["loss_not_moving"](make_run({"train/loss": stopped})) is not None


def test_a_loss_printed_at_one_unit_of_its_last_digit_is_not_frozen() -> None:
    # LeRobot prints `loss:0.001` with three decimals (new log 2779): the last 180 records read 0.001 while the
    # grad norm keeps falling; a loss of whole numbers (`1` at every record) is still frozen
    floor = [5.666, 2.1, 0.5, 0.05, 0.009, 0.007, 0.005, 0.004, 0.003, 0.002] + [0.001] * 30
    assert CHECKS["loss_not_moving"](make_run({"train/loss": floor})) is None
    whole = [3.0, 2.0] + [1.0] * 30
    assert CHECKS["loss_not_moving"](make_run({"train/loss": whole})) is not None


def test_a_clock_that_started_over_where_the_run_was_resumed_is_no_time_per_step() -> None:
    # A DDSP loop prints `[5922s]` since its process started (new log 2791): resumed from step 20000, the next
    # process's clock reads `[39s]` at step 20100; no throughput fell
    steps = range(100, 40100, 100)
    clock = [37.0 * i for i in range(1, 201)] + [38.0 * i for i in range(1, 201)]
    run = make_run(
        {"train/loss": dict(zip(steps, [1.0] * 400, strict=True)), "train/time": dict(zip(steps, clock, strict=True))}
    )
    assert CHECKS["throughput_drop"](run) is None
    per_step = [37.0] * 200 + [380.0] * 200  # a time per step that grew tenfold is a drop
    slow = make_run({"train/loss": [1.0] * 400, "train/time": per_step})
    assert CHECKS["throughput_drop"](slow) is not None


def test_one_hard_batch_among_a_loss_logged_at_every_step_is_no_spike() -> None:
    # An image-captioning loop logs each batch's loss (new log 2664): 4.25 at one step among values near 1.95,
    # back at the very next step; a jump that lifts the next batches too, or one logged every 10 steps, stays
    rng = np.random.default_rng(3)
    loss = (1.95 + rng.normal(0.0, 0.05, size=300)).tolist()
    one = [*loss[:200], 4.25, *loss[201:]]
    assert CHECKS["loss_spike"](make_run({"train/loss": one})) is None
    lasting = [*loss[:200], 4.25, 3.9, 3.4, *loss[203:]]
    assert CHECKS["loss_spike"](make_run({"train/loss": lasting})) is not None
    sparse = dict(zip(range(10, 3010, 10), one, strict=True))
    assert CHECKS["loss_spike"](make_run({"train/loss": sparse})) is not None


def test_a_clock_whose_first_reading_holds_the_start_up_is_no_time_per_step() -> None:
    # modded-nanogpt style lines (new log 2884): `step:1/1000000 train_time:889ms`, 90 ms a step after it, 23331 ms
    # at step 250: the first step's compilation made the clock grow slower than the step count, no step slowed
    steps = [*range(1, 11), 250]
    clock = [889.0, 990.0, 1070.0, 1160.0, 1250.0, 1340.0, 1430.0, 1521.0, 1611.0, 1702.0, 23331.0]
    run = make_run(
        {"train/loss": dict(zip(steps, [3.0] * 11, strict=True)), "train/time": dict(zip(steps, clock, strict=True))}
    )
    assert CHECKS["throughput_drop"](run) is None
    # a time per step rising in a straight line from a start it never falls back to is a slowdown all the same
    per_step = {k: 0.5 + 0.15 * k for k in range(1, 21)}
    assert CHECKS["throughput_drop"](make_run({"train/loss": [3.0] * 20, "train/time": per_step})) is not None


def test_a_series_shaped_like_a_running_peak_is_one_whatever_its_name() -> None:
    # mmdetection 2.x prints `memory: 3953` (torch's max_memory_allocated) at every iteration (new log 2957): it
    # never falls and holds its value at most moves; +3.8% over 50 epochs is the largest batch met, not a leak
    peak = [3953.0] * 12 + [4046.0] * 20 + [4104.0] * 10
    assert CHECKS["memory_growth"](make_run({"train/memory": peak})) is None
    # shaped the same but carried far past where it stood after the first quarter: a leak all the same
    leak = [3953.0] * 12 + [5000.0] * 10 + [6500.0] * 10 + [8000.0] * 10
    assert CHECKS["memory_growth"](make_run({"train/memory": leak})) is not None


def test_a_short_falling_loss_that_jumps_and_is_back_under_its_level_next_has_spiked() -> None:
    # A Titans memory transformer's custom loop (new log 1725), ten epochs: 4.92 then 15.56 then 3.79. The fall
    # before lifts the median of all earlier points (6.9: 2.3x), the level just before is 5.78 (2.7x), and the
    # jump is ten times the loss's own moves from epoch to epoch
    loss = [11.316147, 9.157932, 8.468172, 6.484758, 6.896077, 5.780270, 4.915977, 15.557199, 3.786181, 3.191940]
    found = CHECKS["loss_spike"](make_run({"train/loss": loss}))
    assert found is not None and found.onset_step == 8
    # a loss whose moves from print to print are that large already (one batch printed every N epochs) did not
    swinging = [11.3, 4.1, 9.2, 3.0, 7.5, 2.6, 6.1, 15.0, 2.4, 5.9]
    assert CHECKS["loss_spike"](make_run({"train/loss": swinging})) is None
    # nor did one that stayed up after the jump (the divergence check's)
    stayed = [*loss[:8], 14.9, 16.2]
    assert CHECKS["loss_spike"](make_run({"train/loss": stayed})) is None


def test_a_loss_of_0_over_a_start_up_stretch_only_is_no_zero_loss() -> None:
    # A self-play RL loop (new log 2933) logs `'loss': 0.0` while its replay buffer fills, then a loss at every one
    # of the 178 iterations after it: the loss works. Zeros to the end, or again later, stay a finding.
    rng = np.random.default_rng(3)
    working = [0.0, 0.0, 0.0, *(0.01 + 0.005 * rng.random(40)).tolist()]
    assert CHECKS["zero_loss_run"](make_run({"train/loss": working})) is None
    again = [*working, 0.0, 0.0]
    assert CHECKS["zero_loss_run"](make_run({"train/loss": again})) is not None
    long_start = [0.0] * 12 + working[3:]  # a quarter of the run: more than a start-up
    assert CHECKS["zero_loss_run"](make_run({"train/loss": long_start})) is not None


_CLASSES = [
    "void",
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "light",
    "hydrant",
    "sign",
    "meter",
    "bench",
    "bird",
    "cat",
]
_CLASSES += ["dog", "horse", "sheep", "cow"]


def _flair_log(first_batch: dict[int, float], at: tuple[int, int] = (0, 0), classes: int = 0) -> str:
    """Flair 0.4's training.log lines (new log 2982): the running mean of the epoch every 13 iterations, then
    the epoch's DEV and TEST evaluations; `first_batch` sets an epoch's iteration-0 value (one batch alone);
    `classes` per-class lines after each evaluation (a table of IoUs, as UniMatch prints: new log 998)."""
    rng = np.random.default_rng(5)
    lines = []
    for epoch in range(1, 13):
        for it in range(0, 131, 13):
            value = 7.0 + 0.05 * rng.standard_normal()
            if it == 0:
                value = first_batch.get(epoch, 6.5 + rng.random())
            if (epoch, it) == at:
                value = 12.83
            lines.append(f"2019-09-13 17:20:56,735 epoch {epoch} - iter {it}/135 - loss {value:.8f}")
        lines.append(f"2019-09-13 17:22:32,042 EPOCH {epoch} done: loss 6.9987 - lr 0.1000 - bad epochs 0")
        lines.append("2019-09-13 17:22:55,585 DEV  : loss 7.25035763 - f-score 0.7297 - acc 0.5745")
        lines.append("2019-09-13 17:23:18,955 TEST : loss 7.21333599 - f-score 0.6957 - acc 0.5334")
        lines += [
            f"2019-09-13 17:23:18,956 ***** Evaluation ***** >>>> Class [{c} {name}] IoU: {40 + c}.25"
            for c, name in enumerate(_CLASSES[:classes])
        ]
    return "\n".join(lines) + "\n"


def test_a_jump_at_the_first_record_after_an_evaluation_is_a_running_mean_starting_over(tmp_path: Path) -> None:
    (tmp_path / "training.log").write_text(_flair_log({10: 12.83}))
    assert not [f for f in analyze(tmp_path).findings if f.rule_id == "loss-spike"]
    # the same jump in the middle of an epoch is a spike
    (tmp_path / "training.log").write_text(_flair_log({}, at=(10, 65)))
    assert [f for f in analyze(tmp_path).findings if f.rule_id == "loss-spike"]


def test_an_evaluation_printed_on_many_lines_counts_once_before_the_running_mean_starts_over(tmp_path: Path) -> None:
    """An evaluation's table of 21 per-class lines is one evaluation: the loss is still logged several times
    between evaluations, so the jump at the first record after one is the mean starting over (new log 998)."""
    (tmp_path / "training.log").write_text(_flair_log({10: 12.83}, classes=21))
    assert not [f for f in analyze(tmp_path).findings if f.rule_id == "loss-spike"]


def test_a_climb_with_the_eval_loss_doubling_beside_it_diverged_whatever_a_score_did() -> None:
    # DGCNN on a 2-class S3DIS subset (new log 2992): the train loss climbs 0.76 -> 24 over 60 epochs, the test
    # loss 0.88 -> 34; the test accuracy's first evaluation (0.24, one class predicted) and a balanced accuracy
    # wobbling around 0.5 are no evaluation that got better
    rng = np.random.default_rng(7)
    epochs = range(60)
    train = {e: 0.76 + 0.39 * e + 0.3 * rng.random() for e in epochs}
    series = {
        "train/loss": train,
        "eval/loss": {e: 0.7 + 0.45 * e * (1 + 0.2 * rng.random()) for e in epochs},
        "eval/acc": {e: 0.237 if e == 0 else 0.6 - 0.002 * e + 0.03 * rng.random() for e in epochs},
        "eval/avg_acc": {e: 0.46 + 0.001 * e + 0.02 * rng.random() for e in epochs},
    }
    found = CHECKS["divergence"](make_run(series))
    assert found is not None
    # a score that rose clearly while the eval loss did not climb says the series named loss is something else
    steady = {**series, "eval/loss": {e: 0.7 for e in epochs}, "eval/acc": {e: 0.3 + 0.01 * e for e in epochs}}
    assert CHECKS["divergence"](make_run(steady)) is None


def test_an_excursion_longer_than_the_spike_horizon_that_jumps_back_is_a_spike() -> None:
    # An MTCNN R-Net loop (new log 2224): the loss near 0.15 jumps to 15-20 for three epochs (70 logged points,
    # beyond the detector's horizon of 50), then is back at 0.5 at the next point and falls on: a spike that
    # recovered late. The same jump followed by a decay (a run started again from its start) is not one.
    rng = np.random.default_rng(5)
    calm = 0.15 * np.exp(0.1 * rng.standard_normal(200))
    high = 16.0 * np.exp(0.1 * rng.standard_normal(70))
    after = np.linspace(0.5, 0.2, 200) * np.exp(0.05 * rng.standard_normal(200))
    found = CHECKS["loss_spike"](make_run({"train/loss": [*calm, *high, *after]}))
    assert found is not None and found.onset_step == 201 and found.evidence["spikes"][0]["ratio"] > 50
    restart = 16.0 * np.exp(-np.arange(270) / 40) + 0.15 * np.exp(0.1 * rng.standard_normal(270))
    assert CHECKS["loss_spike"](make_run({"train/loss": [*calm, *restart]})) is None
    stays = CHECKS["loss_spike"](make_run({"train/loss": [*calm, *high, *(16.0 + 0 * after)]}))
    assert stays is None


def test_a_rate_held_only_over_the_runs_first_batches_is_no_earlier_rate() -> None:
    # KAIR's SwinIR loop (new log 3121): the lines' timestamps give 1 s an iteration for the first ten of 465 (the
    # batches the data loader prefetched), then 3.7 s to the end: the run's own rate, from its start
    ten = [1.0] * 10 + [3.7] * 455
    per_step = {k: t for k, t in enumerate(ten, start=1)}
    assert CHECKS["throughput_drop"](make_run({"train/loss": [1.0] * 465, "train/time": per_step})) is None
    # held over a tenth of the run before it slowed: a drop
    tenth = [1.0] * 47 + [3.7] * 418
    found = CHECKS["throughput_drop"](make_run({"train/loss": [1.0] * 465, "train/time": dict(enumerate(tenth, 1))}))
    assert found is not None and found.onset_step == 48


def test_a_time_printed_before_the_first_train_loss_is_the_set_ups() -> None:
    # A cross-view geo-localisation loop (new log 3152) extracts features for its pseudo-labels first (`Extract
    # Features: [50/137] Time 1.773`), then trains at 5.6 s a batch throughout: no slowdown
    times = {k: 1.8 for k in range(2, 9)} | {k: 5.6 for k in range(10, 410, 10)}
    loss = {k: 20.0 - 0.04 * k for k in range(10, 410, 10)}
    assert CHECKS["throughput_drop"](make_run({"train/loss": loss, "train/time": times})) is None
    slower = times | {k: 12.0 for k in range(210, 410, 10)}  # training itself slowing is a drop
    assert CHECKS["throughput_drop"](make_run({"train/loss": loss, "train/time": slower})) is not None


def test_a_jump_small_against_the_fall_the_loss_made_is_no_spike() -> None:
    # A one-shot CLIP-LoRA fine-tune (new log 3262) falls from 0.92 to 0.0001 and reads 0.08 once, then 0.0001,
    # 0.003, 0.0096: 800 times its baseline, but under a tenth of the way back to where it started
    rng = np.random.default_rng(11)
    fall = list(np.geomspace(0.92, 0.0001, 200))
    flat = list(0.0001 + 0.0004 * rng.random(300))
    small = [*fall, *flat]
    small[350:354] = [0.08, 0.0001, 0.003, 0.0096]
    assert CHECKS["loss_spike"](make_run({"train/loss": small})) is None
    back = [*fall, *flat]
    back[350:354] = [0.5, 0.3, 0.1, 0.0096]  # more than half the way back up: the weights were shaken
    assert CHECKS["loss_spike"](make_run({"train/loss": back})) is not None


def test_one_hard_batch_far_above_a_tiny_baseline_but_under_the_start_is_no_spike() -> None:
    # the same fine-tune (new log 3262) reads 0.25 at one step among 0.0001s, back at the next: 2,500 times its
    # baseline, more than a tenth of the way back up, yet under where the loss started: one hard batch
    rng = np.random.default_rng(11)
    loss = [*np.geomspace(0.92, 0.0001, 200), *(0.0001 + 0.0004 * rng.random(300))]
    loss[350] = 0.25
    assert CHECKS["loss_spike"](make_run({"train/loss": loss})) is None
    loss[350] = 1.5  # above the untrained model's loss: the weights were shaken
    assert CHECKS["loss_spike"](make_run({"train/loss": loss})) is not None


def test_a_loss_that_multiplies_at_each_of_its_few_points_diverged() -> None:
    # COVID-Net's `Epoch: 0001 Minibatch loss= 6443.2`, then 39658.7, then 122188.0 (new log 3292): a climb, not a
    # spike that "had not come back" (the next point is higher still)
    run = make_run({"train/loss": [6443.208, 39658.684, 122188.039]})
    assert CHECKS["loss_spike"](run) is None
    found = CHECKS["divergence"](run)
    assert found is not None and found.onset_step == 2
    # a jump that falls back at the next point is no climb
    assert CHECKS["divergence"](make_run({"train/loss": [6443.2, 39658.7, 7000.0]})) is None
    # nor a loss that rose by a little at each point
    assert CHECKS["divergence"](make_run({"train/loss": [1.0, 1.2, 1.3]})) is None


def test_a_loss_driven_to_minus_infinity_diverged() -> None:
    # A 12-lead ECG model's Keras CSV log (new log 3294): loss -33,835 at epoch 0, -65,066,624 at epoch 69, its
    # val_loss running away beside it (which reads as "better" by its sign)
    loss = {e: -33834.98 * (1 + e) ** 1.78 for e in range(70)}
    val = {e: 4.4 * v for e, v in loss.items()}
    found = CHECKS["divergence"](make_run({"train/loss": loss, "eval/loss": val}))
    assert found is not None and found.evidence["pattern"] == "runaway_below_zero"
    # a negative loss that settles (a policy-gradient term, an ELBO's bound) did not run away
    settled = {e: -2.0 - 1.0 / (1 + e) for e in range(70)}
    assert CHECKS["divergence"](make_run({"train/loss": settled})) is None


def test_a_discriminator_at_zero_is_judged_only_in_a_gan_that_had_something_to_lose() -> None:
    """D's loss at 0 with a generator beside it fires; the same at 0 from its first point (a hinge loss whose
    margins hold), a critic's loss that goes negative (WGAN), or a `d_loss` with no generator logged does not."""
    check = CHECKS["discriminator_wins"]
    fell = [0.5 - 0.04 * i for i in range(10)] + [0.001] * 20
    assert check(make_run({"train/d_loss": fell, "train/g_loss": [2.0] * 30})) is not None
    assert check(make_run({"train/d_loss": [0.0] * 30, "train/g_loss": [2.0] * 30})) is None
    assert check(make_run({"train/d_loss": [-0.2, *fell[1:]], "train/g_loss": [2.0] * 30})) is None
    assert check(make_run({"train/d_loss": fell})) is None


def test_memory_printed_while_the_framework_sets_up_is_no_leak() -> None:
    """DeepSpeed's `see_memory_usage` climbs while ZeRO allocates parameters and optimizer states, before the
    first train record: those points are no leak. The same values printed among the train records are one."""
    check = CHECKS["memory_growth"]
    setup = [2.19, 2.19, 5.56, 5.56, 12.31, 14.93]
    loss = [2.0 - 0.05 * i for i in range(10)]
    assert check(make_run({"train/see_memory_usage_ma": setup, "train/loss": loss})) is None  # lines 1-6, then 7-16
    assert check(make_run({"train/loss": loss, "train/see_memory_usage_ma": setup})) is not None


def test_the_time_left_to_the_end_is_no_step_time() -> None:
    """PyMARL's `Estimated time left: 15 hours, 46 minutes` shrinks as the run goes on: no step grew faster (its
    inverse had read as a rate falling to 6%), and `Time passed` only grows."""
    check = CHECKS["throughput_drop"]
    left = [1.0] * 10 + [17.0] * 10  # the hours of `1 hours, 22 minutes`, then of `1 days, 17 hours`
    loss = [2.0 - 0.01 * k for k in range(20)]
    assert check(make_run({"train/loss": loss, "train/estimated_time_left": left})) is None
    assert check(make_run({"train/loss": loss, "train/seconds_time_passed": [30.0 * k for k in range(1, 21)]})) is None
    assert check(make_run({"train/loss": loss, "train/step_time": [0.5] * 10 + [2.0] * 10})) is not None


def test_a_clock_printed_in_whole_seconds_is_no_step_time() -> None:
    """DenseFusion's `Train time 00h 00m 01s` (new log 5190) is the time since the start in whole seconds: the same
    reading at neighbouring records, then one second more. Its inverse had read as a rate falling to a quarter."""
    check = CHECKS["throughput_drop"]
    clock = [0.0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4]
    loss = [11.5, 10.9, 14.7, 7.4, 9.5, 11.7, 9.8, 9.1, 12.0, 8.8, 9.9, 10.1]
    assert check(make_run({"train/loss": loss, "train/time": clock})) is None
    assert check(make_run({"train/loss": loss, "train/time": [1.0] * 6 + [4.0] * 6})) is not None


def test_memory_that_held_its_level_then_stepped_up_once_is_no_leak() -> None:
    """YOLOv8's `GPU_mem` (new log 5372): 1.0G at every record, then 2.32G at the last one. It never falls, so its
    one move is upward, but its Theil-Sen slope is 0: a level held and one step up, not a steady climb."""
    check = CHECKS["memory_growth"]
    loss = [2.0 - 0.02 * k for k in range(22)]
    assert check(make_run({"train/loss": loss, "train/gpu_mem": [1.0] * 21 + [2.32]})) is None
    assert check(make_run({"train/loss": loss, "train/gpu_mem": [1.0 + 0.05 * k for k in range(22)]})) is not None


def test_a_value_loss_that_runs_away_while_the_return_stays_at_0_diverged() -> None:
    # TF-Agents' DQN on a fisheries task (new log 5254): the TD loss climbs from 2.2 to 1e11 while the evaluation
    # return is exactly 0 at every record. A return that never left 0 explains no growth of the loss at all.
    run = make_run({"train/loss": [2.2 * 10 ** (k / 2) for k in range(12)], "train/average_return": [0.0] * 12})
    run.meta["trainer_kind"] = "rl"
    found = CHECKS["value_loss_diverges"](run)
    assert found is not None and found.onset_step == 3
    run = make_run(
        {"train/loss": [2.2 * 10 ** (k / 2) for k in range(12)], "train/average_return": [0.0] * 6 + [9.0] * 6}
    )
    run.meta["trainer_kind"] = "rl"  # a return that left 0: no ratio to weigh the loss's growth against
    assert CHECKS["value_loss_diverges"](run) is None


def _dpo_line(loss: float, nan: bool, epoch: float) -> str:
    """One of TRL's DPOTrainer log dicts, as `print(logs)` shows it."""
    value = "nan" if nan else "-0.1523"
    return (
        f"{{'loss': {loss}, 'learning_rate': 0.0005, 'rewards/chosen': {value}, 'rewards/rejected': {value}, "
        f"'rewards/accuracies': 0.0, 'rewards/margins': {value}, 'logps/rejected': {value}, "
        f"'logps/chosen': {value}, 'logits/rejected': {value}, 'logits/chosen': {value}, 'epoch': {epoch}}}\n"
    )


def test_a_loss_that_reads_0_where_the_models_outputs_are_nan_hides_a_nan(tmp_path: Path) -> None:
    """A DPO run in fp16 (new log 6006): its log-probabilities turn NaN and the Trainer's NaN filter prints the
    loss as 0.0 from there on. The loss is NaN, not 0: said with the outputs' NaN, where no grad_norm is logged."""
    lines = [_dpo_line(0.6931, False, 0.28), _dpo_line(0.6212, False, 0.57)]
    (tmp_path / "train.log").write_text("".join(lines + [_dpo_line(0.0, True, e) for e in (0.85, 1.13, 1.42)]))
    found = {f.rule_id: f for f in analyze(tmp_path).findings}
    hidden = found["train-metrics-become-nan"]
    assert hidden.onset_step == 3 and "reads exactly 0 from record 3 on" in hidden.message
    # the same outputs NaN while the loss moves on, finite: loss-becomes-nan's to judge, not this rule's
    lines = [_dpo_line(0.6931, False, 0.28)] + [_dpo_line(0.62 - 0.01 * k, True, 0.57 + k) for k in range(4)]
    (tmp_path / "train.log").write_text("".join(lines))
    assert "train-metrics-become-nan" not in {f.rule_id for f in analyze(tmp_path).findings}
