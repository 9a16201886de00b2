"""PyTorch Lightning CSVLogger `metrics.csv` (one sparse table of every logged key) and its `hparams.yaml`.

Naming of Lightning's `_step`/`_epoch` pairs (a key logged with `on_step=True, on_epoch=True`): the
per-step series takes the plain name (`train_loss_step` -> train/loss) and the epoch aggregate gets
`_epoch` (`train_loss_epoch` -> train/loss_epoch). An `_epoch` column without its `_step` partner is
the only series of that key and takes the plain name. LearningRateMonitor's `lr-<Optimizer>` becomes
learning_rate.
"""

from __future__ import annotations

import csv
import io
import math
import posixpath
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analyzer import safe_yaml
from analyzer.errors import InputError, Problem
from analyzer.ingest.base import FrameBuilder, read_head, read_text, to_float
from analyzer.ingest.settings import settings_from_params
from analyzer.model import Frames
from analyzer.names import canonical_metric, split_and_metric

name = "lightning_csv"

HPARAMS = "hparams.yaml"
_LR_MONITOR = re.compile(r"^lr-\w+(?:/pg1)?$")
# A `_step` suffix on these words is part of the name (`global_step`), not Lightning's marker.
_NOT_A_SUFFIX = {"global", "per", "each", "every"}


def sniff(path: Path, head: bytes) -> bool:
    """A CSV whose header has a `step` column and plain key names, and whose rows hold numbers or blanks;
    or the `hparams.yaml` beside such a file."""
    if path.name == HPARAMS:
        csv_path = path.with_name("metrics.csv")
        return csv_path.is_file() and _is_metrics_csv(read_head(csv_path))
    return _is_metrics_csv(head)


def _is_metrics_csv(head: bytes) -> bool:
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if not lines or '"' in lines[0]:
        return False  # W&B exports quote their header ("Step","run - train/loss")
    fields = lines[0].split(",")
    if "step" not in fields or len(fields) < 2 or len(set(fields)) != len(fields):
        return False
    if any(not f.strip() or " - " in f or not f.isprintable() for f in fields):
        return False
    complete = lines[1:] if text.endswith(("\n", "\r")) else lines[1:-1]  # the head may end mid-line
    rows = [line.split(",") for line in complete[:50] if line.strip()]
    return not rows or any(len(r) == len(fields) and all(_is_number(c) for c in r) for r in rows)


def _is_number(cell: str) -> bool:
    if not cell:
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return True


def series_names(keys: list[str]) -> dict[str, tuple[str, str]]:
    """Each CSV column other than `step` -> (split, canonical metric), under the module's naming rules."""
    present = set(keys)
    lr_key = next((k for k in sorted(keys) if _LR_MONITOR.match(k) and not k.endswith("/pg1")), None) or next(
        (k for k in sorted(keys) if _LR_MONITOR.match(k)), None
    )
    names: dict[str, tuple[str, str]] = {}
    for key in keys:
        if key == "step":
            continue
        if key == lr_key:
            names[key] = ("train", "learning_rate")
            continue
        base, suffix = key, ""
        if key.endswith("_step") and re.split(r"[_/]", key[:-5])[-1].lower() not in _NOT_A_SUFFIX | {""}:
            base = key[:-5]
        elif key.endswith("_epoch") and key[:-6]:
            base = key[:-6]
            suffix = "_epoch" if f"{base}_step" in present else ""
        # Lightning's `train_<name>` is the train split (names.py only knows `train/` and `train_loss`).
        split, metric = (
            ("train", canonical_metric(base[6:]))
            if base.lower().startswith("train_") and len(base) > 6
            else split_and_metric(base)
        )
        names[key] = (split, metric + suffix)
    return names


def _cells(line: str) -> list[str]:
    """The cells of one CSV line (the csv module only where a cell is quoted)."""
    return next(csv.reader([line])) if '"' in line else line.split(",")


# One column of the table: values, cells that hold a number (`nan`, `inf` included), cells not blank.
Column = tuple[np.ndarray, np.ndarray, np.ndarray]


