"""Find the runs under the triaged folders: run folders, archives of run folders, and what cannot be a run."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

# Sub-folders that belong to the run around them (checkpoint copies, tracker folders), never runs of their own.
_ATTACHED = re.compile(r"^(checkpoint-\d+|checkpoint|wandb|runs|mlruns|lightning_logs|tensorboard|tb_logs|logs)$")
# A run needs a log: these parsers read settings or end-of-run summaries only.
_SETTINGS_ONLY = {"json_config", "training_args_bin", "hf_results"}
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
_SKIP = {".git", "__pycache__", ".ipynb_checkpoints", "node_modules", ".hg", ".svn"}


@dataclass(frozen=True)
class Target:
    """One unit of work: a run folder, or an archive whose run folders are read in memory by the worker."""

    key: str  # the run's identity in the index: its absolute path
    root: str  # the triaged folder it was found under
    kind: str  # "folder" | "archive" | "error"
    stat: str = ""  # digest of (relative path, size, mtime) of every file: the cheap change test
    files: int = 0
    size: int = 0
    mtime: float = 0.0  # newest file modification time
    reason: str = ""  # for kind "error": why this is not a readable run


def is_archive(path: Path) -> bool:
    """True for a file named like a tar or zip archive."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _recognised(file: Path) -> bool:
    """A file that makes its folder a run: a log or tracker file, not a config alone. Unreadable files count
    (the run's error row says why they could not be read)."""
    from analyzer.ingest import detect

    if not file.exists() or not os.access(file, os.R_OK):  # a broken link, no permission: ingest says which
        return not file.name.startswith(".")
    try:
        parser = detect(file)
    except OSError:
        return not file.name.startswith(".")
    return parser is not None and parser.name not in _SETTINGS_ONLY


def run_files(folder: Path) -> list[Path]:
    """Every regular file of a run folder, its sub-folders included (hidden and VCS folders skipped)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames))
    return found


def stat_target(key: str, root: str, kind: str, files: list[Path], base: Path) -> Target:
    """A target with its cheap change signature: relative path, size and mtime of each file."""
    digest = hashlib.blake2b(digest_size=16)
    size, newest = 0, 0.0
    for file in files:
        try:
            st = file.lstat()
        except OSError:
            continue
        rel = file.relative_to(base).as_posix() if file != base else file.name
        digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        size += st.st_size
        newest = max(newest, st.st_mtime)
    return Target(key, root, kind, digest.hexdigest(), len(files), size, newest)


def discover(roots: list[Path], known: dict[str, str] | None = None) -> list[Target]:
    """Every run under the given folders (or archives, or single run folders), in path order.

    A run is a folder with a recognised log directly in it, or one holding attached folders
    (`checkpoint-*`, `wandb/`, `runs/`): its sub-folders belong to it and are not searched further. An
    archive (.tar.gz, .tgz, .tar, .zip) is one target: the worker reads its runs in memory. A folder with
    no sub-folder and no log (an empty folder, a folder of configs) becomes an error target saying so.
    `known` (folder -> its file signature when an earlier triage found it a run): a folder whose files
    still have that signature is a run again without its files being sniffed (an incremental pass).
    """
    targets: list[Target] = []
    for given in roots:
        root = given.resolve()
        if is_archive(root) and root.is_file():
            targets.append(stat_target(str(root), str(root), "archive", [root], root.parent))
            continue
        if not root.is_dir():
            targets.append(Target(str(root), str(root), "error", reason="no such folder"))
            continue
        _walk(root, str(root), targets, known or {})
    unique = {t.key: t for t in reversed(targets)}  # overlapping roots: a run once, under its first root
    return sorted(unique.values(), key=lambda t: t.key)


def _walk(top: Path, root: str, out: list[Target], known: dict[str, str]) -> None:
    """Search one triaged folder depth first (a stack, not recursion: trees can be deep)."""
    seen: set[Path] = set()
    stack = [top]
    while stack:
        folder = stack.pop()
        real = folder.resolve()
        if real in seen:  # a linked folder met twice, or a link loop
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            out.append(Target(str(folder), root, "error", reason=f"cannot list folder: {exc.strerror}"))
            continue
        if str(folder) in known:
            again = stat_target(str(folder), root, "folder", run_files(folder), folder)
            if again.stat == known[str(folder)]:
                out.append(again)
                continue
        files = [Path(e.path) for e in entries if not _is_dir(e)]
        dirs = [Path(e.path) for e in entries if _is_dir(e) and e.name not in _SKIP and not e.name.startswith(".")]
        if any(_ATTACHED.match(d.name) for d in dirs) or any(not is_archive(f) and _recognised(f) for f in files):
            out.append(stat_target(str(folder), root, "folder", run_files(folder), folder))
            continue
        archives = [f for f in files if is_archive(f) and f.is_file()]
        out.extend(stat_target(str(a), root, "archive", [a], folder) for a in archives)
        if not dirs and not archives:
            what = f"no training log among {len(files)} file(s)" if files else "empty folder"
            out.append(Target(str(folder), root, "error", reason=f"{what}: nothing to analyse", files=len(files)))
        stack.extend(reversed(dirs))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """A folder, or a link to one (a run folder linked into a folder of runs is followed, once)."""
    try:
        return entry.is_dir()
    except OSError:
        return False
