"""A duration written in units (`1m 8s`, `2m`) is one value: a line is one template whatever its durations' sizes."""

from __future__ import annotations

from analyzer.ingest.console.generic import _unit_seconds
from tests.ingest.console_series import series

# CatBoost's verbose lines (the learn/test objective, the elapsed and remaining time), as it prints them.
CATBOOST = (
    "0:\tlearn: 2.4204049\ttest: 2.4029899\tbest: 2.4029899 (0)\ttotal: 207ms\tremaining: 3m 26s\n"
    "100:\tlearn: 2.2076417\ttest: 2.1508823\tbest: 2.1508823 (100)\ttotal: 15.2s\tremaining: 2m 14s\n"
    "200:\tlearn: 2.2001177\ttest: 2.1449871\tbest: 2.1449871 (200)\ttotal: 40.8s\tremaining: 2m 42s\n"
    "300:\tlearn: 2.1956176\ttest: 2.1416589\tbest: 2.1416589 (300)\ttotal: 1m 8s\tremaining: 2m 38s\n"
    "400:\tlearn: 2.1920711\ttest: 2.1393355\tbest: 2.1393355 (400)\ttotal: 1m 34s\tremaining: 2m 21s\n"
    "500:\tlearn: 2.1892992\ttest: 2.1378882\tbest: 2.1378868 (498)\ttotal: 2m 1s\tremaining: 2m\n"
    "600:\tlearn: 2.1868374\ttest: 2.1368647\tbest: 2.1368608 (599)\ttotal: 2m 29s\tremaining: 1m 39s\n"
    "700:\tlearn: 2.1847325\ttest: 2.1362564\tbest: 2.1362564 (700)\ttotal: 2m 58s\tremaining: 1m 16s\n"
    "800:\tlearn: 2.1828034\ttest: 2.1356857\tbest: 2.1356807 (797)\ttotal: 3m 30s\tremaining: 52.3s\n"
)


def test_every_record_is_one_train_series_whatever_its_durations() -> None:
    read = series(CATBOOST)
    assert [step for step, _ in read["train/loss"]] == list(range(0, 900, 100))
    assert read["train/loss"][0][1] == 2.4204049 and read["train/loss"][-1][1] == 2.1828034
    assert [step for step, _ in read["eval/loss"]] == list(range(0, 900, 100))
    assert not any(name.endswith("_summary") for name in read)


def test_durations_in_units_are_seconds() -> None:
    assert _unit_seconds("total: 1m 8s\tremaining: 2m") == "total: 68s\tremaining: 120s"
    assert _unit_seconds("eta: 1h 2m 3.5s") == "eta: 3723.5s"
    assert _unit_seconds("params 5m, lr 3m") == "params 5m, lr 3m"  # no word says a time: meters, millions
