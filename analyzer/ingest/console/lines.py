"""Line by line: prefixes, grammars, metric blocks, tracebacks, events and environment facts."""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analyzer.ingest.base import parse_duration, to_float
from analyzer.ingest.console.generic import count_numbers, field_name, gap, observe, rounded_zero
from analyzer.ingest.console.records import BAR, read_bar, read_dict_lines
from analyzer.ingest.console.state import State
from analyzer.ingest.grammars import NUM, Grammars, LineGrammar
from analyzer.names import canonical_metric

BLOCK = 1 << 20
MAX_LINE = 64 * 1024  # longer fragments are cut: a 200 MB single line must not become one string
_ANSI = re.compile(r"(?:\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][AB012])+")
_PREFIX = re.compile(
    r"^(?:\s*\[\d+\]\s(?=\[)"  # line numbers some paste tools add: [80746] [rank0]:...
    r"|\s*\([^()]*pid=\d+\)\s*"  # ray / skypilot: (head, pid=123)
    r"|\s*\[(?:rank|default)(?P<rank>\d+)\]:\s?"  # torchrun --tee / elastic
    r"|\s*\[[\w.-]+:(?P<srank>\d+)\]:\s?"  # srun: [host:3]:
    r"|\s*\[\d+,(?P<mrank>\d+)\]<std(?:out|err)>:\s?"  # mpirun --tag-output (Horovod): [1,0]<stdout>:
    r"|\s*(?P<host>\d{1,3}(?:\.\d{1,3}){3}):\s"  # pdsh / DeepSpeed's multi-node launcher: `22.1.171.4: ...`
    # absl / glog: `I0912 10:01:02.5 123 x.py:65]`
    r"|\s*(?P<glog>[IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+[\w.-]+:\d+\]\s?"
    # TensorFlow's C++ logging after its time: `I tensorflow/stream_executor/cuda/cuda_driver.cc:789] `
    r"|\s*(?P<cpp>[IWEF]) [\w./-]+\.(?:cc|cpp|h|py):\d+\]\s?"
    r"|\s*(?:INFO|DEBUG):[A-Za-z_][\w.-]*:(?=\S)"  # Python logging's default format: `INFO:run-test:loss=..`
    r"|\s*\[\d+:[A-Za-z_][\w-]*\]\s*"  # logging's `[%(process)d:%(threadName)s]`: `[37672:MainThread]`
    # `[%(name)s] [%(levelname)s]`, `[time] [INFO]`: a warning's or an error's level stays, its numbers describe
    # a problem, they are no record (`[WARNING]: Find the loss sum less than 1e-9`)
    r"|\s*\[[A-Za-z_][\w.-]*\]\s*\[(?:INFO|DEBUG)\]\s*"
    r"|\s*(?:INFO|DEBUG) : (?=\S)"  # `%(levelname)s : %(message)s` after its time (braindecode's logger)
    # loguru's default format after its time: `INFO     | __main__:_log_metrics:30 - iter=0000 ...` (the function
    # and its line number are no record)
    r"|\s*(?:TRACE|DEBUG|INFO|SUCCESS)\s*\|\s*[\w.<>-]+:[\w.<>-]+:\d+\s+-\s+"
    r"|\s*\[\d{4}-\d\d-\d\d[ T][\d:,.]+\]\s*(?:\[(?:INFO|DEBUG|TRACE|NOTICE)\]\s*)?"  # [2024-07-10 15:50:45,798] [INFO]
    r"|\s*\d{4}-\d\d-\d\d[ T,]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:\s*[:|-]\s+|\s+)"  # 2023-08-09 15:17:51.409852: x
    r")"
)
_ARROW = re.compile(r"^\[\w+\|[^\]]*\][^>]*>>\s?")  # [INFO|trainer.py:123] 2025-... >> message
# One lazy class, anchored: no nested whitespace quantifiers (a line of spaces stayed cubic with them).
# A bar over an iterable of unknown length: `{desc}: {n}it [{elapsed}, {rate}{, postfix}]`.
_BAR_ONLY = re.compile(r"^(?P<desc>[\w\s:.-]*?)\d+it \[[^\],]*(?:,[^\],]*)?(?P<post>,[^\]]*)?\]\s*$")
_BLOCK_HEAD = re.compile(r"\*{5} (?P<split>\w+) metrics \*{5}")
_BLOCK_ROW = re.compile(r"^\s+(?P<key>[\w/.-]+)\s+=\s+(?P<value>\S+)\s*$")
_SIZE = re.compile(rf"^({NUM})\s*(?:GF|MB|GB|TF)$")
_ELISIONS = {"...", "....", "[...]", "(...)", "…", "[…]"}
_TRACEBACK = re.compile(r"Traceback \(most recent\b(?: call last\):)?")  # cut short at the end of a paste too
_FRAME = re.compile(
    r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in(?: (?P<fn>\S+)|\s*$)'  # `<module>` eaten by Markdown
    # IPython's: `File ~/lib/python3.10/site-packages/transformers/trainer.py:1633, in Trainer.train(...)`
    r"|^File (?P<ifile>\S+?):(?P<iline>\d+), in (?P<ifn>[\w.<>]+)"
    r"|^Cell (?P<cell>In\s?\[\d+\]), line (?P<cline>\d+)"
    r"|^(?P<pfile>\S+\.py) in (?P<pfn>[\w<>.]+)"  # IPython 7: `~\AppData\...\4198329076.py in <module>`
)
# IPython's header names the exception first: `OutOfMemoryError      Traceback (most recent call last)`
_IPYTHON_HEADER = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\s+Traceback \(most recent")
_ARROW_LINE = re.compile(r"^-*> ?\d+ ")  # IPython marks the frame's line: `---> 22 trainer.train()`
_EXCEPTION = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure|error))"
    r"(?::\s*(?P<msg>.*))?$"
)
_TERMINATE = re.compile(r"terminate called after throwing an instance of '(?P<type>[^']+)'")
_DIGIT = re.compile(r"\d")
# A line ends at a line break; a carriage return or a run of backspaces (Keras' progress bar erases itself with
# `\b` when its output is no terminal: a notebook, a pipe) redraws the same line.
_BREAK = re.compile(r"(\r\n|\n|\r|\x08+)")
# Headers that name the epoch whose one-line summary follows (Keras `Epoch 3/30`, AllenNLP `TRAIN EPOCH 2:`).
_EPOCH_HEADER = re.compile(r"^(?:Epoch (?P<keras>\d+)/(?P<of>\d+)\s*$|TRAIN EPOCH\s+(?P<zero_based>\d+):)")


