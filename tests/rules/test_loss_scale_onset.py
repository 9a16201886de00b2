"""A loss scale that only a logged series shows falling (no overflow message in the log): the finding
starts where its last descent to the floor began, not where it reached the floor, and says no skips it
never saw (Megatron-LM's `loss scale` field, benchmarks/new_real_logs/105)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

LINE = (
    " iteration {it:>8}/    3000 | elapsed time per iteration (ms): 11092.2 | learning rate 7.917E-06 | "
    "lm loss {loss} | loss scale {scale} |\n"
)


def test_the_onset_is_the_first_fall_of_the_last_descent(tmp_path: Path) -> None:
    rows = [(300, 32.0), (400, 64.0), (500, 8.0), (600, 4.0), (700, 4.0), (800, 0.1), (900, 0.1)]
    log = tmp_path / "train.log"
    log.write_text("".join(LINE.format(it=it, loss="6.286667E+00", scale=s) for it, s in rows))
    found = next(f for f in analyze(log).findings if f.failure_mode == "fp16_overflow")
    assert found.onset_step == 500  # 64 -> 8: the fall that did not recover; 32 -> 64 was growth
    assert "skipped" not in found.message and "from 64 at step 400" in found.message
