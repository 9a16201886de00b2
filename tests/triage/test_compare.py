"""`analyze compare`: settings and versions, the first step where two runs part, findings only A has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer.api import analyze
from analyzer.triage.compare import compare_reports, parting, render_markdown, write_plot
from tests.conftest import sample


@pytest.fixture(scope="module")
def healthy():  # type: ignore[no-untyped-def]
    return analyze(sample("hf_healthy"))


def test_nan_run_parts_from_the_healthy_one_where_the_nan_starts(healthy) -> None:  # type: ignore[no-untyped-def]
    failing = analyze(sample("hf_nan_loss_filtered"))
    c = compare_reports(failing, healthy)
    onset = next(f.onset_step for f in failing.findings if f.failure_mode == "loss_zero_grad_nan")
    assert c.parting is not None and c.parting.step == onset and c.parting.series == "train/loss"
    assert {f.failure_mode for f in c.only_a} >= {"loss_zero_grad_nan"} and not c.only_b
    # the same seed and settings: the loss curves agree exactly before the onset
    before = c.curves[0][1].loc[: onset - 1]
    assert np.allclose(before, c.curves[0][2].loc[: onset - 1])


def test_settings_and_versions_that_differ(healthy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = compare_reports(analyze(sample("hf_lr_too_high")), healthy)
    changed = {k: (a, b) for k, a, b in c.settings}
    assert changed["learning_rate"] == (200, 0.005)
    assert c.parting is not None and c.parting.step <= 3
    gpu = compare_reports(analyze(sample("gpu_bf16_same_setup")), healthy)
    assert ("transformers", "5.17.0", "5.23.0") in gpu.versions
    text = render_markdown(c, "c_files/curves.png")
    assert "They part at **step" in text and "| learning_rate | 200 | 0.005 |" in text
    assert "## Findings of A that B does not have" in text and "divergence" in text
    assert write_plot(c, tmp_path / "curves.png") and (tmp_path / "curves.png").stat().st_size > 1000


def test_parting_ignores_noise_and_sees_a_real_split() -> None:
    rng = np.random.default_rng(0)
    steps = np.arange(1, 201)
    base = 3.0 * np.exp(-steps / 80)
    a = pd.Series(base * (1 + 0.02 * rng.standard_normal(200)), index=steps)
    b = pd.Series(base * (1 + 0.02 * rng.standard_normal(200)), index=steps)
    assert parting("train/loss", a, b) is None  # two seeds of one recipe: within their noise
    a.loc[120:] *= 1.5
    found = parting("train/loss", a, b)
    assert found is not None and found.step == 120
    nan = b.copy()
    nan.loc[150] = np.nan
    hit = parting("train/loss", nan, b)
    assert hit is not None and hit.step == 150 and "not finite" in hit.why
