"""Structure inference for printed logs no grammar describes: line templates, named slots, a step axis.

A line that no other reader claimed and that holds numbers is cut into a *template* (its text with
every number replaced by a slot, timestamps and durations set aside) and the numbers themselves. Lines
of one template are one kind of record. At the end of the file each template is judged:

- Every slot is named from the words just before it, up to the nearest separator (`|`, `,`, `;`,
  ` - `, a tab or a run of spaces): `loss: 1.2`, `loss=1.2`, `Loss = 1.2`, `'loss': 1.2`,
  `train_loss= 1.2`, `| lm loss 6.7 |`, `global step 2454: loss = 0.69`. A slot after `/` or `of` is
  the total of the counter before it; a number in parentheses right after a named one is its running
  mean (`loss=1.27 (1.50)`); a cell of a `| name | value |` row takes its name from the cell before.
- The name gives the split (`val`, `valid`, `validation`, `eval`, `dev`, `test` in it: eval; a segment
  that starts with such a word carries it to the names after it) and, through the alias table, the
  metric (`train_loss`, `Train Loss`, `tot_loss`, `main/loss`, `lm loss`: loss).
- A template is a record when it repeats and carries a named metric, or, printed once (a bug report
  pastes one line), when it carries two named metrics or more, one of them known. Everything else is
  prose: a number in a sentence is not a metric.
- The step axis comes from the template's counters: a global step (`step`, `iter`, `iteration`,
  `global step`, `num_updates`, `total_timesteps`...) first; else an epoch with a batch `i/n` in it
  (step = (epoch - first epoch) x n + i); else an epoch alone; else a first number named by a word no
  list knows, one more at every line (`E:    1, TrL: nan`: a counter the data shows); else a record with
  no counter takes the step of the last stepped record before it (an eval line after its train line),
  or its order in the file. The axis is stated (`meta.console_log[file].step_axis` and per template).
- Records printed twice (two ranks, a paste repeated) are kept once per step and value.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyzer.ingest.base import TIMEDELTA, FrameBuilder, timedelta_seconds, to_float
from analyzer.names import LOSS_FUNCTIONS, LOSS_QUALIFIERS, MEMORY_WORD, canonical_metric, is_eval_split

# A number that stands alone (not inside an identifier like fp16 or conv1): 1,234  -3.5e-05  .5  12%  nan  -inf
# A number right after `word/` is part of a path (`./cache/8834/model_cache`), no value; `5/100`'s total is one.
_NUMBER = re.compile(
    r"(?<![\w.])(?<![A-Za-z]-)(?<![A-Za-z]@)(?<![A-Za-z_]/)(?P<num>[-+]?(?:\d{1,3}(?:,\d{3})+(?![\d])|\d+)(?:\.\d*(?:f[-+]?\d+(?!\w))?)?(?:[eE][-+]?\d+)?|[-+]?\.\d+(?:[eE][-+]?\d+)?)"
    r"(?![\d_]|\.\d)"  # all of the number, and none glued before an underscore: `{'0_default': 66.5}` names a key
    # (Julia's Float32 literal `589.91534f0` is 589.91534e0: its `f` is the exponent's letter)
    r"(?P<pct>%)?"
    r"|(?<![\w.])(?P<special>[-+]?(?:nan|NaN|NAN|inf|Inf|INF|Infinity))(?P<bits>16|32|64)?(?![\w])"  # Julia's NaN32
)
# Dates, clock times and durations are not metrics: they are set aside before slots are cut.
# A month/day before a clock time (detectron2's `[07/25 13:14:56 d2...]`) is a date, not a counter i/n.
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?"
)
_CLOCK = re.compile(
    # A date with the month named (`Mon 10 Jan 2022 17:42:14`, ctime's `Mon Jan 10 17:42:14 2022`, `Jan 5, 2023`)
    rf"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s+)?(?:\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b,?(?:\s+\d{{4}}\b)?|\d{{1,2}}-{_MONTH}-\d{{2}}(?:\d\d)?\b)"
    r"(?:\s+\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?(?:\s+\d{4}\b)?)?"
    r"|\b\d\d[-/.]\d\d[-/.]\d\d[ T_]\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?\b"  # `02/20/19 17:14:59`: a year in two digits
    # `2023-07-17 21:23:40`, and the `2023-07-17_21-23-40` a run folder's name is stamped with
    r"|\d{4}[-/]\d\d[-/]\d\d(?:[ T]\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?|_\d\d[-:]\d\d(?:[-:]\d\d)?)?"
    # a time of day or minutes:seconds, whose first number is under 60 (`[80:10/ 10]`, 80 epochs' 10th, is none)
    r"|\b(?:\d{1,2}[-/]\d{1,2}[ T])?[0-5]?\d:\d\d(?::\d\d)?(?:[.,]\d+)?\b"
    r"|\b\d+ days?, \d+:\d\d:\d\d"
    r"|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{4}\b"  # 17/01/2019: a date, not a counter i/n
)
_NUM = r"[-+]?(?:nan|inf(?:inity)?|(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)"
# One number in a constructor's repr: torch's `tensor(0.52, device='cuda:0', grad_fn=<..>)`, numpy's
# `array(6.26, dtype=float32)` and numpy 2's `np.float32(0.5)`, JAX's `Array(0.5, dtype=float32)`, TF's
# `tf.Tensor(0.5, shape=(), dtype=float32)` and `<tf.Tensor: shape=(), dtype=float32, numpy=0.5>`.
_WRAPPED = re.compile(
    rf"(?:\b(?:tensor|array|Array|DeviceArray)|\b(?:np|numpy|jnp)\.(?:float|u?int)\d+|\btf\.Tensor)"
    rf"\(\s*\[?({_NUM})\]?\s*(?:,(?:[^()]|\([^()]*\))*)?\)|<tf\.Tensor:[^<>]*?numpy=({_NUM})>",
    re.I,
)


# A replacement field of a format string echoed into the log (the print statement itself, in a grep's output
# or a traceback): `{val_loss:.4f}` holds no value 0.4.
_FORMAT_FIELD = re.compile(
    r"\{[A-Za-z_][\w.\[\]()/*+\-]*(?:![rsa])?:[<>^=+\-#0]?\d*[,_]?(?:\.\d+)?[bcdeEfFgGnosxX%]?\}"
)


def unwrap_numbers(text: str) -> str:
    """The text with every number printed inside a constructor's repr (`tensor(0.52, ...)`) as itself."""
    if "(" not in text and "<tf" not in text:
        return text
    return _WRAPPED.sub(lambda m: m.group(1) or m.group(2), text)


_CUT = re.compile(r"\||,|;|\t| - |\s{2,}|\)\s*(?=[A-Za-z])|^\s*\]\s*")  # `(Time per iter: 0.92s)train iter`
_WORDS = re.compile(r"([A-Za-z_][\w./@-]*(?:\s+\(?[A-Za-z_][\w./@-]*\)?){0,3})\s*$")  # `ndcg@10`, `mAP@0.5`
_LEADING_UNIT = re.compile(r"^(?:[A-Za-z%]+(?:/[A-Za-z]+)?|/[A-Za-z]{1,5})(?=[\s(|,;\]]|\.\s|$)")
# A unit printed after its number and a space, before the next field's name (MatConvNet's `3.3 Hz obj:0.69`,
# `mem 3.2 GB loss: 2.1`): the number's, not a word of the name after it.
_SPACED_UNIT = re.compile(r"^\s+(?:[kMG]?Hz|[KMGT]i?B|ms|s|secs?|mins?)(?=\s+[A-Za-z])")
_RATE = re.compile(
    r"^\s*(samples?|tokens?|toks?|img|imgs|images?|words?|sents?|sentences|seqs?|sequences|examples?|it|iters?|"
    r"iterations?|frames?|steps?|batches)\s*/\s*(?:s|sec|second)\b",
    re.I,
)
_DURATION = re.compile(r"^\s*(s|sec|secs|seconds|ms)\s*[)\]]")
# (not the start of the next key: `CTCAccuracy: 0.8670   sec/iter: 0.4043` names a rate after the value)
_TIME_AFTER = re.compile(
    r"\s*(?:seconds?|secs?|minutes?|mins|hours?|hrs?|milliseconds?)\b(?!/|\s*[:=]\s*[-+.\d])", re.IGNORECASE
)
_OPENS = re.compile(r"[)\]]?\s*[(\[]")  # a bracket opened after the value before (or after its bracket closed)
_LEVEL = re.compile(r"\b(?:WARNING|WARN|ERROR|CRITICAL|FATAL)\b|\[[WE]\s|\b[WE]\d{4} |\b[A-Z]\w*Warning: ")
_POSTFIX_NAME = re.compile(r"^\s+([A-Za-z_][\w./-]*(?:\s+[A-Za-z_][\w./-]*){0,2})\s*$")
_UNIT = re.compile(r"\s*\((?:ms|s|sec|secs|seconds|%|gb|mb|gib|mib|batch)\)\s*$", re.I)
_SPLIT_WORDS = {
    "val": "eval",
    "valid": "eval",
    "vali": "eval",  # Time-Series-Library's `Vali Loss`
    "validation": "eval",
    "eval": "eval",
    "evaluation": "eval",
    "dev": "eval",
    "test": "eval",
    "testing": "eval",
    "validating": "eval",
    "validate": "eval",  # XGBoost evals a user named `validate`: `validate-rmse:0.86`
    "train": "train",
    "training": "train",
    "trn": "train",
    "tst": "eval",  # the abbreviation beside `trn` (Knet.jl's `:trn, ..., :tst, ...`)
    "tr": "train",  # LIBMF/LIBFFM's `tr_rmse va_rmse`, `tr_logloss va_logloss`
    "va": "eval",
    "cv": "eval",  # Kaldi/WeNet/ESPnet's cross-validation set: `Epoch 0 [CV] progress 290/341 loss ..`
    "heldout": "eval",  # the held-out set: UDPipe's `heldout accuracy 77.33%`
    "holdout": "eval",
    "learn": "train",  # CatBoost: `learn: 0.17  test: 0.15`
}
_COPULAS = {"is", "was", "are", "were", "now", "equals"}
_TRAILING_COPULA = re.compile(r"(?<=\w)\s+(?:" + "|".join(sorted(_COPULAS)) + ")$", re.I)
# Words a scheduler says it changes the learning rate with (Keras' LearningRateScheduler and ReduceLROnPlateau)
_RATE_CHANGES = {"setting", "set", "reducing", "reduced", "increasing", "changing", "updating", "new"}
_STEP_NAMES = {
    "step",
    "steps",
    "iter",
    "iters",
    "iteration",
    "iterations",
    "global_step",
    "globalstep",
    "it",
    "update",
    "updates",
    "num_updates",
    "total_timesteps",
    "timesteps",
    "global_iter",
    "gstep",
    "global_iteration",
    "train_step",
    "optimizer_step",
    "n_iter",
    "niter",
    "itr",
    "round",  # federated learning's communication rounds, boosting rounds
    "rounds",
    "episode",  # reinforcement learning
    "episodes",
}
_EPOCH_NAMES = {"epoch", "epochs", "ep", "epoch_idx", "pass"}
_BATCH_NAMES = {"batch", "batches", "batch_idx", "minibatch", "mini_batch"}
_COUNTER_NAMES = {"epoch", "epochs", "batch", "batches", "step", "steps", "iter", "iters", "iteration", "iterations"}
_KNOWN = {
    "loss",
    "learning_rate",
    "grad_norm",
    "loss_scale",
    "accuracy",
    "acc",
    "ppl",
    "perplexity",
    "throughput",
    "epoch",
    "f1",
    "bleu",
    "wer",
    "cer",
    "reward",
    "kl",
    "nll_loss",
    "top1",
    "top5",
    "map",
    "miou",
    "auc",
}
_METRIC_WORD = re.compile(
    r"loss|acc|err|f1|bleu|rouge|wer|cer|ppl|perplex|reward|score|norm|^lr$|learning_rate|elbo|likelihood|"
    rf"grad|auc|map|iou|kl|entropy|return|throughput|tok|samples_per|it_s|mfu|tflops|{MEMORY_WORD}|time|speed|per_second|"
    # evaluation measures by their usual names: segmentation's overlap, image quality, ranking, correlation
    r"dice|psnr|ssim|recall|precision|ndcg|mrr|hits?(?:_|@|$)|pearson|spearman|"
    r"(?:^|_)(?:l1|l2|r?mse|mae|xent|nll|huber)(?:_|$)"
)
_GLOBAL = re.compile(r"global|num_updates|n_updates|total_timesteps|timesteps|total_steps|optimizer")
MAX_TEMPLATES = 5000  # distinct templates kept per file: a log of ever-new lines must not grow without end
# Numbers one line may carry and still be a record: an RL trainer prints every metric of a step on one line
# (verl: over a hundred `name:value` fields); a longer run of numbers is a dumped array, not a record.
MAX_FIELDS = 256
MAX_EXAMPLES = 3
BARE_MIN = 5  # lines of a bare `counter value` template before its value is taken as the loss
UNNAMED_COUNTER_MIN = 3  # lines whose unnamed first number rises at each one before it is taken as the step


@dataclass
class Slot:
    """One numeric field of a template: its name (raw and canonical), split and role."""

    raw: str
    metric: str
    split: str
    role: str = "value"  # value | total | mean | step | epoch | batch | skip


