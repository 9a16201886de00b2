"""The bodies of `analyze triage` and `analyze compare` (analyzer.cli declares their options)."""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

from rich.console import Console

from analyzer.report.safe import plain

EXPORTS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json"}


def _say(console: Console, text: str) -> None:
    console.print(plain(text), markup=False, highlight=False)


def inside(path: Path, roots: list[Path]) -> Path | None:
    """The input folder `path` lies in, if any."""
    from analyzer.triage import inside as within

    return within(path, roots)


def _preimport(plots: bool) -> None:
    import analyzer.triage.summary  # noqa: F401  (pandas)

    if plots:
        import matplotlib.figure  # noqa: F401


def run_triage(
    folders: list[Path],
    jobs: int,
    output: Path | None,
    db: Path,
    fmt: str,
    export: Path | None,
    scheduler: str | None,
    timeout: float,
    max_memory: int,
    reports: Path | None,
    rules: list[Path],
    plots: bool,
    err: Console,
) -> int:
    """Triage the folders; returns the exit code (0 all healthy, 1 failing or unreadable runs, 2 usage)."""
    from analyzer.triage import triage
    from analyzer.triage.index import Index

    if fmt == "parquet" and sys.stdout.isatty():
        _say(err, "error: --format parquet writes binary to stdout: redirect it (> runs.parquet) or use --export")
        return 2
    for folder in folders:
        if not folder.exists():
            _say(err, f"error: {folder}: no such file or folder")
            return 2
    for what, path in (("--db", db), ("-o", output), ("--reports", reports), ("--export", export)):
        if path is not None and inside(path, folders):
            _say(err, f"error: {what} {path} lies inside a triaged folder: nothing under them is ever written")
            return 2
    if export is not None and export.suffix.lower() not in EXPORTS:
        _say(err, f"error: --export {export}: the name must end in .csv, .parquet or .json")
        return 2
    from analyzer.triage.progress import progress

    # The summary's libraries load while the workers' fork server imports the analysis (one core each):
    # not after the runs, when both cores are the workers'.
    threading.Thread(target=_preimport, args=(output is not None and plots,), daemon=True).start()
    try:
        with progress(err) as start:
            outcome = triage(
                folders,
                db,
                jobs=jobs,
                timeout=timeout,
                memory_mb=max_memory,
                scheduler=scheduler,
                rules_dirs=rules,
                reports=reports is not None,
                progress=start,
            )
    except OSError as exc:
        _say(err, f"error: {exc}")
        return 2
    except Exception as exc:  # the index: locked by another triage, or not a DuckDB file
        import duckdb

        if not isinstance(exc, duckdb.Error):
            raise
        _say(err, f"error: cannot use the index {db}: {exc}")
        return 2
    _say(
        err,
        f"{outcome.found} run(s) found, {outcome.analysed} analysed, {outcome.unchanged} unchanged "
        f"(skipped), {outcome.pruned} gone from the index, in {outcome.seconds:.1f} s; index: {db}",
    )
    from analyzer.triage.summary import collect, render_markdown, render_text, write_plots

    index = Index(db)
    try:
        summary = collect(index, outcome.roots)
        if export is not None:
            for path in index.export(export, EXPORTS[export.suffix.lower()], outcome.roots):
                _say(err, f"written: {path}")
    finally:
        index.close()
    runs = summary.runs
    if fmt == "parquet":
        _parquet_to_stdout(db, outcome.roots)
    elif fmt == "csv":
        runs.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        runs.to_json(sys.stdout, orient="records", lines=True, date_format="iso")
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(summary))
    else:
        sys.stdout.write(plain(render_text(summary)).replace("\r", ""))
    if output is not None:
        folder = output.parent / f"{output.stem}_files"
        drawn = write_plots(summary, folder) if plots else []
        output.write_text(render_markdown(summary, drawn), encoding="utf-8")
        _say(err, f"summary written to {output}" + (f" (plots in {folder})" if drawn else ""))
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        for run, text in sorted(outcome.reports.items()):
            name = re.sub(r"[^\w.-]+", "_", run.strip("/"))[-150:]
            (reports / f"{name}.md").write_text(text, encoding="utf-8")
        _say(err, f"{len(outcome.reports)} post-mortem(s) written to {reports}")
    bad = (runs["verdict"] != "healthy").any() if len(runs) else False
    return 1 if bad else 0


def _parquet_to_stdout(db: Path, roots: list[str]) -> None:
    """The runs table as parquet on stdout (written to a scratch file first: parquet ends with its footer)."""
    import shutil
    import tempfile

    from analyzer.triage.index import Index

    with tempfile.TemporaryDirectory() as scratch:
        index = Index(db)
        try:
            written = index.export(Path(scratch) / "runs.parquet", "parquet", roots)[0]
        finally:
            index.close()
        with written.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
        sys.stdout.buffer.flush()


def run_compare(run_a: Path, run_b: Path, output: Path | None, err: Console) -> int:
    """Compare two runs; the comparison on stdout, -o writes it (markdown) with the overlaid plot beside it."""
    for path in (run_a, run_b):
        if not path.exists():
            _say(err, f"error: {path}: no such file or folder")
            return 2
    if output is not None and inside(output, [run_a, run_b]):
        _say(err, f"error: -o {output} lies inside a compared run: nothing under it is ever written")
        return 2
    from analyzer.api import analyze
    from analyzer.errors import NothingReadable
    from analyzer.triage.compare import compare_reports, render_markdown, write_plot

    reports = []
    for path in (run_a, run_b):
        try:
            reports.append(analyze(path))
        except NothingReadable as exc:
            for problem in exc.problems:
                _say(err, f"error: {problem}")
            _say(err, f"error: nothing readable under {path}")
            return 3
    comparison = compare_reports(reports[0], reports[1])
    sys.stdout.write(plain(render_markdown(comparison)))
    if output is not None:
        folder = output.parent / f"{output.stem}_files"
        drawn = write_plot(comparison, folder / "curves.png")
        output.write_text(render_markdown(comparison, f"{folder.name}/curves.png" if drawn else None), "utf-8")
        _say(err, f"comparison written to {output}" + (f" (plot in {folder})" if drawn else ""))
    return 0
