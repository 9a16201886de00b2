"""Canonical metric names: one alias table shared by every parser."""

from __future__ import annotations

import re

# alias (lower case, as logged) -> canonical metric name. Unknown names are kept as they are.
METRIC_ALIASES: dict[str, str] = {
    "loss": "loss",
    "train_loss": "loss",
    "train/loss": "loss",
    "lm loss": "loss",
    "lm_loss": "loss",
    "training_loss": "loss",
    "loss_function": "loss",  # `Loss function: 22.825` (MLPerf's SSD)
    "loss function": "loss",
    "learning_rate": "learning_rate",
    "lr": "learning_rate",
    "learning rate": "learning_rate",
    "base_learning_rate": "learning_rate",  # MATLAB trainNetwork's `Base Learning Rate` column
    "base_lr": "learning_rate",
    "train/learning_rate": "learning_rate",
    "grad_norm": "grad_norm",
    "grad norm": "grad_norm",
    "gradient_norm": "grad_norm",
    "train/grad_norm": "grad_norm",
    "total_norm": "grad_norm",
    "gradnorm": "grad_norm",
    "gnorm": "grad_norm",  # abbreviations: fairseq's `gnorm`, LeRobot's `grdn`
    "grdn": "grad_norm",
    # a gradient printed as one number is its norm (`Train Summary | Epoch 3 | Loss=0.1673 | Grad=inf`)
    "grad": "grad_norm",
    "gradient": "grad_norm",
    "epoch": "epoch",
    "train/epoch": "epoch",
    "loss_scale": "loss_scale",
    "loss scale": "loss_scale",
    "grad_scale": "loss_scale",  # torch.amp.GradScaler's scale, as icefall and others print it
    "grad scale": "loss_scale",
    "throughput": "throughput",
}

# Names of loss functions that logs print in place of the word `loss` (gradient-boosting eval lines,
# OpenNMT's `xent`): the loss of a split that names no `loss` field (see console.generic).
LOSS_FUNCTIONS = frozenset(
    {
        "logloss",
        "binary_logloss",
        "multi_logloss",
        "mlogloss",
        "cross_entropy",
        "xent",
        "nll",
        "l1",
        "l2",
        "mse",
        "rmse",
        "rmsle",
        "nrmse",  # normalised by the target's range or spread (forecasting, EEG and signal regression)
        "nmse",  # channel estimation's normalised mean square error
        "nmae",
        "mae",
        "mape",  # percentage errors, forecasting's objectives and boosting's eval metrics (`eval-rmspe:0.84`)
        "smape",
        "rmspe",
        "huber",
        "ce",  # cross-entropy, abbreviated
        "bce",  # binary cross-entropy
        "ctc",  # connectionist temporal classification (speech, OCR): RETURNN's `ctc 1.840`
        "smoothl1",  # detectors' box regression: MXNet's `Train-SmoothL1=nan`
        "smooth_l1",
        "hinge",
        "bpd",  # bits per dimension: the negative log-likelihood of flows, PixelCNNs and diffusion models
        "nloglik",  # XGBoost's negative log-likelihoods (`gamma-nloglik`, `poisson-nloglik`, `cox-nloglik`)
    }
)

# Words that qualify a loss without making it another quantity: `total_loss`, `avg_loss`, `tot_loss`.
LOSS_QUALIFIERS = frozenset(
    {
        "total",
        "average",
        "avr",  # kohya's `avr_loss`
        "ave",
        "tot",
        "reduced",
        "lm",
        "main",
        "avg",
        "mean",
        "overall",
        "batch",
        "minibatch",  # TF1 tutorials' `Minibatch Loss= 0.0000`
        "running",
        "current",
        "last",
        "step",  # Lightning's `train_loss_step` (its `_epoch` twin is the epoch's mean, another series)
    }
)


def loss_variant(metric: str) -> bool:
    """`tot_loss`, `avg_loss`, `loss_avg`, `running_loss`: the loss itself, aggregated or qualified (one
    `loss` word, every other word a qualifier), kept apart only because the loss was named already."""
    words = metric.lower().split("_")
    return len(words) > 1 and words.count("loss") == 1 and all(w in LOSS_QUALIFIERS for w in words if w != "loss")


# Prefixes that put a metric into a split: ("eval_loss" -> eval/loss, "val/loss" -> eval/loss).
SPLIT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("eval_", "eval"),
    ("eval/", "eval"),
    ("val_", "eval"),
    ("val/", "eval"),
    ("validation_", "eval"),
    ("validation/", "eval"),
    ("test_", "test"),
    ("test/", "test"),
    ("predict_", "predict"),
    ("train/", "train"),
)

_WS = re.compile(r"\s+")


