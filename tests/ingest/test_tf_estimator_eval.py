"""TF Estimator's evaluation summary, `INFO:tensorflow:Saving dict for global step N: key = value, ...`, holds the
evaluation's values at the checkpoint's global step (new log 4751: a CBOW question-answering model whose accuracy
sat at chance had been read as a train series; 4753: the Object Detection API's COCO metrics)."""

from __future__ import annotations

from tests.ingest.console_series import series

# tf.estimator.train_and_evaluate's lines, as TF 1.x prints them (values from new log 4751)
SAVED = "INFO:tensorflow:Saving dict for global step {s}: accuracy = {a}, global_step = {s}, loss = {l}, rmse = {r}\n"
LOG = (
    "INFO:tensorflow:loss = 0.02983, step = 101 (28.440 sec)\n"
    "INFO:tensorflow:loss = 0.018632, step = 201 (26.594 sec)\n"
    + SAVED.format(s=1853, a=0.27719298, l=0.01686296, r=0.13013443)
    + "INFO:tensorflow:loss = 0.010321, step = 1901 (26.899 sec)\n"
    + SAVED.format(s=3180, a=0.28070176, l=0.018433724, r=0.13603885)
)


def test_the_saved_dict_is_the_evaluation_at_its_global_step() -> None:
    read = series(LOG)
    assert read["eval/accuracy"] == [(1853, 0.27719298), (3180, 0.28070176)]
    assert read["eval/loss"] == [(1853, 0.01686296), (3180, 0.018433724)]
    assert [s for s, _ in read["train/loss"]] == [101, 201, 1901]
    assert "train/accuracy" not in read and "eval/global_step" not in read


def test_keys_with_spaces_and_slashes_are_read_whole() -> None:
    line = (
        "I0207 06:52:46.698435 140001214211968 estimator.py:2049] Saving dict for global step 3223: "
        "DetectionBoxes_Precision/mAP = 0.0018612401, DetectionBoxes_Precision/mAP (large) = -1.0, "
        "Loss/total_loss = 9.16, global_step = 3223\n"
    )
    read = series(line)
    assert read["eval/detection_boxes_precision_map"] == [(3223, 0.0018612401)]
    assert any(name.startswith("eval/") and "total_loss" in name for name in read)
