"""Console-log grammars as data: load, check and compile grammars.yaml and user grammar files."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analyzer import safe_yaml

# A logged number: 1, -2.5, 3.1E-05, .5, nan, inf, -inf (as printed by Python, C++ and numpy).
NUM = r"[-+]?(?:[Nn]a[Nn]|[Ii]nf(?:inity)?|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
BUILTIN = Path(__file__).with_name("grammars.yaml")


class GrammarError(ValueError):
    """A grammar file that cannot be used: names the file and the entry."""


@dataclass(frozen=True)
class LineGrammar:
    """One log-line shape that yields metrics."""

    name: str
    match: re.Pattern[str]
    prefilter: str = ""
    framework: str = ""
    split: str = "train"
    pairs: re.Pattern[str] | None = None
    keys: dict[str, str] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    eval_keys: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    step_mode: str = "absolute"  # absolute | per_epoch | epoch_counter
    epoch_base: int = 0
    vanishing: str = ""  # a metric whose absence from a record means NaN (Megatron's `lm loss`)


@dataclass(frozen=True)
class EventGrammar:
    """A one-line signature of something that happened. With `prefilter` (lower-case literals), the
    pattern is only tried on lines that contain one of them, once lower-cased; such entries stay out of
    the joined gate (a case-insensitive generic pattern there slowed every line)."""

    kind: str
    severity: str
    pattern: re.Pattern[str]
    message: str
    prefilter: tuple[str, ...] = ()
    repeats: int = 1  # lines of a file it must match before it counts (weak evidence alone, said by repetition)


@dataclass(frozen=True)
class MetaGrammar:
    """An environment fact printed in the log."""

    section: str
    pattern: re.Pattern[str]


@dataclass
class Grammars:
    """All grammars in the order they are tried (user files first, so they can override)."""

    metrics: list[LineGrammar] = field(default_factory=list)
    events: list[EventGrammar] = field(default_factory=list)
    meta: list[MetaGrammar] = field(default_factory=list)

    def screens(self) -> tuple[Screen, Screen]:
        """Literal screens for the event entries and the environment facts (built once per set)."""
        found = _SCREENS.get(id(self))
        if found is None or found[0] is not self:
            events = [e.prefilter or required_literals(e.pattern) for e in self.events]
            metas = [required_literals(m.pattern) for m in self.meta]
            found = _SCREENS[id(self)] = (self, Screen.build(events), Screen.build(metas))
        return found[1], found[2]


_SCREENS: dict[int, tuple[Grammars, Screen, Screen]] = {}


@dataclass(frozen=True)
class Screen:
    """Which of a list of patterns can match a line, decided by literals before any pattern runs: a
    pattern with literals (declared, or one every match must contain) is tried only on lines holding one
    of them, lower-cased; the others (`bare`) on every line. One search per line for all the literals at
    once instead of every pattern: most lines hold none (a gate of many patterns that begin with no
    literal costs Python's re ~10 us a line)."""

    owners: dict[str, frozenset[int]]  # each lower-case literal's patterns
    bare: tuple[int, ...]  # the patterns without literals: tried on every line
    # The literals as one trie-shaped pattern, looked for at every position: a line's longest literal
    # starting at each place (the shorter ones there are its prefixes). ~4 us a line on a Trainer log, where a
    # substring test per literal (~50 ns each, 140 of them) costs ~7 us.
    finder: re.Pattern[str] | None = None
    within: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a match -> the literals it begins with

    @classmethod
    def build(cls, literals: list[tuple[str, ...]]) -> Screen:
        words = tuple(sorted({w for group in literals for w in group}))
        owners = {w: frozenset(i for i, group in enumerate(literals) if w in group) for w in words}
        finder = re.compile(f"(?=({_trie_pattern(words)}))") if words else None
        bare = tuple(i for i, group in enumerate(literals) if not group)
        return cls(owners, bare, finder)

    def candidates(self, low: str) -> tuple[int, ...] | list[int]:
        """Indices of the patterns worth trying on a line (lower-cased), in their order."""
        found = self.finder.findall(low) if self.finder is not None else ()
        if not found:
            return self.bare
        owners: set[int] = set(self.bare)
        for match in set(found):
            begins = self.within.get(match)
            if begins is None:
                begins = self.within[match] = tuple(
                    match[:k] for k in range(1, len(match) + 1) if match[:k] in self.owners
                )
            for word in begins:
                owners.update(self.owners[word])
        return sorted(owners)


def _trie_pattern(words: tuple[str, ...]) -> str:
    """A pattern matching exactly these literals, branching one character at a time (the longest literal
    along a branch wins: the optional rest of a literal that is a prefix of others is tried first)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        alternatives = [re.escape(char) + branch(rest) for char, rest in sorted(node.items()) if char]
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body

    return branch(trie)


def required_literals(pattern: re.Pattern[str], shortest: int = 3) -> tuple[str, ...]:
    """Lower-case literals one of which every match of `pattern` contains (`torch`, or `exitcode` /
    `returncode` / `exit` for an alternation), or () when no such set of `shortest` characters or more
    exists. Read from the standard library's own parse of the pattern."""
    try:
        parser = importlib.import_module("re._parser")  # the standard library's own (private) parser

        tree = parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # another Python's internals: no screen, the pattern is tried on every line
        return ()
    found = _needed(list(tree), shortest)
    return tuple(sorted({w.lower() for w in found}))


def _needed(items: list[tuple[Any, Any]], shortest: int) -> tuple[str, ...]:
    """The best set of literals one of which a match of this sequence must contain."""
    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, arg in [*items, (None, None)]:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(arg))
            continue
        if len(run) >= shortest:
            candidates.append(("".join(run),))
        run = []
        if name == "SUBPATTERN":
            candidates.append(_needed(list(arg[3]), shortest))
        elif name in ("MAX_REPEAT", "MIN_REPEAT") and arg[0] >= 1:
            candidates.append(_needed(list(arg[2]), shortest))
        elif name == "BRANCH":
            branches = [_needed(list(b), shortest) for b in arg[1]]
            if all(branches):
                candidates.append(tuple(w for b in branches for w in b))
    candidates = [c for c in candidates if c]
    # The most selective: the longest shortest word, then the fewest alternatives.
    return max(candidates, key=lambda c: (min(len(w) for w in c), -len(c)), default=())


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise GrammarError(f"{where}: pattern must be a string")
    try:
        return re.compile(pattern.replace("{num}", NUM))
    except re.error as exc:
        raise GrammarError(f"{where}: bad regex: {exc}") from None


