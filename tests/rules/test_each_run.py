"""A file that holds several runs one after another (k-fold CV, repeats) is analysed run by run: a value gone
non-finite or a loss that ran away in a run other than the longest is found and marked with its run, its onset on
that run's own axis. A curve's shape (overfitting, a spike) is judged on the run analysed only."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import analyze
from analyzer.report.json import render_json
from analyzer.report.markdown import render_markdown
from tests.report.test_json_schema import errors

LINE = "Epoch {e}/10 - train_loss: {t:.4f} - val_loss: {v:.4f}\n"
HEALTHY = (
    [0.70, 0.55, 0.46, 0.40, 0.36, 0.33, 0.31, 0.30, 0.29, 0.28],
    [0.68, 0.56, 0.49, 0.45, 0.42, 0.40, 0.39, 0.385, 0.38, 0.378],
)
OVERFITS = ([0.69, 0.52, 0.41, 0.33, 0.26, 0.20, 0.15], [0.66, 0.55, 0.50, 0.53, 0.60, 0.68, 0.77])
GOES_NAN = (
    [0.69, 0.52, 0.41, 0.33, float("nan"), float("nan"), float("nan")],
    [0.66, 0.55, 0.50, 0.47] + [float("nan")] * 3,
)


def _fold(k: int, fold: tuple[list[float], list[float]]) -> str:
    train, val = fold
    return f"Fold {k}/2\n" + "".join(
        LINE.format(e=e, t=t, v=v) for e, (t, v) in enumerate(zip(train, val, strict=True), start=1)
    )


def test_a_loss_gone_nan_in_a_shorter_fold_is_found_and_marked_with_its_run(tmp_path: Path) -> None:
    log = tmp_path / "cv.log"
    log.write_text(_fold(1, GOES_NAN) + _fold(2, HEALTHY))
    report = analyze(log)
    assert report.verdict == "loss_nan"
    found = next(f for f in report.findings if f.failure_mode == "loss_nan")
    assert (found.run, found.onset_step) == (1, 5)  # epoch 5 of fold 1
    spans = report.run.meta["runs"]
    assert (len(spans["runs"]), spans["analysed"]) == (2, 1)  # the longer fold is the one summarised
    assert [r["records"] for r in spans["runs"]] == [7, 10]
    text = render_markdown(report)
    assert "epoch 5 of run 1" in text and "holds 2 runs" in text
    document = json.loads(render_json(report))
    assert document["findings"][0]["run"] == 1
    assert errors(document) == []  # the JSON contract documents the field


def test_a_shorter_folds_overfitting_is_not_judged_apart(tmp_path: Path) -> None:
    log = tmp_path / "cv.log"
    log.write_text(_fold(1, OVERFITS) + _fold(2, HEALTHY))
    assert analyze(log).verdict == "healthy"


def test_folds_that_are_each_healthy_stay_healthy(tmp_path: Path) -> None:
    log = tmp_path / "cv.log"
    log.write_text(_fold(1, HEALTHY) + _fold(2, HEALTHY))
    report = analyze(log)
    assert report.verdict == "healthy", [(f.failure_mode, f.run) for f in report.findings]


def test_a_failure_of_the_run_analysed_is_not_repeated_for_another_run(tmp_path: Path) -> None:
    log = tmp_path / "cv.log"
    nan = float("nan")
    log.write_text(_fold(1, GOES_NAN) + _fold(2, (GOES_NAN[0] + [nan] * 3, GOES_NAN[1] + [nan] * 3)))
    report = analyze(log)
    gone = [f for f in report.findings if f.failure_mode == "loss_nan"]
    assert len(gone) == 1 and gone[0].run is None  # the longest run's own, on the axis shown
