"""Weights & Biases runs: the `run-<id>.wandb` log of a run folder with its `files/`, or the W&B API.

The `.wandb` file is read directly: its blocks and chunks (log), the protobuf records in them (records),
the frames (frames) and meta (meta) they give; run reads a run folder with the files beside the log
(side_files); api reads a run through the W&B API.
The format facts it relies on: docs/formats.md §4.

Policies:
- Step: the trainer's own step metric when the run has one (the `step_metric` of its `define_metric`
  records, else `train/global_step` or `trainer/global_step` in the rows), else W&B's `_step` counter. A
  row without the step metric takes the last value seen (what W&B's `step_sync` does).
- `line` is the record's number in the file (`Record.num`, 1-based, as `wandb leet inspect` shows it).
- System stats go to split `system` (GPU memory and utilisation, host memory) with their own wall
  time and the last history step logged at or before it (0 before the first row).
- Summary: keys the history never logged (HF's train_runtime, train_loss, total_flos) go to split
  `summary` at the last step; the whole summary is in meta['wandb']['summary'].
- Config: meta['wandb']['config']; the HF integration's config (every TrainingArguments field plus the
  model config) also fills meta['training_args'] and meta['model'], which normalize.derive_meta reads.
- Console: the `output_raw` records (else the older `output` ones) are joined and read by the console
  reader; its events get the record's number and time, and the last history step logged at or before
  that time (the console's own step before the first row). `files/output.log` is the same text, so it
  is read only when the log has no console records. Printed metric dicts are kept only when the run
  logged no history (otherwise they are rounded copies of it).
- End: an exit record with code 0 is a `run_end` event, another code an `exception` event; no exit
  record at all is a `signal` event (the process died before `wandb.finish`). meta['wandb'] keeps
  `exit_code` (None without a record) and `exit_record`.
"""

from analyzer.ingest.wandb_run.api import WandbFetchError, api_frames, fetch, ingest_remote, remote_path
from analyzer.ingest.wandb_run.frames import add_console, add_exit, add_history, add_stats, add_summary, name
from analyzer.ingest.wandb_run.log import BLOCK, FIRST, FULL, LAST, MAGIC, MIDDLE, read_records
from analyzer.ingest.wandb_run.meta import config_meta
from analyzer.ingest.wandb_run.records import decode
from analyzer.ingest.wandb_run.run import parse_group, parse_log, run_folder, sniff

__all__ = [
    "BLOCK",
    "FIRST",
    "FULL",
    "LAST",
    "MAGIC",
    "MIDDLE",
    "WandbFetchError",
    "add_console",
    "add_exit",
    "add_history",
    "add_stats",
    "add_summary",
    "api_frames",
    "config_meta",
    "decode",
    "fetch",
    "ingest_remote",
    "name",
    "parse_group",
    "parse_log",
    "read_records",
    "remote_path",
    "run_folder",
    "sniff",
]
