"""Tables named by their first column. A table whose rows are items, not moments: MMDetection 2's per-class AP
table and MMSegmentation's per-class IoU table, printed at each evaluation under a header whose first column names
the class. Its rows had been read as a series over time (`train/recall` falling from one class to the next, a false
"train score falls" on a healthy run); they are left unread now, and the records around them are read as before. A
first column that names the split (`train`, `val`) makes each row a record of that split; the split had been lost."""

from __future__ import annotations

from tests.ingest.console_series import series

TRAIN = (
    "2022-10-08 17:04:{s:02d},614 - mmdet - INFO - Epoch [{e}][{i}/25]\tlr: 1.000e-03, eta: 0:03:15, time: 0.246, "
    "data_time: 0.027, memory: 727, loss_cls: 0.3760, loss_bbox: 0.2091, loss: {loss:.4f}\n"
)
DET_TABLE = (
    "2022-10-08 17:05:19,424 - mmdet - INFO - \n"
    + """\
+----------------+-----+------+--------+-------+
| class          | gts | dets | recall | ap    |
+----------------+-----+------+--------+-------+
| Pedestrian     | 13  | 510  | 0.923  | 0.813 |
| Truck          | 3   | 312  | 1.000  | 0.524 |
| Car            | 62  | 1037 | 0.984  | 0.812 |
| Cyclist        | 7   | 41   | 0.000  | 0.000 |
| Misc           | 1   | 89   | 0.000  | 0.000 |
| Van            | 11  | 400  | 0.909  | 0.205 |
+----------------+-----+------+--------+-------+
| mAP            |     |      |        | 0.294 |
+----------------+-----+------+--------+-------+
2022-10-08 17:05:19,458 - mmdet - INFO - Epoch(val) [{e}][25]\tAP50: 0.2940, mAP: 0.{ap}
"""
)
SEG_TABLE = (
    "2023-03-01 10:12:40,101 - mmseg - INFO - per class results:\n2023-03-01 10:12:40,102 - mmseg - INFO - \n"
    + """\
+---------------+-------+-------+
|     Class     |  IoU  |  Acc  |
+---------------+-------+-------+
|      road     | 97.67 | 98.83 |
|    sidewalk   | 81.42 | 90.12 |
|    building   | 90.55 | 95.71 |
|      wall     | 48.06 | 55.37 |
+---------------+-------+-------+
"""
)


def _run(table: str) -> dict[str, list[tuple[int, float]]]:
    text = ""
    for e in range(1, 4):
        text += "".join(TRAIN.format(s=e * 5 + i // 5, e=e, i=i, loss=1.0 - 0.1 * e - i / 1000) for i in (5, 15, 25))
        text += table.replace("{e}", str(e)).replace("{ap}", str(2940 + e))
    return series(text)


def test_a_per_class_detection_table_is_no_series() -> None:
    read = _run(DET_TABLE)
    assert not any(name.endswith(("/recall", "/ap", "/gts", "/dets")) for name in read), sorted(read)
    assert len(read["train/loss"]) == 9
    assert [v for _, v in read["eval/map"]] == [0.2941, 0.2942, 0.2943]  # the evaluation's own line still counts


def test_a_per_class_segmentation_table_is_no_series() -> None:
    read = _run(SEG_TABLE)
    assert not any(name.endswith(("/iou", "/acc")) for name in read), sorted(read)
    assert len(read["train/loss"]) == 9


def test_rows_named_by_their_split_are_that_splits_records() -> None:
    """A table whose first column says the split (`train`, `val`): each row is a record of that split."""
    text = "| phase | loss | acc |\n"
    for e in range(4):
        text += (
            f"| train | {1.0 - e / 10:.3f} | {0.5 + e / 20:.3f} |\n| val | {1.1 - e / 20:.3f} | {0.45 + e / 20:.3f} |\n"
        )
    read = series(text)
    assert [v for _, v in read["train/loss"]] == [1.0, 0.9, 0.8, 0.7]
    assert [v for _, v in read["eval/loss"]] == [1.1, 1.05, 1.0, 0.95]
    assert [v for _, v in read["eval/acc"]] == [0.45, 0.5, 0.55, 0.6]