@dataclass
class Template:
    """Lines of one shape: their numbers per slot, line numbers and the step known when each was read."""

    key: str
    example: str
    first_line: int
    rows: list[list[float]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    context: list[int] = field(default_factory=list)  # the reader's step at the line (-1: none)
    ranks: list[int] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    note: str = ""  # an assumption the reading made (said in `inspect` and the report's reading notes)
    percent: list[int] = field(default_factory=list)  # slots printed with a `%` (in its first line)
    rounded: dict[int, dict[int, float]] = field(default_factory=dict)  # line -> slot -> unit, printed `0.000`
    fill: bool = False  # its NaNs fill the cells a row does not measure (train and eval rows in one table)
    items: dict[int, str] = field(default_factory=dict)  # line -> the words in a table row's first cell (_named_items)


@dataclass
class Collector:
    """The templates of one file, in order of first appearance, and the multi-line record being read."""

    templates: dict[str, Template] = field(default_factory=dict)
    unread: int = 0  # number-bearing lines not templated (over MAX_TEMPLATES, a module's print)
    block: list[tuple[str, str, int, int | None, int | None]] = field(default_factory=list)
    scales: list[tuple[int, float]] = field(default_factory=list)  # (line, loss scale) of overflow events
    header: list[str] = field(default_factory=list)  # the cells of the last table header seen
    header_prefix: str = ""  # a logger's text before the header's first cell, repeated before each row's
    header_words: list[tuple[str, int, int]] = field(default_factory=list)  # the header's words and columns
    gutter: bool = False  # the header opened with a bracketed column of no words (`[------]`, `[ 10% ]` below)
    # a pipe table's last header line as it was split at every `|` (empty cells kept) and its line number: a
    # header on two lines (`| Mini-batch |` over `|    Loss    |`) is joined column by column
    piped: tuple[int, list[str]] = (-1, [])


# One `name: value` per line: a pretty-printed JSON record, a Stable-Baselines3 box, an indented report,
# a trainer's block under a step header (`| > loss_mel: 21.53  (21.33)`: its running mean in brackets).
# Words joined by single spaces, then a separator: no two quantifiers compete for the same characters
# (a lazy name beside `\s*` was quadratic on long lines).
_BLOCK_NUMBER = r"[-+]?(?:\d[\d.,]*(?:[eE][-+]?\d+)?|\.\d+|nan|NaN|inf|-inf|Infinity)"
_BLOCK_LINE = re.compile(
    r"""^[\s|{,>]*["']?(?P<name>[A-Za-z_][\w./()@-]*(?: [A-Za-z_(][\w./()@-]*){0,5})["']?"""
    r"""(?:[ \t]*[:=|][ \t]*|[ \t]+)"""
    rf"""(?P<value>{_BLOCK_NUMBER})(?:[ \t]+\((?P<mean>{_BLOCK_NUMBER})\))?"""
    r"""[ \t]*%?[ \t]*[|,}]?[ \t]*\|?[ \t]*$"""
)
_ROUNDED_ZERO = re.compile(r"[-+]?0?\.00+")  # `0.000`: zero to the printed precision


def rounded_zero(text: str) -> float:
    """The unit of the last digit of a number printed as zero to a fixed precision (`0.000`: 0.001), else 0.
    Such a zero is below what it shows, not 0 (a learning rate in warmup printed with `{:.6f}`). `0`, `0.0`
    and `0e+00` may be exactly 0."""
    bare = text.strip().strip("'\"")
    return 10.0 ** -len(bare.rsplit(".", 1)[1]) if _ROUNDED_ZERO.fullmatch(bare) else 0.0


_DIGIT = re.compile(r"\d")  # a regex search: a per-character generator costs ~10x on every line
_FREE_DIGIT = re.compile(r"(?<![A-Za-z_])\d")  # a digit that starts a number, not one inside a name (`top5`)
_NAN_OR_INF = re.compile(r"(?i)nan|inf")
_DELIMITER = re.compile(r"^\s*(?:[-=+|*_\s]{4,}|[\[\]{}(),\s]+)\s*$")
_CELLS = re.compile(r"\s*\|\s*|\t+|\s{2,}")
_GUTTER = re.compile(r"^\s*\[[^\[\]A-Za-z]*\]")  # a bracketed column of no words that opens a line


_LOGGER_HEAD = re.compile(r"^(.*?(?:\s:\s|\]\s|\s-\s))(?=[A-Za-z_][\w ./%-]*$)")
_COMMENTED = re.compile(r"^\s*(?:#+|%+|//)\s*(?=[A-Za-z_])")  # a header marked as a comment for the table's readers


def gap(collector: Collector, text: str, lineno: int) -> None:
    """Every line passes here first: a line that cannot continue the multi-line record ends it, and a
    row of names with no number (a table header) names the cells of the numeric rows under it."""
    if collector.block and not _BLOCK_LINE.match(text):
        short_header = len(text.strip()) <= 40 and not _DIGIT.search(text) and not _DELIMITER.match(text)
        if not short_header or text.strip().startswith(("{", "}")):
            _close_block(collector)
    gutter = _GUTTER.match(text)
    if gutter and not _DIGIT.search(text):  # xLearn's `[------------] Epoch   Train log_loss  ...`
        text = text[gutter.end() :]
    commented = _COMMENTED.match(text)
    if commented and not _DIGIT.search(text):  # `#  step  rmse_trn ...`: numpy.savetxt's, gnuplot's, DeePMD's
        text = text[commented.end() :]
    if not _FREE_DIGIT.search(text) and ("|" in text or "\t" in text or "  " in text.strip()):  # `F1`, `Top5`
        # `% | Epoch | ...`: a mark before a pipe table's first bar (a comment, a quote) opens each row too
        lead = _PIPE_LEAD.match(text)
        cells = [c for c in _CELLS.split(text[lead.end() if lead else 0 :].strip().strip("|")) if c]
        if len(cells) >= 3 and all(re.search(r"[A-Za-z]", c) for c in cells):
            logger = _LOGGER_HEAD.match(cells[0]) if "\t" in text else None
            collector.header_prefix = logger.group(1) if logger else (lead.group(1) if lead else "")
            collector.header = [cells[0][len(collector.header_prefix) :] if logger else cells[0], *cells[1:]]
            collector.gutter = bool(gutter)
            collector.header_words = [] if "|" in text or "\t" in text else _columns(text)
            if "|" in text:
                _join_piped_header(collector, text[lead.end() if lead else 0 :], lineno)
    elif _WORD_HEADER.match(text):  # `epoch train_loss valid_loss accuracy time`: one space between names
        collector.header = _paired(text.split())
        collector.header_words = _columns(text)
    elif "," in text and not _FREE_DIGIT.search(text):  # `Epoch ,LR ,RMSE ,Loss ,Mode`, `eval_prec1`: a CSV header
        cells = [c.strip() for c in text.strip().strip(",").split(",")]
        if len(cells) >= 3 and all(_CSV_NAME.fullmatch(c) for c in cells):
            collector.header = cells


_PIPE_LEAD = re.compile(r"^\s*([%#>]+\s*)(?=\|)")


def _join_piped_header(collector: Collector, text: str, lineno: int) -> None:
    """A pipe table's header on two lines, one right under the other with the same columns (MATLAB's
    trainNetwork: `| Mini-batch | Validation |` over `|    Loss    |    Loss    |`): each column's name is its
    words top to bottom (`Mini-batch Loss`), and a column empty in both lines is none."""
    raw = [c.strip() for c in text.strip().strip("|").split("|")]
    above_line, above = collector.piped
    collector.piped = (lineno, raw)
    if above_line != lineno - 1 or len(above) != len(raw):
        return
    joined = [" ".join(w for w in pair if w) for pair in zip(above, raw, strict=True)]
    collector.header = [name for name in joined if name]


def _close_block(collector: Collector) -> None:
    block, collector.block = collector.block, []
    if len(block) == 1:
        name, value, lineno, step, rank = block[0]
        _observe_line(collector, f"{name}: {value}", lineno, step, rank)
    elif block:
        _, _, lineno, step, rank = block[0]
        _observe_line(collector, " | ".join(f"{n}: {v}" for n, v, *_ in block), lineno, step, rank)


def close(collector: Collector) -> None:
    """The end of the file: the record being read is complete."""
    _close_block(collector)


def _value(match: re.Match[str]) -> float | None:
    if match["special"]:
        return to_float(match["special"])
    text = match["num"].replace(",", "").replace("f", "e")  # Julia's `1.5f-3`
    try:
        return float(text)
    except ValueError:
        return None


# A line of PyTorch's module print (`print(model)`): `(bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, ...)`, a
# child's name in brackets and its constructor's arguments. Its numbers are the architecture, not a measurement.
_MODULE_REPR = re.compile(r"\s*\(\w+\): [A-Z]\w*\(")


def observe(collector: Collector, text: str, lineno: int, step: int | None, rank: int | None) -> None:
    """Remember one unclaimed line if it holds a number (a `name: value` line joins the record being read)."""
    if not _DIGIT.search(text) and not _NAN_OR_INF.search(text):
        return
    if text[:1] in " \t(" and _MODULE_REPR.match(text):
        collector.unread += 1  # counted in `analyze inspect` among the lines left unread
        return
    if "`" in text:  # Markdown's inline code around values (a log written as .md: loss `430.23`, a table's cells)
        text = text.replace("`", "")
    member = _BLOCK_LINE.match(text)
    if member:
        name = member["name"].strip()
        if any(name == n for n, *_ in collector.block):  # a field seen again: the next record begins
            _close_block(collector)
        value = f"{member['value']} ({member['mean']})" if member["mean"] else member["value"]
        collector.block.append((name, value, lineno, step, rank))
        return
    _observe_line(collector, text, lineno, step, rank)


# A numpy-printed array of one value per device or rank (`loss [9.21 9.20 nan ...]`): its first element,
# rank 0's, stands for it (the others are the same quantity on other devices).
_ARRAY = re.compile(r"\[\s*([-+]?(?:\d[\d.eE+-]*|nan|inf))(?:\s+[-+]?(?:\d[\d.eE+-]*|nan|inf))+\s*\]", re.I)


# A value's change said in a sentence, by Keras' ModelCheckpoint (`val_loss improved from 1.59240 to 1.58877,
# saving model to ...`) or an early-stopping helper (`Validation loss decreased (6.556 --> 6.542).  Saving
# model ...`): the value is now the second number; the rest of the sentence (a file name) holds no metric.
_CHANGE_NUMBER = r"[-+]?(?:\d[\d.]*(?:[eE][-+]?\d+)?|inf|nan)"
_TRANSITION = re.compile(
    r"(?P<name>[A-Za-z_][\w./-]*(?: [A-Za-z_][\w./-]*){0,2}) (?:improved?|decreased?|increased?|dropped|fell|rose) "
    rf"(?:from {_CHANGE_NUMBER} to (?P<to>{_CHANGE_NUMBER})"
    rf"|\(\s*{_CHANGE_NUMBER}\s*-+>\s*(?P<arrow>{_CHANGE_NUMBER})\s*\))"
)


_SCALED_COUNT = re.compile(r"[kKM](?![\w.])")  # a count's thousands or millions suffix (`569k`, `1.2M`)
_COUNTER_BEFORE = re.compile(r"(?i)\b(?:steps?|iters?|iterations?|updates?)\s*[:=#]?\s*$")


# A tuple of names beside a tuple of values (`train loss (min, avg, max): (-0.276, nan, 1152.610)`, Python's
# print of two tuples): each value takes its name, after the words before the names.
# A name in a tuple, or a call shown with its arguments (Julia's `@show (loss(tx, ty), now())`): the call's name
_TUPLE_NAME = r"[A-Za-z_][\w@./-]*(?:\([^()]*\))?"
_NAMED_TUPLE = re.compile(
    r"(?P<lead>(?:[A-Za-z_][\w@./-]*[ \t]+){0,3})"
    rf"\((?P<names>{_TUPLE_NAME}(?:[ \t]*,[ \t]*{_TUPLE_NAME}){{1,15}})\)"
    r"[ \t]*[:=]?[ \t]*\((?P<values>[^()]*)\)"
)
_TUPLE_VALUE = re.compile(
    r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eEf][-+]?\d+)?|(?:nan|inf)(?:16|32|64)?)"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?",  # a time stamp beside the values (`now()`)
    re.I,
)


# The same two tuples the other way round, values first and their names as a legend after them, then the
# line's own value (`Loss [31, 100](epoch, minibatch):  3.209`): the names take the values, the words before
# the tuples the value after them.
_TUPLE_LEGEND = re.compile(
    r"(?P<lead>(?:[A-Za-z_][\w@./-]*[ \t]+){1,3})[\[(](?P<values>[^()\[\]]*)[\])][ \t]*"
    r"\((?P<names>[A-Za-z_][\w@./-]*(?:[ \t]*,[ \t]*[A-Za-z_][\w@./-]*){1,15})\)(?P<sep>[ \t]*[:=])"
)


# Names joined by slashes beside values joined the same way, the k-th name taking the k-th value: `Loss(Train/Valid):
# 5.27/5.32`, `train/val loss: 0.5 / 0.6`, `loss/acc = 0.31/0.92`. One value at least has a point (`3/100` is a
# counter and its total).
_SLASH_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?|[-+]?(?:nan|inf)"
_SLASH_PAIR = re.compile(
    r"(?<![\w@./-])(?:(?P<lead>[A-Za-z_][\w@.-]*)(?:[ \t]+|(?=\()))?\(?"
    r"(?P<names>[A-Za-z_][\w@.-]*(?:/[A-Za-z_][\w@.-]*){1,3})\)?(?:[ \t]+(?P<tail>[A-Za-z_][\w@.-]*))?"
    rf"[ \t]*[:=][ \t]*(?P<values>(?:{_SLASH_NUM})(?:[ \t]*/[ \t]*(?:{_SLASH_NUM})){{1,3}})(?![\w./])",
    re.I,
)


def _unslashed(match: re.Match[str]) -> str:
    """`Loss(Train/Valid): 5.27/5.32` as `Train Loss: 5.27, Valid Loss: 5.32`, when names and values pair."""
    names, values = match["names"].split("/"), [v.strip() for v in match["values"].split("/")]
    if len(names) != len(values) or not any("." in v or v[-1:].isalpha() for v in values):
        return match.group(0)
    if values[-1].endswith("%"):  # `0.65/0.85%`: a share each
        values = [v if v.endswith("%") else f"{v}%" for v in values]
    lead, tail = match["lead"], match["tail"]
    # the split word first (`Train Loss`, `Train loss`), whichever of the two it was printed as
    split_first = bool(lead) and lead.lower() in _SPLIT_WORDS
    named = [" ".join(w for w in ((lead, n, tail) if split_first else (n, lead, tail)) if w) for n in names]
    return ", ".join(f"{n}: {v}" for n, v in zip(named, values, strict=True))


def _legend(match: re.Match[str]) -> str:
    pairs = _tuple_pairs(match)
    if pairs is None:
        return match.group(0)
    named = ", ".join(f"{name}: {value}" for name, value in pairs)
    return f"{named}, {match['lead'].strip()}{match['sep']}"


def _tuple_pairs(match: re.Match[str]) -> list[tuple[str, str]] | None:
    """(name, value) of a tuple of names matched with a tuple of values, when they pair one to one."""
    names = [n.split("(")[0].strip() for n in re.findall(_TUPLE_NAME, match["names"])]
    values = [v.strip() for v in match["values"].split(",")]
    if len(names) != len(values) or not all(_TUPLE_VALUE.fullmatch(v) for v in values):
        return None
    return list(zip(names, values, strict=True))


def _zipped(match: re.Match[str]) -> str:
    pairs = _tuple_pairs(match)
    if pairs is None:
        return match.group(0)
    return ", ".join(f"{match['lead']}{name}: {value}" for name, value in pairs)


# A quoted string with an escaped line break in it (`{"env_info": "sys.platform: linux\nPython: 3.9.0 ...",
# "config": "..."}`, OpenMMLab's json log header): a text a record carries, whose numbers are no fields of it.
_MULTILINE_STRING = re.compile(r""""(?:[^"\\\n]|\\.)*\\n(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*\\n(?:[^'\\\n]|\\.)*'""")


# A measure's setting in brackets between its name and its value (`Val Acc (sample=500): 77.40%`, `Recall (k=10): 0.5`,
# `Avg Reward (last 10): 2853.27`): how the measure was taken, no value of its own. A counter there is the record's
# (`Loss (epoch 3): 0.52`).
_QUALIFIER = re.compile(
    r"(?<=[A-Za-z0-9_])\s*\(\s*(?!(?:epoch|step|iter|iteration|batch|update|round|episode|ep|it)\b)"
    r"[A-Za-z_][\w.@]*(?:\s*=\s*|\s+)[-+]?\d[\d.,]*\s*\)(?=\s*[:=])",
    re.IGNORECASE,
)


def _observe_line(collector: Collector, text: str, lineno: int, step: int | None, rank: int | None) -> None:
    if "\\n" in text:
        text = _MULTILINE_STRING.sub('""', text)
    if "(" in text and "," in text:
        text = _TUPLE_LEGEND.sub(_legend, _NAMED_TUPLE.sub(_zipped, text))
    if "/" in text:
        text = _SLASH_PAIR.sub(_unslashed, text)
    if " from " in text or "->" in text:
        change = _TRANSITION.search(text)
        if change:
            text = f"{text[: change.start()]}{change['name']}: {change['to'] or change['arrow']}"
    if collector.gutter and collector.header:  # the rows' own bracketed column: progress, not a field
        text = _GUTTER.sub("", text, count=1)
    text = _QUALIFIER.sub("", text) if "(" in text and ")" in text else text
    text = unwrap_numbers(text)
    text = _FORMAT_FIELD.sub("{}", text) if ":" in text and "{" in text else text
    text = _ARRAY.sub(r" \1", text) if "[" in text else text
    text = _NAMED_DURATION.sub(_seconds, text) if ":" in text else text
    text = _unit_seconds(text) if "m" in text or "h" in text else text
    text = _CLOCK.sub("\x00T", text)
    text = _GLUED_COUNTER.sub(r"\1 ", text)
    text = _GLUED_VALUE.sub(r"\1 ", text) if "." in text else text
    text = _CODE_AT.sub(" | ", text) if ":" in text else text  # a field separator, as the logger meant it
    labels: list[str] = []
    values: list[float] = []
    percent: list[int] = []  # slots printed with a `%`: a share, divided by 100 once named (never a loss)
    rounded: dict[int, float] = {}  # slots printed as a zero to a fixed precision (its unit): less than it shows
    last = 0
    for match in _NUMBER.finditer(text):
        value = _value(match)
        if value is None:
            continue
        labels.append(text[last : match.start()])
        if (
            text[match.end() : match.end() + 1] in ("k", "K", "M")
            and _SCALED_COUNT.match(text, match.end())
            and _COUNTER_BEFORE.search(labels[-1])
        ):  # `Step: 569k`: a step count printed in thousands
            value *= 1e6 if text[match.end()] == "M" else 1e3
        if match["pct"]:
            percent.append(len(values))
        unit = rounded_zero(match["num"]) if value == 0 and match["num"] else 0.0
        if unit:
            rounded[len(values)] = unit
        values.append(value)
        last = match.end()
    if not values or len(values) > MAX_FIELDS:
        return
    period = _glued_period(labels, values) if not collector.header and len(values) >= 6 else 0
    if period:  # `[010] train_loss: 0.305 | dev_loss: 0.736 [011] train_loss: 0.274 | ...`: records glued on one line
        # each record from its opening to its last number: one template for all (a mark after the last one,
        # `>>> save models!`, would make it another, and records of one line must stay in their order)
        spans = [m.span() for m in _NUMBER.finditer(text) if _value(m) is not None]  # the numbers read above
        head = len(labels[0].lstrip())
        for k in range(0, len(values), period):
            begin = 0 if k == 0 else spans[k][0] - head
            _observe_line(collector, text[begin : spans[k + period - 1][1]].lstrip(), lineno, step, rank)
        return
    item = ""
    if collector.header:  # a row under a table header: each number takes its column's name
        row = text
        if collector.header_prefix and row.lstrip().startswith(collector.header_prefix):
            row = row.lstrip()[len(collector.header_prefix) :]
        named = _under_header(collector.header, row, labels, collector.header_words)
        mark = _TRAILING_MARK.search(row) if named == labels else None
        if mark:  # `19.6s  ← best`: a mark after the row's last cell, no column of the table
            trimmed = _under_header(collector.header, row[: mark.start()], labels, collector.header_words)
            if trimmed != labels:
                named, text = trimmed, text[: len(text) - (len(row) - mark.start())]
        if named != labels:
            item = _item_cell(row)
        labels = named
    # Indentation is no content: a header centred in a fixed width (`Learning iteration 9/101` one space further
    # in than `Learning iteration 10/101`) is one template
    key = "\x01".join([labels[0].lstrip(), *labels[1:]]) + "\x01" + _squash(text[last:])
    tpl = collector.templates.get(key)
    if tpl is None:
        if len(collector.templates) >= MAX_TEMPLATES:
            collector.unread += 1
            return
        tpl = collector.templates[key] = Template(
            key, text.replace("\x00T", "<time>").strip()[:300], lineno, labels=labels, percent=percent
        )
    tpl.rows.append(values)
    if rounded:
        tpl.rounded[lineno] = rounded
    if item:
        tpl.items[lineno] = item
    tpl.lines.append(lineno)
    tpl.context.append(-1 if step is None else step)
    tpl.ranks.append(-1 if rank is None else rank)


def _item_cell(row: str) -> str:
    """The words of a table row's first cell when they name what the row is about (`| Pedestrian | 13 | 0.81 |`,
    `person  0.72`), else "": a number, or a split's name (`train`, `val`), which says which records the row is."""
    first = next((c for c in _CELLS.split(row.strip().strip("|")) if c), "").strip()
    if not first or _DIGIT.search(first) or not re.fullmatch(r"[A-Za-z_][\w -]*", first):
        return ""
    return "" if first.split()[0].lower() in _SPLIT_WORDS else first


def _named_items(collector: Collector) -> None:
    """A table whose rows are items, not moments (a per-class AP table: `| Pedestrian | 13 | 510 | 0.923 |`, then
    `| Truck | ...`): its rows are left unread, not a series over time. Such rows name two items or more in their
    first cell. An item printed more often than every other one is a summary row printed at each evaluation
    (YOLO's `all` above its per-class rows at the end): its rows stay the template's records."""
    for tpl in collector.templates.values():
        if not tpl.items:
            continue
        counts = Counter(tpl.items.values())
        if len(counts) < 2:
            continue
        (top, most), (_, second) = counts.most_common(2)
        keep = [
            i for i, line in enumerate(tpl.lines) if line not in tpl.items or (most > second and tpl.items[line] == top)
        ]
        if len(keep) == len(tpl.lines):
            continue
        collector.unread += len(tpl.lines) - len(keep)
        for name in ("rows", "lines", "context", "ranks"):
            values = getattr(tpl, name)
            setattr(tpl, name, [values[i] for i in keep])
        tpl.items = {}
        tpl.first_line = tpl.lines[0] if tpl.lines else tpl.first_line
    for key in [k for k, t in collector.templates.items() if not t.rows]:
        del collector.templates[key]


def _glued_period(labels: list[str], values: list[float]) -> int:
    """The count of numbers in each record when one line holds several records of one format glued together (a
    paste or a file whose line breaks were lost: `[010] train_loss: 0.305 | dev_loss: 0.736 | micro f1 on dev:
    0.8189 [011] train_loss: 0.274 | ...`), else 0. Each record has three numbers at least, named by words; the
    text between one record's last number and the next one's first ends with what opens the line (`[`); and the
    first number of each record is a whole one that rises from record to record (its counter)."""
    opening = labels[0].lstrip()
    for period in range(3, len(values) // 2 + 1):
        if len(values) % period:
            continue
        junction = labels[period]
        if not opening or not junction.endswith(opening) or junction == labels[0]:
            continue
        if not any(c.isalpha() for c in "".join(labels[1:period])):
            continue
        if any(labels[k] != (junction if k % period == 0 else labels[k % period]) for k in range(period, len(labels))):
            continue
        firsts = values[::period]
        if all(v == round(v) for v in firsts) and all(b > a for a, b in itertools.pairwise(firsts)):
            return period
    return 0


# A logger's code location (`[train.py:1056]`, absl's `train.py:120]`): a line number, no metric.
_CODE_AT = re.compile(
    r"\[?\b[\w.-]+\.(?:py|pyx|cc|cpp|cu|c|h|hpp|rs|go|java|scala|jl|lua|js|ts):\d+\b\]?"
    r"|\([\w.-]+\.py\s+\d+\)"  # `(main.py 221)`
    r"|\[[\w./-]+:\d+:[A-Za-z_]\w*\]"  # `[%(module)s:%(lineno)d:%(funcName)s]`: ezpz's `[examples/vit:445:train_fn]`
    r"|\([A-Za-z_][\w]*[_.][\w.]*:\d+\)"  # logging's `(%(module)s:%(lineno)d)`: `(base_trainer:831)`
    r"|\([A-Za-z_]\w*:\d+\)(?=\s*(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b)"  # `(train:487) INFO:`
)
_COUNTER_CELL = re.compile(r"\s*\d+\s*/\s*\d+\s*")
# A table header whose names are single words: three to sixteen identifiers and nothing else.
_CSV_NAME = re.compile(r"[A-Za-z_][\w./%-]*(?: [A-Za-z_][\w./%-]*){0,2}")
_WORD_HEADER = re.compile(r"^\s*[A-Za-z_][\w./%-]*(?:[ \t]+[A-Za-z_][\w./%-]*){2,15}\s*$")


def _paired(words: list[str]) -> list[str]:
    """Header words with a split word joined to the name after it (`train loss`, `valid loss`)."""
    out: list[str] = []
    for word in words:
        if out and out[-1].lower() in _SPLIT_WORDS and word.lower() not in _SPLIT_WORDS:
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def _columns(text: str) -> list[tuple[str, int, int]]:
    """A header's words with the columns they span (a quote's `>` before it is no name)."""
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text) if re.search(r"[A-Za-z]", m.group())]


