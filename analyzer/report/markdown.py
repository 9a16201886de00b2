"""The markdown post-mortem: a pure function from a Report to text, made to paste into a bug issue."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analyzer.model import Finding, Report, severity_rank
from analyzer.names import is_eval_split
from analyzer.report.plots import Plot, memory_series
from analyzer.report.safe import Md, code, md, plain
from analyzer.report.sparkline import sparkline
from analyzer.report.timeline import timeline
from analyzer.rules.checks import fmt

MAX_CHARS = 65_000  # a GitHub issue body's limit
_SCREEN = 15  # rows a reader sees without scrolling: longer tables fold into <details>
_CONFIG_KEYS = (
    "framework",
    "trainer_kind",
    "precision",
    "precision_source",
    "weights_dtype",
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "warmup_ratio",
    "max_grad_norm",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "max_steps",
    "num_train_epochs",
    "logging_steps",
    "logging_nan_inf_filter",
    "deepspeed_stage",
    "peft_type",
    "versions",
    "model",
    "peft",
    "gpu",
)


@dataclass(frozen=True)
class Budget:
    """How much of each kind of content fits: rows per table and characters per cell."""

    rows: int = 40
    cell: int = 300


_BUDGETS = (Budget(), Budget(15, 160), Budget(6, 80))


def _text(value: Any) -> str:
    if isinstance(value, float):
        return fmt(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def _cell(value: Any, budget: Budget) -> str:
    """A table cell: the renderer's own markdown (`Md`) as is, anything else escaped as literal text,
    cut to the budget before escaping so that an escape is never cut in half."""
    if isinstance(value, Md):
        text = value.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= budget.cell else text[: budget.cell - 1] + "…"
    text = _text(value)
    return md(text if len(text) <= budget.cell else text[: budget.cell - 1] + "…")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], budget: Budget, summary: str = "") -> list[str]:
    """A markdown table; past a screenful it folds into <details> under `summary`; past the budget it is cut."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v, budget) for v in row) + " |" for row in rows[: budget.rows]]
    if len(rows) > budget.rows:
        out.append(f"| … {len(rows) - budget.rows} more (`--format json` has them all) |" + " |" * (len(header) - 1))
    if summary and len(rows) > _SCREEN:
        return [f"<details><summary>{summary} ({len(rows)} rows)</summary>", "", *out, "", "</details>"]
    return out


def _flat(prefix: str, value: Any, out: list[list[Any]]) -> None:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), sub, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, sub in enumerate(value):
            _flat(f"{prefix}[{i}]", sub, out)
    else:
        out.append([prefix, value])


def consequences(report: Report, root: Finding) -> list[Finding]:
    """The findings that follow from `root` (directly or through one another), in onset order."""
    ids, out = {root.rule_id}, []
    for f in report.findings:  # chain_findings puts each consequence after its cause
        if f.caused_by in ids:
            ids.add(f.rule_id)
            out.append(f)
    return out


def _finding(index: int, f: Finding, budget: Budget, unit: str = "step", follows: str = "") -> list[str]:
    onset = f"{unit} **{f.onset_step}**" if f.onset_step is not None else f"unknown {unit}"
    if f.run is not None:
        onset += f" of run {f.run}"
    lines = [
        f"### {index}. {md(f.title)}" + (f" (run {f.run} of the file)" if f.run is not None else ""),
        "",
        f"{code(f.failure_mode)} · {f.severity} · confidence {f.confidence:.2f} · onset {onset} · "
        f"rule {code(f.rule_id)}",
        "",
        *([f"_Follows from {follows}._", ""] if follows else []),
        md(f.message) + ".",
        "",
        *_excerpt(f),
    ]
    evidence: list[list[Any]] = []
    _flat("", f.evidence, evidence)
    if evidence:
        lines += [
            "<details><summary>Evidence</summary>",
            "",
            *_table(["what", "value"], evidence, budget),
            "",
            "</details>",
            "",
        ]
    open_causes = [c for c in f.causes if not c.ruled_out]
    ruled_out = [c for c in f.causes if c.ruled_out]
    if open_causes:
        lines += ["**Likely causes, most likely first** (score = the cause's prior + the evidence below):", ""]
        for i, cause in enumerate(open_causes, start=1):
            lines.append(f"{i}. **{cause.title}** (score {cause.score:.2f}: {md(cause.explain())}).")
            if cause.fix:
                lines.append(f"   - Fix: {cause.fix}")
            if cause.confirm:
                lines.append(f"   - How to confirm: {cause.confirm}")
        lines.append("")
    if ruled_out:
        lines += ["**Ruled out by what the run shows:**", ""]
        lines += [f"- {cause.title}: {md(cause.ruled_out)}." for cause in ruled_out]
        lines.append("")
    if f.fixes:
        lines += ["**What to do:**", "", *[f"- {fix}" for fix in f.fixes], ""]
    return lines


