"""Merge what every source read into one Run: one step axis, one duplicate policy, one meta.

Duplicate-step policy (documented in the README):
1. Within one source, a later observation of the same (split, metric, step, rank) replaces an
   earlier one: a resumed run logs the steps after its checkpoint again, and the newer values are
   the ones the final model went through. Steps that go backwards are reported as `restart` events.
2. Across sources, each (split, metric) series comes from the source whose parser is first in
   `ingest.PARSERS` (trainer_state.json before trainer_log.jsonl before console text): structured
   files hold exact values, console lines are rounded for display. Other sources only extend that
   series past its last step (the console of a killed run goes on after its last checkpoint), and
   not at all when their own step axis is a guess (console dict lines without a step or a bar).
3. Identical lines printed by several ranks collapse by rule 1 when their rank is unknown.
The counts of dropped duplicates are kept in meta['duplicates'].
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analyzer.ingest import PRIORITY, Ingested
from analyzer.ingest.base import as_categories, categories_of
from analyzer.ingest.settings import deep_merge
from analyzer.model import (
    Run,
    combined_codes,
    empty_events,
    empty_metrics,
    rows_by_code,
    validate_events,
    validate_metrics,
)
from analyzer.names import infer_trainer_kind

_KEY = ["split", "metric", "step", "rank"]


def _restart_points(metrics: pd.DataFrame) -> list[tuple[int, float, int, int]]:
    """(step, line, previous highest step, first step) wherever one source's train-loss steps go backwards in
    file order."""
    if metrics.empty:
        return []
    mask = ((metrics["split"] == "train") & (metrics["metric"] == "loss")).to_numpy()
    if mask.sum() < 2:
        return []
    lines = metrics["line"].to_numpy(dtype="float64", na_value=np.nan)[mask]
    steps = metrics["step"].to_numpy()[mask]
    if not bool(np.all(lines[1:] >= lines[:-1])):  # file order (rows without a line last); most frames are in it
        order = np.argsort(lines, kind="stable")
        steps, lines = steps[order], lines[order]
    previous_max = np.maximum.accumulate(steps)[:-1]
    # Where the steps go back from the point before, and the next point is not past the highest step yet: the
    # points after it are the resumed run going on (the second of two runs in one file goes on from its own first
    # step, not back to it), and a point that jumps straight back up is another scale printed between the steps
    # (an epoch's record among a progress bar's), not a restart.
    back = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    return [
        (int(steps[i]), float(lines[i]), int(previous_max[i - 1]), int(steps[0]))
        for i in back
        if i + 1 == len(steps) or steps[i + 1] <= previous_max[i - 1]
    ]


Restarts = dict[int, list[tuple[int, float, int, int]]]


def restart_points(ingested: Ingested) -> Restarts:
    """Per frame (its index in `ingested.frames`), where its train-loss steps go backwards in file order. Sources
    whose steps are guesses (console dicts printed apart from their progress bars, as block-buffered stdout in a
    `nohup.out` does) are left out: their steps can run backwards without any resume."""
    guessed = _guessed_axis_sources(ingested)
    return {
        i: _restart_points(frames.metrics)
        for i, (_, frames) in enumerate(ingested.frames)
        if not frames.metrics.empty and frames.metrics["source"].iloc[0] not in guessed
    }


def _restarts(ingested: Ingested, restarts: Restarts) -> pd.DataFrame:
    """A `restart` event wherever a source's train-loss steps go backwards in file order."""
    rows: list[dict[str, Any]] = []
    for i, points in restarts.items():
        source = ingested.frames[i][1].metrics["source"].iloc[0]
        for step, line, before, first in points:
            rows.append(
                {
                    "step": step,
                    "wall_time": math.nan,
                    "kind": "restart",
                    "severity": "info",
                    "message": f"step went back from {before} to {step}: "
                    + (
                        "another run started in the same file (each run is analysed; the numbers shown are the "
                        "longest one's)"
                        if _another_run(step, first, before)
                        else "the run was resumed from an earlier checkpoint"
                    ),
                    "source": source,
                    "line": None if np.isnan(line) else int(line),
                }
            )
    if not rows:
        return empty_events()
    empty = empty_events()
    return pd.DataFrame(rows, columns=list(empty.columns)).astype(empty.dtypes.to_dict())


