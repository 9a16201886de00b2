"""Compare two runs: settings and versions, curves overlaid, the first step where they part, findings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analyzer.report.markdown import _CONFIG_KEYS as CONFIG_KEYS

if TYPE_CHECKING:
    from analyzer.model import Finding, Report

CURVES = (("train", "loss"), ("eval", "loss"), ("train", "grad_norm"), ("train", "learning_rate"))
# The settings the post-mortem's configuration table shows, less the nested ones (compared on their own).
SETTINGS = (
    *(k for k in CONFIG_KEYS if k not in ("versions", "model", "peft", "gpu", "precision_source")),
    "optim",
    "status",
)
PERSIST = 3  # logged steps in a row beyond the noise before two runs count as parted
FLOOR = 0.01  # the smallest relative difference counted as parting (1%)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9) or (a != a and b != b)
    return bool(a == b)


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, a's value, b's value) for every key whose values differ (None where one side lacks it), in
    a's key order then b's."""
    keys = list(a) + [k for k in b if k not in a]
    return [(k, a.get(k), b.get(k)) for k in keys if not _same(a.get(k), b.get(k))]


def settings(report: Report) -> dict[str, Any]:
    """The facts of a run compared: model, derived settings, then every scalar training argument."""
    from analyzer.triage.rows import model_name

    meta = report.run.meta
    out: dict[str, Any] = {"model": model_name(meta)}
    out.update({k: meta[k] for k in SETTINGS if meta.get(k) is not None})
    args = meta.get("training_args")
    for key, value in (args or {}).items() if isinstance(args, dict) else ():
        if isinstance(value, (str, int, float, bool)) and f"{key}" not in out:
            out[f"training_args.{key}"] = value
    return out


@dataclass
class Parting:
    """Where two runs' curves part: the step, the series, the values there, and the threshold used."""

    step: int
    series: str
    a: float
    b: float
    threshold: float
    why: str


@dataclass
class Comparison:
    """Run A against baseline B."""

    a: Report
    b: Report
    settings: list[tuple[str, Any, Any]]
    versions: list[tuple[str, Any, Any]]
    curves: list[tuple[str, pd.Series, pd.Series]]
    parting: Parting | None
    only_a: list[Finding] = field(default_factory=list)
    only_b: list[Finding] = field(default_factory=list)


def _noise(values: np.ndarray) -> float:
    """Relative step-to-step jitter of a series: median |Δ| over median |x| (finite points only)."""
    good = values[np.isfinite(values)]
    if len(good) < 3:
        return 0.0
    level = float(np.median(np.abs(good)))
    return float(np.median(np.abs(np.diff(good)))) / level if level > 0 else 0.0


