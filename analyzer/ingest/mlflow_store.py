"""MLflow runs: the file store (`mlruns/<experiment>/<run>/`) and the SQL store (`mlflow.db`, SQLite).

One source per run: the run folder (`mlruns/1/<run_id>`) or `<db>#<run_uuid>`. Each metric row cites
its own file and line (`mlruns/1/<run_id>/metrics/train/loss`, line = line in that file) or, in the
SQL store, the `metrics` table's rowid. The run's status becomes an event: FINISHED -> run_end,
FAILED -> exception, KILLED -> signal, RUNNING/SCHEDULED -> run_incomplete (the process ended without
closing the run, or is still going). meta["mlflow"] holds the run's facts, params (strings), tags and
settings (under derive_meta's names). One Run is one training run: when the folder or store holds
several, the newest (by start time, else by its first metric timestamp) is analyzed and the others
are listed as superseded (`newest_only`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analyzer import safe_yaml
from analyzer.errors import InputError, Problem
from analyzer.ingest.base import (
    FrameBuilder,
    Result,
    as_categories,
    first_wall_time,
    newest_run_only,
    read_head,
)
from analyzer.ingest.lightning_csv import series_names
from analyzer.ingest.settings import settings_from_params
from analyzer.model import Frames, empty_metrics, validate_metrics

name = "mlflow"

STATUS_NAMES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}  # mlflow RunStatus
# Run status -> (event kind, severity, what it means).
STATUS_EVENTS: dict[str, tuple[str, str, str]] = {
    "FINISHED": ("run_end", "info", "the run was ended normally"),
    "FAILED": (
        "exception",
        "error",
        "the run ended with an error (an exception left `mlflow.start_run()`, or the code set FAILED)",
    ),
    "KILLED": ("signal", "error", "the run was killed (KeyboardInterrupt, SIGTERM or a cancelled job)"),
    "RUNNING": (
        "run_incomplete",
        "warning",
        "the run was never ended: the process died without closing it "
        "(killed, crashed in native code) or is still running",
    ),
    "SCHEDULED": ("run_incomplete", "warning", "the run was scheduled but never started"),
}
# Hugging Face's MLflowCallback logs the end-of-training summary as metrics at the last step.
_HF_SUMMARY = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss")
_RUN_PARTS = {"metrics", "params", "tags", "inputs", "outputs"}
_EXPERIMENT_PARTS = {"tags", "models", "datasets", "traces"}
_MAX_DEPTH = 16  # nested metric keys (`a/b/c`) are nested folders
_TAG_CHARS = 2000


def sniff(path: Path, head: bytes) -> bool:
    """An MLflow SQLite store, or a file of a file-store run or experiment (never under `artifacts/`)."""
    if head.startswith(SQLITE_MAGIC):
        return is_tracking_db(path)
    return locate(path, head) is not None


@functools.lru_cache(maxsize=4096)
def _meta_kind(meta: str, mtime_ns: int, size: int) -> str | None:
    """run | experiment | None, from the first lines of a meta.yaml (cached per file version)."""
    head = read_head(Path(meta), 4096)
    if not re.search(rb"^experiment_id: ", head, re.M):
        return None
    if re.search(rb"^run_(?:id|uuid): ", head, re.M):
        return "run"
    return "experiment" if re.search(rb"^artifact_location: ", head, re.M) else None


def _kind_of(directory: Path) -> str | None:
    try:
        st = (directory / "meta.yaml").stat()
    except OSError:
        return None
    return _meta_kind(str(directory / "meta.yaml"), st.st_mtime_ns, st.st_size)


def locate(path: Path, head: bytes) -> tuple[Path, str] | None:
    """(run folder, role) for a file-store file: role meta | metric | param | tag | other; (experiment folder,
    "experiment") for experiment-level files; None for anything else, artifacts included."""
    directory = path.parent
    for _ in range(_MAX_DEPTH):
        kind = _kind_of(directory)
        rel = path.relative_to(directory).parts
        if kind == "run":
            return _in_run(directory, rel)
        if kind == "experiment":
            if rel == ("meta.yaml",) or (rel[0] in _EXPERIMENT_PARTS and "artifacts" not in rel):
                return directory, "experiment"
            return _in_run(directory / rel[0], rel[1:])  # a run whose meta.yaml is missing or broken
        if directory.parent == directory:
            break
        directory = directory.parent
    # No meta.yaml above it (a copied `metrics/` folder): a metric file by its content.
    if "metrics" in path.parent.parts and _is_metric_head(head):
        top = len(path.parts) - 1 - path.parts[::-1].index("metrics")
        return Path(*path.parts[:top]), "metric"
    return None


def _in_run(run_dir: Path, rel: tuple[str, ...]) -> tuple[Path, str] | None:
    """The role of a file at `rel` inside a run folder; None for artifacts and the user's own files."""
    if rel == ("meta.yaml",):
        return run_dir, "meta"
    if len(rel) > 1 and rel[0] in _RUN_PARTS:
        return run_dir, {"metrics": "metric", "params": "param", "tags": "tag"}.get(rel[0], "other")
    return None


