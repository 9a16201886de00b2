"""Progress of a triage on stderr: a rich bar with ETA and failures on a terminal, plain lines elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

Callback = Callable[[list[dict[str, Any]]], None]


@contextmanager
def progress(console: Console) -> Iterator[Callable[[int], Callback]]:
    """Yields `start(total) -> callback(results)`; the bar (or the lines) ends with the block."""
    failing = [0, 0]  # failing runs, unreadable runs
    if console.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("triage"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failing]} failing, {task.fields[errors]} unreadable"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )

        def start_bar(total: int) -> Callback:
            task = bar.add_task("triage", total=total, failing=0, errors=0)

            def step(results: list[dict[str, Any]]) -> None:
                _count(results, failing)
                bar.update(task, advance=len(results), failing=failing[0], errors=failing[1])

            return step

        with bar:
            yield start_bar
        return
    done = [0]
    last = [time.monotonic()]

    def start_lines(total: int) -> Callback:
        began = time.monotonic()
        console.print(f"triage: {total} run(s) to analyse", markup=False, highlight=False)

        def step(results: list[dict[str, Any]]) -> None:
            _count(results, failing)
            done[0] += len(results)
            now = time.monotonic()
            if now - last[0] >= 2.0 or done[0] >= total:
                last[0] = now
                rate = done[0] / max(now - began, 1e-9)
                eta = max(total - done[0], 0) / rate if rate else 0.0
                console.print(
                    f"triage: {done[0]}/{total} done, {failing[0]} failing, {failing[1]} unreadable, "
                    f"{rate:.1f} runs/s, ETA {eta:.0f} s",
                    markup=False,
                    highlight=False,
                )

        return step

    yield start_lines


def _count(results: list[dict[str, Any]], failing: list[int]) -> None:
    for result in results:
        verdict = result["run"].get("verdict")
        if verdict == "error":
            failing[1] += 1
        elif verdict != "healthy":
            failing[0] += 1
