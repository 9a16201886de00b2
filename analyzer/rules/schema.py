"""The rule file format, checked field by field with the line of every mistake.

A rule file is one YAML mapping, read with yaml.safe_load only (no tags, nothing executed):

    id: kebab-case-id                  # stable; never reused
    status: experimental | stable | deprecated
    failure_mode: one of analyzer.model.FAILURE_MODES
    severity: info | warning | error | critical
    confidence: 0..1
    title: one line
    description: why it matters
    check: registered check            # one detection ...
    params: {name: value}              #   ... with values for its keyword parameters (typed,
                                       #   with defaults: `analyze rules explain ID` lists them)
    detect:                            # ... or several named detections
      spike: {check: loss_spike, params: {...}}
      nan: {check: nonfinite_train_loss}
    condition: "spike and not nan"     # and / or / not / ( ) / "1 of spike*" / "all of them"
    requires: [train/loss]             # series without which the rule is "not checked"
    silent_when: {trainer_kind: grpo}  # meta conditions that make the pattern normal
    causes:                            # ranked by prior + the weights of the signals that hold
      - {id, title, prior, signals: [{when: {key: condition}, weight, says}], fix, confirm,
         needs: [{when: {key: condition}, says}]}   # a known value failing it rules the cause out
    fixes: [...]
    falsepositives: [...]              # required: what looks like this and is not
    references: [...]                  # required: where the pattern was seen
    tests: {fires: [...], silent: [...]}   # sample_logs/<name>, cases/<NNN>, artifacts/<NNN>, new_real_logs/<NNN>

`when` keys are `meta` paths (`precision`, `versions.torch`, `adapter.lora_alpha`) or `evidence.<path>`
into the detection's evidence; values are literals, lists of choices, `present`/`absent`, or
comparisons (`">=0.7"` on versions, `">1e-3"` on numbers), or `"~regex"` (searched in the value's text,
ignoring case: `evidence.first.message: "~index out of range in self"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analyzer import safe_yaml
from analyzer.model import FAILURE_MODES, SEVERITIES
from analyzer.rules.checks import CHECK_SPECS, CHECKS
from analyzer.rules.conditions import ConditionError, Node, parse

STATUSES = ("experimental", "stable", "deprecated")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SERIES = re.compile(r"^[\w.-]+/[\w./()-]+$")
_EXAMPLE = re.compile(r"^(sample_logs|cases|artifacts|new_real_logs)/[\w.-]+$")


class RuleError(ValueError):
    """A mistake in a rule file, located: file, line, message."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(f"{path}{f':{line}' if line else ''}: {message}")
        self.path, self.line, self.message = path, line, message
        self.errors: list[RuleError] = [self]  # every mistake of the file, in line order; this is the first


class _Errors:
    """The mistakes of one rule file, collected so that one file reports all of them at once."""

    def __init__(self, where: str, lines: _Lines) -> None:
        self.where, self.lines = where, lines
        self.found: list[RuleError] = []

    def add(self, message: str, *path: str | int) -> None:
        self.found.append(RuleError(self.where, self.lines.of(*path), message))

    def raise_any(self) -> None:
        if self.found:
            ordered = sorted(self.found, key=lambda e: e.line or 0)
            first = ordered[0]
            first.errors = ordered
            raise first


@dataclass
class Detect:
    """One named detection: a registered check and its parameters."""

    check: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rule:
    """One rule file, validated."""

    id: str
    failure_mode: str
    severity: str
    confidence: float
    title: str
    source: str
    detect: dict[str, Detect]
    condition: str
    tree: Node
    status: str = "experimental"
    description: str = ""
    requires: list[str] = field(default_factory=list)
    silent_when: dict[str, Any] = field(default_factory=dict)
    causes: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    falsepositives: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    tests: dict[str, list[str]] = field(default_factory=dict)

    @property
    def checks(self) -> list[str]:
        return sorted({d.check for d in self.detect.values()})


_TOP = {
    "id",
    "status",
    "failure_mode",
    "severity",
    "confidence",
    "title",
    "description",
    "check",
    "params",
    "detect",
    "condition",
    "requires",
    "silent_when",
    "causes",
    "fixes",
    "falsepositives",
    "references",
    "tests",
}
_CAUSE = {"id", "title", "prior", "signals", "needs", "fix", "confirm"}
_SIGNAL = {"when", "weight", "says"}