def _another_run(step: int, first: int, before: int) -> bool:
    """Steps back to `step` after `before`, in a source whose first step is `first`: a new run, where the file
    shows the first run's start (step 0 or 1, or near it) and the steps go back to it or before it."""
    return step <= first <= max(1, 0.05 * before)


def _run_bounds(points: list[tuple[int, float, int, int]]) -> list[float]:
    """The lines where the runs of one source start, between -inf and inf: a start again from the first step or
    before it is another run in the same file (a sweep, a fold, a test run after the real one), where the file
    shows the first run's start (step 0 or 1, or near it). A paste that opens mid-run (epoch 9 of a fold) and goes
    back to a low step may be misread steps as well as a new run."""
    starts = [line for step, line, first, before in points if _another_run(step, first, before)]
    return [-np.inf, *starts, np.inf]


def _run_records(metrics: pd.DataFrame, bounds: list[float]) -> list[int]:
    """Train-loss records of each run between `bounds`."""
    lines = metrics["line"].to_numpy(dtype="float64", na_value=np.inf)
    loss = ((metrics["split"] == "train") & (metrics["metric"] == "loss")).to_numpy()
    return [int(np.sum(loss & (lines >= a) & (lines < b))) for a, b in itertools.pairwise(bounds)]


def _superseded(
    metrics: pd.DataFrame, restarts: list[tuple[int, float, int, int]], run: int | None = None
) -> np.ndarray | None:
    """Rows of one source that a resume or another run replaced, None when nothing was. Where the train loss's
    steps go back to step s at line L, every row printed before L at step s or later (of any series) belongs to
    the stretch the run was resumed over, and the final model went through the steps printed after L instead.
    Steps of two runs in one file mixed on one axis make a curve neither run had, so one run is analysed: `run`
    (its index among the file's runs), by default the one with the most train-loss records (of equal ones, the
    last): a short run before or after the real one is a trial or an aborted start."""
    points = [(step, line, first, before) for step, line, before, first in restarts if not np.isnan(line)]
    if not points:
        return None
    lines = metrics["line"].to_numpy(dtype="float64", na_value=np.inf)
    steps = metrics["step"].to_numpy()
    gone = np.zeros(len(metrics), dtype=bool)
    bounds = _run_bounds(points)
    if len(bounds) > 2:
        counts = _run_records(metrics, bounds)
        k = run if run is not None and run < len(counts) else max(range(len(counts)), key=lambda i: (counts[i], i))
        low, high = bounds[k], bounds[k + 1]
        gone |= (lines < low) | (lines >= high)
    else:
        low, high = -np.inf, np.inf
    for step, line, first, _ in points:
        if step > first and low < line < high:  # a resume within the run analysed
            gone |= (lines >= low) & (lines < line) & (steps >= step)
    return gone if gone.any() else None


def run_spans(ingested: Ingested, restarts: Restarts) -> dict[str, Any] | None:
    """The runs of the first source that holds several (folds, repeats, a trial before the real run): its name,
    each run's first and last line with a metric and its train-loss records, and the index of the run analysed by
    default. None when no source holds more than one run."""
    for i, points in restarts.items():
        metrics = ingested.frames[i][1].metrics
        bounds = _run_bounds([(s, line, f, b) for s, line, b, f in points if not np.isnan(line)])
        if len(bounds) <= 2:
            continue
        counts = _run_records(metrics, bounds)
        lines = metrics["line"].to_numpy(dtype="float64", na_value=np.inf)
        spans = []
        for (a, b), n in zip(itertools.pairwise(bounds), counts, strict=True):
            inside = lines[(lines >= a) & (lines < b) & np.isfinite(lines)]
            lo, hi = (int(inside.min()), int(inside.max())) if len(inside) else (None, None)
            spans.append({"first_line": lo, "last_line": hi, "records": n})
        analysed = max(range(len(counts)), key=lambda k: (counts[k], k))
        return {"source": str(metrics["source"].iloc[0]), "runs": spans, "analysed": analysed}
    return None


