"""An exception a loop catches, prints and goes on after (the same traceback at every evaluation, training records
after its last time) did not end the run; one printed once, or one after which nothing more is trained, did."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/home/user/project/train.py", line 212, in validate\n'
    "    score = metric(y_pred_for_eval, y)\n"
    "UnboundLocalError: cannot access local variable 'y_pred_for_eval' where it is not associated with a value\n"
)


def _log(epochs: int, failing: set[int], end_with_traceback: bool = False) -> str:
    out = []
    for epoch in range(1, epochs + 1):
        out.append(f"Epoch {epoch}/{epochs} | train loss {1.0 / epoch:.4f} | lr 0.001\n")
        if epoch in failing:
            out.append(TRACEBACK)
    if end_with_traceback:
        out.append(TRACEBACK)
    return "".join(out)


def _crashed(tmp_path: Path, text: str) -> bool:
    log = tmp_path / "train.log"
    log.write_text(text)
    return "crash" in {f.failure_mode for f in analyze(log).findings}


def test_an_exception_caught_and_printed_again_is_no_crash(tmp_path: Path) -> None:
    assert not _crashed(tmp_path, _log(12, {2, 4, 6, 8, 10}))


def test_the_same_exception_that_ends_the_log_is_one(tmp_path: Path) -> None:
    assert _crashed(tmp_path, _log(12, {2, 4, 6, 8, 10}, end_with_traceback=True))


def test_an_exception_printed_once_stays_one(tmp_path: Path) -> None:
    assert _crashed(tmp_path, _log(12, {6}))