def _line_grammar(entry: dict[str, Any], where: str) -> LineGrammar:
    if not isinstance(entry.get("name"), str) or "match" not in entry:
        raise GrammarError(f"{where}: a metrics entry needs `name` and `match`")
    mode = entry.get("step_mode", "absolute")
    if mode not in ("absolute", "per_epoch", "epoch_counter"):
        raise GrammarError(f"{where}: step_mode must be absolute, per_epoch or epoch_counter")
    if not isinstance(entry.get("keys") or {}, dict):
        raise GrammarError(f"{where}: `keys` must be a mapping of logged names to metric names")
    if not isinstance(entry.get("ignore") or [], list):
        raise GrammarError(f"{where}: `ignore` must be a list of logged names")
    if type(entry.get("epoch_base", 0)) is not int:
        raise GrammarError(f"{where}: `epoch_base` must be a whole number")
    return LineGrammar(
        name=entry["name"],
        match=_compile(entry["match"], where),
        prefilter=str(entry.get("prefilter", "")),
        framework=str(entry.get("framework", "")),
        split=str(entry.get("split", "train")),
        pairs=_compile(entry["pairs"], where) if "pairs" in entry else None,
        keys={str(k): str(v) for k, v in (entry.get("keys") or {}).items()},
        ignore=frozenset(map(str, entry.get("ignore") or [])),
        eval_keys=_compile(entry["eval_keys"], where) if "eval_keys" in entry else None,
        exclude=_compile(entry["exclude"], where) if "exclude" in entry else None,
        step_mode=mode,
        epoch_base=int(entry.get("epoch_base", 0)),
        vanishing=str(entry.get("vanishing", "")),
    )