def _is_metric_head(head: bytes) -> bool:
    lines = head.decode("ascii", errors="replace").splitlines()[:20]
    return bool(lines) and all(_metric_fields(line) is not None for line in lines[:-1] or lines)


def _metric_fields(line: str) -> tuple[int, float, int | None] | None:
    """(timestamp_ms, value, step) of a metric line: `ts value step` (or 2 or 5 fields); None if not one."""
    parts = line.split(" ")
    if len(parts) not in (2, 3, 5):
        return None
    try:
        return int(parts[0]), float(parts[1]), int(parts[2]) if len(parts) > 2 else None
    except ValueError:
        return None


def parse_group(files: list[tuple[Path, str]]) -> list[tuple[str, Result]]:
    """One result per run: every file-store run the files belong to and every run of each SQLite store."""
    results: list[tuple[str, Frames | InputError]] = []
    runs: dict[Path, list[tuple[Path, str, str]]] = {}
    roots: dict[Path, Path] = {}
    for path, source in files:
        head = read_head(path)
        if head.startswith(SQLITE_MAGIC):
            results.extend(read_store(path, source))
            continue
        place = locate(path, head)
        if place is None or place[1] == "experiment":
            continue  # experiment-level files hold no series
        runs.setdefault(place[0], []).append((path, source, place[1]))
        roots.setdefault(place[0], path.parents[len(PurePosixPath(source).parts) - 1])
    read: list[tuple[str, Frames | InputError]] = []
    for run_dir, members in runs.items():
        run_source = _label(run_dir, roots[run_dir], run_dir.name)
        try:
            read.append((run_source, _read_run(run_dir, run_source, roots[run_dir], members)))
        except InputError as exc:
            read.append((run_source, exc))
    return newest_only(results + read)


def newest_only(results: list[tuple[str, Frames | InputError]]) -> list[tuple[str, Result]]:
    """One Run is one training run: the newest MLflow run is analyzed, the others listed as superseded."""

    def note(newest: str) -> str:
        where = "export it to its own store" if "#" in newest else "point analyze at its run folder"
        return (
            f"another MLflow run in the same store; only the newest ({newest}) is analyzed: {where} to analyze this one"
        )

    return newest_run_only([[result] for result in results], _start_time, note)


def _start_time(frames: Frames) -> float:
    """When the run started: its recorded start time, else its first metric timestamp (a run whose
    meta.yaml is broken must not pass for the oldest), else +inf."""
    start = frames.meta["mlflow"].get("start_time")
    return start if isinstance(start, float) else first_wall_time(frames)


def _label(target: Path, root: Path, fallback: str) -> str:
    """`target` relative to the analysed folder; `fallback` when it lies outside it or is the folder itself."""
    rel = Path(os.path.relpath(target, root)).as_posix()
    return fallback if rel == "." or rel.startswith("..") else rel