_UNITS = {"epoch": "epoch", "record": "record", "ordinal": "record"}


def step_unit(meta: dict[str, Any], metrics: pd.DataFrame) -> str:
    """What the step column counts for the train loss: `step` (a trainer's or loop's global step or
    batch count), `epoch` (a log that prints epochs only) or `record` (a log with no counter: the
    records' order). Reports write onsets with this word, never a made-up step."""
    if not meta.get("console_log"):  # only a console log's reading can count epochs or records
        return "step"
    loss = metrics.loc[(metrics["split"] == "train") & (metrics["metric"] == "loss"), "source"]
    if loss.empty:
        return "step"
    source = str(loss.value_counts().index[0])
    reading = (meta.get("console_log") or {}).get(source, {})
    # The axis of the record kind that holds the train loss (`epoch: 6 loss: 2.31` under a tqdm bar that counts
    # the epochs: the file's axis is the bar, the loss's is the epoch), else the file's.
    axis = next(
        (
            t.get("step_axis")
            for t in reading.get("templates", [])
            if any(s.get("metric") == "loss" and s.get("split") == "train" for s in t.get("slots", []))
        ),
        None,
    )
    return _UNITS.get(str(axis or reading.get("step_axis", "")), "step")


def _guessed_axis_sources(ingested: Ingested) -> set[str]:
    """Console logs whose steps are record counts or guesses, not the trainer's steps."""
    guessed = set()
    for _, frames in ingested.frames:
        for source, info in frames.meta.get("console_log", {}).items():
            if info.get("step_axis") in ("ordinal", "guessed"):
                guessed.add(source)
    return guessed