def _floats(cells: np.ndarray) -> Column:
    """A column of text cells as numbers."""
    present = cells != ""
    values = np.full(len(cells), math.nan)
    try:
        values[present] = cells[present].astype(np.float64)
        return values, present, present
    except ValueError:  # a corrupted cell somewhere: find which, one by one
        ok = present.copy()
        for i in np.flatnonzero(present):
            number = to_float(str(cells[i]))
            if number is None:
                ok[i] = False
            else:
                values[i] = number
        return values, ok, present


def _fast_table(text: str, header: list[str]) -> tuple[list[Column], np.ndarray] | None:
    """Columns and line numbers through pandas' C reader, when every line is one plain row of the header's
    width (no quotes, no cut last line, no repeated header); None otherwise."""
    if '"' in text or not text.endswith("\n") or f"\n{text.partition(chr(10))[0]}\n" in text[1:]:
        return None
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    if np.count_nonzero(raw == 13) not in (0, len(ends)):  # pandas also ends a line at a lone \r
        return None
    commas = np.diff(np.cumsum(raw == 44)[ends], prepend=0)
    lengths = np.diff(ends, prepend=-1) - 1
    blank = lengths <= (raw[ends - 1] == 13)  # an empty line, or only its \r
    if not ((commas == len(header) - 1) | blank).all():
        return None
    frame = pd.read_csv(
        io.StringIO(text),
        header=None,
        skiprows=1,
        names=list(range(len(header))),
        keep_default_na=False,
        na_values=[""],
        skip_blank_lines=False,
        engine="c",
    )
    rows = ~blank[1:]
    columns: list[Column] = []
    for col in range(len(header)):
        series = frame[col][rows]
        if series.dtype.kind in "fiu":
            values = series.to_numpy(dtype=np.float64)
            present = ~np.isnan(values)
            columns.append((values, present, present))
        else:  # `nan` literals or corrupted cells: cell by cell
            columns.append(_floats(series.fillna("").astype(str).to_numpy(dtype=str)))
    return columns, np.flatnonzero(rows).astype(np.int64) + 2


def _slow_table(
    lines: list[str], header: list[str], cut: bool, source: str, problems: list[Problem]
) -> tuple[list[Column], np.ndarray]:
    """Columns and line numbers line by line: quoted cells, a cut last line, rows of the wrong width."""
    rows: list[list[str]] = []
    numbers: list[int] = []
    misshapen: list[int] = []
    width = len(header)
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip() or line == lines[0]:  # blank, or the header again (a file appended to)
            continue
        cells = _cells(line)
        if cut and lineno == len(lines):
            problems.append(
                Problem(
                    source,
                    "last line is cut off (run killed while writing?); its complete "
                    "cells were kept, the last one dropped",
                    f"line {lineno}",
                )
            )
            cells = cells[:-1] + [""] * (width - len(cells) + 1)
        if len(cells) != width:
            misshapen.append(lineno)
            continue
        rows.append(cells)
        numbers.append(lineno)
    if misshapen:
        problems.append(
            Problem(
                source,
                f"{len(misshapen)} row(s) do not have the header's {width} cells; skipped",
                f"line {misshapen[0]}",
            )
        )
    grid = np.array(rows, dtype=str).reshape(len(rows), width)
    return [_floats(grid[:, col]) for col in range(width)], np.asarray(numbers, dtype=np.int64)


