"""The post-mortem as a standalone HTML page: the markdown rendered by markdown-it (CommonMark + tables),
then cleaned by nh3 (the ammonia sanitiser) to an allow-list of tags and attributes.

The markdown already shows every input-derived string as literal text (analyzer.report.safe); the
sanitiser is the second wall: whatever markup would slip past it, no script, event handler, style,
frame, form or javascript: URL reaches the page, and links and images may only be relative or http(s)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import nh3
from markdown_it import MarkdownIt

_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "img",
    "a",
}
_ATTRIBUTES = {"img": {"src", "alt"}, "a": {"href"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}

_CSS = """body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
th{background:#f6f8fa}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}img{max-width:100%}
details{margin:.5rem 0}summary{cursor:pointer}"""


def render_html(markdown_text: str, title: str = "Training run post-mortem", images: Path | None = None) -> str:
    """A full HTML document; raw HTML in the markdown (`<details>`) passes through as GitHub lets it.

    With `images`, the folder the report's relative image paths start from, each plot that lies in it is
    embedded as a data URI after sanitising, so that the page is one file to attach (the sanitiser
    itself never allows data: URLs: only the analyzer's own PNGs are inlined)."""
    raw = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown_text)
    body = nh3.clean(
        raw, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https"}, link_rel="noopener noreferrer nofollow"
    )
    if images is not None:
        body = _IMG_SRC.sub(lambda m: m.group(1) + _inline(images, m.group(2)) + m.group(3), body)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head>\n<body>\n{body}</body></html>\n"
    )


_IMG_SRC = re.compile(r'(<img src=")([^"]+)(")')


def _inline(base: Path, src: str) -> str:
    """`src` as a data URI when it names a PNG inside `base`, else unchanged."""
    try:
        path = (base / html.unescape(src)).resolve()
        if path.suffix.lower() == ".png" and path.is_file() and path.is_relative_to(base.resolve()):
            return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    except (OSError, ValueError):
        pass
    return src