def _read_run(run_dir: Path, run_source: str, root: Path, members: list[tuple[Path, str, str]]) -> Frames:
    """A file-store run from the files ingest found in it, plus its meta.yaml for the status."""
    problems: list[Problem] = []
    meta_source = _label(run_dir / "meta.yaml", root, f"{run_dir.name}/meta.yaml")
    info = _run_info(run_dir / "meta.yaml", meta_source, problems)
    params = _values(run_dir / "params", members, "param")
    tags = _values(run_dir / "tags", members, "tag")
    parts = [
        _read_metric(path, source, path.relative_to(run_dir / "metrics").as_posix(), problems)
        for path, source, role in members
        if role == "metric"
    ]
    metrics = name_series([p for p in parts if p is not None])
    if info is None and metrics.empty:
        raise InputError(run_source, "MLflow run folder with neither a readable meta.yaml nor metric values")
    info = info or {"run_id": run_dir.name}
    status_line = info.pop("_status_line", None)
    if not info.get("run_name") and tags.get("mlflow.runName"):
        info["run_name"] = tags["mlflow.runName"]
    return _frames(info, params, tags, metrics, run_source, "file", problems, (meta_source, status_line))


def _run_info(meta: Path, source: str, problems: list[Problem]) -> dict[str, Any] | None:
    """The run's meta.yaml: id, name, experiment, status name, start/end (epoch seconds), lifecycle stage."""
    if not meta.is_file():
        problems.append(Problem(source, "run folder has no meta.yaml: run status unknown", level="note"))
        return None
    try:
        text = meta.read_text(encoding="utf-8", errors="replace")
        doc = safe_yaml.load(text)
    except OSError as exc:
        problems.append(Problem(source, f"cannot read file: {exc.strerror or exc}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            Problem(
                source,
                f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
                f"line {mark.line + 1}" if mark is not None else "",
            )
        )
        return None
    if not isinstance(doc, dict):
        problems.append(Problem(source, "meta.yaml is not a mapping; run status unknown"))
        return None
    status = doc.get("status")
    return {
        "run_id": str(doc.get("run_id") or doc.get("run_uuid") or meta.parent.name),
        "run_name": str(doc.get("run_name") or doc.get("name") or ""),
        "experiment_id": str(doc.get("experiment_id", "")),
        "status": STATUS_NAMES.get(status, str(status)) if isinstance(status, int) else str(status or ""),
        "start_time": _seconds(doc.get("start_time")),
        "end_time": _seconds(doc.get("end_time")),
        "lifecycle_stage": str(doc.get("lifecycle_stage") or ""),
        "_status_line": next((i for i, line in enumerate(text.splitlines(), 1) if line.startswith("status:")), None),
    }


def _seconds(ms: Any) -> float | None:
    return ms / 1000 if isinstance(ms, (int, float)) and not isinstance(ms, bool) else None


def _values(folder: Path, members: list[tuple[Path, str, str]], role: str) -> dict[str, str]:
    """Params or tags: one file per key (a key with `/` is nested folders), the file holds the raw value."""
    values: dict[str, str] = {}
    for path, _, file_role in sorted(members):
        if file_role == role:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            values[path.relative_to(folder).as_posix()] = text if role == "param" else text[:_TAG_CHARS]
    return values


