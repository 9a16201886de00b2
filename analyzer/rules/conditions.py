"""The small condition grammar that joins a rule's named detections.

    condition := or
    or        := and ("or" and)*
    and       := unary ("and" unary)*
    unary     := "not" unary | "(" or ")" | quant | NAME
    quant     := ("1" | "any" | "all") "of" (PATTERN | "them")

NAME is a detection name; PATTERN may hold `*` (`1 of spike_*`); `them` is every detection.
Parsed once into a tree of tuples, evaluated against the set of detections that fired; nothing is
ever passed to eval.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

# ("name", NAME) | ("not", Node) | ("and" | "or", Node, Node) | ("any" | "all", PATTERN, "")
Node = tuple[Any, ...]

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z_][\w*]*|\*|1)")
_KEYWORDS = {"and", "or", "not", "of", "them", "all", "any"}


class ConditionError(ValueError):
    """A condition that does not parse or names an unknown detection."""


def tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ConditionError(f"unexpected text at column {pos + 1}: {text[pos : pos + 12]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


def parse(text: str, names: list[str]) -> Node:
    """The tree of a condition; every name or pattern must match a detection in `names`."""
    tokens = tokenize(text)
    if not tokens:
        raise ConditionError("empty condition")
    node, rest = _or(tokens, names)
    if rest:
        raise ConditionError(f"unexpected {rest[0]!r} after a complete condition")
    return node


def _chain(
    tokens: list[str], names: list[str], op: str, operand: Callable[[list[str], list[str]], tuple[Node, list[str]]]
) -> tuple[Node, list[str]]:
    """operand (op operand)*, folded to the left: one precedence level of the grammar."""
    left, tokens = operand(tokens, names)
    while tokens and tokens[0] == op:
        right, tokens = operand(tokens[1:], names)
        left = (op, left, right)
    return left, tokens


def _or(tokens: list[str], names: list[str]) -> tuple[Node, list[str]]:
    return _chain(tokens, names, "or", _and)


def _and(tokens: list[str], names: list[str]) -> tuple[Node, list[str]]:
    return _chain(tokens, names, "and", _unary)


def _unary(tokens: list[str], names: list[str]) -> tuple[Node, list[str]]:
    if not tokens:
        raise ConditionError("condition ends early")
    head = tokens[0]
    if head == "not":
        inner, rest = _unary(tokens[1:], names)
        return ("not", inner), rest
    if head == "(":
        inner, rest = _or(tokens[1:], names)
        if not rest or rest[0] != ")":
            raise ConditionError("missing closing parenthesis")
        return inner, rest[1:]
    if head in ("1", "any", "all"):
        if len(tokens) < 3 or tokens[1] != "of":
            raise ConditionError(f"expected '{head} of PATTERN'")
        pattern = tokens[2]
        if pattern != "them" and not fnmatch.filter(names, pattern):
            raise ConditionError(f"'{pattern}' matches no detection (have: {', '.join(names)})")
        return ("all" if head == "all" else "any", "*" if pattern == "them" else pattern, ""), tokens[3:]
    if head in _KEYWORDS or head in ("(", ")"):
        raise ConditionError(f"unexpected {head!r}")
    if head not in names:
        raise ConditionError(f"unknown detection {head!r} (have: {', '.join(names)})")
    return ("name", head), tokens[1:]


def evaluate(node: Node, fired: set[str], names: list[str]) -> bool:
    """Whether the condition holds when the detections in `fired` fired."""
    op = node[0]
    if op == "name":
        return node[1] in fired
    if op == "not":
        return not evaluate(node[1], fired, names)
    if op in ("and", "or"):
        left = evaluate(node[1], fired, names)
        right = evaluate(node[2], fired, names)
        return (left and right) if op == "and" else (left or right)
    matched = fnmatch.filter(names, str(node[1]))
    hits = [n in fired for n in matched]
    return all(hits) if op == "all" else any(hits)


def positive_names(node: Node, names: list[str], negated: bool = False) -> set[str]:
    """Detections a true condition can rest on (not under a `not`): where the onset comes from."""
    op = node[0]
    if op == "name":
        return set() if negated else {str(node[1])}
    if op == "not":
        return positive_names(node[1], names, not negated)
    if op in ("and", "or"):
        return positive_names(node[1], names, negated) | positive_names(node[2], names, negated)
    return set() if negated else set(fnmatch.filter(names, str(node[1])))
