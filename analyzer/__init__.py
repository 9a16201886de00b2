"""Post-mortem analyzer for machine-learning training runs."""

from analyzer.api import analyze
from analyzer.model import Finding, Report, Run

__version__ = "0.1.0"
__all__ = ["Finding", "Report", "Run", "__version__", "analyze"]
