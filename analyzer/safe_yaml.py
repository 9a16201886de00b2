"""YAML from files the analyzer did not write (run configs, user rule and grammar files), with bounds.

`yaml.safe_load` executes nothing, but it is not bounded: an alias (`*a`) is the same Python object as its
anchor, so nine levels of nine aliases ("billion laughs") load from 500 bytes in a millisecond and then
expand to 9**9 values in whatever walks the result (the settings flattened into meta, the JSON report);
an alias inside its own anchor (`&a [*a]`) loads as a list that contains itself, which any recursive walk
follows forever; and a nesting a few hundred levels deep overflows PyYAML's recursive composer with a
RecursionError, which is not a YAMLError (libyaml stops at 1,000 levels, still deep enough to overflow a
recursive walk of the result). `load` composes the document once, measures the value it expands to (every
alias counted in full) and its depth, and refuses it with a YAMLError that says where, before anything is
built from it: callers keep their `except yaml.YAMLError`.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_VALUES = 1_000_000  # scalars, sequences and mappings of the expanded document: far above any real config
MAX_DEPTH = 100  # nesting levels; what reads the value later (the JSON report) recurses once per level


class YAMLTooLarge(yaml.MarkedYAMLError):
    """A document refused before it is built: it expands past MAX_VALUES, refers to itself, or nests too deep."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def load(text: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Any:
    """`yaml.load(text, loader)` that refuses a document expanding past MAX_VALUES values (YAMLTooLarge)."""
    return load_with_node(text, loader)[0]


def load_with_node(text: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> tuple[Any, yaml.Node | None]:
    """The loaded value and the node graph it was built from (for line numbers), composed once; libyaml's
    parser when the loader is the plain SafeLoader and libyaml is there (the same values, faster)."""
    if loader is yaml.SafeLoader:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parser = loader(text)
    try:
        try:
            node = parser.get_single_node()
        except RecursionError:  # PyYAML's composer recurses per level (libyaml stops at 1,000 levels)
            mark = parser.get_mark() if hasattr(parser, "get_mark") else None
            raise YAMLTooLarge("nested too deeply to be a settings file; not read", mark) from None
        if node is None:
            return None, None
        _check(node)
        return parser.construct_document(node), node
    finally:
        parser.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check(root: yaml.Node) -> None:
    """Count the values `root` expands to (a shared, aliased node once per use) and its depth, without
    recursion; YAMLTooLarge past the bounds or at a loop."""
    size: dict[int, int] = {}
    open_nodes: set[int] = set()  # on the path from the root: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            if total > MAX_VALUES:
                raise YAMLTooLarge(
                    f"aliases expand this document past {MAX_VALUES:,} values (a YAML bomb?); not read", node.start_mark
                )
            size[key] = total
            continue
        if key in size:
            continue
        open_nodes.add(key)
        if len(open_nodes) > MAX_DEPTH:
            raise YAMLTooLarge(f"nested more than {MAX_DEPTH} levels deep; not read", node.start_mark)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise YAMLTooLarge("an alias refers to a value that contains it (a loop); not read", child.start_mark)
            if id(child) not in size:
                stack.append((child, False))