def _excerpt(f: Finding) -> list[str]:
    """The log lines around the onset, the cited one marked, in a fence longer than any backtick run."""
    if not f.excerpt:
        return []
    width = len(str(f.excerpt["lines"][-1][0]))
    body = [f"{'>' if n == f.excerpt['line'] else ' '} {n:>{width}} | {plain(text)}" for n, text in f.excerpt["lines"]]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"In the log ({code(f.excerpt['at'])}):", "", f"{fence}text", *body, fence, ""]


def _at(report: Report, f: Finding) -> str:
    """Where a finding starts: its onset on the run's axis, and the run of a multi-run file it was found in."""
    return f"{_unit(report)} {f.onset_step}" + (f" of run {f.run}" if f.run is not None else "")


def _runs(meta: dict[str, Any]) -> str:
    """What a file holding several runs (folds, repeats, a trial run) means for the numbers above."""
    spans = meta.get("runs")
    if not spans:
        return ""
    k = spans["analysed"]
    first, last = spans["runs"][k]["first_line"], spans["runs"][k]["last_line"]
    return (
        f" {md(spans['source'])} holds {len(spans['runs'])} runs one after another (folds, repeats or restarts):"
        f" the numbers above are run {k + 1}'s (lines {first}–{last}); a failure found only in another run is"
        " marked with that run's number, its onset on that run's own axis."
    )


def _unit(report: Report) -> str:
    """What the step column counts: step, epoch or record (analyzer.normalize.step_unit)."""
    return str(report.run.meta.get("step_unit") or "step")


def main_series(report: Report) -> list[tuple[str, str]]:
    """The series a reader looks at first: train and eval loss, grad_norm, learning rate, loss scale, memory."""
    names = report.run.series_names()
    present = set(names)
    picked = [p for p in (("train", "loss"),) if p in present]
    picked += sorted(p for p in present if p[1] == "loss" and is_eval_split(p[0]))[:2]
    picked += [p for p in (("train", "grad_norm"), ("train", "learning_rate"), ("train", "loss_scale")) if p in present]
    return picked + memory_series(report.run)[:1]


def _summary(report: Report) -> list[str]:
    run, meta = report.run, report.run.meta
    serious = [f for f in report.findings if f.severity != "info"]
    if serious:
        top = serious[0]
        chain = consequences(report, top)
        worst = max((top, *chain), key=lambda f: severity_rank(f.severity)).severity  # the chain's worst
        verdict = f"**Verdict: {code(report.verdict)}** ({worst}, onset at {_at(report, top)}): {md(top.message)}."
        if chain:
            verdict += " It led to: " + " → ".join(f"{code(f.failure_mode)} from {_at(report, f)}" for f in chain) + "."
    else:
        verdict = "**Verdict: `healthy`**: no finding at warning level or above."
    what = md(" ".join(str(meta[k]) for k in ("framework", "trainer_kind") if meta.get(k)) or "training")
    model = (meta.get("model") or {}).get("model_type") if isinstance(meta.get("model"), dict) else None
    precision = f" in {md(meta['precision'])}" if meta.get("precision") else ""
    train = report.signals.get("train/loss")
    if train:
        loss = report.run.series("loss")
        span = (
            f"logged {train['count']} train-loss points over {_unit(report)}s "
            f"{train['first_step']}–{train['last_step']}, "
            f"the loss going from {fmt(float(loss.iloc[0]))} to {fmt(float(loss.iloc[-1]))}"
        )
        derived = meta.get("derived")
        if isinstance(derived, dict) and "train/loss" in derived:
            span += f" (derived: {md(derived['train/loss'])})"
    else:
        span = "logged no train loss"
    status = md(meta.get("status", "unknown"))
    reason = f" ({md(meta['status_reason'])})" if meta.get("status_reason") else ""
    found = "; ".join(f"{code(f.failure_mode)} from {_at(report, f)} ({f.severity})" for f in serious[:4])
    findings = (
        f"{len(serious)} finding(s) at warning or above: {found}" if serious else "no finding at warning or above"
    ) + f"; {len(report.findings) - len(serious)} informational."
    read = sum(s.status == "read" for s in run.sources)
    text = (
        f"A {what} run{f' of a {code(model)} model' if model else ''}{precision} {span}. It ended **{status}**"
        f"{reason}. {findings} Read from {read} file(s).{_runs(meta)}"
    )
    return [verdict, "", text, ""]


def _shapes(report: Report, budget: Budget) -> list[str]:
    rows = []
    for split, metric in main_series(report):
        line = sparkline(report.run.series(metric, split=split), width=40 if budget.rows > 6 else 24)
        if line is not None:
            rows.append([f"{split}/{metric}", code(line.text), line.caption()])
    return [*_table(["series", "shape", "first → last"], rows, budget), ""] if rows else []


def _timeline(report: Report, budget: Budget) -> list[str]:
    rows = [
        [e.step if e.step is not None else "–", e.kind, e.severity, e.text, code(e.where) if e.where else ""]
        for e in timeline(report)
    ]
    return (
        [
            "## Timeline",
            "",
            *_table([_unit(report), "event", "severity", "what", "where"], rows, budget, "Timeline"),
            "",
        ]
        if rows
        else []
    )