def parting(name: str, a: pd.Series, b: pd.Series) -> Parting | None:
    """The first common step from which A and B differ by more than their noise for PERSIST steps in a row.

    Noise is each run's relative step-to-step jitter (median |Δ| / median |value|) over the first half of
    their common steps; the threshold is 3 times the larger of the two, at least FLOOR. A step where one
    value is NaN or inf and the other is finite parts them at once. None when they never part."""
    common = a.index.intersection(b.index).sort_values()
    if not len(common):
        return None
    va = a.reindex(common).to_numpy(dtype="float64")
    vb = b.reindex(common).to_numpy(dtype="float64")
    half = max(3, len(common) // 2)
    threshold = max(3 * max(_noise(va[:half]), _noise(vb[:half])), FLOOR)
    fa, fb = np.isfinite(va), np.isfinite(vb)
    with np.errstate(all="ignore"):
        rel = np.abs(va - vb) / np.maximum(np.abs(vb), 1e-12)
    over = fa & fb & (rel > threshold)
    for i, step in enumerate(common):
        if fa[i] != fb[i]:
            bad = "A" if not fa[i] else "B"
            return Parting(int(step), name, float(va[i]), float(vb[i]), threshold, f"{bad} is not finite there")
        if over[i : i + PERSIST].all():
            why = f"|A-B|/|B| = {rel[i]:.3g} > {threshold:.3g} for {min(PERSIST, len(common) - i)} logged steps"
            return Parting(int(step), name, float(va[i]), float(vb[i]), threshold, why)
    return None


def compare_reports(a: Report, b: Report) -> Comparison:
    """Compare run A with baseline B."""
    from analyzer.model import severity_rank

    va = a.run.meta.get("versions") if isinstance(a.run.meta.get("versions"), dict) else {}
    vb = b.run.meta.get("versions") if isinstance(b.run.meta.get("versions"), dict) else {}
    curves = []
    for split, metric in CURVES:
        if a.run.has(metric, split) or b.run.has(metric, split):
            curves.append((f"{split}/{metric}", a.run.series(metric, split), b.run.series(metric, split)))
    part = None
    for name, sa, sb in curves:
        if name.endswith("learning_rate"):
            continue
        part = parting(name, sa, sb)
        if part is not None or len(sa.index.intersection(sb.index)):
            break

    def serious(report: Report) -> dict[str, Finding]:
        return {f.rule_id: f for f in report.findings if severity_rank(f.severity) >= severity_rank("warning")}

    fa, fb = serious(a), serious(b)
    return Comparison(
        a,
        b,
        differences(settings(a), settings(b)),
        differences(dict(sorted((va or {}).items())), dict(sorted((vb or {}).items()))),
        curves,
        part,
        [f for k, f in fa.items() if k not in fb],
        [f for k, f in fb.items() if k not in fa],
    )


def _value(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def render_markdown(c: Comparison, plot: str | None = None) -> str:
    """The comparison as markdown (input strings escaped); `plot` is the PNG's relative path when drawn."""
    from analyzer.report.safe import code, md
    from analyzer.report.sparkline import sparkline

    a, b = Path(c.a.run.path).name, Path(c.b.run.path).name
    lines = [
        f"# Compare {code(a)} (A) with {code(b)} (B)",
        "",
        f"A: **{md(c.a.verdict)}**; B: **{md(c.b.verdict)}**.",
        "",
    ]
    if c.parting:
        p = c.parting
        lines.append(
            f"They part at **step {p.step}** on {md(p.series)}: A {_value(p.a)}, B {_value(p.b)} ({md(p.why)}; "
            f"threshold: 3× the larger step-to-step noise, at least {FLOOR:.0%})."
        )
    else:
        lines.append("Their curves do not part beyond their noise on the steps both logged.")
    for title, rows in (("Settings that differ", c.settings), ("Versions that differ", c.versions)):
        lines += ["", f"## {title}", ""]
        if rows:
            lines += ["| setting | A | B |", "|---|---|---|"]
            lines += [f"| {md(k)} | {md(_value(x))} | {md(_value(y))} |" for k, x, y in rows]
        else:
            lines.append("None.")
    lines += ["", "## Curves", ""]
    for name, sa, sb in c.curves:
        for label, series in (("A", sa), ("B", sb)):
            drawn = sparkline(series, width=40)
            if drawn:
                lines.append(f"- {md(name)} {label}: `{drawn.text}` {md(drawn.caption())}")
    if plot:
        lines += ["", f"![A and B overlaid]({plot})"]
    lines += ["", "## Findings of A that B does not have", ""]
    lines += [f"- {md(f.failure_mode)} ({md(f.rule_id)}) from step {f.onset_step}: {md(f.title)}" for f in c.only_a]
    if not c.only_a:
        lines.append("None.")
    if c.only_b:
        lines += ["", "## Findings of B that A does not have", ""]
        lines += [f"- {md(f.failure_mode)} ({md(f.rule_id)}) from step {f.onset_step}" for f in c.only_b]
    return "\n".join(lines) + "\n"


def write_plot(c: Comparison, path: Path) -> bool:
    """The curves of A and B overlaid, one panel per series, the parting step marked; False if none."""
    if not c.curves:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(c.curves), 1, figsize=(8, 2.4 * len(c.curves)), sharex=True, squeeze=False)
    for ax, (name, sa, sb) in zip(axes[:, 0], c.curves, strict=True):
        for label, series in (("A", sa), ("B", sb)):
            if len(series):
                ax.plot(series.index, series.to_numpy(dtype="float64"), label=label, lw=1.2)
        if c.parting is not None:
            ax.axvline(c.parting.step, color="red", ls="--", lw=1)
        ax.set_ylabel(name, fontsize=8)
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
