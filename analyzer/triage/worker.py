"""The work done for one target in a worker process: analyse, bound its time, flatten the report into rows."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

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
    result = flatten(report, base_row(target, key), options.reports)
    return _with(result, digest, start)


def _with(result: dict[str, Any], digest: str, start: float) -> dict[str, Any]:
    result["run"]["content_hash"] = digest
    result["run"]["seconds"] = time.perf_counter() - start
    return result


_TFEVENTS = re.compile(r"events\.out\.tfevents\.\d+\.(.+?)\.\d+\.\d+(?:\.v2)?$")
_VERSIONS = ("torch", "transformers", "deepspeed", "peft", "trl", "accelerate", "cuda")


def _find(meta: Any, keys: set[str], depth: int = 0) -> Any:
    """The first scalar value under one of `keys` anywhere in nested meta (breadth first, shallow)."""
    if not isinstance(meta, dict) or depth > 3:
        return None
    for key, value in meta.items():
        if key in keys and isinstance(value, (str, int, float)) and value != "":
            return value
    for value in meta.values():
        found = _find(value, keys, depth + 1)
        if found is not None:
            return found
    return None


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def model_name(meta: dict[str, Any]) -> str | None:
    """What model a run trained: its name or path when recorded, else the architecture."""
    model: dict[str, Any] = meta["model"] if isinstance(meta.get("model"), dict) else {}
    named = _find(meta, {"model_name_or_path", "base_model_name_or_path", "model_name", "_name_or_path"})
    archs = model.get("architectures")
    return str(named or (archs[0] if archs else None) or model.get("model_type") or "") or None


def _exception_signature(report: Report) -> str | None:
    """The first exception's type and message with numbers and paths masked: equal across runs that crash alike."""
    events = report.run.events
    rows = events[events["kind"] == "exception"] if len(events) else events
    if rows.empty:
        return None
    text = str(rows.iloc[0]["message"]).strip().splitlines()[0][:200] if str(rows.iloc[0]["message"]).strip() else ""
    text = re.sub(r"(/[\w.\-]+)+", "<path>", text)
    text = re.sub(r"0x[0-9a-fA-F]+|\d+(\.\d+)?", "N", text)
    return text or None


def _first_nonfinite(report: Report) -> str | None:
    """`split/metric@step` of the earliest NaN or inf value in the run."""
    metrics = report.run.metrics
    if metrics.empty:
        return None
    values = metrics["value"].to_numpy()
    bad = ~(values == values) | (abs(values) == float("inf"))
    if not bad.any():
        return None
    first = int(np.flatnonzero(bad)[np.argmin(metrics["step"].to_numpy()[bad])])
    return f"{metrics['split'].iat[first]}/{metrics['metric'].iat[first]}"


def flatten(report: Report, row: dict[str, Any], with_report: bool) -> dict[str, Any]:
    """The report as plain rows: run (one), findings and problems (many). Small and picklable."""
    from analyzer.model import severity_rank

    meta = report.run.meta
    versions: dict[str, Any] = meta["versions"] if isinstance(meta.get("versions"), dict) else {}
    for name in _VERSIONS:
        row[name] = str(versions[name]) if versions.get(name) is not None else None
    serious = [f for f in report.findings if severity_rank(f.severity) >= severity_rank("warning")]
    head = serious[0] if serious else None
    clock: Any = report.run.metrics["wall_time"].to_numpy() if len(report.run.metrics) else []
    walls = [float(w) for w in clock if w == w and w > 1e8]  # seconds since the epoch, not a relative clock
    steps = report.run.metrics["step"] if len(report.run.metrics) else None
    row.update(
        framework=meta.get("framework"),
        trainer_kind=meta.get("trainer_kind"),
        model=model_name(meta),
        precision=meta.get("precision"),
        deepspeed_stage=_num(meta.get("deepspeed_stage")),
        learning_rate=_num(meta.get("learning_rate")),
        batch_size=_num(meta.get("per_device_train_batch_size")),
        grad_accum=_num(meta.get("gradient_accumulation_steps")),
        optim=str(meta["optim"]) if meta.get("optim") is not None else None,
        host=_find(meta, {"host", "hostname", "node", "nodename"}),
        gpu=_find(meta, {"gpu", "gpu_name"}),
        status=meta.get("status"),
        status_reason=meta.get("status_reason"),
        verdict=report.verdict,
        severity=report.worst_severity(),
        confidence=head.confidence if head else None,
        onset_step=head.onset_step if head else None,
        top_cause=head.causes[0].id if head and head.causes else None,
        n_findings=len(serious),
        exception=_exception_signature(report),
        first_nonfinite=_first_nonfinite(report),
        steps=int(steps.max()) if steps is not None else None,
        started=min(walls) if walls else None,
        duration_s=(max(walls) - min(walls)) if walls else None,
        error=None,
        versions=json.dumps(versions, default=str, sort_keys=True),
        meta=json.dumps(meta, default=str)[:20000],
    )
    if row["host"] is None:  # TensorBoard names its files events.out.tfevents.<time>.<host>.<pid>.<n>
        for source in report.run.sources:
            match = _TFEVENTS.search(source.path)
            if match:
                row["host"] = match.group(1)
                break
    if row["host"] is not None:
        row["host"] = str(row["host"])
    if row["gpu"] is not None:
        row["gpu"] = str(row["gpu"])
    findings = [
        {
            "run": row["run"],
            "position": i,
            "rule_id": f.rule_id,
            "failure_mode": f.failure_mode,
            "severity": f.severity,
            "confidence": float(f.confidence),
            "onset_step": f.onset_step,
            "caused_by": f.caused_by,
            "title": f.title,
            "message": f.message,
            "cause_1": f.causes[0].id if len(f.causes) > 0 else None,
            "cause_2": f.causes[1].id if len(f.causes) > 1 else None,
            "cause_3": f.causes[2].id if len(f.causes) > 2 else None,
            "causes": json.dumps([{"id": c.id, "title": c.title, "score": round(c.score, 3)} for c in f.causes[:5]]),
        }
        for i, f in enumerate(report.findings)
    ]
    problems = [{"run": row["run"], **p.to_dict()} for p in report.run.problems]
    text = None
    if with_report and report.verdict != "healthy":
        from analyzer.report import render_markdown

        text = render_markdown(report)
    return {"run": row, "findings": findings, "problems": problems, "report": text}