def merge_metrics(
    ingested: Ingested, restarts: Restarts | None = None, run: tuple[str, int] | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """All sources' metrics on one axis under the duplicate-step policy (`restarts`: restart_points(ingested),
    when the caller has them already; `run`: (source, index) of the run analysed of the file that holds several,
    by default the longest)."""
    parts, ranks = [], []
    guessed = _guessed_axis_sources(ingested)
    restarts = restart_points(ingested) if restarts is None else restarts
    purged = 0
    for i, (parser_name, frames) in enumerate(ingested.frames):
        if not frames.metrics.empty:
            metrics = frames.metrics
            k = run[1] if run is not None and str(metrics["source"].iloc[0]) == run[0] else None
            gone = _superseded(metrics, restarts[i], k) if i in restarts else None
            if gone is not None:
                purged += int(gone.sum())
                metrics = metrics[~gone].reset_index(drop=True)
            parts.append(metrics)
            ranks.append(PRIORITY.get(parser_name, len(PRIORITY)))
    if not parts:
        return empty_metrics(), {"within_source": 0, "across_sources": 0}
    if len(parts) == 1:  # one source: only rule 1 applies (no copy of a frame of millions of rows)
        metrics = parts[0]
        duplicated = _duplicated_keys(metrics)
        if duplicated.any():
            metrics = metrics[~duplicated].reset_index(drop=True)
        return metrics, {"within_source": int(duplicated.sum()) + purged, "across_sources": 0}
    metrics = _concat(parts)
    split, metric, step, rank = (metrics[c] for c in _KEY)
    prio, source = np.repeat(ranks, [len(p) for p in parts]), metrics["source"]
    # Rule 1: within one source the last row of a key wins.
    kept = ~pd.Series(combined_codes(source, split, metric, step, rank)).duplicated(keep="last").to_numpy()
    n1 = int(kept.sum())
    walls = _one_clock(metrics[kept]) if metrics["wall_time"].notna().any() else pd.Series(dtype="float64")
    # Each series from its best source; others only past that source's last step, if their steps are real.
    series = combined_codes(split, metric)
    best = np.full(int(series.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(best, series[kept], prio[kept])
    is_best = kept & (prio == best[series])
    steps = step.to_numpy()
    best_last = np.full(len(best), np.iinfo(np.int64).min)
    np.maximum.at(best_last, series[is_best], steps[is_best])
    guessed_rows = source.isin(guessed).to_numpy()
    kept &= is_best | ((steps > best_last[series]) & ~guessed_rows)
    # Rule 2: across sources, one row per key: the best source's, then the first in file order.
    ordered = np.flatnonzero(kept)[np.argsort(prio[kept], kind="stable")]
    key = combined_codes(split, metric, step, rank)[ordered]
    kept[ordered[pd.Series(key).duplicated(keep="first").to_numpy()]] = False
    n2 = int(kept.sum())
    metrics = metrics[kept].reset_index(drop=True)
    n0 = len(kept)
    _fill_wall_times(metrics, walls)
    return metrics, {"within_source": n0 - n1 + purged, "across_sources": n1 - n2}


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The sources' metrics frames one after another, column by column: string columns recoded onto the
    union of their categories (pd.concat of categoricals with other categories falls back to objects, and
    making categories again hashes every row)."""
    columns: dict[str, Any] = {}
    for name in parts[0].columns:
        cols = [p[name] for p in parts]
        if all(isinstance(c.dtype, pd.CategoricalDtype) for c in cols):
            names = sorted({str(v) for c in cols for v in c.cat.categories})
            at = {v: i for i, v in enumerate(names)}
            codes = [
                np.asarray([at[str(v)] for v in c.cat.categories], dtype=np.int32)[c.cat.codes.to_numpy()]
                if len(c.cat.categories)
                else np.zeros(len(c), dtype=np.int32)
                for c in cols
            ]
            columns[name] = pd.Categorical.from_codes(np.concatenate(codes), dtype=categories_of(tuple(names)))
        else:
            columns[name] = pd.concat(cols, ignore_index=True)
    return as_categories(pd.DataFrame(columns, copy=False))  # a source whose strings were not categorical


def _duplicated_keys(metrics: pd.DataFrame) -> np.ndarray:
    """`metrics.duplicated(_KEY, keep="last")`, through one int64 key where the columns' ranges allow
    (a quarter of the time on millions of rows: one hash per row instead of four columns')."""
    step = metrics["step"].to_numpy(dtype="int64")
    if not len(step):
        return np.zeros(0, dtype=bool)
    if metrics["rank"].isna().all() and _steps_rise_per_series(
        combined_codes(metrics["split"], metrics["metric"]), step
    ):
        return np.zeros(len(step), dtype=bool)  # the usual log: no step twice in a series, no hashing needed
    split, metric = (pd.Categorical(metrics[c]).codes.astype("int64") for c in ("split", "metric"))
    rank = metrics["rank"].fillna(-1).to_numpy(dtype="int64")
    spans = [int(split.max()) + 1, int(metric.max()) + 1, int(rank.max()) + 2, int(step.max() - step.min()) + 1]
    if math.prod(spans) >= 2**62:
        return metrics.duplicated(_KEY, keep="last").to_numpy()
    key = ((split * spans[1] + metric) * spans[2] + (rank + 1)) * spans[3] + (step - step.min())
    return pd.Series(key).duplicated(keep="last").to_numpy()


def _steps_rise_per_series(series: np.ndarray, step: np.ndarray) -> bool:
    """Whether the steps of every series (rows of equal `series` code) strictly rise in row order."""
    for rows in rows_by_code(series):
        steps = step[rows]
        if not bool((steps[1:] > steps[:-1]).all()):
            return False
    return True


def _one_clock(metrics: pd.DataFrame) -> pd.Series:
    """Wall time by (split, step) from the one source that recorded the most of them: clocks of
    different sources (Unix time, LLaMA-Factory's time since start) are never mixed."""
    clocked = metrics[metrics["wall_time"].notna()]
    if clocked.empty:
        return pd.Series(dtype="float64")
    source = clocked["source"].astype(str).value_counts().index[0]
    clocked = clocked[clocked["source"].astype(str) == source]
    return clocked.groupby([clocked["split"].astype(str), clocked["step"]])["wall_time"].min()


def _fill_wall_times(metrics: pd.DataFrame, walls: pd.Series) -> None:
    """Rows kept from a source without clocks (trainer_state.json, console dicts) take the wall time
    another source recorded for the same split and step (TensorBoard, W&B: the same logging call)."""
    missing = metrics["wall_time"].isna().to_numpy()
    if not missing.any() or walls.empty:
        return
    keys = pd.MultiIndex.from_arrays([metrics["split"].astype(str)[missing], metrics["step"][missing]])
    metrics.loc[missing, "wall_time"] = walls.reindex(keys).to_numpy()


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


SETTINGS_SECTIONS = ("wandb", "tensorboard", "mlflow", "lightning")


def derive_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Top-level facts the rules use, from whichever sections the sources filled."""
    args = meta.get("training_args", {})
    state = meta.get("trainer_state", {})
    ds = meta.get("deepspeed", {})
    derived: dict[str, Any] = {}
    if args.get("bf16") is True:
        derived["precision"], derived["precision_source"] = "bf16", "training_args.bf16"
    elif args.get("fp16") is True:
        derived["precision"], derived["precision_source"] = "fp16", "training_args.fp16"
    elif ds.get("bf16", {}).get("enabled") is True:
        derived["precision"], derived["precision_source"] = "bf16", "deepspeed.bf16.enabled"
    elif ds.get("fp16", {}).get("enabled") is True:
        derived["precision"], derived["precision_source"] = "fp16", "deepspeed.fp16.enabled"
    elif args:
        derived["precision"], derived["precision_source"] = "fp32", "training_args (no bf16/fp16)"
    model = meta.get("model", {})
    weights = _first(model.get("dtype"), model.get("torch_dtype"))
    if weights:
        derived["weights_dtype"] = weights
    settings = {
        "learning_rate": args.get("learning_rate"),
        "lr_scheduler_type": args.get("lr_scheduler_type"),
        "warmup_steps": args.get("warmup_steps"),
        "warmup_ratio": args.get("warmup_ratio"),
        "max_grad_norm": _first(args.get("max_grad_norm"), ds.get("gradient_clipping")),
        "optim": args.get("optim"),
        "per_device_train_batch_size": _first(
            args.get("per_device_train_batch_size"),
            ds.get("train_micro_batch_size_per_gpu"),
            state.get("train_batch_size"),
        ),
        "gradient_accumulation_steps": _first(
            args.get("gradient_accumulation_steps"), ds.get("gradient_accumulation_steps")
        ),
        "max_steps": _first(
            state.get("max_steps"),
            meta.get("llamafactory", {}).get("total_steps"),
            args.get("max_steps") if (args.get("max_steps") or 0) > 0 else None,
        ),
        "logging_steps": _first(state.get("logging_steps"), args.get("logging_steps")),
        "logging_nan_inf_filter": args.get("logging_nan_inf_filter"),
    }
    derived.update({k: v for k, v in settings.items() if v is not None})
    # Trackers and loggers (W&B config, TensorBoard args text, MLflow params, Lightning hparams) put the
    # same facts under meta[<section>]["settings"] with these key names: fallbacks, in this order.
    for section in SETTINGS_SECTIONS:
        found = meta.get(section, {}).get("settings", {}) if isinstance(meta.get(section), dict) else {}
        for key, value in found.items() if isinstance(found, dict) else ():
            if value is not None and key not in derived:
                derived[key] = value
    if ds:
        derived["deepspeed_stage"] = ds.get("zero_stage")
    if meta.get("peft"):
        derived["peft_type"] = meta["peft"].get("peft_type")
    return derived


def run_status(meta: dict[str, Any], metrics: pd.DataFrame) -> tuple[str, str]:
    """completed | stopped_early | unknown, with the reason (build_run adds `crashed` from the console)."""
    state = meta.get("trainer_state")
    if state:
        step, max_steps = state.get("global_step"), state.get("max_steps")
        summary = state.get("has_summary_row", False)
        if isinstance(step, (int, float)) and isinstance(max_steps, (int, float)) and 0 < step < max_steps:
            if summary:
                return "stopped_early", (
                    f"training ended at step {step:g} of max_steps {max_steps:g} with an "
                    "end-of-training summary (early stopping or a callback ended it)"
                )
            return "stopped_early", (
                f"history ends at step {step:g} of max_steps {max_steps:g} with no "
                "end-of-training summary: the process stopped before finishing "
                "(crash, kill or time limit), or the newest copy is an older checkpoint"
            )
        reached = isinstance(step, (int, float)) and isinstance(max_steps, (int, float)) and step >= max_steps > 0
        if summary or reached:
            return "completed", f"reached step {step} of max_steps {max_steps}" + (
                " with an end-of-training summary" if summary else ""
            )
    lf = meta.get("llamafactory")
    if lf and lf.get("total_steps"):
        last, total = lf["last_step"], lf["total_steps"]
        steps = np.unique(metrics.loc[metrics["source"].notna(), "step"].to_numpy())
        interval = int(np.median(np.diff(steps))) if len(steps) > 2 else 1
        if total - last >= max(interval, 1):
            return "stopped_early", f"last logged step {last} of total_steps {total}"
        return "completed", f"last logged step {last} of total_steps {total}"
    tracked = _tracker_status(meta)
    if tracked:
        return tracked
    return "unknown", "no source records how many steps were planned"


# Events that end a process when nothing follows them, as a reader names them.
_FATAL = {
    "exception": "an exception",
    "oom": "an out-of-memory error",
    "signal": "a fatal signal",
    "nccl_timeout": "a collective timeout",
    "dataloader_error": "a DataLoader worker failure",
    "loss_nan_stop": "a stop on a NaN loss",
    "loss_scale_min": "the loss scale at its minimum",
}


def _fatal_ending(events: pd.DataFrame, metrics: pd.DataFrame) -> str:
    """Why the run crashed, when a fatal event (an exception, an OOM, a kill, a collective timeout) is
    the last thing its log shows: no training record of the same file comes after its line. Empty when
    none does (the log goes on after every such event, or they carry no line to compare)."""
    fatal = events[events["kind"].isin(list(_FATAL)) & events["line"].notna()]
    for _, event in fatal.iterrows():
        same = metrics[(metrics["source"] == event["source"]) & metrics["line"].notna()]
        if len(same) and int(same["line"].max()) > int(event["line"]):
            continue
        return (
            f"the log ends with {_FATAL[event['kind']]} ({event['message'][:120]}) at "
            f"{event['source']}:{int(event['line'])}, with no training record after it"
        )
    return ""


def _tracker_status(meta: dict[str, Any]) -> tuple[str, str] | None:
    """What an experiment tracker recorded about how the run ended (MLflow's run status, W&B's exit record)."""
    wb = meta.get("wandb") if isinstance(meta.get("wandb"), dict) else {}
    if wb and wb.get("exit_record") is False:
        return "crashed", "no W&B exit record: the process died before wandb.finish() (or was still running)"
    if wb and isinstance(wb.get("exit_code"), int) and not isinstance(wb.get("exit_code"), bool):
        code = wb["exit_code"]
        if code:
            return "crashed", f"the process exited with code {code} (W&B exit record)"
        return "completed", "W&B recorded a clean exit (code 0)"
    status = str(meta.get("mlflow", {}).get("status", "")).upper() if isinstance(meta.get("mlflow"), dict) else ""
    if status == "FINISHED":
        return "completed", "MLflow recorded the run as FINISHED"
    if status in ("FAILED", "KILLED"):
        return "crashed", f"MLflow recorded the run as {status}"
    if status in ("RUNNING", "SCHEDULED"):
        return "unknown", (
            f"MLflow still marks the run {status}: the process died without ending the run, or it is still running"
        )
    return None


_PERPLEXITY = ("ppl", "perplexity")


def loss_from_perplexity(metrics: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A split that logs a perplexity and no loss gets the loss it is the exponential of, ln(ppl), at the
    same steps and cited at the same lines (fairseq, XLM, Sockeye and torch7 loops print only `ppl`); the
    rules then read it as any loss. Returns the metrics with those rows added and what was derived."""
    splits, names = pd.Categorical(metrics["split"]), pd.Categorical(metrics["metric"])
    if metrics.empty or not set(_PERPLEXITY) & {str(n) for n in names.categories}:
        return metrics, {}
    width = len(names.categories) + 1
    codes = np.unique(splits.codes.astype(np.int64) * width + names.codes)
    pairs = {(str(splits.categories[c // width]), str(names.categories[c % width])) for c in codes.tolist()}
    parts, derived = [metrics], {}
    for split in sorted({a for a, _ in pairs}):
        ppl = next((p for p in _PERPLEXITY if (split, p) in pairs), None)
        if ppl is None or (split, "loss") in pairs or any(_minimised(m) for s, m in pairs if s == split):
            continue
        rows = metrics[(metrics["split"] == split) & (metrics["metric"] == ppl)]
        values = rows["value"].to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)
        parts.append(_as_series(rows, loss))
        derived[f"{split}/loss"] = f"ln({split}/{ppl}): no loss was logged"
    return (_concat(parts), derived) if derived else (metrics, {})


def _minimised(metric: str) -> bool:
    """An error the run minimises beside a perplexity (a VQ-VAE's `recon_error`): the perplexity is then no language
    model's, whose log would be the loss, but a measure of its own (a codebook's usage, which rises as more codes are
    used)."""
    words = metric.lower().split("_")
    return len(words) > 1 and words[-1] in ("error", "err")


def _as_series(rows: pd.DataFrame, values: np.ndarray, metric: str = "loss") -> pd.DataFrame:
    """Copies of metric rows as the split's `loss` (or `metric`) with these values, at the same steps and cited
    at the same lines (every column keeps its dtype: rank's Int64, line's Int64)."""
    added = rows.reset_index(drop=True)
    added["metric"] = pd.Categorical([metric] * len(added))
    added["value"] = values
    return added


# The dynamic loss scale logged as its base-2 logarithm: OpenAI's fp16 utilities (improved-diffusion,
# guided-diffusion and the many repositories built on them) print `lg_loss_scale`; a scale of 1 is 0 there.
_LOG2_SCALE = ("lg_loss_scale", "log2_loss_scale", "loss_scale_log2")


def loss_scale_from_log2(metrics: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A split that logs its loss scale only as a base-2 logarithm gets the scale itself, 2 ** value, at the same
    steps and lines: the loss-scale rules read one `loss_scale`, whichever way it was printed."""
    if metrics.empty:
        return metrics, {}
    names = {str(n) for n in pd.Categorical(metrics["metric"]).categories}
    logged = [n for n in _LOG2_SCALE if n in names]
    if not logged or "loss_scale" in names:
        return metrics, {}
    rows = metrics[metrics["metric"] == logged[0]]
    with np.errstate(over="ignore"):
        scale = np.exp2(rows["value"].to_numpy(dtype="float64"))
    split = str(rows["split"].iloc[0])
    return _concat([metrics, _as_series(rows, scale, "loss_scale")]), {
        f"{split}/loss_scale": f"2 ** {split}/{logged[0]}"
    }


# An objective some loops call an error (deepnl's `avg. error`, Torch7's `current error`, a tutorial's `Error:`).
_ERROR_OBJECTIVE = ("error", "avg_error", "average_error", "mean_error", "total_error")


def loss_from_error(metrics: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """A split that logs an objective named `error` (or `avg. error`...) and no loss gets it as its loss, when it
    is no fraction (some value above 1: an error rate between 0 and 1 stays a rate beside an accuracy)."""
    if metrics.empty:
        return metrics, {}
    names = {str(n) for n in pd.Categorical(metrics["metric"]).categories}  # no string per row
    if not names & set(_ERROR_OBJECTIVE):
        return metrics, {}
    parts, derived = [metrics], {}
    for split in sorted(set(pd.unique(metrics["split"].astype(str)))):
        mine = metrics[metrics["split"] == split]
        if (mine["metric"] == "loss").any():
            continue
        counts = {e: int((mine["metric"] == e).sum()) for e in _ERROR_OBJECTIVE}
        name = max(counts, key=lambda e: counts[e])  # the one printed most often (the per-step objective)
        if not counts[name]:
            continue
        rows = mine[mine["metric"] == name]
        if not bool((rows["value"].to_numpy(dtype="float64") > 1).any()):
            continue
        parts.append(_as_series(rows, rows["value"].to_numpy()))
        derived[f"{split}/loss"] = f"{split}/{name}: an objective named error, no loss was logged"
    return (_concat(parts), derived) if derived else (metrics, {})


def _outside_run(events: pd.DataFrame, spans: dict[str, Any], run: int) -> np.ndarray:
    """Events of the multi-run source printed before run `run`'s first line or from the next run's first on."""
    runs = spans["runs"]
    low = runs[run]["first_line"] if run > 0 and runs[run]["first_line"] is not None else -np.inf
    nxt = runs[run + 1]["first_line"] if run + 1 < len(runs) else None
    high = np.inf if nxt is None else nxt
    lines = events["line"].to_numpy(dtype="float64", na_value=np.nan)
    mine = (events["source"] == spans["source"]).to_numpy() & ~np.isnan(lines)
    return mine & ((lines < low) | (lines >= high))


def build_run(path: Path, ingested: Ingested, run: int | None = None) -> Run:
    """The Run: merged metrics and events, merged and derived meta, sources and problems. Of a file that holds
    several runs (meta['runs']), `run` is the index of the one analysed, by default the longest; another run
    keeps only the events its own lines printed."""
    restarts = restart_points(ingested)
    spans = run_spans(ingested, restarts)
    if spans is None or run is None or not 0 <= run < len(spans["runs"]):
        run = None
    metrics, dropped = merge_metrics(
        ingested, restarts, None if spans is None or run is None else (spans["source"], run)
    )
    metrics, derived = loss_from_perplexity(metrics)
    metrics, from_error = loss_from_error(metrics)
    derived.update(from_error)
    metrics, from_log2 = loss_scale_from_log2(metrics)
    derived.update(from_log2)
    events_parts = [f.events for _, f in ingested.frames if not f.events.empty]
    events_parts.append(_restarts(ingested, restarts))
    non_empty = [e for e in events_parts if not e.empty]
    events = pd.concat(non_empty, ignore_index=True) if non_empty else empty_events()
    # The same event read from two sources (the console and W&B's copy of it) counts once: the first source's
    # rows stay. Within one source every line stays: a warning repeated on each step is evidence in number.
    if not events.empty:
        key = combined_codes(events["kind"], events["step"], events["message"])
        _, first_row, group = np.unique(key, return_index=True, return_inverse=True)
        sources = events["source"].to_numpy()
        same = sources == sources[first_row[group.ravel()]]
        if not same.all():
            events = events[same].reset_index(drop=True)
    if spans is not None and run is not None and not events.empty:
        events = events[~_outside_run(events, spans, run)].reset_index(drop=True)
    meta: dict[str, Any] = {}
    for _, frames in ingested.frames:
        deep_merge(meta, frames.meta)
    if spans is not None:
        meta["runs"] = {**spans, "analysed": spans["analysed"] if run is None else run}
    meta.update(derive_meta(meta))
    meta["status"], meta["status_reason"] = run_status(meta, metrics)
    if meta["status"] == "stopped_early" and meta.get("console_log") and not (events["kind"] == "run_end").any():
        last = int(metrics["step"].max()) if not metrics.empty else None
        meta["status"] = "crashed"
        meta["status_reason"] += (
            f"; the console log ends at step {last} without an end-of-training summary, "
            "so the process died (killed, crashed or timed out)"
        )
    if meta["status"] in ("unknown", "stopped_early"):
        fatal = _fatal_ending(events, metrics)
        if fatal:
            meta["status"], meta["status_reason"] = "crashed", fatal
    meta["step_unit"] = step_unit(meta, metrics)
    if "trainer_kind" not in meta or meta["trainer_kind"] == "trainer":  # console logs and CSVs name no trainer:
        kind = infer_trainer_kind(
            {str(m) for m in metrics.loc[metrics["split"] == "train", "metric"].unique()}
        )  # keys do
        if kind != "trainer" or "trainer_kind" in meta:
            meta["trainer_kind"] = kind
    meta["duplicates"] = dropped
    if derived:
        meta["derived"] = derived
    if ingested.ignored:
        meta["ignored_files"] = ingested.ignored
    return Run(
        path=str(path),
        metrics=validate_metrics(metrics, "normalize"),
        events=validate_events(events, "normalize"),
        meta=meta,
        sources=ingested.sources,
        problems=ingested.problems,
    )
