"""The first module and operation that produced a non-finite value, in forward or backward."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class FirstNonFinite:
    """Where a NaN or inf first appeared, and whether that operation made it or only passed it on."""

    phase: str  # forward | backward
    op: str  # aten operation, e.g. aten.mm.default
    module: str  # innermost module running it, e.g. model.layers.1.mlp.down_proj
    index: int  # how many operations ran before it in this step
    inputs_finite: bool  # True: this operation created the non-finite value

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def first_nonfinite(stepper: Any, micro: list[dict[str, Any]], precision: str) -> FirstNonFinite | None:
    """Run forward and backward of the step's micro-batches under a dispatch mode that checks every op's output."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten
    from torch.utils.module_tracker import ModuleTracker

    names = {id(m): n or f"{type(m).__name__} (top level: the loss)" for n, m in stepper.model.named_modules()}
    stack: list[str] = []

    def push(module: Any, *_: Any) -> None:
        stack.append(names.get(id(module), type(module).__name__))

    def pop(*_: Any) -> None:
        if stack:
            stack.pop()

    def bad(values: Any) -> bool:
        flat, _ = tree_flatten(values)
        return any(
            isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all())
            for t in flat
        )

    # "found": the first op that made a NaN/inf from finite inputs; "passed": else the first one (not a mere
    # view or copy) that received one, when it came in with the batch or the weights.
    state: dict[str, Any] = {"phase": "forward", "count": 0, "found": None, "passed": None}

    class Watch(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            state["count"] += 1
            if state["found"] is None and bad(out):
                created = not bad((args, kwargs or {}))
                if created or (state["passed"] is None and func.overloadpacket.__name__ not in _PASS_THROUGH):
                    where = stack[-1] if stack and state["phase"] == "forward" else _tracked(tracker)
                    hit = FirstNonFinite(state["phase"], str(func), where, state["count"], created)
                    state["found" if created else "passed"] = hit
            return out

    handles = []
    for module in stepper.model.modules():
        handles.append(module.register_forward_pre_hook(push))
        handles.append(module.register_forward_hook(pop))
    tracker = ModuleTracker()
    stepper.optimizer.zero_grad(set_to_none=True)
    try:
        with tracker, Watch():
            for batch in micro:
                state["phase"] = "forward"
                stack.clear()
                with stepper.autocast(precision):
                    loss = stepper.model(**stepper.to_device(batch)).loss.float()
                if state["found"] is not None or state["passed"] is not None:
                    break
                state["phase"] = "backward"
                loss.backward()
                if state["found"] is not None:
                    break
    finally:
        for h in handles:
            h.remove()
        stepper.optimizer.zero_grad(set_to_none=True)
    found: FirstNonFinite | None = state["found"] or state["passed"]
    return found


_PASS_THROUGH = {
    "view",
    "_unsafe_view",
    "reshape",
    "squeeze",
    "unsqueeze",
    "expand",
    "t",
    "transpose",
    "permute",
    "slice",
    "select",
    "alias",
    "detach",
    "clone",
    "_to_copy",
    "copy_",
    "contiguous",
    "as_strided",
    "index",
    "cat",
    "split",
    "lift_fresh",
}


def _tracked(tracker: Any) -> str:
    """The innermost module ModuleTracker says backward is in (its names are `Class.path`)."""
    parents = [p for p in tracker.parents if p != "Global"]
    if not parents:
        return "(outside any module: the loss)"
    innermost = max(parents, key=lambda p: p.count("."))
    head, _, rest = innermost.partition(".")
    return rest or head
