"""The triage summary: counts per verdict and failure mode, groups, worst runs first, unreadable runs, plots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analyzer.model import SEVERITIES
from analyzer.report.safe import code, md
from analyzer.triage.groups import Group, find_groups
from analyzer.triage.index import Index, quote

WORST = 50  # runs listed in the "worst first" table


@dataclass
class Summary:
    """The numbers the summary is rendered from (a pure function of the index)."""

    runs: pd.DataFrame
    modes: pd.DataFrame  # failure_mode, runs (each run counted once per mode at warning or above)
    groups: list[Group]


def collect(index: Index, roots: list[str]) -> Summary:
    """Read the summary's numbers for these roots from the index."""
    where = f"root IN ({', '.join(quote(r) for r in roots)})" if roots else "TRUE"
    runs = index.frame(f"SELECT * EXCLUDE (meta) FROM runs WHERE {where} ORDER BY run")
    modes = index.frame(
        "SELECT failure_mode, count(DISTINCT run) AS runs FROM findings WHERE severity IN "
        f"('warning', 'error', 'critical') AND run IN (SELECT run FROM runs WHERE {where}) "
        "GROUP BY failure_mode ORDER BY runs DESC, failure_mode"
    )
    return Summary(runs, modes, find_groups(runs))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None for missing values."""
    return [
        {str(k): (None if v is pd.NA or v is pd.NaT else v) for k, v in row.items()} for row in frame.to_dict("records")
    ]


def _worst(runs: pd.DataFrame) -> pd.DataFrame:
    failing = runs[(runs["verdict"] != "healthy") & (runs["verdict"] != "error")].copy()
    failing["_sev"] = failing["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).fillna(-1)
    return failing.sort_values(["_sev", "confidence", "onset_step"], ascending=[False, False, True])


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    text = str(value)
    return md(text if len(text) <= 120 else text[:117] + "...")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def render_markdown(summary: Summary, plots: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    """The summary as markdown; `plots` are (title, relative path) of PNGs written beside it."""
    runs = summary.runs
    total = len(runs)
    failing = _worst(runs)
    errors = runs[runs["verdict"] == "error"]
    healthy = int((runs["verdict"] == "healthy").sum())
    lines = [
        f"# Triage: {total} runs",
        "",
        f"{healthy} healthy, {len(failing)} failing, {len(errors)} could not be read."
        + (f" Folders: {', '.join(code(r) for r in sorted(runs['root'].unique()))}." if total else ""),
        "",
        "## Verdicts",
        "",
    ]
    counts = runs["verdict"].value_counts()
    lines += _table(["verdict", "runs", "share"], [[v, n, f"{n / total:.0%}"] for v, n in counts.items()])
    if len(summary.modes):
        lines += ["", "## Failure modes (runs with a finding of this mode at warning or above)", ""]
        lines += _table(["failure mode", "runs"], summary.modes.values.tolist())
    if summary.groups:
        lines += ["", "## Groups: runs that fail the same way", ""]
        for group in summary.groups:
            lines.append(f"- {md(group.sentence())}")
            shown = ", ".join(code(Path(r).name) for r in group.runs[:12])
            more = f" and {len(group.runs) - 12} more" if len(group.runs) > 12 else ""
            lines.append(f"  - runs: {shown}{more}")
    for title, path in plots:
        lines += ["", f"## {title}", "", f"![{title}]({path})"]
    if len(failing):
        lines += ["", f"## Worst runs first ({min(WORST, len(failing))} of {len(failing)})", ""]
        rows: list[list[object]] = [
            [
                r["name"],
                r["verdict"],
                r["severity"],
                f"{r['confidence']:.2f}" if r["confidence"] == r["confidence"] else "",
                r["onset_step"],
                r["top_cause"],
                r["status"],
                r["run"],
            ]
            for r in _records(failing.head(WORST))
        ]
        lines += _table(["run", "verdict", "severity", "confidence", "onset", "top cause", "status", "path"], rows)
    if len(errors):
        lines += ["", f"## Could not be read ({len(errors)})", ""]
        lines += _table(["run", "why"], [[r["run"], r["error"]] for r in _records(errors)])
    return "\n".join(lines) + "\n"


def render_text(summary: Summary, limit: int = 15) -> str:
    """The summary for a terminal: counts, groups, the worst runs, the unreadable ones."""
    runs = summary.runs
    failing = _worst(runs)
    errors = runs[runs["verdict"] == "error"]
    out = [f"{len(runs)} runs: " + ", ".join(f"{n} {v}" for v, n in runs["verdict"].value_counts().items())]
    if len(summary.modes):
        out.append("failure modes: " + ", ".join(f"{m} {n}" for m, n in summary.modes.values.tolist()))
    for group in summary.groups[:limit]:
        out.append(f"group: {group.sentence()}")
    for r in _records(failing.head(limit)):
        step = r["onset_step"]
        onset = f" from step {int(step)}" if step is not None and step == step else ""
        cause = f" ({r['top_cause']})" if isinstance(r["top_cause"], str) else ""
        out.append(f"{r['severity']:8s} {r['verdict']}{onset}: {r['run']}{cause}")
    if len(failing) > limit:
        out.append(f"... {len(failing) - limit} more failing runs (see -o summary.md or the index)")
    for r in _records(errors.head(limit)):
        out.append(f"unreadable: {r['run']}: {r['error']}")
    if len(errors) > limit:
        out.append(f"... {len(errors) - limit} more unreadable runs")
    return "\n".join(out) + "\n"


def _version_key(text: str) -> tuple[tuple[int, str], ...]:
    """`4.10.0` after `4.9.1`: numeric parts compared as numbers."""
    import re

    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"[.+-]", str(text)))


def write_plots(summary: Summary, folder: Path) -> list[tuple[str, str]]:
    """PNG plots: failure modes per week, and the failing share per library version. (title, file) each."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: its import and figure manager cost more than the drawing

    runs = summary.runs
    out: list[tuple[str, str]] = []
    failing = runs[(runs["verdict"] != "healthy") & (runs["verdict"] != "error")]
    if len(failing) and failing["seen_at"].notna().any():
        week = failing["seen_at"].dt.to_period("W").dt.start_time.dt.date
        table = pd.crosstab(week, failing["verdict"])
        fig = Figure(figsize=(8, 3.5))
        ax = fig.subplots()
        colors = matplotlib.colormaps["tab20"]
        at, bottom = np.arange(len(table)), np.zeros(len(table))
        for k, verdict in enumerate(table.columns):  # stacked by hand: pandas' plotting imports pyplot
            counts = table[verdict].to_numpy(dtype="float64")
            ax.bar(at, counts, bottom=bottom, width=0.8, label=str(verdict), color=colors(k % colors.N))
            bottom += counts
        ax.set_xticks(at, [str(week) for week in table.index], rotation=45, ha="right")
        ax.set_xlabel("week (run start, else file time)")
        ax.set_ylabel("failing runs")
        ax.legend(fontsize=7, ncols=2)
        fig.tight_layout()
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / "failure_modes_by_week.png", dpi=100)
        out.append(("Failure modes over time", "failure_modes_by_week.png"))
    for library in ("transformers", "torch", "deepspeed"):
        known = runs[runs[library].notna() & (runs["verdict"] != "error")]
        if known[library].nunique() < 2:
            continue
        share = (known["verdict"] != "healthy").groupby(known[library]).agg(["mean", "size"])
        share = share.loc[sorted(share.index, key=_version_key)]
        fig = Figure(figsize=(6, 3))
        ax = fig.subplots()
        ax.bar(share.index.astype(str), share["mean"] * 100)
        for i, n in enumerate(share["size"]):
            ax.annotate(f"{n} runs", (i, 0), ha="center", va="bottom", fontsize=7)
        ax.set_ylabel("% failing")
        ax.set_xlabel(library)
        fig.tight_layout()
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / f"failing_by_{library}.png", dpi=100)
        out.append((f"Failing share per {library} version", f"failing_by_{library}.png"))
    return [(title, f"{folder.name}/{name}") for title, name in out]
