"""A verdict per candidate cause: confirmed, refuted or inconclusive, with the replay's evidence."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from analyzer.model import Finding
from analyzer.replay.checks import no_supervision

Facts = dict[str, Any]
Verdict = tuple[str, str]  # (confirmed | refuted | inconclusive, evidence)

LABELS = {"all-labels-masked", "labels-broken", "eval-batches-without-labels"}
PRECISION = {
    "fp16-overflow",
    "precision-overflow",
    "precision",
    "fp16-range",
    "fp16-gradient-overflow",
    "half-precision-eval",
    "bf16-deepspeed-instability",
    "lora-fp16-peft-collapse",
}
DATA = {"bad-batch", "bad-data", "bad-sample", "nan-in-forward", "input-pipeline"}
RATE = {"learning-rate-too-high", "learning-rate-jump", "exploding-gradients"}
COLLAPSE = {"saturated-or-collapsed-output", "loss-collapsed-or-rounded"}


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}" if math.isfinite(x) else str(x)
    return str(x)


def _outcome(facts: Facts, name: str) -> dict[str, Any] | None:
    return next((o for o in facts.get("ablations", []) if o["name"] == name), None)


def _line(o: dict[str, Any]) -> str:
    nxt = f", next loss {_fmt(o['next_loss'])}" if o.get("next_loss") is not None else ""
    numbers = f"loss {_fmt(o['loss'])}, grad norm {_fmt(o['grad_norm'])}{nxt}"
    return f"{o['name']} ({o['precision']}, lr {_fmt(o['lr'])}): {numbers}"


def labels(facts: Facts) -> Verdict:
    batch = facts["batch"]
    count = batch.get("supervised_tokens", batch.get("labelled_rows"))
    if no_supervision(batch):
        return "confirmed", f"0 supervised tokens (labels != -100) in the {batch['rows']} rows of step {facts['step']}"
    return "refuted", f"{count} supervised tokens in the {batch['rows']} rows of step {facts['step']}"


def empty(facts: Facts) -> Verdict:
    b = facts["batch"]
    if b["empty_rows"] or b["all_pad_rows"]:
        return "confirmed", f"{b['empty_rows']} empty and {b['all_pad_rows']} all-pad rows of {b['rows']}"
    return "refuted", f"no empty or all-pad row; lengths {b['length_min']}–{b['length_max']}"


def precision(facts: Facts, cause: str = "") -> Verdict:
    if cause == "lora-fp16-peft-collapse":
        return lora_collapse(facts)
    return _precision(facts, cause)


def lora_collapse(facts: Facts) -> Verdict:
    """fp16 must be what fails, and the adapter must generate nothing or one token over and over."""
    verdict, evidence = _precision(facts, "fp16")
    gen = (facts.get("health") or {}).get("generation")
    if verdict != "confirmed" or not gen:
        return verdict, evidence
    if gen["collapsed"]:
        return "confirmed", f"{evidence}; greedy generation collapsed ({gen['tokens_before_eos']} tokens before EOS)"
    return "inconclusive", f"{evidence}; but greedy generation gives {gen['distinct_tokens']} distinct tokens"


def _precision(facts: Facts, cause: str) -> Verdict:
    run, fp32 = _outcome(facts, "as run"), _outcome(facts, "fp32")
    used = facts["settings"]["precision"]
    named = next((p for p in ("bf16", "fp16") if cause.startswith(p)), None)
    if named and used != named:  # a cause about the other half-precision format
        return "refuted", f"the run trained in {used}, not {named}"
    if run is None:
        return "inconclusive", "the step was not replayed"
    if fp32 is None:  # the run itself was fp32
        if run["symptom"]:
            return "refuted", f"the run was fp32 and the failure reproduces in fp32: {_line(run)}"
        return "inconclusive", f"the run was fp32 and the step replays clean: {_line(run)}"
    if run["symptom"] and not fp32["symptom"]:
        return "confirmed", f"{_line(run)}; {_line(fp32)}: only the run's precision fails"
    if run["symptom"] and fp32["symptom"]:
        return "refuted", f"fp32 fails the same way: {_line(fp32)}"
    return "inconclusive", f"the failure did not reproduce: {_line(run)}"


def data(facts: Facts) -> Verdict:
    batch, at = facts["batch"], facts.get("at_checkpoint") or {}
    if batch.get("nonfinite_labels"):
        return (
            "confirmed",
            f"{batch['nonfinite_labels']} non-finite label value(s) in the batch of step {facts['step']}",
        )
    if at and not at["flagged_finite"] and at["others_finite"]:
        return "confirmed", (
            f"on the checkpoint's weights the batch of step {facts['step']} gives loss {_fmt(at['flagged_loss'])} "
            f"while the {len(at['other_losses'])} batches before it are finite"
        )
    run = _outcome(facts, "as run")
    if at and at["flagged_finite"] and run and run["symptom"]:
        return (
            "refuted",
            f"the batch is finite on the checkpoint's weights (loss {_fmt(at['flagged_loss'])}); the model state fails",
        )
    if at and not at["others_finite"]:
        return "refuted", "every batch is non-finite on the checkpoint's weights: the model state, not one batch"
    return "inconclusive", "the failure did not reproduce on this batch"


def token_range(facts: Facts) -> Verdict:
    b = facts["batch"]
    if b["ids_past_embedding"]:
        return "confirmed", f"token id {b['max_token_id']} >= embedding size {b['vocab_size']}"
    return "refuted", f"largest token id {b['max_token_id']} < embedding size {b['vocab_size']}"


def rate(facts: Facts) -> Verdict:
    run = _outcome(facts, "as run")
    calmer = [o for o in (_outcome(facts, "scheduled lr"), _outcome(facts, "lr / 10")) if o]
    if run is None or not run["symptom"]:
        return "inconclusive", f"the failure did not reproduce: {_line(run) if run else 'no replay'}"
    fixed = [o for o in calmer if not o["symptom"]]
    if fixed:
        return "confirmed", f"{_line(run)}; {_line(fixed[0])}: the lower rate has no failure"
    return "refuted", f"a lower rate fails too: {'; '.join(_line(o) for o in calmer)}"


def head(facts: Facts) -> Verdict:
    h = facts.get("health") or {}
    names = [p["parameter"] for p in h.get("never_loaded", [])] + [
        p["parameter"] for p in h.get("nonfinite_parameters", [])
    ]
    if names:
        return "confirmed", f"parameters not loaded from the checkpoint or non-finite: {', '.join(names[:6])}"
    return "refuted", "every parameter was loaded from the checkpoint and is finite"


def collapse(facts: Facts) -> Verdict:
    gen = (facts.get("health") or {}).get("generation")
    if not gen:
        return "inconclusive", "no generation probe (not a causal LM)"
    if gen["collapsed"]:
        return (
            "confirmed",
            f"greedy generation: {gen['tokens_before_eos']} tokens before EOS, {gen['distinct_tokens']} distinct",
        )
    return "refuted", f"greedy generation gives {gen['tokens_before_eos']} tokens, {gen['distinct_tokens']} distinct"


def batched_eval(facts: Facts) -> Verdict:
    ev = facts.get("eval")
    if not ev:
        return "inconclusive", "no eval dataset given (--eval-dataset)"
    if ev["batched_nonfinite"] and not ev["single_rows_with_labels_nonfinite"]:
        return (
            "confirmed",
            f"{ev['batched_nonfinite']} non-finite eval batch(es) at batch size {ev['batch_size']}, "
            "none at batch size 1",
        )
    return (
        "refuted",
        f"batch size {ev['batch_size']}: {ev['batched_nonfinite']} non-finite; batch size 1: {ev['single_nonfinite']}",
    )


def broken_state(facts: Facts) -> Verdict:
    bad = (facts.get("health") or {}).get("nonfinite_parameters", [])
    if bad:
        return "confirmed", f"{len(bad)} parameter tensor(s) already non-finite at the checkpoint"
    return "refuted", "every parameter is finite at the checkpoint"


JUDGES: list[tuple[set[str], Callable[[Facts], Verdict]]] = [
    (LABELS, labels),
    ({"empty-inputs"}, empty),
    (PRECISION, precision),
    (DATA, data),
    ({"token-id-beyond-embedding"}, token_range),
    (RATE, rate),
    ({"uninitialised-head"}, head),
    (COLLAPSE, collapse),
    ({"torch-2.5.0-batched-eval"}, batched_eval),
    ({"training-already-broken"}, broken_state),
]


def verdicts(findings: list[Finding], facts: Facts) -> list[dict[str, Any]]:
    """One verdict per distinct cause of the findings replay looked at, in the findings' order."""
    out, seen = [], set()
    for finding in findings:
        for cause in finding.causes:
            if cause.id in seen:
                continue
            seen.add(cause.id)
            judge = next((j for ids, j in JUDGES if cause.id in ids), None)
            if judge is precision:
                verdict, evidence = precision(facts, cause.id)
            else:
                verdict, evidence = judge(facts) if judge else ("inconclusive", "replay does not test this cause")
            out.append(
                {
                    "cause": cause.id,
                    "title": cause.title,
                    "finding": finding.rule_id,
                    "verdict": verdict,
                    "evidence": evidence,
                }
            )
    return out
