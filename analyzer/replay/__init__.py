"""Replay: rerun a flagged step from the checkpoint before it under ablations, and judge the candidate causes.

The only stage that imports torch (and transformers, safetensors, peft): install the `replay` extra.
Nothing in the run folder is written; `training_args.bin` is never unpickled.
"""

from __future__ import annotations

from analyzer.replay.errors import ReplayError

__all__ = ["ReplayError", "missing_dependencies"]


def missing_dependencies() -> list[str]:
    """The replay extra's packages that are not importable here."""
    import importlib.util

    return [name for name in ("torch", "transformers", "safetensors") if importlib.util.find_spec(name) is None]
