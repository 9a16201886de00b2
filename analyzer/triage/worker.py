"""The work done for one target in a worker process: analyse, bound its time, flatten the report into rows."""

from __future__ import annotations

import contextlib
import hashlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.triage.discover import Target, discover, run_files

if TYPE_CHECKING:
    from analyzer.model import Report


@dataclass
class Options:
    """What every worker needs to know; sent once per chunk (small and picklable)."""

    timeout: float = 60.0  # seconds per run
    reports: bool = False  # also return the markdown post-mortem of failing runs
    rules_dirs: list[str] = field(default_factory=list)


class RunTimeout(Exception):
    """A run took longer than the per-run limit."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise RunTimeout in this thread after `seconds` (main thread only: elsewhere the caller bounds it)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise RunTimeout(f"analysis took longer than {seconds:g} s (per-run limit)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(work: Callable[[], Report], seconds: float) -> Report:
    """`work()` within `seconds`: a SIGALRM in a process's main thread, else a watched daemon thread (on a
    Dask worker; a run that hangs there is abandoned, not stopped, and the batch goes on)."""
    if seconds <= 0 or threading.current_thread() is threading.main_thread():
        with deadline(seconds):
            return work()
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(work())
        except BaseException as exc:  # handed to the caller's thread
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if not box:
        raise RunTimeout(f"analysis took longer than {seconds:g} s (per-run limit)")
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


# Model weights and optimizer states: gigabytes no reader opens. Their name and size enter the digest, not
# their bytes (training_args.bin is a pickle of settings and is hashed whole).
_WEIGHTS = (".safetensors", ".pt", ".pth", ".ckpt", ".h5", ".onnx", ".gguf", ".npz", ".msgpack")


def content_hash(files: list[Path]) -> str:
    """Digest of the bytes of every file (paths included), in sorted order; weights by name and size."""
    digest = hashlib.blake2b(digest_size=16)
    for file in sorted(files):
        digest.update(file.name.encode() + b"\0")
        name = file.name.lower()
        if name.endswith(_WEIGHTS) or (name.endswith(".bin") and name != "training_args.bin"):
            with contextlib.suppress(OSError):
                digest.update(str(file.stat().st_size).encode())
            continue
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
        except OSError as exc:
            digest.update(f"unreadable:{exc.errno}".encode())
    return digest.hexdigest()


Analyse = Callable[[Path, Options], "Report"]


_RULES: dict[tuple[str, ...], Any] = {}  # rule folders -> load_rules() result, once per worker process


def default_analyse(path: Path, options: Options) -> Report:
    """The one-run analysis of analyzer.api, with the rules parsed once per process."""
    from analyzer.api import analyze

    return analyze(path, rules=rules_for(options.rules_dirs), signals=options.reports)


def rules_for(folders: list[str]) -> Any:
    """load_rules() of the built-in library and these folders, parsed once per process."""
    from analyzer.rules import load_rules

    key = tuple(folders)
    if key not in _RULES:
        _RULES[key] = load_rules([Path(d) for d in key] or None)
    return _RULES[key]


def analyse_targets(targets: list[Target], options: Options, analyse: Analyse | None = None) -> list[dict[str, Any]]:
    """Results of a chunk of targets: one result per run (an archive may hold several), never an exception."""
    out: list[dict[str, Any]] = []
    for target in targets:
        try:
            out.extend(analyse_target(target, options, analyse or default_analyse))
        except Exception as exc:  # a bug in analyzer on one input must not lose the rest of the chunk
            out.append(error_result(target, f"internal error: {type(exc).__name__}: {exc}"))
    return out


def error_result(target: Target, reason: str, key: str | None = None) -> dict[str, Any]:
    """The row of a run that could not be analysed, with why."""
    run = base_row(target, key)
    run["error"] = reason
    run["verdict"] = "error"
    run["console"] = True  # new line grammars may read what could not be read
    return {"run": run, "findings": [], "problems": [], "report": None}


def base_row(target: Target, key: str | None = None) -> dict[str, Any]:
    """The columns known before analysis: identity and the file signature."""
    name = Path(key or target.key).name or Path(target.key).name
    return {
        "run": key or target.key,
        "target": target.key,
        "root": target.root,
        "name": name,
        "archive": target.key if target.kind == "archive" else None,
        "files": target.files,
        "size": target.size,
        "mtime": target.mtime,
        "stat": target.stat,
    }


def analyse_target(target: Target, options: Options, analyse: Analyse) -> list[dict[str, Any]]:
    """Analyse one folder, or every run folder inside one archive (read in memory)."""
    if target.kind == "error":
        return [error_result(target, target.reason)]
    if target.kind == "folder":
        files = run_files(Path(target.key))
        return [_one(target, Path(target.key), options, analyse, content_hash(files))]
    from analyzer.triage.archive import ArchiveError, opened

    digest = content_hash([Path(target.key)])
    try:
        with opened(Path(target.key)) as folder:
            inner = discover([folder])
            if not inner:
                return [error_result(target, "archive holds no run folder")]
            results = []
            for sub in inner:
                rel = Path(sub.key).relative_to(folder).as_posix()
                key = f"{target.key}!/{'' if rel == '.' else rel}"
                if sub.kind != "folder":
                    results.append(error_result(target, sub.reason or "nested archive: not read", key))
                    continue
                results.append(_one(target, Path(sub.key), options, analyse, digest, key))
            return results
    except ArchiveError as exc:
        return [error_result(target, str(exc))]


def _one(
    target: Target, folder: Path, options: Options, analyse: Analyse, digest: str, key: str | None = None
) -> dict[str, Any]:
    from analyzer.errors import NothingReadable

    start = time.perf_counter()
    try:
        report = bounded(lambda: analyse(folder, options), options.timeout)
    except RunTimeout as exc:
        return _with(error_result(target, str(exc), key), digest, start)
    except NothingReadable as exc:
        said = "; ".join(str(p) for p in exc.problems[:4]) or "no training metric or event recognised"
        return _with(error_result(target, f"nothing readable: {said}", key), digest, start)
    except MemoryError:
        return _with(error_result(target, "ran out of memory (per-run memory limit)", key), digest, start)
    from analyzer.triage.rows import flatten

    result = flatten(report, base_row(target, key), options.reports)
    return _with(result, digest, start)


def _with(result: dict[str, Any], digest: str, start: float) -> dict[str, Any]:
    result["run"]["content_hash"] = digest
    result["run"]["seconds"] = time.perf_counter() - start
    return result