class _Lines:
    """Line numbers of the keys and items of a YAML document, by path."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.root = node

    def of(self, *path: str | int) -> int | None:
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
                if match is None:
                    return line
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def load_rule(path: Path) -> Rule:
    """Parse and validate one rule file; RuleError names the file, the line and the mistake."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(where, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        # One bounded parse (libyaml's when present): the node tree gives the lines, the same tree the values.
        doc, node = safe_yaml.load_with_node(text)
        lines = _Lines(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(
            where, mark.line + 1 if mark is not None else None, f"invalid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if not isinstance(doc, dict):
        raise RuleError(where, 1, "a rule file holds one mapping")
    return _validate(doc, where, lines)


def _validate(doc: dict[str, Any], where: str, lines: _Lines) -> Rule:
    """Every field checked; all mistakes of the file are collected and raised together."""
    errors = _Errors(where, lines)

    def need(key: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = doc.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            errors.add(f"`{key}` is missing or not {what}", key)
            return None
        return value

    for key in sorted(set(doc) - _TOP):
        errors.add(f"unknown key `{key}` (known: {', '.join(sorted(_TOP))})", key)
    rule_id = need("id", str, "a string")
    if rule_id is not None and not _ID.match(rule_id):
        errors.add(f"id `{rule_id}` must be kebab-case (a-z, 0-9, -)", "id")
    if need("failure_mode", str, "a string") not in (None, *FAILURE_MODES):
        errors.add(f"unknown failure_mode `{doc['failure_mode']}` (one of: {', '.join(FAILURE_MODES)})", "failure_mode")
    if need("severity", str, "a string") not in (None, *SEVERITIES):
        errors.add(f"severity must be one of {', '.join(SEVERITIES)}", "severity")
    if doc.get("status", "experimental") not in STATUSES:
        errors.add(f"status must be one of {', '.join(STATUSES)}", "status")
    confidence = need("confidence", (int, float), "a number")
    if confidence is not None and not 0 <= confidence <= 1:
        errors.add("confidence must lie between 0 and 1", "confidence")
    need("title", str, "a string")
    for key in ("falsepositives", "references"):
        if not isinstance(doc.get(key), list) or not doc[key] or not all(isinstance(x, str) for x in doc[key]):
            errors.add(f"`{key}` must be a non-empty list of strings", key)
    detect = _detections(doc, errors)
    condition = doc.get("condition", " and ".join(detect) if len(detect) != 1 else next(iter(detect)))
    tree: Node | None = None
    if not isinstance(condition, str):
        errors.add("`condition` must be a string", "condition")
    elif detect:
        try:
            tree = parse(condition, list(detect))
        except ConditionError as exc:
            errors.add(f"condition: {exc}", "condition")
    requires = doc.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) and _SERIES.match(r) for r in requires):
        errors.add("`requires` must list series as split/metric, e.g. train/loss", "requires")
    if "silent_when" in doc and not isinstance(doc["silent_when"], dict):
        errors.add("`silent_when` must be a mapping of meta keys to conditions", "silent_when")
    causes = doc.get("causes", [])
    _validate_causes(causes, errors)
    tests = doc.get("tests", {})
    _validate_tests(tests, errors)
    if not isinstance(doc.get("fixes", []), list):
        errors.add("`fixes` must be a list of strings", "fixes")
    errors.raise_any()
    assert tree is not None  # no error was found, so the condition parsed
    return Rule(
        id=rule_id,
        failure_mode=doc["failure_mode"],
        severity=doc["severity"],
        confidence=float(confidence),
        title=doc["title"],
        source=where,
        detect=detect,
        condition=condition,
        tree=tree,
        status=doc.get("status", "experimental"),
        description=str(doc.get("description", "")),
        requires=requires,
        silent_when=doc.get("silent_when", {}),
        causes=causes,
        fixes=list(doc.get("fixes", [])),
        falsepositives=doc["falsepositives"],
        references=doc["references"],
        tests=tests,
    )


def _detections(doc: dict[str, Any], errors: _Errors) -> dict[str, Detect]:
    """The named detections that are valid (the others are reported)."""
    if ("check" in doc) == ("detect" in doc):
        errors.add(
            "a rule has either `check` (with `params`) or `detect` (named checks)",
            "detect" if "detect" in doc else "id",
        )
        return {}
    if "check" in doc:
        specs: dict[str, Any] = {"main": {"check": doc["check"], "params": doc.get("params", {})}}
        base: tuple[str, ...] = ()
    else:
        specs = doc["detect"]
        base = ("detect",)
        if not isinstance(specs, dict) or not specs:
            errors.add("`detect` must map names to {check, params}", "detect")
            return {}
    out: dict[str, Detect] = {}
    for name, spec in specs.items():
        at = (*base, name) if base else ("check",)
        if not isinstance(spec, dict) or not isinstance(spec.get("check"), str):
            errors.add(f"detection `{name}` needs a `check` name", *at)
            continue
        if set(spec) - {"check", "params"}:
            errors.add(f"detection `{name}`: only `check` and `params` are allowed", *at)
        check_name = spec["check"]
        if check_name not in CHECKS:
            errors.add(f"unknown check `{check_name}` (known: {', '.join(sorted(CHECKS))})", *at)
            continue
        params = spec.get("params") or {}
        if not isinstance(params, dict):
            errors.add("`params` must be a mapping", *(base and (*at, "params")) or ("params",))
            continue
        out[str(name)] = Detect(
            check_name, _check_params(check_name, params, errors, (*at, "params") if base else ("params",))
        )
    return out


def _check_params(check_name: str, params: dict[str, Any], errors: _Errors, at: tuple[str, ...]) -> dict[str, Any]:
    """The parameters a rule sets, checked against the check's signature and converted as it takes them."""
    spec = CHECK_SPECS[check_name]
    out: dict[str, Any] = {}
    for key, value in params.items():
        param = spec.get(key)
        if param is None:
            known = ", ".join(sorted(spec)) or "none"
            errors.add(f"check `{check_name}` has no parameter `{key}` (parameters: {known})", *at, key)
            continue
        if key == "pattern" and isinstance(value, str):
            try:
                re.compile(value)
            except re.error as exc:
                errors.add(f"parameter `pattern` is not a valid regular expression: {exc}", *at, key)
        if param.accepts(value):
            out[key] = param.convert(value)
        elif param.choices and isinstance(value, str):
            allowed = ", ".join(param.choices)
            errors.add(f"parameter `{key}` of `{check_name}` must be one of {allowed}", *at, key)
        else:
            hint = ""
            if (
                isinstance(value, str)
                and param.type is float
                and re.fullmatch(r"[-+]?\d*\.?\d+e\d+", value.strip(), re.I)
            ):
                hint = f" (YAML reads {value} as text: write it with a sign, {value.lower().replace('e', 'e+')})"
            errors.add(f"parameter `{key}` of `{check_name}` must be {param.type_name}{hint}", *at, key)
    return out


def _validate_causes(causes: Any, errors: _Errors) -> None:
    if not isinstance(causes, list):
        errors.add("`causes` must be a list", "causes")
        return
    seen: set[str] = set()
    for i, cause in enumerate(causes):
        if not (isinstance(cause, dict) and isinstance(cause.get("id"), str) and isinstance(cause.get("title"), str)):
            errors.add("each cause needs an `id` and a `title`", "causes", i)
            continue
        for extra in sorted(set(cause) - _CAUSE):
            errors.add(f"cause `{cause['id']}`: unknown key `{extra}`", "causes", i, extra)
        if cause["id"] in seen:
            errors.add(f"duplicate cause id `{cause['id']}`", "causes", i)
        seen.add(cause["id"])
        prior = cause.get("prior", 0.3)
        if not isinstance(prior, (int, float)) or not 0 <= prior <= 1:
            errors.add(f"cause `{cause['id']}`: prior must lie between 0 and 1", "causes", i, "prior")
        needs = cause.get("needs", []) or []
        if not isinstance(needs, list) or not all(
            isinstance(n, dict) and isinstance(n.get("when"), dict) and not set(n) - {"when", "says"} for n in needs
        ):
            errors.add(f"cause `{cause['id']}`: `needs` is a list of {{when: {{...}}, says}}", "causes", i, "needs")
        else:
            for j, need in enumerate(needs):
                _check_patterns(need["when"], errors, ("causes", i, "needs", j))
        signals = cause.get("signals", []) or []
        if not isinstance(signals, list):
            errors.add(f"cause `{cause['id']}`: `signals` must be a list", "causes", i, "signals")
            continue
        for j, signal in enumerate(signals):
            if not isinstance(signal, dict) or not isinstance(signal.get("when"), dict) or set(signal) - _SIGNAL:
                errors.add(
                    f"cause `{cause['id']}`: each signal is {{when: {{...}}, weight, says}}", "causes", i, "signals", j
                )
            elif not isinstance(signal.get("weight", 0.2), (int, float)):
                errors.add(f"cause `{cause['id']}`: signal weight must be a number", "causes", i, "signals", j)
            else:
                _check_patterns(signal["when"], errors, ("causes", i, "signals", j))


def _check_patterns(when: dict[str, Any], errors: _Errors, at: tuple[str | int, ...]) -> None:
    """`~regex` conditions must compile."""
    for key, condition in when.items():
        for item in condition if isinstance(condition, list) else [condition]:
            if isinstance(item, str) and item.startswith("~"):
                try:
                    re.compile(item[1:].strip())
                except re.error as exc:
                    errors.add(f"`{key}: {item}` is not a valid regular expression: {exc}", *at)


def _validate_tests(tests: Any, errors: _Errors) -> None:
    if not isinstance(tests, dict) or set(tests) - {"fires", "silent"}:
        errors.add("`tests` maps `fires` and `silent` to lists of examples", "tests")
        return
    for key, items in tests.items():
        if not isinstance(items, list) or not all(isinstance(x, str) and _EXAMPLE.match(x) for x in items):
            errors.add(
                f"`tests.{key}` lists sample_logs/<name>, cases/<NNN>, artifacts/<NNN> or new_real_logs/<NNN>",
                "tests",
                key,
            )
