"""What every parser shares: the Parser protocol, a frame builder and safe file reading."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analyzer.errors import InputError
from analyzer.model import Frames, empty_events, validate_events, validate_metrics

SNIFF_BYTES = 8192


class Parser(Protocol):
    """One input format: a cheap content sniff and a parse into contract frames."""

    name: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when the file's first bytes look like this format (content, not name)."""
        ...

    def parse(self, path: Path, source: str) -> Frames:
        """Read the file into frames; raise InputError when nothing of it can be read."""
        ...


@dataclass(frozen=True)
class Superseded:
    """A group member read but not analyzed (another run of the same store), with the reason."""

    note: str
    quiet: bool = False  # a plain copy of something read (not worth a line on stderr): listed in sources only


Result = Frames | InputError | Superseded  # what a group parser says of one file


class GroupParser(Protocol):
    """A format whose files belong together (the event files of one TensorBoard run, a W&B run folder,
    an MLflow run): ingest collects every file its sniff accepts and hands them over in one call."""

    name: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when this file is one of the format's files (content first, path where the format needs it)."""
        ...

    def parse_group(self, files: list[tuple[Path, str]]) -> Sequence[tuple[str, Result]]:
        """Read (path, source) pairs, grouped as the format needs; one (source, result) per input read.

        A file that cannot be read yields its InputError and never stops the others. A file the format
        claims but does not turn into series (a sidecar merged into another source) may be left out.
        """
        ...


def first_wall_time(frames: Frames) -> float:
    """The earliest wall time of a frame's metrics (seconds since the epoch), +inf when none is known."""
    if frames.metrics.empty:
        return math.inf
    first = float(frames.metrics["wall_time"].min())
    return first if math.isfinite(first) else math.inf


def newest_run_only(
    groups: Sequence[Sequence[tuple[str, Result]]], started: Callable[[Frames], float], note: Callable[[str], str]
) -> list[tuple[str, Result]]:
    """One Run is one training run: of several runs read from one folder or store (each group holds one
    run's results: its log and sidecars), the one that started last is analyzed and the read results of
    the others become Superseded with `note(newest_source)`. A run whose start is unknown (+inf for
    every part) counts as the oldest."""

    def start(group: Sequence[tuple[str, Result]]) -> float:
        times = [t for t in (started(r) for _, r in group if isinstance(r, Frames)) if math.isfinite(t)]
        return min(times) if times else -math.inf

    runs = [g for g in groups if any(isinstance(r, Frames) for _, r in g)]
    if len(runs) < 2:
        return [item for group in groups for item in group]
    newest = max(runs, key=start)
    label = next(source for source, r in newest if isinstance(r, Frames))
    return [
        (source, Superseded(note(label)) if group is not newest and isinstance(result, Frames) else result)
        for group in groups
        for source, result in group
    ]


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of a file (empty when unreadable: the parse step reports why)."""
    try:
        with path.open("rb") as fh:
            return fh.read(size).removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM (Windows editors)
    except OSError:
        return b""


def read_text(path: Path, source: str) -> str:
    """A whole file as text; invalid UTF-8 is replaced, unreadable files raise InputError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    if not data.strip():
        raise InputError(source, "file is empty")
    return data.decode("utf-8-sig", errors="replace")


MAX_JSON_DEPTH = 100  # nesting levels: what reads a value later (the JSON report) recurses once per level


def load_json(text: str, source: str) -> Any:
    """json.loads that accepts NaN/Infinity tokens and reports where a broken file breaks; a document
    nested more than MAX_JSON_DEPTH levels deep is refused (InputError)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        what = "JSON ends early (truncated file?)" if exc.pos >= len(text.rstrip()) else "invalid JSON"
        raise InputError(source, f"{what}: {exc.msg}", f"line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError(source, "JSON nested too deeply to be a training log") from None
    if not json_depth_ok(doc):
        raise InputError(source, f"JSON nested more than {MAX_JSON_DEPTH} levels deep: too deep to be a training log")
    return doc


def json_depth_ok(doc: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when no list or object of `doc` lies more than `limit` levels deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return False
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return True


# str(timedelta): `0:00:24`, `12:03:04.5`, `9 days, 21:39:23`.
TIMEDELTA = r"(?:(\d+) days?, )?(\d+):(\d\d?):(\d\d?(?:\.\d+)?)"
_TIMEDELTA = re.compile(rf"^\s*{TIMEDELTA}\s*$")


def parse_duration(text: str) -> float:
    """str(timedelta) ('9 days, 21:39:23', '0:00:24') to seconds; NaN when it is not one."""
    m = _TIMEDELTA.match(text) if isinstance(text, str) else None
    return math.nan if m is None else timedelta_seconds(m.groups())


def timedelta_seconds(groups: Sequence[str | None]) -> float:
    """Seconds of the (days, hours, minutes, seconds) groups of a TIMEDELTA match."""
    days, hours, minutes, seconds = groups
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def to_float(value: Any) -> float | None:
    """A logged value as float: numbers, numeric strings ('nan', '0.9212'), bools; else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return None
    return None


