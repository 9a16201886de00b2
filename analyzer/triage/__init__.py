"""Batch triage: find every run under some folders, analyse them in parallel, keep the answers in an index."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.triage.discover import Target, discover, run_files
from analyzer.triage.index import Fingerprint
from analyzer.triage.worker import Analyse, Options, content_hash

Progress = Callable[[list[dict[str, Any]]], None]
WRITE_BATCH = 500  # results held before they go into the index in one transaction
WRITE_EVERY = 5.0  # seconds: a slow batch is written at least this often


@dataclass
class Outcome:
    """What one triage did: how many runs it found, analysed, skipped as unchanged, and how long it took."""

    found: int = 0
    analysed: int = 0
    unchanged: int = 0
    touched: int = 0  # files touched (mtime) but bytes unchanged: not analysed again
    pruned: int = 0
    errors: int = 0
    seconds: float = 0.0
    roots: list[str] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)  # run -> markdown post-mortem (--reports)


def inside(path: Path, roots: list[Path]) -> Path | None:
    """The triaged folder `path` lies in, if any (nothing under them is ever written)."""
    real = path.resolve()
    for root in roots:
        top = root.resolve()
        if real == top or (top.is_dir() and real.is_relative_to(top)):
            return root
    return None


def plan(
    targets: list[Target], known: dict[str, tuple[str, str, str, str]], fp: Fingerprint
) -> tuple[list[Target], list[Target]]:
    """(to analyse, touched) given what the index holds: unchanged files and rules are skipped (new line
    grammars re-analyse only the runs that read a console log); a target whose sizes or mtimes changed is
    hashed, and analysed again only when its bytes changed."""
    todo: list[Target] = []
    touched: list[Target] = []
    for target in targets:
        old = known.get(target.key)
        if target.kind == "error" or old is None or old[2] != fp.core or old[3] not in ("", fp.grammars):
            todo.append(target)
        elif old[0] == target.stat:
            continue
        else:
            files = [Path(target.key)] if target.kind == "archive" else run_files(Path(target.key))
            (touched if content_hash(files) == old[1] else todo).append(target)
    return todo, touched


def triage(
    roots: list[Path],
    db: Path,
    jobs: int = 0,
    timeout: float = 60.0,
    memory_mb: int = 4096,
    scheduler: Any = None,
    rules_dirs: list[Path] | None = None,
    reports: bool = False,
    progress: Callable[[int], Progress] | None = None,
    analyse: Analyse | None = None,
    grace: float = 30.0,
) -> Outcome:
    """Triage every run under `roots` into the DuckDB index at `db`; returns what was done.

    Nothing under the roots is written. Runs whose files and rules are unchanged since the last triage
    into the same index are skipped. `progress(total)` returns a callback fed each batch of results.
    `scheduler` (an address or a distributed.Client) runs the analysis on a Dask cluster. A local worker
    silent for `grace` seconds past its runs' limits is killed (its run becomes an error row)."""
    from analyzer.triage.index import Index, fingerprint
    from analyzer.triage.runner import run_dask, run_local, start_fork_server

    start = time.perf_counter()
    local = scheduler is None and analyse is None
    first = local and not Path(db).exists()
    if first:
        start_fork_server()  # a first triage: the workers' imports overlap the index's and discovery's
    index = Index(db)
    try:
        known = index.known()
        if local and not known and not first:
            start_fork_server()
        fp = fingerprint(rules_dirs or [])
        targets = discover(roots, {key: row[0] for key, row in known.items() if row[0]})
        outcome = Outcome(found=len(targets), roots=sorted({t.root for t in targets}))
        todo, touched = plan(targets, known, fp)
        if todo and local and known:
            start_fork_server()  # its imports overlap the index work below
        for target in touched:
            index.touch(target.key, target.stat, target.mtime)
        outcome.touched = len(touched)
        outcome.unchanged = len(targets) - len(todo)
        given = sorted({str(r.resolve()) for r in roots} | set(outcome.roots))
        outcome.pruned = index.prune(given, {t.key for t in targets})
        notify = progress(len(todo)) if progress else None
        options = Options(timeout=timeout, reports=reports, rules_dirs=[str(d) for d in rules_dirs or []])
        waiting: list[dict[str, Any]] = []  # written in batches: one DuckDB transaction costs ~50 ms
        written = [time.monotonic()]
        fresh = not any(t.key in known for t in todo)  # nothing of these runs in the index: no deletes

        def take(results: list[dict[str, Any]]) -> None:
            for result in results:
                outcome.analysed += 1
                outcome.errors += result["run"].get("error") is not None
                if result.get("report"):
                    outcome.reports[result["run"]["run"]] = result["report"]
            waiting.extend(results)
            if len(waiting) >= WRITE_BATCH or time.monotonic() - written[0] > WRITE_EVERY:
                flush()
            if notify:
                notify(results)

        def flush() -> None:
            index.write(waiting, fp, replace=not fresh)
            waiting.clear()
            written[0] = time.monotonic()

        try:
            if todo and scheduler is not None and analyse is None:
                run_dask(todo, options, take, scheduler)
            elif todo:
                run_local(todo, options, take, jobs=jobs, memory_mb=memory_mb, analyse=analyse, grace=grace)
        finally:
            flush()  # what was analysed before an interruption is kept
    finally:
        index.close()
    outcome.seconds = time.perf_counter() - start
    return outcome
