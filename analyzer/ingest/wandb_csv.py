"""CSV exported from a W&B chart ("Export CSV"): `"Step","<run> - train/loss","<run> - train/loss__MIN",...`.

The first column is the chart's x-axis (`Step`, `train/global_step`, `epoch`...): whole numbers are the
steps; any other x-axis numbers the rows instead (with a note). `__MIN`/`__MAX` columns (the extremes of a
sampled chart's buckets), `_step`-like internal keys and empty cells are dropped.

One run per source: a file with several runs (several `<run> - ` prefixes, or `Group: <name> - `) keeps
the run named first in the header and notes the others, because the analyzer diagnoses one run at a
time; export one run per file (or analyze each) to compare them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

from analyzer.errors import InputError, Problem
from analyzer.ingest.base import FrameBuilder, read_text, to_float
from analyzer.model import Frames
from analyzer.names import split_and_metric

name = "wandb_csv"

_COLUMN = re.compile(r"^(?:Group: )?(?P<run>.+) - (?P<metric>.+?)(?:__(?P<agg>MIN|MAX))?$")
_MAX_FIELD = 1 << 20


def sniff(path: Path, head: bytes) -> bool:
    """A first line of quoted cells (the x-axis name may be bare) with one `<run> - <metric>` cell."""
    first = head.split(b"\n", 1)[0].strip().decode("utf-8", errors="replace").removeprefix("\ufeff")
    if '","' not in first:
        return False
    try:
        cells = next(csv.reader([first]))
    except csv.Error:
        return False
    return len(cells) > 1 and any(_COLUMN.match(cell) for cell in cells[1:])


def _columns(header: list[str]) -> tuple[list[tuple[int, str, str]], list[str]]:
    """(column index, run, metric) of each value column, and the runs in header order."""
    columns: list[tuple[int, str, str]] = []
    runs: list[str] = []
    for i, cell in enumerate(header[1:], start=1):
        match = _COLUMN.match(cell.strip())
        if not match or match["agg"] or match["metric"].startswith("_") or match["metric"] == header[0]:
            continue
        if match["run"] not in runs:
            runs.append(match["run"])
        columns.append((i, match["run"], match["metric"]))
    return columns, runs


def _rows(text: str, source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and (line, cells) of every non-empty row."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise InputError(source, f"invalid CSV: {exc}", f"line {reader.line_num}") from None
    return header, rows


def _steps(xs: list[float | None]) -> list[int] | None:
    """The x values as steps when every one is a finite whole number, else None."""
    steps = []
    for x in xs:
        if x is None or not math.isfinite(x) or x != int(x) or abs(x) > 2**62:
            return None
        steps.append(int(x))
    return steps


def parse(path: Path, source: str) -> Frames:
    """The first run's series of an exported chart, at the x-axis steps."""
    csv.field_size_limit(_MAX_FIELD)
    header, rows = _rows(read_text(path, source), source)
    columns, runs = _columns(header)
    if not columns:
        raise InputError(source, "no `<run> - <metric>` value columns in the header", "line 1")
    if not rows:
        raise InputError(source, "the export holds a header but no rows", "line 2")
    problems: list[Problem] = []
    chosen = runs[0]
    if len(runs) > 1:
        problems.append(
            Problem(
                source,
                f"{len(runs)} runs in one export; read `{chosen}`, left out: " + ", ".join(f"`{r}`" for r in runs[1:]),
                "line 1",
                level="note",
            )
        )
    xs = [to_float(row[0]) if row else None for _, row in rows]
    steps = _steps(xs)
    if steps is None:
        steps = list(range(len(rows)))
        problems.append(
            Problem(
                source,
                f"x-axis `{header[0]}` is not a whole-number step; rows are numbered from 0 instead",
                "line 2",
                level="note",
            )
        )
    builder = FrameBuilder(source, producer=name)
    keep = [(i, split_and_metric(metric)) for i, run, metric in columns if run == chosen]
    bad: list[int] = []
    for (line, row), step in zip(rows, steps, strict=True):
        for i, (split, metric) in keep:
            cell = row[i].strip() if i < len(row) else ""
            if not cell:
                continue
            value = to_float(cell)
            if value is None:
                bad.append(line)
                continue
            builder.metric(step, split, metric, value, line)
    if bad:
        problems.append(Problem(source, f"{len(bad)} cell(s) that are not numbers skipped", f"line {bad[0]}"))
    if not len(builder):
        raise InputError(source, f"no values for run `{chosen}`", "line 2")
    meta: dict[str, Any] = {"wandb_csv": {source: {"run": chosen, "x_axis": header[0], "runs": runs}}}
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    return frames
