"""Text from an input, made safe for the place it is shown.

Everything a run folder holds is written by someone else: a log line, a metric name, a config value,
an exception message, a W&B tag or a file name may carry markdown, HTML or terminal escapes meant to
act on whoever opens the report. The renderers pass every such string through one of these:

- `plain`: no control characters (ANSI escapes, carriage returns, C1 codes) and no bidirectional
  overrides, which could rewrite or hide text in a terminal or an editor;
- `md`: plain text for markdown prose and table cells: every character CommonMark or GitHub gives a
  meaning to is backslash-escaped (links, images, raw HTML, emphasis, table pipes, code), and the
  GitHub autolink triggers (`://`, `www.`, `@`) are broken, so nothing renders as markup or a link;
- `code`: a code span around the text, fenced with more backticks than it contains.

The renderers mark their own markup with `Md`, so that a table cell knows what is trusted.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings/overrides/isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
# `(` only matters after `]` and `_` only at a word's edge (GFM ignores intraword underscores); `#` and `@`
# are GitHub's issue and user references, `$` its math.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>!|~#@$]|&(?=#?\w+;)|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)")
_LINE_START = re.compile(r"^(\s*)(?:([-+=])(?=[-=\s]|$)|(\d+)\.(?=\s|$))")


class Md(str):
    """Markdown written by the renderer itself: passed through as is."""


def plain(text: object) -> str:
    """The text without terminal escapes or control characters (tabs kept, newlines kept)."""
    return _CONTROL.sub("", _ANSI.sub("", str(text)))


def md(text: object) -> Md:
    """Literal text for markdown prose or a table cell, on one line."""
    flat = " ".join(plain(text).splitlines())
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    escaped = _AUTOLINK.sub("\\\\", escaped).replace(":\\//", "\\://")
    # A leading list or heading marker (`#` and `>` are escaped above): "- x", "+ x", "1. x", "===".
    return Md(
        _LINE_START.sub(
            lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\."), escaped, count=1
        )
    )


def code(text: object) -> Md:
    """A code span showing the text literally (one line; pipes still need escaping inside a table)."""
    flat = " ".join(plain(text).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return Md(f"{fence}{pad}{flat}{pad}{fence}")
