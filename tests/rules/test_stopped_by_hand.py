"""run-stopped-by-hand: a KeyboardInterrupt that ends the log before the loop ended on its own."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "train.py", line 88, in <module>\n'
    "    loss.backward()\n"
    "KeyboardInterrupt\n"
)


def _fired(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "train.log").write_text(text)
    return [f.rule_id for f in analyze(tmp_path).findings if f.failure_mode == "crash"]


def test_an_interrupt_mid_run_is_said(tmp_path: Path) -> None:
    lines = "".join(f"Epoch {e}/200 | train loss {1.0 / e:.4f} | val loss {1.2 / e:.4f}\n" for e in range(1, 9))
    assert _fired(tmp_path, lines + TRACEBACK) == ["run-stopped-by-hand"]


def test_an_interrupt_after_the_end_of_training_is_not(tmp_path: Path) -> None:
    lines = "".join(f"{{'loss': {1.0 / e:.4f}, 'epoch': {e}.0}}\n" for e in range(1, 9))
    assert _fired(tmp_path, lines + "***** train metrics *****\n" + TRACEBACK) == []
