"""The change an early-stopping callback reports (Lightning's `Metric val_accuracy improved by 0.114 >= min_delta
= 0.0. New best score: 0.500`) shrinks as a run converges: it is no score, and its fall is no collapse."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze


def test_shrinking_improvements_are_no_collapsing_score(tmp_path: Path) -> None:
    best, lines = 0.386, []
    for k, delta in enumerate([0.114, 0.08, 0.05, 0.03, 0.02, 0.011, 0.006, 0.003, 0.002, 0.001]):
        best += delta
        lines.append(f"Epoch {k}: 100%|##########| 330/330 [00:41<00:00,  8.02it/s, loss={1.9 - 0.1 * k:.3f}]")
        lines.append(f"Metric val_accuracy improved by {delta:.3f} >= min_delta = 0.0. New best score: {best:.3f}")
    log = tmp_path / "train.log"
    log.write_text("\n".join(lines) + "\n")
    assert "eval-score-collapses" not in {f.rule_id for f in analyze(log).findings}
