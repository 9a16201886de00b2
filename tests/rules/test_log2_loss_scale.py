"""The dynamic loss scale printed as its base-2 logarithm: OpenAI's fp16 utilities (improved-diffusion,
guided-diffusion and the repositories built on them) dump a key/value table every log interval with
`lg_loss_scale`, which starts at 20 and falls by 1 at each overflow: read as the scale itself, 2 ** value, its
fall to a fraction of 1 is the collapse the loss-scale rule looks for. A scale under 1 seen at one point only, or
held there, says nothing alone: fairseq fine-tunes T5 at `loss_scale 0.125` and the loss falls (new log 722)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.rules.checks import CHECKS
from tests.rules.test_checks import make_run


def _table(step: int, lg_scale: float, loss: float) -> str:
    rows = {"grad_norm": 0.41, "lg_loss_scale": lg_scale, "loss": loss, "mse": loss, "samples": 8 * step, "step": step}
    cells = "".join(f"| {k:<13} | {v:<8.3g} |\n" for k, v in rows.items())
    return "-" * 28 + "\n" + cells + "-" * 28 + "\n"


def _modes(tmp_path: Path, text: str) -> set[str]:
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.txt").write_text(text)
    return {f.failure_mode for f in analyze(run).findings}


def test_a_log2_scale_that_falls_under_zero_is_a_collapsed_scaler(tmp_path: Path) -> None:
    text = "".join(_table(100 * i, 20.0 - 3 * i, 0.09 - 0.001 * i) for i in range(9))  # 20 -> -4
    assert "fp16_overflow" in _modes(tmp_path, text)


def test_a_log2_scale_that_stays_high_is_the_scaler_at_work(tmp_path: Path) -> None:
    text = "".join(_table(100 * i, 20.0 - (i % 3), 0.09 - 0.001 * i) for i in range(9))  # a few halvings, regrown
    assert "fp16_overflow" not in _modes(tmp_path, text)


@pytest.mark.parametrize("scale", [1.0, 0.0, 65536.0, 0.125])
def test_one_logged_scale_alone_is_no_collapse(scale: float) -> None:
    """A bf16 run logs 1, DeepSpeed's config echo `"loss_scale": 0` means dynamic, 2**16 is a scaler's start, and
    0.125 may be where a fairseq run trains well."""
    run = make_run({"train/loss": {10: 2.0, 20: 1.9}, "train/loss_scale": {10: scale}})
    assert CHECKS["loss_scale_collapse"](run) is None


def test_one_logged_scale_under_one_held_there_is_no_collapse() -> None:
    run = make_run(
        {"train/loss": {10: 0.43, 20: 0.21, 30: 0.21}, "train/loss_scale": {10: 0.125, 20: 0.125, 30: 0.125}}
    )
    assert CHECKS["loss_scale_collapse"](run) is None