def _read_metric(path: Path, source: str, key: str, problems: list[Problem]) -> pd.DataFrame | None:
    """One metric file: `timestamp_ms value step` per line; a cut or corrupted line is reported and skipped."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        problems.append(Problem(source, f"cannot read file: {exc.strerror or exc}"))
        return None
    if not text.strip():
        problems.append(Problem(source, "metric file is empty"))
        return None
    lines = text.splitlines()
    if not text.endswith("\n"):  # MLflow writes whole lines: an unterminated one was cut while written
        problems.append(
            Problem(source, "last line is cut off (run killed while writing?); skipped", f"line {len(lines)}")
        )
        lines.pop()
    rows: list[tuple[int, float, int | None]] = []
    numbers: list[int] = []
    bad: list[int] = []
    for lineno, line in enumerate(lines, start=1):
        fields = _metric_fields(line)
        if fields is not None:
            rows.append(fields)
            numbers.append(lineno)
        elif line.strip():
            bad.append(lineno)
    if bad:
        problems.append(
            Problem(source, f"{len(bad)} line(s) are not `timestamp value step`; skipped", f"line {bad[0]}")
        )
    if not rows:
        return None
    ts, values, steps = zip(*rows, strict=True)
    if any(s is None for s in steps):
        problems.append(
            Problem(source, "lines without a step (MLflow before 1.0): record numbers used as steps", level="note")
        )
        steps = tuple(range(len(steps)))
    return metrics_frame(source, [key] * len(rows), steps, ts, values, numbers)


def metrics_frame(
    source: str,
    keys: Sequence[str],
    steps: Sequence[Any],
    ts_ms: Sequence[Any],
    values: Sequence[float] | np.ndarray,
    lines: Sequence[int],
) -> pd.DataFrame:
    """Observations of raw MLflow keys (held in `metric` until `name_series` names them)."""
    n = len(keys)
    return pd.DataFrame(
        {
            "step": np.asarray(steps, dtype=np.int64),
            "wall_time": np.asarray(ts_ms, dtype=np.float64) / 1000,
            "split": pd.Categorical(["train"] * n),
            "metric": pd.Categorical(list(keys)),
            "value": np.asarray(values, dtype=np.float64),
            "source": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([source])),
            "line": pd.array(np.asarray(lines, dtype=np.int64), dtype="Int64"),
            "rank": pd.array([None] * n, dtype="Int64"),
        }
    )


def name_series(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One run's metric frames in one, raw keys replaced by (split, canonical metric) as `series_names` and
    Hugging Face's end-of-training summary keys need."""
    if not parts:
        return empty_metrics()
    metrics = as_categories(pd.concat(parts, ignore_index=True))
    keys = [str(k) for k in metrics["metric"].cat.categories]
    names = series_names(keys)
    if "train_runtime" in keys:
        names.update({k: ("summary", k) for k in _HF_SUMMARY if k in keys})
    raw = metrics["metric"].astype(str)
    metrics["split"] = pd.Categorical(raw.map(lambda k: names[k][0]))
    metrics["metric"] = pd.Categorical(raw.map(lambda k: names[k][1]))
    return validate_metrics(metrics, name)


def _frames(
    info: dict[str, Any],
    params: dict[str, str],
    tags: dict[str, str],
    metrics: pd.DataFrame,
    run_source: str,
    store: str,
    problems: list[Problem],
    status_at: tuple[str, int | None],
) -> Frames:
    """The run's frames: its metrics, its status as an event, meta["mlflow"]."""
    builder = FrameBuilder(status_at[0], producer=name)
    status = info.get("status", "")
    if status in STATUS_EVENTS:
        kind, severity, meaning = STATUS_EVENTS[status]
        end = info.get("end_time")
        builder.event(
            kind,
            severity,
            f"MLflow run status {status}: {meaning}",
            int(metrics["step"].max()) if not metrics.empty else None,
            status_at[1],
            wall_time=end if isinstance(end, float) else math.nan,
        )
    elif status:
        problems.append(Problem(status_at[0], f"unknown MLflow run status {status!r}", level="note"))
    if info.get("lifecycle_stage") == "deleted":
        problems.append(
            Problem(run_source, "the run was deleted in MLflow (lifecycle_stage: deleted); read anyway", level="note")
        )
    frames = builder.frames(run_meta(info, params, tags, run_source, store))
    if not metrics.empty:
        frames.metrics = metrics
    frames.problems.extend(problems)
    return frames


def run_meta(
    info: dict[str, Any], params: dict[str, str], tags: dict[str, str], source: str, store: str
) -> dict[str, Any]:
    """meta["mlflow"]: the run's facts, params (strings), tags, settings under derive_meta's names, and
    the run again under `runs` so that every run of a store stays visible after the merge."""
    run: dict[str, Any] = {**info, "source": source, "store": store, "params": params, "tags": tags}
    settings = settings_from_params(params, "mlflow params.")
    if settings:
        run["settings"] = settings
    summary = {k: run[k] for k in ("source", "status", "run_name", "lifecycle_stage") if k in run}
    return {
        "framework": tags.get("mlflow.autologging") or "mlflow",
        "mlflow": {**run, "runs": {str(info.get("run_id") or source): summary}},
    }


