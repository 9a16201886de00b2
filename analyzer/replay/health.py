"""Model health at the checkpoint: non-finite weights, weights never loaded, and a greedy generation probe."""

from __future__ import annotations

from typing import Any

from analyzer.replay.checkpoint import Loaded


def model_health(loaded: Loaded, prompt: list[int] | None, device: str) -> dict[str, Any]:
    """What is wrong with the weights before any step is replayed."""
    import torch

    model = loaded.model
    nonfinite = []
    for name, p in model.named_parameters():
        bad = int((~torch.isfinite(p.detach())).sum().item())
        if bad:
            nonfinite.append({"parameter": name, "nonfinite": bad, "of": p.numel()})
    never_loaded = [
        {"parameter": k, "std": _std(model, k)} for k in loaded.missing_keys if not k.endswith(("rotary_emb.inv_freq",))
    ]
    health: dict[str, Any] = {
        "architecture": loaded.architecture,
        "parameters": sum(p.numel() for p in model.parameters()),
        "nonfinite_parameters": nonfinite,
        "never_loaded": never_loaded,
        "unexpected_keys": loaded.unexpected_keys[:20],
    }
    if prompt and hasattr(model, "generate") and "CausalLM" in _class_name(model):
        health["generation"] = generation_probe(model, prompt, device)
    return health


def _class_name(model: Any) -> str:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return type(base).__name__


def _std(model: Any, key: str) -> float | None:
    """The parameter's spread now: a never-loaded weight shows the init's (e.g. initializer_range 0.02)."""
    for name, p in model.named_parameters():
        if name == key or name.endswith("." + key) or name.replace(".base_layer", "").endswith(key):
            return float(p.detach().float().std().item()) if p.numel() > 1 else None
    return None


def generation_probe(model: Any, prompt: list[int], device: str, new_tokens: int = 16) -> dict[str, Any]:
    """Greedy continuation of the batch's first row prefix: nothing at all, or one token repeated, is collapse."""
    import torch

    was_training = model.training
    model.eval()
    ids = torch.tensor([prompt], device=device)
    try:
        with torch.no_grad():
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=getattr(model.config, "pad_token_id", None) or 0,
            )
    finally:
        model.train(was_training)
    new = [int(t) for t in out[0, len(prompt) :].tolist()]
    eos = getattr(model.config, "eos_token_id", None)
    eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    before_eos = []
    for t in new:
        if t in eos_ids:
            break
        before_eos.append(t)
    distinct = len(set(before_eos))
    return {
        "prompt_tokens": len(prompt),
        "generated": new,
        "tokens_before_eos": len(before_eos),
        "distinct_tokens": distinct,
        "collapsed": len(before_eos) == 0 or (len(before_eos) >= 4 and distinct == 1),
    }
