"""FlightRecorderCallback: keeps the last batches, RNG states and signals of a Trainer run, and writes them
to `<output_dir>/flight_recorder/step-N/` when a step goes wrong, so that `analyze replay` is exact without
the dataset (it reads them when no --dataset is given)."""

from __future__ import annotations

import json
import math
from collections import deque
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

FOLDER = "flight_recorder"
COLUMNS = ("input_ids", "attention_mask", "labels")


class FlightRecorderCallback(TrainerCallback):
    """Record the last `keep` optimizer steps' micro-batches and RNG states; dump them at an anomaly.

    An anomaly is a logged train row whose loss or grad_norm is NaN/inf, or whose loss is exactly 0
    (`zero_loss=True`). Per-layer gradient norms are taken before each optimizer step (one device sync);
    `layer_norms=False` leaves them out. At most `max_dumps` anomalies are written.
    """

    def __init__(self, keep: int = 8, zero_loss: bool = True, layer_norms: bool = True, max_dumps: int = 3) -> None:
        self.keep, self.zero_loss, self.layer_norms, self.max_dumps = keep, zero_loss, layer_norms, max_dumps
        self.batches: deque[tuple[int, list[dict[str, Any]]]] = deque(maxlen=keep)
        self.rng: dict[int, Any] = {}
        self.norms: dict[int, dict[str, float]] = {}
        self.supervised: dict[int, int] = {}
        self.scales: dict[int, float] = {}  # fp16: the GradScaler's loss scale before each optimizer step
        self.dumped: list[str] = []
        self._state: Any = None
        self._handle: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self._state = state
        if model is not None and self._handle is None:
            self._handle = model.register_forward_pre_hook(self._capture, with_kwargs=True)

    def _capture(self, module: Any, positional: Any, kwargs: dict[str, Any]) -> None:
        if not module.training or "input_ids" not in kwargs:
            return
        step = self._state.global_step + 1
        batch = {k: kwargs[k].detach().to("cpu", copy=True) for k in COLUMNS if kwargs.get(k) is not None}
        if not self.batches or self.batches[-1][0] != step:
            self.batches.append((step, []))
        self.batches[-1][1].append(batch)
        labels = batch.get("labels")
        if labels is not None:
            count = (
                int(labels.numel()) if labels.is_floating_point() or labels.dim() == 1 else int((labels != -100).sum())
            )
            self.supervised[step] = self.supervised.get(step, 0) + count

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        import torch

        step = state.global_step + 1
        self.rng[step] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            self.rng[step]["cuda"] = torch.cuda.get_rng_state()
        for old in [s for s in self.rng if s <= step - self.keep]:
            self.rng.pop(old, None)
            self.norms.pop(old, None)
            self.supervised.pop(old, None)
            self.scales.pop(old, None)

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        scaler = getattr(kwargs.get("optimizer"), "scaler", None)  # accelerate's optimizer wrapper holds it
        if scaler is not None and hasattr(scaler, "get_scale"):
            self.scales[state.global_step + 1] = float(scaler.get_scale())
        if not self.layer_norms or model is None:
            return
        import torch

        from analyzer.replay.step import layer_of

        names, squares = [], []
        for name, p in model.named_parameters():
            if p.grad is not None:
                names.append(layer_of(name))
                squares.append(p.grad.detach().float().pow(2).sum())
        if not squares:
            return
        values = torch.stack(squares).tolist()  # one transfer for the whole model
        sums: dict[str, float] = {}
        for layer, v in zip(names, values, strict=True):
            sums[layer] = sums.get(layer, 0.0) + v
        self.norms[state.global_step + 1] = {k: math.sqrt(v) if math.isfinite(v) else math.nan for k, v in sums.items()}

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        logs = logs or {}
        if "loss" not in logs or len(self.dumped) >= self.max_dumps:
            return
        values = [v for v in (logs.get("loss"), logs.get("grad_norm")) if isinstance(v, (int, float))]
        bad = any(not math.isfinite(float(v)) for v in values) or (self.zero_loss and logs.get("loss") == 0.0)
        if bad and state.is_world_process_zero:
            self.dumped.append(str(self.dump(Path(args.output_dir), state.global_step, logs)))

    def dump(self, output_dir: Path, step: int, logs: dict[str, Any]) -> Path:
        """Write the kept batches (safetensors), RNG states and signals for the anomaly at `step`."""
        from safetensors.torch import save_file

        folder = output_dir / FOLDER / f"step-{step}"
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for s, micro in self.batches:
            for i, batch in enumerate(micro):
                for column, tensor in batch.items():
                    tensors[f"step{s}.micro{i}.{column}"] = tensor.contiguous()
        for s, states in self.rng.items():
            for kind, tensor in states.items():
                tensors[f"rng.step{s}.{kind}"] = tensor
        save_file(tensors, str(folder / "batches.safetensors"))
        signals = {
            "anomaly_step": step,
            "logs": {k: (v if not isinstance(v, float) or math.isfinite(v) else str(v)) for k, v in logs.items()},
            "steps": [s for s, _ in self.batches],
            "supervised_tokens": self.supervised,
            "loss_scale": self.scales,
            "layer_grad_norms": {
                s: {k: (v if math.isfinite(v) else str(v)) for k, v in n.items()} for s, n in self.norms.items()
            },
        }
        (folder / "signals.json").write_text(json.dumps(signals, indent=1), encoding="utf-8")
        return folder


def recorded_batches(run_dir: Path) -> dict[int, list[dict[str, Any]]]:
    """Every micro-batch a FlightRecorderCallback wrote under the run, by optimizer step (read-only)."""
    from safetensors.torch import load_file

    found: dict[int, dict[int, dict[str, Any]]] = {}
    for file in sorted((run_dir / FOLDER).glob("step-*/batches.safetensors")):
        for key, tensor in load_file(str(file)).items():
            head, micro, column = key.split(".", 2)
            if head.startswith("step") and micro.startswith("micro"):
                found.setdefault(int(head[4:]), {}).setdefault(int(micro[5:]), {})[column] = tensor
    return {s: [m[i] for i in sorted(m)] for s, m in found.items()}
