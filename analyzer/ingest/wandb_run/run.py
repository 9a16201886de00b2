"""A W&B run folder: which files belong to it, its `.wandb` log read whole, the log with its side files."""

from __future__ import annotations

import re
from pathlib import Path

from analyzer.errors import InputError
from analyzer.ingest import console
from analyzer.ingest.base import FrameBuilder, Result, Superseded, first_wall_time, newest_run_only
from analyzer.ingest.settings import deep_merge
from analyzer.ingest.wandb_run.frames import add_console, add_exit, add_history, add_stats, add_summary, name
from analyzer.ingest.wandb_run.log import _HEADER, MAGIC, read_records
from analyzer.ingest.wandb_run.meta import _log_meta
from analyzer.ingest.wandb_run.records import decode
from analyzer.ingest.wandb_run.side_files import _side_meta, _summary_frames, _summary_json
from analyzer.model import Frames

_RUN_DIR = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-[A-Za-z0-9]+$")
_SIDECARS = {
    "output.log",
    "wandb-summary.json",
    "config.yaml",
    "wandb-metadata.json",
    "requirements.txt",
    "conda-environment.yaml",
    "diff.patch",
    "wandb-job.json",
}


def run_folder(path: Path) -> Path | None:
    """The `run-*` / `offline-run-*` folder a file belongs to (its own folder, or files/ and logs/ in it)."""
    if _RUN_DIR.match(path.parent.name):
        return path.parent
    if path.parent.name in ("files", "logs") and _RUN_DIR.match(path.parent.parent.name):
        return path.parent.parent
    return None


def sniff(path: Path, head: bytes) -> bool:
    """The `:W&B` log (or an empty `.wandb`), the files W&B writes into a run folder, a wandb-summary.json."""
    if head.startswith(MAGIC) or path.suffix == ".wandb":
        return True
    folder = run_folder(path)
    if folder is not None and folder != path.parent:
        return path.parent.name == "logs" or path.name in _SIDECARS
    if path.parent.name == "wandb" and path.name.startswith("debug") and path.suffix == ".log":
        return True  # W&B's own logs (links to the newest run's logs/)
    return path.name == "wandb-summary.json" and head.lstrip().startswith(b"{")


def parse_log(path: Path, source: str) -> Frames:
    """One `.wandb` file into frames (the module docstring says what goes where)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(source, f"cannot read file: {exc.strerror or exc}") from None
    records, problems = read_records(data, source)
    if not records:
        where = problems[0].where if problems else f"byte {_HEADER.size}"
        raise InputError(
            source,
            "no readable record after the header (the run died, or was still running, "
            "before its first 32 KiB block was written)",
            where,
        )
    log = decode(records, source, problems)
    builder = FrameBuilder(source, producer=name)
    axis = add_history(builder, log.rows, log.step_defs)
    add_summary(builder, log.summary, log.summary_lines, axis)
    add_stats(builder, log.stats, axis)
    console_frames = add_console(builder, log, axis, source)
    if log.preempting:
        builder.event(
            "signal", "warning", "W&B recorded that the run was being preempted", axis.last_step, log.preempting
        )
    add_exit(builder, log, axis)
    meta = _log_meta(log, axis, source)
    if console_frames is not None:
        deep_merge(meta, console_frames.meta)
        problems.extend(console_frames.problems)
    frames = builder.frames(meta)
    frames.problems.extend(problems)
    return frames


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _parse_run(members: list[tuple[Path, str]]) -> list[tuple[str, Result]]:
    """One run folder: its log(s) with the sidecars' meta merged into the first, or the sidecars alone."""
    side = {p.name: (p, s) for p, s in members if p.suffix != ".wandb" and p.name in _SIDECARS}
    results: list[tuple[str, Result]] = []
    meta = _side_meta(side, results)
    carriers: list[tuple[str, Frames]] = []  # what was read, in order; the first one takes the sidecars' meta
    for path, source in (m for m in members if m[0].suffix == ".wandb"):
        try:
            carriers.append((source, parse_log(path, source)))
        except InputError as exc:
            results.append((source, exc))
    main = carriers[0][1] if carriers else None
    if "wandb-summary.json" in side:
        path, source = side["wandb-summary.json"]
        try:
            summary = _summary_json(path, source)
            if main is None:
                carriers.append((source, _summary_frames(summary, source)))
            elif not main.meta["wandb"].get("summary"):
                meta.setdefault("wandb", {})["summary"] = summary
        except InputError as exc:
            results.append((source, exc))
    if "output.log" in side and _size(side["output.log"][0]):
        path, source = side["output.log"]
        if main is not None and main.meta.get("console_log"):
            results.append(
                (source, Superseded(f"the same console text is in the records of {carriers[0][0]}", quiet=True))
            )
        else:
            try:
                carriers.append((source, console.parse(path, source)))
            except InputError as exc:
                results.append((source, exc))
    if not carriers and meta:
        carriers.append((next(iter(side.values()))[1], Frames()))
    if carriers:
        deep_merge(carriers[0][1].meta, meta)
    return [*carriers, *results]


def parse_group(files: list[tuple[Path, str]]) -> list[tuple[str, Result]]:
    """Every run folder's `.wandb` log with its files/ (one result per log; config.yaml, wandb-metadata.json
    and requirements.txt join its meta), or its files alone; a lone wandb-summary.json is a run of its own.
    W&B's own debug logs are claimed and left out."""
    groups: dict[Path, list[tuple[Path, str]]] = {}
    for path, source in files:
        groups.setdefault(run_folder(path) or path, []).append((path, source))
    # Several runs in one wandb/ folder (a script run again into the same output_dir): only the run that
    # started last is analyzed, with all of its results (the log, its sidecars, output.log).
    return newest_run_only(
        [_parse_run(members) for members in groups.values()],
        first_wall_time,
        lambda newest: (
            f"another W&B run in the same folder; only the newest ({newest}) is analyzed: point analyze at this "
            "run's folder to analyze it"
        ),
    )
