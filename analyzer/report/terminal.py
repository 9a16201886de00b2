"""The terminal view (rich): verdict, findings table, top causes. Imported by the CLI only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from analyzer.model import Report

_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}


def render_terminal(report: Report, console: Console) -> None:
    """Print the verdict and the findings to the console."""
    meta = report.run.meta
    verdict = report.verdict
    style = "bold green" if verdict == "healthy" else _STYLE.get(report.worst_severity() or "", "bold")
    console.print(f"[{style}]verdict: {verdict}[/]  [dim]{report.run.path}[/]")
    train = report.signals.get("train/loss")
    span = f"{train['count']} train-loss points, steps {train['first_step']}–{train['last_step']}" if train \
        else "no train loss"
    console.print(f"[dim]{span} · status {meta.get('status', 'unknown')} · "
                  f"{sum(s.status == 'read' for s in report.run.sources)} file(s) read[/]")
    if not report.findings:
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    for col in ("severity", "failure mode", "onset", "finding", "most likely cause"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        cause = f.causes[0].title if f.causes else ""
        table.add_row(f"[{_STYLE.get(f.severity, '')}]{f.severity}[/]", f.failure_mode,
                      str(f.onset_step) if f.onset_step is not None else "-", f.message, cause)
    console.print(table)
