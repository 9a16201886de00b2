"""The event files of a run: one run per directory, one source per file; series names and meta.

Each event file is its own source, so every value cites `file:record`; the files of one directory are one
run, read in file-name (timestamp) order under one policy (analyzer.ingest.tensorboard.policy). Different
directories are different runs or splits: a `train/`, `eval/` or `validation/` folder gives the split of
tags that carry none (Keras writes `epoch_loss` into both); `epoch_loss` reads as `loss`, `Loss/test` as
split test, metric loss.

meta['tensorboard'] holds per-file counts (`files`), the text summaries (`text`, JSON parsed, e.g. the HF
Trainer's `args` and `model_config`), the hparams of `add_hparams` (`hparams`) and, from them, the
training settings under derive_meta's names (`settings`). The HF `args` also fill meta['training_args']
and `model_config` fills meta['model'], the sections that training_args.bin and config.json fill, so
derive_meta finds precision, learning rate and batch size as it does for those files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import InputError
from analyzer.ingest import configs, training_args
from analyzer.ingest.base import FrameBuilder
from analyzer.ingest.settings import settings_from_params
from analyzer.ingest.tensorboard.events import _Scan
from analyzer.ingest.tensorboard.policy import _Outcome, _run_policy
from analyzer.ingest.tensorboard.scan import _scan_file
from analyzer.model import Frames
from analyzer.names import METRIC_ALIASES, canonical_metric, split_and_metric

name = "tensorboard"

_SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "eval": "eval",
    "evaluation": "eval",
    "validation": "eval",
    "val": "eval",
    "valid": "eval",
    "test": "test",
}
# The HF Trainer's end-of-training row, which TensorBoardCallback logs as `train/<key>`: the `summary` split,
# as analyzer.ingest.hf_state reads the same row (train_loss there is the run's mean, not a point of the loss).
_HF_SUMMARY = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
_DIGITS = re.compile(r"(\d+)")


def series_name(tag: str, folder_split: str = "train") -> tuple[str, str]:
    """(split, canonical metric) of a tag; `folder_split` applies when the tag names no split.

    `train/loss` and `eval/loss` as everywhere; the HF summary `train/train_loss` is summary/train_loss;
    `Loss/test` (split last, as torch's tutorial logs) is test/loss; Keras' `epoch_loss` in a `validation/`
    folder is eval/loss.
    """
    head, _, last = tag.rpartition("/")
    if head == "train" and last in _HF_SUMMARY:
        return "summary", last
    if head and last.lower() in _SPLIT_NAMES and "/" not in head:
        return _SPLIT_NAMES[last.lower()], canonical_metric(head)
    split, metric = split_and_metric(tag, folder_split)
    if metric.lower().startswith("epoch_") and metric[6:].lower() in METRIC_ALIASES:
        metric = canonical_metric(metric[6:])
    return split, metric


def _meta(scan: _Scan, outcome: _Outcome) -> dict[str, Any]:
    """meta of one file: its counts, text summaries and hparams, and the HF args/model config sections."""
    counts = {
        "records": scan.records,
        "scalars": int(outcome.keep.sum()),
        "purged": outcome.purged,
        "superseded": outcome.superseded,
    }
    section: dict[str, Any] = {"files": {scan.source: counts}}
    meta: dict[str, Any] = {"tensorboard": section}
    if scan.text:
        section["text"] = scan.text
    if scan.hparams:
        section["hparams"] = scan.hparams
        settings = settings_from_params(scan.hparams, "tensorboard hparams.")
        if settings:
            section["settings"] = settings  # derive_meta's fallback when no TrainingArguments say it
    args, model = scan.text.get("args"), scan.text.get("model_config")
    if isinstance(args, dict):
        meta["training_args"] = {k: args[k] for k in training_args.TRAINING_ARG_KEYS if k in args}
        meta["framework"] = "transformers"
    if isinstance(model, dict):
        meta["model"] = {k: model[k] for k in configs.MODEL_KEYS if k in model}
        if isinstance(model.get("transformers_version"), str):
            meta["versions"] = {"transformers": model["transformers_version"]}
    return meta


def _frames(scan: _Scan, names: list[tuple[str, str]], outcome: _Outcome) -> Frames:
    """Contract frames of one file: its kept rows per tag, its restart and checkpoint events, its meta."""
    builder = FrameBuilder(scan.source, producer=name)
    kept = np.flatnonzero(outcome.keep)
    order = kept[np.argsort(scan.tag[kept], kind="stable")]
    for rows in np.split(order, np.flatnonzero(np.diff(scan.tag[order])) + 1):
        if rows.size:
            split, metric = names[int(scan.tag[rows[0]])]
            builder.extend(scan.step[rows], split, metric, scan.value[rows], scan.record[rows] + 1, scan.wall[rows])
    events = [(line, "restart", message, step, wall) for step, wall, line, message in outcome.restarts]
    events += [
        (record + 1, "checkpoint", f"checkpoint saved{': ' + path if path else ''}", step, wall)
        for record, step, wall, path in scan.checkpoints
    ]
    for line, kind, message, step, wall in sorted(events):
        builder.event(kind, "info", message, step, line, wall)
    frames = builder.frames(_meta(scan, outcome))
    frames.problems.extend(scan.problems)
    return frames


def _read_run(members: list[tuple[Path, str]], folder_split: str) -> list[tuple[str, Frames | InputError]]:
    """The event files of one directory, in name order, under one run policy."""
    results: dict[str, Frames | InputError] = {}
    scans: list[_Scan] = []
    for path, source in members:
        try:
            scans.append(_scan_file(path, source))
        except InputError as exc:
            results[source] = exc
    codes: dict[tuple[str, str], int] = {}
    names = [[series_name(tag, folder_split) for tag in scan.tags] for scan in scans]
    series = [
        np.asarray([codes.setdefault(n, len(codes)) for n in tag_names] or [0], dtype=np.int64)[scan.tag]
        for scan, tag_names in zip(scans, names, strict=True)
    ]
    for scan, tag_names, outcome in zip(scans, names, _run_policy(scans, series), strict=True):
        results[scan.source] = _frames(scan, tag_names, outcome)
    return [(source, results[source]) for _, source in members]


def _natural(file_name: str) -> tuple[Any, ...]:
    """Sort key in which numbers compare as numbers: `…1269.10` (the writer's 11th file) after `…1269.9`."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(file_name))


def parse_group(files: list[tuple[Path, str]]) -> list[tuple[str, Frames | InputError]]:
    """Every event file, grouped by directory: one run per directory, one source per file.

    `*.profile-empty` files (the profiler's markers, which TensorBoard skips too) are left out.
    """
    runs: dict[Path, list[tuple[Path, str]]] = {}
    for path, source in files:
        if not path.name.endswith(".profile-empty"):
            runs.setdefault(path.parent, []).append((path, source))
    results: list[tuple[str, Frames | InputError]] = []
    for folder in sorted(runs):
        members = sorted(runs[folder], key=lambda item: _natural(item[0].name))
        results.extend(_read_run(members, _SPLIT_NAMES.get(folder.name.lower(), "train")))
    return results