def parse(path: Path, source: str) -> Frames:
    """Every non-blank cell at its row's `step`; `nan`/`inf` are kept; hparams.yaml into meta."""
    if path.name == HPARAMS:
        return Frames()  # read together with the metrics.csv beside it
    text = read_text(path, source)
    lines = text.replace("\r\n", "\n").split("\n")  # numbered as editors and pandas number them
    cut = lines[-1] != ""
    if not cut:
        lines.pop()
    if len(lines) == 1 and cut:
        raise InputError(source, "the file ends inside its header line (cut off)", "line 1")
    header = _cells(lines[0])
    if "step" not in header:
        raise InputError(source, "no `step` column in the header: not a Lightning CSVLogger file", "line 1")
    problems: list[Problem] = []
    columns, line_numbers = _fast_table(text, header) or _slow_table(lines, header, cut, source, problems)
    if not len(line_numbers):
        raise InputError(source, "no metric rows after the header", problems[0].where if problems else "line 1")
    steps, step_ok, _ = columns[header.index("step")]
    step_ok = step_ok & np.isfinite(steps) & (np.abs(steps) < 2**62)
    if not step_ok.all():
        bad = line_numbers[~step_ok]
        problems.append(Problem(source, f"{len(bad)} row(s) without a readable `step`; skipped", f"line {bad[0]}"))
    int_steps = np.where(step_ok, steps, 0).astype(np.int64)
    builder = FrameBuilder(source, producer=name)
    names = series_names(header)
    for key, (values, ok, filled) in zip(header, columns, strict=True):
        if key not in names:
            continue
        corrupted = filled & ~ok
        if corrupted.any():
            problems.append(
                Problem(
                    source,
                    f"column `{key}`: {int(corrupted.sum())} cell(s) are not numbers; skipped",
                    f"line {line_numbers[corrupted][0]}",
                )
            )
        keep = ok & step_ok
        if keep.any():
            split, metric = names[key]
            builder.extend(int_steps[keep], split, metric, values[keep], line_numbers[keep])
    if not len(builder):
        raise InputError(source, "no readable values in any row", problems[0].where if problems else "line 2")
    meta = _meta(path, source, header, int_steps[step_ok], problems)
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    return frames


def _meta(path: Path, source: str, header: list[str], steps: np.ndarray, problems: list[Problem]) -> dict[str, Any]:
    section: dict[str, Any] = {
        "columns": header,
        "rows": len(steps),
        "last_step": int(steps.max()) if len(steps) else None,
    }
    hparams_source = posixpath.join(posixpath.dirname(source), HPARAMS)
    hparams = load_hparams(path.with_name(HPARAMS), hparams_source, problems)
    if hparams is not None:
        section["hparams"] = hparams
        settings = settings_from_params(hparams, f"{HPARAMS}:")
        if settings:
            section["settings"] = settings
    return {"framework": "lightning", "lightning": section}


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that reads an unknown tag (`!!python/tuple`, `!!python/object/apply:...`) as the plain
    YAML under it: nothing is imported or called."""


def _plain_node(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return value if value != "" else tag_suffix.rpartition(":")[2]


_PlainLoader.add_multi_constructor("", _plain_node)


def load_hparams(path: Path, source: str, problems: list[Problem]) -> dict[str, Any] | None:
    """hparams.yaml as data (None when absent); Python object tags are read as plain values, with a note."""
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        problems.append(Problem(source, f"cannot read file: {exc.strerror or exc}"))
        return None
    try:
        doc = safe_yaml.load(text)  # bounded: an alias bomb or a loop is a YAMLError
    except yaml.constructor.ConstructorError as exc:
        where = f"line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        try:
            doc = safe_yaml.load(text, _PlainLoader)  # a SafeLoader: nothing is constructed from tags
        except yaml.YAMLError as exc2:
            _yaml_problem(source, exc2, problems)
            return None
        problems.append(
            Problem(
                source,
                f"Python object tags ({exc.problem}) read as plain values; nothing was executed",
                where,
                level="note",
            )
        )
    except yaml.YAMLError as exc:
        _yaml_problem(source, exc, problems)
        return None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        problems.append(Problem(source, "hparams.yaml is not a mapping of names to values; ignored"))
        return None
    return {str(k): v for k, v in doc.items()}


def _yaml_problem(source: str, exc: yaml.YAMLError, problems: list[Problem]) -> None:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    problems.append(Problem(source, f"invalid YAML: {getattr(exc, 'problem', None) or exc}", where))
