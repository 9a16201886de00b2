"""A measure's setting in brackets between its name and its value (OxideJS's `Val Acc (sample=500): 77.40%`, new
log 5550) says how the measure was taken: it had been read as a metric of its own (`acc_sample` at 500 at every
epoch, a frozen eval score) and the accuracy itself left unnamed."""

from __future__ import annotations

from tests.ingest.console_series import values

LINE = "[RNN R1] Epoch {e}/30 | Loss: {loss:.4f} | Val Acc ({how}): {acc:.2f}% | Best: 79.80%\n"


def test_a_bracketed_setting_is_no_metric() -> None:
    text = "".join(
        LINE.format(e=e, loss=0.7 / e, how="full=2200" if e % 5 == 0 else "sample=500", acc=70 + e)
        for e in range(1, 11)
    )
    read = values(text)
    assert read["eval/acc"] == [(70 + e) / 100 for e in range(1, 11)]
    assert not any("sample" in name or "full" in name for name in read), sorted(read)


def test_a_value_followed_by_a_time_unit_is_a_time() -> None:
    # AMFormer's banners (new log 5614): `cost 6.450 seconds` had been the train loss (`cost` names a loss)
    text = "================       cost 6.450 seconds       ================\n" * 2
    text += "".join(f"Training - Step: {s} - Acc: {0.5 + s / 1000:.4f} - GPU: 7\n" for s in range(0, 200, 20))
    read = values(text)
    assert "train/loss" not in read
    assert read["train/cost_time"] == [6.45, 6.45]

    # Athena's absl lines (new log 6067): `sec/iter` is the next key, no unit of the accuracy before it
    text = "".join(
        f"INFO:absl:global_steps: {11700 + 10 * k}   learning_rate: 5.7651e-04       loss: {7.5 - k / 10:.4f}    "
        f"Accuracy: 0.91{k}5        CTCAccuracy: 0.86{k}0     sec/iter: 0.40{k}3\n"
        for k in range(5)
    )
    read = values(text)
    assert read["train/ctcaccuracy"] == [0.86, 0.861, 0.862, 0.863, 0.864]
    assert not any(name.endswith("_time") for name in read), sorted(read)
