"""Does a finding's confidence mean something? Confidence bins against how often the finding was right.

    python benchmarks/confidence.py [CASES_DIR ...]

Every finding at warning or above on the labelled corpus (../shared/real_logs cases and artifacts by
default: label.yaml `labels`) and on the bundled samples (expected.yaml `failure_modes`) is right when
its failure mode is among the run's labels, wrong otherwise (a finding on a healthy run is wrong). The
table gives, per confidence bin, the findings and the share that were right: a calibrated confidence
rises with that share.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from analyzer import analyze
from analyzer.errors import NothingReadable
from analyzer.model import severity_rank

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = [ROOT.parent / "shared" / "real_logs" / "cases", ROOT.parent / "shared" / "real_logs" / "artifacts"]
BINS = [(0.0, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)]


def labelled() -> list[tuple[Path, set[str]]]:
    roots = [Path(a) for a in sys.argv[1:]] or DEFAULT
    runs = []
    for root in roots:
        for folder in sorted(p for p in root.iterdir() if (p / "label.yaml").is_file()):
            logs = [p for p in folder.iterdir() if p.name != "label.yaml"]
            target = logs[0] if len(logs) == 1 else folder
            runs.append((target, set(yaml.safe_load((folder / "label.yaml").read_text())["labels"])))
    for folder in sorted((ROOT / "sample_logs").glob("*/expected.yaml")):
        runs.append((folder.parent, set(yaml.safe_load(folder.read_text())["failure_modes"])))
    return runs


def main() -> None:
    counts = {b: [0, 0] for b in BINS}  # bin -> [findings, right]
    for target, labels in labelled():
        try:
            findings = analyze(target).findings
        except NothingReadable:
            continue
        for f in findings:
            if severity_rank(f.severity) < severity_rank("warning"):
                continue
            b = next(b for b in BINS if b[0] <= f.confidence < b[1])
            counts[b][0] += 1
            counts[b][1] += f.failure_mode in labels
    print(f"{'confidence':12s} {'findings':>8s} {'right':>6s} {'share':>6s}")
    for (lo, hi), (n, right) in counts.items():
        share = f"{right / n:.0%}" if n else "-"
        print(f"{lo:.1f}–{min(hi, 1.0):.1f}      {n:8d} {right:6d} {share:>6s}")


if __name__ == "__main__":
    main()