def _aligned(text: str, words: list[tuple[str, int, int]], labels: list[str]) -> list[str] | None:
    """The labels of a fixed-width row named by the header words whose columns its cells overlap (a
    right-aligned table whose names touch, `label  predict features`, over seven cells; a Chainer report
    that leaves a column blank until it is measured): each cell one number, each under one name, in order.
    None when a cell lies under no name or under a name another cell took."""
    found = list(re.finditer(r"\S+", text))
    cells = [c for c in found if _DIGIT.search(c.group())]
    if not cells or any(not _DIGIT.search(c.group()) for c in found[: found.index(cells[-1])]):
        return None  # a text cell before a number: another table's row (YOLO's `all  30  49 ...` under the train
        # header); one after the last number is a marker (Vowpal Wabbit's `h`, a holdout row)
    if len(cells) != len(labels) or len(cells) > len(words):
        return None
    named: list[str] = []
    taken = -1
    for i, cell in enumerate(cells):
        overlap = [min(cell.end(), end) - max(cell.start(), start) for _, start, end in words]
        best = int(np.argmax(overlap))
        if overlap[best] <= 0 or best <= taken or sum(1 for _ in _NUMBER.finditer(cell.group())) != 1:
            return None
        taken = best
        named.append(("" if i == 0 else " | ") + words[best][0] + ": ")
    return named


_TRAILING_MARK = re.compile(r"\s{2,}[^\d\s|][^\d|]*$")  # two spaces or more, then words or signs to the end


def _under_header(
    header: list[str], text: str, labels: list[str], words: list[tuple[str, int, int]] | None = None
) -> list[str]:
    """The labels of a table row named by the header above it, cell by cell (`0/119  6.51G  0.086`: a
    counter i/n, a value with its unit, a bare value); by column position when the cells do not line up one
    to one (see _aligned); the row's own labels when neither names them or a cell holds words or several
    numbers."""
    cells = [c for c in _CELLS.split(text.strip().strip("|").rstrip(": ")) if c]
    if len(cells) == len(header) + 1 and cells[0].strip().isdigit():
        # pandas prints a frame's index as a first column with no name (`pd.DataFrame(history.history)`):
        # the row's number, counting the records
        header = ["step", *header]
    if len(cells) != len(header):
        cells = [c.strip(",") for c in text.split()]  # `184.500 0.505   1.000`: one space between some cells
        if len(cells) == len(header) + 1 and not _DIGIT.search(cells[-1]):
            cells.pop()  # fastai v1's `0.507326 (00:13)`: the epoch's time after the columns, under no name
        if len(cells) != len(header):
            cells = [c for c in (c.strip() for c in text.strip().strip(",").split(",")) if c]  # CSV rows
            if len(cells) != len(header):
                return (_aligned(text, words, labels) if words else None) or labels
    named: list[str] = []
    # a first cell that names the row's split (`| val | 1.05 | 0.45 |` under `| phase | loss | acc |`): its values
    split = cells[0].strip() if not _DIGIT.search(cells[0]) and cells[0].strip().lower() in _SPLIT_WORDS else ""
    for i, (name, cell) in enumerate(zip(header, cells, strict=True)):
        name = f"{split} {name}" if split and i else name
        numbers = [m for m in _NUMBER.finditer(cell) if _value(m) is not None]
        rest = _NUMBER.sub("", cell)
        if len(numbers) == 1 and len(re.findall(r"[A-Za-z]", rest)) <= 3:  # a unit at most (G, MB, it/s)
            named.append(("" if i == 0 else " | ") + name + ": ")
        elif len(numbers) == 2 and _COUNTER_CELL.fullmatch(cell):
            named += [("" if i == 0 else " | ") + name + ": ", "/"]
        elif not numbers and (re.fullmatch(r"[A-Za-z_][\w -]*", cell.strip()) or cell.strip() == "\x00T"):
            if _counter_role(name.strip()):
                return labels  # a word under `Epoch`: another table's row (Ultralytics' `all  7866  9060 ..` summary)
            continue  # a text column (`train` under `Mode`, the Trainer's `No log`), a clock (fastai's `00:03`)
        else:
            return labels
    return named if len(named) == len(labels) else labels


def count_numbers(text: str) -> int:
    """How many numbers the generic reader sees in a line (clock times and dates not counted)."""
    return len(_NUMBER.findall(_CLOCK.sub(" ", text)))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:80]


def _name(label: str, previous: Slot | None, before: str, after: str, inner: bool = False) -> tuple[str, str]:
    """(raw name, role) of the slot whose preceding text is `label` and following text `after`."""
    if _THRESHOLD.search(label) and not (label.rstrip().endswith("<") and after.startswith(">")):
        return "", "value"  # `grad norm exceeds 1e3`, `loss < 1e-9`: a bound; `Loss: <1.574>` is a bracketed value
    closes = after.lstrip().startswith(")")  # `loss=1.27 (1.50)`: a running mean in parentheses
    if previous is not None:
        label = _LEADING_UNIT.sub("", label)  # 49.66GiB(52%): the unit belongs to the number before
        label = _SPACED_UNIT.sub("", label)
        label = label[rate_before.end() :] if (rate_before := _RATE.match(label)) else label  # `1.99 iters/s loss 5.39`
    bare = label.strip()
    if not bare and (rate_after := _RATE.match(after)):  # `iter 86 1.99 iters/s loss ..`: the unit names it
        return rate_after.group(0).strip(), "value"
    if previous is not None and bare in ("/", "of", "out of"):
        return previous.raw, "total"
    if previous is not None and closes and _MEAN_OPEN.fullmatch(bare):  # `(1.50)`, `(Avg 0.5566)`, `(avg: 0.5)`
        return previous.raw, "mean"
    rate = _RATE.match(after)
    if previous is not None and bare == "(" and rate:  # `loss = 0.86 (8468.2 examples/sec; ...)`
        # named with its unit, so that Caffe's `Iteration 9400 (11.67 iter/s, ..)` is a rate, not a counter `iter`
        return rate.group(0).strip(), "value"
    duration = _DURATION.match(after)
    if previous is not None and _OPENS.fullmatch(bare) and duration:
        # `loss=0.455 (1.349622s)`: the step's time; `loss=0.6418 [125.8 s]`, `dev=(...) [8.3 s]`: each part's
        return "time" + ("_ms" if duration.group(1) == "ms" else ""), "value"
    if previous is not None and bare in ("-", "~", "x", "*", "("):
        return "", "skip"  # a range (12009-12640), a shape (3x224), a share in parentheses
    shown = _SHOWN_CALL.search(label)
    if shown:  # `loss(x, y_oh) = 87.79f0`: a call shown with its value (Julia's `@show`, Python's `{f(x)=}`)
        return shown.group(1), "value"
    keyed = _KEY_THEN_COMMA.search(label)
    if keyed:  # a tuple's key then its value: `('loss', 0.53)`, Julia's `(:epoch, 0, :trn, 589.9f0)`
        return keyed["quoted"] or keyed["symbol"], "value"
    if _DASHED.search(label):  # `bce_dice_loss - 1.606`: a dash between a name and its value
        label = label.rstrip()[:-1]
    pieces = _CUT.split(label.rstrip())  # the name lies after the last separator, or there is none
    tail = pieces[-1].rsplit("\x00T", 1)[-1]  # `eta 0:03:37 lr 0.0005`: a clock ends the name before it
    tail = re.sub(r"(?<=\w)'s\b", "", tail)  # `valid_1's binary_logloss`: a possessive, not a word
    tail = re.sub(r"['\"{}\[\]()<>#]|^[\s:=]+|[\s:=]+$", " ", tail)
    tail = _UNIT.sub("", tail).strip(" :=-")
    short = _ABBREVIATION.search(tail)  # `Ep. 7 : Up. 306350`: an abbreviated name keeps its period
    tail = tail.strip(" :=.-")
    # `Best class avg mIOU is: 0.042`: a verb that ends the name takes no place among its words
    tail = _TRAILING_COPULA.sub("", tail)
    found = _WORDS.search(tail)
    if found and found.group(1).lower() in _COPULAS:  # `Score at iteration 0 is NaN`: named before the counter
        found = None
    if found and found.group(1) in _LOG_LEVELS:  # `[12:00:01 INFO] 0 epoch, 152 batch`: a level names nothing
        found = None
    if found:
        words = found.group(1).split()
        while len(words) > 1 and (any(c.isdigit() for c in words[0]) or words[0] in _LOG_LEVELS):
            if len(words) == 2 and words[1].lower() == "loss" and words[0][0].isalpha() and words[0] not in _LOG_LEVELS:
                break  # `F0 Loss`, `L1 Loss`, `S2S Loss`: the loss's own name, not a counter glued before it
            if _RANKED_STEM.fullmatch(words[0]):
                break  # `Top1 error`, `Acc5 err`, `Hits10 score`: a metric's own cut-off k, not a counter
            words.pop(0)  # "E5 iter[": the glued counter is no part of the name; nor `P590 INFO Train loss`'s level
        if _TIME_AFTER.match(after):  # `cost 6.450 seconds`: how long it took, whatever the word before
            words.append("time")
        name = " ".join(words) + ("." if short else "")
        if label.endswith("#") and not _counter_role(name):
            return "", "value"  # `Test net output #0`, `Process #1`: a number after `#` is an ordinal, not a measure
        return name, "value"
    if label.rstrip().endswith("|"):  # | name | value |: the name is the cell before
        cells = [c for c in (before + label).rstrip().rstrip("|").split("|")]
        cell = re.sub(r"[^\w\s./-]", " ", cells[-1] if cells else "").strip()
        if cell and not any(c.isdigit() for c in cell):
            return cell, "value"
    # (the gap after the number may be two spaces: `152  batch,`)
    postfix = (
        _POSTFIX_NAME.match(_CUT.split(re.sub(r"^\s+", " ", after))[0])
        if not label.rstrip().endswith(("=", ":")) or (previous is not None and bare == ":")
        else None
    )  # (`Step 03447: -14.91 E_h`: a colon right after a counter is the counter's, not a name's)
    if postfix and inner and postfix.group(1).strip().lower() in _SPLIT_WORDS:
        postfix = None  # `38501 train 2.673457`: a split word between two numbers names the one after it
    if postfix:  # `11.8750 loss, 1e-12 LR`: the name follows the number
        return postfix.group(1), "value"
    return "", "value"


def field_metric(key: str) -> str:
    """The metric of a field another reader found (a hint's unnamed pair, a progress-bar postfix key): the
    alias table, else the generic reader's naming (`reduced_train_loss` and `loss (batch)` are the loss)."""
    metric = canonical_metric(key)
    return metric if metric != key.strip() else metric_name(key)[1]


def field_name(key: str) -> tuple[str, str]:
    """(split, metric) of a field another reader found: `val_loss=0.6` in a Lightning bar's postfix or a
    `val_loss: 4.1` pair on a Megatron/NeMo line is the eval split's loss, not the train loss."""
    metric = field_metric(key)
    return "train" if metric == "learning_rate" else metric_name(key)[0], metric


def metric_name(raw: str) -> tuple[str, str]:
    """(split, canonical metric) of a logged key, as the generic reader names its slots (for the other
    readers' keys: `loss (batch)`, `reduced_train_loss`, `val/acc`)."""
    return _canonical(_UNIT.sub("", raw).strip(), "train")


def _tokens(raw: str) -> list[str]:
    """The lower-case words of a raw slot name (`Eval/Loss_avg` -> eval, loss, avg; camel case too:
    `ValLoss` -> val, loss, `learningRate` -> learning, rate; never inside capitals: `mAP`, `lossD`)."""
    return [t for t in re.split(r"[\s_./-]+", _CAMEL.sub(" ", raw).lower()) if t]


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")


def _canonical(raw: str, segment_split: str) -> tuple[str, str]:
    """(split, metric) of a raw slot name."""
    tokens = ["loss" if t == "losses" else t for t in _tokens(raw)]  # `iteration : 4, losses : 1266.86`
    while len(tokens) > 1 and (
        tokens[-1] in _COPULAS or tokens[-1] == "of"
    ):  # `Current loss is: 133.4`, `Loss of 0.01`
        tokens.pop()
    split = segment_split
    rest: list[str] = []
    for t in tokens:
        if t in _SPLIT_WORDS and len(tokens) > 1:  # the name's own split word wins over its segment's
            split = _SPLIT_WORDS[t]
        else:
            rest.append(t)
    if not rest:
        return split, canonical_metric(raw)
    if rest.count("loss") == 1 and all(t in LOSS_QUALIFIERS for t in rest if t != "loss"):
        return split, "loss"  # `total_loss`, `loss_last_batch`
    if rest[-1] == "cost" and all(t in LOSS_QUALIFIERS - {"batch"} for t in rest[:-1]):
        return split, "loss"  # `cost`, `avg_cost`; a `batch_cost` is the seconds a batch took (PaddlePaddle)
    joined = "_".join(rest)
    if len(rest) > 2 and rest[-1] == "to":  # Keras' `LearningRateScheduler setting learning rate to 0.001`
        rest = rest[:-1]
    head = rest[:-2] if rest[-2:] == ["learning", "rate"] else rest[:-1] if rest[-1] == "lr" else None
    if head is not None and all(t in LOSS_QUALIFIERS or t in _RATE_CHANGES for t in head):
        return split, "learning_rate"  # `lr`, `Current learning rate`, `reducing learning rate to`
    return split, canonical_metric(joined)


_SPLIT_HEADING = re.compile(r"^\W*([A-Za-z]+)\s*:\s*[A-Za-z]")  # `Validation: Rows =`, not `Val: 0.70`


def _segment_splits(labels: list[str]) -> list[str]:
    """The split each slot's segment announces. The line's own (`| valid | epoch 1 | loss 3.1`: the
    first split word before the first number) holds unless a segment names another (`| Test Loss: 0.3
    Acc: 0.8`: both eval); a new segment without one falls back to the line's."""
    head = re.findall(r"[A-Za-z]+", labels[0].lower()) if labels else []
    line = next((_SPLIT_WORDS[w] for w in head if w in _SPLIT_WORDS), "train")
    out, current = [], line
    group = ""  # `dev=(ACC@All:0.71,AUC@All:0.77)`: a split word opening a bracket names every field inside it
    for i, label in enumerate(labels):
        for bracket in _SPLIT_BRACKET.finditer(label):
            word = (bracket["word"] or "").lower()
            group = "" if bracket["close"] else _SPLIT_WORDS.get(word, group if not word else "")
        pieces = _CUT.split(label) if i else [label.rsplit("|", 1)[-1]]
        for j, piece in enumerate(pieces):
            words = re.findall(r"[A-Za-z]+", piece.lower())
            said = _SPLIT_WORDS.keys() & words[: max(1, len(words) - 1)]
            if said:  # `train_loss`, `Evaluating test: L1`: a split word before the name
                current = _SPLIT_WORDS[next(w for w in words if w in said)]
                heading = _SPLIT_HEADING.match(piece)
                if j < len(pieces) - 1 or (heading and heading[1].lower() in said):
                    # fairseq's `| epoch 081 | valid on 'valid' subset | loss 6.8`: a segment of words only,
                    # or `Epoch[0] Validation: Rows = 200, loss = 0.69`: a split word heading the fields
                    # after it, names the split of the rest of the line
                    line = current
            elif j > 0 and words:
                current = group or line  # a new segment that names no split (inside a split's bracket: its)
        out.append(current)
    return out


_SPLIT_BRACKET = re.compile(r"(?P<word>[A-Za-z]+)?\s*[:=]?\s*[(\[{]|(?P<close>[)\]}])")


# what follows a number directly: its unit (`24.80dB`, `53.4s`, `12%`, Joey NMT's `evaluation: 0.0000[sec]`)
_GLUED_UNIT = re.compile(r"[A-Za-z%]|[\[(](?:sec|secs|s|ms|min|h|hrs?|seconds|minutes|hours)[\])]")
# A time unit right after a number (`111ms`, `2.5 sec`): the value is a duration, whatever word names it
_TIME_UNIT = re.compile(r"(?:ms|s)\b| ?(?:sec|secs|seconds|min|mins|minutes|hrs?|hours)\b")  # (VW's `1 h`: a flag)
_TIMED_NAME = re.compile(r"(?i)time|eta|elapsed|duration|took|spent|cost|latency|speed|wait|remain")
_INDEX_OPEN = re.compile(r"([A-Za-z_][\w.]*)\[\s*$")
_INDEX_CLOSE = re.compile(r"\s*\]\s*[:=]\s*")


_SPLIT_LETTER = re.compile(r"(?<![\w])([TtVv])_([A-Za-z]\w*)")
_SPLIT_SUFFIX = re.compile(r"(?<![\w])([A-Za-z][A-Za-z0-9]*)_([TtVv])(?![\w])")  # `acc_t ... acc_v`


def _split_letter_pairs(labels: list[str]) -> set[str]:
    """Stems printed with both a `T_` and a `V_` prefix on one line (`T_Loss ... V_Loss`, `T_acc ... V_acc`), or
    both a `_t` and a `_v` suffix (`acc_t: 0.083 | acc_v: 0.125`): there the letters are the train and validation
    splits (a lone `V_loss` may be an RL value loss, a lone `loss_v` a value head's)."""
    found: dict[str, set[str]] = {}
    for label in labels:
        for match in _SPLIT_LETTER.finditer(label):
            found.setdefault(match.group(2).lower(), set()).add(match.group(1).upper())
        for match in _SPLIT_SUFFIX.finditer(label):
            found.setdefault(match.group(1).lower(), set()).add(match.group(2).upper())
    return {stem for stem, letters in found.items() if letters == {"T", "V"}}


def _name_slots(tpl: Template) -> None:
    tail = tpl.key.rsplit("\x01", 1)[-1]
    named, splits = _label_slots(tuple(tpl.labels), tail)
    slots = [Slot(*fields) for fields in named]
    following = [*tpl.labels[1:], tail]
    _judge_slots(tpl, slots, splits, following)
    tpl.slots = slots


