"""The PNG plots: every shaded region matches a finding, the legend sits beside the curve."""

from __future__ import annotations

from pathlib import Path

import matplotlib.axes
import numpy as np
import pytest

from analyzer import analyze
from analyzer.report.plots import write_plots
from analyzer.rules.curves import run_signals
from tests.conftest import sample


def _shaded(report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:  # type: ignore[no-untyped-def]
    labels: list[str] = []
    original = matplotlib.axes.Axes.axvspan

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        labels.append(str(kwargs.get("label")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "axvspan", spy)
    assert write_plots(report, tmp_path)
    return labels


def test_no_shaded_region_without_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A step-wise drop (a learning-rate decay) is a level shift to the statistics; a healthy report names no
    # failure, so nothing is shaded.
    rng = np.random.default_rng(0)
    values = [(2.0 if i < 45 else 1.2) - i / 400 + rng.normal(0, 0.03) for i in range(90)]
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss {v:.4f}\n" for i, v in enumerate(values)))
    report = analyze(log)
    assert not report.findings
    assert [e.kind for e in run_signals(report.run, "loss", "train").events] == ["level_shift_down"]
    assert _shaded(report, tmp_path / "out", monkeypatch) == []


def test_a_spike_finding_is_shaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    report = analyze(sample("hf_lr_pulse"))
    assert "loss_spike" in {f.failure_mode for f in report.findings}
    assert _shaded(report, tmp_path, monkeypatch)
