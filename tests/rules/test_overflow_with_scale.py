"""An fp16 run that logs its dynamic loss scale, held above 1, and a grad norm that is +inf at some steps: the
scaler skipped those steps (MAE's log.txt, one JSON line per epoch whose `train_grad_norm` is the epoch's mean, so
Infinity whenever one step overflowed). A NaN grad norm, or a scale at 1, is still a finding."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import analyze


def _mae(grad: list[float], scale: list[float]) -> str:
    rows = []
    for epoch, (g, s) in enumerate(zip(grad, scale, strict=True)):
        rows.append(
            {
                "train_lr": 3e-05 * (epoch + 1),
                "train_loss": 0.99 - 0.01 * epoch,
                "train_loss_scale": s,
                "train_weight_decay": 0.05,
                "train_grad_norm": g,
                "epoch": epoch,
                "n_parameters": 93325440,
            }
        )
    return "".join(json.dumps(r) + "\n" for r in rows)


GRAD = [0.03, 0.08, 0.12, float("inf"), 0.11, 0.1, float("inf"), float("inf"), 0.09, 0.08, float("inf"), 0.07] * 2


def _warned(tmp_path: Path, grad: list[float], scale: list[float]) -> bool:
    log = tmp_path / "log.txt"
    log.write_text(_mae(grad, scale))
    return any(
        f.rule_id == "grad-norm-becomes-nan" and f.severity in ("warning", "error") for f in analyze(log).findings
    )


def test_inf_grad_norms_under_a_healthy_loss_scale_are_the_scaler_at_work(tmp_path: Path) -> None:
    assert not _warned(tmp_path, GRAD, [65536.0 * (1 + i % 3) for i in range(len(GRAD))])


def test_nan_grad_norms_are_still_a_finding(tmp_path: Path) -> None:
    nan = [float("nan") if g == float("inf") else g for g in GRAD]
    assert _warned(tmp_path, nan, [65536.0] * len(GRAD))


def test_inf_grad_norms_with_the_scale_at_its_floor_are_still_a_finding(tmp_path: Path) -> None:
    assert _warned(tmp_path, GRAD, [65536.0 / 2**i if i < 16 else 1.0 for i in range(len(GRAD))])


def test_a_grad_norm_inf_at_every_step_shows_no_healthy_step(tmp_path: Path) -> None:
    assert _warned(tmp_path, [float("inf")] * 16, [127265.7 + 1000 * i for i in range(16)])