# ---- SQL store (SQLite) -------------------------------------------------------------------------------

SQLITE_MAGIC = b"SQLite format 3\x00"
_INF = sys.float_info.max  # MLflow's SQL store writes ±inf as ±max float (sanitize_metric_value)


@contextlib.contextmanager
def _open_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection that writes nothing beside the user's file: `immutable=1` creates no -wal,
    -shm or -journal and takes no lock. A database with a pending -wal or -journal is copied to a
    temporary folder first, so that its last transactions are read."""
    pending = [
        p
        for p in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal"))
        if p.is_file() and p.stat().st_size > 0
    ]
    if not pending:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            yield conn
        finally:
            conn.close()
        return
    with tempfile.TemporaryDirectory(prefix="analyzer-mlflow-") as tmp:
        for original in (path, *pending):
            shutil.copyfile(original, Path(tmp) / original.name)
        conn = sqlite3.connect(Path(tmp) / path.name)
        try:
            yield conn
        finally:
            conn.close()


def is_tracking_db(path: Path) -> bool:
    """A SQLite file with MLflow's `runs` and `metrics` tables."""
    try:
        with _open_db(path) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except (sqlite3.Error, OSError):
        return False
    return {"runs", "metrics"} <= tables


def read_store(path: Path, source: str) -> list[tuple[str, Frames | InputError]]:
    """Every run of an MLflow SQLite store, oldest first, each as `<source>#<run_uuid>`."""
    try:
        with _open_db(path) as conn:
            runs = conn.execute(
                "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, "
                "experiment_id FROM runs ORDER BY start_time, run_uuid"
            ).fetchall()
            if not runs:
                return [(source, InputError(source, "the MLflow store holds no runs"))]
            columns = {row[1] for row in conn.execute("PRAGMA table_info(metrics)")}
            return [(f"{source}#{run[0]}", _read_db_run(conn, run, f"{source}#{run[0]}", columns)) for run in runs]
    except (sqlite3.Error, OSError) as exc:
        return [(source, InputError(source, f"cannot read the SQLite database: {exc}"))]


def _read_db_run(conn: sqlite3.Connection, run: tuple[Any, ...], source: str, columns: set[str]) -> Frames:
    """One run of the SQL store; NaN comes back from `is_nan`, ±inf from ±max float."""
    uuid, run_name, status, start, end, stage, experiment = run
    step = "step" if "step" in columns else "0"
    is_nan = "is_nan" if "is_nan" in columns else "0"
    # Column names from the two fixed choices above, never from the file; the run id is a bound parameter.
    rows = conn.execute(
        f"SELECT rowid, key, value, timestamp, {step}, {is_nan} FROM metrics WHERE run_uuid = ? ORDER BY rowid", (uuid,)
    ).fetchall()
    parts = []
    if rows:
        rowid, keys, value, ts, steps, nan_flag = zip(*rows, strict=True)
        values = np.asarray(value, dtype=np.float64)
        values[np.asarray(nan_flag, dtype=bool)] = math.nan
        values[np.abs(values) == _INF] = np.copysign(math.inf, values[np.abs(values) == _INF])
        parts.append(metrics_frame(source, keys, steps, ts, values, rowid))
    params = dict(conn.execute("SELECT key, value FROM params WHERE run_uuid = ?", (uuid,)).fetchall())
    tags = {
        k: (v or "")[:_TAG_CHARS]
        for k, v in conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (uuid,)).fetchall()
    }
    info = {
        "run_id": uuid,
        "run_name": run_name or tags.get("mlflow.runName", ""),
        "experiment_id": str(experiment),
        "status": str(status or ""),
        "start_time": _seconds(start),
        "end_time": _seconds(end),
        "lifecycle_stage": str(stage or ""),
    }
    return _frames(info, params, tags, name_series(parts), source, "sqlite", [], (source, None))
