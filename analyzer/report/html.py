"""The post-mortem as a standalone HTML page: the markdown rendered by markdown-it (CommonMark + tables)."""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

_CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
th{background:#f6f8fa}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}img{max-width:100%}
details{margin:.5rem 0}summary{cursor:pointer}"""


def render_html(markdown_text: str, title: str = "Training run post-mortem") -> str:
    """A full HTML document; raw HTML in the markdown (`<details>`) passes through as GitHub lets it."""
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown_text)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head>\n<body>\n{body}</body></html>\n")
