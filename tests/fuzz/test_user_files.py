"""The user's own files: a rule folder (`--rules DIR`) and a grammar file (`--grammar FILE`), made from the
built-in ones mutated, or from arbitrary YAML. A broken rule is a problem in the report (the other rules
still run); a broken grammar file is a GrammarError naming the file (a usage error on the CLI); never another
exception, in bounded time and memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from analyzer.ingest.grammars import BUILTIN, GrammarError
from analyzer.rules import builtin_rules_dir
from analyzer.rules.schema import _TOP
from tests.fuzz.harness import READERS, TRIED, bounded, check_clean, mutated

RULE_FILES = sorted(builtin_rules_dir().glob("*.yaml"))
RUN_SEEDS = (READERS["console"][3], READERS["hf_trainer_state"][2])  # a console log with a traceback, a state

# The rule file's own top-level keys (from the schema, not a copy) and the keys of its causes and signals.
RULE_KEYS = (*sorted(_TOP), "when", "weight", "says", "prior", "fix", "confirm")
GRAMMAR_KEYS = (
    "metrics",
    "events",
    "meta",
    "name",
    "match",
    "prefilter",
    "framework",
    "split",
    "pairs",
    "keys",
    "ignore",
    "eval_keys",
    "exclude",
    "step_mode",
    "epoch_base",
    "vanishing",
    "kind",
    "severity",
    "pattern",
    "message",
    "section",
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=24),
    st.sampled_from(
        [
            "loss",
            "train/loss",
            "(?P<loss>{num})",
            "a and not b",
            ">=0.7",
            "~x(",
            "critical",
            "nan_loss",
            "absolute",
            "per_epoch",
            "[",
            "(?P<x>a)(?P=x)",
        ]
    ),
)


def documents(keys: tuple[str, ...]) -> st.SearchStrategy[object]:
    """YAML documents that use the format's own keys at every level, with values of any type."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), inner, max_size=6)
        ),
        max_leaves=24,
    )


def _run(root: Path) -> Path:
    for seed in RUN_SEEDS:
        seed.build(root)
    return root


def _rule_texts() -> st.SearchStrategy[bytes]:
    mutated_rule = st.sampled_from(RULE_FILES).flatmap(lambda path: mutated(path.read_bytes()))
    made_up = documents(RULE_KEYS).map(lambda doc: yaml.safe_dump(doc, allow_unicode=True).encode())
    return st.one_of(mutated_rule, made_up)


@given(text=_rule_texts())
def test_user_rule_file_ends_cleanly(text: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-rules-") as tmp:
        rules = Path(tmp) / "rules"
        rules.mkdir()
        (rules / "user-rule.yaml").write_bytes(text)
        check_clean(_run(Path(tmp) / "run"), "user rule file", rules_dirs=[rules])


def _grammar_texts() -> st.SearchStrategy[bytes]:
    made_up = documents(GRAMMAR_KEYS).map(lambda doc: yaml.safe_dump(doc, allow_unicode=True).encode())
    return st.one_of(mutated(BUILTIN.read_bytes()), made_up)


@given(text=_grammar_texts())
def test_user_grammar_file_ends_cleanly(text: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-grammar-") as tmp:
        grammar = Path(tmp) / "grammar.yaml"
        grammar.write_bytes(text)
        run = _run(Path(tmp) / "run")
        try:
            check_clean(run, "user grammar file", grammar_files=[grammar])
        except GrammarError as exc:
            assert str(exc).startswith(str(grammar)), exc
            TRIED[("user grammar file", "grammar error")] += 1


def test_builtin_files_pass(tmp_path: Path) -> None:
    """The unmutated seeds: a copy of the built-in grammar file and of every built-in rule are accepted."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "copy.yaml").write_bytes(RULE_FILES[0].read_bytes())
    with bounded():
        assert check_clean(_run(tmp_path / "run"), grammar_files=[BUILTIN], rules_dirs=[rules]) == "findings"
