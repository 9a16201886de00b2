"""The log itself as evidence: the lines around a finding's onset, quoted with their `file:line`.

A finding's evidence cites where its onset was read (`stdout.log:22`). For text sources (console
captures, JSON lines, CSV) the report shows those lines and two on either side, as a user would
paste them into an issue. Only files the run's own readers read are opened, read-only, and only up
to the cited line; binary sources (TensorBoard events, W&B run files), whose positions are record
numbers, and files larger than MAX_BYTES are not quoted.
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path
from typing import Any

from analyzer.model import Finding, SourceInfo

AROUND = 2  # lines quoted before and after the cited one
MAX_BYTES = 64 * 1024 * 1024  # a larger file would be read up to the cited line for one quote
MAX_CHARS = 240  # a quoted line is cut to this many characters
RECORD_LINES = 16  # a pretty-printed record that opens at the cited line is quoted down to its end, this far
_CITE = re.compile(r"^(?P<file>.+):(?P<line>\d+)$")
_BINARY_FORMATS = ("tensorboard", "wandb", "mlflow", "training_args")


def quote_findings(run_path: str, sources: list[SourceInfo], findings: list[Finding]) -> None:
    """Set each finding's `excerpt` from the first `file:line` its evidence cites."""
    base = Path(run_path)
    base = base.parent if base.is_file() else base
    text_sources = {s.path for s in sources if s.status == "read" and not s.format.startswith(_BINARY_FORMATS)}
    cache: dict[tuple[str, int], list[tuple[int, str]] | None] = {}
    for finding in findings:
        cite = _first_cite(finding.evidence)
        if cite is None:
            continue
        name, line = cite
        if name not in text_sources:
            continue
        key = (name, line)
        if key not in cache:
            cache[key] = _lines(base, name, line)
        lines = cache[key]
        if lines:
            finding.excerpt = {"at": f"{name}:{line}", "line": line, "lines": [[n, t] for n, t in lines]}


def _first_cite(evidence: Any) -> tuple[str, int] | None:
    """The first `at: file:line` in the evidence, depth first in the order the check wrote it."""
    if isinstance(evidence, dict):
        at = evidence.get("at")
        if isinstance(at, str) and (m := _CITE.match(at)):
            return m["file"], int(m["line"])
        values = list(evidence.values())
    elif isinstance(evidence, list):
        values = evidence
    else:
        return None
    for value in values:
        found = _first_cite(value)
        if found is not None:
            return found
    return None


def _lines(base: Path, name: str, line: int) -> list[tuple[int, str]] | None:
    path = base / name  # a source the run's own readers read (quote_findings passes no other)
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        # Lines end at \n only, as the readers count them (a progress bar's \r redraws stay in the line).
        with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
            start = max(1, line - AROUND)
            picked = list(islice(f, start - 1, line + RECORD_LINES))
    except OSError:
        return None
    if not picked or "\x00" in "".join(picked):
        return None
    return [(start + i, _one_line(text)) for i, text in enumerate(_window(picked, line - start))]


def _window(picked: list[str], at: int) -> list[str]:
    """AROUND lines either side of the cited one; a cited line that opens a pretty-printed record (a
    `{` alone, as trainer_state.json writes each log entry) is shown down to the line that closes it."""
    if at >= len(picked) or picked[at].strip() not in ("{", "["):
        return picked[: at + AROUND + 1]
    depth = 0
    for i in range(at, len(picked)):
        depth += picked[i].count("{") + picked[i].count("[") - picked[i].count("}") - picked[i].count("]")
        if depth <= 0:
            return picked[: i + 1]
    return picked


def _one_line(text: str) -> str:
    """A physical line as shown: without its line break, its last progress-bar redraw (`\\r`), cut."""
    text = text.rstrip("\r\n").rsplit("\r", 1)[-1] if "\r" in text.rstrip("\r\n") else text.rstrip("\r\n")
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + " …"
