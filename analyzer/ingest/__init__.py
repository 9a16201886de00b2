"""Ingest: find the readable files of a run and parse each with the parser its content matches."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from analyzer.errors import InputError, NotARun, Problem
from analyzer.ingest.base import GroupParser, Parser, Superseded, read_head
from analyzer.model import Frames, SourceInfo

if TYPE_CHECKING:
    from analyzer.ingest.grammars import Grammars

# The registry, in priority order: when two sources hold the same series at the same step, the
# earlier parser's value is kept (see analyzer.normalize). Sniffing also tries them in this order.
# (module, parser name): a module is imported when a file reaches it in the sniffing order, so that
# reading one trainer_state.json does not import the TensorBoard, W&B and console readers.
REGISTRY: tuple[tuple[str, str], ...] = (
    ("hf_state", "hf_trainer_state"),
    ("llamafactory", "llamafactory_jsonl"),
    ("wandb_run", "wandb"),  # float64 values: before TensorBoard's float32 copies of the same series
    ("wandb_csv", "wandb_csv"),
    ("mlflow_store", "mlflow"),
    ("tensorboard", "tensorboard"),
    ("lightning_csv", "lightning_csv"),
    ("results", "hf_results"),
    ("configs", "json_config"),
    ("training_args", "training_args_bin"),
    ("console", "console_log"),  # last: it accepts any text the structured parsers did not claim
)
PRIORITY = {name: i for i, (_, name) in enumerate(REGISTRY)}


def _module(module: str) -> ModuleType:
    return importlib.import_module(f"analyzer.ingest.{module}")


def parsers() -> Iterator[Parser | GroupParser]:
    """The registered parsers in priority order, each imported when first reached."""
    for module, _ in REGISTRY:
        yield _module(module)


def __getattr__(name: str) -> Any:
    if name == "PARSERS":  # every parser, imported (the `formats` command, tests)
        return tuple(parsers())
    raise AttributeError(f"module 'analyzer.ingest' has no attribute {name!r}")


# Names users and trainers give these files: one of them that no parser accepts is reported, not skipped.
_KNOWN_NAMES = {
    "trainer_state.json",
    "trainer_log.jsonl",
    "all_results.json",
    "train_results.json",
    "eval_results.json",
    "training_args.bin",
    "adapter_config.json",
}
_SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", "node_modules", ".hg", ".svn"}


@dataclass
class Ingested:
    """Everything read under one path: frames per source, what each file was, what went wrong."""

    root: Path
    frames: list[tuple[str, Frames]] = field(default_factory=list)  # (parser name, frames)
    sources: list[SourceInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: int = 0
    label: str = ""  # how a remote run is named in reports (`wandb://entity/project/run_id`); empty for a path


def iter_files(path: Path) -> tuple[list[Path], list[Problem]]:
    """Every regular file under a folder (hidden and VCS folders skipped), or the file itself, and a
    problem for each entry that is not read: a broken link, a link loop, a file link that leaves the
    run folder, a FIFO or socket (a read would block).

    Links: a linked *folder* that points outside the run folder is followed (a checkpoint folder moved
    to another disk is a real layout), once; one that points inside it is not (its files are read under
    their own path, as W&B's `latest-run` link would otherwise double them). A linked *file* is read only
    when its target lies inside the run folder or a followed folder: a link named trainer_state.json that
    points at /etc/passwd is reported, not read. A file given directly is read wherever it points."""
    if not path.is_dir():
        problem = _entry_problem(path, [Path(path.anchor or "/")], path.parent)
        return ([], [problem]) if problem else ([path], [])
    allowed = [path.resolve()]
    entries: list[Path] = []
    problems: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(path, followlinks=True):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            if d in _SKIP_DIRS or d.startswith("."):
                continue
            sub = here / d
            if sub.is_symlink():
                real = sub.resolve()
                if any(real.is_relative_to(top) for top in allowed):
                    continue  # inside the run (or a followed folder), or a loop: read under its own path
                allowed.append(real)
            keep.append(d)
        dirnames[:] = keep
        entries.extend(here / f for f in sorted(filenames))
    # Judged once every followed folder is known: a file link may point into a linked folder walked later.
    found: list[Path] = []
    for entry in entries:
        problem = _entry_problem(entry, allowed, path)
        if problem:
            problems.append(problem)
        else:
            found.append(entry)
    return found, problems


def _entry_problem(file: Path, allowed: list[Path], root: Path) -> Problem | None:
    """Why a directory entry is not read, or None for a regular file that may be read."""
    source = file.relative_to(root).as_posix() if file.is_relative_to(root) else str(file)
    if file.is_symlink():
        target = os.readlink(file)
        try:
            real = file.resolve(strict=True)
        except FileNotFoundError:
            return Problem(source, f"broken link to {target}: the target does not exist, not read")
        except (RuntimeError, OSError):
            return Problem(source, f"link loop ({target}): not read")
        if not any(real.is_relative_to(top) for top in allowed):
            return Problem(source, f"link leaves the run folder (to {real}): not read", level="note")
    if file.is_file():
        return None
    if not file.exists():
        return Problem(source, "file vanished before it was read")
    return Problem(source, "not a regular file (a FIFO, socket or device): not read", level="note")


def detect(path: Path) -> Parser | GroupParser | None:
    """The first registered parser whose sniff accepts the file's content."""
    head = read_head(path)
    for parser in parsers():
        if parser.sniff(path, head):
            return parser
    return None


# Runs that live behind an API, not in a folder: URI scheme -> (module, function(uri) -> Ingested).
REMOTE: dict[str, tuple[str, str]] = {"wandb": ("analyzer.ingest.wandb_run.api", "ingest_uri")}


def ingest(target: str | Path, grammars: Grammars | None = None) -> Ingested:
    """Read every recognised file under a folder (or one file), or a remote run given as a URI
    (`wandb://entity/project/run_id`); one bad file never hides the others.

    `grammars` replaces the console-log grammars (user files, hints off; see ingest.grammars) for every
    reader of console text. Raises FileNotFoundError for a local path that does not exist.
    """
    from analyzer.ingest.grammars import reading_with

    scheme = remote_scheme(target)
    with reading_with(grammars):
        if scheme is not None:
            module, function = REMOTE[scheme]
            read: Ingested = getattr(importlib.import_module(module), function)(str(target))
            return read
        path = Path(target)
        if not path.exists():
            raise FileNotFoundError(str(path))
        return _read_local(path)


def remote_scheme(target: str | Path) -> str | None:
    """The REMOTE scheme a target names (`wandb` for `wandb://e/p/r`), None for a local path."""
    head, sep, _ = str(target).partition(":")
    return head if sep and head in REMOTE else None


def _read_local(path: Path) -> Ingested:
    root = path if path.is_dir() else path.parent
    out = Ingested(root=root)
    groups: dict[str, tuple[GroupParser, list[tuple[Path, str]]]] = {}
    files, out.problems = iter_files(path)
    for file in files:
        source = file.relative_to(root).as_posix()
        if not os.access(file, os.R_OK):
            out.problems.append(Problem(source, "cannot read file: permission denied"))
            out.sources.append(SourceInfo(source, "unknown", status="failed", note="permission denied"))
            continue
        parser = detect(file)
        if parser is None:
            out.ignored += 1
            if path.is_file() or file.name in _KNOWN_NAMES:
                why = _unrecognised(file)
                out.problems.append(Problem(source, why))
                out.sources.append(SourceInfo(source, "unknown", status="failed", note=why))
            continue
        if hasattr(parser, "parse_group"):
            groups.setdefault(parser.name, (parser, []))[1].append((file, source))  # type: ignore[arg-type]
            continue
        try:
            frames = parser.parse(file, source)
        except NotARun as exc:  # a text file with nothing of a training run in it: said, not read
            out.ignored += 1
            out.problems.append(exc.problem)
            continue
        except InputError as exc:
            if not _as_text(out, file, source, exc.problem):
                out.problems.append(exc.problem)
                out.sources.append(SourceInfo(source, parser.name, status="failed", note=exc.problem.message))
            continue
        _add(out, parser.name, source, frames)
    for group_parser, members in groups.values():
        for source, result in group_parser.parse_group(members):
            if isinstance(result, NotARun):
                out.ignored += 1
                out.problems.append(result.problem)
            elif isinstance(result, InputError):
                if _as_text(out, root / source, source, result.problem):
                    continue
                out.problems.append(result.problem)
                out.sources.append(SourceInfo(source, group_parser.name, status="failed", note=result.problem.message))
            elif isinstance(result, Superseded):
                if not result.quiet:
                    out.problems.append(Problem(source, result.note, level="note"))
                out.sources.append(SourceInfo(source, group_parser.name, status="superseded", note=result.note))
            else:
                _add(out, group_parser.name, source, result)
    return out


def _as_text(out: Ingested, file: Path, source: str, problem: Problem) -> bool:
    """JSON its reader could not take whole, saved under a name of the user's (a trainer_state.json pasted
    into an issue and cut off mid-way, kept as `stdout.log`), is read as the console reader reads printed
    text: its records up to the cut, not nothing. A file that bears a format's own name
    (`trainer_state.json`) stays a failed file: it is that format, and it is broken. True when the text
    read something; the reader's complaint stays, as a note."""
    if file.name in _KNOWN_NAMES or not read_head(file, 64).lstrip().startswith((b"{", b"[")):
        return False
    try:
        frames = _module("console").parse(file, source)
    except (NotARun, InputError):
        return False
    if frames.metrics.empty:
        return False
    out.problems.append(Problem(source, f"{problem.message}; read as printed text instead", problem.where, "note"))
    _add(out, "console_log", source, frames)
    return True


def _add(out: Ingested, parser_name: str, source: str, frames: Frames) -> None:
    out.frames.append((parser_name, frames))
    out.problems.extend(frames.problems)
    out.sources.append(SourceInfo(source, parser_name, rows=len(frames.metrics)))


def _unrecognised(file: Path) -> str:
    head = read_head(file, 512)
    if not head.strip():
        return "file is empty"
    if head.lstrip().startswith((b"{", b"[")):
        return "JSON file of an unknown kind (not a trainer_state.json, trainer_log.jsonl, results or config)"
    return (
        "format not recognised (readable: trainer_state.json, LLaMA-Factory trainer_log.jsonl, "
        "*_results.json, model/PEFT/generation/DeepSpeed configs, training_args.bin)"
    )
