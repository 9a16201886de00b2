"""A record printed as NaN from its first line on (XGBoost's `[0]\ttrain-gamma-nloglik:nan\ttest-gamma-nloglik:nan`)
is read, and its run is a NaN loss; a name no list knows whose value never changes stays unread."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.ingest.console_series import series


def _rounds(train: str, test: str, count: int = 20) -> str:
    return "".join(f"[{k}]\ttrain-gamma-nloglik:{train}\ttest-gamma-nloglik:{test}\n" for k in range(count))


def test_a_metric_nan_at_every_round_is_read() -> None:
    read = series(_rounds("nan", "nan"))
    assert len(read["train/gamma_nloglik"]) == 20
    assert len(read["eval/gamma_nloglik"]) == 20


def test_its_run_is_a_nan_loss(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(_rounds("nan", "nan"))
    assert analyze(log).verdict == "loss_nan"


def test_an_unknown_name_with_one_value_at_every_line_stays_unread() -> None:
    text = "".join(f"[{k}]\tworker-slots:8\n" for k in range(20))
    assert "train/slots" not in series(text) and "train/worker_slots" not in series(text)