def blocks(path: Path) -> Iterator[str]:
    """The file as text in blocks of whole lines, up to its size when opened (a file that grows while it
    is read ends); invalid UTF-8 is replaced and a runaway line (no newline for MAX_LINE characters) is
    cut to its first MAX_LINE characters."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    with path.open("rb") as fh:
        left = os.fstat(fh.fileno()).st_size  # a run still writing: what it appends meanwhile is not read
        while True:
            raw = fh.read(min(BLOCK, left)) if left > 0 else b""
            left -= len(raw)
            text = pending + decoder.decode(raw, final=not raw)
            if not raw:
                if text:
                    yield text
                return
            cut = max(text.rfind("\n"), text.rfind("\r"))
            if cut < 0:
                pending = text if len(text) <= MAX_LINE else text[:MAX_LINE]
                continue
            pending = text[cut + 1 :]
            if len(pending) > MAX_LINE:
                pending = pending[:MAX_LINE]
            yield text[: cut + 1]


def _grammar_line(state: State, grammar: LineGrammar, match: re.Match[str], text: str, lineno: int) -> None:
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    if grammar.step_mode == "epoch_counter":  # one record per epoch: headers set the counter
        if not state.epoch_header_seen and state.headless_from is None:
            state.headless_from = state.builder.rows_added()
        state.epoch_counter += 1
        step = state.epoch_counter
        state.hinted_unplaced[lineno] = step
        state.note_axis("epoch")  # the epoch number (from its header, else counted)
    elif "step" in groups:
        step = int(groups["step"])
        if grammar.step_mode == "per_epoch" and "total" in groups and "epoch_index" in groups:
            step = (int(groups["epoch_index"]) - grammar.epoch_base) * int(groups["total"]) + step
        state.note_axis("logged")
    else:
        step = state.step if state.step is not None else state.counter + 1
        if state.step is None:  # a record with no step of its own in a log no step line has set (COCOeval's
            # summary after an epoch the generic reader counts): placed under that reader's record before it
            state.hinted_unplaced[lineno] = step
    state.step = step
    state.frameworks[grammar.framework] = state.frameworks.get(grammar.framework, 0) + 1
    used = state.hints.get(grammar.name)
    if used is None:  # what inspect shows of the hint: its first line and the fields it named
        used = state.hints[grammar.name] = {
            "hint": grammar.name,
            "framework": grammar.framework,
            "lines": 0,
            "first_line": lineno,
            "example": text.strip()[:300],
            "fields": {},
        }
    used["lines"] += 1
    if "total" in groups and grammar.step_mode == "absolute":
        state.meta.setdefault("trainer_state", {}).setdefault("max_steps", int(groups["total"]))
    items = [(k, v) for k, v in groups.items() if k not in ("step", "total", "epoch_index")]
    averages: dict[str, str] = {}  # a pair's running average in parentheses (`loss: 6.7274 (6.9064)`), by key
    if grammar.pairs is not None:
        named = {k for k, _ in items}  # the pairs may repeat a field the match took (Keras `- loss: ...`)
        for m in grammar.pairs.finditer(text):
            key = m["key"].strip()
            if key not in named:
                items.append((key, m["value"]))
                if "avg" in m.re.groupindex and m["avg"]:
                    averages[key] = m["avg"]
    if grammar.vanishing:
        names = {grammar.keys.get(k) or canonical_metric(k): v for k, v in items}
        if grammar.vanishing in names:
            state.vanishing_seen.add(grammar.name)
        elif grammar.name in state.vanishing_seen and not (to_float(names.get("skipped_iterations", "0")) or 0) > 0:
            items.append((grammar.vanishing, "nan"))
            state.builder.event(
                "warning",
                "warning",
                f"`{grammar.vanishing}` missing from a {grammar.framework} "
                "record: the framework omits it when it is NaN",
                step,
                lineno,
            )
    for key, raw in items:
        if key in grammar.ignore:
            continue
        value = to_float(raw)
        if value is None:
            continue
        split = grammar.split
        if grammar.eval_keys is not None and grammar.eval_keys.search(key):
            split, key = "eval", grammar.eval_keys.sub("", key)
        metric = grammar.keys.get(key)
        if metric is None:  # a field the entry does not name: its own words say its split (`val_loss`)
            said, metric = field_name(key)
            split = said if split == "train" else split
        rounded = rounded_zero(raw) if value == 0 else 0.0  # `lr: 0.000000`
        state.builder.metric(step, split, metric, value, lineno, rank=state.rank, rounded=rounded)
        if len(used["fields"]) < 40:
            used["fields"].setdefault(key, f"{split}/{metric}")
        average = to_float(averages.get(key, ""))
        if average is not None:
            state.builder.metric(step, split, f"{metric}_avg", average, lineno, rank=state.rank)
    state.records += 1


def _covers(grammar: LineGrammar, match: re.Match[str], text: str) -> bool:
    """A hint is trusted for a line when it reads more than half of the line's numbers: an entry written
    for one version of a format (Megatron's `lm loss: x`) must not hide the fields of another version
    (`lm loss x`) from the generic reader."""
    # a time the hint also reads (Keras' epoch seconds) is no field of the format's records: not counted, so that the
    # time does not make a hint take a line it would otherwise leave (an evaluate() bar after the last epoch)
    fields = sum(v is not None for k, v in match.groupdict().items() if not k.endswith("_time"))
    if grammar.pairs is not None:
        fields += sum(1 for _ in grammar.pairs.finditer(text))
    return 2 * fields > count_numbers(text)


def _block_value(text: str) -> float | None:
    seconds = parse_duration(text)
    if seconds == seconds:
        return seconds
    size = _SIZE.match(text)
    return to_float(size.group(1) if size else text)


_LIBRARY = re.compile(r"[/\\](?:site-packages|dist-packages|lib[/\\]python\d[\d.]*)[/\\]|^<frozen |^<string>")


def _traceback_line(state: State, text: str, lineno: int) -> bool:
    """A line inside a traceback: frames are remembered (the last one, and the last one in the user's
    own code rather than a library's), the exception line closes it with an event. A traceback cut off
    before its exception line (the paste ends, another line interrupts it) is still an exception."""
    tb = state.traceback
    if tb is None:
        return False
    prefix = tb.get("prefix") and tb["prefix"].match(text)
    if prefix:  # a logger prints its prefix on every line of the traceback (its numbers may change)
        text = text[prefix.end() :]
    frame = _FRAME.match(text)
    if frame:
        file = frame["file"] or frame["ifile"] or frame["cell"] or frame["pfile"]
        line = frame["line"] or frame["iline"] or frame["cline"]
        fn = frame["fn"] or frame["ifn"] or frame["pfn"] or ("<module>" if frame["file"] else "cell")
        tb["frame"] = f"{file}:{line} in {fn}" if line else f"{file} in {fn}"
        if not _LIBRARY.search(file):
            tb["user_frame"] = tb["frame"]
        if fn in _WORKER_WAIT:  # the main process waits on the DataLoader's workers' queue
            tb["workers"] = True
        if fn == "_worker_loop":  # a DataLoader worker's own loop: the exception was raised loading data
            tb["in_worker"] = True
        elif _DATA_LIBRARY.search(file):  # a frame of the data-loading library on the stack: the same
            tb["loading"] = True
        tb["source"] = True  # the frame's source line comes next, indented (or not, in a paste)
        return True
    source = tb.pop("source", False)
    if text.startswith((" ", "\t")) or not text.strip() or text.strip() == "^" * len(text.strip()):
        return True
    if text.strip() in _ELISIONS:  # the reporter's `...` for frames left out: the same traceback goes on
        tb["source"] = source
        return True
    exc = _EXCEPTION.match(text.strip())
    if source and not exc:
        return True
    if tb.get("type") and (_ARROW_LINE.match(text) or set(text.strip()) == {"-"}):
        return True
    if exc:
        where = f" (last frame {tb['frame']}" if tb.get("frame") else ""
        if tb.get("user_frame") and tb["user_frame"] != tb.get("frame"):
            where += f"; in your code: {tb['user_frame']}"
        interrupted = exc["type"].endswith("KeyboardInterrupt")
        # the worker's traceback PyTorch re-raises, or the main process's own while it loaded a batch
        loading = (tb.get("in_worker") or tb.get("loading")) and not interrupted
        said = "stopped by hand: " if interrupted else ""
        if loading:
            said = "a DataLoader worker raised " if tb.get("in_worker") else "raised while loading data: "
        state.builder.event(
            "interrupt" if interrupted else "dataloader_error" if loading else "exception",
            "warning" if interrupted else "critical" if loading else "error",
            said + f"{exc['type']}: {exc['msg'] or ''}".rstrip(": ") + (where + ")" if where else ""),
            state.step,
            tb["line"],
        )
    else:
        end_traceback(state)
    state.traceback = None
    return exc is not None


# The data-loading libraries' own files (torch.utils.data, tf.data, paddle.io, Paddle 1.x's fluid/reader.py where its
# DataLoader and PyReader live, Gluon's data): a frame in one of them on the stack when the exception was raised means
# it was raised loading a batch (or starting workers).
_DATA_LIBRARY = re.compile(
    r"[/\\](?:torch[/\\]utils[/\\]data|tensorflow[/\\]python[/\\]data|paddle[/\\](?:io|fluid[/\\]dataloader)"
    r"|mxnet[/\\]gluon[/\\]data)[/\\]|[/\\]paddle[/\\]fluid[/\\]reader\.py$"
)
# The DataLoader's functions that read its workers' queue (a frame in them: the main process was waiting there)
_WORKER_WAIT = {"_try_get_data", "_get_data", "_error_if_any_worker_fails"}


def _prefix_pattern(prefix: str) -> re.Pattern[str] | None:
    """The text before a traceback's header as a pattern for its other lines, any number in it free to
    change (`1173 Traceback ...`, then `1174   File ...`: a paste's line numbers; a logger's clock)."""
    if not prefix:
        return None
    return re.compile("".join(r"\d+" if part.isdigit() else re.escape(part) for part in re.split(r"(\d+)", prefix)))


def end_traceback(state: State) -> None:
    """A traceback that never reached its exception line: an exception all the same, said as such."""
    tb = state.traceback
    if tb is None:
        return
    if tb.get("headless"):  # frames with no header and no exception line: no evidence of a crash
        state.traceback = None
        return
    where = f" (last frame {tb['user_frame'] if tb.get('user_frame') else tb['frame']})" if tb.get("frame") else ""
    said = f"{tb['type']} (its message is not in the log)" if tb.get("type") else ""
    interrupted = said.startswith("KeyboardInterrupt")  # Ctrl-C or a notebook's stop button: no crash
    if not said and tb.get("workers"):  # cut while the main process waited on its DataLoader workers: the
        # queue read that fails when a worker dies (`DataLoader worker (pid ..) is killed by signal` follows it)
        state.builder.event(
            "dataloader_error",
            "critical",
            "a DataLoader worker died: the traceback (its exception line not in the log) stops where the main "
            f"process waits on the workers' queue{where}",
            state.step,
            tb["line"],
        )
        state.traceback = None
        return
    state.builder.event(
        "interrupt" if interrupted else "exception",
        "warning" if interrupted else "error",
        ("stopped by hand: " if interrupted else "")
        + (said or "a Python traceback whose exception line is not in the log")
        + where,
        state.step,
        tb["line"],
    )
    state.traceback = None
    if said:  # the header's type alone may say what happened (`OutOfMemoryError`)
        level, state.info_level = state.info_level, False  # the exception's own line, not the one that ended it
        _events_and_meta(state, f"{tb['type']}:", tb["line"])
        state.info_level = level


_PY_WARNING = re.compile(r"^\S+:\d+: [A-Z]\w*Warning: ")  # the warnings module's `file:line: Category: message`


def _line(state: State, text: str, lineno: int) -> None:
    if not text.isascii():  # full-width punctuation and digits (`Loss：1.98`, `１００`) read as their ASCII forms
        text = unicodedata.normalize("NFKC", text)
    rank = None
    state.info_level = False
    stamp = state.clock.read(text)
    if stamp is not None:
        state.stamp_lines.append(lineno)
        state.stamps.append(stamp)
    while True:
        prefix = _PREFIX.match(text)
        if not prefix or not prefix.group(0):
            break
        host = prefix["host"] and str(state.hosts.setdefault(prefix["host"], len(state.hosts)))
        rank = prefix["rank"] or prefix["srank"] or prefix["mrank"] or host or rank
        state.info_level = state.info_level or "I" in (prefix["glog"], prefix["cpp"])
        text = text[prefix.end() :]
    state.rank = int(rank) if rank is not None else None
    if state.warned:  # `run.py:198: UserWarning: ...` is followed by the source line it points at
        state.warned = False
        if text[:1] in (" ", "\t"):
            return
    state.warned = bool(_PY_WARNING.search(text))
    logged = _ARROW.match(text)
    if logged:
        text = text[logged.end() :]
    state.echo = bool(logged) and "{" in text
    if not text.strip():
        return
    gap(state.generic, text, lineno)
    if _traceback_line(state, text, lineno):
        _events_and_meta(state, text, lineno)  # e.g. "RuntimeError: DataLoader worker ... killed"
        return
    found = _TRACEBACK.search(text)
    if not found and "File " in text and text.lstrip().startswith("File ") and (f := _FRAME.match(text)) and f["file"]:
        # a traceback whose header the paste cut off (`...`, then its last frames): one all the same, once
        # its exception line is seen (frames alone may be a stack dump, `traceback.print_stack()`)
        state.traceback = {"line": lineno, "prefix": None, "headless": True}
        _traceback_line(state, text, lineno)
        return
    if found:
        ipython = _IPYTHON_HEADER.match(text)
        state.traceback = {"line": lineno, "prefix": None if ipython else _prefix_pattern(text[: found.start()])}
        if ipython:
            state.traceback["type"] = ipython["type"]
        return
    if state.block_split:
        row = _BLOCK_ROW.match(text)
        if row:
            value = _block_value(row["value"])
            if value is not None and state.step is not None:
                key = row["key"]  # `eval_loss` in an eval block with no eval dict before it is the split's `loss`
                # (else the keys stay as printed, beside the dict's; the train block's `train_loss` is the summary)
                train = state.block_split == "train"
                dict_before = state.builder.last_step(state.block_split, "loss") == state.step
                if not train and not dict_before and key.startswith(state.block_split + "_"):
                    key = key[len(state.block_split) + 1 :] or key  # no eval dict printed here: the block is it
                state.builder.metric(
                    state.step,
                    "summary" if state.block_split == "train" else state.block_split,
                    key,
                    value,
                    lineno,
                )
            return
        state.block_split = None
    head = _BLOCK_HEAD.search(text)
    if head:
        state.block_split = head["split"]
    if "{" in text and read_dict_lines(state, text, lineno):
        return
    header = _EPOCH_HEADER.match(text)
    if header:  # the next epoch_counter record is this epoch
        before = int(header["keras"] or header["zero_based"]) - 1
        if not state.epoch_header_seen and state.headless_from is not None and before > state.epoch_counter:
            # a paste that opens on the end of an epoch above its first header: those records were the
            # epochs just before this one, not the run's first
            state.builder.shift(state.headless_from, before - state.epoch_counter)
        state.epoch_header_seen = True
        # `Epoch 1/1` again and again: a one-epoch fit() called in a loop, each call the next epoch
        state.epoch_counter = max(before, state.epoch_counter) if header["of"] == "1" else before
    screen = _hint_screen(state.grammars)
    for grammar in state.grammars.metrics if screen is None or screen.search(text) else ():
        if grammar.prefilter and grammar.prefilter not in text:
            continue
        match = grammar.match.search(text)
        if match and not (grammar.exclude and grammar.exclude.search(text)) and _covers(grammar, match, text):
            _grammar_line(state, grammar, match, text, lineno)
            break
    else:  # no hint describes the line: the generic reader infers its structure (console.generic), unless
        # it is an event (an overflow line's scale is read with the event; its words are no metric names)
        if not _events_and_meta(state, text, lineno) and not head:
            observe(state.generic, text, lineno, state.step, state.rank)
        return
    _events_and_meta(state, text, lineno)


_SCREENS: dict[int, tuple[Grammars, re.Pattern[str] | None]] = {}


def _hint_screen(grammars: Grammars) -> re.Pattern[str] | None:
    """One search for the metric hints' prefilter literals: a line holding none of them is no hint's line.
    None when some hint has no literal (every line is tried on the hints then)."""
    found = _SCREENS.get(id(grammars))
    if found is None or found[0] is not grammars:
        literals = [g.prefilter for g in grammars.metrics]
        screen = re.compile("|".join(map(re.escape, literals))) if literals and all(literals) else None
        found = _SCREENS[id(grammars)] = (grammars, screen)
    return found[1]


def _scale(groups: dict[str, str]) -> float | None:
    """The loss scale an overflow line set: printed as it is, or as its base-2 logarithm (`lg_loss_scale`)."""
    if groups.get("scale"):
        return to_float(groups["scale"])
    exponent = to_float(groups["lgscale"]) if groups.get("lgscale") else None
    return 2.0**exponent if exponent is not None and exponent < 1024 else None


def _events_and_meta(state: State, text: str, lineno: int) -> bool:
    """Events and environment facts of one line; True when an event signature matched. Only the
    signatures whose literals the line holds are tried (grammars.Screen): most lines hold none."""
    events, facts = state.grammars.screens()
    low = text.lower()
    matched = False
    for i in events.candidates(low):
        event = state.grammars.events[i]
        match = event.pattern.search(text)
        if match:
            groups = {k: v or "" for k, v in match.groupdict().items()}
            try:
                message = event.message.format(**groups).rstrip(": ")  # a message group left empty
            except (KeyError, IndexError, ValueError):
                message = event.message
            if state.info_level and event.severity in ("error", "critical"):
                # glog's and TensorFlow's C++ logging mark the line informational (`I ...cc:789] failed to
                # allocate 613M from device: CUDA_ERROR_OUT_OF_MEMORY`: the allocator retries smaller): said, not
                # taken for the failure its words name
                state.builder.event("warning", "info", f"logged at info level: {message}", state.step, lineno)
                break
            if event.repeats > 1:
                state.repeated.setdefault(i, []).append(state.builder.events_added())
            state.builder.event(event.kind, event.severity, message, state.step, lineno)
            scale = _scale(groups) if event.kind == "overflow_skip" else None
            if scale is not None and state.step is not None:
                state.builder.metric(state.step, "train", "loss_scale", scale, lineno, rank=state.rank)
            elif scale is not None:  # placed when the generic reader knows the steps (console.generic.finish)
                state.generic.scales.append((lineno, scale))
            # A value reported non-finite (`Score at iteration 60 is NaN`) may be a record's value all the same.
            matched = event.kind not in ("warning", "loss_nonfinite")  # a report of a value: the line's numbers count
            break
    terminate = _TERMINATE.search(text)
    if terminate:
        state.builder.event("exception", "error", f"terminate: {terminate['type']}", state.step, lineno)
    for i in facts.candidates(low):
        match = state.grammars.meta[i].pattern.search(text)
        if match:
            section = state.meta.setdefault(state.grammars.meta[i].section, {})
            for key, value in match.groupdict().items():
                if value is not None and key not in section:
                    section[key] = _fact(value)
    return matched


def drop_unrepeated(state: State) -> None:
    """The end of the file: the events of a signature that counts only when it repeats (`repeats` in the grammar),
    where it matched fewer lines than that, are none (a single bare `nan` a script printed after its fit is some
    other value, where a loop's print of its loss recurs)."""
    events = state.grammars.events
    drop = {k for i, added in state.repeated.items() if len(added) < events[i].repeats for k in added}
    if drop:
        state.builder.drop_events(drop)


def _fact(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    number = to_float(text.replace(",", ""))
    if number is not None and re.fullmatch(r"[\d,]+", text):
        return int(number)
    return number if number is not None and not re.fullmatch(r"\d+\.\d+\.\d+.*", text) else text


_OPEN_RECORD = re.compile(r"""\{\s*["'][^"']+["']\s*:""")  # a dict or JSON object that starts on this line
# A numeric array left open at the end of the line (numpy wraps long ones: `loss [9.21 9.20 ... 9.20`).
_OPEN_ARRAY = re.compile(r"\[\s*(?:[-+]?(?:\d[\d.eE+-]*|nan|inf)\s*)+$", re.I)
WRAP_LINES = 20  # a record hard-wrapped by a paste or a terminal is joined over at most this many lines


def _unwrapped(state: State, fragment: str, lineno: int) -> tuple[str, int] | None:
    """A dict or JSON record cut into several lines (a paste wrapped at a fixed width, even inside a key
    or a number; pprint's one pair per line) is joined back before it is read: the lines are glued
    without a separator until the braces balance. Returns (text, first line) to read now, or None while
    a record is still open. A record that does not close within WRAP_LINES lines is read as it was."""
    if state.wrapped is not None:
        pieces = state.wrapped
        pieces.append((fragment, lineno))
        joined = "".join(text for text, _ in pieces)
        if joined.count("{") <= joined.count("}") and joined.count("[") <= joined.count("]"):
            state.wrapped = None
            return joined, pieces[0][1]
        if len(pieces) < WRAP_LINES and len(joined) < MAX_LINE:
            return None
        unwrap_rest(state)
        return None
    opens_record = fragment.count("{") > fragment.count("}") and _OPEN_RECORD.search(fragment)
    opens_array = fragment.count("[") > fragment.count("]") and _OPEN_ARRAY.search(fragment.rstrip())
    if opens_record or opens_array:
        state.wrapped = [(fragment.rstrip("\r\n") + (" " if opens_array else ""), lineno)]
        return None
    return fragment, lineno


def unwrap_rest(state: State) -> None:
    """A record that never closed (the file ended, or too many lines): each of its lines read on its own."""
    if state.bar_head is not None:
        head, line = state.bar_head
        state.bar_head = None
        _fragment(state, head, line, whole_bar=True)
    if state.wrapped is not None:
        pieces, state.wrapped = state.wrapped, None
        for piece, lineno in pieces:
            _fragment(state, piece, lineno, unwrap=False)


# A progress bar the terminal cut at its edge: `Epoch 0:  71%|█████▏` on one line, then the rest of it,
# `| 5880/8295 [04:01<01:39, 24.37it/s, train_loss_step=...`, on the next.
_BAR_HEAD = re.compile(r"\d{1,3}%\|[^|\r\n]*$")
# A bar the terminal cut after its counter (`0.5756: 100%|█████| 106/106 [00:17<00:00,`): no rate, no postfix.
_CUT_BAR = re.compile(r"(?P<pct>\d{1,3})%\|[^|\r\n]*\|\s*(?P<n>\d+)/(?P<total>\d+)\s*\[[^\]\[\r\n]*$(?P<post>)")
_BAR_TAIL = re.compile(r"^[^|\r\n\d]{0,80}\|\s*\d+/\d+\s*\[")


def _unstyled(escape: re.Match[str]) -> str:
    """Nothing for a terminal's styling, or a space where it was all that parted two numbers: Keras 3 redraws its
    bar with no carriage return kept in a notebook's output (`loss: 0.1508<bold>13/13`), and the loss is 0.1508,
    not 0.150813."""
    text, start, end = escape.string, escape.start(), escape.end()
    return " " if start > 0 and end < len(text) and text[start - 1].isdigit() and text[end].isdigit() else ""


def _fragment(state: State, fragment: str, lineno: int, unwrap: bool = True, whole_bar: bool = False) -> None:
    """One piece between line breaks: a progress bar, what follows it, or a plain line."""
    if state.bar_head is not None:
        head, head_line = state.bar_head
        state.bar_head = None
        if _BAR_TAIL.match(fragment):
            fragment, lineno = head.rstrip("\r\n") + fragment.lstrip(), head_line
            whole_bar = True
        else:
            _fragment(state, head, head_line, unwrap, whole_bar=True)
    if not whole_bar and "%|" in fragment and _BAR_HEAD.search(fragment) and not BAR.search(fragment):
        state.bar_head = (fragment, lineno)  # read with the next line, if that is the bar's rest
        return
    if unwrap and (state.wrapped is not None or "{" in fragment or "[" in fragment):
        whole = _unwrapped(state, fragment, lineno)
        if whole is None:
            return
        fragment, lineno = whole
    text = _ANSI.sub(_unstyled, fragment) if "\x1b" in fragment else fragment
    if "%" in text and "/" in text:
        bar = BAR.search(text) or _CUT_BAR.search(text)
        if bar:
            desc = text[: bar.start()]
            text = text[bar.end() :]
            post = bar["post"] or ""
            if not read_bar(state, bar, desc, lineno) and any(c.isdigit() for c in desc):
                _line(state, desc, lineno)  # numbers printed as the bar's description: a row of their own
            elif "=" not in post and _DIGIT.search(post):  # `bce_dice_loss - 1.606`: no `key=value` postfix
                _line(state, f"{desc} {post.lstrip(', ')}", lineno)
    if not text.strip():
        return
    counterless = _BAR_ONLY.match(text)
    if counterless is None:
        _line(state, text, lineno)
    elif _DIGIT.search(counterless["desc"]) or counterless["post"]:
        # `Loss: 0.5213: : 11it [00:06, 1.59it/s]`: what the loop printed in the bar is a row of its own
        _line(state, " ".join((counterless["desc"], (counterless["post"] or "").lstrip(", "))), lineno)


def read_text(state: State, text: str) -> None:
    """Every fragment of a text block, line by line."""
    pieces = _BREAK.split(text)
    for i in range(0, len(pieces), 2):
        if pieces[i]:
            _fragment(state, pieces[i][:MAX_LINE], state.lineno)
        if i + 1 < len(pieces) and pieces[i + 1] != "\r" and pieces[i + 1][0] != "\x08":
            state.lineno += 1
