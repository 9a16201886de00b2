"""A paste that ends inside its last record (the common way a bug report's log is cut): what the record
holds up to the cut is one more record of the usual kind. Formats: ESPnet1's JSON report entries and the
torchvision reference scripts' MetricLogger lines (benchmarks/new_real_logs/040, corpus case 099)."""

from __future__ import annotations

from analyzer.ingest.console import parse_text

ENTRY = """    {{
        "main/loss_ctc": {ctc},
        "main/loss_att": 37.65539085388183,
        "main/acc": 0.8430992370614624,
        "main/loss": {loss},
        "epoch": 1,
        "iteration": {it},
        "elapsed_time": 4625.597098432947
    }},
"""
CUT = """    {
        "main/loss_ctc": -1.0633823332454027e+35,
        "main/loss_att": 33.7449349117279,
        "main/acc": 0.8588202696569839,
        "main/loss": -3.190146999736208e+34,
"""


def train_loss(text: str) -> list[tuple[int, float]]:
    metrics = parse_text(text, "train.log").metrics
    loss = metrics[(metrics["split"] == "train") & (metrics["metric"] == "loss")]
    return list(zip(loss["step"].tolist(), loss["value"].tolist(), strict=True))


def test_a_json_entry_cut_by_the_end_of_the_paste_is_read_up_to_the_cut() -> None:
    entries = "".join(ENTRY.format(ctc=108.7 + i, loss=58.9 + i, it=8900 + 100 * i) for i in range(2))
    read = train_loss(entries + "\nHERE IS THE BUG:\n\n" + CUT)
    assert [v for _, v in read] == [58.9, 59.9, -3.190146999736208e34]
    assert read[-1][0] > read[-2][0]  # after the last step read: its own counter was cut off


def test_a_metric_logger_line_cut_mid_field_joins_the_lines_before_it() -> None:
    line = (
        "Epoch: [0]  [{b:>5}/40037]  eta: 4:22:16  lr: 0.1  img/s: 120.31022672165666  loss: {loss:.4f} "
        "({avg:.4f})  acc1: 0.0000 (0.0000)  acc5: 0.0000 (0.8065)  time: 0.2659  data: 0.0001  max mem: 7117\n"
    )
    text = "".join(line.format(b=10 * i, loss=7.2 + i, avg=7.0 + i) for i in range(4))
    text += line.format(b=40, loss=18.1619, avg=5291612553.3549).split("acc5")[0] + "acc5: 0.0000 (0."
    read = train_loss(text)
    assert [s for s, _ in read] == [0, 10, 20, 30, 40] and read[-1][1] == 18.1619


def test_a_complete_bar_over_another_number_of_batches_after_the_epochs_is_no_cut_record() -> None:
    # Keras's evaluate() after fit(): `157/157 [===] - loss: 1.4780` on the test batches, after epochs whose
    # bars count 1407 batches: not the last epoch's record cut short (its loss is the test set's)
    epoch = (
        "Epoch {e}/100\n"
        "1405/1407 [============================>.] - ETA: 0s - loss: {a:.4f} - accuracy: 0.6{e}\n"
        "1407/1407 [==============================] - 14s 10ms/step - loss: {a:.4f} - accuracy: 0.6{e}"
        " - val_loss: {v:.4f} - val_accuracy: 0.5{e}\n"
    )
    text = "".join(epoch.format(e=e, a=1.0 - e / 20, v=1.5 + e / 50) for e in range(1, 6))
    text += "157/157 [==============================] - 0s 1ms/step - loss: 1.4780 - accuracy: 0.4982\n"
    read = train_loss(text)
    assert [round(v, 4) for _, v in read] == [0.95, 0.9, 0.85, 0.8, 0.75]
    assert [s for s, _ in read] == [1, 2, 3, 4, 5]
