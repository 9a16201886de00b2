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


def test_parts_named_in_one_word_and_the_loss_scale_is_no_part(tmp_path: Path) -> None:
    # One predicate names the parts of a loss for every rule: a word holding `loss` (`lossD`, as DCGAN
    # examples print it), never the fp16 scaler's `loss_scale`, a setting that stays put for long stretches.
    log = tmp_path / "dcgan.log"
    line = "epoch {s} lossD: {d} lossG: {g} D(x): 0.5\n"
    log.write_text("".join(line.format(s=s, d="0.0000", g="27.6310") for s in range(6)))
    assert "not_learning" in {f.failure_mode for f in analyze(log).findings}
    scaled = tmp_path / "scaled.log"  # a scale that overflows is the scaler's business, no loss turning inf
    row = "step {s} | d_loss {d:.4f} | g_loss {g:.4f} | loss_scale {x}\n"
    rows = [(s, 0.9 - 0.05 * s, 1.2 - 0.05 * s, "65536.0" if s < 4 else "inf") for s in range(6)]
    scaled.write_text("".join(row.format(s=s, d=d, g=g, x=x) for s, d, g, x in rows))
    assert not analyze(scaled).findings
