"""Benchmark: changepoints on the same series, ours beside ruptures' Binseg (l2), in one run.

    python benchmarks/changepoints.py [N]      (default 100,000 points; needs `pip install ruptures`)

1. N points, piecewise constant with 5 planted level shifts and Gaussian noise: the model ruptures'
   l2 cost assumes, so the comparison is on its home ground. ruptures gets the true number of
   changes (`predict(n_bkps=5)`); ours chooses it by its penalty. Both must find every planted
   change within 0.5% of N; times are the best of a few runs in this process.
2. 10,000,000 points of a falling loss with a planted level shift, divergence or spikes: our
   segmentation + events (`analyze_series`) alone, against the 2 s goal (ruptures is not run:
   at its 100k speed it would take hours).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from analyzer.signals import analyze_series
from analyzer.signals.synthetic import Planted, make_series, score


def piecewise_constant(n: int, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    cuts = sorted(int(c) for c in rng.choice(np.arange(n // 10, n - n // 10, n // 50), size=5, replace=False))
    levels = np.cumsum(rng.choice([-1.0, 1.0], size=6) * rng.uniform(0.5, 1.5, size=6))
    values = np.repeat(levels, np.diff([0, *cuts, n])) + rng.normal(0.0, 0.1, n)
    return values, cuts


def best_time(fn: object, runs: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    try:
        import ruptures
    except ImportError:
        sys.exit("needs ruptures: pip install ruptures (or '.[bench]')")
    values, cuts = piecewise_constant(n)
    steps = np.arange(n)
    margin = int(0.005 * n)
    planted = [Planted("change", c) for c in cuts]

    ours_s, sig = best_time(lambda: analyze_series((steps, values)), runs=5)
    ours = [("change", e.index) for e in sig.events if e.kind.startswith("level_shift")]  # type: ignore[attr-defined]
    algo = ruptures.Binseg(model="l2", min_size=5, jump=1)
    theirs_s, bkps = best_time(lambda: algo.fit(values.reshape(-1, 1)).predict(n_bkps=len(cuts)), runs=1)
    theirs = [("change", b) for b in bkps[:-1]]  # type: ignore[index]
    s_ours, s_theirs = score(ours, planted, margin), score(theirs, planted, margin)

    print(f"{n:,} points, 5 planted level shifts (piecewise constant + noise), margin ±{margin} points\n")
    print(f"{'method':<44}{'time (s)':>10}{'found':>8}{'extra':>8}{'ratio':>10}")
    for name, secs, sc in (
        ("ours: analyze_series (spikes+segments+events)", ours_s, s_ours),
        ("ruptures Binseg(l2).predict(n_bkps=5)", theirs_s, s_theirs),
    ):
        print(f"{name:<44}{secs:>10.3f}{sc.matched:>5}/{sc.planted}{sc.detected - sc.matched:>8}{secs / ours_s:>9.0f}×")
    print(f"\nours is {theirs_s / ours_s:.0f}× faster than ruptures Binseg on the same series")

    print("\n10,000,000 points (goal: under 2 s), analyze_series end to end:")
    big = 10_000_000
    for kind in ("clean", "spike", "level_shift", "divergence"):
        bsteps, bvalues, bplanted = make_series(kind, big, seed=11)
        secs, bsig = best_time(lambda: analyze_series((bsteps, bvalues)), runs=2)  # noqa: B023
        found = [("spike", s.index) for s in bsig.spikes if s.recovered]  # type: ignore[attr-defined]
        found += [(e.kind, e.index) for e in bsig.events]  # type: ignore[attr-defined]
        sc = score(found, bplanted, int(0.005 * big))
        extra = sc.detected - sc.matched
        print(f"  {kind:<12}{secs:>8.2f} s   planted {sc.planted}, found {sc.matched}, extra {extra}")


if __name__ == "__main__":
    main()
