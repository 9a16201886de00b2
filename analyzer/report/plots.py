"""PNG plots beside the report (matplotlib, headless): the main series with onsets, NaNs and changes marked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analyzer.model import Report, Run, severity_rank
from analyzer.names import is_eval_split, is_memory_metric
from analyzer.signals import run_signals

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_MAX_POINTS = 4000  # longer series are drawn as per-bucket min/max envelopes (identical at this resolution)
_MAX_ONSETS = 6
_MAX_SHADED = 12
_LOG_RATIO = 50.0


@dataclass(frozen=True)
class Plot:
    """One written PNG: its file name (relative to the report) and what it shows."""

    path: str
    title: str
    series: tuple[str, ...]


@dataclass(frozen=True)
class _Panel:
    name: str
    title: str
    series: tuple[tuple[str, str], ...]  # (split, metric)
    scale: str  # auto | log2 | linear


def memory_series(run: Run) -> list[tuple[str, str]]:
    """(split, metric) of the memory series worth drawing (3 points or more): the trainer's own figures
    before host statistics, then by name."""
    return [
        p
        for p in sorted(run.series_names(), key=lambda p: (p[0] != "train", p))
        if is_memory_metric(p[1]) and len(run.series(p[1], p[0])) >= 3
    ]


def panels(run: Run) -> list[_Panel]:
    """The plots this run's signals allow: loss (train and eval), grad_norm, learning rate, loss scale, memory."""
    names = set(run.series_names())
    loss = tuple(p for p in sorted(names) if p[1] == "loss" and (p[0] == "train" or is_eval_split(p[0])))
    wanted = [
        _Panel("loss", "Loss", tuple(sorted(loss, key=lambda p: p[0] != "train")), "auto"),
        _Panel("grad_norm", "Gradient norm", (("train", "grad_norm"),), "auto"),
        _Panel("learning_rate", "Learning rate", (("train", "learning_rate"),), "linear"),
        _Panel("loss_scale", "fp16 loss scale", (("train", "loss_scale"),), "log2"),
        _Panel("memory", "Memory", tuple(memory_series(run)[:4]), "linear"),
    ]
    return [p for p in wanted if any(s in names for s in p.series)]