def _sections(
    report: Report, plots: Sequence[Plot], budget: Budget, attach_note: bool = True
) -> list[tuple[str, list[str]]]:
    """(name, lines) in reading order."""
    run, meta = report.run, report.run.meta
    name = Path(run.path).name or run.path
    head = [f"# Training run post-mortem: {code(name)}", "", *_summary(report), *_shapes(report, budget)]
    findings: list[str] = []
    if report.findings:
        findings += ["## Findings", ""]
        index = {g.rule_id: (j, g) for j, g in enumerate(report.findings, start=1)}
        for i, f in enumerate(report.findings, start=1):
            cause = index.get(f.caused_by or "")
            findings += _finding(
                i, f, budget, _unit(report), f"finding {cause[0]} ({code(cause[1].failure_mode)})" if cause else ""
            )
    checked = ["## What was checked", "", "Rules run: " + ", ".join(code(r) for r in report.checked) + "."]
    if report.unchecked:
        checked += [
            "",
            "Not checked for lack of signals: "
            + "; ".join(f"{code(u['rule_id'])} (needs {md(u['missing'])})" for u in report.unchecked)
            + ".",
        ]
    checked.append("")
    attach = (
        [
            f"_The plots are PNG files beside this report ({code(str(Path(plots[0].path).parent))}): to show them in "
            "a GitHub issue, drag them into the comment box; the sparklines above carry the same shapes. "
            "`-o report.html` embeds them in one file._",
            "",
        ]
        if plots and attach_note
        else []
    )
    figures = ["## Plots", "", *attach, *[f"![{md(p.title)}]({p.path})" for p in plots], ""] if plots else []
    env: list[list[Any]] = []
    for key in _CONFIG_KEYS:
        if meta.get(key) not in (None, {}, ""):
            _flat(key, meta[key], env)
    config = (
        ["## Environment and configuration", "", *_table(["setting", "value"], env, budget, "Settings"), ""]
        if env
        else []
    )
    signals = [
        "## Signals",
        "",
        *_table(
            ["series", "points", "first step", "last step", "non-finite"],
            [[k, v["count"], v["first_step"], v["last_step"], v["nonfinite"]] for k, v in report.signals.items()],
            budget,
            "Every series read",
        ),
        "",
    ]
    sources = [
        "## Sources",
        "",
        *_table(
            ["file", "format", "rows", "status", "note"],
            [[s.path, s.format, s.rows, s.status, s.note] for s in run.sources],
            budget,
            "Files",
        ),
        "",
    ]
    problems = (
        [
            "## Problems reading the inputs",
            "",
            *_table(["problem"], [[code(p)] for p in run.problems], budget, "Problems"),
            "",
        ]
        if run.problems
        else []
    )
    return [
        ("head", head),
        ("plots", figures),
        ("findings", findings),
        ("replay", _replay(report)),
        ("timeline", _timeline(report, budget)),
        ("environment", config),
        ("problems", problems),
        ("checked", checked),
        ("signals", signals),
        ("sources", sources),
    ]


def _replay(report: Report) -> list[str]:
    if report.replay is None:
        return []
    from analyzer.report.replay import replay_markdown

    return replay_markdown(report.replay)


_DROP_ORDER = ("sources", "signals", "environment", "problems", "timeline", "plots")


def render_markdown(report: Report, plots: Sequence[Plot] = (), attach_note: bool = True) -> str:
    """The whole post-mortem as markdown, under GitHub's 65,000-character issue limit however long the run.

    Tables shrink first (fewer rows, shorter cells); then whole reference sections are left out, each
    replaced by a line that says so; the verdict, summary, findings and the list of checks always stay
    (findings are cut last, at a finding's boundary). `plots` are linked by their relative paths.
    """
    from analyzer import __version__

    footer = [
        "---",
        f"Generated by analyzer {__version__}. The same analysis as JSON: `analyze RUN --format json`.",
        "",
    ]
    for budget in _BUDGETS:
        sections = _sections(report, plots, budget, attach_note)
        parts = dict(sections)
        order = [name for name, _ in sections]
        text = "\n".join([*(line for name in order for line in parts[name]), *footer])
        if len(text) <= MAX_CHARS:
            return text
    for name in _DROP_ORDER:
        parts[name] = (
            [
                f"_The {name} section was left out to fit GitHub's {MAX_CHARS:,}-character limit "
                "(`--format json` has it)._",
                "",
            ]
            if parts[name]
            else []
        )
        text = "\n".join([*(line for n in order for line in parts[n]), *footer])
        if len(text) <= MAX_CHARS:
            return text
    cut = text[: MAX_CHARS - 400].rsplit("\n### ", 1)[0]  # last resort: keep whole findings only
    return (
        cut
        + "\n\n_Further findings were left out to fit the limit (`--format json` has them all)._\n\n"
        + "\n".join(footer)
    )
