"""Every rule on the examples its file lists: it fires on `tests.fires` and stays silent on `tests.silent`.

Examples are bundled samples (sample_logs/<name>), this repository's unseen real logs
(new_real_logs/<NNN>) or the shared real-log corpus (cases/<NNN>, artifacts/<NNN>; skipped when ../shared
is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analyzer import analyze
from analyzer.rules import load_rules
from tests.conftest import ARTIFACTS, CASES, SAMPLES, artifact, case

RULES = load_rules()[0]
# Rules whose only examples need a run this repository does not have yet (no traceback-only crash sample).
NO_FIRING_EXAMPLE_YET: set[str] = set()


def resolve(example: str) -> Path:
    kind, name = example.split("/", 1)
    if kind == "sample_logs":
        return SAMPLES / name
    if kind == "new_real_logs":  # this repository's own collection (benchmarks/new_real_logs/<NNN>_<slug>)
        return next((SAMPLES.parent / "benchmarks" / "new_real_logs").glob(f"{name}_*"))
    folder = case(name) if kind == "cases" else artifact(name)
    logs = [p for p in folder.iterdir() if p.name != "label.yaml"]
    return logs[0] if kind == "cases" and len(logs) == 1 else folder


EXAMPLES = [(rule.id, kind, example) for rule in RULES for kind, items in rule.tests.items() for example in items]


@pytest.mark.parametrize(("rule_id", "kind", "example"), EXAMPLES, ids=[f"{r}-{k}-{e}" for r, k, e in EXAMPLES])
def test_rule_on_its_examples(rule_id: str, kind: str, example: str) -> None:
    fired = {f.rule_id for f in analyze(resolve(example)).findings}
    if kind == "fires":
        assert rule_id in fired, f"{rule_id} did not fire on {example} (fired: {sorted(fired)})"
    else:
        assert rule_id not in fired, f"{rule_id} fired on {example}, which must stay silent"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_has_examples(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.tests.get("silent"), f"{rule.id} lists no example where it must stay silent"
    if rule.id not in NO_FIRING_EXAMPLE_YET:
        assert rule.tests.get("fires"), f"{rule.id} lists no example where it must fire"


def _corpus_modes() -> set[str]:
    """Failure modes the public real-log corpus has at least one case of (empty without ../shared)."""
    labels = [p for root in (CASES, ARTIFACTS) if root.is_dir() for p in root.glob("*/label.yaml")]
    return {label for p in labels for label in yaml.safe_load(p.read_text())["labels"]}


@pytest.mark.parametrize("rule", [r for r in RULES if r.status == "stable"], ids=lambda r: r.id)
def test_stable_rules_meet_the_bar(rule) -> None:  # type: ignore[no-untyped-def]
    """`stable` (README, "Rule status"): fires on two independent real runs or more, one of them from the
    public corpus whenever the corpus has the failure mode; silent examples include healthy runs."""
    fires = rule.tests.get("fires", [])
    assert len(fires) >= 2, f"{rule.id}: a stable rule fires on at least two runs"
    corpus = _corpus_modes()
    if not corpus:
        pytest.skip("../shared/real_logs is not here")
    if rule.failure_mode in corpus:
        assert any(not f.startswith("sample_logs/") for f in fires), (
            f"{rule.id}: the corpus has {rule.failure_mode} cases, and none is among the examples it fires on"
        )
