"""Rules: YAML files naming a registered check plus the human part (causes, fixes), run over a Run.

This is the first engine: each rule runs one check; causes are ranked by weighted conditions on
`meta` and on the check's evidence. The full condition grammar comes with the rule-engine issue
and keeps this file format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from analyzer.errors import Problem
from analyzer.model import FAILURE_MODES, SEVERITIES, Cause, Finding, Run
from analyzer.rules import curves  # noqa: F401  (registers the curve-shape checks)
from analyzer.rules.checks import CHECKS, Detection

_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "id": str, "failure_mode": str, "severity": str, "confidence": (int, float), "title": str, "check": str}
_OPS = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(.+)$")


@dataclass
class Rule:
    """One rule file, checked against the schema when loaded."""

    id: str
    failure_mode: str
    severity: str
    confidence: float
    title: str
    check: str
    source: str
    params: dict[str, Any] = field(default_factory=dict)
    requires: list[str] = field(default_factory=list)
    silent_when: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    causes: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    falsepositives: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    status: str = "experimental"


def builtin_rules_dir() -> Path:
    """The rule library: rules/ at the top of a checkout, or its copy inside an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "rules"
    if checkout.is_dir() and any(checkout.glob("*.yaml")):
        return checkout
    return Path(str(resources.files("analyzer.builtin_rules")))


def load_rule(path: Path) -> Rule:
    """Parse one rule file with yaml.safe_load; ValueError names the file, line and problem."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ValueError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a rule file holds one mapping")
    for key, kind in _REQUIRED.items():
        if not isinstance(doc.get(key), kind):
            raise ValueError(f"{path}: `{key}` is missing or not a {getattr(kind, '__name__', 'number')}")
    if doc["failure_mode"] not in FAILURE_MODES:
        raise ValueError(f"{path}: unknown failure_mode `{doc['failure_mode']}`")
    if doc["severity"] not in SEVERITIES:
        raise ValueError(f"{path}: severity must be one of {', '.join(SEVERITIES)}")
    if doc["check"] not in CHECKS:
        raise ValueError(f"{path}: unknown check `{doc['check']}` (known: {', '.join(sorted(CHECKS))})")
    known = {f.name for f in Rule.__dataclass_fields__.values()} - {"source"}
    unknown = set(doc) - known
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    return Rule(source=str(path), **doc)


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
            except ValueError as exc:
                problems.append(Problem(str(path), str(exc).split(": ", 1)[-1]))
                continue
            if rule.id in seen:
                problems.append(Problem(str(path), f"duplicate rule id `{rule.id}`"))
                continue
            seen.add(rule.id)
            rules.append(rule)
    return rules, problems


def _lookup(key: str, meta: dict[str, Any], evidence: dict[str, Any]) -> Any:
    node: Any = evidence if key.startswith("evidence.") else meta
    for part in key.removeprefix("evidence.").split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:4])


def _compare(actual: Any, op: str, target: str) -> bool:
    left: Any
    right: Any
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        left, right = float(actual), float(target)
    else:
        left, right = _version(str(actual)), _version(target)
    return {">=": left >= right, "<=": left <= right, "==": left == right, "!=": left != right,
            ">": left > right, "<": left < right}[op]


def matches(condition: Any, actual: Any) -> bool:
    """One expected value against the actual one: equality, a list of choices, present/absent,
    or a comparison such as '>=0.7' (versions) or '>1e-3' (numbers)."""
    if condition == "present":
        return actual is not None
    if condition == "absent":
        return actual is None
    if actual is None:
        return False
    if isinstance(condition, list):
        return any(matches(c, actual) for c in condition)
    if isinstance(condition, str) and (m := _OPS.match(condition)):
        try:
            return _compare(actual, m.group(1), m.group(2))
        except (ValueError, TypeError):
            return False
    if isinstance(condition, str) and isinstance(actual, str):
        return condition.lower() == actual.lower()
    return bool(condition == actual)


def holds(when: dict[str, Any], meta: dict[str, Any], evidence: dict[str, Any]) -> bool:
    """All conditions of a `when` mapping hold."""
    return all(matches(cond, _lookup(key, meta, evidence)) for key, cond in when.items())


def rank_causes(rule: Rule, meta: dict[str, Any], evidence: dict[str, Any]) -> list[Cause]:
    """Score each candidate cause: its prior plus the weight of every signal the run shows."""
    causes = []
    for spec in rule.causes:
        score, why = float(spec.get("prior", 0.3)), []
        for signal in spec.get("signals", []):
            if holds(signal.get("when", {}), meta, evidence):
                score += float(signal.get("weight", 0.2))
                why.append(str(signal.get("says", "")))
        causes.append(Cause(id=spec["id"], title=spec["title"], score=min(max(score, 0.0), 1.0),
                            fix=spec.get("fix", ""), confirm=spec.get("confirm", ""),
                            evidence=[w for w in why if w]))
    return sorted(causes, key=lambda c: -c.score)


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
        detection: Detection | None = CHECKS[rule.check](run, rule.params)
        if detection is None:
            continue
        findings.append(Finding(
            rule_id=rule.id, failure_mode=rule.failure_mode,
            severity=detection.severity or rule.severity,
            confidence=detection.confidence if detection.confidence is not None else rule.confidence,
            onset_step=detection.onset_step, title=rule.title, message=detection.message,
            evidence=detection.evidence, causes=rank_causes(rule, run.meta, detection.evidence),
            fixes=list(rule.fixes)))
    return findings, checked, unchecked
