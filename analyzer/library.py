"""Where the built-in rule library lives; a module of its own, light to import (triage's index digests the
rule files in the parent process, which must not wait for the checks to import)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def builtin_rules_dir() -> Path:
    """The rule library: rules/ at the top of a checkout, or its copy inside an installed wheel."""
    checkout = Path(__file__).resolve().parents[1] / "rules"
    if checkout.is_dir() and any(checkout.glob("*.yaml")):
        return checkout
    return Path(str(resources.files("analyzer.builtin_rules")))
