"""Detection quality on a labelled corpus: per-label recall, healthy false alarms, misses.

    python benchmarks/detection.py CASES_DIR [--verbose]

CASES_DIR holds one folder per case with its log (any file name) and a label.yaml whose `labels`
list uses the failure taxonomy (`healthy` for a clean run), as ../shared/real_logs/cases does.
A label counts as found when a finding of severity warning or above carries that failure mode.
Labels no rule covers yet are listed apart, so the score says what the rule library can do today.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

from analyzer import analyze
from analyzer.errors import NothingReadable
from analyzer.model import severity_rank
from analyzer.rules import load_rules


def evaluate_case(folder: Path) -> tuple[set[str], set[str], str]:
    """(expected labels, found modes at warning or above, error text) for one case folder."""
    labels = set(yaml.safe_load((folder / "label.yaml").read_text())["labels"])
    logs = [p for p in folder.iterdir() if p.name != "label.yaml"]
    target = logs[0] if len(logs) == 1 else folder
    try:
        report = analyze(target)
    except NothingReadable as exc:
        return labels, set(), str(exc.problems[0]) if exc.problems else "nothing readable"
    found = {f.failure_mode for f in report.findings if severity_rank(f.severity) >= severity_rank("warning")}
    return labels, found, ""


def main() -> None:
    root = Path(sys.argv[1])
    verbose = "--verbose" in sys.argv
    covered = {rule.failure_mode for rule in load_rules()[0]}
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    false_alarms, healthy = [], 0
    misses: list[str] = []
    for folder in sorted(p for p in root.iterdir() if (p / "label.yaml").is_file()):
        labels, found, error = evaluate_case(folder)
        if "healthy" in labels:
            healthy += 1
            if found:
                false_alarms.append(f"{folder.name}: {sorted(found)}")
        for label in labels - {"healthy"}:
            totals[label] += 1
            if label in found:
                hits[label] += 1
            elif label in covered:
                misses.append(f"{folder.name}: {label}{' (' + error + ')' if error else ''}")
        if verbose:
            print(f"{folder.name[:60]:60s} labels={sorted(labels)} found={sorted(found)} {error}")
    print(f"{'label':20s} {'found':>5s} {'of':>4s}  covered by a rule")
    for label in sorted(totals):
        print(f"{label:20s} {hits[label]:5d} {totals[label]:4d}  {'yes' if label in covered else 'no'}")
    print("misses (covered labels):", *misses, sep="\n  ") if misses else print("misses (covered labels): none")
    print("healthy false alarms:", *false_alarms, sep="\n  ") if false_alarms else None
    in_scope = sum(totals[label] for label in covered)
    found_in_scope = sum(hits[label] for label in covered)
    print(f"recall {sum(hits.values())}/{sum(totals.values())} labels overall, {found_in_scope}/{in_scope} on "
          f"labels a rule covers; healthy false alarms {len(false_alarms)}/{healthy}")


if __name__ == "__main__":
    main()
