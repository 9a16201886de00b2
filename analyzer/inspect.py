"""`analyze inspect`: what was read from each file and how, so that a wrong reading is seen in seconds.

Per file: its format and status; for console logs the record templates found (one example line each),
which field became which metric and split, the step axis and why, how many number-bearing lines were
left unread as prose (with examples); for every file the series read and the events with their lines.
No rule runs. The metrics frame can be exported as CSV or Parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from analyzer.ingest import Ingested, ingest
from analyzer.ingest.grammars import grammars
from analyzer.normalize import restart_points, run_spans


def read(path: Path, grammar_files: list[Path] | None = None, hints: bool | None = None) -> Ingested:
    """Everything the readers take from `path`, not merged and not judged."""
    return ingest(path, grammars(grammar_files, hints))


def describe(ingested: Ingested) -> dict[str, Any]:
    """A JSON-able account of the reading, one entry per file."""
    by_source: dict[str, list[tuple[str, Any]]] = {}
    for parser, frames in ingested.frames:
        names = set(frames.metrics["source"].unique()) if len(frames.metrics) else set()
        names |= set((frames.meta.get("console_log") or {}).keys())
        for name in names or {""}:
            by_source.setdefault(str(name), []).append((parser, frames))
    spans = run_spans(ingested, restart_points(ingested))  # runs one after another in one file (folds, repeats)
    files = []
    for info in ingested.sources:
        entry: dict[str, Any] = info.to_dict()
        series: dict[str, dict[str, Any]] = {}
        events: list[dict[str, Any]] = []
        for _, frames in by_source.get(info.path, []):
            metrics = frames.metrics[frames.metrics["source"] == info.path] if len(frames.metrics) else frames.metrics
            for (split, metric), group in metrics.groupby(["split", "metric"], observed=True, sort=False):
                series[f"{split}/{metric}"] = {
                    "points": len(group),
                    "first_step": int(group["step"].min()),
                    "last_step": int(group["step"].max()),
                }
            for row in frames.events.itertuples(index=False):
                events.append(
                    {
                        "kind": row.kind,
                        "severity": row.severity,
                        "message": row.message,
                        "step": None if pd.isna(row.step) else int(row.step),
                        "line": None if pd.isna(row.line) else int(row.line),
                    }
                )
            console = (frames.meta.get("console_log") or {}).get(info.path)
            if console:
                entry["console"] = console
        entry["series"] = series
        entry["events"] = events
        if spans is not None and spans["source"] == info.path:
            entry["runs"] = spans
        files.append(entry)
    return {"path": str(ingested.root), "files": files, "problems": [p.to_dict() for p in ingested.problems]}


def metrics_frame(ingested: Ingested) -> pd.DataFrame:
    """Every observation read, all files together (the Run contract's metrics columns)."""
    parts = [frames.metrics for _, frames in ingested.frames if len(frames.metrics)]
    if not parts:
        return pd.DataFrame(columns=["step", "wall_time", "split", "metric", "value", "source", "line", "rank"])
    frame = pd.concat(
        [p.astype({c: "object" for c in ("split", "metric", "source")}) for p in parts], ignore_index=True
    )
    return frame


def export(frame: pd.DataFrame, target: Path) -> None:
    """Write the metrics as CSV (any suffix but .parquet) or Parquet (needs pyarrow)."""
    if target.suffix.lower() == ".parquet":
        frame.to_parquet(target, index=False)
    else:
        frame.to_csv(target, index=False)
