"""A loop that prints only a perplexity (torch7's data2text, Sockeye, XLM, tf translate) is judged on the
loss that perplexity is the exponential of: ln(ppl), at the same steps and lines, said in the run's meta."""

from __future__ import annotations

import math
from pathlib import Path

from analyzer.api import analyze

LINE = "Epoch 1 ; Iter {i}/213 ; LR 1.0000 ; Source Tokens 2345 ; PPL {p} ;\n"


def run(tmp_path: Path, ppls: list[str]):  # type: ignore[no-untyped-def]
    log = tmp_path / "train.log"
    log.write_text("".join(LINE.format(i=50 * (k + 1), p=p) for k, p in enumerate(ppls)))
    return analyze(log)


def test_a_nan_perplexity_is_a_nan_loss(tmp_path: Path) -> None:
    report = run(tmp_path, ["8226.52", "1512.3", "nan", "nan", "nan"])
    assert report.run.meta["derived"] == {"train/loss": "ln(train/ppl): no loss was logged"}
    assert "loss_nan" in {f.failure_mode for f in report.findings}
    loss = report.run.series("loss")
    assert math.isclose(float(loss.iloc[0]), math.log(8226.52)) and loss.index.tolist() == [50, 100, 150, 200, 250]


def test_a_falling_perplexity_is_a_falling_loss(tmp_path: Path) -> None:
    report = run(tmp_path, ["8226.52", "1512.3", "412.0", "130.7", "61.2", "40.1", "31.5"])
    assert not [f for f in report.findings if f.severity != "info"]
    assert report.run.has("loss")


def test_a_logged_loss_is_never_replaced(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {s} loss {v} ppl {math.exp(v):.2f}\n" for s, v in ((1, 2.0), (2, 1.5), (3, 1.2))))
    report = analyze(log)
    assert "derived" not in report.run.meta and report.run.series("loss").tolist() == [2.0, 1.5, 1.2]
