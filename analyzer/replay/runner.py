"""Replay one flagged step: checkpoint, batches, fast-forward, ablations, localisation, health, verdicts."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from analyzer.model import Finding, Report
from analyzer.replay.ablations import NAN_MODES, SPIKE_MODES, batches_at_checkpoint, eval_ablation, run_ablations
from analyzer.replay.checkpoint import checkpoint_before, load_model, load_rng_state
from analyzer.replay.checks import check_batch
from analyzer.replay.data import collate, read_rows, step_indices
from analyzer.replay.errors import ReplayError
from analyzer.replay.health import model_health
from analyzer.replay.localise import first_nonfinite
from analyzer.replay.settings import read_settings
from analyzer.replay.step import Stepper, set_rng_state
from analyzer.replay.verdict import verdicts


def pick(report: Report, step: int | None, rule_id: str | None) -> tuple[Finding | None, int]:
    """The finding to test (the one named, else the verdict's) and the step to replay (given, else its onset)."""
    serious = [f for f in report.findings if f.severity != "info"]
    finding = next((f for f in report.findings if f.rule_id == rule_id), None) if rule_id else next(iter(serious), None)
    if rule_id and finding is None:
        known = ", ".join(f.rule_id for f in report.findings) or "none"
        raise ReplayError(f"no finding {rule_id!r} in this run (findings: {known})")
    if step is None:
        if finding is None or finding.onset_step is None:
            raise ReplayError("nothing flagged with a step: pass --step N")
        step = int(finding.onset_step)
    return finding, step


def replay(
    run_dir: Path,
    report: Report,
    *,
    step: int | None = None,
    rule_id: str | None = None,
    dataset: Path | None = None,
    eval_dataset: Path | None = None,
    sampler: str = "trainer",
    device: str = "cpu",
    base_model: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Replay the flagged step of `run_dir` and return the JSON-ready `replay` section. Reads only."""
    import torch

    started = time.perf_counter()
    finding, step = pick(report, step, rule_id)
    mode = finding.failure_mode if finding else "unknown"
    settings = read_settings(report.run, overrides)
    checkpoint, step, moved = checkpoint_before(run_dir, step)
    loaded = load_model(checkpoint, base_model)
    if "precision" not in settings.sources and (checkpoint.path / "scaler.pt").is_file():
        settings.precision = "fp16"  # the Trainer writes scaler.pt for fp16 alone (its GradScaler's state)
        settings.sources["precision"] = "scaler.pt in the checkpoint"
    rng_saved = _read_rng(checkpoint.path)
    config = loaded.model.config
    pad_id = int(getattr(config, "pad_token_id", None) or 0)
    vocab = getattr(config, "vocab_size", None)
    recorded: dict[int, list[dict[str, Any]]] = {}
    if dataset is None:
        from analyzer.integrations.hf import recorded_batches

        recorded = recorded_batches(run_dir)
        if not recorded:
            raise ReplayError(
                "pass --dataset FILE (the tokenized training rows: JSONL, Parquet or a datasets folder); "
                "no batches recorded by FlightRecorderCallback under this run either"
            )
        sampler = "recorded (FlightRecorderCallback)"
    rows = read_rows(dataset) if dataset is not None else []

    def micro(s: int) -> list[dict[str, Any]]:
        if recorded:
            if s not in recorded:
                have = ", ".join(map(str, sorted(recorded)))
                raise ReplayError(f"step {s} was not recorded (recorded steps: {have}); pass --dataset FILE")
            return recorded[s]
        return [
            collate([rows[i] for i in idx], pad_id)
            for idx in step_indices(len(rows), s, settings.batch_size, settings.grad_accum, sampler, settings.seed)
        ]

    def maybe(s: int) -> list[dict[str, Any]]:
        return micro(s) if not recorded or s in recorded else []

    update_step = step - 1 if mode in SPIKE_MODES and step - 1 > checkpoint.step else step
    flagged, following = micro(update_step), maybe(update_step + 1)
    stepper = Stepper(loaded, settings, device)
    health = model_health(loaded, _prompt(flagged), device)
    # The flagged batch against its neighbours (those before it since the checkpoint, and the next two).
    neighbours = [*range(max(checkpoint.step + 1, step - 6), step), step + 1, step + 2]
    at_checkpoint = batches_at_checkpoint(stepper, micro(step), [maybe(s) for s in neighbours])
    # The run's generators as they were when the step after the checkpoint began (its dropout masks), set after
    # the probes above drew from them; each ablation then starts from the state the flagged update began with.
    if rng_saved is None:
        rng = ["rng_state.pth not in the checkpoint: dropout masks are not the run's"]
    elif isinstance(rng_saved, str):
        rng = [rng_saved]
    else:
        rng = [f"RNG state restored from rng_state.pth ({', '.join(set_rng_state(rng_saved, device))})"]
    skipped_before = 0
    for s in range(checkpoint.step + 1, update_step):  # the steps between checkpoint and flagged step, as run
        if not stepper.update(micro(s), settings.precision, settings.lr_at(s), settings.max_grad_norm or None).applied:
            skipped_before += 1
    outcomes, layer_norms = run_ablations(stepper, mode, update_step, flagged, following)
    located = None
    if mode in NAN_MODES or not all(math.isfinite(o.loss) and math.isfinite(o.grad_norm) for o in outcomes[:1]):
        saved = stepper.snapshot()
        found = first_nonfinite(stepper, flagged, settings.precision)
        stepper.restore(saved)
        located = found.to_dict() if found else None
    eval_part = None
    if eval_dataset is not None:
        eval_part = eval_ablation(stepper, read_rows(eval_dataset), settings.eval_batch_size, pad_id)
    facts: dict[str, Any] = {
        "run_dir": str(run_dir),
        "finding": finding.rule_id if finding else None,
        "failure_mode": mode,
        "step": step,
        "update_step": update_step,
        "checkpoint": checkpoint.path.name,
        "checkpoint_step": checkpoint.step,
        "steps_fast_forwarded": max(0, update_step - checkpoint.step - 1),
        "skipped_while_fast_forwarding": skipped_before,
        "device": device if not device.startswith("cuda") else f"{device} ({torch.cuda.get_device_name()})",
        "sampler": sampler,
        "dataset": str(dataset) if dataset is not None else f"{run_dir.name}/flight_recorder",
        "settings": {
            "precision": settings.precision,
            "batch_size": settings.batch_size,
            "grad_accum": settings.grad_accum,
            "seed": settings.seed,
            "max_grad_norm": settings.max_grad_norm,
            "lr_at_step": settings.lr_at(update_step),
            "loss_scale": stepper.loss_scale if settings.precision == "fp16" else None,
            "sources": settings.sources,
        },
        "logged": _logged(report, step),
        "batch": check_batch(micro(step), vocab, pad_id if getattr(config, "pad_token_id", None) is not None else None),
        "at_checkpoint": at_checkpoint,
        "ablations": [o.to_dict() for o in outcomes],
        "layer_grad_norms": layer_norms,
        "first_nonfinite": located,
        "health": health,
        "eval": eval_part,
        "notes": [*moved, *loaded.notes, *stepper.notes, *rng],
    }
    facts["verdicts"] = verdicts(_chain(report, finding), facts)
    facts["seconds"] = round(time.perf_counter() - started, 2)
    return facts


def _chain(report: Report, finding: Finding | None) -> list[Finding]:
    """The finding and the ones that follow from it (their causes are tested too)."""
    if finding is None:
        return []
    return [finding, *[f for f in report.findings if f.caused_by == finding.rule_id]]


def _prompt(micro: list[dict[str, Any]]) -> list[int]:
    ids, mask = micro[0]["input_ids"][0], micro[0]["attention_mask"][0]
    tokens = [int(t) for t, m in zip(ids.tolist(), mask.tolist(), strict=True) if m]
    return tokens[: max(1, len(tokens) // 2)]


def _logged(report: Report, step: int) -> dict[str, Any]:
    """What the run logged at the step, to set beside the replayed numbers."""
    out: dict[str, Any] = {}
    for metric in ("loss", "grad_norm", "learning_rate"):
        if report.run.has(metric):
            series = report.run.series(metric)
            if step in series.index:
                out[metric] = float(series.loc[step])
    return out


def _read_rng(folder: Path) -> dict[str, Any] | str | None:
    """rng_state.pth's generator states, None when the checkpoint has none, or why it could not be read safely."""
    try:
        return load_rng_state(folder / "rng_state.pth")
    except Exception as exc:  # a global outside the allowlist: left unread rather than unpickled
        return f"rng_state.pth not restored ({type(exc).__name__}): dropout masks are not the run's"
