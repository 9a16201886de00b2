"""The markdown post-mortem: a pure function from a Report to text, made to paste into a bug issue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analyzer.model import Finding, Report

MAX_CHARS = 65_000  # a GitHub issue body's limit
_MAX_ROWS = 40


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows[:_MAX_ROWS]]
    if len(rows) > _MAX_ROWS:
        out.append(f"| … {len(rows) - _MAX_ROWS} more | " + " | " * (len(header) - 1))
    return out


def _flat(prefix: str, value: Any, out: list[list[Any]]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), sub, out)
    else:
        out.append([prefix, value])


def _finding(index: int, f: Finding) -> list[str]:
    onset = f"step **{f.onset_step}**" if f.onset_step is not None else "unknown step"
    lines = [f"### {index}. {f.title}", "",
             f"`{f.failure_mode}` · {f.severity} · confidence {f.confidence:.2f} · onset {onset} · "
             f"rule `{f.rule_id}`", "", f.message + ".", ""]
    evidence: list[list[Any]] = []
    _flat("", f.evidence, evidence)
    if evidence:
        lines += ["<details><summary>Evidence</summary>", "", *_table(["what", "value"], evidence), "",
                  "</details>", ""]
    if f.causes:
        lines += ["**Likely causes, most likely first:**", ""]
        for i, cause in enumerate(f.causes, start=1):
            why = f" Evidence: {'; '.join(cause.evidence)}." if cause.evidence else ""
            lines.append(f"{i}. **{cause.title}** (score {cause.score:.2f}).{why}")
            if cause.fix:
                lines.append(f"   - Fix: {cause.fix}")
            if cause.confirm:
                lines.append(f"   - How to confirm: {cause.confirm}")
        lines.append("")
    if f.fixes:
        lines += ["**What to do:**", "", *[f"- {fix}" for fix in f.fixes], ""]
    return lines


def render_markdown(report: Report) -> str:
    """The whole post-mortem as markdown, kept under GitHub's 65,000-character issue limit."""
    from analyzer import __version__

    run, meta = report.run, report.run.meta
    name = Path(run.path).name or run.path
    serious = [f for f in report.findings if f.severity != "info"]
    lines = [f"# Training run post-mortem: `{name}`", ""]
    if serious:
        top = serious[0]
        lines.append(f"**Verdict: `{report.verdict}`** ({top.severity}, onset at step {top.onset_step}): "
                     f"{top.message}.")
    else:
        lines.append("**Verdict: `healthy`**: no finding at warning level or above.")
    train = report.signals.get("train/loss")
    span = (f"{train['count']} train-loss points from step {train['first_step']} to {train['last_step']}"
            if train else "no train loss")
    read = [s.path for s in run.sources if s.status == "read"]
    lines += ["", f"Read {len(read)} file(s) ({', '.join(read[:5])}{'…' if len(read) > 5 else ''}): {span}. "
              f"Run status: **{meta.get('status', 'unknown')}** ({meta.get('status_reason', '')}). "
              f"{len(serious)} finding(s) at warning or above, {len(report.findings) - len(serious)} informational.",
              ""]
    if report.findings:
        lines += ["## Findings", ""]
        for i, f in enumerate(report.findings, start=1):
            lines += _finding(i, f)
    lines += ["## Signals", "", *_table(["series", "points", "first step", "last step", "non-finite"],
              [[k, v["count"], v["first_step"], v["last_step"], v["nonfinite"]] for k, v in report.signals.items()]),
              ""]
    env: list[list[Any]] = []
    for key in ("framework", "trainer_kind", "precision", "precision_source", "weights_dtype", "learning_rate",
                "lr_scheduler_type", "warmup_steps", "max_grad_norm", "per_device_train_batch_size",
                "gradient_accumulation_steps", "max_steps", "logging_steps", "deepspeed_stage", "peft_type",
                "versions", "model", "peft"):
        if meta.get(key) not in (None, {}, ""):
            _flat(key, meta[key], env)
    if env:
        lines += ["## Environment and configuration", "", *_table(["setting", "value"], env), ""]
    lines += ["## Sources", "", *_table(["file", "format", "rows", "status", "note"],
              [[s.path, s.format, s.rows, s.status, s.note] for s in run.sources]), ""]
    if run.problems:
        lines += ["## Problems reading the inputs", "", *[f"- `{p}`" for p in run.problems[:_MAX_ROWS]], ""]
    lines += ["## What was checked", "", "Rules run: " + ", ".join(f"`{r}`" for r in report.checked) + "."]
    if report.unchecked:
        lines += ["", "Not checked for lack of signals: " +
                  "; ".join(f"`{u['rule_id']}` (needs {u['missing']})" for u in report.unchecked) + "."]
    lines += ["", "---", f"Generated by analyzer {__version__}.", ""]
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 200] + "\n\n… report cut to fit a GitHub issue (65,000 characters).\n"
    return text
