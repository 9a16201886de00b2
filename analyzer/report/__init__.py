"""Renderers: pure functions from a Report to text (JSON, markdown); the terminal view is rich."""

from analyzer.report.json import render_json, to_dict
from analyzer.report.markdown import render_markdown

__all__ = ["render_json", "render_markdown", "to_dict"]
