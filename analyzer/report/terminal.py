"""The terminal view (rich): verdict, sparklines of the main series, findings table. Imported by the CLI only."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from analyzer.model import Report
from analyzer.report.markdown import main_series
from analyzer.report.safe import plain
from analyzer.report.sparkline import sparkline

_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
_NARROW = 100  # below this width the table drops its cause column and sparklines shrink


def verdict_line(report: Report) -> Text:
    """One line: the verdict, the worst finding's onset and the run's path (what `--quiet` prints)."""
    verdict = report.verdict
    style = "bold green" if verdict == "healthy" else _STYLE.get(report.worst_severity() or "", "bold")
    line = Text(f"verdict: {verdict}", style=style)
    serious = [f for f in report.findings if f.severity != "info"]
    if serious and serious[0].onset_step is not None:
        of_run = f" of run {serious[0].run}" if serious[0].run is not None else ""
        line.append(f" at {report.run.meta.get('step_unit') or 'step'} {serious[0].onset_step}{of_run}", style=style)
    if serious:
        from analyzer.report.markdown import consequences

        for f in consequences(report, serious[0]):
            line.append(f" → {f.failure_mode}", style=style)
    line.append(f"  {plain(report.run.path)}", style="dim")
    return line


def render_terminal(report: Report, console: Console, quiet: bool = False) -> None:
    """Print the verdict (and unless quiet: the main series' shapes and the findings) to the console."""
    console.print(verdict_line(report), soft_wrap=quiet)  # -q: one line however long (scripts read it)
    if quiet:
        return
    meta = report.run.meta
    narrow = console.width < _NARROW
    train = report.signals.get("train/loss")
    unit = report.run.meta.get("step_unit") or "step"
    span = (
        f"{train['count']} train-loss points, {unit}s {train['first_step']}–{train['last_step']}"
        if train
        else "no train loss"
    )
    console.print(
        Text(
            f"{span} · status {plain(meta.get('status', 'unknown'))} · "
            f"{sum(s.status == 'read' for s in report.run.sources)} file(s) read",
            style="dim",
        )
    )
    width = max(8, min(40, console.width - 48 if narrow else 40))
    for split, metric in main_series(report)[:4]:
        line = sparkline(report.run.series(metric, split=split), width=width)
        if line is not None:
            text = Text(f"{plain(split + '/' + metric):22.22s} ", style="dim")
            text.append(line.text)
            text.append(f"  {line.caption()}", style="dim")
            console.print(text, overflow="ellipsis", no_wrap=True)
    if not report.findings:
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    columns = ("severity", "failure mode", "onset", "finding") + (() if narrow else ("most likely cause",))
    for col in columns:
        table.add_column(col, overflow="fold")
    for f in report.findings:
        # Text, not str: rich would read "[...]" in a logged message as its own markup.
        row = [
            Text(f.severity, style=_STYLE.get(f.severity, "")),
            Text(plain(f.failure_mode)),
            Text("-" if f.onset_step is None else f"{f.onset_step}" + (f" (run {f.run})" if f.run is not None else "")),
            Text(plain(f.message)),
        ]
        if not narrow:
            likely = [c for c in f.causes if not c.ruled_out]
            row.append(Text(plain(likely[0].title) if likely else ""))
        table.add_row(*row)
    console.print(table)