@functools.lru_cache(maxsize=4096)
def _label_slots(labels: tuple[str, ...], tail: str) -> tuple[tuple[tuple[str, str, str, str], ...], tuple[str, ...]]:
    """Each slot's (raw, metric, split, role) as the text around it names it, and each slot's split: the part of
    naming that reads the labels alone. Files of one framework print the same line shapes, so a process that
    reads many of them (triage) names each shape once; the caller judges the values (`_judge_slots`)."""
    slots: list[Slot] = []
    splits = _segment_splits(list(labels))
    before = ""
    following = [*labels[1:], tail]
    paired = _split_letter_pairs(list(labels))
    group = ""  # `loss[loss=0.66, ...], tot_loss[loss=0.60, ...]`: the group a field lies in
    colon_group = ""  # `Accs: Train: 0.73, Val: 0.70`
    loss_group = False  # inside `[Losses: ...]`
    indexed = ""  # `train_batch_loss[ 6510 ]:  1.57`: the name whose bracketed index came before the value
    counted = ""  # `Mean test loss of 63 batches: 4.40`: the name before a count that qualifies the next value
    for i, label in enumerate(labels):
        raw, role = _name(label, slots[-1] if slots else None, before, following[i], inner=i + 1 < len(labels))
        if counted and role == "value":
            raw, counted = counted, ""
        qualifier = _COUNTED_OVER.search(raw) if role == "value" and raw else None
        unit = _COUNT_UNIT.match(following[i]) if qualifier else None
        if qualifier and unit and re.match(r"\s*[:=]", following[i][unit.end() :]):
            counted = raw[: qualifier.start()].strip()
            before += label + "0"
            slots.append(Slot(raw, "", "train", "skip"))
            continue
        keyed = _KEYED.search(before + label)
        if keyed and role == "value":  # `{"key": "eval_accuracy", "value": 0.91}`: the record's key names its value
            raw = keyed["name"] if raw.lower() == "value" else f"{keyed['name']} {raw}"
        opens_index = _INDEX_OPEN.search(label)
        if opens_index and _INDEX_CLOSE.fullmatch(following[i]):
            raw, role, indexed = "step", "value", opens_index.group(1)  # the index counts the records
        elif indexed and _INDEX_CLOSE.fullmatch(label):
            raw, role, indexed = indexed, "value", ""
        before += label + "0"
        opened = _GROUP_OPEN.search(label)
        if "]" in label[: opened.start() if opened else len(label)]:
            group = ""
        if opened:
            group, raw = opened["group"], opened["field"]
        if group and raw and role == "value" and group.lower() != "loss":  # `loss[...]` holds the batch's own
            raw = group if raw.lower() == "loss" else f"{group} {raw}"
        last_piece = _CUT.split(label)[-1]
        named_group = _COLON_GROUP.search(last_piece) or _split_group(last_piece)
        if named_group:  # `Accs: Train: 0.73, Val: 0.70`: the fields after a group's name are its split's
            colon_group, raw = named_group["group"], named_group["field"]
        if colon_group and raw and all(w.lower() in _SPLIT_WORDS or w.lower() == "best" for w in raw.split()):
            raw = f"{raw} {colon_group}"
        elif raw and not named_group:
            colon_group = ""
        if _LOSS_GROUP.search(label):  # `[Losses: x 0.56, ..., total nan, recall: 0.0]`: the group's fields are
            loss_group = True  # its parts (`total` the whole), up to the bracket that closes it
        elif "]" in label or ")" in label:
            loss_group = False
        if (
            loss_group
            and raw
            and role == "value"
            and not _metric_like(m := _canonical(raw, "train")[1])
            and not _SCORE.search(m)
        ):
            raw = f"{raw} loss"
        if role in ("total", "mean", "skip"):
            prev = slots[-1]
            slots.append(
                Slot(
                    prev.raw,
                    prev.metric + ("_avg" if role == "mean" else ""),
                    prev.split,
                    "value" if role == "mean" and prev.role == "value" else role,
                )
            )
            if role == "total" and prev.role in ("value", "unnamed"):
                prev.role = "counter"
            continue
        if raw.strip().lower() in RECORD_IDS:  # who printed the line and from where: an id, never a metric
            slots.append(Slot(raw, "", "train", "skip"))
            continue
        if raw and role == "value" and _TIME_UNIT.match(following[i]) and not _TIMED_NAME.search(raw):
            raw = f"{raw} time"  # `Loss:111ms`, `Step:688ms`: how long the part took, not a loss or a counter
        unit = _COUNT_UNIT.match(following[i]) if raw.lower() in _COUNTER_PREPOSITIONS | {""} else None
        if unit and role == "value":  # `After 62000 sequences (33.2Hr): Obj = -8.46`: a count of what was seen
            raw = unit.group(1)
        counter = "step" if unit and role == "value" else _counter_role(raw)
        if counter:
            slots.append(Slot(raw, counter, "train", counter))
        elif raw:
            letter = _SPLIT_LETTER.fullmatch(raw.strip())
            suffix = _SPLIT_SUFFIX.fullmatch(raw.strip())
            if letter and letter.group(2).lower() in paired:  # `T_Loss 11.06 | ... | V_Loss nan`: train, validation
                raw = ("train " if letter.group(1) in "Tt" else "val ") + letter.group(2)
            elif suffix and suffix.group(1).lower() in paired:  # `acc_t: 0.083 | acc_v: 0.125`
                raw = ("train " if suffix.group(2) in "Tt" else "val ") + suffix.group(1)
            split, metric = _canonical(raw, splits[i])
            if metric == "learning_rate":  # `val_mae: 2.78 lr:0.001`: the optimizer's, whatever split is near
                split = "train"
            rate = _RATE.match(following[i])
            if rate and re.match(r"\s*[:=]", following[i][rate.end() :]):
                rate = None  # `iter time (s): 1.010 samples/sec: 0.990`: the next field's name, not this unit
            if rate and metric not in _KNOWN:  # `Speed: 95.7 samples/sec`: the unit says what it counts
                metric = f"{rate.group(1).lower()}_per_second"
            slots.append(Slot(raw, metric, split))
        else:
            slots.append(Slot("", "", "train", "unnamed"))
    return tuple((s.raw, s.metric, s.split, s.role) for s in slots), tuple(splits)


