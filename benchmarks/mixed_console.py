"""The console reader on a mix of formats: every console log of the corpus concatenated N times.

    python benchmarks/mixed_console.py [N] [--baseline REF]

Builds one file from ../shared/real_logs/cases/*/stdout.log repeated N times (default 100), then times
`console.parse` on it (best of 3, each in its own process) for this checkout and, with --baseline, for
another git revision checked out in a temporary worktree (default 8a1ba6d, the reader before the
generic structure inference). Prints seconds, rows read and the ratio. The generic reader keeps every
template of the file in memory until its end, so its peak memory is printed too.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _measure import measure

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT.parent / "shared" / "real_logs" / "cases"
PROBE = (
    "import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
    "from analyzer.ingest.console import parse; f = parse(Path(sys.argv[2]), 'mix.log'); "
    "print(len(f.metrics), len(f.events))"
)


def rows(checkout: Path, log: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(checkout), str(log)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    times = int(args[0]) if args else 100
    baseline = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else "8a1ba6d"
    logs = sorted(CASES.glob("*/stdout.log"))
    if not logs:
        sys.exit(f"no logs under {CASES}")
    with tempfile.TemporaryDirectory() as tmp:
        mix = Path(tmp) / "mix.log"
        one = b"".join(p.read_bytes() for p in logs)
        mix.write_bytes(one * times)
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), baseline], cwd=ROOT, check=True)
        try:
            print(f"{len(logs)} logs x {times} = {mix.stat().st_size / 2**20:.1f} MiB")
            print(f"{'reader':28s} {'seconds':>8s} {'peak MiB':>9s}  rows, events")
            results = []
            for label, checkout in (("this checkout", ROOT), (f"baseline {baseline}", old)):
                seconds, peak = measure([sys.executable, "-c", PROBE, str(checkout), str(mix)])
                results.append(seconds)
                print(f"{label:28s} {seconds:8.2f} {peak:9.0f}  {rows(checkout, mix)}")
            print(f"ratio (this / baseline): {results[0] / results[1]:.2f}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