def _envelope(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most _MAX_POINTS points keeping each bucket's min and max, so spikes survive the thinning."""
    if len(steps) <= _MAX_POINTS:
        return steps, values
    starts = np.linspace(0, len(steps), _MAX_POINTS // 2 + 1).astype(np.int64)[:-1]
    finite = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(all="ignore"):
        low = np.fmin.reduceat(finite, starts)
        high = np.fmax.reduceat(finite, starts)
    x = np.repeat(steps[starts], 2)
    y = np.column_stack([low, high]).ravel()
    return x, y


def _nonfinite_steps(steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    bad = steps[~np.isfinite(values)]
    if len(bad) > _MAX_POINTS:  # an 800-pixel plot cannot show more markers than this
        bad = bad[np.linspace(0, len(bad) - 1, _MAX_POINTS).astype(np.int64)]
    return bad


def _draw(panel: _Panel, report: Report, path: Path) -> None:
    from matplotlib.figure import Figure  # Figure needs no pyplot state and no display

    run = report.run
    fig = Figure(figsize=(8, 3), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    positive, spread = True, 1.0
    for split, metric in panel.series:
        series = run.series(metric, split=split)
        if series.empty:
            continue
        steps, values = series.index.to_numpy(), series.to_numpy(dtype="float64")
        x, y = _envelope(steps, values)
        label = f"{split}/{metric}"
        ax.plot(x, y, linewidth=1.2, label=label, marker="o" if len(steps) < 40 else "", markersize=3)
        good = values[np.isfinite(values)]
        if len(good):
            positive = positive and bool(good.min() > 0)
            spread = max(spread, float(good.max() / good.min()) if good.min() > 0 else 1.0)
        zeros = steps[values == 0]
        if metric == "loss" and 0 < len(zeros) < len(values):  # an exact 0 disappears at the axis otherwise
            ax.plot(
                zeros[:_MAX_POINTS],
                np.full(min(len(zeros), _MAX_POINTS), 0.03),
                "v",
                color="darkorange",
                markersize=5,
                transform=ax.get_xaxis_transform(),
                label=f"{label} exactly 0 ({len(zeros)})",
            )
        bad = _nonfinite_steps(steps, values)
        if len(bad):
            ax.plot(
                bad,
                np.full(len(bad), 0.97),
                "x",
                color="crimson",
                markersize=6,
                transform=ax.get_xaxis_transform(),
                label=f"{label} NaN/inf ({int((~np.isfinite(values)).sum())})",
            )
    _shade_changes(ax, run, panel, report)
    _mark_onsets(ax, report)
    if panel.scale == "log2" and positive:
        ax.set_yscale("log", base=2)
    elif panel.scale == "auto" and positive and spread > _LOG_RATIO:
        ax.set_yscale("log")
    ax.set_title(panel.title, fontsize=10, loc="left")
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    # Beside the axes, not over the curve (`loc="best"` still lands on a point when the curve fills the box);
    # the constrained layout narrows the axes to make room, so the image keeps its size.
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=7, loc="outside right upper")
    fig.savefig(path, format="png")


_EVENT_STYLE = {
    "divergence_onset": ("divergence", "crimson"),
    "plateau_start": ("plateau", "grey"),
    "level_shift_up": ("level shift", "purple"),
    "level_shift_down": ("level shift", "purple"),
}
# A region is shaded only when the report has a finding of one of these failure modes: a shaded change the
# post-mortem does not mention would be a claim without its evidence.
_SHADED_FOR = {
    "spike": {"loss_spike", "grad_explosion"},
    "divergence": {"divergence"},
    "plateau": {"plateau", "not_learning"},
    "level shift": {"loss_spike", "divergence"},
}


def _shade_changes(ax: Axes, run: Run, panel: _Panel, report: Report) -> None:
    """Spikes (at least 1.5x their baseline, recovered) shaded orange; named changes of the first series shaded
    from where they start: divergence and plateau to the end, a level shift as a band at its step. Each only
    when a finding of the report names that kind of change (`_SHADED_FOR`)."""
    split, metric = panel.series[0]
    if not run.has(metric, split) or panel.name in ("learning_rate", "memory"):
        return
    sig = run_signals(run, metric, split)
    steps = sig.prepared.steps
    if not len(steps):
        return
    width = max(1, int(steps[-1] - steps[0]) // 200)
    labelled: set[str] = set()

    def shade(start: int, end: int, label: str, color: str, alpha: float) -> None:
        ax.axvspan(
            start,
            max(end, start + width),
            color=color,
            alpha=alpha,
            linewidth=0,
            label=None if label in labelled else label,
        )
        labelled.add(label)

    modes = {f.failure_mode for f in report.findings}
    big = [s for s in sig.spikes if s.recovered and s.baseline > 0 and s.ratio >= 1.5]
    if not modes & _SHADED_FOR["spike"]:
        big = []
    # A level shift is a band at one step: shaded only where a finding of its kinds has its onset.
    near = max(width, int(steps[-1] - steps[0]) // 50)
    onsets = [
        f.onset_step
        for f in report.findings
        if f.onset_step is not None and f.run is None and f.failure_mode in _SHADED_FOR["level shift"]
    ]
    for spike in big[:_MAX_SHADED]:
        shade(spike.step, int(steps[min(spike.stop, len(steps) - 1)]), "spike", "orange", 0.3)
    for event in sig.events[:_MAX_SHADED]:
        if event.kind not in _EVENT_STYLE:
            continue
        name, color = _EVENT_STYLE[event.kind]
        if not modes & _SHADED_FOR[name]:
            continue
        if name == "level shift" and not any(abs(event.step - o) <= near for o in onsets):
            continue
        end = event.step if name == "level shift" else int(steps[-1])
        shade(event.step, end, name if name == "level shift" else f"{name} from {event.step}", color, 0.12)


_ONSET_COLORS = ("crimson", "darkviolet", "teal", "saddlebrown", "navy", "olive")


def _mark_onsets(ax: Axes, report: Report) -> None:
    seen: set[int] = set()
    for f in report.findings:
        if (
            f.onset_step is None
            or f.run is not None  # another run's onset is on that run's axis, not the one plotted
            or f.caused_by  # one line per root failure: its consequences are in its chain
            or f.onset_step in seen
            or severity_rank(f.severity) < 1
            or len(seen) >= _MAX_ONSETS
        ):
            continue
        color = _ONSET_COLORS[len(seen) % len(_ONSET_COLORS)]
        seen.add(f.onset_step)
        ax.axvline(
            f.onset_step, color=color, linestyle="--", linewidth=1, label=f"onset: {f.failure_mode} @ {f.onset_step}"
        )


def write_plots(report: Report, folder: Path) -> list[Plot]:
    """Write one PNG per panel into `folder` (created); returns them with paths relative to its parent."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for panel in panels(report.run):
        path = folder / f"{panel.name}.png"
        _draw(panel, report, path)
        written.append(Plot(f"{folder.name}/{path.name}", panel.title, tuple(f"{s}/{m}" for s, m in panel.series)))
    return written