def is_finite(value: float) -> bool:
    """math.isfinite that tolerates None."""
    return value is not None and math.isfinite(value)


def _constant(value: str, n: int) -> pd.Categorical:
    """n copies of one string, stored once."""
    codes = np.zeros(n, dtype=np.int8)
    return pd.Categorical.from_codes(codes, dtype=categories_of((value,), infer=True))


@functools.lru_cache(maxsize=1024)
def categories_of(names: tuple[str, ...], infer: bool = False) -> pd.CategoricalDtype:
    """The categorical dtype of these (sorted, distinct) names, built once: logs repeat a few name sets,
    and building one validates its categories (a tenth of a millisecond each time). `infer`: pandas'
    own string dtype for the categories (the source column's), else object (split, metric)."""
    return pd.CategoricalDtype(pd.Index(list(names), dtype=None if infer else "object"))


STRING_COLUMNS = ("split", "metric", "source")


def as_categories(metrics: pd.DataFrame) -> pd.DataFrame:
    """Categorical string columns again after a concat of frames with different categories."""
    for col in STRING_COLUMNS:
        if str(metrics[col].dtype) != "category":
            metrics[col] = metrics[col].astype("category")
    return metrics


def _int_and_mask(values: tuple[Any, ...] | list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """int64 data and a missing-value mask from Python ints and Nones."""
    objects = np.asarray(values, dtype=object)
    mask = np.asarray(objects == None, dtype=bool)  # noqa: E711 (elementwise comparison)
    data = np.where(mask, 0, objects).astype(np.int64) if len(objects) else np.empty(0, dtype=np.int64)
    return data, mask.astype(bool)


@dataclass
class FrameBuilder:
    """Collects observations row by row and hands over validated contract frames."""

    source: str
    producer: str

    def __post_init__(self) -> None:
        # One tuple per observation: (step, wall_time, split, metric, value, line, rank).
        self._m: list[tuple[Any, ...]] = []
        # Bulk observations, one entry per `extend` call: (split, metric, steps, walls, values, lines).
        self._bulk: list[tuple[str, str, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]] = []
        self._e: dict[str, list[Any]] = {k: [] for k in ("step", "wall_time", "kind", "severity", "message", "line")}
        # Rows of `_m` printed as a zero to a fixed precision, and that precision (0.001 for `0.000`).
        self._rounded: dict[int, float] = {}

    def metric(
        self,
        step: int,
        split: str,
        metric: str,
        value: float,
        line: int | None,
        wall_time: float = math.nan,
        rank: int | None = None,
        rounded: float = 0.0,
    ) -> None:
        """Add one observation. `rounded`: the value was printed as zero to a fixed precision, this being the
        unit of its last digit (`0.000`: 0.001). A learning rate printed so is kept only where its series
        shows a value that is not zero (the format shows the run's rates, so its zero is one); else it says
        only that the rate was small, and is dropped (_kept). A loss printed so is a zero (a loss of `0.0000`
        is the failure itself), except where its series prints values that are not zero within ten such
        units (`0.002`, `0.004`): there it is below the printed precision, and kept at one unit of it."""
        if rounded and metric in ("learning_rate", "loss"):
            self._rounded[len(self._m)] = rounded
        self._m.append((step, wall_time, split, metric, value, line, rank))

    def extend(
        self,
        steps: np.ndarray,
        split: str,
        metric: str,
        values: np.ndarray,
        lines: np.ndarray,
        wall_times: np.ndarray | None = None,
    ) -> None:
        """Add many observations of one series at once (wall_time NaN unless `wall_times` is given)."""
        walls = None if wall_times is None else np.asarray(wall_times, dtype="float64")
        self._bulk.append(
            (
                split,
                metric,
                np.asarray(steps, dtype="int64"),
                walls,
                np.asarray(values, dtype="float64"),
                np.asarray(lines, dtype="int64"),
            )
        )

    def event(
        self, kind: str, severity: str, message: str, step: int | None, line: int | None, wall_time: float = math.nan
    ) -> None:
        """Add one event."""
        e = self._e
        e["step"].append(step)
        e["wall_time"].append(wall_time)
        e["kind"].append(kind)
        e["severity"].append(severity)
        e["message"].append(message)
        e["line"].append(line)

    def events_added(self) -> int:
        """How many events were added so far (the next one's index, for `drop_events`)."""
        return len(self._e["kind"])

    def drop_events(self, indices: set[int]) -> None:
        """Remove the events added at these indices."""
        for key, column in self._e.items():
            self._e[key] = [v for i, v in enumerate(column) if i not in indices]

    def place_events(self, place: Callable[[int], int | None], every: bool = False) -> None:
        """Give the events added before any step was known (step None, line known) the step `place(line)`; with
        `every`, each event with a line that `place` can place (the step a reader had then was no record's)."""
        e = self._e
        for i, (step, line) in enumerate(zip(e["step"], e["line"], strict=True)):
            if line is not None and (step is None or every):
                placed = place(int(line))
                if placed is not None or step is None:
                    e["step"][i] = placed

    def restep(self, place: Callable[[int, int], int | None]) -> None:
        """Give each row-by-row observation and event with a line and a step the step `place(line, step)`,
        where that is not None."""
        for i, m in enumerate(self._m):
            if m[0] is not None and m[5] is not None and (step := place(int(m[5]), int(m[0]))) is not None:
                self._m[i] = (step, *m[1:])
        e = self._e
        for i, (old, line) in enumerate(zip(e["step"], e["line"], strict=True)):
            if old is not None and line is not None and (step := place(int(line), int(old))) is not None:
                e["step"][i] = step

    def __len__(self) -> int:
        return len(self._m) + sum(len(b[2]) for b in self._bulk)

    def rows_added(self) -> int:
        """How many row-by-row observations were added so far (a mark for `shift`)."""
        return len(self._m)

    def shift(self, since: int, offset: int) -> None:
        """Move the row-by-row observations added from mark `since` on by `offset` steps (records read
        before the header that says where they were)."""
        self._m[since:] = [(m[0] + offset, *m[1:]) for m in self._m[since:]]

    def has(self, split: str, metric: str) -> bool:
        """Whether any observation of this series was added."""
        return any(b[0] == split and b[1] == metric for b in self._bulk) or any(
            m[2] == split and m[3] == metric for m in self._m
        )

    def steps_of(self, split: str, metric: str) -> set[int]:
        """The steps of the observations of this series added so far."""
        steps = {int(x) for b in self._bulk if b[0] == split and b[1] == metric for x in b[2].tolist()}
        return steps | {int(m[0]) for m in self._m if m[2] == split and m[3] == metric and m[0] is not None}

    def metrics_of(self, split: str) -> set[str]:
        """The metrics of this split observed so far."""
        return {b[1] for b in self._bulk if b[0] == split} | {m[3] for m in self._m if m[2] == split}

    def last_step(self, split: str, metric: str) -> int | None:
        """The highest step of the observations of this series added so far, if any."""
        steps = [int(b[2].max()) for b in self._bulk if b[0] == split and b[1] == metric and len(b[2])]
        steps += [int(m[0]) for m in self._m if m[2] == split and m[3] == metric]
        return max(steps) if steps else None

    def _kept(self) -> list[tuple[Any, ...]]:
        """The row-by-row observations, less the rounded zeros that say only "below the printed precision":
        a learning rate's in a series that shows no other value, and a learning rate's in a series that shows
        values that are not zero within ten units of that precision (it decayed to the last digit). A loss's
        rounded zero in such a series is kept at one unit of the precision."""
        if not self._rounded:
            return self._m
        rounded = self._rounded
        shown = {(m[2], m[3]) for i, m in enumerate(self._m) if i not in rounded and m[4] != 0}
        shown |= {(b[0], b[1]) for b in self._bulk if bool((b[4] != 0).any())}
        smallest: dict[tuple[str, str], float] = {}  # each series' smallest printed value that is not zero
        for i, m in enumerate(self._m):
            if i not in rounded and m[4] != 0 and math.isfinite(m[4]):
                key = (m[2], m[3])
                smallest[key] = min(smallest.get(key, math.inf), abs(m[4]))

        def kept(i: int, m: tuple[Any, ...]) -> tuple[Any, ...] | None:
            if i not in rounded:
                return m
            near = smallest.get((m[2], m[3]), math.inf) <= 10 * rounded[i]  # the series came down to that precision
            if m[3] == "learning_rate":  # `lr: 0.000001` then `lr: 0.000000`: a decay below the printed digits
                return m if (m[2], m[3]) in shown and not near else None
            # A loss that came down to its last printed digit (`0.00001`, then `0.00000`) is still there, under
            # half a unit of that digit: kept at one unit of it (a bound, not a reading), so that its series goes on
            # (the loss fell to the precision and stayed) without reading as a loss of exactly 0.
            return (*m[:4], rounded[i], *m[5:]) if near else m

        return [k for i, m in enumerate(self._m) if (k := kept(i, m)) is not None]

    def _metrics(self) -> pd.DataFrame:
        """The row-by-row and the bulk observations as one frame, each column built once."""
        kept = self._kept()
        cols: list[tuple[Any, ...]] = list(zip(*kept, strict=True)) if kept else [()] * 7
        step, wall_time, split, metric, value, line, rank = cols
        bulk = self._bulk
        sizes = np.asarray([len(b[2]) for b in bulk], dtype="int64")
        n = len(step) + int(sizes.sum())

        def coded(rows: tuple[Any, ...], names: list[str]) -> pd.Categorical:
            ordered = sorted(set(rows) | set(names))
            at = {name: i for i, name in enumerate(ordered)}  # a dict lookup per row: ~15x pd.Categorical
            codes = [
                np.fromiter((at[r] for r in rows), dtype=np.int32, count=len(rows)),
                np.repeat(np.asarray([at[n] for n in names], dtype=np.int32), sizes),
            ]
            return pd.Categorical.from_codes(np.concatenate(codes), dtype=categories_of(tuple(ordered)))

        line_data, line_mask = _int_and_mask(line)
        rank_data, rank_mask = _int_and_mask(rank)
        bulk_n = n - len(step)
        return pd.DataFrame(
            {
                "step": np.concatenate([np.asarray(step, dtype="int64"), *(b[2] for b in bulk)]),
                "wall_time": np.concatenate(
                    [
                        np.asarray(wall_time, dtype="float64"),
                        *(np.full(len(b[2]), math.nan) if b[3] is None else b[3] for b in bulk),
                    ]
                ),
                "split": coded(split, [b[0] for b in bulk]),
                "metric": coded(metric, [b[1] for b in bulk]),
                "value": np.concatenate([np.asarray(value, dtype="float64"), *(b[4] for b in bulk)]),
                "source": _constant(self.source, n),
                "line": pd.arrays.IntegerArray(
                    np.concatenate([line_data, *(b[5] for b in bulk)]),
                    np.concatenate([line_mask, np.zeros(bulk_n, dtype=bool)]),
                ),
                "rank": pd.arrays.IntegerArray(
                    np.concatenate([rank_data, np.zeros(bulk_n, dtype="int64")]),
                    np.concatenate([rank_mask, np.ones(bulk_n, dtype=bool)]),
                ),
            },
            copy=False,  # every column is a fresh array: no copy of millions of rows
        )

    def frames(self, meta: dict[str, Any] | None = None) -> Frames:
        """Validated frames of everything added so far."""
        metrics = self._metrics()
        e = self._e
        if not e["kind"]:
            return Frames(metrics=validate_metrics(metrics, self.producer), events=empty_events(), meta=meta or {})
        events = pd.DataFrame(
            {
                "step": pd.array(e["step"], dtype="Int64"),
                "wall_time": np.asarray(e["wall_time"], dtype="float64"),
                "kind": pd.Series(e["kind"], dtype="object"),
                "severity": pd.Series(e["severity"], dtype="object"),
                "message": pd.Series(e["message"], dtype="object"),
                "source": pd.Series([self.source] * len(e["kind"]), dtype="object"),
                "line": pd.array(e["line"], dtype="Int64"),
            }
        )
        return Frames(
            metrics=validate_metrics(metrics, self.producer),
            events=validate_events(events, self.producer),
            meta=meta or {},
        )
