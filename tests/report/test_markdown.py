"""The markdown post-mortem: whole-report golden files, the 65,000-character bound, runs of every shape.

Golden files live in tests/report/golden/; after a deliberate change to the report, regenerate them with
`ANALYZER_UPDATE_GOLDEN=1 python -m pytest tests/report/test_markdown.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyzer import __version__, analyze
from analyzer.ingest import Ingested
from analyzer.model import METRIC_DTYPES, Frames, Report, order_findings
from analyzer.normalize import build_run
from analyzer.report import render_markdown
from analyzer.report.markdown import MAX_CHARS
from analyzer.report.plots import write_plots
from analyzer.rules import evaluate, load_rules
from analyzer.signals import summarize
from tests.conftest import sample

GOLDEN = Path(__file__).parent / "golden"
# Several outcomes: silent, a masked-label failure, an fp16 overflow on a GPU, a crash, a killed run.
GOLDEN_SAMPLES = ["hf_healthy", "hf_labels_all_masked", "gpu_fp16_overflow", "hf_exception", "hf_killed"]


def masked(text: str) -> str:
    """The report with what changes between releases and machines replaced by placeholders."""
    return text.replace(f"analyzer {__version__}", "analyzer <version>")


def report_text(name: str, tmp_path: Path) -> str:
    report = analyze(sample(name))
    return masked(render_markdown(report, write_plots(report, tmp_path / "report_files")))


@pytest.mark.parametrize("name", GOLDEN_SAMPLES)
def test_report_matches_its_golden_file(name: str, tmp_path: Path) -> None:
    text = report_text(name, tmp_path)
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("ANALYZER_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run with ANALYZER_UPDATE_GOLDEN=1"
    expected = golden.read_text(encoding="utf-8")
    assert text == expected, f"{name}: the report changed; if on purpose, regenerate the golden files"


def test_healthy_run_reads_healthy_with_shapes_and_checks() -> None:
    text = render_markdown(analyze(sample("hf_healthy")))
    assert "**Verdict: `healthy`**" in text and "## Findings" not in text
    assert re.search(r"\| train/loss \| `[▁▂▃▄▅▆▇█]{40}` \| 4\.15", text)
    assert "## What was checked" in text and "`loss-becomes-nan`" in text


def test_crash_only_run_names_the_exception_with_its_line() -> None:
    text = render_markdown(analyze(sample("hf_exception")))
    console = (sample("hf_exception") / "nohup.out").read_bytes().split(b"\n")  # lines as an editor counts them
    line = next(i for i, t in enumerate(console, start=1) if t.startswith(b"Traceback (most recent call last)"))
    assert "**Verdict: `crash`**" in text
    assert "RuntimeError: data shard 3 is corrupt" in text and f"`nohup.out:{line}`" in text
    timeline = text.split("## Timeline", 1)[1].split("##", 1)[0]
    assert "| 32 | exception | error |" in timeline


def test_plots_are_linked_relatively(tmp_path: Path) -> None:
    report = analyze(sample("gpu_fp16_overflow"))
    plots = write_plots(report, tmp_path / "report_files")
    text = render_markdown(report, plots)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == [
        "report_files/loss.png",
        "report_files/grad_norm.png",
        "report_files/learning_rate.png",
        "report_files/memory.png",
    ]
    assert all((tmp_path / link).read_bytes().startswith(b"\x89PNG") for link in links)


def _wide_run(root: Path) -> Path:
    """A run whose reference tables alone are far past the limit: 600 series, 400 checkpoint folders with
    long model names, 3,000 unreadable lines."""
    keys = [f"metric_with_a_rather_long_descriptive_name_{i:03d}" for i in range(600)]
    lines = []
    for step in range(1, 41):
        row = {"current_steps": step, "total_steps": 40, "loss": 2.0 / step, "lr": 1e-4}
        row.update({k: float(step) for k in keys})
        lines.append(pd.Series(row).to_json())
    lines += ["{not json " + "x" * 200] * 3000
    lines.append(pd.Series({"current_steps": 41, "total_steps": 40, "loss": 0.1}).to_json())
    root.mkdir()
    (root / "trainer_log.jsonl").write_text("\n".join(lines) + "\n")
    for i in range(400):
        folder = root / f"checkpoint-{i}"
        folder.mkdir()
        (folder / "config.json").write_text(f'{{"model_type": "llama", "_name_or_path": "{"org/" + "m" * 150}"}}')
    return root


def test_report_stays_under_the_github_limit_and_keeps_its_core(tmp_path: Path) -> None:
    report = analyze(_wide_run(tmp_path / "wide"))
    assert len(report.run.problems) >= 3000 and len(report.signals) > 600
    text = render_markdown(report)
    assert len(text) <= MAX_CHARS
    assert text.startswith("# Training run post-mortem: `wide`") and "**Verdict:" in text
    assert "## What was checked" in text and text.rstrip().endswith("`analyze RUN --format json`.")
    assert text.count("<details>") == text.count("</details>")
    assert "more (`--format json` has them all)" in text  # tables were cut, and say so


def _millions_of_steps(n: int) -> Report:
    """A run of n logged steps, built on the Run contract (ingest speed has its own benchmarks): a loss that
    decays with noise and turns NaN at 70% of the run."""
    steps = np.arange(1, n + 1)
    loss = 2.0 * np.exp(-steps / (n / 8)) + 0.5 + 0.02 * np.random.default_rng(0).standard_normal(n)
    loss[int(0.7 * n) :] = np.nan
    both = np.concatenate([steps, steps])
    frame = pd.DataFrame(
        {
            "step": both,
            "wall_time": np.nan,
            "split": "train",
            "metric": np.repeat(["loss", "learning_rate"], n),
            "value": np.concatenate([loss, np.full(n, 1e-4)]),
            "source": "trainer_state.json",
            "line": pd.array(both, dtype="Int64"),
            "rank": pd.Series(pd.NA, index=range(2 * n), dtype="Int64"),
        }
    )
    run = build_run(
        Path("long"),
        Ingested(root=Path("long"), frames=[("hf_trainer_state", Frames(metrics=frame.astype(METRIC_DTYPES)))]),
    )
    findings, checked, unchecked = evaluate(run, load_rules()[0])
    return Report(run, order_findings(findings), summarize(run), checked, unchecked)


def test_report_on_millions_of_steps(tmp_path: Path) -> None:
    report = _millions_of_steps(2_000_000)
    plots = write_plots(report, tmp_path / "r_files")
    text = render_markdown(report, plots)
    assert report.verdict == "loss_nan" and report.findings[0].onset_step == 1_400_001
    assert len(text) < 20_000
    shape = re.search(r"\| train/loss \| `([^`]+)` \|", text)
    assert shape and len(shape.group(1)) == 40 and shape.group(1).endswith("×" * 12)
    assert "600000 non-finite" in text
    assert all(p.stat().st_size < 200_000 for p in (tmp_path / "r_files").iterdir())
