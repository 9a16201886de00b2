"""Renderers: pure functions from a Report to text (JSON, markdown); the terminal view is rich.

Imported on first use (PEP 562): `analyzer.report.safe`, which the CLI needs before any analysis, must
not pull in pandas through the renderers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["render_json", "render_markdown", "to_dict"]

if TYPE_CHECKING:
    from analyzer.report.json import render_json, to_dict
    from analyzer.report.markdown import render_markdown


def __getattr__(name: str) -> Any:
    if name in ("render_json", "to_dict"):
        from analyzer.report import json

        return getattr(json, name)
    if name == "render_markdown":
        from analyzer.report.markdown import render_markdown

        return render_markdown
    raise AttributeError(f"module 'analyzer.report' has no attribute {name!r}")
