"""An exception that stops the run and says what was non-finite: the loss as `key=value` pairs (a PPO
loop's `ValueError: loss=nan, policy_loss=nan`, new log 367) is a NaN loss; the gradient (DyNet's
`RuntimeError: Magnitude of gradient is bad: -nan`, new log 362) is a NaN gradient, however few times."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

TRACE = 'Traceback (most recent call last):\n  File "train.py", line 88, in <module>\n    main()\n{exc}\n'


def modes(tmp_path: Path, exc: str) -> set[str]:
    log = tmp_path / "train.log"
    records = "".join(f"iteration {i} loss {2.0 - 0.1 * i:.3f}\n" for i in range(1, 6))
    log.write_text(records + TRACE.format(exc=exc))
    return {f.failure_mode for f in analyze(log).findings}


def test_an_exception_with_loss_equals_nan_is_a_nan_loss(tmp_path: Path) -> None:
    assert "loss_nan" in modes(tmp_path, "ValueError: loss=nan, policy_loss=nan, entropy_loss=nan")


def test_an_exception_saying_the_gradient_is_nan_is_a_nan_gradient(tmp_path: Path) -> None:
    assert "grad_norm_nan" in modes(tmp_path, "RuntimeError: Magnitude of gradient is bad: -nan")


def test_an_exception_about_something_else_is_a_crash_alone(tmp_path: Path) -> None:
    found = modes(tmp_path, "ValueError: loss_type=focal is not one of ('ce', 'bce')")
    assert "crash" in found and not found & {"loss_nan", "grad_norm_nan"}


def test_a_loop_that_says_its_loss_was_non_finite_and_prints_no_loss(tmp_path: Path) -> None:
    # baselines' TRPO prints a table per iteration with no loss row, and its line search says when the
    # surrogate loss was not finite: the run's loss became NaN though no printed value shows it.
    rows = "".join(
        f"********** Iteration {i} ************\n| entropy | {-1.5 - i / 10} |\n| eprewmean | {-2.9 - i / 100} |\n"
        for i in range(6)
    )
    bad = "Expected: 5.224 Actual: inf\nGot non-finite value of losses -- bad!\n" * 3
    more = "".join(f"********** Iteration {i} ************\n| entropy | {-2.0 - i / 10} |\n" for i in range(7, 10))
    (tmp_path / "log.txt").write_text(rows + "********** Iteration 6 ************\n" + bad + more)  # it goes on
    found = [f for f in analyze(tmp_path).findings if f.failure_mode == "loss_nan"]
    assert found and found[0].onset_step == 6
