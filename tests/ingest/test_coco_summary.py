"""pycocotools' COCOeval summary, printed after each evaluation by detectron2, MMDetection 2, torchvision's
detection references, YOLOX, DETR and others, is the evaluation's mAP and recalls (a grammar hint), placed at the
step of the train record before it. The generic reader had taken each line's IoU range for values (`iou`,
`max_dets` series) and no mAP at all."""

from __future__ import annotations

from tests.ingest.console_series import series

TRAIN = "Epoch [{e}/12] Iter [{i}/49]  lr: 2.0980e-04  loss: {loss:.4f}  loss_cls: 0.2394  loss_bbox: 1.1630\n"
SUMMARY = """\
 Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = {ap:.3f}
 Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.571
 Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.402
 Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000
 Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.336
 Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.384
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.312
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.448
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.467
 Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.401
 Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.483
"""


def test_the_coco_summary_is_the_evaluations_map() -> None:
    text = ""
    for e in range(1, 5):
        text += "".join(TRAIN.format(e=e, i=i, loss=2.0 - 0.1 * e - i / 1000) for i in (10, 20, 30, 40))
        text += SUMMARY.format(ap=0.3 + e / 100)
    read = series(text)
    assert [v for _, v in read["eval/map"]] == [0.31, 0.32, 0.33, 0.34]
    assert [v for _, v in read["eval/mar_100"]] == [0.467] * 4
    train_steps = [s for s, _ in read["train/loss"]]
    assert [s for s, _ in read["eval/map"]] == train_steps[3::4]  # each at the last train record before it
    assert not any(name.endswith(("/iou", "/max_dets")) for name in read)
