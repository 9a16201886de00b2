"""Documentation generated from rule files (`analyze rules explain`) and cross-rule validation
(`analyze rules check`)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from analyzer.rules.checks import CHECK_SPECS, CHECKS, Param
from analyzer.rules.schema import Rule, RuleError, load_rule


def explain(rule: Rule) -> str:
    """A rule as a markdown page: what it detects, how, why, the causes it weighs and what to do."""
    out = [
        f"# {rule.title}",
        "",
        f"`{rule.id}` · failure mode `{rule.failure_mode}` · severity **{rule.severity}** · "
        f"confidence {rule.confidence:g} · {rule.status}",
        "",
        rule.description.strip(),
        "",
        "## Detection",
        "",
    ]
    for name, spec in rule.detect.items():
        doc = inspect.getdoc(CHECKS[spec.check]) or ""
        label = "" if name == "main" else f"**{name}**: "
        out.append(f"- {label}`{spec.check}`: {' '.join(doc.split())}")
        out += [f"  - {parameter_line(param, spec.params)}" for param in CHECK_SPECS[spec.check].values()]
    if len(rule.detect) > 1:
        out += ["", f"Fires when: `{rule.condition}`"]
    if rule.requires:
        series = ", ".join(f"`{r}`" for r in rule.requires)
        out += ["", f"Needs the series: {series} (otherwise listed as not checked)."]
    if rule.silent_when:
        out += ["", "Stays silent when: " + ", ".join(f"`{k}` is `{v}`" for k, v in rule.silent_when.items()) + "."]
    if rule.causes:
        out += [
            "",
            "## Likely causes",
            "",
            "Ranked per run: the prior plus the weight of each signal the run shows.",
            "",
        ]
        for cause in rule.causes:
            out.append(f"### {cause['title']} (`{cause['id']}`, prior {cause.get('prior', 0.3):g})")
            for signal in cause.get("signals", []) or []:
                when = ", ".join(f"{k} {v}" for k, v in signal["when"].items())
                out.append(f"- {float(signal.get('weight', 0.2)):+g} when {when}: {signal.get('says', '')}")
            if cause.get("fix"):
                out.append(f"- Fix: {cause['fix']}")
            if cause.get("confirm"):
                out.append(f"- How to confirm: {cause['confirm']}")
            out.append("")
    for heading, items in (
        ("Fixes", rule.fixes),
        ("False positives", rule.falsepositives),
        ("References", rule.references),
    ):
        if items:
            out += [f"## {heading}", "", *[f"- {item}" for item in items], ""]
    if rule.tests:
        out += ["## Examples", ""]
        out += [f"- fires on `{x}`" for x in rule.tests.get("fires", [])]
        out += [f"- stays silent on `{x}`" for x in rule.tests.get("silent", [])]
        out.append("")
    out.append(f"Source: `{rule.source}`")
    return "\n".join(out).rstrip() + "\n"


def parameter_line(param: Param, values: dict[str, Any]) -> str:
    """`min_ratio: float = 1.5` (rule: 2.0), one of its choices where it has them."""
    line = f"`{param.name}: {param.type_name} = {_shown(param.default)}`"
    if param.choices:
        line += f" (one of: {', '.join(param.choices)})"
    if param.name in values:
        line += f" (rule: {_shown(values[param.name])})"
    return line


def _shown(value: Any) -> str:
    """A parameter value as a rule file writes it."""
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def check_folder(folder: Path, others: list[Rule], repo: Path | None = None) -> list[str]:
    """Every problem of the rule files in `folder`: schema errors (located), ids that clash with each
    other or with `others`, examples that do not exist. Empty when all is well."""
    problems: list[str] = []
    seen = {r.id: r.source for r in others}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return [f"{folder}: no rule files (*.yaml)"]
    for path in files:
        try:
            rule = load_rule(path)
        except RuleError as exc:
            problems += [str(e) for e in exc.errors]
            continue
        if rule.id in seen and seen[rule.id] != rule.source:
            problems.append(f"{path}: rule id `{rule.id}` is already used by {seen[rule.id]}")
        seen[rule.id] = rule.source
        for kind, examples in rule.tests.items():
            for example in examples:
                if repo is not None and example.startswith("sample_logs/") and not (repo / example).exists():
                    problems.append(f"{path}: tests.{kind} names {example}, which does not exist")
    return problems