def load_grammars(path: Path) -> Grammars:
    """Read one grammar file (yaml.safe_load); GrammarError names the file and the bad entry."""
    try:
        doc = safe_yaml.load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise GrammarError(f"{path}: cannot read grammar file: {getattr(exc, 'strerror', None) or exc}") from None
    except yaml.YAMLError as exc:  # one line: where, and what (a syntax error, a YAML bomb)
        mark = getattr(exc, "problem_mark", None)
        where = f":line {mark.line + 1}" if mark is not None else ""
        raise GrammarError(f"{path}{where}: invalid grammar file: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(doc, dict):
        raise GrammarError(f"{path}: a grammar file is a mapping with `metrics`, `events` and `meta` lists")
    out = Grammars()
    for i, entry in _entries(doc, "metrics", path):
        out.metrics.append(_line_grammar(entry, f"{path}: metrics[{i}]"))
    for i, entry in _entries(doc, "events", path):
        where = f"{path}: events[{i}]"
        if not all(k in entry for k in ("kind", "severity", "pattern")):
            raise GrammarError(f"{where}: an event needs `kind`, `severity` and `pattern`")
        prefilter = entry.get("prefilter") or []
        if not isinstance(prefilter, list) or not all(isinstance(p, str) and p for p in prefilter):
            raise GrammarError(f"{where}: `prefilter` must be a list of literal strings")
        repeats = entry.get("repeats", 1)
        if type(repeats) is not int or repeats < 1:
            raise GrammarError(f"{where}: `repeats` must be a whole number of 1 or more")
        out.events.append(
            EventGrammar(
                str(entry["kind"]),
                str(entry["severity"]),
                _compile(entry["pattern"], where),
                str(entry.get("message", entry["kind"])),
                tuple(p.lower() for p in prefilter),
                repeats,
            )
        )
    for i, entry in _entries(doc, "meta", path):
        if "pattern" not in entry:
            raise GrammarError(f"{path}: meta[{i}]: a meta entry needs `pattern`")
        out.meta.append(MetaGrammar(str(entry.get("section", "env")), _compile(entry["pattern"], f"{path}: meta[{i}]")))
    return out


def _entries(doc: dict[str, Any], key: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The numbered entries of one list of a grammar file, each checked to be a mapping."""
    entries = doc.get(key) or []
    if not isinstance(entries, list):
        raise GrammarError(f"{path}: `{key}` must be a list of entries")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise GrammarError(f"{path}: {key}[{i}]: an entry is a mapping of keys to values")
    return list(enumerate(entries))


def hints_enabled() -> bool:
    """Whether the built-in metric grammars are used as hints (ANALYZER_NO_GRAMMAR_HINTS=1 turns them off:
    the generic reader alone, as `analyze --no-hints`)."""
    return os.environ.get("ANALYZER_NO_GRAMMAR_HINTS", "") in ("", "0")


_ACTIVE: contextvars.ContextVar[Grammars | None] = contextvars.ContextVar("analyzer_grammars", default=None)


def active_grammars() -> Grammars:
    """The grammars of the reading in progress (`reading_with`), else the built-in ones: every reader of
    console text (a console file, a W&B run's console records) reads with the same set."""
    return _ACTIVE.get() or grammars()


@contextlib.contextmanager
def reading_with(chosen: Grammars | None) -> Iterator[None]:
    """Read with `chosen` (user grammar files, hints off) inside the block; None keeps the built-in set."""
    token = _ACTIVE.set(chosen)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def grammars(extra: list[Path] | None = None, hints: bool | None = None) -> Grammars:
    """User grammar files first, then the built-in ones. With `hints` off (default: hints_enabled()) the
    built-in *metric* entries are left out and the generic reader reads every metric line; the built-in
    event and environment signatures stay, and so do the user's own files."""
    return _combined(tuple(extra or ()), hints_enabled() if hints is None else hints)


@functools.lru_cache(maxsize=8)
def _combined(extra: tuple[Path, ...], hints: bool) -> Grammars:
    combined = Grammars()
    for path in [*extra, BUILTIN]:
        loaded = load_grammars(path)
        if hints or path != BUILTIN:
            combined.metrics += loaded.metrics
        combined.events += loaded.events
        combined.meta += loaded.meta
    return combined
