"""A run read through the W&B API (`wandb://entity/project/run_id`): unsampled history, config, summary, state."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import InputError, WandbFetchError
from analyzer.ingest.base import FrameBuilder
from analyzer.ingest.settings import deep_merge
from analyzer.ingest.wandb_run.frames import add_history, add_summary, name
from analyzer.ingest.wandb_run.meta import _unwrap, config_meta
from analyzer.ingest.wandb_run.records import _flatten
from analyzer.model import Frames
from analyzer.names import infer_trainer_kind, split_and_metric

if TYPE_CHECKING:
    from analyzer.ingest import Ingested

_REMOTE = re.compile(r"^wandb:/+(?P<entity>[^/\s]+)/(?P<project>[^/\s]+)/(?:runs/)?(?P<run>[^/\s]+)/?$")
_STATES = {
    "finished": ("run_end", "info", "W&B reports the run finished"),
    "failed": ("exception", "error", "W&B reports the run failed (the process exited with an error)"),
    "crashed": ("signal", "error", "W&B reports the run crashed (its heartbeat stopped: the process died)"),
    "killed": ("signal", "error", "W&B reports the run was killed"),
}


def remote_path(path: str | Path) -> str | None:
    """`entity/project/run_id` of a `wandb://entity/project/run_id` argument; None for a local path."""
    text = str(path)
    if not text.startswith("wandb:"):
        return None
    match = _REMOTE.match(text)
    if match is None:
        raise WandbFetchError(f"{text}: expected wandb://entity/project/run_id")
    return f"{match['entity']}/{match['project']}/{match['run']}"


def api_frames(
    rows: Iterable[dict[str, Any]],
    config: dict[str, Any],
    summary: dict[str, Any],
    source: str,
    state: str | None = None,
) -> Frames:
    """Rows as `Run.scan_history()` yields them (`_step`, `_timestamp`, `_runtime`, the trainer's step,
    None for keys a row lacks), with the run's config, summary and state: the same step policy and meta
    as a `.wandb` log; `line` is the row's position in the scan."""
    parsed: list[tuple[int, dict[str, Any]]] = []
    for ordinal, row in enumerate(rows, start=1):
        flat: dict[str, Any] = {}
        for key, value in row.items():
            _flatten(str(key), value, flat)
        parsed.append((ordinal, flat))
    flat_summary: dict[str, Any] = {}
    for key, value in summary.items():
        _flatten(str(key), value, flat_summary)
    builder = FrameBuilder(source, producer=name)
    axis = add_history(builder, parsed, [])
    add_summary(builder, flat_summary, {}, axis)
    if not len(builder):
        raise InputError(source, "the run has no numeric history or summary values")
    if state in _STATES:
        builder.event(*_STATES[state], axis.last_step, None)
    plain, internal = _unwrap(config)
    meta = config_meta(plain)
    meta["wandb"].update(
        step_metric=axis.key,
        history_rows=len(parsed),
        state=state,
        summary={k: v for k, v in flat_summary.items() if isinstance(v, (float, str)) and not k.startswith("_")},
    )
    if internal.get("cli_version"):
        deep_merge(meta, {"versions": {"wandb": str(internal["cli_version"])}})
    if meta.get("framework") == "transformers":
        meta["trainer_kind"] = infer_trainer_kind(
            {metric for split, metric in map(split_and_metric, axis.keys) if split == "train"}
        )
    meta["line_numbers"] = {source: "row"}
    return builder.frames(meta)


def fetch(run_path: str) -> Frames:
    """A run's unsampled history through `wandb.Api().run(path).scan_history()`; WandbFetchError when
    the API cannot be reached, refuses the login or does not know the run."""
    try:
        import wandb

        run = wandb.Api(timeout=30).run(run_path)
        rows = list(run.scan_history())
        config, summary, state = dict(run.config), dict(run.summary_metrics), getattr(run, "state", None)
    except Exception as exc:  # network, login, unknown run: one line for the user, whatever the client raised
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise WandbFetchError(f"cannot fetch W&B run {run_path}: {type(exc).__name__}: {first}") from None
    return api_frames(rows, config, summary, f"wandb://{run_path}", state=state if isinstance(state, str) else None)


def ingest_uri(uri: str) -> Ingested:
    """`ingest`'s reader for `wandb://entity/project/run_id` (ingest.REMOTE)."""
    run_path = remote_path(uri)
    assert run_path is not None  # ingest chose this reader by the scheme
    return ingest_remote(run_path)


def ingest_remote(run_path: str) -> Ingested:
    """What `ingest` returns for a folder, for one run read through the W&B API."""
    from analyzer.ingest import Ingested  # here: analyzer.ingest imports this module
    from analyzer.model import SourceInfo

    source = f"wandb://{run_path}"
    out = Ingested(root=Path("."), label=source)
    try:
        frames = fetch(run_path)
    except InputError as exc:
        out.problems.append(exc.problem)
        out.sources.append(SourceInfo(source, name, status="failed", note=exc.problem.message))
        return out
    out.frames.append((name, frames))
    out.sources.append(SourceInfo(source, name, rows=len(frames.metrics)))
    out.problems.extend(frames.problems)
    return out
