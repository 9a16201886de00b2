"""A field named the objective (`obj`, `objective`) on its own line is the loss when nothing else in its split is
named one: the quantity the solver minimises (MatConvNet's `obj:`; deep-goggle's inversion in new log 920, whose
objective ran to 1.6e11 and then NaN, had been read as no loss at all). Not when it goes below 0 (a
log-likelihood is the objective's negative), not beside a total of parts, and not as a table's column under a
header (YOLO's `box obj cls total`, YOLOv5-OBB's `box obj cls theta`: there `obj` is the objectness part)."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze
from tests.ingest.console_series import series

GOGGLE = "iter:{i:05d} sq. rec. err: {e:7.4g}; obj: {o:7.4g};\n"
YOLO_HEAD = "     Epoch   gpu_mem       box       obj       cls     total    labels  img_size\n"
YOLO_ROW = "     {e}/99     1.08G   0.07{b}   0.02{b}         0   0.09{b}        12       640\n"


def test_the_objective_is_the_loss_when_nothing_else_is() -> None:
    objective = [0.8761, 1.514, 1.649, 2.981, 14.77]
    read = series("".join(GOGGLE.format(i=i + 2, e=0.8, o=o) for i, o in enumerate(objective)))
    assert [v for _, v in read["train/loss"]] == objective


def test_an_objective_that_goes_negative_is_no_loss() -> None:
    objective = [-8.46, -8.57, -8.71, -7.9, -8.1]
    read = series("".join(GOGGLE.format(i=i + 2, e=0.8, o=o) for i, o in enumerate(objective)))
    assert "train/loss" not in read


def test_beside_a_total_the_objective_is_a_part(tmp_path: Path) -> None:
    read = series(YOLO_HEAD + "".join(YOLO_ROW.format(e=e, b=9 - e) for e in range(6)))
    assert "train/loss" not in read
    assert [v for _, v in read["train/obj"]][:2] == [0.029, 0.028]
    log = tmp_path / "train.log"
    log.write_text(GOGGLE.format(i=2, e=0.79, o=0.88) + GOGGLE.format(i=3, e=1.26, o=float("inf")))
    assert analyze(log).verdict != "healthy"


OBB_HEAD = "    Epoch   gpu_mem    box     obj        cls         theta    labels       img_size\n"
OBB_ROW = "     0/119     6.51G     0.08{b}    0.10{b}   0.0416{b}    0.176{b}       186      1024\n"


def test_a_tables_obj_column_is_a_part_even_with_no_total() -> None:
    read = series(OBB_HEAD + "".join(OBB_ROW.format(b=9 - k) for k in range(6)))
    assert "train/loss" not in read
    assert [v for _, v in read["train/obj"]][:2] == [0.109, 0.108]