def _judge_slots(tpl: Template, slots: list[Slot], splits: tuple[str, ...], following: list[str]) -> None:
    """The naming that reads the values: counts, totals and fractions among the slots the labels named."""
    # `learn: 0.17  test: 0.15`: a value named by its split alone is that split's objective; whole numbers in
    # every row (`train 1199` / `val 166`: the size of each split) are a count, and a number with a unit
    # glued on (`Test:24.80dB`, a PSNR) is no objective.
    table = np.asarray(tpl.rows, dtype=np.float64)
    counts = np.isfinite(table) & (table == np.round(table)) & (table >= 0)
    # `train=0.00000000 valid=0.0`: a loss of exactly 0, no count; `TRAIN [0][0/1938]`..`TRAIN [3]`: an epoch's
    whole = (np.all(counts, axis=0) & np.any(table >= 1, axis=0)) if tpl.rows else []
    totals = [i for i, s in enumerate(slots) if s.role == "total" and i and slots[i - 1].role == "counter"]
    if totals and tpl.rows:  # `D(G(z)): 0.3617 / 0.0005`: two fractions are no count of a total
        integral = np.all(np.isfinite(table) & (table == np.round(table)), axis=0)
        for i in totals:
            # `test accuracy: 20.78%, (512570/2466133)`: a total that differs from record to record is what was
            # counted that time (correct of the tokens seen), not the length of a loop that a counter runs through
            varies = len(np.unique(table[:, i])) > max(2, len(tpl.rows) // 2)
            if not (integral[i] and integral[i - 1]) or varies:
                slots[i - 1].role = "value" if slots[i - 1].raw else "unnamed"
                slots[i].role = "skip"
    # `Train: 0.4997, Val: 0.5309, Test: 0.5288, Loss: 0.6932`: beside a train loss named as such, a value
    # named `train` is another measure (an AUC), and so are the other splits' values printed like it.
    bare_splits = {
        _SPLIT_WORDS[s.raw.strip().lower()]
        for s in slots
        if s.role == "value" and s.raw.strip().lower() in _SPLIT_WORDS
    }
    measured = "train" in bare_splits and any(
        o.metric == "loss" and o.split == "train" and o.raw.strip().lower() not in _SPLIT_WORDS for o in slots
    )
    for i, slot in enumerate(slots):
        bare = slot.raw.strip().lower()
        if (
            slot.role == "value"
            and not measured
            and bare in _SPLIT_WORDS
            and not (i < len(whole) and whole[i])
            and not _GLUED_UNIT.match(following[i])
            and not any(o.metric == "loss" and o.split == _SPLIT_WORDS[bare] for o in slots)
        ):
            slot.metric, slot.split = "loss", _SPLIT_WORDS[bare]
        elif (
            slot.role == "value"
            and bare in _SPLIT_WORDS
            and i == 0
            and i < len(whole)
            and whole[i]
            and len(tpl.rows) >= 2
            and bool(np.all(np.diff(table[:, 0]) > 0))
        ):  # `Train 26, loss: 3.67` then `Train 27, ...`: the split's records counted by their epoch
            slot.metric = slot.role = "epoch"
    for i, slot in enumerate(slots):  # `Batch 0.439 (0.445)`: a meter named like a counter (the batch's
        # seconds, with its running mean) holds fractions; the batches and steps a loop counts are whole
        if slot.role in ("step", "batch") and slot.raw and tpl.rows and i < table.shape[1]:
            column = table[:, i][np.isfinite(table[:, i])]
            if len(column) and not bool(np.all(column == np.round(column))):
                slot.split, slot.metric = _canonical(slot.raw, "train")
                slot.role = "value"
                if i + 1 < len(slots) and slots[i + 1].role == "mean":
                    slots[i + 1] = Slot(slot.raw, slot.metric + "_avg", slot.split)
    for i in range(1, len(slots)):  # `Loss after epoch 3: 0.71`: the value is named before the counter(s)
        j = i - 1
        while j > 0 and slots[j].role in ("step", "epoch", "batch") and not _counter_head(slots[j].raw):
            j -= 1  # `loss of epoch20-batch-0:0.17`: the head is before the first counter
        head = _counter_head(slots[j].raw) if slots[j].role in ("step", "epoch", "batch") else ""
        if slots[i].role == "unnamed" and head:
            split, metric = _canonical(head, splits[i])
            slots[i] = Slot(head, metric, split)
    for slot in slots:  # an unnamed i/n counter: a step, or the batch within the epoch beside it
        if slot.role == "counter" and slot.raw == "":
            slot.role = "batch" if any(s.role == "epoch" for s in slots) else "step"
            slot.metric = slot.role
        elif slot.role == "counter" and not _counter_role(slot.raw) and _metric_like(_canonical(slot.raw, "")[1]):
            # `acc=5401/10000`: a metric's count of its total is a share (divided in finish), no counter
            slot.split, slot.metric = _canonical(slot.raw, "train")
            slot.role = "value"
        elif slot.role == "counter":  # a named i/n: an epoch, a batch, else a step counter
            slot.role = slot.metric = _counter_role(slot.raw) or "step"
    if any("loss" in slot.raw.lower() for slot in slots):
        for slot in slots:  # `Value function loss: .. | Mean cost: 0.00`: the losses are named; a `cost`
            # beside them is an episode's (constrained RL's), not the objective
            words = _tokens(slot.raw)
            if slot.role == "value" and slot.metric == "loss" and words and words[-1] == "cost":
                slot.metric = canonical_metric("_".join(words))


# Fields that say who printed a record and from where, never a measurement: Lightning's logger version in every bar
# (`v_num`), and the attributes Python's logging puts in a JSON log record or an MLPerf MLLOG line (the source line,
# the process and thread ids, the clock's milliseconds). A bare `process` or `thread` is one only as a JSON record's
# key (`JSON_RECORD_IDS`): printed in a line it may count the batches (Kaldi's `Process 100/3161`).
RECORD_IDS = {"v_num", "lineno", "line_no", "pid", "tid", "process_id", "thread_id", "msecs", "relativecreated"}
JSON_RECORD_IDS = RECORD_IDS | {"process", "thread"}


_TEST_WORDS = {"test", "testing", "tst"}


def _apart_from_validation(slots: list[Slot]) -> None:
    """`Val Acc: 0.214, Test Acc: 0.189`, `Vali Loss: 0.52 Test Loss: 0.41`: a held-out test set's measure beside
    the validation set's own on one line is `test_<metric>` of the eval split, not a second value of the same
    series at the same step. A test measure alone stays the eval split's."""
    named: dict[tuple[str, str], list[Slot]] = {}
    for slot in slots:
        if slot.role == "value" and slot.split == "eval" and slot.metric:
            named.setdefault((slot.split, slot.metric), []).append(slot)
    for group in named.values():
        tests = [s for s in group if _TEST_WORDS & set(_tokens(s.raw))]
        if tests and len(tests) < len(group):
            for slot in tests:
                slot.metric = f"test_{slot.metric}"


def _counter_role(raw: str) -> str | None:
    """`step`, `epoch` or `batch` for a counter's name (`global step`, `TRAIN EPOCH`, `batch_idx`, an
    abbreviation such as `It.`, `Ep.`, `Up.`), else None."""
    if _ABBREVIATION.fullmatch(raw):
        stem = raw[:-1].lower()
        return next((role for word, role in _COUNTER_WORDS if word.startswith(stem)), None)
    low = re.sub(r"[\s-]+", "_", raw.lower())
    affixed = _COUNTER_AFFIX.fullmatch(low)  # `epoch_num`, `cur_iter`, `step_id`: the counter's own number
    if affixed:
        low = affixed["name"]
    bare = "_".join(w for w in low.split("_") if w not in _SPLIT_WORDS)  # `TRAIN EPOCH 0:`, `train_num_updates`
    if bare in _EPOCH_NAMES:
        return "epoch"
    timed = low.endswith("_step") and bool(_METRIC_WORD.search(low[: -len("_step")]))  # `time_each_step=4.83s`
    if low in _STEP_NAMES or bare in _STEP_NAMES or (low.endswith("_step") and not timed) or low == "global_steps":
        return "step"
    if low in _BATCH_NAMES:
        return "batch"
    words = low.split("_")  # `Grad overflow on iteration 1860`, `NaN loss at step 40`: an event's counter
    if len(words) >= 3 and words[-2] in _COUNTER_PREPOSITIONS:
        return _counter_role(words[-1])
    split = next((w for w in _SPLIT_WORDS if low.startswith(w) and low[len(w) :] in _COUNTER_NAMES), None)
    if split:  # a split glued to its counter: PaddlePaddle's `Pass 0, trainbatch 70, loss ..`
        return _counter_role(low[len(split) :])
    if len(words) == 2 and words[0] in _COUNTER_PREPOSITIONS and words[1] in _COUNTER_NAMES:
        return _counter_role(words[1])  # `... ACC 0.0 on epoch=18`: the record's counter, said last
    # `traing iter`, `outer epoch`: a counter word ends the name, the words before it say nothing measured
    # (`time per iter`, `loss step` name a quantity)
    if (
        2 <= len(words) <= 3
        and words[-1] in _COUNTER_NAMES
        and all(w.isalpha() and w not in _SPLIT_WORDS for w in words[:-1])  # `train batch`: as `batch` above
        and not any(_METRIC_WORD.search(w) or w in _COUNTER_PREPOSITIONS | {"per", "avg", "mean"} for w in words[:-1])
    ):
        return _counter_role(words[-1])
    return None


_COUNTER_AFFIX = re.compile(r"(?:(?:cur|curr|current)_)?(?P<name>epoch|step|iter|iteration|batch)(?:_(?:num|no|id))?")
_LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL"}
_VALIDATION = {"val", "vali", "valid", "validation", "eval", "evaluation", "dev"}
_MEAN_OPEN = re.compile(r"\(\s*(?:(?:avg|average|mean|ema|smoothed|running)\s*[:=]?\s*)?", re.I)
_DASHED = re.compile(r"[A-Za-z_]\w* - $")
# (arguments: two names or more, `loss(x, y)`; `Obj(log[Pzx])` and `Acc(val)` are names with a qualifier)
_SHOWN_CALL = re.compile(r"(?:^|[\s,;(])([A-Za-z_]\w*)\(\s*[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)+\s*\)\s*=\s*$")
# A quoted name or a symbol (Julia's, Ruby's `:loss`) then a comma, closing the text before a value: a key in a
# sequence of key, value pairs. A bare word before a comma is a field of its own (`epoch 3, 0.53`), not a key.
_KEY_THEN_COMMA = re.compile(
    r"""(?:(?P<q>['"])(?P<quoted>[A-Za-z_][\w./@ -]*)(?P=q)|(?<![\w:]):(?P<symbol>[A-Za-z_]\w*))\s*,\s*$"""
)
_ABBREVIATION = re.compile(r"(?<![\w.])[A-Za-z]{2,4}\.$")
_COUNTER_WORDS = (("step", "step"), ("iteration", "step"), ("update", "step"), ("epoch", "epoch"), ("batch", "batch"))
_GROUP_OPEN = re.compile(r"(?P<group>[A-Za-z_][\w.]*)\[\s*(?P<field>[A-Za-z_][\w.]*)\s*[=:]\s*$")
# A counter glued to its word (`epoch20-batch-0`, `iter_500`): the number is the counter's, not part of a name.
_SCORE = re.compile(r"recall|precision|prec|acc|top\d|hit|ndcg|mrr|dice|psnr|ssim")  # a score, no loss part
_LOSS_GROUP = re.compile(r"(?i)\blosse?s?\s*:\s*[A-Za-z_]\w*\s*$")  # `Losses: x` (a group's heading, its first field)
# A record that names its one value in another field: MLPerf's `:::MLLOG {"key": "eval_accuracy", "value": 0.91}`,
# `{"metric": "loss", "value": ...}`, `{'name': 'acc', 'value': {'top1': ..}}` (then a field of the value's dict).
_KEYED = re.compile(
    r"""["'](?:key|name|metric|tag)["']\s*:\s*["'](?P<name>[A-Za-z][\w./-]{0,60})["']\s*,\s*"""
    r"""["']value["']\s*:\s*(?:\{(?:[^{}]*,)?\s*["'][^"',{}]*["']\s*:\s*)?$"""
)
_COLON_GROUP = re.compile(r"(?P<group>[A-Za-z][A-Za-z_]*)\s*:\s*(?P<field>[A-Za-z][A-Za-z_]*)\s*[:=]\s*$")
_SPACE_GROUP = re.compile(r"(?:^|\s)(?P<group>[A-Za-z][\w@]*)\s+(?P<field>[A-Za-z]+)\s*[:=]\s*$")


def _split_group(text: str) -> re.Match[str] | None:
    """`iou train: 0.086  eval: 0.046`: a measure's name, then its value per split, each split named alone (the
    fields after it are that measure's, not each split's objective). Not a split word, a counter or a verb."""
    group = _SPACE_GROUP.search(text)
    if group is None or group["field"].lower() not in _SPLIT_WORDS:
        return None
    name = group["group"].lower()
    return None if name in _SPLIT_WORDS or name in _NOT_A_GROUP or _counter_role(name) else group


_NOT_A_GROUP = {"best", "final", "mean", "avg", "average", "total", "the", "on", "for", "of", "in", "at", "and", "is"}
# A duration printed as str(timedelta) after a name that says it is one (`time delta: 0:00:02.26`, `Elapsed:
# 0:00:57`, `epoch time 0:01:05`): that many seconds, a value like any other. Other clocks are times of day.
_NAMED_DURATION = re.compile(
    r"(?i)(\b(?:elapsed|duration|delta|took|spent|cost|(?:epoch|iter(?:ation)?|step|batch)[ _]time"
    rf"|time[ _](?:elapsed|taken|delta|spent|cost))\b[\s:=]*){TIMEDELTA}(?![\d:])"
)


def _seconds(match: re.Match[str]) -> str:
    return f"{match.group(1)}{timedelta_seconds(match.groups()[1:])!r}"


# A duration written in units (`1m 8s`, `2h 5m`, `1h 2m 3.5s`; after a word that says it is one, also `2m`, `3h`):
# one value in seconds, so that a line is one template whatever its durations' sizes (CatBoost's `total: 15.2s`
# then `total: 1m 8s`, `remaining: 2m`). A lone `5m` elsewhere may be meters or millions.
_UNIT_DURATION = re.compile(
    r"(?<![\w.])(?:(?P<h>\d+)\s?h\s?(?P<hm>\d+)\s?m(?:\s?(?P<hms>\d+(?:\.\d+)?)\s?s)?"
    r"|(?P<m>\d+)\s?m\s?(?P<ms>\d+(?:\.\d+)?)\s?s)(?![\w])"
)
_NAMED_UNIT = re.compile(r"(?i)(\b(?:total|remaining|eta|elapsed|left|took|time)[\s:=]+)(\d+)\s?([hm])(?![\w])")
# A duration spelled out in words, two units or more (`1 days, 7 hours, 32 minutes, 14 seconds`, `2 hours and 5
# minutes`): one value in seconds too, not its first number (PyMARL's `Estimated time left:` had read as 1).
_WORD_UNIT = r"(\d+(?:\.\d+)?)\s*(days?|hours?|hrs?|minutes?|mins?|seconds?|secs?)\b"
_WORD_DURATION = re.compile(rf"(?i)(?<![\w.]){_WORD_UNIT}(?:(?:,\s*|\s+and\s+|\s+){_WORD_UNIT})+")
_WORD_PART = re.compile(rf"(?i){_WORD_UNIT}")
_WORD_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _unit_seconds(text: str) -> str:
    """The text with each duration written in units as its seconds (`1m 8s` -> `68s`)."""

    def compound(match: re.Match[str]) -> str:
        hours, minutes = int(match["h"] or 0), int(match["hm"] or match["m"] or 0)
        return f"{hours * 3600 + minutes * 60 + float(match['hms'] or match['ms'] or 0):g}s"

    def spelled(match: re.Match[str]) -> str:
        parts = _WORD_PART.findall(match.group(0))
        return f"{sum(float(n) * _WORD_SECONDS[unit[0].lower()] for n, unit in parts):g}s"

    text = _WORD_DURATION.sub(spelled, text)
    text = _UNIT_DURATION.sub(compound, text)
    return _NAMED_UNIT.sub(lambda m: f"{m[1]}{int(m[2]) * (3600 if m[3].lower() == 'h' else 60)}s", text)


_GLUED_COUNTER = re.compile(r"(?i)(?<![\w./\\])(epoch|batch|iter|iteration|step)[-_]?(?=\d+\b)")  # not in a path
# A value glued to a metric's name (`mean_loss0.0528188`, `lr0.001`): the name ends where the number starts.
_GLUED_VALUE = re.compile(
    r"(?i)(?<![\w.])([A-Za-z_]*(?:loss|acc|accuracy|lr|err|error|ppl|perplexity|reward))(?=[-+]?\d+\.\d+)"
)
_COUNTER_PREPOSITIONS = {"on", "at", "in", "of", "after", "before", "during"}
# A ranking metric's name with its cut-off glued on (`Top1`, `acc5`, `Hits10`, `Recall20`, `mAP50`, `NDCG10`).
_RANKED_STEM = re.compile(r"(?i)(?:top|acc|hits?|recall|prec|precision|rouge|bleu|map|ndcg|mrr|rank|ap)[-_]?\d+")
_COUNTED_OVER = re.compile(r"\s+(?:of|over|on|across)$", re.I)  # `loss of` before `63 batches: 4.40`
_COUNT_UNIT = re.compile(
    r"\s*(steps|iterations|iters|updates|batches|sequences|samples|examples|episodes)\b(?!\s*(?:/|per\b))", re.I
)


def _counter_head(raw: str) -> str:
    """The words before the preposition of an event's counter (`Loss` of `Loss after epoch`), or ""."""
    words = raw.split()
    if len(words) >= 3 and words[-2].lower() in _COUNTER_PREPOSITIONS:
        return " ".join(words[:-2])
    return ""


def _metric_like(metric: str) -> bool:
    """A name a metric would have: a known one, a metric word in it, or a word of it a loss function's (`nrmse`,
    `smape`, `bpd`)."""
    return metric in _KNOWN or bool(_METRIC_WORD.search(metric)) or any(w in LOSS_FUNCTIONS for w in metric.split("_"))


def _drop_reprint(tpl: Template) -> None:
    """The last record printed again, counter and values alike, after the counter went past it (LightGBM's
    `Early stopping, best iteration is:` then `[13] train's rmse: .. valid's rmse: ..` after `[113]`): a
    reminder of the best one, not a record after the others."""
    if len(tpl.rows) < 3:
        return
    last, before = tpl.rows[-1], tpl.rows[-2]
    went_past = bool(last) and math.isfinite(last[0]) and math.isfinite(before[0]) and last[0] < before[0]
    if not went_past or not any(_same_row(row, last) for row in tpl.rows[:-1]):
        return
    for column in (tpl.rows, tpl.lines, tpl.context, tpl.ranks):
        if len(column) == len(tpl.rows) and column is not tpl.rows:
            column.pop()
    tpl.rows.pop()


def _same_row(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


def _is_record(tpl: Template) -> bool:
    """Records carry a metric-like name (loss, acc, lr, norm, reward, ...): a number after `line`, `pid`
    or a path repeats in warnings without being a metric. Printed once, only an explicit record
    (two `name: value` / `name=value` fields or more)."""
    values = [s for s in tpl.slots if s.role == "value" and s.metric]
    if _LEVEL.search(tpl.example):
        return False  # a warning/error line, whose numbers describe a problem (an event)
    if _per_item(tpl):
        return False  # `class [3] IoU 34.51` for each class at each evaluation: a breakdown, no time series
    if not any(_metric_like(s.metric) for s in values):
        return _counted(tpl, values)  # a name no list knows (`psnr`, `ssim`): trusted once it recurs, counted
    if len(tpl.rows) >= 2:
        return True
    if (
        len(values) >= _SETTINGS_FIELDS
        and 4 * sum(_metric_like(s.metric) for s in values) < len(values)
        and any(_SETTING_VALUE.search(label) for label in tpl.labels)
    ):  # printed once: dozens of fields, mostly settings (`n_layer`, `lora_r`, `avg_loss: 0`) beside text values
        return False
    # Printed once it must also carry a loss: a settings dump (`learning_rate=5e-05, max_grad_norm=1.0`)
    # is explicit too, and is no record of training.
    # `name: 1.0`, `name=1.0`, JSON's `"name": "1.0"`, or `| name 1.0` (a name right after a field separator)
    # A counter is a field too: `step = 0, loss = 9.76` (a paste of the first record) is one.
    explicit = sum(bool(_EXPLICIT.search(label)) for label in tpl.labels)
    lossy = any(
        s.metric.endswith("loss") or "loss" in s.metric.split("_") or s.metric in LOSS_FUNCTIONS for s in values
    )
    counters = sum(s.role in ("step", "epoch", "batch") for s in tpl.slots)
    # `step 56000 epoch 6 learning rate 0.429 step-time 0.364 loss 53.745`: no separator, but every number
    # after the first stands right after a name of a few words, and a counter opens the record: explicit too
    spaced = len(tpl.labels) >= 3 and counters >= 1 and all(_SPACED_NAME.fullmatch(x) for x in tpl.labels[1:])
    return len(values) + min(counters, 1) >= 2 and (explicit >= 2 or spaced) and lossy


_SETTINGS_FIELDS = 20  # fields of a line printed once from which mostly non-metric names make it a settings dump
# A value no metric has, beside the numbers of a settings dump: a quoted string, a boolean, None (`'proj_dir': 'out'`)
_SETTING_VALUE = re.compile(r"""[:=]\s*(?:'[^']*'|"[^"]*"|True|False|None|true|false|null)\s*[,}]""")
COUNTED_MIN = 3  # lines of a template with a counter before a value named by an unknown word is a metric

_ITEM_NAMES = {"class", "cls", "class_id", "category", "cat", "label", "idx", "index", "id", "item"}


def _per_item(tpl: Template) -> bool:
    """Lines that print one value per class (`class [0] IoU 79.18` ... `class [20] IoU 55.77`, again at every
    evaluation): a field named for an item whose whole numbers run through the same few values again and
    again (each at least twice, starting over from the first) indexes a breakdown, not a step of training."""
    if len(tpl.rows) < 4:
        return False
    data = np.asarray(tpl.rows, dtype=np.float64)
    for i, slot in enumerate(tpl.slots):
        name = slot.raw.strip().lower().replace(" ", "_")
        if name not in _ITEM_NAMES or i >= data.shape[1]:
            continue
        column = data[:, i]
        if not bool(np.all(np.isfinite(column) & (column == np.round(column)) & (column >= 0))):
            continue
        _, counts = np.unique(column, return_counts=True)
        restarts = int(np.sum(np.diff(column) < 0))
        if len(counts) >= 2 and int(counts.min()) >= 2 and restarts >= 1:
            return True
        # A class is never a time: one breakdown printed once at the end (`Class 1: P=87.89% IoU=70.35%` ...
        # `Class 6: ...`), its numbers running up by one, indexes classes too.
        if name in _CLASS_NAMES and bool(np.all(np.diff(column) == 1)):
            return True
    return False


_CLASS_NAMES = {"class", "cls", "class_id", "category"}


def _counted(tpl: Template, values: list[Slot]) -> bool:
    """A record whose names no list knows (`<epoch: 99, iter: 5,000> psnr: 2.9862e+01`): the template
    recurs at least COUNTED_MIN times, a counter of its own (or the unnamed number that opens the line:
    `00000003) perceptual - 126.16; gen_gan - 0.51`) rises at every line, and a value named by a
    word (`name:` or `name=`) varies from line to line, apart from the counter."""
    if len(tpl.rows) < COUNTED_MIN or not values:
        return False
    data = np.array(tpl.rows, dtype=float)
    slots = tpl.slots
    counters = [
        i
        for i, s in enumerate(slots)
        if s.role in ("step", "epoch", "batch") or (i == 0 and (s.role == "unnamed" or _data_counter(tpl)))
    ]
    if not any(_rising(tpl, i) for i in counters):
        return False
    named = [
        i
        for i, s in enumerate(slots)
        if s in values
        and re.fullmatch(r"[a-z][a-z_]*[a-z0-9]", s.metric)
        and (_EXPLICIT.search(tpl.labels[i]) or _DASHED.search(tpl.labels[i]))
    ]
    # A value printed as NaN or inf at every line varies as much as one can: no setting prints `nan` each record.
    return any(
        (len(np.unique(data[:, i])) > 1 or not bool(np.isfinite(data[:, i]).all()))
        and not any(np.array_equal(data[:, i], data[:, c]) for c in counters)
        for i in named
    )


_THRESHOLD = re.compile(
    r"(?i)(?:\b(?:less|greater|more|fewer|lower|higher|smaller|larger|bigger)\s+than|\b(?:exceeds?|exceeded|below"
    r"|above|at (?:least|most))|(?<![-=])[<>]=?)\s*$"  # an arrow (`loss -> 1.41`) is no bound
)
_SPACED_NAME = re.compile(r" +[A-Za-z_][\w./-]*(?: [A-Za-z_][\w./-]*){0,2} +")  # ` learning rate `
# `name: 1.0`, `name=1.0`, `| name 1.0`, or a spaced dash between a name and its value (`kl - 0.02 | loss - 3.1`)
_EXPLICIT = re.compile(
    r"""[:=]\s*["']?$|(?:^|[|,;]\s*|\s-\s+)[A-Za-z_][\w./-]*\s+$|(?:^|[|,;]\s*)[A-Za-z_][\w./]*\s+-\s+$"""
)


def _counter_after_name(tpl: Template) -> None:
    """`Train loss 130948 0.412345 Grad Norm 1.23` (NVIDIA's Tacotron 2 and its forks): a name, then a whole number
    that rises at every line, then a number with nothing before it (unnamed, or named by the next field's words):
    the first number is the step the value was logged at, and the name is the second's. Only where the template
    has no counter of its own."""
    slots = tpl.slots
    if len(tpl.rows) < COUNTED_MIN or any(s.role in ("step", "epoch", "batch") for s in slots):
        return
    data = np.array(tpl.rows, dtype=float)
    for i in range(len(slots) - 1):
        named, after = slots[i], slots[i + 1]
        # nothing between the two numbers: the second is unnamed, or named by the words after it (the next field's)
        if (
            named.role != "value"
            or not named.metric
            or after.role not in ("value", "unnamed")
            or tpl.labels[i + 1].strip()
        ):
            continue
        if not _rising(tpl, i) or _counts(data[:, i + 1]):
            continue
        slots[i + 1] = Slot(named.raw, named.metric, named.split)
        slots[i] = Slot(named.raw, "step", named.split, "step")
        tpl.note = (
            tpl.note or f"step from the whole number after `{named.raw}`, rising at every line; its value after it"
        )
        return


def _outnumbers(tpl: Template, steps: np.ndarray, primary: set[int]) -> bool:
    """A record that outnumbers the train loss read before it (by a hint, a dict line) and shares one step with it at
    most is the main kind read in another shape, not a summary beside it: Caffe's solver prints `Iteration 9400 (11.7
    iter/s, 8.6s/100 iters), loss = 0.14` at every display, which its hint leaves to this reader for the rate, and
    `Iteration 14000, loss = 0.019` once at the end, which the hint reads (at the step of the last display, when the
    run ends on one). A summary shares step after step with the main record (a dict line's mean every ten steps
    beside each batch's own loss)."""
    return len(tpl.rows) > len(primary) and int(np.isin(steps, np.fromiter(primary, dtype=np.int64)).sum()) <= 1


def _data_counter(tpl: Template) -> bool:
    """The line opens on a number named by a word no metric has, whole and one more at every line, with no
    counter of its own: a counter whatever its name (`E:    1, TrL: nan`, `after cycle=0 avg(utility)=270.0`),
    as the data shows it."""
    slots = tpl.slots
    if len(tpl.rows) < COUNTED_MIN or not slots or any(s.role in ("step", "epoch", "batch") for s in slots):
        return False
    if slots[0].role != "value" or _metric_like(slots[0].metric):
        return False
    column = np.array([row[0] for row in tpl.rows], dtype=float)
    return bool(np.all(column == np.round(column)) and np.all(np.diff(column) == 1))


def _counts(column: np.ndarray, again: np.ndarray | None = None) -> bool:
    """A usable counter: whole, non-negative, mostly rising, and taking new values (a constant `50000/50000`
    that Keras prints at every epoch's end is not a step; two ranks may print each value twice). The rows marked
    `again` (_printed_again) are left out: a record printed again right after itself counts once."""
    repeated = again is not None and bool(again.any())
    if again is not None and repeated:
        column = column[~again]
    finite = column[np.isfinite(column)]
    if len(finite) == 0 or not np.all(finite == np.round(finite)) or not np.all(finite >= 0):
        return False
    if len(finite) == 1:
        return not repeated  # one record printed again and again is a constant, no counter
    rising = np.mean(np.diff(finite) >= 0)
    return len(np.unique(finite)) >= max(2, len(finite) // 2) and rising >= 0.8


def _printed_again(data: np.ndarray) -> np.ndarray:
    """Rows equal to the row right before them, NaNs included (a logger with several handlers prints each line two
    or three times in a row)."""
    same = (data[1:] == data[:-1]) | (np.isnan(data[1:]) & np.isnan(data[:-1]))
    return np.r_[False, np.all(same, axis=1)]


def _spans_epochs(counter: np.ndarray, epoch: np.ndarray) -> bool:
    """A counter i/n that goes on rising where the epoch changes counts the run's steps (`epoch 4/10 |
    global iteration 1370/3402`), not the batches of one epoch, which start again with each epoch."""
    known = np.isfinite(counter) & np.isfinite(epoch)
    counter, epoch = counter[known], epoch[known]
    turns = np.flatnonzero(np.diff(epoch) > 0)
    return len(turns) > 0 and bool(np.all(np.diff(counter)[turns] > 0))


def _starts_again(counter: np.ndarray) -> bool:
    """A counter that falls back to its first value or below (a new epoch's batches from 0), not one that
    wobbles between ranks printing a step or two apart."""
    known = counter[np.isfinite(counter)]
    if len(known) < 2:
        return False
    drops = np.flatnonzero(np.diff(known) < 0) + 1
    return bool(len(drops)) and bool(np.any(known[drops] <= known[0]))


_RUN_RECORDS = 4  # records each run needs to be analysed on its own


def _runs_again(counter: np.ndarray, loss: np.ndarray | None, epochs: bool = False) -> bool:
    """A counter that starts again from its first value (or below) where the train loss starts again too: at
    every fall of the counter, the loss had fallen by a fifth or more from its first value and is back at least
    halfway up to it (the folds of a cross-validation, the repeats of an experiment, printed one after another),
    and every run holds _RUN_RECORDS records at least. The batches of one run's epochs start again with the loss
    going on from where it was; a run's epochs never start again, so an epoch counter that does (`Epoch 01` of
    each fold) needs no word from the loss (a fold's first epoch may already be low): `epochs`, and `loss` None
    for a banner that carries none (`#### EPOCH 0 ####`)."""
    known = np.isfinite(counter) if loss is None else np.isfinite(counter) & np.isfinite(loss)
    counter = counter[known]
    falls = np.flatnonzero(np.diff(counter) < 0) + 1
    if len(counter) < 4 or not len(falls) or not bool(np.all(counter[falls] <= counter[0])):
        return False
    if _shortest_stretch(falls, len(counter)) < _RUN_RECORDS:
        return False  # runs too short to be judged one at a time: read as one series (their common trend shows)
    if not all(_counts(stretch) for stretch in np.split(counter, falls)):
        return False  # a column that stays put within each run counts nothing (Keras's `10613/10613` epoch end)
    if epochs or loss is None:
        return True
    loss = loss[known]
    starts = np.concatenate(([0], falls))
    for begin, fall in zip(starts[:-1], falls, strict=True):
        first = loss[begin]
        if not (first > 0 and loss_back_up(first, loss[fall - 1], loss[fall])):
            return False
    return True


def loss_back_up(first: float, before: float, after: float) -> bool:
    """Where a counter falls back: the loss had fallen by a fifth or more from `first` (`before`, the last value
    of the stretch) and is back at least halfway up to it (`after`, the first value after the fall), as when a run
    starts again; the batches of the next epoch go on from where the loss was."""
    return bool(before <= 0.8 * first and after >= before + 0.5 * (first - before))


def _shortest_stretch(falls: np.ndarray, length: int) -> int:
    """The fewest records between two of the indices `falls` where a column of `length` records falls back (its
    first stretch and its last counted)."""
    return int(np.diff(np.concatenate(([0], falls, [length]))).min())


def _short_of_total(counter: np.ndarray, totals: np.ndarray) -> bool:
    """A counter i/n that starts again each time long before its n (`step:6655/1000000`, then `step:1/1000000`):
    another run or a restart in the same file, not the batches of an epoch, which run up to about n each time."""
    known = np.isfinite(counter) & np.isfinite(totals)
    counter, totals = counter[known], totals[known]
    ends = np.flatnonzero(np.diff(counter) < 0)  # the last record of every stretch but the final one
    return bool(len(ends)) and bool(np.all(counter[ends] < 0.5 * totals[ends]))


def _differ_at_same_step(steps: np.ndarray, data: np.ndarray) -> bool:
    """Whether two records placed at the same step hold different values (not one record printed twice)."""
    order = np.argsort(steps, kind="stable")
    same = np.flatnonzero(np.diff(steps[order]) == 0)
    rows = data[order]
    return any(not np.array_equal(rows[i], rows[i + 1], equal_nan=True) for i in same)


def _epoch_major(epochs: np.ndarray, counter: np.ndarray) -> tuple[np.ndarray, int]:
    """Steps numbered epoch after epoch, (epoch - the first epoch) x per + counter, for a counter with no total that
    starts again each epoch: per is its largest value + 1. Returns the steps and per."""
    per = int(np.nanmax(counter)) + 1
    return ((epochs - np.nanmin(epochs)) * per + counter).astype(np.int64), per


def _restarts_with_epochs(counter: np.ndarray, epoch: np.ndarray) -> bool:
    """A counter that goes back down at every place the epoch goes up, and nowhere else."""
    known = np.isfinite(counter) & np.isfinite(epoch)
    counter, epoch = counter[known], epoch[known]
    if not np.all(epoch == np.round(epoch)):
        return False
    turns, drops = np.diff(epoch) > 0, np.diff(counter) < 0
    return bool(turns.any()) and bool(np.array_equal(turns, drops))


def _steps(tpl: Template, data: np.ndarray) -> tuple[np.ndarray | None, str, str]:
    """(steps, axis, why) from the template's own counters; None when it has none usable.

    In order: a global counter (`global step`, `num_updates`, `total_timesteps`), a step counter with no
    total, an epoch with a batch i/n in it, a counter i/n alone, an epoch alone."""
    slots = tpl.slots
    total = [i + 1 < len(slots) and slots[i + 1].role == "total" for i in range(len(slots))]
    epoch = next((i for i, s in enumerate(slots) if s.role == "epoch"), None)
    pairs = [i for i, s in enumerate(slots) if s.role == "step" and not s.raw and total[i]]
    if epoch is None and len(pairs) >= 2 and _nested(data[:, pairs[0]], data[:, pairs[1]]):
        # `[0/20][10/32] Loss_D: ..` (PyTorch's DCGAN example): the outer unnamed i/n counts the epochs, the
        # inner one the batches within each
        epoch = pairs[0]
        slots[epoch].role = "epoch"
    # a record with values printed again right after itself (not a header a bar redraws) is one record
    again = _printed_again(data) if any(s.role == "value" and s.metric for s in slots) else None
    usable = [
        _counts(data[:, i], again) if s.role in ("step", "batch", "epoch") else False for i, s in enumerate(slots)
    ]
    for i, s in enumerate(slots):
        if s.role != "step":
            continue
        if epoch is not None and _restarts_with_epochs(data[:, i], data[:, epoch]):
            # a step that starts again at each epoch on its line is usable however often it does (read below)
            column = data[:, i][np.isfinite(data[:, i])]
            usable[i] = bool(np.all(column == np.round(column)) and np.all(column >= 0))
        elif usable[i] and _starts_again(data[:, i]) and not (total[i] and _short_of_total(data[:, i], data[:, i + 1])):
            # one that starts again otherwise (`1/16` after `16/16`, `iter: 0` after `iter: 300`) counts the
            # batches of an epoch a header above it names, not the run's steps
            usable[i] = False

    loss = next((j for j, s in enumerate(slots) if s.role == "value" and s.metric == "loss" and s.split == "train"), -1)
    for i, s in enumerate(slots):
        if (
            s.role in ("step", "epoch")
            and not usable[i]
            and (loss >= 0 or s.role == "epoch")
            and _runs_again(data[:, i], data[:, loss] if loss >= 0 else None, epochs=s.role == "epoch")
        ):
            usable[i] = True  # runs one after another in one file (folds, repeats): normalize keeps one of them

    def named(i: int) -> str:
        return slots[i].raw or "i/n"

    ranked = sorted(
        (i for i, s in enumerate(slots) if s.role == "step" and usable[i]),
        key=lambda i: (not _GLOBAL.search(slots[i].raw.lower()), total[i]),
    )
    if (
        ranked
        and epoch is not None
        and not total[ranked[0]]
        and _restarts_with_epochs(data[:, ranked[0]], data[:, epoch])
    ):
        # `Epoch 2, Step 0, Loss: ..`: a step counter that starts again with each epoch counts its batches.
        i = ranked[0]
        steps, per = _epoch_major(data[:, epoch], data[:, i])
        return (
            steps,
            "batch_in_epoch",
            f"epoch `{named(epoch)}` x {per} (largest `{named(i)}` + 1: it starts again each epoch) + `{named(i)}`",
        )
    if ranked and (
        not total[ranked[0]]
        or epoch is None
        or _GLOBAL.search(slots[ranked[0]].raw.lower())
        or _spans_epochs(data[:, ranked[0]], data[:, epoch])
    ):
        i = ranked[0]
        return data[:, i].astype(np.int64), "step", f"global step from `{named(i)}`"
    batch = next((i for i, s in enumerate(slots) if s.role in ("batch", "step") and total[i]), None)
    named_batch = next((i for i, s in enumerate(slots) if s.role == "batch" and s.raw), None)
    if batch is not None and not slots[batch].raw and named_batch is not None:
        batch = None  # `(7/8) Epoch 1, batch 14300`: an unnamed i/n beside a named batch is a rank tag
    if epoch is not None and batch is not None and np.all(data[:, epoch] == np.round(data[:, epoch])):
        per = int(np.nanmax(data[:, batch + 1]))
        base = int(np.nanmin(data[:, epoch]))
        steps = (data[:, epoch] - base) * per + data[:, batch]
        return (
            steps.astype(np.int64),
            "batch_in_epoch",
            (f"epoch `{named(epoch)}` x {per} batches + batch `{named(batch)}`"),
        )
    plain_batch = (
        named_batch if named_batch is not None else next((i for i, s in enumerate(slots) if s.role == "batch"), None)
    )
    if epoch is not None and plain_batch is not None and np.all(data[:, epoch] == np.round(data[:, epoch])):
        # No total printed: (epoch, batch) in order, with the largest batch seen + 1 as the epoch's length.
        steps, per = _epoch_major(data[:, epoch], data[:, plain_batch])
        return (
            steps,
            "batch_in_epoch",
            (f"epoch `{named(epoch)}` x {per} (largest batch + 1: no total printed) + batch `{named(plain_batch)}`"),
        )
    if epoch is not None and usable[epoch]:
        return data[:, epoch].astype(np.int64), "epoch", f"epoch `{named(epoch)}` (no step printed)"
    if epoch is not None and batch is not None and _counts(data[:, batch]):
        # A fractional epoch (`1209/9500 (epoch 6.363)`) measures progress: the i/n beside it counts the run's
        # steps, not the batches of one epoch.
        return data[:, batch].astype(np.int64), "step", f"counter `{named(batch)}` (the epoch beside it is fractional)"
    if ranked:
        i = ranked[0]
        return data[:, i].astype(np.int64), "step", f"counter `{named(i)}`"
    if (
        epoch is None and plain_batch is not None and usable[plain_batch] and not _starts_again(data[:, plain_batch])
    ):  # `Batch 5420, Loss 16.11`: no epoch anywhere on the line, and a batch count that never starts again
        return (
            data[:, plain_batch].astype(np.int64),
            "step",
            f"counter `{named(plain_batch)}` (no epoch printed; it never starts again, so it counts the run's steps)",
        )
    if slots and slots[0].role == "unnamed" and len(data) >= UNNAMED_COUNTER_MIN:
        first = data[:, 0]
        whole = bool(np.all(np.isfinite(first) & (first == np.round(first)) & (first >= 0)))
        runs = loss >= 0 and _runs_again(first, data[:, loss])  # folds of a LightGBM CV: `[100]` again each fold
        relaunched = not runs and _strided_stretches(first)
        if whole and (_rises_at_every_record(first, data) or runs or relaunched):  # `训练次数:100, Loss:1.98`
            return (
                first.astype(np.int64),
                "step",
                "the first number of each line, a whole number rising at every record"
                + (", starting again with the loss (runs one after another)" if runs else "")
                + (", by one stride, and going back where the run was resumed or relaunched" if relaunched else ""),
            )
        if len(slots) > 1 and slots[1].role == "unnamed":
            return _unnamed_pair(first, data[:, 1])
    return None, "", ""


def _strided_stretches(first: np.ndarray) -> bool:
    """A column that rises by one stride at every record between the points where it falls back, each stretch
    _RUN_RECORDS records or more: a step counter whose run was resumed or relaunched from an earlier step
    (`38501 train 2.67` .. `38513`, then `38501` again), not a column of other numbers."""
    rise = np.diff(first)
    falls = np.flatnonzero(rise < 0)
    if not len(falls):
        return False
    within = np.delete(rise, falls)
    return (
        len(within) > 0
        and float(within[0]) > 0
        and bool(np.all(within == within[0]))
        and _shortest_stretch(falls + 1, len(first)) >= _RUN_RECORDS
    )


def _rises_at_every_record(first: np.ndarray, data: np.ndarray) -> bool:
    """Whether the first column rises at every line, or stays only where a line is a copy of the one before
    (every other value the same to 0.1%): the same record printed by each host or rank (`[400] train_loss=..`
    four times, each process's timing a little different)."""
    rise = np.diff(first)
    if bool(np.all(rise > 0)):
        return True
    same = np.flatnonzero(rise == 0)
    if not bool(np.all(rise >= 0)) or len(np.unique(first)) < UNNAMED_COUNTER_MIN:
        return False
    return bool(np.all(np.isclose(data[same, 1:], data[same + 1, 1:], rtol=1e-3, atol=0.0, equal_nan=True)))


Plan = tuple[Template, np.ndarray, "np.ndarray | None", str, str]


def _one_axis(plans: list[Plan]) -> None:
    """One file, one step axis: a counted kind of record whose own counter runs behind the main kind's
    (an evaluation's `iteration : 2472` printed after training's `iteration : 14880`; an `Epoch 82/300`
    header among bars at step 150) counts something else. Its records are placed at the step of the main
    kind's record before them (before the first: at the first's step). Only kinds printed among the main
    kind's records are compared."""
    if not plans or plans[0][2] is None:
        return
    main_axis = plans[0][3]
    for i, (tpl, data, steps, _, why) in enumerate(plans[1:], start=1):
        placed = _behind(plans[0], tpl, steps)
        if placed is not None:
            plans[i] = (tpl, data, placed, main_axis, f"the step of the main record before it ({why}: another scale)")


def _behind(main_plan: Plan, tpl: Template, steps: np.ndarray | None, among: bool = True) -> np.ndarray | None:
    """The main kind's step before each of `tpl`'s lines when `tpl`'s own counter runs behind the main
    kind's at most of them (and, with `among`, `tpl` is printed among the main kind's records), else None."""
    main, _, main_steps, _, _ = main_plan
    if main_steps is None or steps is None or not len(steps) or tpl is main:
        return None
    order = np.argsort(np.asarray(main.lines), kind="stable")
    lines, steps_by_line = np.asarray(main.lines)[order], np.asarray(main_steps)[order]
    if among and min(tpl.lines) > lines[-1]:
        return None  # printed only after the main kind ended (a final table): nothing interleaves to compare
    at = np.searchsorted(lines, np.asarray(tpl.lines), side="right") - 1
    after = at >= 0
    if not after.any() or float(np.mean(steps[after] < steps_by_line[at[after]])) <= 0.5:
        return None
    return np.where(after, steps_by_line[np.maximum(at, 0)], int(steps_by_line[0])).astype(np.int64)


def _nested(outer: np.ndarray, inner: np.ndarray) -> bool:
    """Two counters where the inner one rises while the outer one stays, and starts again (or goes on)
    only when the outer one rises: an epoch and the batch within it."""
    d_out, d_in = np.diff(outer), np.diff(inner)
    return len(outer) >= 2 and bool(np.all(d_out >= 0)) and bool(np.all(d_in[d_out == 0] > 0))


def _unnamed_pair(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray | None, str, str]:
    """`[0,  1000] RMSE: ..`: two unnamed whole numbers that lead each line are (epoch, batch) when the
    second rises at every line and starts again exactly where the first goes up (or the first never moves)."""
    whole = all(bool(np.all(np.isfinite(c) & (c == np.round(c)) & (c >= 0))) for c in (first, second))
    if not whole or not bool(np.all(np.diff(first) >= 0)):
        return None, "", ""
    turns = np.diff(first) > 0
    if not bool(np.all(np.diff(second)[~turns] > 0)) or (turns.any() and not _restarts_with_epochs(second, first)):
        return None, "", ""
    steps, per = _epoch_major(first, second)
    why = f"the two leading numbers of each line: epoch x {per} (largest second + 1) + the second, which starts again"
    return steps, "batch_in_epoch", why if turns.any() else "the second leading number of each line"


def finish(
    collector: Collector,
    builder: FrameBuilder,
    stepped: bool,
    hinted_unplaced: dict[int, int] | None = None,
    reader_axis: str = "",
) -> dict[str, Any]:
    """Judge every template, emit the records as metrics, and describe what was read (for `inspect`).

    `stepped`: the other readers of this file placed records on a step axis already (HF dict lines,
    grammars): a record with no counter of its own then takes the step the reader had at its line.
    `hinted_unplaced`: line -> the stand-in step of a hint's records to place under the main record: an epoch the
    hint counted (a Keras epoch line), or the step of a record with none of its own (COCOeval's summary).
    `reader_axis`: the step axis the other readers placed their records on."""
    readers_rows = len(builder)  # observations the other readers of the file made
    _named_items(collector)
    merged: dict[tuple[tuple[str, str, str], ...], Template] = {}
    for tpl in collector.templates.values():
        _name_slots(tpl)
    # `Val Acc: .., Test Acc: ..` on one line, or `Dev acc: 0.749` on one line and `Test acc: 0.714` on the next:
    # the test set's measure apart from the validation set's, before lines naming the same fields merge
    _apart_from_validation([s for t in collector.templates.values() for s in t.slots])
    for tpl in collector.templates.values():
        # Lines whose slots name the same fields are one record kind, whatever text varies between them
        # (a padded counter, a word that changes): merged before they are judged.
        signature = tuple((s.metric, s.split, s.role) for s in tpl.slots)
        valued = any(s.metric for s in tpl.slots if s.role == "value")
        if valued and signature in merged:
            _merge(merged[signature], tpl)
        else:  # lines with counters only (`Training epoch: 3`, `Eval epoch: 3`) stay apart: headers of their own
            merged[signature if valued else (("", tpl.key, ""),)] = tpl
    _fold_prefixed(merged)
    records = [tpl for tpl in merged.values() if _is_record(tpl)]
    records += _headerless_tables(merged, records)
    last_numbered = max((max(t.lines) for t in collector.templates.values() if t.lines), default=-1)
    records += [t for t in merged.values() if t not in records and _cut_record(t, records, last_numbered)]
    for tpl in records:
        _drop_reprint(tpl)
        if _data_counter(tpl):
            tpl.note = tpl.note or f"step from `{tpl.slots[0].raw}`, a name no list knows: one more at every line"
            tpl.slots[0].role = tpl.slots[0].metric = "step"
        _counter_after_name(tpl)
    _name_the_loss(records)
    if not builder.has("train", "loss") and not any(s.metric == "loss" for t in records for s in t.slots):
        bare = _bare_loss([t for t in merged.values() if t not in records])
        if bare is not None:
            records.append(bare)
    described: list[dict[str, Any]] = []
    stepped_lines: list[tuple[int, int, str]] = []  # (line, step, axis) of lines placed by a counter
    plans = []
    # The most frequent kind of record first (its train loss is the primary one); on a tie the per-batch kind
    # (a batch i/n within the epoch) before an epoch's summary line.
    for tpl in sorted(records, key=lambda t: (-len(t.rows), not any(s.role == "batch" for s in t.slots))):
        data = np.asarray(tpl.rows, dtype=np.float64)
        for i in tpl.percent:  # `Train: 10.000%` is 0.1; `Loss: 2.303%` (one format string for both) is 2.303
            if i < len(tpl.slots) and not tpl.slots[i].metric.endswith("loss"):
                data[:, i] /= 100
        _rank_slot(tpl, data)
        tpl.fill = _nan_fill(tpl, data)
        for i, slot in enumerate(tpl.slots[:-1]):  # `acc=5401/10000` is 0.5401
            if slot.role == "value" and tpl.slots[i + 1].role == "total":
                with np.errstate(divide="ignore", invalid="ignore"):
                    data[:, i] = data[:, i] / data[:, i + 1]
        steps, axis, why = _steps(tpl, data)
        why = tpl.note or why
        if steps is not None:
            stepped_lines += [(line, step, axis) for line, step in zip(tpl.lines, steps.tolist(), strict=True)]
        plans.append((tpl, data, steps, axis, why))
    # Of the kinds that carry the train loss, one counted by a global step is the record of training and an
    # epoch's line beside it its summary (Joey NMT's `Epoch 1: total training loss 813.29` beside `Epoch 2
    # Step: 200 Batch Loss: 4.598`), however the two kinds' counts compare, once it recurs (COUNTED_MIN).
    if any(p[3] in ("epoch", "record") and _carries_train_loss(p[0]) for p in plans):
        plans.sort(
            key=lambda plan: (
                not (plan[3] == "step" and len(plan[0].rows) >= COUNTED_MIN and _carries_train_loss(plan[0]))
            )
        )
    _one_axis(plans)
    header_lines: list[int] = []
    epoch_heads: list[tuple[int, int]] = []  # (line, epoch) of every line that counts epochs and holds no metric
    # Headers: lines that carry a counter and no metric (Keras `Epoch 3/30`, `Epoch 1 of 500 took 494s`)
    # place the records printed under them.
    for tpl in merged.values():
        if (
            tpl not in records
            and any(s.role in ("step", "epoch") for s in tpl.slots)
            and not any(s.role == "value" and s.metric and _metric_like(s.metric) for s in tpl.slots)
        ):
            steps, axis, _ = _steps(tpl, np.asarray(tpl.rows, dtype=np.float64))
            if steps is not None and axis == "epoch":  # headers of epochs, whatever the records count (_under_headers)
                epoch_heads += [(line, step) for line, step in zip(tpl.lines, steps.tolist(), strict=True)]
            if plans and _behind(plans[0], tpl, steps, among=False) is not None:
                continue  # `Filling up shuffle buffer: 213 of 500` after step 249: it counts something else
            if steps is not None:
                stepped_lines += [(line, step, axis) for line, step in zip(tpl.lines, steps.tolist(), strict=True)]
                header_lines += tpl.lines
    stepped_lines.sort()
    epoch_heads.sort()
    headers = np.asarray(header_lines, dtype=np.int64)
    known_lines = np.asarray([line for line, _, _ in stepped_lines], dtype=np.int64)
    known_steps = np.asarray([s for _, s, _ in stepped_lines], dtype=np.int64)
    known_axes = [a for _, _, a in stepped_lines]

    def last_counted(lines: np.ndarray) -> np.ndarray:
        """Index into known_* of the last counted line at or before each line (-1: none)."""
        return np.searchsorted(known_lines, lines, side="right") - 1

    last_line = max((max(t.lines) for t in collector.templates.values() if t.lines), default=-1)
    emitted_steps: dict[int, np.ndarray] = {}
    emitted_axes: dict[int, str] = {}
    has_loss_counter = any(
        steps is not None and any(s.metric == "loss" for s in tpl.slots) for tpl, _, steps, _, _ in plans
    )
    primary_loss = builder.has("train", "loss")  # a train loss from a hint or a dict line is the primary one
    # the epochs a hint read the train loss at: a record of the same fields at other epochs is more of that kind
    hinted_epochs = builder.steps_of("train", "loss") if primary_loss and reader_axis == "epoch" else set()
    for tpl, data, steps, axis, why in plans:
        if stepped and axis in ("epoch", "batch_in_epoch") and _eval_only(tpl) and min(tpl.context, default=-1) >= 0:
            # Evaluations under training records that other readers placed on global steps (mmcv's and
            # mmengine's `Epoch(val) [10][2/2]` under their train lines): the eval's epoch, and its batches
            # counted over the eval set, are no training steps; the step the log was at is.
            steps = None
        if steps is not None and axis == "step" and epoch_heads and _starts_again(steps.astype(np.float64)):
            # `[0] loss=..` ... `[800] loss=..` under `Epoch: 3`: a counter that starts again exactly where the
            # epoch header above it goes up counts that epoch's batches (not a run relaunched at each header)
            steps, axis, why = _under_headers(tpl, steps, epoch_heads) or (steps, axis, why)
        counted = steps is not None  # by a counter of its own
        if steps is None:
            context = np.asarray(tpl.context, dtype=np.int64)
            # Each record under a counted header of its own (`Epoch: 3` above it) is placed by it: the step
            # the log was at by then (a bar that starts again each epoch, `train: 100%|..| 396/396`) is not
            # the run's.
            under = last_counted(np.asarray(tpl.lines))
            headed = (
                bool(np.all(under >= 0))
                and len(np.unique(under)) == len(under)
                and bool(np.isin(known_lines[under], headers).all())
            )
            # A bar that starts again each epoch and shows nothing of its own (`0/513 ... 513/513`) puts every
            # record after it at its last count: records that would collapse so onto a few steps, with values
            # that differ (not one bar redrawn, its lines repeated), are placed by the counted lines above them
            # instead (`Training epoch: 3`).
            # A row with a NaN in it counts as a record of its own each time: a loop whose loss went NaN prints the
            # same `Loss: nan` at every iteration, no redrawn bar.
            places = len(np.unique(context))
            kinds = {
                (int(c), k if np.isnan(row).any() else -1, tuple(np.nan_to_num(row).tolist()))
                for k, (c, row) in enumerate(zip(context, data, strict=True))
            }
            collapsed = len(context) >= 4 and places < len(context) / 2 and len(kinds) - places >= len(context) / 2
            if stepped and np.all(context >= 0) and not headed and not collapsed:
                steps, axis, why = context, "context", "the step the log was at (progress bar or step line before it)"
            elif len(known_lines):
                at = last_counted(np.asarray(tpl.lines))
                if np.all(at >= 0):
                    axis = known_axes[int(at[0])]
                    steps, why = known_steps[at], f"the {axis} of the last counted line before it"
                    batch = _batch_of(tpl)
                    several = len(np.unique(steps)) < len(steps)  # some epoch holds more than one of them
                    if axis == "epoch" and batch is not None and several:  # `Epoch 0/139` above `Batch 567/17168:`
                        per = int(np.nanmax(data[:, batch + 1]))
                        steps = (steps - int(steps.min())) * per + data[:, batch].astype(np.int64)
                        axis, why = "batch_in_epoch", f"the epoch of the line before it x {per} batches + batch i/n"
                    elif axis == "epoch" and several and (inner := _inner_counter(tpl, data, steps)) is not None:
                        # `Epoch: 3` above `iter: 0 loss: ..` ... `iter: 800 loss: ..`: a counter with no total that
                        # starts again under each header counts that epoch's batches
                        steps, per = _epoch_major(steps.astype(np.float64), data[:, inner])
                        name = f"`{tpl.slots[inner].raw}`" if tpl.slots[inner].raw else "the counter"
                        axis = "batch_in_epoch"
                        why = f"the epoch of the header above it x {per} (largest {name} + 1: it starts again) + {name}"
                    elif axis == "epoch" and bool(np.any(np.diff(steps) == 0)) and _differ_at_same_step(steps, data):
                        # `**** EPOCH 002 ****` above several different records (a banner per batch the reader
                        # does not count): each is a record of its own, in printed order, none overwriting another
                        steps, axis = None, ""
                    elif len(steps) >= 3 and len(np.unique(at)) == 1 and _differ_at_same_step(steps, data):
                        # One counted line above every record (the first row of Lightning's model summary,
                        # `0 | bert | ...`, above pprinted dicts): no axis of theirs; each is a record of its own
                        steps, axis = None, ""
                elif (lead := int(np.argmax(at >= 0))) > 0 and bool(np.all(at[lead:] >= 0)):
                    # A paste that opens on the end of an epoch above its first header (`...loss: 2.3030`, then
                    # `Epoch 34/400`): under unique headers, those first records are the ones just before it.
                    rest = known_steps[at[lead:]]
                    first = int(rest[0])
                    if (
                        first >= lead
                        and len(np.unique(rest)) == len(rest)
                        and bool(np.isin(known_lines[at[lead:]], headers).all())
                    ):
                        axis = known_axes[int(at[lead])]
                        steps = np.concatenate([np.arange(first - lead, first, dtype=np.int64), rest])
                        why = f"the {axis} of the header above it ({lead} above the first header: the ones before)"
            if steps is None:
                steps, axis, why = _record_order(np.asarray(tpl.ranks)), "record", "record order (no counter)"
        placed = _under_main(tpl, axis, plans[0][0], emitted_steps, emitted_axes)
        if placed is not None:
            steps, axis, why = (
                placed,
                emitted_axes[id(plans[0][0])],
                "the step of the main record before it (an evaluation)",
            )
        carries_loss = _carries_train_loss(tpl)
        cut = carries_loss and _cut_short(tpl, plans[0][0], last_line)
        # A record of the main kind with extra fields (`Epoch 4: train=.. valid=.. sisnr=..` every few epochs),
        # counted on the same axis at steps of its own, is one more of the main kind.
        main, main_steps = plans[0][0], emitted_steps.get(id(plans[0][0]))
        more = (
            counted
            and tpl is not main
            and main_steps is not None
            and axis == plans[0][3]
            and (_fields(main) <= _fields(tpl) or _starts_like(tpl, main) or _first_of(tpl, main, steps, main_steps))
            and not np.isin(steps, main_steps).any()
        )
        # Keras' epoch line read by its hint where it ends with validation fields (`- val_loss: ..` every fifth
        # epoch), by the generic reader where it does not: one kind of record, read at epochs of its own by each
        more = more or (
            bool(hinted_epochs)
            and axis == "epoch"
            and not hinted_epochs.intersection(steps.tolist())
            and {s.metric for s in tpl.slots if s.role == "value" and s.split == "train"} <= builder.metrics_of("train")
        )
        main_axis = emitted_axes.get(id(main))
        if cut and counted and tpl is not main and main_axis not in (None, axis) and len(known_lines):
            # `Epoch 21/100` then `1/1 [===] - loss: 0.5792 -`: placed as the usual kind is, not by its own
            # batch counter (constant in the full rows, so never the usual kind's axis).
            at = last_counted(np.asarray(tpl.lines) - 1)  # the counted line before it, not its own
            if np.all(at >= 0) and known_axes[int(at[0])] == main_axis:
                steps, axis, why = known_steps[at], main_axis, "the record the paste ends in, placed as the others"
        if cut and not counted and (last := builder.last_step("train", "loss")) is not None and steps[0] <= last:
            steps, why = (
                np.asarray([last + 1]),
                "the record the paste ends in, cut before its counter: after the last step",
            )
        # A second kind of record with a train loss (an epoch summary beside per-batch lines, a periodic
        # estimate) keeps its train fields apart as `<name>_summary`; its eval fields are the eval series.
        # The record a paste ends in, cut short, is one more of the usual kind.
        suffix = (
            "_summary"
            if carries_loss
            and primary_loss
            and not cut
            and not more
            and (axis in ("epoch", "context", "record") or has_loss_counter)
            and not (counted and _outnumbers(tpl, steps, builder.steps_of("train", "loss")))
            else ""
        )
        primary_loss = primary_loss or carries_loss
        emitted_steps[id(tpl)] = steps
        emitted_axes[id(tpl)] = axis
        first_batch = _first_batch_only(tpl, data)
        if first_batch:
            why += (
                "; each evaluation printed at its first batch only (batch 0 of n): one batch's values, kept as "
                "`<name>_first_batch`, not the evaluation's result"
            )
        eval_suffix = "_first_batch" if first_batch else ""
        _emit(builder, tpl, data, steps, suffix, eval_suffix)
        described.append(
            {
                "template": tpl.example,
                "records": len(tpl.rows),
                "first_line": tpl.first_line,
                "step_axis": axis,
                "why": why,
                "slots": [
                    {
                        "name": s.raw,
                        "metric": _emitted_name(s, suffix, eval_suffix) if s.role == "value" else s.metric,
                        "split": s.split,
                        "role": s.role,
                    }
                    for s in tpl.slots
                ],
            }
        )

    if hinted_unplaced and plans:  # under the record of training: the kind that carries the train loss, if any
        main = next((plan[0] for plan in plans if _carries_train_loss(plan[0])), plans[0][0])
        _hints_under_main(builder, hinted_unplaced, main, emitted_steps, emitted_axes)

    head = plans[0][0] if plans else None
    if head is not None and emitted_axes.get(id(head)) == "batch_in_epoch" and head.lines:
        # The main records were counted only once placed under their headers (`Epoch: 3` above `iter: 0`, or `[0]`
        # read at first as a run relaunched at each header): an event takes the step of the record before it, not
        # the epoch of the header nor the counter as first read.
        mine = np.asarray(head.lines, dtype=np.int64)
        others = ~np.isin(known_lines, mine)
        lines = np.concatenate([known_lines[others], mine])
        order = np.argsort(lines, kind="stable")
        known_lines = lines[order]
        known_steps = np.concatenate([known_steps[others], emitted_steps[id(head)].astype(np.int64)])[order]

    # Events and loss scales read before any step was known take the step of the last counted line.
    def place(line: int) -> int | None:
        at = int(last_counted(np.asarray([line]))[0])
        return int(known_steps[at]) if at >= 0 else None

    # With no record from another reader of the file, the step a reader had at an event's line (a data-loading bar at
    # the top of the file) is no record's: the event takes the step of the last record printed before it.
    builder.place_events(place, every=readers_rows == 0)
    for line, scale in collector.scales:
        step = place(line)
        if step is not None:
            builder.metric(step, "train", "loss_scale", scale, line)
    prose = [t for t in merged.values() if t not in records]
    return {
        "templates": described,
        "prose_lines": sum(len(t.rows) for t in prose) + collector.unread,
        "prose_examples": [t.example for t in sorted(prose, key=lambda t: -len(t.rows))[:MAX_EXAMPLES]],
    }


_RANK_NAMES = {"rank", "local_rank", "global_rank", "rank_id", "worker", "worker_id", "client", "client_id"}


def _nan_fill(tpl: Template, data: np.ndarray) -> bool:
    """A table of train and eval rows printed together (a logger's history, pandas' print of a DataFrame):
    every row holds a NaN and a number among its values, and every value column a number somewhere, so a
    NaN is a cell the row does not measure. A row of NaNs only (a run that broke) keeps them all."""
    values = [j for j, s in enumerate(tpl.slots) if s.role == "value" and s.metric]
    if len(values) < 2 or len(data) < 3:
        return False
    block = data[:, values]
    nan = np.isnan(block)
    return bool(nan.any(axis=1).all() and (~nan).any(axis=1).all() and (~nan).any(axis=0).all())


def _rank_slot(tpl: Template, data: np.ndarray) -> None:
    """A field named `rank` holding small whole numbers (`... grad_norm 0.15 rank 1`) is the rank that
    printed the record, not a metric: the record's rank where no prefix gave one."""
    for i, slot in enumerate(tpl.slots):
        column = data[:, i]
        if (
            slot.role == "value"
            and slot.raw.strip().lower().replace(" ", "_") in _RANK_NAMES
            and bool(np.all(np.isfinite(column) & (column == np.round(column)) & (column >= 0) & (column < 65536)))
        ):
            tpl.ranks = [r if r >= 0 else int(v) for r, v in zip(tpl.ranks, column.tolist(), strict=True)]
            slot.role, slot.metric = "rank", ""
            return


def _record_order(ranks: np.ndarray) -> np.ndarray:
    """1, 2, 3... per rank: records of several ranks interleaved (`[1,0]<stdout>:`, `[rank1]:`) are the
    same steps printed once by each rank, not consecutive steps."""
    if len(np.unique(ranks)) < 2:
        return np.arange(1, len(ranks) + 1, dtype=np.int64)
    order = np.zeros(len(ranks), dtype=np.int64)
    for rank in np.unique(ranks):
        where = np.flatnonzero(ranks == rank)
        order[where] = np.arange(1, len(where) + 1)
    return order


def _under_headers(
    tpl: Template, counter: np.ndarray, heads: list[tuple[int, int]]
) -> tuple[np.ndarray, str, str] | None:
    """Steps epoch x (largest + 1) + counter for records whose counter starts again exactly where the epoch header
    above each of them goes up; None when some record has no header above it or the two do not turn together."""
    lines = np.asarray([line for line, _ in heads], dtype=np.int64)
    values = np.asarray([epoch for _, epoch in heads], dtype=np.int64)
    at = np.searchsorted(lines, np.asarray(tpl.lines, dtype=np.int64), side="right") - 1
    if not len(at) or bool((at < 0).any()):
        return None
    epochs = values[at].astype(np.float64)
    if not _restarts_with_epochs(counter.astype(np.float64), epochs):
        return None
    steps, per = _epoch_major(epochs, counter.astype(np.float64))
    return steps, "batch_in_epoch", f"the header above it x {per} (largest counter + 1: it starts again) + the counter"


def _inner_counter(tpl: Template, data: np.ndarray, epochs: np.ndarray) -> int | None:
    """The slot of a counter with no total, whole and never negative, that starts again exactly where the epoch of
    the headers above the records goes up (each epoch's batches or iterations), if any."""
    for i, slot in enumerate(tpl.slots):
        if slot.role not in ("step", "batch") or (i + 1 < len(tpl.slots) and tpl.slots[i + 1].role == "total"):
            continue
        column = data[:, i]
        if (
            bool(np.all(np.isfinite(column)))
            and bool(np.all((column == np.round(column)) & (column >= 0)))
            and _restarts_with_epochs(column, epochs.astype(np.float64))
        ):
            return i
    return None


def _batch_of(tpl: Template) -> int | None:
    """The slot of a batch counter i/n (a counter followed by its total) in a template, if any."""
    slots = tpl.slots
    for i, slot in enumerate(slots[:-1]):
        if slot.role in ("batch", "step") and slots[i + 1].role == "total":
            return i
    return None


def _fields(tpl: Template) -> set[tuple[str, str]]:
    return {(s.split, s.metric) for s in tpl.slots if s.role == "value" and s.metric}


def _cut_record(tpl: Template, records: list[Template], last_line: int) -> bool:
    """The last line with numbers, printed once, whose text is the start of a repeated record's
    (`step 97 - loss 128.74 - moving ave loss`: the paste stopped before the last value): that record."""
    if len(tpl.rows) != 1 or tpl.lines[0] != last_line:
        return False
    n = len(tpl.labels)
    return any(len(r.rows) >= 2 and len(r.labels) > n and r.labels[:n] == tpl.labels for r in records)


def _starts_like(tpl: Template, main: Template) -> bool:
    """A record whose text is the start of the main kind's, its last fields missing (TensorFlow's first
    `loss = .., step = N` line, before the logger has a time per step to add `(2.109 sec)`)."""
    n = len(tpl.labels)
    return 0 < n < len(main.labels) and main.labels[:n] == tpl.labels


def _first_of(tpl: Template, main: Template, steps: np.ndarray, main_steps: np.ndarray) -> bool:
    """The run's first record, printed before the main kind's first, with some of its fields only: a grad
    norm, a time per step, a throughput exist only once an update has been made (guided-diffusion's
    step-0 table has no `grad_norm` row)."""
    return (
        len(tpl.rows) == 1
        and len(main_steps) > 0
        and bool(steps[0] < main_steps[0])
        and tpl.first_line < main.first_line
        and _fields(tpl) < _fields(main)
    )


def _cut_short(tpl: Template, main: Template, last_line: int) -> bool:
    """The record a paste ends in, cut before its end: one line, the last with numbers in the file, and
    visibly cut (a bracket left open, a trailing separator) or holding only fields of the main record
    kind (a pretty-printed record closed where the paste stopped)."""
    if len(tpl.rows) != 1 or tpl.lines[0] != last_line:
        return False
    text = tpl.example.rstrip()
    opened = text.count("(") > text.count(")") or text.count("[") > text.count("]") or text.endswith((",", ":", "="))
    # `157/157 [===] - loss: 1.48` after epochs of `1407/1407 [===] ...`: a loop over another number of
    # batches (Keras's evaluate() after fit()), complete, not the usual record cut short
    other_loop = bool(_totals(tpl)) and bool(_totals(main)) and not _totals(tpl) & _totals(main)
    return opened or (tpl is not main and _fields(tpl) <= _fields(main) and not other_loop)


def _under_main(
    tpl: Template, axis: str, main: Template, emitted: dict[int, np.ndarray], axes: dict[int, str]
) -> np.ndarray | None:
    """The steps of an evaluation printed among the main records when the two were counted on different
    axes: the main record's step at or before each of its lines. A Keras epoch line's `val_loss` under per-batch
    lines counted epoch x batches, a `validation loss` with no counter between nanoGPT's steps, an epoch's
    eval summary under records counted by global iterations: compared with the train loss, an evaluation must
    sit on the train loss's axis. One evaluation before the first main record (at step 0, before training)
    takes the first main record's step. An evaluation with no counter under records counted by epoch (`epoch 3`,
    `loss: 4.93`, `test accuracy: 27.41%`) takes its epoch. None when the axes agree, or the placement would put
    two at one step."""
    main_steps = emitted.get(id(main))
    main_axis = axes.get(id(main))
    if (
        tpl is main
        or main_steps is None
        or main_axis not in ("step", "batch_in_epoch", "epoch", "record")
        or axis not in ("epoch", "record")
        or (main_axis == "epoch" and axis == "epoch")  # both counted by epoch: on one axis already
        or (main_axis == "record" and axis != "record")
        or not any(s.role == "value" and is_eval_split(s.split) for s in tpl.slots)
    ):
        return None
    at = np.searchsorted(np.asarray(main.lines), np.asarray(tpl.lines), side="right") - 1
    if len(at) and int(at[0]) < 0 and (len(at) == 1 or int(at[1]) >= 0):
        at[0] = 0
    if not len(at) or int(at.min()) < 0:
        return None
    steps = np.asarray(main_steps)[at]
    return steps if len(np.unique(at)) == len(at) else None  # one under each main record (a resume repeats steps)


def _hints_under_main(
    builder: FrameBuilder,
    hinted: dict[int, int],
    main: Template,
    emitted: dict[int, np.ndarray],
    axes: dict[int, str],
) -> None:
    """A hint's records counted by epoch (Keras' `390/390 [===] - loss: .. - val_loss: ..` after its per-batch
    lines), or with no step of their own (COCOeval's summary after an epoch), beside per-batch records the generic
    reader counted by batch: the hint's records, and what was placed at their stand-in step after them (a
    traceback in that epoch), move to the main record's step at or before their line, as the generic reader places
    an evaluation (_under_main). Left as they are when the main record is no per-batch kind or is not printed
    before them."""
    main_steps = emitted.get(id(main))
    if main_steps is None or axes.get(id(main)) not in ("step", "batch_in_epoch") or len(main.rows) < COUNTED_MIN:
        return
    lines = np.asarray(sorted(hinted), dtype=np.int64)
    epochs = np.asarray([hinted[int(line)] for line in lines], dtype=np.int64)
    main_lines = np.asarray(main.lines, dtype=np.int64)
    if int(main_lines[0]) > int(lines[-1]):
        return

    def place(line: int, step: int) -> int | None:
        at = int(np.searchsorted(lines, line, side="right")) - 1
        if at < 0 or int(epochs[at]) != step:  # before the first hint record, or placed by something else
            return None
        under = int(np.searchsorted(main_lines, line, side="right")) - 1
        return int(main_steps[max(under, 0)])

    builder.restep(place)


def _carries_train_loss(tpl: Template) -> bool:
    return any(s.metric == "loss" and s.split == "train" and s.role == "value" for s in tpl.slots)


def _eval_only(tpl: Template) -> bool:
    """Every named value of the template is an evaluation's."""
    values = [s for s in tpl.slots if s.role == "value" and s.metric]
    return bool(values) and all(is_eval_split(s.split) for s in values)


def _totals(tpl: Template) -> set[float]:
    """The values of a template's `i/n` totals (the n of each row)."""
    columns = [i for i, s in enumerate(tpl.slots) if s.role == "total"]
    return {float(row[i]) for row in tpl.rows for i in columns if i < len(row)}


def _name_the_loss(records: list[Template]) -> None:
    """Per split, with no field named `loss`: the one field whose name ends in `loss` (`closs`,
    `tot_loss`, `total_loss`; not an auxiliary term such as `entloss` or `kl_loss`), else the one named
    after a loss function (`logloss`, `l2`, `xent`), is the split's loss; two or more (a GAN's d_loss and
    g_loss) stay as they are. Within one record, when two fields would both be a split's loss (`loss`
    beside `avg_batch_cost`), the one named `loss` is."""
    for tpl in records:
        named = {s.split for s in tpl.slots if s.role == "value" and s.metric == "loss" and s.raw.lower() == "loss"}
        for s in tpl.slots:
            if s.role == "value" and s.metric == "loss" and s.split in named and s.raw.lower() != "loss":
                s.metric = "_".join(_tokens(s.raw))
    values = [s for t in records for s in t.slots if s.role == "value"]
    signed = {  # (read only for the objective's slots: a long log's rows are many)
        id(s)
        for t in records
        for i, s in enumerate(t.slots)
        if s.role == "value" and s.metric in _OBJECTIVE and _ever_negative(t, i)
    }
    # the objective named on its own line (`obj:0.69`), not a table's column under a header (YOLO's `box obj cls`)
    inline = {id(s) for t in records for s in t.slots if s.metric in _OBJECTIVE and _OBJECTIVE_WORD.search(t.example)}
    for split in {s.split for s in values}:
        fields = [s for s in values if s.split == split]
        if any(s.metric == "loss" for s in fields):
            continue
        # MatConvNet's `obj:`, a solver's `objective`: the quantity minimised, when nothing else is named a loss and
        # no field is the total of parts (YOLO's `box obj cls total`: there `obj` is the objectness part); never
        # below 0 (EESEN's `Obj(log[Pzx])` is a log-likelihood, its negative)
        objectives = (
            set()
            if any(s.metric in _TOTAL_WORDS for s in fields)
            else {s.metric for s in fields if id(s) in inline} - {s.metric for s in fields if id(s) in signed}
        )
        for test in (
            # a layer's instance number after it is still its name (Caffe's `SoftmaxWithLoss1 = 3.43 (* 1 = 3.43 loss)`)
            lambda m: m.rstrip("0123456789").endswith("loss") and not _auxiliary_term(m) and not _extremum(m),
            lambda m: m in LOSS_FUNCTIONS,
            objectives.__contains__,
        ):
            lossy = {s.metric for s in fields if test(s.metric)}
            totals = {m for m in lossy if set(m.split("_")) & _TOTAL_WORDS}
            if len(lossy) > 1 and len(totals) == 1:  # `det loss, bbox loss, all_loss`: the total of the parts
                lossy = totals
            if len(lossy) == 1:
                for s in fields:
                    if s.metric in lossy:
                        s.metric = "loss"
                break
            if lossy:
                break
    for tpl in records:  # `Vali Loss: .. Test Loss: ..`: two eval losses in one record; the validation one is it
        for split in {s.split for s in tpl.slots}:
            both = [s for s in tpl.slots if s.role == "value" and s.metric == "loss" and s.split == split]
            if len(both) > 1:  # `Loss function: 22.8, Average Loss: 0.02`: the running average is not it either
                plain = [s for s in both if not set(_tokens(s.raw)) & _AVERAGING]
                keep = next((s for s in both if _tokens(s.raw)[0] in _VALIDATION), (plain or both)[0])
                for s in both:
                    if s is not keep:
                        s.metric = "_".join(_tokens(s.raw))


_OBJECTIVE = {"obj", "objective"}
_OBJECTIVE_WORD = re.compile(r"(?i)\bobj(?:ective)?\b")


def _ever_negative(tpl: Template, i: int) -> bool:
    """Whether slot `i` of a template holds a value below 0 in any row."""
    return any(len(row) > i and row[i] < 0 for row in tpl.rows)


_TOTAL_WORDS = {"total", "tot", "all", "overall", "sum", "full", "combined"}  # the loss of which the others are parts
# Terms printed beside an objective, never the objective itself: an entropy bonus (baselines' `entloss`, 0 when
# its coefficient is), a KL or regularisation penalty, weight decay, a mixture-of-experts' auxiliary loss.
_AUXILIARY = {"ent", "entropy", "kl", "reg", "regularization", "l2", "wd", "aux"}


def _auxiliary_term(metric: str) -> bool:
    return metric.removesuffix("loss").rstrip("_") in _AUXILIARY


# A loss's value at one point of the run, not the loss as it goes (MLPerf's `final_loss`, `best_loss`, a checkpoint
# saver's `Saved best (loss: 0.24)`): no series.
_ENDPOINTS = {"final", "best", "min", "minimum", "max", "lowest", "initial"}


def _extremum(metric: str) -> bool:
    return not _ENDPOINTS.isdisjoint(metric.split("_"))


HEADERLESS_MIN_COLUMNS = 2  # unnamed columns beside the counter that make a row of a table with no header


def _headerless_tables(
    merged: dict[tuple[tuple[str, str, str], ...], Template], records: list[Template]
) -> list[Template]:
    """The tables with no header among the templates that are no record: rows padded to align their columns
    (`     1/149     13.5G   0.02125` under `0/149     13.6G   0.04854`) are one table, whatever the padding;
    the templates joined into another leave `merged` (their lines are the other's now)."""
    tables: dict[tuple[str, ...], Template] = {}
    for key, tpl in sorted(merged.items(), key=lambda item: item[1].first_line):
        if tpl in records or any(s.metric for s in tpl.slots if s.role == "value"):
            continue
        shape = (*(" ".join(label.split()) for label in tpl.labels), str(len(tpl.slots)))
        if shape in tables:
            _merge(tables[shape], tpl)
            del merged[key]
        else:
            tables[shape] = tpl
    return [tpl for tpl in tables.values() if _headerless_table(tpl)]


def _headerless_table(tpl: Template) -> bool:
    """Rows of numbers with no names (a CSV or a results.txt with no header, `200,4.40,4.13,7.76,24.44`): a
    record when it recurs COUNTED_MIN times or more, its first number counts the rows (whole, rising: an
    epoch or a step) and two columns or more after it hold nothing but separators between them. The columns
    are named by their place (`column_2`...): no rule reads them as a loss, but one that turns NaN with
    others at once is seen (train-metrics-become-nan). Renames the slots when it says yes."""
    slots = tpl.slots
    if len(tpl.rows) < COUNTED_MIN or len(slots) < HEADERLESS_MIN_COLUMNS + 1:
        return False
    if slots[0].role in _ROW_COUNTER:
        first = 2 if slots[1].role == "total" else 1  # `0/149`: the epoch out of its total
        rest = range(first, len(slots))
        if len(rest) >= HEADERLESS_MIN_COLUMNS and all(_bare_cell(tpl, i) for i in rest) and _rising(tpl, 0):
            if slots[0].role == "unnamed":
                slots[0].role = slots[0].metric = "step"
                slots[0].raw = "first column"
            for k, i in enumerate(rest, start=2):
                slots[i].role, slots[i].metric, slots[i].raw = "value", f"column_{k}", f"column {k}"
            return True
    return _positional_list(tpl)


def _bare_cell(tpl: Template, i: int) -> bool:
    """An unnamed number with nothing but separators before it (`[ 4612.5]`: numpy's brackets too)."""
    return tpl.slots[i].role == "unnamed" and not tpl.labels[i].strip(_SEPARATORS + "[]")


def _rising(tpl: Template, i: int) -> bool:
    """Column i counts the rows: whole, non-negative, rising at every row."""
    column = np.array([row[i] for row in tpl.rows], dtype=float)
    return _counts(column) and bool(np.all(np.diff(column) > 0))


def _positional_list(tpl: Template) -> bool:
    """A list of unnamed values that carries its counter somewhere else than first (VITS's `[loss_disc,
    loss_gen, loss_fm, loss_mel, loss_kl, global_step, lr]` after a logger's prefix): the trailing run of bare
    cells, its first rising whole column the step, the others numbered by their place in the list; what comes
    before the list (a sampling rate printed `32k`) is no field."""
    slots = tpl.slots
    start = len(slots) - 1
    while start > 0 and _bare_cell(tpl, start) and slots[start - 1].role == "unnamed":
        start -= 1
    if start == len(slots) - 1 or not _bare_cell(tpl, start + 1):
        return False
    cells = range(start, len(slots))
    counter = next((i for i in cells if _rising(tpl, i)), None)
    if len(cells) < HEADERLESS_MIN_COLUMNS + 1 or counter is None:
        return False
    for i in range(start):
        slots[i].role = "skip"
    for k, i in enumerate(cells, start=1):
        if i == counter:
            slots[i].role, slots[i].metric, slots[i].raw = "step", "step", f"column {k}"
        else:
            slots[i].role, slots[i].metric, slots[i].raw = "value", f"column_{k}", f"column {k}"
    return True


_ROW_COUNTER = {"unnamed", "step", "epoch"}
_SEPARATORS = " \t,;:|"
_AVERAGING = {"average", "avg", "mean", "running", "smoothed", "ema", "moving"}


def _bare_counter(label: str) -> bool:
    """The text before a bare log's counter: nothing, or only the counter's own name (`iter `, `[Epoch `)."""
    name = label.strip(_SEPARATORS + "[]()#")
    return not name or _counter_role(name) is not None


def _bare_loss(templates: list[Template]) -> Template | None:
    """`76930 2.6496577`: a log whose only repeated lines are a rising counter and one number (or one
    number alone), nothing else on the line, and which names no loss anywhere: the number is taken as
    the loss (said so in the template's `why`). Only one such template may exist, with at least BARE_MIN
    lines."""
    bare = [
        t
        for t in templates
        if len(t.slots) in (1, 2)
        and len(t.rows) >= BARE_MIN
        and not any(label.strip(_SEPARATORS) for label in t.labels[len(t.slots) - 1 :])  # `243413: nan`
        and (len(t.slots) == 1 or _bare_counter(t.labels[0]))  # `10, 2.2398`, `iter 1404: 0.000004`
        and not t.key.rsplit("\x01", 1)[-1]
    ]
    if len(bare) != 1:
        return None
    tpl = bare[0]
    if len(tpl.slots) == 1:  # `tensor(3.2207, device='cuda:0')`: a loop printing its loss and nothing else
        tpl.slots = [Slot("", "loss", "train")]
        tpl.note = "one number per line and nothing else, taken as the loss in record order (no loss named)"
        return tpl
    table = np.asarray(tpl.rows, dtype=np.float64)
    counter = table[:, 0]
    if _counts(counter) and np.all(np.diff(counter) > 0):
        tpl.slots = [Slot("", "step", "train", "step"), Slot("", "loss", "train")]
        tpl.note = (
            "a rising counter (unnamed, or named only as a counter) and one number per line, "
            "taken as step and loss (no loss named)"
        )
        return tpl
    # `10.1941, 0` ... `10.1862, 500`: the number first and the loop's counter after it (`print(loss.item(), i)`),
    # nothing named; the counter may start again (each epoch's batches: placed under their epoch headers if any,
    # else in printed order)
    value, after = table[:, 0], table[:, 1]
    whole = bool(np.all(np.isfinite(after) & (after == np.round(after)) & (after >= 0)))
    if (
        tpl.labels[0].strip(_SEPARATORS)
        or not whole
        or bool(np.all(value[np.isfinite(value)] == np.round(value[np.isfinite(value)])))
    ):
        return None
    rising = np.diff(after) > 0
    stepped = bool(rising.all()) and _counts(after)
    if not stepped and not (_starts_again(after) and float(rising.mean()) >= 0.8):
        return None
    tpl.slots = [
        Slot("", "loss", "train"),
        Slot("", "step" if stepped else "batch", "train", "step" if stepped else "batch"),
    ]
    tpl.note = "one number then a counter per line, nothing named: taken as loss and " + (
        "step (no loss named)" if stepped else "a counter that starts again, each epoch's batches (no loss named)"
    )
    return tpl


_CORE_ROLES = ("value", "step")


def _core(tpl: Template) -> tuple[tuple[str, str, str], ...]:
    """The fields that make a record what it is: named values and the step counter."""
    return tuple((s.metric, s.split, s.role) for s in tpl.slots if s.role in _CORE_ROLES and s.metric)


def _fold_prefixed(merged: dict[tuple[tuple[str, str, str], ...], Template]) -> None:
    """A record printed after extra numbers that name no field of it (glued to a half-drawn progress bar,
    `Epoch 1/2:  10%|███ step:4 - loss:…`) is the same kind of record as the lines without them: its
    rows, cut down to the other's slots, join the template with more lines. Only extra counters, totals
    and unnamed numbers may differ; a different named value makes a different record."""
    by_core: dict[tuple[tuple[str, str, str], ...], list[tuple[tuple[tuple[str, str, str], ...], Template]]] = {}
    for key, tpl in merged.items():
        core = _core(tpl)
        if core and any(role == "value" for _, _, role in core):
            by_core.setdefault(core, []).append((key, tpl))
    for group in by_core.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda item: -len(item[1].rows))
        _, main = group[0]
        main_cols = [j for j, s in enumerate(main.slots) if s.role in _CORE_ROLES and s.metric]
        if len(main_cols) != len(main.slots):
            continue  # the main kind has extra numbers of its own: nothing to cut the others down to
        for key, other in group[1:]:
            cols = [j for j, s in enumerate(other.slots) if s.role in _CORE_ROLES and s.metric]
            extra = [s for j, s in enumerate(other.slots) if j not in cols]
            if any(s.role == "value" and s.metric for s in extra):
                continue
            other.rows = [[row[j] for j in cols] for row in other.rows]
            other.slots = main.slots
            _merge(main, other)
            del merged[key]


def _merge(into: Template, other: Template) -> None:
    """Add `other`'s rows to `into`, in line order."""
    order = np.argsort(np.asarray(into.lines + other.lines), kind="stable")
    for name in ("rows", "lines", "context", "ranks"):
        joined = getattr(into, name) + getattr(other, name)
        setattr(into, name, [joined[i] for i in order])
    into.first_line = min(into.first_line, other.first_line)
    into.rounded.update(other.rounded)


def _first_batch_only(tpl: Template, data: np.ndarray) -> bool:
    """An evaluation printed only at batch 0 of its n batches, every time (`Test: [ 0/63] loss: 2.09 (2.09)`
    with a print frequency above the eval set's length): each record is one batch's values, a sample as noisy as
    a train batch, not the evaluation's result (its own summary line, when printed, is that)."""
    batch = _batch_of(tpl)
    if batch is None or len(data) < 2 or not _eval_only(tpl):
        return False
    return bool(np.all(data[:, batch] == 0) and np.all(data[:, batch + 1] >= 2))


def _emitted_name(slot: Slot, suffix: str, eval_suffix: str) -> str:
    """The metric a value slot is emitted as: a train field with the record kind's `suffix` (`_summary`), an eval
    field with `eval_suffix` (`_first_batch`)."""
    if slot.split == "train":
        return slot.metric + suffix
    return slot.metric + eval_suffix if slot.metric else ""


def _emit(
    builder: FrameBuilder, tpl: Template, data: np.ndarray, steps: np.ndarray, suffix: str, eval_suffix: str = ""
) -> None:
    seen: set[tuple[int, bytes]] = set()
    lines = np.asarray(tpl.lines, dtype=np.int64)
    columns = [(j, s) for j, s in enumerate(tpl.slots) if s.role == "value" and s.metric]
    epoch = next((j for j, s in enumerate(tpl.slots) if s.role == "epoch"), None)
    if epoch is not None:
        columns.append((epoch, Slot(tpl.slots[epoch].raw, "epoch", "train")))
    for k in range(len(data)):
        rank = tpl.ranks[k]
        key = (int(steps[k]), data[k].tobytes())
        if key in seen:
            continue  # the same record printed twice (a repeated paste, two ranks printing the same line)
        seen.add(key)
        rounded = tpl.rounded.get(int(lines[k]), {})
        for j, slot in columns:
            if tpl.fill and np.isnan(data[k, j]):
                continue  # an empty cell, not a NaN the run produced
            metric = slot.metric if slot.metric == "epoch" else _emitted_name(slot, suffix, eval_suffix)
            builder.metric(
                int(steps[k]),
                slot.split,
                metric,
                float(data[k, j]),
                int(lines[k]),
                rank=rank if rank >= 0 else None,
                rounded=rounded.get(j, 0.0),
            )
