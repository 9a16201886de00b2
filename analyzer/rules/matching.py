"""`when` conditions of rule files (cause signals, `needs`, `silent_when`): one expected value against
a value of the run's meta or of a detection's evidence, found by its dotted path.
"""

from __future__ import annotations

import re
from typing import Any

_OPS = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(.+)$")


def lookup(key: str, meta: dict[str, Any], evidence: dict[str, Any]) -> Any:
    """The value at a `when` key: a dotted path into meta, or into the evidence after `evidence.`; None if absent."""
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
    return {
        ">=": left >= right,
        "<=": left <= right,
        "==": left == right,
        "!=": left != right,
        ">": left > right,
        "<": left < right,
    }[op]


def matches(condition: Any, actual: Any) -> bool:
    """One expected value against the actual one: equality, a list of choices, present/absent,
    a comparison such as '>=0.7' (versions) or '>1e-3' (numbers), or '~regex' (searched, any case)."""
    if condition == "present":
        return actual is not None
    if condition == "absent":
        return actual is None
    if actual is None:
        return False
    if isinstance(condition, list):
        return any(matches(c, actual) for c in condition)
    if isinstance(condition, str) and condition.startswith("~"):
        return re.search(condition[1:].strip(), str(actual), re.IGNORECASE) is not None
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
    return all(matches(cond, lookup(key, meta, evidence)) for key, cond in when.items())
