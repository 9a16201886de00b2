"""A warning that a setting may lead to NaN losses reports none; a loop that says its loss was NaN does."""

from __future__ import annotations

from tests.ingest.console_series import events_of

AMP_CHECK = (
    "AMP: checks failed ❌. Anomalies were detected with AMP on your system that may lead to NaN losses or zero-mAP "
    "results, so AMP will be disabled during training.\n"
)


def test_a_warning_of_possible_nan_losses_is_no_nan() -> None:
    assert events_of(AMP_CHECK + "epoch 1 loss 2.31\nepoch 2 loss 2.02\n", "loss_nonfinite") == []


def test_a_loop_reporting_a_nan_loss_is_one() -> None:
    text = "epoch 1 loss 2.31\nNaN loss detected, skipping batch 43\nepoch 2 loss 2.02\n"
    assert events_of(text, "loss_nonfinite") == [2]
