"""With no series named the train loss, every loss part keeping one value is a model that learns nothing
(PyTorch-StudioGAN's `Gen_loss: -0.0 Dis_loss: 13.82` at every step, new log 188); one constant part
beside a moving one is a term switched off, not a failure."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

LINE = (
    "[INFO] 2021-11-28 10:56:36 > Step: {s:>6} Progress: {p:.1f}% Elapsed: 0:00:57 Gen_loss: {g} Dis_loss: {d} "
    "Cls_loss: N/A Topk:  N/A ada_p: N/A\n"
)


def modes(tmp_path: Path, rows: list[tuple[str, str]]) -> set[str]:
    log = tmp_path / "gan.log"
    log.write_text("".join(LINE.format(s=100 * i, p=0.1 * i, g=g, d=d) for i, (g, d) in enumerate(rows, 1)))
    return {f.failure_mode for f in analyze(log).findings}


def test_every_part_frozen_is_not_learning(tmp_path: Path) -> None:
    assert "not_learning" in modes(tmp_path, [("-0.0", "13.8155")] * 5)


def test_a_moving_part_is_learning(tmp_path: Path) -> None:
    rows = [(f"{1.2 + 0.1 * (i % 3):.4f}", f"{0.7 - 0.01 * i:.4f}") for i in range(5)]
    assert "not_learning" not in modes(tmp_path, rows)
    assert "not_learning" not in modes(tmp_path, [("0.0", f"{0.7 - 0.01 * i:.4f}") for i in range(5)])
