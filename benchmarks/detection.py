"""Detection quality on a labelled corpus: per-label recall, healthy false alarms, misses.

    python benchmarks/detection.py CASES_DIR [CASES_DIR ...] [--verbose]

CASES_DIR holds one folder per case with its log (any file name) and a label.yaml whose `labels`
list uses the failure taxonomy (`healthy` for a clean run), as ../shared/real_logs/cases does.
A label counts as found when a finding of severity warning or above carries that failure mode.
The primary label is a case's first label: the goal is to find it in at least 90% of the failing
cases, and to keep at least 90% of the healthy cases silent (nothing at warning or above).
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


def evaluate_case(folder: Path) -> tuple[set[str], set[str], str, dict[str, str]]:
    """(expected labels, found modes at warning or above, error text, {rule id: failure mode} of the
    findings at warning or above) for one case folder."""
    labels = set(yaml.safe_load((folder / "label.yaml").read_text())["labels"])
    logs = [p for p in folder.iterdir() if p.name != "label.yaml"]
    target = logs[0] if len(logs) == 1 else folder
    try:
        report = analyze(target)
    except NothingReadable as exc:
        return labels, set(), str(exc.problems[0]) if exc.problems else "nothing readable", {}
    loud = {f.rule_id: f.failure_mode for f in report.findings if severity_rank(f.severity) >= severity_rank("warning")}
    return labels, set(loud.values()), "", loud


def main() -> None:
    roots = [Path(a) for a in sys.argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in sys.argv
    if not roots:
        sys.exit(__doc__)
    covered = {rule.failure_mode for rule in load_rules()[0]}
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    false_alarms, healthy, failing, primary_found = [], 0, 0, 0
    misses: list[str] = []
    # Per rule: fired on a case labelled with its failure mode / on another failing case / on a healthy one.
    per_rule: dict[str, Counter[str]] = {rule.id: Counter() for rule in load_rules()[0]}
    folders = sorted(
        (p for root in roots for p in root.iterdir() if (p / "label.yaml").is_file()),
        key=lambda p: (p.parent.name, p.name),
    )
    for folder in folders:
        labels, found, error, loud = evaluate_case(folder)
        for rule_id, mode in loud.items():
            kind = "healthy" if "healthy" in labels else "labelled" if mode in labels else "other"
            per_rule.setdefault(rule_id, Counter())[kind] += 1
        primary = yaml.safe_load((folder / "label.yaml").read_text())["labels"][0]
        name = f"{folder.parent.name}/{folder.name}"
        if "healthy" in labels:
            healthy += 1
            if found:
                false_alarms.append(f"{name}: {sorted(found)}")
        else:
            failing += 1
            primary_found += primary in found
        for label in labels - {"healthy"}:
            totals[label] += 1
            if label in found:
                hits[label] += 1
            else:
                misses.append(
                    f"{name}: {label}{'' if label in covered else ' (no rule yet)'}"
                    f"{' (' + error + ')' if error else ''}"
                )
        if verbose:
            print(f"{name[:66]:66s} labels={sorted(labels)} found={sorted(found)} {error}")
    print(f"{'label':20s} {'found':>5s} {'of':>4s}  covered by a rule")
    for label in sorted(totals):
        print(f"{label:20s} {hits[label]:5d} {totals[label]:4d}  {'yes' if label in covered else 'no'}")
    print(f"\n{'rule (fired at warning or above)':40s} {'on its label':>12s} {'on other':>8s} {'healthy':>7s}")
    for rule_id, counts in sorted(per_rule.items()):
        print(f"{rule_id:40s} {counts['labelled']:12d} {counts['other']:8d} {counts['healthy']:7d}")
    print()
    print("misses:", *misses, sep="\n  ") if misses else print("misses: none")
    print("healthy false alarms:", *false_alarms, sep="\n  ") if false_alarms else None
    silent = healthy - len(false_alarms)
    print(
        f"primary label found: {primary_found}/{failing} failing cases ({primary_found / max(failing, 1):.0%}); "
        f"healthy silent: {silent}/{healthy} ({silent / max(healthy, 1):.0%}); "
        f"all labels: {sum(hits.values())}/{sum(totals.values())}"
    )


if __name__ == "__main__":
    main()
