"""The log lines around a finding's onset, quoted in the report (analyzer/excerpts.py)."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from analyzer.report.markdown import render_markdown as render


def test_the_onset_line_is_quoted_with_its_neighbours(tmp_path: Path):
    log = tmp_path / "train.log"
    rows = [f"step {i} | loss {2 - i / 10:.2f}" for i in range(1, 8)] + ["step 8 | loss nan", "step 9 | loss nan"]
    log.write_text("\n".join(rows) + "\n")
    report = analyze(log)
    finding = next(f for f in report.findings if f.rule_id == "loss-becomes-nan")
    assert finding.excerpt == {
        "at": "train.log:8",
        "line": 8,
        "lines": [[6, rows[5]], [7, rows[6]], [8, rows[7]], [9, rows[8]]],
    }
    text = render(report)
    assert "> 8 | step 8 | loss nan" in text and "  7 | step 7 | loss 1.30" in text


def test_a_line_with_backticks_cannot_close_the_quote(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text(
        "step 1 loss 1.0\nstep 2 loss 0.9\nstep 3 loss 0.8\nstep 4 loss nan\n"
        "note ```` </details> <img src=x onerror=alert(1)>\n"
    )
    text = render(analyze(log))
    quote = text[text.index("In the log") :]
    fence = quote.split("\n")[2][: quote.split("\n")[2].index("text")]
    assert fence == "`" * 5  # longer than the four backticks of the line
    assert quote.count(fence) >= 2


def test_binary_sources_are_not_quoted():
    from tests.conftest import sample

    report = analyze(sample("gpu_fp16_overflow") / "runs")  # TensorBoard events only: record numbers, not lines
    assert report.findings and all(f.excerpt is None for f in report.findings)
