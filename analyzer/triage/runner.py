"""Run the targets in parallel: warm local worker processes (default) or a Dask distributed cluster."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from analyzer.triage.discover import Target
from analyzer.triage.worker import Analyse, Options, analyse_targets, error_result

OnResults = Callable[[list[dict[str, Any]]], None]
GRACE = 30.0  # seconds beyond the per-run limits before a silent worker is killed


def preload() -> None:
    """What every worker needs, done once in the fork server before the workers fork from it: the
    analysis imported, every reader imported, the built-in rules parsed. The heavy libraries a reader
    or a signal needs only for some runs (scipy.stats, the TensorBoard and W&B protobufs) are imported
    on first use instead: a batch of trainer_state.json runs never pays for them."""
    import analyzer.api  # noqa: F401
    from analyzer.ingest import parsers
    from analyzer.triage.worker import rules_for

    rules_for([])
    for _ in parsers():
        pass


def warm(memory_mb: int = 0) -> None:
    """Worker initializer: what preload() did (again only where the worker did not fork from the fork
    server), then cap the address space."""
    preload()
    if memory_mb > 0:
        import resource

        with open("/proc/self/statm") as statm:  # the libraries' own mapping is not the run's
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = used + (memory_mb << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def start_fork_server() -> multiprocessing.context.BaseContext:
    """The fork server the local workers fork from, started now (it imports the analysis while the
    caller goes on): workers forked from it start warm in milliseconds."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["analyzer.triage.preload"])
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return ctx


def chunks(targets: list[Target], jobs: int, most: int = 16) -> list[list[Target]]:
    """Chunks small enough to balance the load (about 4 per worker at least), large enough to be cheap."""
    size = max(1, min(most, len(targets) // max(1, jobs * 4)))
    return [targets[i : i + size] for i in range(0, len(targets), size)]


def run_local(
    targets: list[Target],
    options: Options,
    on_results: OnResults,
    jobs: int = 0,
    memory_mb: int = 0,
    analyse: Analyse | None = None,
    grace: float = GRACE,
) -> None:
    """Analyse the targets on `jobs` warm worker processes (0: one per core), chunk by chunk.

    Each run is bounded by options.timeout inside its worker. When a worker stops answering (stuck where
    the alarm cannot reach, in C code) or dies, the pool is killed and what was in flight is retried one
    run at a time, one in flight: the run that then kills a worker alone becomes an error row."""
    jobs = jobs or os.cpu_count() or 1
    queue = chunks(targets, jobs)
    ctx = start_fork_server()
    suspects: set[str] = set()  # runs in flight at a kill: retried one at a time, so a kill names its run
    while queue:
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=warm, initargs=(memory_mb,)) as pool:
            pending: dict[Future[list[dict[str, Any]]], tuple[list[Target], float]] = {}
            why = ""
            while (queue or pending) and not why:
                serial = bool(suspects)
                while queue and len(pending) < (1 if serial else jobs * 2):
                    chunk = queue.pop(0)
                    limit = (options.timeout * len(chunk) + grace) * (1 if serial else 2)
                    pending[pool.submit(analyse_targets, chunk, options, analyse)] = (chunk, time.monotonic() + limit)
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        results = future.result()
                    except BrokenProcessPool:
                        why = "its worker process died (a crash or the kernel's memory killer)"
                        continue
                    suspects.difference_update(t.key for t in pending.pop(future)[0])
                    on_results(results)
                if not why and any(deadline < time.monotonic() for _, deadline in pending.values()):
                    why = "its worker stopped answering and was killed"
            if why:
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.kill()  # a worker stuck where the per-run alarm cannot reach
                stuck = [t for chunk, _ in pending.values() for t in chunk]
                if len(stuck) == 1 and stuck[0].key in suspects:
                    suspects.discard(stuck[0].key)
                    on_results([error_result(stuck[0], f"not analysed: {why}")])
                else:
                    suspects.update(t.key for t in stuck)
                    queue = [[t] for t in stuck] + queue


_WARM = False


def _dask_chunk(chunk: list[Target], options: Options) -> list[dict[str, Any]]:
    """A chunk on a Dask worker: warm once per worker process, then the same work as a local worker."""
    global _WARM
    if not _WARM:
        warm()
        _WARM = True
    return analyse_targets(chunk, options)


def run_dask(targets: list[Target], options: Options, on_results: OnResults, scheduler: Any) -> None:
    """Analyse the targets on a Dask distributed cluster (`scheduler`: an address or a Client).

    The workers read the runs from storage they share with this machine (paths are sent, not bytes);
    results come back here and go into the index. A run that hangs is bounded by options.timeout on the
    worker; a chunk that never answers within its limit becomes error rows."""
    from distributed import Client, as_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        parts = chunks(targets, workers * 2)
        futures = client.map(_dask_chunk, parts, options=options, pure=False)
        owner = {f.key: part for f, part in zip(futures, parts, strict=True)}
        limit = max(options.timeout * len(p) for p in parts) * len(parts) + GRACE if parts else GRACE
        try:
            for future in as_completed(futures, timeout=limit):
                try:
                    on_results(future.result())
                except Exception as exc:
                    on_results([error_result(t, f"cluster task failed: {exc}") for t in owner[future.key]])
                owner.pop(future.key, None)
        except TimeoutError:
            for part in owner.values():
                on_results([error_result(t, "no answer from the cluster within the time limit") for t in part])
    finally:
        if client is not scheduler:
            client.close()
