"""Rules: YAML files of named detections over registered checks, joined by a small condition, plus the
human part (causes ranked by evidence, fixes).

- checks, curves, generic: the registered checks, their parameters read from their signatures;
- schema: the rule file format, validated with the line of every mistake;
- conditions: the grammar that joins a rule's named detections;
- matching: `when` conditions over the run's meta and a detection's evidence;
- engine: loading the library and evaluating the rules on a run;
- docs: `analyze rules explain` and `analyze rules check`.
"""

from __future__ import annotations

from analyzer.rules.checks import CHECK_SPECS, CHECKS, Detection, Param
from analyzer.rules.engine import builtin_rules_dir, evaluate, load_rules, rank_causes
from analyzer.rules.matching import holds, matches
from analyzer.rules.schema import Rule, RuleError, load_rule

__all__ = [
    "CHECKS",
    "CHECK_SPECS",
    "Detection",
    "Param",
    "Rule",
    "RuleError",
    "builtin_rules_dir",
    "evaluate",
    "holds",
    "load_rule",
    "load_rules",
    "matches",
    "rank_causes",
]
