"""The rule engine: loads the rule library, runs each rule's detections (registered checks with the
parameters its file sets), decides its condition, and builds the finding with its causes ranked by the
evidence. The file format is analyzer.rules.schema; `when` matching is analyzer.rules.matching.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analyzer.errors import Problem
from analyzer.library import builtin_rules_dir
from analyzer.model import Cause, Finding, Run
from analyzer.rules import curves, gan, generic, rewards  # noqa: F401  (register their checks)
from analyzer.rules.checks import CHECKS, Detection
from analyzer.rules.conditions import evaluate as holds_condition
from analyzer.rules.conditions import positive_names
from analyzer.rules.matching import holds, lookup, matches
from analyzer.rules.schema import Rule, RuleError, load_rule


def load_rules(dirs: list[Path] | None = None) -> tuple[list[Rule], list[Problem]]:
    """Every rule of the built-in library and the given folders; a bad file never stops the others."""
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    builtin = builtin_rules_dir()
    if not any(builtin.glob("*.yaml")):
        raise RuntimeError(f"the built-in rule library is missing from {builtin}: a broken installation")
    for folder in [builtin, *(dirs or [])]:
        for path in sorted(folder.glob("*.yaml")):
            try:
                rule = load_rule(path)
            except RuleError as exc:
                problems += [Problem(str(path), e.message, f"line {e.line}" if e.line else "") for e in exc.errors]
                continue
            if rule.id in seen:
                problems.append(Problem(str(path), f"duplicate rule id `{rule.id}`"))
                continue
            seen.add(rule.id)
            rules.append(rule)
    return rules, problems


def rank_causes(rule: Rule, meta: dict[str, Any], evidence: dict[str, Any]) -> list[Cause]:
    """Score each candidate cause: its prior plus the weight of every signal the run shows. A cause whose
    `needs` the run contradicts (a known value that fails the condition; unknown is no contradiction) is
    ruled out: score 0, listed last with what contradicts it."""
    causes = []
    for spec in rule.causes:
        prior = float(spec.get("prior", 0.3))
        score, why, weights = prior, [], []
        for signal in spec.get("signals", []):
            if holds(signal.get("when", {}), meta, evidence):
                weight = float(signal.get("weight", 0.2))
                score += weight
                if signal.get("says"):
                    why.append(str(signal["says"]))
                    weights.append(weight)
        ruled = _contradictions(spec.get("needs", []), meta, evidence)
        causes.append(
            Cause(
                id=spec["id"],
                title=spec["title"],
                score=0.0 if ruled else min(max(score, 0.0), 1.0),
                fix=spec.get("fix", ""),
                confirm=spec.get("confirm", ""),
                evidence=why,
                prior=prior,
                weights=weights,
                ruled_out=ruled,
            )
        )
    return sorted(causes, key=lambda c: (bool(c.ruled_out), -c.score))


def _contradictions(needs: list[dict[str, Any]], meta: dict[str, Any], evidence: dict[str, Any]) -> str:
    """What the run knows against a cause's `needs`: `precision is fp32 (fp16 overflow needs fp16)`."""
    found = []
    for need in needs:
        for key, condition in need.get("when", {}).items():
            actual = lookup(key, meta, evidence)
            if actual is not None and not matches(condition, actual):
                shown = key.removeprefix("evidence.").replace("_", " ")
                value = str(actual).lower() if isinstance(actual, bool) else str(actual)
                found.append(f"{shown} is {value}" + (f" ({need['says']})" if need.get("says") else ""))
    return "; ".join(found)


def _apply(rule: Rule, run: Run) -> Finding | None:
    """Run a rule's detections, decide its condition, and build the finding from the earliest positive one."""
    fired: dict[str, Detection] = {}
    for name, spec in rule.detect.items():
        detection = CHECKS[spec.check](run, **spec.params)
        if detection is not None:
            fired[name] = detection
    names = list(rule.detect)
    if not holds_condition(rule.tree, set(fired), names):
        return None
    positive = positive_names(rule.tree, names)
    basis = [fired[n] for n in names if n in fired and n in positive]
    if not basis:  # a condition true only through `not`: the rule says something is absent
        basis = [Detection(None, rule.title)]
    primary = min(basis, key=lambda d: d.onset_step if d.onset_step is not None else float("inf"))
    evidence = dict(primary.evidence)
    if len(fired) > 1:
        evidence["detections"] = {n: {"onset_step": d.onset_step, "message": d.message} for n, d in fired.items()}
    return Finding(
        rule_id=rule.id,
        failure_mode=rule.failure_mode,
        severity=primary.severity or rule.severity,
        confidence=primary.confidence if primary.confidence is not None else rule.confidence,
        onset_step=primary.onset_step,
        title=rule.title,
        message=in_units(primary.message, str(run.meta.get("step_unit", "step"))),
        evidence=evidence,
        causes=rank_causes(rule, run.meta, evidence),
        fixes=list(rule.fixes),
    )


_STEP_WORDS = re.compile(r"\b(at|from|since|to|after|before|until|by) step\b|\blogged steps\b")


def in_units(message: str, unit: str) -> str:
    """A check's sentence in the run's step unit: a log that counts epochs or records has no global
    step, so `at step 5` / `of 9 logged steps` read `at epoch 5` / `of 9 logged epochs` there."""
    if unit == "step":
        return message
    return _STEP_WORDS.sub(lambda m: f"{m.group(1)} {unit}" if m.group(1) else f"logged {unit}s", message)


def evaluate(run: Run, rules: list[Rule]) -> tuple[list[Finding], list[str], list[dict[str, str]]]:
    """Run every rule: findings, the ids that ran, and the rules skipped for a missing signal."""
    findings: list[Finding] = []
    checked: list[str] = []
    unchecked: list[dict[str, str]] = []
    for rule in rules:
        missing = [r for r in rule.requires if not run.has(*reversed(r.split("/", 1)))]
        if missing:
            unchecked.append({"rule_id": rule.id, "missing": ", ".join(missing)})
            continue
        checked.append(rule.id)
        if rule.silent_when and holds(rule.silent_when, run.meta, {}):
            continue
        finding = _apply(rule, run)
        if finding is not None:
            findings.append(finding)
    return findings, checked, unchecked