def canonical_metric(name: str) -> str:
    """Map a logged metric name to its canonical name (unknown names are kept unchanged)."""
    key = _WS.sub(" ", name.strip()).lower()
    return METRIC_ALIASES.get(key, name.strip())


def split_and_metric(key: str, default_split: str = "train") -> tuple[str, str]:
    """Split a logged key such as `eval_loss` or `val/acc` into (split, canonical metric)."""
    low = key.lower()
    for prefix, split in SPLIT_PREFIXES:
        if low.startswith(prefix) and len(key) > len(prefix):
            return split, canonical_metric(key[len(prefix) :])
    return default_split, canonical_metric(key)


# `mem`, `mem_alloc`, `memory`, `gpu_mem`; not a word that only begins so (`member`, Indonesian `memulai`, starting).
# The console reader's metric words name memory with the same pattern.
MEMORY_WORD = r"mem(?![a-np-z])"
_MEMORY = re.compile(MEMORY_WORD)


def is_memory_metric(metric: str) -> bool:
    """Memory series (allocated, reserved, used...): names with `mem` or `memory` in them as a word of their own
    (`gpu_mem`, `mem_alloc`, `max_memory_allocated`), except a one-off total peak."""
    low = metric.lower()
    return bool(_MEMORY.search(low)) and "total_peak" not in low


def is_eval_split(split: str) -> bool:
    """True for `eval` and for named eval sets such as `eval_g0`."""
    return split == "eval" or split.startswith("eval_")


def _loss_function_loss(key: str) -> bool:
    """A key that names a loss function's value (`cross_entropy_loss`, `train/binary_cross_entropy_loss`):
    its `entropy_loss` ending is no RL policy's entropy bonus."""
    stem = key.rsplit("/", 1)[-1].removesuffix("_loss")
    return any(stem == f or stem.endswith("_" + f) for f in LOSS_FUNCTIONS)


def name_words(name: str) -> set[str]:
    """The lower-case words of a series name (`rewards/chosen` -> {rewards, chosen}, `Average_Return` -> {average,
    return})."""
    return set(re.split(r"[^a-z]+", name.lower())) - {""}


# The length of a generated completion (`avg_resp_len`, `response_length/mean`, `completion_len`)
_GENERATED_LENGTH = re.compile(r"(?:^|_)(?:completions?|responses?|resp)_?(?:len|length)(?:$|_)")


def infer_trainer_kind(keys: set[str]) -> str:
    """Guess the trainer from the keys it logs: grpo (GRPO/RLOO), rl (other reinforcement learning), dpo, kto,
    reward, sft or trainer.

    The kind matters because a loss of exactly 0 is normal in GRPO/RLOO and a failure in SFT.
    """
    if {
        "rewards/chosen",
        "rewards/margins",
        "logps/chosen",
        "rewards_chosen",
        "rewards_margins",
        "logps_chosen",
    } & keys:
        return "kto" if "kl" in keys else "dpo"
    rl_markers = {"reward", "reward_std", "frac_reward_zero_std", "completion_length"}
    if rl_markers & keys or any(k.startswith(("completions/", "rewards/", "clip_ratio/")) for k in keys):
        return "grpo"
    rewarded = any("reward" in k for k in keys)
    if rewarded and any(_GENERATED_LENGTH.search(k) for k in keys):
        return "grpo"  # a reward beside the length of what the policy generated: a loop of its own like GRPO's
    # Reinforcement learning outside LLMs (Stable-Baselines3, RSL-RL, CleanRL): a TD or value loss that
    # moves with the policy's data, spiky and rising by design, logged beside episode returns.
    rl_keys = (
        "ep_rew",
        "ep_len",
        "episode_reward",
        "episode_return",
        "exploration_rate",
        "value_loss",
        "value_function_loss",
        "policy_loss",
        "policy_gradient_loss",
        "surrogate",
        "entropy_loss",
        "approx_kl",
        # value-based and multi-agent loops (PyMARL's QMIX: `return_mean`, `td_error_abs`, `q_taken_mean`)
        "return_mean",
        "td_error",
        "q_taken",
    )
    if any(k.startswith(rl_keys) or (k.endswith(rl_keys) and not _loss_function_loss(k)) for k in keys):
        return "rl"
    if {"margin", "mean_reward"} <= keys or ({"accuracy", "margin"} <= keys):
        return "reward"
    if rewarded:  # a loop of its own that logs a reward (`average_reward`): a policy's
        return "rl"  # loss, near 0 at first and growing with its KL term by design
    if any({"return", "returns"} & name_words(k) for k in keys):
        return "rl"  # or the return its episodes earn (TF-Agents' `Average Return`, `episodic_return`): a TD loss
    if {"mean_token_accuracy", "num_tokens"} & keys:
        return "sft"
    return "trainer"
