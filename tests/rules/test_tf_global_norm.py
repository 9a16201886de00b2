"""TensorFlow's tf.clip_by_global_norm stops the run with `Found Inf or NaN global norm.`: the gradients' global
norm was not finite. That is a gradient NaN, not only a crash (keithito's Tacotron in new log 5163)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

STEP = "[2019-01-22 08:{m:02d}:45.894]  Step {s}   [0.780 sec/step, loss={l:.5f}, avg_loss={a:.5f}]\n"
END = (
    "[2019-01-22 08:38:54.241]  Exiting due to exception: Found Inf or NaN global norm. : Tensor had Inf values\n"
    "\t [[node model/optimizer/VerifyFinite/CheckNumerics (defined at /code/models/tacotron.py:164) ]]\n"
)


def test_a_nonfinite_global_norm_is_a_gradient_nan(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text("".join(STEP.format(m=k, s=30000 + 50 * k, l=0.11 - k / 1000, a=0.106) for k in range(12)) + END)
    report = analyze(log)
    modes = {f.failure_mode for f in report.findings}
    assert "grad_norm_nan" in modes, modes
