"""Post-mortem analyzer for machine-learning training runs.

The names below are imported on first use (PEP 562), so that `import analyzer` (and the CLI's
`--help`) does not pay for pandas and the readers until an analysis runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Finding", "Report", "Run", "__version__", "analyze"]

if TYPE_CHECKING:
    from analyzer.api import analyze
    from analyzer.model import Finding, Report, Run


def __getattr__(name: str) -> Any:
    if name == "analyze":
        from analyzer.api import analyze

        return analyze
    if name in ("Finding", "Report", "Run"):
        from analyzer import model

        return getattr(model, name)
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
